//! QUOTA (RFC 9208). The ACL commands are `acl.rs`.
//!
//! Quota: one root per account, named "" (the whole mailbox set shares the
//! account's storage), with the STORAGE resource in KiB from the account's
//! `used_bytes` and `quota_bytes`. Limits are set by administrators, never
//! over IMAP: SETQUOTA is refused (`dispatch.rs`).

use tokio::io::{AsyncRead, AsyncWrite};

use crate::command::RawName;
use crate::reply::{Done, failed};
use crate::session::Conn;
use crate::state::Authed;

/// `used` and `limit` bytes as STORAGE KiB (rounded up).
fn kib(bytes: i64) -> i64 {
    (bytes.max(0) + 1023) / 1024
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Conn<'_, S> {
    /// GETQUOTA: only the account's root, "".
    pub(crate) async fn get_quota(&mut self, authed: &Authed, root: &str) -> Done {
        if !root.is_empty() {
            return Done::no("[NONEXISTENT] No such quota root (the only one is \"\")");
        }
        match self.quota_line(authed).await {
            Ok(Some(line)) => {
                self.untagged(&line);
                Done::ok("GETQUOTA completed")
            }
            Ok(None) => Done::no("[NONEXISTENT] Aucun quota pour ce compte / No quota on this account"),
            Err(done) => done,
        }
    }

    pub(crate) async fn get_quota_root(&mut self, authed: &Authed, mailbox: &RawName) -> Done {
        let name = match self.own_mailbox(authed, mailbox).await {
            Ok(n) => n,
            Err(done) => return done,
        };
        let quota = match self.quota_line(authed).await {
            Ok(q) => q,
            Err(done) => return done,
        };
        let roots = if quota.is_some() { " \"\"" } else { "" };
        let line = format!("QUOTAROOT {}{roots}", String::from_utf8_lossy(&self.encode_name(&name)));
        self.untagged(&line);
        if let Some(q) = quota {
            self.untagged(&q);
        }
        Done::ok("GETQUOTAROOT completed")
    }

    /// The account's `QUOTA` line, read fresh (deliveries change it).
    async fn quota_line(&self, authed: &Authed) -> Result<Option<String>, Done> {
        let usage = match self.mailstore.usage(authed.account.id).await {
            Ok(u) => u,
            Err(mailstore::Error::NotFound(_)) => return Err(Done::no("[NONEXISTENT] Account gone")),
            Err(e) => return Err(failed(e)),
        };
        Ok(usage.quota_bytes.map(|q| format!("QUOTA \"\" (STORAGE {} {})", kib(usage.used_bytes), kib(q))))
    }

    /// The decoded name of one of the user's mailboxes, which must exist.
    async fn own_mailbox(&self, authed: &Authed, raw: &RawName) -> Result<String, Done> {
        let name = self.decode_name(raw)?;
        self.find_mailbox(authed.account.id, &name).await?;
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn storage_is_in_kib_rounded_up() {
        assert_eq!(super::kib(0), 0);
        assert_eq!(super::kib(1), 1);
        assert_eq!(super::kib(1024), 1);
        assert_eq!(super::kib(1025), 2);
        assert_eq!(super::kib(-5), 0);
    }
}
