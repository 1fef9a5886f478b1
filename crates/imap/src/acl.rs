//! ACL (RFC 4314): MYRIGHTS, GETACL, LISTRIGHTS, SETACL and DELETEACL on the
//! user's own mailboxes and on those shared with them (`Partages/...`).
//!
//! Identifiers are addresses of accounts. The owner holds every right and
//! cannot be given or refused any; `anyone` and negative rights (`-paul`)
//! are refused. Rights are read by `model::Rights`: an unknown letter is a
//! BAD (RFC 4314 section 3.1: "the server MUST NOT silently ignore
//! unrecognized rights"). The domain decides and stores: a SETACL is
//! `Mailstore::set_folder_rights`, which checks that the caller holds `a`.

use model::{Address, Rights};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::command::RawName;
use crate::reply::{Done, failed};
use crate::session::Conn;
use crate::state::Authed;

/// An identifier as an IMAP astring: an atom when it can be one (addresses
/// are: imapclient keeps the quotes of a quoted one in its GETACL answer),
/// else a quoted string (identifiers are short and on one line).
fn quoted(s: &str) -> String {
    let atom = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']'));
    if atom && !s.eq_ignore_ascii_case("NIL") {
        return s.to_owned();
    }
    let mut out = Vec::new();
    crate::resp::string(&mut out, s.as_bytes(), true);
    String::from_utf8_lossy(&out).into_owned()
}

/// How a SETACL changes an identifier's rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Replace(Rights),
    Add(Rights),
    Remove(Rights),
}

/// Reads SETACL's rights argument (`+lr`, `-w`, `lrs`).
fn change_of(text: &str) -> Result<Change, Done> {
    let (make, letters): (fn(Rights) -> Change, &str) = match text.as_bytes().first() {
        Some(b'+') => (Change::Add, &text[1..]),
        Some(b'-') => (Change::Remove, &text[1..]),
        _ => (Change::Replace, text),
    };
    Rights::parse(letters).map(make).map_err(|unknown| {
        Done::bad(&format!(
            "Droit inconnu '{}' (droits : lrswipkxtea) / Unknown right '{}' (rights: lrswipkxtea)",
            unknown.0.escape_default(),
            unknown.0.escape_default()
        ))
    })
}

fn no_admin() -> Done {
    Done::no("[NOPERM] Vous ne pouvez pas gerer les droits de ce dossier / You may not administer this mailbox")
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Conn<'_, S> {
    pub(crate) async fn my_rights(&mut self, authed: &Authed, mailbox: &RawName) -> Done {
        let (mailbox, rights) = match self.named_for(authed, mailbox).await {
            Ok(found) => found,
            Err(done) => return done,
        };
        let line = format!("MYRIGHTS {} {rights}", String::from_utf8_lossy(&self.encode_name(&mailbox.name)));
        self.untagged(&line);
        Done::ok("MYRIGHTS completed")
    }

    pub(crate) async fn get_acl(&mut self, authed: &Authed, mailbox: &RawName) -> Done {
        let (mailbox, rights) = match self.named_for(authed, mailbox).await {
            Ok(found) => found,
            Err(done) => return done,
        };
        if !rights.contains(Rights::ADMINISTER) {
            return no_admin();
        }
        let entries = match self.mailstore.acl(&mailbox).await {
            Ok(e) => e,
            Err(e) => return failed(e),
        };
        let mut line = format!("ACL {}", String::from_utf8_lossy(&self.encode_name(&mailbox.name)));
        for e in entries {
            line.push_str(&format!(" {} {}", quoted(&e.identifier), e.rights));
        }
        self.untagged(&line);
        Done::ok("GETACL completed")
    }

    pub(crate) async fn list_rights(&mut self, authed: &Authed, mailbox: &RawName, identifier: &str) -> Done {
        let (mailbox, rights) = match self.named_for(authed, mailbox).await {
            Ok(found) => found,
            Err(done) => return done,
        };
        if !rights.contains(Rights::ADMINISTER) {
            return no_admin();
        }
        let owner = match self.mailstore.acl(&mailbox).await {
            Ok(e) => e.first().map(|o| o.identifier.clone()).unwrap_or_default(),
            Err(e) => return failed(e),
        };
        let mut line =
            format!("LISTRIGHTS {} {}", String::from_utf8_lossy(&self.encode_name(&mailbox.name)), quoted(identifier));
        if identifier.eq_ignore_ascii_case(&owner) {
            // The owner's rights are fixed: all required, none optional.
            line.push_str(&format!(" {}", Rights::ALL));
        } else {
            // Nothing is granted by default; each right can be, alone.
            line.push_str(" \"\" l r s w i p k x t e a");
        }
        self.untagged(&line);
        Done::ok("LISTRIGHTS completed")
    }

    /// SETACL (`rights` given) and DELETEACL (`None`).
    pub(crate) async fn set_acl(
        &mut self,
        authed: &Authed,
        mailbox: &RawName,
        identifier: &str,
        rights: Option<&str>,
    ) -> Done {
        let verb = if rights.is_some() { "SETACL" } else { "DELETEACL" };
        let change = match rights.map(change_of).transpose() {
            Ok(c) => c.unwrap_or(Change::Replace(Rights::NONE)),
            Err(done) => return done,
        };
        let (mailbox, my_rights) = match self.named_for(authed, mailbox).await {
            Ok(found) => found,
            Err(done) => return done,
        };
        if !my_rights.contains(Rights::ADMINISTER) {
            return no_admin();
        }
        if identifier.eq_ignore_ascii_case("anyone") || identifier.starts_with('-') {
            return Done::no(
                "[CANNOT] Seuls des comptes nommes recoivent des droits / Only named accounts can be given rights",
            );
        }
        let Ok(grantee) = Address::parse(identifier) else {
            return Done::no(
                "[CANNOT] Identifiant inconnu : une adresse est attendue / Unknown identifier: an address is expected",
            );
        };
        let entries = match self.mailstore.acl(&mailbox).await {
            Ok(e) => e,
            Err(e) => return failed(e),
        };
        if entries.first().is_some_and(|o| o.identifier.eq_ignore_ascii_case(identifier)) {
            return Done::no("[CANNOT] Le proprietaire a toujours tous les droits / The owner always has every right");
        }
        let current =
            entries.iter().find(|e| e.identifier.eq_ignore_ascii_case(identifier)).map_or(Rights::NONE, |e| e.rights);
        let new = match change {
            Change::Replace(r) => r,
            Change::Add(r) => current.union(r),
            Change::Remove(r) => current.minus(r),
        };
        match self.mailstore.set_folder_rights(authed.account.id, &mailbox, &grantee, new).await {
            Ok(()) => Done::ok(&format!("{verb} completed")),
            Err(mailstore::Error::NotFound(_)) => {
                Done::no("[CANNOT] Aucun compte a cette adresse / No account has this address")
            }
            Err(mailstore::Error::Invalid(_)) => no_admin(),
            Err(e) => failed(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setacl_reads_changes_and_refuses_unknown_rights() {
        assert_eq!(change_of("lr").unwrap(), Change::Replace(Rights::parse("lr").unwrap()));
        assert_eq!(change_of("+w").unwrap(), Change::Add(Rights::WRITE));
        assert_eq!(change_of("-te").unwrap(), Change::Remove(Rights::parse("te").unwrap()));
        assert_eq!(change_of("").unwrap(), Change::Replace(Rights::NONE));
        let refused = change_of("lrz").unwrap_err();
        assert!(refused.text.contains("'z'"), "{}", refused.text);
    }
}
