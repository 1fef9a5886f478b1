//! An account's open sessions as its administrator sees them, and ending
//! them (a stolen laptop, a shared computer left signed in). The web
//! sessions are in the store; IMAP and submission connections live in the
//! processes that hold them and are not listed, but « close every session »
//! reaches them too: the mail domain's `AccessRevoked` event, which every
//! node hears, closes them (the client may log in again with the password,
//! which the administrator resets separately if it leaked).
//!
//! A session is named in forms by a key derived from its token's hash,
//! never by the hash itself: the page gives nothing that a session lookup
//! accepts.

use model::AccountId;

use super::{AdminError, Administrator, refused};
use crate::Identity;
use crate::lifecycle::Action;

/// One open web session.
#[derive(Debug, Clone)]
pub struct SessionRow {
    /// What the console's forms send to end this session.
    pub key: String,
    /// `full`, or a stage of an unfinished login (`password`, `totp`, ...).
    pub stage: String,
    pub created_at: i64,
    pub last_seen: i64,
    pub expires_at: i64,
    pub ip: String,
    pub client: String,
}

/// The form key of a session: 16 hex characters of a hash of its token's hash.
fn key_of(token_hash: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"ardoise:admin-session:");
    h.update(token_hash.as_bytes());
    h.finalize().to_hex()[..16].to_owned()
}

impl Identity {
    /// The account's open web sessions, newest first.
    pub async fn admin_sessions(&self, who: &Administrator, id: AccountId) -> Result<Vec<SessionRow>, AdminError> {
        self.admin_target(who, id, Action::Read).await?;
        Ok(self
            .store
            .web_sessions(id)
            .await?
            .into_iter()
            .map(|s| SessionRow {
                key: key_of(&s.token_hash),
                stage: s.stage,
                created_at: s.created_at,
                last_seen: s.last_seen,
                expires_at: s.expires_at,
                ip: s.ip,
                client: s.client,
            })
            .collect())
    }

    /// Ends the web session named `key` (as [`Identity::admin_sessions`]
    /// gave it). [`AdminError::NotFound`] when it is no longer open.
    pub async fn admin_end_session(&self, who: &Administrator, id: AccountId, key: &str) -> Result<(), AdminError> {
        let a = self.admin_target(who, id, Action::ResetCredentials).await?;
        self.not_yourself(who, id)?;
        let key = key.trim();
        let session = self.store.web_sessions(id).await?.into_iter().find(|s| key_of(&s.token_hash) == key);
        let Some(session) = session else { return Err(AdminError::NotFound) };
        if !self.store.delete_web_session(id, &session.token_hash).await? {
            return Err(AdminError::NotFound);
        }
        let client: String = session.client.chars().take(80).collect();
        let detail = format!("session web ouverte le {} depuis {} ({client})", session.created_at, session.ip);
        self.admin_audit(who, "session.end", &a.address.to_string(), &detail).await?;
        Ok(())
    }

    /// Ends every session of the account: its web sessions, and its IMAP
    /// and submission connections on every node. Returns how many web
    /// sessions ended.
    pub async fn admin_end_sessions(&self, who: &Administrator, id: AccountId) -> Result<u64, AdminError> {
        let a = self.admin_target(who, id, Action::ResetCredentials).await?;
        self.not_yourself(who, id)?;
        let ended = self.store.delete_web_sessions(id, None).await?;
        self.cache.forget(id);
        self.mail.revoke_access(id);
        let detail = format!("{ended} session(s) web ; connexions IMAP et SMTP fermées");
        self.admin_audit(who, "session.end-all", &a.address.to_string(), &detail).await?;
        Ok(ended)
    }

    fn not_yourself(&self, who: &Administrator, id: AccountId) -> Result<(), AdminError> {
        if who.account() == Some(id) {
            return Err(refused(
                "vos propres sessions se gèrent depuis la page Sécurité",
                "manage your own sessions on the Security page",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_key_is_short_stable_and_not_the_hash() {
        let k = super::key_of("abc");
        assert_eq!(k.len(), 16);
        assert_eq!(k, super::key_of("abc"));
        assert_ne!(k, super::key_of("abd"));
        assert!(!"abc".contains(&k));
    }
}
