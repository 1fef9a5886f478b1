//! OpenID Connect endpoints. The authorization request and the consent
//! page are pages of the site (sessions, CSRF, CSP); the token, userinfo
//! and JWKS endpoints answer JSON to applications, never to a browser
//! session (no cookie is read there).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use sso::oidc::{AuthError, AuthRequest, Checked, Next, SessionFacts, TokenError, Tokens, next_step};

use super::{now, provider, refusal, with_params, without_fresh};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::i18n::Lang;
use crate::base::session::Visitor;
use crate::base::{Common, CsrfForm, WebError, redirect, render};

/// Where the endpoints are, for discovery.
pub async fn discovery(State(app): State<Arc<App>>, lang: Lang) -> Result<Response, WebError> {
    let sso = provider(&app, lang)?;
    let iss = sso.issuer();
    let doc = serde_json::json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oidc/authorize"),
        "token_endpoint": format!("{iss}/oidc/token"),
        "userinfo_endpoint": format!("{iss}/oidc/userinfo"),
        "jwks_uri": format!("{iss}/oidc/jwks"),
        "end_session_endpoint": format!("{iss}/oidc/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": sso::claims::SCOPES,
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "at_hash",
            "name", "given_name", "family_name", "email", "email_verified", "role", "uai", "unit"],
        "acr_values_supported": [sso::oidc::ACR_PASSWORD, sso::oidc::ACR_SECOND_FACTOR],
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    Ok(json(StatusCode::OK, &doc))
}

/// The provider's public keys.
pub async fn jwks(State(app): State<Arc<App>>, lang: Lang) -> Result<Response, WebError> {
    let keys = provider(&app, lang)?.jwks().map_err(|e| WebError::internal(&e))?;
    Ok(json(StatusCode::OK, &keys))
}

