//! The router and the listeners: plain HTTP (the demo on 127.0.0.1, or
//! behind a TLS proxy) and HTTPS with rustls. TLS handshakes run in their own
//! tasks, so a slow client never holds up the others.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::Connected;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::{IncomingStream, Listener};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::pages::{account, login, reset};
use crate::{App, headers};

const CSS: &str = include_str!("../static/ardoise.css");
/// Longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);
/// TLS handshakes in progress at once.
const HANDSHAKES: usize = 256;

/// The client's address, as the handlers see it (plain or TLS alike).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl Connected<IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// Every route of the web service.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(login::root))
        .route("/connexion", get(login::login_page).post(login::login_post))
        .route("/connexion/code", get(login::totp_page).post(login::totp_post))
        .route("/premiere-connexion", get(login::first_page).post(login::first_post))
        .route("/2fa/activer", get(login::enrol_page).post(login::enrol_post))
        .route("/2fa/qr.svg", get(login::enrol_qr))
        .route("/deconnexion", post(login::logout))
        .route("/mot-de-passe-oublie", get(reset::forgot_page).post(reset::forgot_post))
        .route("/mot-de-passe/reinitialiser", get(reset::reset_page).post(reset::reset_post))
        .route("/accueil", get(account::home))
        .route("/securite", get(account::security))
        .route("/securite/mot-de-passe", get(account::password_page).post(account::password_post))
        .route("/securite/2fa/desactiver", post(account::totp_off))
        .route("/securite/applications", post(account::app_create))
        .route("/securite/applications/{id}/revoquer", post(account::app_revoke))
        .route("/securite/sessions/fin", post(account::session_end))
        .route("/static/ardoise.css", get(css))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .merge(crate::mail::routes())
        .fallback(not_found)
        .layer(axum::middleware::map_response(headers::secure))
        // Forms are small; 2 MB lets an oversized password reach the login
        // function, which refuses and journals it before any hashing.
        .layer(axum::extract::DefaultBodyLimit::max(2 << 20))
        // Added after the layers: the mail frame sets its own headers (a CSP
        // of its own, framing by our pages allowed).
        .merge(crate::mail::framed_routes())
        .with_state(app)
}

async fn css() -> Response {
    let mut resp = ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    resp
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "Page introuvable / Page not found")
        .into_response()
}

/// Serves plain HTTP on `listener` until `shutdown` turns true.
pub async fn serve(listener: TcpListener, app: Arc<App>, mut shutdown: watch::Receiver<bool>) {
    let service = router(app).into_make_service_with_connect_info::<Peer>();
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
        // Open event streams would hold the graceful shutdown up forever.
        crate::mail::events::close_streams();
    };
    if let Err(e) = axum::serve(listener, service).with_graceful_shutdown(stop).await {
        tracing::warn!(error = %e, "web listener failed");
    }
}

/// Serves HTTPS on `listener` until `shutdown` turns true.
pub async fn serve_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Arc<App>,
    mut shutdown: watch::Receiver<bool>,
) {
    let local = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "web TLS listener has no address");
            return;
        }
    };
    let (tx, rx) = mpsc::channel(64);
    let accepting = tokio::spawn(accept_tls(listener, acceptor, tx, shutdown.clone()));
    let tls = TlsListener { rx, local };
    let service = router(app)
        .layer(axum::middleware::map_response(headers::strict_transport))
        .into_make_service_with_connect_info::<Peer>();
    let stop = async move {
        let _ = shutdown.wait_for(|s| *s).await;
        // Open event streams would hold the graceful shutdown up forever.
        crate::mail::events::close_streams();
    };
    if let Err(e) = axum::serve(tls, service).with_graceful_shutdown(stop).await {
        tracing::warn!(error = %e, "web TLS listener failed");
    }
    accepting.abort();
}

/// Accepts TCP connections and hands over those whose handshake succeeded.
async fn accept_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    tx: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
    mut shutdown: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(HANDSHAKES));
    loop {
        let accepted = tokio::select! {
            _ = shutdown.wait_for(|s| *s) => return,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!(error = %e, "web accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let (acceptor, tx) = (acceptor.clone(), tx.clone());
        tokio::spawn(async move {
            if let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                let _ = tx.send((tls, peer)).await;
            }
            drop(permit);
        });
    }
}

/// Connections whose TLS handshake is done, for `axum::serve`.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(pair) => pair,
            // The accepting task ended (shutdown): wait for the graceful stop.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
