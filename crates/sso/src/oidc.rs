//! OpenID Connect: the authorization request, codes, tokens, userinfo.
//!
//! An authorization request is checked in two steps (OAuth 2.0 section
//! 4.1.2.1): until its client and redirect URI are proven (the URI equal,
//! byte for byte, to one registered), a problem is shown to the user as a
//! page and never redirected (no open redirect); after, it goes back to the
//! client as `error=` parameters. Codes live 60 s and serve once; a second
//! use revokes everything the first one gave. Refresh tokens rotate at each
//! use; a rotated one presented again revokes its family. Every exchange
//! reads the account again.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use model::AccountId;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use store::SsoGrant;

use crate::{Error, Sso, SsoClient, claims, pkce, random_token, token_hash, unix_now};

pub const CODE_LIFETIME: i64 = 60;
pub const ACCESS_LIFETIME: i64 = 600;
pub const ID_TOKEN_LIFETIME: i64 = 600;
pub const REFRESH_LIFETIME: i64 = 30 * 86_400;

/// `acr` of a login with the password only, and with a second factor.
pub const ACR_PASSWORD: &str = "urn:ardoise:acr:pwd";
pub const ACR_SECOND_FACTOR: &str = "urn:ardoise:acr:2fa";

/// The parameters of `/oidc/authorize`, as received.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AuthRequest {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
}

/// A refused authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// Client or redirect URI not proven: shown as a page, French and English.
    Page { fr: String, en: String },
    /// Sent back to the client (`error`, `error_description`, `state`).
    Redirect { redirect_uri: String, state: Option<String>, error: &'static str, description: String },
}

/// A request whose client and redirect URI are proven and whose
/// parameters are sound.
#[derive(Debug, Clone)]
pub struct Checked {
    pub client: SsoClient,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub challenge: Option<String>,
    pub prompt: Vec<String>,
    pub max_age: Option<i64>,
}

impl Checked {
    /// The refusal `error` for this request, sent back to the client.
    pub fn refuse(&self, error: &'static str, description: &str) -> AuthError {
        AuthError::Redirect {
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
            error,
            description: description.to_owned(),
        }
    }
}

/// What the web knows of the signed-in visitor.
#[derive(Debug, Clone, Copy)]
pub struct SessionFacts {
    pub account: AccountId,
    /// When the login that made the session ended.
    pub auth_time: i64,
    /// The login proved a second factor.
    pub second_factor: bool,
    /// How, when it did.
    pub factor: Option<Factor>,
    /// The account has TOTP on (a new login would ask for it).
    pub totp_enrolled: bool,
}

/// What the web does next with a checked request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Send the visitor through the login (again), then back here.
    Login,
    /// Ask the visitor's consent.
    Consent,
    /// Give a code.
    Issue,
    /// Refuse (back to the client).
    Refuse(AuthError),
}

/// A refused token request (RFC 6749 section 5.2).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("invalid_client")]
    InvalidClient,
    #[error("invalid_grant: {0}")]
    InvalidGrant(&'static str),
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error(transparent)]
    Internal(#[from] Error),
}

impl From<store::Error> for TokenError {
    fn from(e: store::Error) -> TokenError {
        TokenError::Internal(Error::Store(e))
    }
}

/// What a token request gives.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub id_token: String,
    pub expires_in: i64,
    pub scope: String,
}

/// The details kept with a code, token or ticket.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct GrantData {
    #[serde(default)]
    pub redirect_uri: String,
    #[serde(default)]
    pub challenge: Option<String>,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub auth_time: i64,
    pub second_factor: bool,
    /// How the second factor was proved (absent in grants made before
    /// passkeys: a TOTP code).
    #[serde(default)]
    pub factor: Option<Factor>,
}

/// How a login proved more than a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Factor {
    /// The password, then a TOTP or recovery code.
    Otp,
    /// The password, then a passkey.
    Hwk,
    /// A passkey alone, with user verification (PIN or biometrics).
    HwkUser,
    /// The académie's identity provider (upstream) said a second factor
    /// was used; which one is its business.
    Upstream,
}