fn json(status: StatusCode, v: &serde_json::Value) -> Response {
    let body = serde_json::to_string(v).unwrap_or_default();
    let mut resp = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// `connexion`: when a fresh login was asked for this request (added by
/// us to the request the login comes back to).
#[derive(Debug, Default, Deserialize)]
pub struct Fresh {
    connexion: Option<i64>,
}

/// The signed-in visitor's facts for the provider.
async fn facts(app: &App, sso: &sso::Sso, v: &Visitor) -> Result<Option<SessionFacts>, WebError> {
    let Some((s, a)) = v.at(crate::base::session::STAGE_FULL) else { return Ok(None) };
    let totp = crate::pages::totp_on(app, a).await?;
    Ok(Some(sso.session_facts(&s.token_hash, a.id, s.created_at, totp).await.map_err(|e| WebError::internal(&e))?))
}

/// The refusal sent back to the client, or shown when not proven.
fn refuse(v: &Visitor, e: AuthError) -> Result<Response, WebError> {
    match e {
        AuthError::Page { fr, en } => Err(refusal(v.lang, StatusCode::BAD_REQUEST, &fr, &en)),
        AuthError::Redirect { redirect_uri, state, error, description } => {
            let mut params = vec![("error", error), ("error_description", description.as_str())];
            if let Some(s) = &state {
                params.push(("state", s));
            }
            Ok(redirect(v, &with_params(&redirect_uri, &params)))
        }
    }
}

/// `/oidc/authorize`: checks the request, then sends the visitor through
/// the login, the consent page, or back to the client with a code.
pub async fn authorize(
    State(app): State<Arc<App>>,
    mut v: Visitor,
    RawQuery(raw): RawQuery,
    Query(q): Query<AuthRequest>,
    Query(fresh): Query<Fresh>,
) -> Result<Response, WebError> {
    let sso = provider(&app, v.lang)?;
    let checked = match sso.check_authorization(&q).await.map_err(|e| WebError::internal(&e))? {
        Ok(c) => c,
        Err(e) => return refuse(&v, e),
    };
    let facts = facts(&app, sso, &v).await?;
    let consented = match &facts {
        Some(f) => sso.consented(&checked, f.account).await.map_err(|e| WebError::internal(&e))?,
        None => false,
    };
    match next_step(&checked, facts.as_ref(), consented, now(), fresh.connexion) {
        Next::Login => {
            let query = without_fresh(raw.as_deref().unwrap_or(""));
            login_then(&app, &mut v, &format!("/oidc/authorize?{query}&connexion={}", now())).await
        }
        Next::Consent => consent_page(&app, &mut v, &checked, &q, fresh.connexion),
        Next::Issue => issue(sso, &v, &checked, facts.as_ref()).await,
        Next::Refuse(e) => refuse(&v, e),
    }
}

/// Ends any session and sends the visitor to the login, which comes back
/// to `resume` once done.
pub(super) async fn login_then(app: &App, v: &mut Visitor, resume: &str) -> Result<Response, WebError> {
    if v.session.is_some() {
        v.end(app).await?;
    }
    v.set_resume(resume);
    Ok(redirect(v, "/connexion"))
}

async fn issue(sso: &sso::Sso, v: &Visitor, c: &Checked, facts: Option<&SessionFacts>) -> Result<Response, WebError> {
    let Some(f) = facts else { return Err(WebError::Internal) };
    let code = sso.issue_code(c, f).await.map_err(|e| WebError::internal(&e))?;
    let mut params = vec![("code", code.as_str()), ("iss", sso.issuer())];
    if let Some(s) = &c.state {
        params.push(("state", s));
    }
    Ok(redirect(v, &with_params(&c.redirect_uri, &params)))
}

#[derive(Template)]
#[template(path = "idp/consent.html")]
struct ConsentPage {
    c: Common,
    client: String,
    claims: Vec<String>,
    fields: Vec<(&'static str, String)>,
}

/// What each scope gives, in the visitor's language.
fn scope_text(lang: Lang, scope: &str) -> Option<&'static str> {
    let t = crate::base::i18n::Tr(lang);
    match scope {
        "profile" => Some(t.pick("vos nom et prénom", "your first and last names")),
        "email" => Some(t.pick("votre adresse électronique", "your e-mail address")),
        "academie" => Some(t.pick(
            "votre fonction, votre établissement (UAI) et votre service",
            "your role, your school (UAI) and your unit",
        )),
        "mail" => Some(t.pick(
            "l'accès à votre messagerie, vos agendas, vos contacts et vos filtres (IMAP, SMTP, CalDAV, CardDAV, ManageSieve)",
            "access to your mail, calendars, contacts and filters (IMAP, SMTP, CalDAV, CardDAV, ManageSieve)",
        )),
        "openid" => {
            Some(t.pick("un identifiant propre à cette application", "an identifier proper to this application"))
        }
        _ => None,
    }
}

fn consent_page(
    app: &App,
    v: &mut Visitor,
    checked: &Checked,
    q: &AuthRequest,
    fresh: Option<i64>,
) -> Result<Response, WebError> {
    let claims = checked.scopes.iter().filter_map(|s| scope_text(v.lang, s)).map(str::to_owned).collect();
    let mut fields: Vec<(&'static str, String)> = Vec::new();
    for (k, val) in [
        ("client_id", &q.client_id),
        ("redirect_uri", &q.redirect_uri),
        ("response_type", &q.response_type),
        ("scope", &q.scope),
        ("state", &q.state),
        ("nonce", &q.nonce),
        ("code_challenge", &q.code_challenge),
        ("code_challenge_method", &q.code_challenge_method),
        ("max_age", &q.max_age),
    ] {
        if let Some(val) = val {
            fields.push((k, val.clone()));
        }
    }
    if let Some(t) = fresh {
        fields.push(("connexion", t.to_string()));
    }
    let c = Common::new(app, v, "sso.consent.title");
    let mut resp = render(v, StatusCode::OK, &ConsentPage { c, client: checked.client.name.clone(), claims, fields });
    // « Autoriser » ends, through a redirect, at the application.
    resp.extensions_mut().insert(crate::headers::FormTarget(checked.redirect_uri.clone()));
    Ok(resp)
}

/// The consent form: the authorization request again, and the answer.
#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    request: AuthRequest,
    connexion: Option<String>,
    #[serde(default)]
    decision: String,
}

has_csrf!(ConsentForm);

/// `/oidc/autoriser`: the visitor's answer on the consent page.
pub async fn consent_post(
    State(app): State<Arc<App>>,
    CsrfForm { v, form }: CsrfForm<ConsentForm>,
) -> Result<Response, WebError> {
    let sso = provider(&app, v.lang)?;
    let mut checked = match sso.check_authorization(&form.request).await.map_err(|e| WebError::internal(&e))? {
        Ok(c) => c,
        Err(e) => return refuse(&v, e),
    };
    let Some(facts) = facts(&app, sso, &v).await? else { return Ok(redirect(&v, "/connexion")) };
    if form.decision != "accepter" {
        tracing::info!(target: "sso", client = checked.client.id, account = facts.account, "consent refused");
        return refuse(&v, checked.refuse("access_denied", "the user refused"));
    }
    sso.give_consent(&checked, facts.account).await.map_err(|e| WebError::internal(&e))?;
    checked.prompt.retain(|p| p != "consent");
    let fresh = form.connexion.as_deref().and_then(|c| c.parse().ok());
    match next_step(&checked, Some(&facts), true, now(), fresh) {
        Next::Issue => issue(sso, &v, &checked, Some(&facts)).await,
        Next::Refuse(e) => refuse(&v, e),
        // The session changed in between (login asked again): start over.
        Next::Login | Next::Consent => Ok(redirect(&v, "/connexion")),
    }
}

/// The token request's fields (both grants, and client_secret_post).
#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json(status, &serde_json::json!({ "error": error, "error_description": description }))
}

