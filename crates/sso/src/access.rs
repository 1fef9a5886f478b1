//! Access tokens presented by mail clients (IMAP, SMTP submission,
//! ManageSieve, DAV) in place of a password: OAUTHBEARER, XOAUTH2 and
//! `Authorization: Bearer`.
//!
//! A token opens the mail only if it is an access token of ours, live (not
//! expired, not revoked), given under the [`MAIL_SCOPE`] scope to a client
//! still registered with that scope. Whose account it is, and whether that
//! account may still log in, is the identity service's question: it calls
//! [`mail_access`] from its one login path, which journals and slows down
//! like any other login. The store is read through this crate only, so the
//! way tokens are kept (a keyed hash) stays in one place.

use model::AccountId;
use store::{SsoClient, SsoGrant, Store};

use crate::oidc::GrantData;
use crate::{token_hash, unix_now};

/// The scope a client must ask for (and be registered with) for its
/// access tokens to open IMAP, SMTP submission, ManageSieve and DAV.
pub const MAIL_SCOPE: &str = "mail";

/// What a mail client's token proves: the account it was given for, by
/// which client and when (a state change of the account since then ends
/// it, as for every grant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAccess {
    pub account: AccountId,
    pub client: String,
    pub granted_at: i64,
}

/// Why a token opens nothing (for the journal's log line; the client is
/// told only `invalid_token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    /// Not a token of ours, or not an access token, or malformed.
    Unknown,
    Expired,
    Revoked,
    /// Given without the `mail` scope.
    NoMailScope,
    /// Its client is gone, or no longer registered with the `mail` scope.
    ClientNotAllowed,
}

impl TokenRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenRefusal::Unknown => "unknown token",
            TokenRefusal::Expired => "expired token",
            TokenRefusal::Revoked => "revoked token",
            TokenRefusal::NoMailScope => "token without the mail scope",
            TokenRefusal::ClientNotAllowed => "token of a client not allowed the mail scope",
        }
    }
}

/// A refused token: why, and whose it was when it is one of ours (its
/// refusal then goes to that account's journal and slow-down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub why: TokenRefusal,
    pub account: Option<AccountId>,
}

/// Longest token looked up (ours are 43 characters).
const MAX_TOKEN_LEN: usize = 200;

/// The mail access `token` gives, read from the store.
pub async fn mail_access(store: &Store, token: &str) -> Result<Result<MailAccess, Refused>, store::Error> {
    let unknown = Refused { why: TokenRefusal::Unknown, account: None };
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Ok(Err(unknown));
    }
    let Some(grant) = store.sso_grant(&token_hash("access", token)).await? else {
        return Ok(Err(unknown));
    };
    let client = store.sso_client(&grant.client_id).await?;
    Ok(judge(&grant, client.as_ref(), unix_now())
        .map_err(|why| Refused { why, account: (why != TokenRefusal::Unknown).then_some(grant.account_id) }))
}

/// The rules of [`mail_access`] once the grant and its client are read (pure).
pub fn judge(grant: &SsoGrant, client: Option<&SsoClient>, now: i64) -> Result<MailAccess, TokenRefusal> {
    if grant.kind != "access" {
        return Err(TokenRefusal::Unknown);
    }
    if grant.revoked_at.is_some() {
        return Err(TokenRefusal::Revoked);
    }
    if grant.expires_at <= now {
        return Err(TokenRefusal::Expired);
    }
    let data: GrantData = serde_json::from_str(&grant.data).map_err(|_| TokenRefusal::Unknown)?;
    if !data.scopes.iter().any(|s| s == MAIL_SCOPE) {
        return Err(TokenRefusal::NoMailScope);
    }
    let allowed = client.is_some_and(|c| c.kind == "oidc" && c.scopes.iter().any(|s| s == MAIL_SCOPE));
    if !allowed {
        return Err(TokenRefusal::ClientNotAllowed);
    }
    Ok(MailAccess { account: grant.account_id, client: grant.client_id.clone(), granted_at: grant.created_at })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(kind: &str, scopes: &[&str]) -> SsoGrant {
        let data = GrantData { scopes: scopes.iter().map(|s| (*s).to_owned()).collect(), ..Default::default() };
        SsoGrant {
            token_hash: "h".into(),
            kind: kind.into(),
            client_id: "thunderbird".into(),
            account_id: 7,
            family: "f".into(),
            data: serde_json::to_string(&data).unwrap(),
            created_at: 1000,
            expires_at: 1600,
            used_at: None,
            revoked_at: None,
        }
    }

    fn client(scopes: &[&str]) -> SsoClient {
        SsoClient {
            id: "thunderbird".into(),
            kind: "oidc".into(),
            name: "Thunderbird".into(),
            secret_hash: None,
            redirect_uris: vec!["http://127.0.0.1/".into()],
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            academie_app: false,
            require_2fa: false,
            created_at: 0,
        }
    }

    #[test]
    fn a_live_access_token_with_the_mail_scope_opens_the_mail() {
        let c = client(&["openid", "mail"]);
        let ok = judge(&grant("access", &["openid", "mail"]), Some(&c), 1599).unwrap();
        assert_eq!(ok, MailAccess { account: 7, client: "thunderbird".into(), granted_at: 1000 });
    }

    #[test]
    fn expired_revoked_refresh_or_scopeless_tokens_open_nothing() {
        let c = client(&["openid", "mail"]);
        let g = grant("access", &["openid", "mail"]);
        assert_eq!(judge(&g, Some(&c), 1600), Err(TokenRefusal::Expired));
        let mut revoked = g.clone();
        revoked.revoked_at = Some(1100);
        assert_eq!(judge(&revoked, Some(&c), 1100), Err(TokenRefusal::Revoked));
        assert_eq!(judge(&grant("refresh", &["openid", "mail"]), Some(&c), 1100), Err(TokenRefusal::Unknown));
        assert_eq!(judge(&grant("code", &["openid", "mail"]), Some(&c), 1100), Err(TokenRefusal::Unknown));
        assert_eq!(judge(&grant("access", &["openid", "email"]), Some(&c), 1100), Err(TokenRefusal::NoMailScope));
    }

    #[test]
    fn a_token_of_a_client_not_or_no_longer_allowed_the_mail_scope_opens_nothing() {
        let g = grant("access", &["openid", "mail"]);
        assert_eq!(judge(&g, None, 1100), Err(TokenRefusal::ClientNotAllowed), "client deleted");
        assert_eq!(judge(&g, Some(&client(&["openid", "email"])), 1100), Err(TokenRefusal::ClientNotAllowed));
        let mut cas = client(&["openid", "mail"]);
        cas.kind = "cas".into();
        assert_eq!(judge(&g, Some(&cas), 1100), Err(TokenRefusal::ClientNotAllowed));
    }
}
