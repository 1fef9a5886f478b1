//! « Se connecter avec … »: the web login delegated to the académie's own
//! identity provider (OpenID Connect or CAS), over `sso::upstream`.
//!
//! `GET /connexion/externe/<id>` sends the browser to the provider and
//! keeps the pending login (state, nonce, PKCE verifier, provider, expiry)
//! in a cookie signed with the web key: it is bound to this browser, needs
//! no storage, and works whichever node the answer reaches.
//! `GET /connexion/externe/<id>/retour` takes the answer: the cookie is
//! read once (and cleared), its `state` compared with the one that came
//! back (a tampered or foreign state is refused, so nobody can log a
//! victim into their own account), the code exchanged or the ticket
//! validated, then the identity service names the account and applies its
//! state. The session opened is the ordinary one (shared with the webmail
//! and our own provider); our second factor is still asked unless the
//! provider said one was used (« mfa » in `amr`, or its `acr`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use identity::credentials::upstream::{UpstreamLogin, UpstreamRefusal};
use serde::Deserialize;
use sso::upstream::{Asserted, Pending, UpstreamError, UpstreamProvider};
use subtle::ConstantTimeEq;

use super::passkeys::has_second_factor;
use super::totp_required;
use crate::App;
use crate::base::i18n::Tr;
use crate::base::page::MessagePage;
use crate::base::session::{STAGE_ENROL, STAGE_FULL, STAGE_TOTP, Visitor, derive, unix_now};
use crate::base::{Common, WebError, redirect, render};

/// The pending login's cookie.
pub(crate) const PENDING_COOKIE: &str = "ardoise_externe";

/// What comes back from the provider.
#[derive(Debug, Default, Deserialize)]
pub struct Answer {
    /// OIDC.
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    /// CAS: the state we put in the service URL, and the ticket.
    etat: Option<String>,
    ticket: Option<String>,
}

/// The providers shown on the login page (id, label), and whether the
/// local password form is shown too.
pub(crate) async fn buttons(app: &App) -> (Vec<(String, String)>, bool) {
    let Some(sso) = &app.sso else { return (vec![], true) };
    let providers = match sso.upstream_providers().await {
        Ok(list) => list.into_iter().map(|p| (p.id, p.label)).collect::<Vec<_>>(),
        Err(e) => {
            tracing::warn!(error = %e, "upstream providers not read");
            vec![]
        }
    };
    let local = !app.cfg.upstream_only || providers.is_empty();
    (providers, local)
}

fn callback(app: &App, id: &str) -> String {
    format!("{}/connexion/externe/{id}/retour", app.cfg.public_url.trim_end_matches('/'))
}

fn seal(app: &App, p: &Pending) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(p).unwrap_or_default());
    let mac = derive(app, "externe", &body);
    format!("{body}.{mac}")
}

fn unseal(app: &App, value: &str) -> Option<Pending> {
    use base64::Engine;
    let (body, mac) = value.rsplit_once('.')?;
    let expected = derive(app, "externe", body);
    if expected.len() != mac.len() || !bool::from(expected.as_bytes().ct_eq(mac.as_bytes())) {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body).ok()?;
    serde_json::from_slice::<Pending>(&bytes).ok().filter(|p| p.expires_at > unix_now())
}

fn page(v: &Visitor, status: StatusCode, fr: &str, en: &str) -> WebError {
    let t = Tr(v.lang);
    WebError::Message {
        status,
        title: t.get("up.refused").to_owned(),
        text: t.pick(fr, en).to_owned(),
        link: "/connexion".into(),
        link_text: t.get("login.title").to_owned(),
    }
}

async fn provider(app: &App, v: &Visitor, id: &str) -> Result<(Arc<sso::Sso>, UpstreamProvider), WebError> {
    let unknown = || {
        let t = Tr(v.lang);
        WebError::Message {
            status: StatusCode::NOT_FOUND,
            title: t.get("notfound").to_owned(),
            text: t
                .pick("Ce fournisseur d'identité n'est pas configuré.", "This identity provider is not configured.")
                .to_owned(),
            link: "/connexion".into(),
            link_text: t.get("login.title").to_owned(),
        }
    };
    let Some(sso) = app.sso.clone() else { return Err(unknown()) };
    match sso.upstream_provider(id).await {
        Ok(Some(p)) => Ok((sso, p)),
        Ok(None) => Err(unknown()),
        Err(e) => Err(WebError::internal(&e)),
    }
}

fn unreachable(v: &Visitor, e: &UpstreamError) -> WebError {
    tracing::warn!(error = %e, "upstream provider");
    page(
        v,
        StatusCode::BAD_GATEWAY,
        "Le fournisseur d'identité de l'académie ne répond pas comme prévu. Réessayez dans un instant ou connectez-vous autrement.",
        "The académie's identity provider does not answer as expected. Try again in a moment or log in another way.",
    )
}

/// `GET /connexion/externe/<id>`: off to the provider.
pub async fn begin(State(app): State<Arc<App>>, mut v: Visitor, Path(id): Path<String>) -> Result<Response, WebError> {
    let (sso, p) = provider(&app, &v, &id).await?;
    let begun = sso.upstream_begin(&p, &callback(&app, &id)).await.map_err(|e| unreachable(&v, &e))?;
    let cookie = seal(&app, &begun.pending);
    v.set_cookie(PENDING_COOKIE, &cookie, Some(sso::upstream::PENDING_SECS));
    Ok(redirect(&v, &begun.url))
}

