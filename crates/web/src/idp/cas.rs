//! CAS 3.0 endpoints (the CAS protocol specification, sections 2 and 3):
//! `/cas/login` gives a signed-in visitor a service ticket and sends them
//! back to the service; `/cas/serviceValidate` and
//! `/cas/p3/serviceValidate` answer the service's validation in XML (the
//! latter with the attributes); `/cas/logout` ends the session.

use std::sync::Arc;

use axum::extract::{Query, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use quick_xml::escape::escape;
use serde::Deserialize;
use sso::cas::{CasFailure, CasSuccess};

use super::{now, provider, refusal, with_params, without_fresh};
use crate::App;
use crate::base::i18n::Lang;
use crate::base::session::{STAGE_FULL, Visitor};
use crate::base::{MessagePage, WebError, redirect, render};

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    service: Option<String>,
    renew: Option<String>,
    gateway: Option<String>,
    /// When a fresh login was asked (added by us, see `oidc::Fresh`).
    connexion: Option<i64>,
}

fn flag(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty() && s != "false")
}

/// `/cas/login`.
pub async fn login(
    State(app): State<Arc<App>>,
    mut v: Visitor,
    RawQuery(raw): RawQuery,
    Query(q): Query<LoginQuery>,
) -> Result<Response, WebError> {
    let sso = provider(&app, v.lang)?;
    let Some(service) = q.service.as_deref().filter(|s| !s.is_empty()) else {
        // No service: the CAS login page itself, which is ours.
        return Ok(redirect(&v, if v.account().is_some() { "/courrier" } else { "/connexion" }));
    };
    let Some(registered) = sso.cas_service(service).await.map_err(|e| WebError::internal(&e))? else {
        tracing::info!(target: "sso", "CAS login refused: service not registered");
        return Err(refusal(
            v.lang,
            StatusCode::BAD_REQUEST,
            "Ce service n'est pas enregistré auprès d'Ardoise : aucune connexion ne lui est transmise.",
            "This service is not registered with Ardoise: no sign-in is passed to it.",
        ));
    };
    let session = v.at(STAGE_FULL).map(|(s, a)| (s.token_hash.clone(), s.created_at, a.id));
    let fresh = q.connexion.is_some_and(|t| session.as_ref().is_some_and(|(_, at, _)| *at >= t));
    match session {
        Some((hash, auth_time, account)) if !flag(&q.renew) || fresh => {
            let second = sso
                .session_facts(&hash, account, auth_time, false)
                .await
                .map_err(|e| WebError::internal(&e))?
                .second_factor;
            let ticket = sso
                .issue_ticket(&registered, service, account, auth_time, second)
                .await
                .map_err(|e| WebError::internal(&e))?;
            Ok(redirect(&v, &with_params(service, &[("ticket", &ticket)])))
        }
        _ if flag(&q.gateway) && !flag(&q.renew) => Ok(redirect(&v, service)),
        _ => {
            let query = without_fresh(raw.as_deref().unwrap_or(""));
            super::oidc::login_then(&app, &mut v, &format!("/cas/login?{query}&connexion={}", now())).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LogoutQuery {
    service: Option<String>,
}

/// `/cas/logout`: ends the session (the webmail's too); back to the
/// service only if it is registered.
pub async fn logout(
    State(app): State<Arc<App>>,
    mut v: Visitor,
    Query(q): Query<LogoutQuery>,
) -> Result<Response, WebError> {
    let sso = provider(&app, v.lang)?;
    if v.session.is_some() {
        v.end(&app).await?;
        tracing::info!(target: "sso", "single sign-on session ended by CAS logout");
    }
    if let Some(service) = q.service.as_deref()
        && sso.cas_service(service).await.map_err(|e| WebError::internal(&e))?.is_some()
    {
        return Ok(redirect(&v, service));
    }
    let c = crate::base::Common::new(&app, &mut v, "sso.logout.title");
    let t = c.t;
    let page = MessagePage {
        heading: t.get("sso.logout.title").to_owned(),
        text: t.get("sso.logout.done").to_owned(),
        link: "/connexion".into(),
        link_text: t.get("login.title").to_owned(),
        c,
    };
    Ok(render(&v, StatusCode::OK, &page))
}

#[derive(Debug, Default, Deserialize)]
pub struct ValidateQuery {
    service: Option<String>,
    ticket: Option<String>,
}

/// `/cas/serviceValidate` (CAS 2.0 answer: the user only).
pub async fn service_validate(
    State(app): State<Arc<App>>,
    lang: Lang,
    Query(q): Query<ValidateQuery>,
) -> Result<Response, WebError> {
    validate(&app, lang, q, false).await
}

/// `/cas/p3/serviceValidate` (CAS 3.0: with the attributes).
pub async fn p3_service_validate(
    State(app): State<Arc<App>>,
    lang: Lang,
    Query(q): Query<ValidateQuery>,
) -> Result<Response, WebError> {
    validate(&app, lang, q, true).await
}

async fn validate(app: &App, lang: Lang, q: ValidateQuery, attributes: bool) -> Result<Response, WebError> {
    let sso = provider(app, lang)?;
    let (service, ticket) = (q.service.unwrap_or_default(), q.ticket.unwrap_or_default());
    let outcome = sso.validate_ticket(&service, &ticket).await.map_err(|e| WebError::internal(&e))?;
    let xml = service_response(&outcome, &ticket, attributes);
    Ok(([(header::CONTENT_TYPE, "application/xml; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], xml)
        .into_response())
}

/// The `<cas:serviceResponse>` document.
fn service_response(outcome: &Result<CasSuccess, CasFailure>, ticket: &str, attributes: bool) -> String {
    let mut x = String::from("<cas:serviceResponse xmlns:cas=\"http://www.yale.edu/tp/cas\">\n");
    match outcome {
        Ok(s) => {
            x.push_str("  <cas:authenticationSuccess>\n");
            x.push_str(&format!("    <cas:user>{}</cas:user>\n", escape(s.user.as_str())));
            if attributes {
                x.push_str("    <cas:attributes>\n");
                for (k, v) in &s.attributes {
                    x.push_str(&format!("      <cas:{k}>{}</cas:{k}>\n", escape(v.as_str())));
                }
                x.push_str("    </cas:attributes>\n");
            }
            x.push_str("  </cas:authenticationSuccess>\n");
        }
        Err(f) => {
            let shown: String = ticket.chars().filter(|c| c.is_ascii_graphic()).take(64).collect();
            let text = match f {
                CasFailure::InvalidRequest => "service and ticket are required".to_owned(),
                CasFailure::InvalidTicket => format!("Ticket {shown} not recognized"),
                CasFailure::InvalidService => format!("Ticket {shown} was not issued for this service"),
            };
            x.push_str(&format!(
                "  <cas:authenticationFailure code=\"{}\">{}</cas:authenticationFailure>\n",
                f.code(),
                escape(text.as_str())
            ));
        }
    }
    x.push_str("</cas:serviceResponse>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_response_is_escaped_and_p3_carries_attributes() {
        let ok = Ok(CasSuccess { user: "a&b@x.fr".into(), attributes: vec![("displayName", "<Claire>".into())] });
        let x = service_response(&ok, "ST-1", true);
        assert!(x.contains("<cas:user>a&amp;b@x.fr</cas:user>"), "{x}");
        assert!(x.contains("<cas:displayName>&lt;Claire&gt;</cas:displayName>"), "{x}");
        assert!(!service_response(&ok, "ST-1", false).contains("cas:attributes"));
        let bad = service_response(&Err(CasFailure::InvalidTicket), "ST-<x>", true);
        assert!(bad.contains("code=\"INVALID_TICKET\">Ticket ST-&lt;x&gt; not recognized"), "{bad}");
    }
}
