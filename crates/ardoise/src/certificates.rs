//! The server's certificate: the `[tls]` pair (or the generated one), or,
//! with `[acme] directory`, one kept valid by the ACME keeper, which every
//! TLS port presents from its next handshake on.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

/// The ACME keeper of `[acme]`, when configured, its kept certificate
/// already installed in `certs` if still good.
pub fn acme(cfg: &config::Config, certs: &net::Certificates) -> Option<Arc<acme::Acme>> {
    if cfg.acme.directory.is_empty() {
        return None;
    }
    let names = if cfg.acme.names.is_empty() { vec![cfg.server.hostname.clone()] } else { cfg.acme.names.clone() };
    let keeper = Arc::new(acme::Acme::new(acme::Settings {
        directory: cfg.acme.directory.clone(),
        contact: cfg.acme.contact.clone(),
        names,
        root: cfg.acme.root_certificate.clone(),
        renew_before: std::time::Duration::from_secs(cfg.acme.renew_before_secs),
        dir: cfg.server.data_dir.join("acme"),
        methods: methods(cfg),
    }));
    if keeper.install_kept(certs) {
        tracing::info!("ACME: the certificate obtained earlier is in service");
    }
    Some(keeper)
}

/// How names are proved, preferred first (`[acme] challenge`): HTTP-01 on
/// the plain web listeners, TLS-ALPN-01 on the HTTPS ones; `auto` offers
/// each one whose listener exists, HTTP-01 first.
fn methods(cfg: &config::Config) -> Vec<acme::Method> {
    let (plain, tls) = (!cfg.web.listen.is_empty(), !cfg.web.listen_tls.is_empty());
    match cfg.acme.challenge {
        config::AcmeChallenge::Http01 => vec![acme::Method::Http01],
        config::AcmeChallenge::TlsAlpn01 => vec![acme::Method::TlsAlpn01],
        config::AcmeChallenge::Auto => [(plain, acme::Method::Http01), (tls, acme::Method::TlsAlpn01)]
            .into_iter()
            .filter_map(|(listener, method)| listener.then_some(method))
            .collect(),
    }
}

/// `GET /.well-known/acme-challenge/{token}` (RFC 8555 section 8.3), on
/// every web listener, outside the sessions: the key authorization while an
/// order waits for it, 404 otherwise.
pub fn challenge_router(challenges: Arc<acme::Challenges>) -> axum::Router {
    axum::Router::new().route("/.well-known/acme-challenge/{token}", axum::routing::get(answer)).with_state(challenges)
}

async fn answer(
    State(challenges): State<Arc<acme::Challenges>>,
    Path(token): Path<String>,
) -> axum::response::Response {
    match challenges.answer(&token) {
        Some(key_authorization) => {
            ([(header::CONTENT_TYPE, "application/octet-stream")], key_authorization).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
