//! CATENATE (RFC 4469): APPEND a message assembled on the server from text
//! parts and IMAP URLs (RFC 5092) of messages the user already has, so that a
//! client saving a draft or forwarding does not download and upload the
//! attachments again.
//!
//! A URL names a message of the logged-in account only: `imap://` URLs (the
//! user part, when given, must be the logged-in user) and absolute paths
//! `/mailbox;UIDVALIDITY=n/;UID=n[/;SECTION=s][/;PARTIAL=o.l]`. Relative
//! URLs, URLAUTH and other users' mailboxes are refused with `[BADURL]`.

use mailstore::analyse::stored::from_stored;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::command::{CatPart, Section, SectionText};
use crate::reply::{Done, failed};
use crate::session::Conn;
use crate::state::Authed;

/// A parsed IMAP URL naming one message or a section of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MessageUrl {
    /// The `iuserinfo` of an `imap://` URL, without `;AUTH=`.
    pub user: Option<String>,
    pub mailbox: String,
    pub uid_validity: Option<i64>,
    pub uid: i64,
    pub section: Section,
    pub partial: Option<(u32, u32)>,
}

/// Parses an absolute IMAP URL or absolute path; `None` for anything else.
pub(crate) fn parse_url(url: &str) -> Option<MessageUrl> {
    let (user, path) = if let Some(rest) = url.strip_prefix("imap://").or_else(|| url.strip_prefix("IMAP://")) {
        let (authority, path) = rest.split_at(rest.find('/')?);
        let user = match authority.rsplit_once('@') {
            // `user;AUTH=mechanism@host`: the mechanism is the client's
            // business, the user must be the logged-in one (checked later).
            Some((userinfo, _host)) => Some(model::percent::decode(userinfo.split(';').next()?)?),
            None => None,
        };
        (user, path)
    } else {
        (None, url)
    };
    let path = path.strip_prefix('/')?;
    let mut pieces = path.split("/;");
    let mailbox_part = pieces.next()?;
    let (mailbox, uid_validity) = match mailbox_part.split_once(";UIDVALIDITY=") {
        Some((m, v)) => (m, Some(v.parse::<i64>().ok().filter(|v| *v > 0)?)),
        None => (mailbox_part, None),
    };
    let mailbox = model::percent::decode(mailbox.trim_end_matches('/'))?;
    if mailbox.is_empty() {
        return None;
    }
    let mut uid = None;
    let mut section = Section::default();
    let mut partial = None;
    for piece in pieces {
        let (key, value) = piece.split_once('=')?;
        match key.to_ascii_uppercase().as_str() {
            "UID" if uid.is_none() => uid = Some(value.parse::<i64>().ok().filter(|u| *u > 0)?),
            "SECTION" if uid.is_some() => section = parse_section(&model::percent::decode(value)?)?,
            "PARTIAL" if uid.is_some() => {
                let (offset, length) = match value.split_once('.') {
                    Some((o, l)) => (o.parse().ok()?, l.parse().ok()?),
                    None => (value.parse().ok()?, u32::MAX),
                };
                partial = Some((offset, length));
            }
            _ => return None,
        }
    }
    Some(MessageUrl { user, mailbox, uid_validity, uid: uid?, section, partial })
}