impl Factor {
    /// The store's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Otp => "otp",
            Factor::Hwk => "hwk",
            Factor::HwkUser => "hwk-user",
            Factor::Upstream => "upstream",
        }
    }

    /// The store's word read back (an unknown word is a TOTP code, the
    /// column's default).
    pub fn parse(word: &str) -> Factor {
        match word {
            "hwk" => Factor::Hwk,
            "hwk-user" => Factor::HwkUser,
            "upstream" => Factor::Upstream,
            _ => Factor::Otp,
        }
    }
}

/// The claims of an ID token we sign (and read back as a logout hint).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub nonce: Option<String>,
    pub acr: String,
    pub amr: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub at_hash: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn page(fr: &str, en: &str) -> AuthError {
    AuthError::Page { fr: fr.to_owned(), en: en.to_owned() }
}

/// `amr` values (RFC 8176) of a login: `pwd` alone without a second
/// factor; with one, `mfa` and the methods used (`otp` a one-time code,
/// `hwk` a proof of possession of a hardware-bound key, `user` the user
/// verified by the authenticator for a passwordless passkey).
pub fn amr(second_factor: bool, factor: Option<Factor>) -> Vec<String> {
    let words: &[&str] = match (second_factor, factor) {
        (false, _) => &["pwd"],
        (true, None | Some(Factor::Otp)) => &["pwd", "otp", "mfa"],
        (true, Some(Factor::Hwk)) => &["pwd", "hwk", "mfa"],
        (true, Some(Factor::HwkUser)) => &["hwk", "user", "mfa"],
        // The upstream provider vouched for several factors without saying
        // which to us in a way we pass on: only `mfa`.
        (true, Some(Factor::Upstream)) => &["mfa"],
    };
    words.iter().map(|w| (*w).to_owned()).collect()
}

/// The left half of the SHA-256 of an access token (`at_hash`).
fn at_hash(token: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    URL_SAFE_NO_PAD.encode(&d.as_ref()[..16])
}

/// The checks of a request that need no stored data beyond the client
/// (pure, so the rules are tested alone).
pub fn check_with_client(r: &AuthRequest, client: Option<SsoClient>) -> Result<Checked, AuthError> {
    let Some(client) = client.filter(|c| c.kind == "oidc") else {
        return Err(page(
            "Cette application n'est pas enregistrée auprès d'Ardoise.",
            "This application is not registered with Ardoise.",
        ));
    };
    let public = client.secret_hash.is_none();
    let registered = |u: &String| client.redirect_uris.iter().any(|x| crate::clients::redirect_matches(x, u, public));
    let Some(redirect_uri) = r.redirect_uri.clone().filter(registered) else {
        return Err(page(
            "L'adresse de retour demandée n'est pas celle enregistrée pour cette application.",
            "The requested return address is not the one registered for this application.",
        ));
    };
    let state = r.state.clone();
    let refuse = |error, description: &str| AuthError::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error,
        description: description.to_owned(),
    };
    if state.as_ref().is_some_and(|s| s.len() > 2000) {
        return Err(refuse("invalid_request", "state too long"));
    }
    if r.response_type.as_deref() != Some("code") {
        return Err(refuse("unsupported_response_type", "only the code flow is supported"));
    }
    let Some(scopes) = claims::granted(r.scope.as_deref().unwrap_or(""), &client.scopes) else {
        return Err(refuse("invalid_scope", "the openid scope is required"));
    };
    let challenge = match (r.code_challenge.as_deref(), r.code_challenge_method.as_deref()) {
        (None, None) => None,
        (Some(c), Some("S256")) if c.len() == 43 && pkce::well_formed(c) => Some(c.to_owned()),
        (Some(_), Some("S256")) => return Err(refuse("invalid_request", "malformed code_challenge")),
        (_, _) => return Err(refuse("invalid_request", "PKCE: only code_challenge_method=S256 is accepted")),
    };
    if challenge.is_none() && client.secret_hash.is_none() {
        return Err(refuse("invalid_request", "PKCE (S256) is required for public clients"));
    }
    if r.nonce.as_ref().is_some_and(|n| n.len() > 512) {
        return Err(refuse("invalid_request", "nonce too long"));
    }
    let prompt: Vec<String> =
        r.prompt.as_deref().unwrap_or("").split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect();
    if prompt.iter().any(|p| p == "none") && prompt.len() > 1 {
        return Err(refuse("invalid_request", "prompt=none cannot be combined"));
    }
    let max_age = match r.max_age.as_deref() {
        None | Some("") => None,
        Some(m) => match m.parse::<i64>() {
            Ok(v) if v >= 0 => Some(v),
            _ => return Err(refuse("invalid_request", "max_age must be a number of seconds")),
        },
    };
    Ok(Checked { client, redirect_uri, scopes, state, nonce: r.nonce.clone(), challenge, prompt, max_age })
}