/// The client's id and secret from HTTP Basic (RFC 6749 section 2.3.1:
/// each form-urlencoded first).
fn basic_credentials(headers: &HeaderMap) -> Option<Option<(String, String)>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let Some(b64) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")) else { return Some(None) };
    let decoded = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok();
    let pair = decoded.and_then(|d| String::from_utf8(d).ok()).and_then(|s| {
        let (id, secret) = s.split_once(':')?;
        let unform = |x: &str| model::percent::decode(&x.replace('+', " "));
        Some((unform(id)?, unform(secret)?))
    });
    Some(pair)
}

/// `/oidc/token`: codes and refresh tokens for tokens.
pub async fn token(
    State(app): State<Arc<App>>,
    lang: Lang,
    headers: HeaderMap,
    form: Result<axum::Form<TokenForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, WebError> {
    let sso = provider(&app, lang)?;
    let Ok(axum::Form(f)) = form else {
        return Ok(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "a form-encoded body is expected"));
    };
    let basic = basic_credentials(&headers);
    let (id, secret) = match (basic, &f.client_id, &f.client_secret) {
        (Some(Some((id, secret))), post_id, None) if post_id.as_ref().is_none_or(|p| *p == id) => (id, Some(secret)),
        (Some(_), _, _) => return Ok(invalid_client(true)),
        (None, Some(id), secret) => (id.clone(), secret.clone()),
        (None, None, _) => return Ok(invalid_client(false)),
    };
    let client = match sso.authenticate_client(&id, secret.as_deref()).await {
        Ok(Some(c)) => c,
        Ok(None) => return Ok(invalid_client(headers.contains_key(header::AUTHORIZATION))),
        Err(e) => return Err(WebError::internal(&e)),
    };
    let result = match f.grant_type.as_deref() {
        Some("authorization_code") => match &f.code {
            Some(code) => sso.exchange_code(&client, code, f.redirect_uri.as_deref(), f.code_verifier.as_deref()).await,
            None => Err(TokenError::InvalidRequest("code missing")),
        },
        Some("refresh_token") => match &f.refresh_token {
            Some(t) => sso.refresh(&client, t).await,
            None => Err(TokenError::InvalidRequest("refresh_token missing")),
        },
        Some(_) => Err(TokenError::UnsupportedGrantType),
        None => Err(TokenError::InvalidRequest("grant_type missing")),
    };
    Ok(match result {
        Ok(Tokens { access_token, refresh_token, id_token, expires_in, scope }) => json(
            StatusCode::OK,
            &serde_json::json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": expires_in,
                "refresh_token": refresh_token,
                "id_token": id_token,
                "scope": scope,
            }),
        ),
        Err(TokenError::InvalidGrant(why)) => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", why),
        Err(TokenError::InvalidRequest(why)) => oauth_error(StatusCode::BAD_REQUEST, "invalid_request", why),
        Err(TokenError::UnsupportedGrantType) => {
            oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "authorization_code or refresh_token")
        }
        Err(TokenError::InvalidClient) => invalid_client(true),
        Err(TokenError::Internal(e)) => return Err(WebError::internal(&e)),
    })
}