/// `1.2`, `1.MIME`, `HEADER`, `TEXT`, `2.HEADER.FIELDS (SUBJECT FROM)`.
fn parse_section(text: &str) -> Option<Section> {
    let mut section = Section::default();
    let mut rest = text;
    while rest.starts_with(|c: char| c.is_ascii_digit()) {
        let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        section.part.push(rest[..end].parse().ok().filter(|n| *n > 0)?);
        rest = &rest[end..];
        match rest.strip_prefix('.') {
            Some(r) => rest = r,
            None => break,
        }
    }
    if rest.is_empty() {
        return Some(section);
    }
    let upper = rest.to_ascii_uppercase();
    section.text = Some(match upper.as_str() {
        "HEADER" => SectionText::Header,
        "TEXT" => SectionText::Text,
        "MIME" if !section.part.is_empty() => SectionText::Mime,
        _ => {
            let (word, fields) = upper.split_once(' ')?;
            let not = match word {
                "HEADER.FIELDS" => false,
                "HEADER.FIELDS.NOT" => true,
                _ => return None,
            };
            let fields = fields.strip_prefix('(')?.strip_suffix(')')?;
            SectionText::HeaderFields { not, fields: fields.split_whitespace().map(str::to_owned).collect() }
        }
    });
    Some(section)
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Conn<'_, S> {
    /// The message a CATENATE list makes, or the `NO` to answer: `[BADURL]`
    /// for a URL naming nothing of this account, `[TOOBIG]` beyond the
    /// largest message accepted.
    pub(crate) async fn catenate(&self, authed: &Authed, parts: Vec<CatPart>) -> Result<Vec<u8>, Done> {
        let mut out = Vec::new();
        for part in parts {
            match part {
                CatPart::Text(bytes) => out.extend_from_slice(&bytes),
                CatPart::Url(url) => out.extend_from_slice(&self.resolve(authed, &url).await?),
            }
            if out.len() > self.cfg.max_message_size {
                return Err(Done::no("[TOOBIG] Message too large"));
            }
        }
        Ok(out)
    }

    async fn resolve(&self, authed: &Authed, url: &str) -> Result<Vec<u8>, Done> {
        let bad = || Done::no(&format!("[BADURL {}] The URL names no message of yours", quoted(url)));
        let parsed = parse_url(url).ok_or_else(bad)?;
        if let Some(user) = &parsed.user {
            let own = authed.account.address.to_string();
            let login = authed.account.login.as_deref().unwrap_or("");
            if !user.eq_ignore_ascii_case(&own) && !user.eq_ignore_ascii_case(login) {
                return Err(bad());
            }
        }
        let account = authed.account.id;
        let mailbox = match self.mailstore.mailbox_named(account, &parsed.mailbox).await {
            Ok(Some(m)) if !m.placeholder => m,
            Ok(_) => return Err(bad()),
            Err(e) => return Err(failed(e)),
        };
        if parsed.uid_validity.is_some_and(|v| v != mailbox.uid_validity) {
            return Err(bad());
        }
        let row = match self.mailstore.message_by_uid(mailbox.id, parsed.uid).await {
            Ok(Some(r)) => r,
            Ok(None) => return Err(bad()),
            Err(e) => return Err(failed(e)),
        };
        let raw = self.mailstore.message_bytes(&row.blob_hash).await.map_err(failed)?;
        let data = if parsed.section == Section::default() {
            raw
        } else {
            let summaries = self.mailstore.summaries(std::slice::from_ref(&row.blob_hash)).await.map_err(failed)?;
            let analysis = summaries.first().and_then(|s| from_stored(&s.meta_json)).ok_or_else(bad)?;
            crate::sections::extract(&raw, &analysis, &parsed.section).ok_or_else(bad)?
        };
        Ok(crate::sections::partial(data, parsed.partial))
    }
}

/// A URL as an IMAP quoted string for the BADURL code.
fn quoted(url: &str) -> String {
    let clean: String = url.chars().filter(|c| !c.is_control() && *c != '"' && *c != '\\').take(200).collect();
    format!("\"{clean}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_urls_and_paths() {
        let u = parse_url("/INBOX;UIDVALIDITY=385759045/;UID=20/;SECTION=1.MIME").unwrap();
        assert_eq!((u.mailbox.as_str(), u.uid_validity, u.uid), ("INBOX", Some(385759045), 20));
        assert_eq!((u.section.part.as_slice(), u.section.text), (&[1][..], Some(SectionText::Mime)));
        let u =
            parse_url("imap://claire.martin%40ac-demo.fr;AUTH=*@mail.ac-demo.fr/Envoy%C3%A9s/;UID=3/;PARTIAL=0.1024")
                .unwrap();
        assert_eq!(u.user.as_deref(), Some("claire.martin@ac-demo.fr"));
        assert_eq!((u.mailbox.as_str(), u.uid, u.partial), ("Envoyés", 3, Some((0, 1024))));
        let u = parse_url("/Drafts/;UID=7/;SECTION=HEADER.FIELDS%20(SUBJECT%20FROM)").unwrap();
        assert_eq!(
            u.section.text,
            Some(SectionText::HeaderFields { not: false, fields: vec!["SUBJECT".into(), "FROM".into()] })
        );
        assert_eq!(parse_url("/a/b;UIDVALIDITY=1/;UID=2").unwrap().mailbox, "a/b");
    }

    #[test]
    fn what_is_refused() {
        for bad in [
            ";UID=20",
            "INBOX/;UID=1",
            "/INBOX",
            "/INBOX/;UID=0",
            "/INBOX/;UID=x",
            "/INBOX;UIDVALIDITY=0/;UID=1",
            "/INBOX/;UID=1/;SECTION=0",
            "/INBOX/;UID=1/;SECTION=BOGUS",
            "/INBOX/;UID=1/;URLAUTH=anonymous",
            "/%ZZ/;UID=1",
            "http://example.org/INBOX/;UID=1",
        ] {
            assert!(parse_url(bad).is_none(), "{bad}");
        }
    }
}