/// What to do with a checked request, given the visitor's session and
/// whether their consent covers the scopes (pure). `fresh_after` is the
/// time a login was asked for this request: a session made since then
/// satisfies `prompt=login` and `max_age`.
pub fn next_step(c: &Checked, s: Option<&SessionFacts>, consented: bool, now: i64, fresh_after: Option<i64>) -> Next {
    let none = c.prompt.iter().any(|p| p == "none");
    let Some(s) = s else {
        return if none { Next::Refuse(c.refuse("login_required", "not signed in")) } else { Next::Login };
    };
    let fresh = fresh_after.is_some_and(|t| s.auth_time >= t);
    let stale = c.prompt.iter().any(|p| p == "login") || c.max_age.is_some_and(|m| now - s.auth_time > m);
    if stale && !fresh {
        return if none { Next::Refuse(c.refuse("login_required", "a new login is required")) } else { Next::Login };
    }
    if c.client.require_2fa && !s.second_factor {
        if none {
            return Next::Refuse(c.refuse("interaction_required", "this application requires a second factor"));
        }
        if s.totp_enrolled && !fresh {
            return Next::Login;
        }
        return Next::Refuse(
            c.refuse("access_denied", "this application requires a second factor: enable TOTP on the Sécurité page"),
        );
    }
    if !c.client.academie_app && (!consented || c.prompt.iter().any(|p| p == "consent")) {
        return if none { Next::Refuse(c.refuse("consent_required", "consent required")) } else { Next::Consent };
    }
    Next::Issue
}

impl Sso {
    /// Checks an authorization request against the registered client.
    pub async fn check_authorization(&self, r: &AuthRequest) -> Result<Result<Checked, AuthError>, Error> {
        let client = match r.client_id.as_deref() {
            Some(id) if id.len() <= 200 => self.store.sso_client(id).await?,
            _ => None,
        };
        let checked = check_with_client(r, client);
        if let Err(e) = &checked {
            tracing::info!(target: "sso", client = r.client_id.as_deref().unwrap_or(""), refusal = ?e, "authorization refused");
        }
        Ok(checked)
    }

    /// The facts of a web session for [`next_step`].
    pub async fn session_facts(
        &self,
        session_hash: &str,
        account: AccountId,
        auth_time: i64,
        totp_enrolled: bool,
    ) -> Result<SessionFacts, Error> {
        let factor = self.store.sso_second_factor(session_hash, account).await?.map(|w| Factor::parse(&w));
        Ok(SessionFacts { account, auth_time, second_factor: factor.is_some(), factor, totp_enrolled })
    }

    /// Whether the account's recorded consent covers the request's scopes.
    pub async fn consented(&self, c: &Checked, account: AccountId) -> Result<bool, Error> {
        let given = self.store.sso_consent(account, &c.client.id).await?.unwrap_or_default();
        Ok(c.scopes.iter().all(|s| given.contains(s)))
    }

    /// Records the visitor's consent to the request's scopes.
    pub async fn give_consent(&self, c: &Checked, account: AccountId) -> Result<(), Error> {
        tracing::info!(target: "sso", client = c.client.id, account, scopes = c.scopes.join(" "), "consent given");
        Ok(self.store.set_sso_consent(account, &c.client.id, &c.scopes).await?)
    }