fn invalid_client(basic: bool) -> Response {
    let mut resp = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
    if basic {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"ardoise\""));
    }
    resp
}

/// `/oidc/userinfo`: the claims an access token may read.
pub async fn userinfo(State(app): State<Arc<App>>, lang: Lang, headers: HeaderMap) -> Result<Response, WebError> {
    let sso = provider(&app, lang)?;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let info = match bearer {
        Some(t) => sso.userinfo(t).await.map_err(|e| WebError::internal(&e))?,
        None => None,
    };
    Ok(match info {
        Some(claims) => json(StatusCode::OK, &serde_json::Value::Object(claims)),
        None => {
            let mut resp = oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", "missing, expired or revoked token");
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ardoise\", error=\"invalid_token\""),
            );
            resp
        }
    })
}

/// The parameters of RP-initiated logout.
#[derive(Debug, Default, Deserialize)]
pub struct LogoutQuery {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    client_id: Option<String>,
}

#[derive(Template)]
#[template(path = "idp/logout.html")]
struct LogoutPage {
    c: Common,
    signed_in: bool,
}

/// `/oidc/logout`: with a hint of ours naming the signed-in account (or
/// nobody signed in), the session ends and the visitor goes back to a
/// registered post-logout URI; otherwise the visitor is asked (a form
/// with a CSRF token).
pub async fn logout(
    State(app): State<Arc<App>>,
    mut v: Visitor,
    Query(q): Query<LogoutQuery>,
) -> Result<Response, WebError> {
    let sso = provider(&app, v.lang)?;
    let hint = match q.id_token_hint.as_deref() {
        Some(h) if h.len() <= 8192 => sso.logout_hint(h).await.map_err(|e| WebError::internal(&e))?,
        _ => None,
    };
    let client = match (&hint, &q.client_id) {
        (Some((c, _)), Some(id)) if c.id != *id => {
            return Err(refusal(
                v.lang,
                StatusCode::BAD_REQUEST,
                "La demande de déconnexion ne concorde pas.",
                "The logout request is inconsistent.",
            ));
        }
        (Some((c, _)), _) => Some(c.clone()),
        (None, Some(id)) => sso.client(id).await.map_err(|e| WebError::internal(&e))?,
        (None, None) => None,
    };
    let back = match &q.post_logout_redirect_uri {
        None => None,
        Some(uri) if client.as_ref().is_some_and(|c| c.redirect_uris.iter().any(|r| r == uri)) => Some(uri.clone()),
        Some(_) => {
            return Err(refusal(
                v.lang,
                StatusCode::BAD_REQUEST,
                "L'adresse de retour après déconnexion n'est pas enregistrée pour cette application.",
                "The post-logout address is not registered for this application.",
            ));
        }
    };
    let hinted_is_visitor = match (&hint, v.account()) {
        (Some((c, claims)), Some(a)) => sso.sub_is(&c.id, &claims.sub, a.id),
        (_, None) => true,
        (None, Some(_)) => false,
    };
    if !hinted_is_visitor {
        let signed_in = v.account().is_some();
        let c = Common::new(&app, &mut v, "sso.logout.title");
        return Ok(render(&v, StatusCode::OK, &LogoutPage { c, signed_in }));
    }
    if v.session.is_some() {
        v.end(&app).await?;
        tracing::info!(target: "sso", client = client.as_ref().map_or("", |c| c.id.as_str()), "single sign-on session ended by logout");
    }
    match back {
        Some(uri) => {
            let params: Vec<(&str, &str)> = q.state.as_deref().map(|s| ("state", s)).into_iter().collect();
            Ok(redirect(&v, &with_params(&uri, &params)))
        }
        None => {
            let c = Common::new(&app, &mut v, "sso.logout.title");
            Ok(render(&v, StatusCode::OK, &LogoutPage { c, signed_in: false }))
        }
    }
}