/// `GET /connexion/externe/<id>/retour`: the provider's answer.
pub async fn finish(
    State(app): State<Arc<App>>,
    mut v: Visitor,
    Path(id): Path<String>,
    Query(answer): Query<Answer>,
) -> Result<Response, WebError> {
    let (sso, p) = provider(&app, &v, &id).await?;
    let pending = v.cookie_value(PENDING_COOKIE).and_then(|c| unseal(&app, &c));
    // Single use: whatever happens next, the pending login is over.
    v.set_cookie(PENDING_COOKIE, "", Some(0));
    let asserted = assert(&sso, &p, pending.as_ref(), &answer, &callback(&app, &id)).await;
    let client = v.client.clone();
    let word;
    let outcome = match &asserted {
        Ok(a) => Ok(a.value.as_str()),
        Err(Refused::Error(e @ (UpstreamError::Unreachable(_) | UpstreamError::Store(_)))) => {
            let refusal = unreachable(&v, e);
            return Ok(shown(&app, &mut v, refusal));
        }
        Err(r) => {
            word = r.journal_word();
            tracing::info!(provider = p.id, refusal = word, "upstream answer refused");
            Err(word.as_str())
        }
    };
    let attempt = UpstreamLogin { provider: &p.id, outcome, peer: v.ip, client: &client };
    let account = match app.identity.login_upstream(&attempt).await {
        Ok(a) => a,
        Err(r) => {
            let status = match r {
                UpstreamRefusal::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                UpstreamRefusal::Answer => StatusCode::BAD_REQUEST,
                _ => StatusCode::FORBIDDEN,
            };
            let refusal = page(&v, status, r.message_fr(), r.message_en());
            return Ok(shown(&app, &mut v, refusal));
        }
    };
    let Ok(asserted) = asserted else { return Err(WebError::Internal) };
    open_session(&app, &mut v, &account, &asserted).await
}

/// A refusal as a page sent with the visitor's cookies (the pending
/// login's is cleared by it).
fn shown(app: &App, v: &mut Visitor, e: WebError) -> Response {
    let WebError::Message { status, title, text, link, link_text } = e else { return e.into_response() };
    let mut c = Common::new(app, v, "up.refused");
    c.title = title.clone();
    render(v, status, &MessagePage { c, heading: title, text, link, link_text })
}

/// The ordinary session, at the stage the account's second factor asks.
async fn open_session(
    app: &App,
    v: &mut Visitor,
    account: &identity::Account,
    asserted: &Asserted,
) -> Result<Response, WebError> {
    let mfa = asserted.multi_factor();
    let totp_on = super::totp_on(app, account).await?;
    let stage = if !mfa && has_second_factor(app, account, totp_on).await {
        STAGE_TOTP
    } else if !mfa && totp_required(app, account).await {
        STAGE_ENROL
    } else {
        STAGE_FULL
    };
    v.start(app, account, stage).await?;
    if mfa
        && let (Some(sso), Some((s, a))) = (&app.sso, &v.session)
        && let Err(e) = sso.second_factor_proved(&s.token_hash, a.id, sso::oidc::Factor::Upstream).await
    {
        tracing::warn!(error = %e, "upstream second factor not recorded for single sign-on");
    }
    let to = match stage {
        STAGE_TOTP => "/connexion/code".to_owned(),
        STAGE_ENROL => "/2fa/activer".to_owned(),
        _ => v.landing(),
    };
    Ok(redirect(v, &to))
}

/// Why the answer opens nothing, before any account is looked at.
enum Refused {
    /// No pending login in this browser, or another one's state.
    State,
    /// The provider said no (`error=access_denied`…).
    Provider(String),
    Error(UpstreamError),
}

impl Refused {
    fn journal_word(&self) -> String {
        match self {
            Refused::State => "upstream-state".into(),
            Refused::Provider(e) => {
                let e: String = e.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(40).collect();
                format!("upstream-error-{e}")
            }
            Refused::Error(e) => e.journal_word(),
        }
    }
}

async fn assert(
    sso: &sso::Sso,
    p: &UpstreamProvider,
    pending: Option<&Pending>,
    answer: &Answer,
    return_to: &str,
) -> Result<Asserted, Refused> {
    let cas = p.kind == sso::upstream::Kind::Cas.as_str();
    let state = if cas { &answer.etat } else { &answer.state };
    let Some(pending) = pending.filter(|pd| pd.provider == p.id) else { return Err(Refused::State) };
    let same = state
        .as_deref()
        .is_some_and(|s| s.len() == pending.state.len() && bool::from(s.as_bytes().ct_eq(pending.state.as_bytes())));
    if !same {
        return Err(Refused::State);
    }
    if let Some(error) = &answer.error {
        return Err(Refused::Provider(error.clone()));
    }
    if cas {
        let ticket = answer.ticket.as_deref().filter(|t| !t.is_empty() && t.len() <= 256).ok_or(Refused::State)?;
        sso.upstream_finish_cas(p, pending, ticket, return_to).await.map_err(Refused::Error)
    } else {
        let code = answer.code.as_deref().filter(|c| !c.is_empty() && c.len() <= 512).ok_or(Refused::State)?;
        sso.upstream_finish_oidc(p, pending, code, return_to).await.map_err(Refused::Error)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_state_word_is_stable() {
        assert_eq!(super::Refused::State.journal_word(), "upstream-state");
        assert_eq!(super::Refused::Provider("access_denied\r\n".into()).journal_word(), "upstream-error-access_denied");
    }
}