    /// Gives a code for a checked request; the caller made sure
    /// [`next_step`] said [`Next::Issue`].
    pub async fn issue_code(&self, c: &Checked, s: &SessionFacts) -> Result<String, Error> {
        let code = random_token(32);
        let hash = token_hash("code", &code);
        let data = GrantData {
            redirect_uri: c.redirect_uri.clone(),
            challenge: c.challenge.clone(),
            nonce: c.nonce.clone(),
            scopes: c.scopes.clone(),
            auth_time: s.auth_time,
            second_factor: s.second_factor,
            factor: s.factor,
        };
        let now = unix_now();
        self.store
            .add_sso_grant(&SsoGrant {
                token_hash: hash.clone(),
                kind: "code".into(),
                client_id: c.client.id.clone(),
                account_id: s.account,
                family: hash,
                data: serde_json::to_string(&data).map_err(|e| Error::Invalid(e.to_string()))?,
                created_at: now,
                expires_at: now + CODE_LIFETIME,
                used_at: None,
                revoked_at: None,
            })
            .await?;
        tracing::info!(target: "sso", client = c.client.id, account = s.account, second_factor = s.second_factor, "authorization code given");
        Ok(code)
    }

    /// Exchanges a code (grant_type=authorization_code).
    pub async fn exchange_code(
        &self,
        client: &SsoClient,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> Result<Tokens, TokenError> {
        let hash = token_hash("code", code);
        let refused = |why: &'static str| {
            tracing::warn!(target: "sso", client = client.id, why, "code refused");
            TokenError::InvalidGrant(why)
        };
        let Some(grant) = self.store.sso_grant(&hash).await?.filter(|g| g.kind == "code") else {
            return Err(refused("unknown code"));
        };
        if grant.client_id != client.id {
            return Err(refused("code of another client"));
        }
        let now = unix_now();
        if !self.store.use_sso_grant(&hash, now).await? {
            if grant.used_at.is_some() || self.store.sso_grant(&hash).await?.is_some_and(|g| g.used_at.is_some()) {
                // A replayed code: whoever used it first may be the thief.
                let n = self.store.revoke_sso_family(&grant.family).await?;
                tracing::warn!(target: "sso", client = client.id, revoked = n, "code replayed: its tokens revoked");
                return Err(refused("code already used"));
            }
            return Err(refused("code expired or revoked"));
        }
        let data: GrantData = serde_json::from_str(&grant.data).map_err(|e| Error::Invalid(e.to_string()))?;
        if redirect_uri != Some(data.redirect_uri.as_str()) {
            return Err(refused("redirect_uri differs from the authorization request's"));
        }
        match (&data.challenge, verifier) {
            (Some(c), Some(v)) if pkce::verify(c, v) => {}
            (Some(_), Some(_)) => return Err(refused("wrong code_verifier")),
            (Some(_), None) => return Err(refused("code_verifier missing")),
            (None, Some(_)) => return Err(refused("code_verifier without code_challenge")),
            (None, None) => {}
        }
        self.tokens(client, &grant, &data, data.nonce.clone()).await
    }

    /// Exchanges a refresh token for new tokens (grant_type=refresh_token);
    /// the old one is spent. Presenting a spent one revokes its family.
    pub async fn refresh(&self, client: &SsoClient, refresh_token: &str) -> Result<Tokens, TokenError> {
        let hash = token_hash("refresh", refresh_token);
        let refused = |why: &'static str| {
            tracing::warn!(target: "sso", client = client.id, why, "refresh token refused");
            TokenError::InvalidGrant(why)
        };
        let Some(grant) = self.store.sso_grant(&hash).await?.filter(|g| g.kind == "refresh") else {
            return Err(refused("unknown refresh token"));
        };
        if grant.client_id != client.id {
            return Err(refused("refresh token of another client"));
        }
        if !self.store.use_sso_grant(&hash, unix_now()).await? {
            if grant.used_at.is_some() || self.store.sso_grant(&hash).await?.is_some_and(|g| g.used_at.is_some()) {
                let n = self.store.revoke_sso_family(&grant.family).await?;
                tracing::warn!(target: "sso", client = client.id, revoked = n, "rotated refresh token reused: family revoked");
                return Err(refused("refresh token already used"));
            }
            return Err(refused("refresh token expired or revoked"));
        }
        let data: GrantData = serde_json::from_str(&grant.data).map_err(|e| Error::Invalid(e.to_string()))?;
        self.tokens(client, &grant, &data, None).await
    }

    /// Access, refresh and ID tokens for the account of `spent` (the code or
    /// refresh token just used), after reading its state.
    async fn tokens(
        &self,
        client: &SsoClient,
        spent: &SsoGrant,
        data: &GrantData,
        nonce: Option<String>,
    ) -> Result<Tokens, TokenError> {
        let (account, family) = (spent.account_id, spent.family.as_str());
        let Some(a) = self.live_account(account, spent.created_at).await? else {
            let n = self.store.revoke_sso_account(account).await?;
            tracing::warn!(target: "sso", client = client.id, account, revoked = n, "account suspended or closed: refused");
            return Err(TokenError::InvalidGrant("account not active"));
        };
        let now = unix_now();
        let access = random_token(32);
        let refresh = random_token(32);
        let json = serde_json::to_string(data).map_err(|e| Error::Invalid(e.to_string()))?;
        for (kind, token, life) in [("access", &access, ACCESS_LIFETIME), ("refresh", &refresh, REFRESH_LIFETIME)] {
            self.store
                .add_sso_grant(&SsoGrant {
                    token_hash: token_hash(kind, token),
                    kind: kind.into(),
                    client_id: client.id.clone(),
                    account_id: account,
                    family: family.to_owned(),
                    data: json.clone(),
                    created_at: now,
                    expires_at: now + life,
                    used_at: None,
                    revoked_at: None,
                })
                .await?;
        }
        let subject = self.subject(&a).await?;
        let claims = IdClaims {
            iss: self.issuer.clone(),
            sub: self.pairwise_sub(&client.id, account),
            aud: client.id.clone(),
            exp: now + ID_TOKEN_LIFETIME,
            iat: now,
            auth_time: data.auth_time,
            nonce,
            acr: if data.second_factor { ACR_SECOND_FACTOR } else { ACR_PASSWORD }.to_owned(),
            amr: amr(data.second_factor, data.factor),
            at_hash: Some(at_hash(&access)),
            extra: claims::released(&subject, &data.scopes),
        };
        let id_token = self.keys.sign(&claims)?;
        tracing::info!(target: "sso", client = client.id, account, "tokens given");
        Ok(Tokens {
            access_token: access,
            refresh_token: refresh,
            id_token,
            expires_in: ACCESS_LIFETIME,
            scope: data.scopes.join(" "),
        })
    }

    /// The account and grant an access token stands for, if it is live and
    /// its account may still sign in (the seam for OAUTHBEARER later).
    pub async fn access_account(&self, access_token: &str) -> Result<Option<(store::Account, SsoGrant)>, Error> {
        if access_token.len() > 200 {
            return Ok(None);
        }
        let Some(g) = self.store.sso_grant(&token_hash("access", access_token)).await? else { return Ok(None) };
        if g.kind != "access" || g.revoked_at.is_some() || g.expires_at <= unix_now() {
            return Ok(None);
        }
        Ok(self.live_account(g.account_id, g.created_at).await?.map(|a| (a, g)))
    }

    /// The userinfo claims for an access token, or `None` (invalid_token).
    pub async fn userinfo(&self, access_token: &str) -> Result<Option<Map<String, Value>>, Error> {
        let Some((a, g)) = self.access_account(access_token).await? else {
            tracing::info!(target: "sso", "userinfo refused: invalid token");
            return Ok(None);
        };
        let data: GrantData = serde_json::from_str(&g.data).map_err(|e| Error::Invalid(e.to_string()))?;
        let mut out = claims::released(&self.subject(&a).await?, &data.scopes);
        out.insert("sub".into(), Value::String(self.pairwise_sub(&g.client_id, a.id)));
        Ok(Some(out))
    }

    /// Reads an `id_token_hint` we signed (expired ones too): the client it
    /// was for, if still registered.
    pub async fn logout_hint(&self, hint: &str) -> Result<Option<(SsoClient, IdClaims)>, Error> {
        let Some(claims) = self.keys.verify::<IdClaims>(hint, &self.issuer) else { return Ok(None) };
        Ok(self.store.sso_client(&claims.aud).await?.map(|c| (c, claims)))
    }

    /// Whether `sub` (a pairwise identifier for `client`) is `account`.
    pub fn sub_is(&self, client: &str, sub: &str, account: AccountId) -> bool {
        self.pairwise_sub(client, account) == sub
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(public: bool, academie: bool, twofa: bool) -> SsoClient {
        SsoClient {
            id: "ent".into(),
            kind: "oidc".into(),
            name: "ENT".into(),
            secret_hash: (!public).then(|| "h".into()),
            redirect_uris: vec!["https://ent.ac-demo.fr/cb".into()],
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
            academie_app: academie,
            require_2fa: twofa,
            created_at: 0,
        }
    }

    fn req() -> AuthRequest {
        AuthRequest {
            client_id: Some("ent".into()),
            redirect_uri: Some("https://ent.ac-demo.fr/cb".into()),
            response_type: Some("code".into()),
            scope: Some("openid email".into()),
            state: Some("etat".into()),
            code_challenge: Some(pkce::challenge_of(&"v".repeat(43))),
            code_challenge_method: Some("S256".into()),
            ..Default::default()
        }
    }

    fn error_of(r: Result<Checked, AuthError>) -> &'static str {
        match r {
            Err(AuthError::Redirect { error, .. }) => error,
            Err(AuthError::Page { .. }) => "page",
            Ok(_) => "ok",
        }
    }

    #[test]
    fn an_unproven_redirect_uri_is_a_page_never_a_redirect() {
        for uri in [
            "https://ent.ac-demo.fr/cb/",
            "https://ent.ac-demo.fr/cB",
            "https://ent.ac-demo.fr/cb?x=1",
            "https://evil.example/cb",
            "https://ent.ac-demo.fr/c",
        ] {
            let mut r = req();
            r.redirect_uri = Some(uri.into());
            assert_eq!(error_of(check_with_client(&r, Some(client(false, true, false)))), "page", "{uri}");
        }
        let mut r = req();
        r.redirect_uri = None;
        assert_eq!(error_of(check_with_client(&r, Some(client(false, true, false)))), "page");
        assert_eq!(error_of(check_with_client(&req(), None)), "page");
        // Wrong everything else but a proven URI: back to the client.
        let mut r = req();
        r.response_type = Some("token".into());
        assert_eq!(error_of(check_with_client(&r, Some(client(false, true, false)))), "unsupported_response_type");
    }

    #[test]
    fn amr_names_the_second_factor_used() {
        assert_eq!(amr(false, None), ["pwd"]);
        assert_eq!(amr(true, None), ["pwd", "otp", "mfa"], "grants made before passkeys");
        assert_eq!(amr(true, Some(Factor::Otp)), ["pwd", "otp", "mfa"]);
        assert_eq!(amr(true, Some(Factor::Hwk)), ["pwd", "hwk", "mfa"]);
        assert_eq!(amr(true, Some(Factor::HwkUser)), ["hwk", "user", "mfa"]);
        assert_eq!(amr(true, Some(Factor::Upstream)), ["mfa"]);
        assert_eq!(Factor::parse(Factor::Upstream.as_str()), Factor::Upstream);
        for f in [Factor::Otp, Factor::Hwk, Factor::HwkUser] {
            assert_eq!(Factor::parse(f.as_str()), f);
        }
        // A grant's data written before passkeys reads back without a factor.
        let old: GrantData = serde_json::from_str(r#"{"auth_time":1,"second_factor":true}"#).unwrap();
        assert_eq!(old.factor, None);
        let new = GrantData { factor: Some(Factor::HwkUser), second_factor: true, ..Default::default() };
        let back: GrantData = serde_json::from_str(&serde_json::to_string(&new).unwrap()).unwrap();
        assert_eq!(back.factor, Some(Factor::HwkUser));
    }

    #[test]
    fn pkce_plain_missing_or_malformed_is_refused() {
        let c = || Some(client(true, true, false));
        let mut r = req();
        r.code_challenge_method = Some("plain".into());
        assert_eq!(error_of(check_with_client(&r, c())), "invalid_request");
        let mut r = req();
        r.code_challenge_method = None;
        assert_eq!(error_of(check_with_client(&r, c())), "invalid_request", "plain by default");
        let mut r = req();
        r.code_challenge = None;
        r.code_challenge_method = None;
        assert_eq!(error_of(check_with_client(&r, c())), "invalid_request", "a public client needs PKCE");
        assert_eq!(error_of(check_with_client(&r, Some(client(false, true, false)))), "ok");
        let mut r = req();
        r.code_challenge = Some("court".into());
        assert_eq!(error_of(check_with_client(&r, c())), "invalid_request");
        assert_eq!(error_of(check_with_client(&req(), c())), "ok");
    }

    #[test]
    fn scope_prompt_and_max_age_are_checked() {
        let c = || Some(client(false, true, false));
        let mut r = req();
        r.scope = Some("email".into());
        assert_eq!(error_of(check_with_client(&r, c())), "invalid_scope");
        let mut r = req();
        r.prompt = Some("none login".into());
        assert_eq!(error_of(check_with_client(&r, c())), "invalid_request");
        let mut r = req();
        r.max_age = Some("-1".into());
        assert_eq!(error_of(check_with_client(&r, c())), "invalid_request");
        let mut r = req();
        r.scope = Some("openid email academie".into());
        assert_eq!(check_with_client(&r, c()).unwrap().scopes, ["openid", "email"], "academie not allowed");
    }

    fn facts(auth_time: i64, second_factor: bool, totp_enrolled: bool) -> SessionFacts {
        SessionFacts {
            account: 1,
            auth_time,
            second_factor,
            factor: second_factor.then_some(Factor::Otp),
            totp_enrolled,
        }
    }

    #[test]
    fn the_next_step_follows_session_prompt_max_age_consent_and_2fa() {
        let checked = |prompt: &str, academie, twofa| {
            let mut r = req();
            r.prompt = Some(prompt.into());
            check_with_client(&r, Some(client(false, academie, twofa))).unwrap()
        };
        let s = facts(1000, false, false);
        assert_eq!(next_step(&checked("", true, false), None, false, 1000, None), Next::Login);
        let refused = |n: Next| match n {
            Next::Refuse(AuthError::Redirect { error, .. }) => error,
            other => panic!("{other:?}"),
        };
        assert_eq!(refused(next_step(&checked("none", true, false), None, false, 1000, None)), "login_required");
        assert_eq!(next_step(&checked("", true, false), Some(&s), false, 1000, None), Next::Issue);
        assert_eq!(next_step(&checked("login", true, false), Some(&s), false, 1000, None), Next::Login);
        assert_eq!(next_step(&checked("login", true, false), Some(&s), false, 1000, Some(999)), Next::Issue);
        let mut c = checked("", true, false);
        c.max_age = Some(60);
        assert_eq!(next_step(&c, Some(&s), false, 1061, None), Next::Login);
        assert_eq!(next_step(&c, Some(&s), false, 1060, None), Next::Issue);
        // Consent: asked unless an académie application or already given.
        assert_eq!(next_step(&checked("", false, false), Some(&s), false, 1000, None), Next::Consent);
        assert_eq!(next_step(&checked("", false, false), Some(&s), true, 1000, None), Next::Issue);
        assert_eq!(next_step(&checked("consent", false, false), Some(&s), true, 1000, None), Next::Consent);
        assert_eq!(refused(next_step(&checked("none", false, false), Some(&s), false, 1000, None)), "consent_required");
        // A client requiring 2FA.
        assert_eq!(refused(next_step(&checked("", true, true), Some(&s), false, 1000, None)), "access_denied");
        assert_eq!(
            next_step(&checked("", true, true), Some(&facts(1000, false, true)), false, 1000, None),
            Next::Login
        );
        assert_eq!(
            refused(next_step(&checked("none", true, true), Some(&facts(1000, false, true)), false, 1000, None)),
            "interaction_required"
        );
        assert_eq!(next_step(&checked("", true, true), Some(&facts(1000, true, true)), false, 1000, None), Next::Issue);
    }
}
