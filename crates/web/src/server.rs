//! The router and the listeners: plain HTTP (the demo on 127.0.0.1, or
//! behind a TLS proxy) and HTTPS with rustls. TLS handshakes run in their own
//! tasks, so a slow client never holds up the others. Connections are
//! admitted and timed as [`crate::conn`] explains.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

pub use crate::base::Peer;
use crate::base::WebError;
use crate::base::i18n::Lang;
use crate::base::proxy::TrustedProxies;
use crate::conn::{Admission, Limits, drive};
use crate::pages::setup::{guide, outlook, thunderbird};
use crate::pages::{account, health, help, login, passkeys, reset, upstream};
use crate::{App, headers};

const CSS: &str = include_str!("../static/ardoise.css");
/// Longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);
/// TLS handshakes in progress at once.
const HANDSHAKES: usize = 256;
/// Pause after a failed accept (descriptors exhausted...), so the loop never spins.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// The answer to a connection over the caps (plain HTTP only).
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Length: 47\r\nConnection: close\r\nRetry-After: 5\r\n\r\nServeur occup\xc3\xa9 / Server busy, try again later\n";

/// Every route of the web service.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(login::root))
        .route("/connexion", get(login::login_page).post(login::login_post))
        .route("/connexion/code", get(login::totp_page).post(login::totp_post))
        .route("/connexion/cle/defi", post(passkeys::login_challenge))
        .route("/connexion/cle", post(passkeys::login))
        .route("/connexion/code/cle/defi", post(passkeys::second_challenge))
        .route("/connexion/code/cle", post(passkeys::second))
        .route("/connexion/externe/{id}", get(upstream::begin))
        .route("/connexion/externe/{id}/retour", get(upstream::finish))
        .route("/premiere-connexion", get(login::first_page).post(login::first_post))
        .route("/2fa/activer", get(login::enrol_page).post(login::enrol_post))
        .route("/2fa/qr.svg", get(login::enrol_qr))
        .route("/deconnexion", post(login::logout))
        .route("/mot-de-passe-oublie", get(reset::forgot_page).post(reset::forgot_post))
        .route("/mot-de-passe/reinitialiser", get(reset::reset_page).post(reset::reset_post))
        .route("/accueil", get(account::home))
        .route("/securite", get(account::security))
        .route("/aide", get(help::help))
        .route("/securite/mot-de-passe", get(account::password_page).post(account::password_post))
        .route("/securite/2fa/desactiver", post(account::totp_off))
        .route("/securite/applications", post(account::app_create))
        .route("/securite/applications/{id}/revoquer", post(account::app_revoke))
        .route("/securite/sessions/fin", post(account::session_end))
        .route("/securite/cles/defi", post(passkeys::register_challenge))
        .route("/securite/cles", post(passkeys::register))
        .route("/securite/cles/{id}/revoquer", post(passkeys::revoke))
        .route("/aide/configuration", get(guide::guide))
        .route("/aide/configuration/ardoise.mobileconfig", get(guide::apple_profile))
        // Asked by mail clients before any login (pages::setup says what they may learn).
        .route("/.well-known/autoconfig/mail/config-v1.1.xml", get(thunderbird::config))
        .route("/mail/config-v1.1.xml", get(thunderbird::config))
        .route("/autodiscover/autodiscover.xml", post(outlook::pox).layer(outlook_limit()))
        .route("/Autodiscover/Autodiscover.xml", post(outlook::pox).layer(outlook_limit()))
        .route("/autodiscover/autodiscover.json/v1.0/{address}", get(outlook::json))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/static/ardoise.css", get(css))
        .route("/static/cle.js", get(passkey_js))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .merge(crate::mail::routes())
        .merge(crate::agenda::routes())
        .merge(crate::annuaire::routes())
        .merge(crate::idp::routes())
        .merge(crate::admin::routes())
        .merge(crate::partage::routes())
        .fallback(not_found)
        .layer(axum::middleware::map_response(headers::secure))
        // Forms are small; 2 MB lets an oversized password reach the login
        // function, which refuses and journals it before any hashing.
        .layer(axum::extract::DefaultBodyLimit::max(2 << 20))
        // Added after the layers: the mail frame sets its own headers (a CSP
        // of its own, framing by our pages allowed).
        .merge(crate::mail::framed_routes())
        // Outermost: every handler's `WebError` becomes the error page here.
        .layer(axum::middleware::from_fn_with_state(app.clone(), crate::base::error::render_errors))
        // HTTPS through a trusted proxy gets HSTS as our own TLS does.
        .layer(axum::middleware::from_fn_with_state(app.clone(), crate::base::proxy::strict_transport))
        .with_state(app)
}

/// Outlook's requests are small: a larger one is refused (413) before it is read.
fn outlook_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(outlook::MAX_REQUEST)
}

static CSS_ASSET: crate::base::assets::Asset = crate::base::assets::Asset::new(CSS, "text/css; charset=utf-8");

async fn css(headers: axum::http::HeaderMap) -> Response {
    CSS_ASSET.respond(&headers)
}

const PASSKEY_JS: &str = include_str!("../static/cle.js");
static PASSKEY_JS_ASSET: crate::base::assets::Asset =
    crate::base::assets::Asset::new(PASSKEY_JS, "text/javascript; charset=utf-8");

/// The passkey ceremonies' script (login, code step, Sécurité).
async fn passkey_js(headers: axum::http::HeaderMap) -> Response {
    PASSKEY_JS_ASSET.respond(&headers)
}

/// Any other path: the error page, in the language asked for.
async fn not_found(lang: Lang) -> WebError {
    WebError::not_found(lang)
}

/// Serves plain HTTP on `listener` until `shutdown` turns true.
pub async fn serve(listener: TcpListener, app: Arc<App>, shutdown: watch::Receiver<bool>) {
    serve_with(listener, app, Router::new(), shutdown).await;
}

/// Serves HTTPS on `listener` until `shutdown` turns true.
pub async fn serve_tls(listener: TcpListener, acceptor: TlsAcceptor, app: Arc<App>, shutdown: watch::Receiver<bool>) {
    serve_tls_with(listener, acceptor, app, Router::new(), shutdown).await;
}

/// Serves plain HTTP: the web's routes and `extra`'s, which stay outside
/// the web's layers (sessions, error pages, CSP): the DAV routes.
pub async fn serve_with(listener: TcpListener, app: Arc<App>, extra: Router, shutdown: watch::Receiver<bool>) {
    let (limits, proxies) = (app.cfg.limits, app.cfg.proxies.clone());
    run(listener, timed(router(app).merge(extra)), limits, proxies, None, shutdown).await;
}

/// Serves HTTPS: the web's routes and `extra`'s (see [`serve_with`]), with HSTS on both.
pub async fn serve_tls_with(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Arc<App>,
    extra: Router,
    shutdown: watch::Receiver<bool>,
) {
    let (limits, proxies) = (app.cfg.limits, app.cfg.proxies.clone());
    let router = router(app).merge(extra).layer(axum::middleware::map_response(headers::strict_transport));
    run(listener, timed(router), limits, proxies, Some(acceptor), shutdown).await;
}

/// Every request's time to its response head, by route pattern (never the
/// path itself: `/courrier/{mailbox}` is one series), method and status class.
fn timed(router: Router) -> Router {
    router.layer(axum::middleware::from_fn(time_request))
}

async fn time_request(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "(none)".to_owned(), |m| m.as_str().to_owned());
    let method = match *request.method() {
        axum::http::Method::GET => "GET",
        axum::http::Method::POST => "POST",
        axum::http::Method::HEAD => "HEAD",
        _ => "other",
    };
    let response = next.run(request).await;
    let status = match response.status().as_u16() {
        100..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics::histogram!("ardoise_http_request_seconds", "route" => route, "method" => method, "status" => status)
        .record(started.elapsed().as_secs_f64());
    response
}

/// The accept loop: admits connections within the caps, hands each to its
/// own task (TLS handshake first when `tls` is given), and on shutdown stops
/// accepting, ends the event streams and waits for the connections to finish.
async fn run(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    proxies: TrustedProxies,
    tls: Option<TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let admission = Admission::new(&limits);
    let handshakes = Arc::new(Semaphore::new(HANDSHAKES));
    loop {
        let accepted = tokio::select! {
            _ = shutdown.wait_for(|s| *s) => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of descriptors, most likely: wait instead of spinning.
                tracing::warn!(error = %e, "web accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let Some(ticket) = admission.admit(peer.ip(), proxies.trusts(peer.ip())) else {
            tracing::debug!(%peer, "web connection refused: too many connections");
            if tls.is_none() {
                // Best effort and never waiting: the socket is fresh, its buffer empty.
                let _ = stream.try_write(BUSY);
            }
            continue;
        };
        let stream = net::QuickAck::new(stream);
        let (router, stop) = (router.clone(), shutdown.clone());
        let live = net::Live::open("http");
        match &tls {
            None => {
                tokio::spawn(async move {
                    drive(stream, peer, router, limits, stop).await;
                    drop((ticket, live));
                });
            }
            Some(acceptor) => {
                let Ok(handshake) = handshakes.clone().try_acquire_owned() else { continue };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                    drop(handshake);
                    match tls {
                        // An ACME server's TLS-ALPN-01 check (RFC 8737): it saw the
                        // validation certificate; no HTTP on this connection.
                        Ok(Ok(mut tls)) if net::is_acme_tls(tls.get_ref().1.alpn_protocol()) => {
                            let _ = tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.shutdown()).await;
                        }
                        Ok(Ok(tls)) => drive(tls, peer, router, limits, stop).await,
                        _ => {}
                    }
                    drop((ticket, live));
                });
            }
        }
    }
    drop(listener);
    // Open event streams would hold the graceful shutdown up forever.
    crate::mail::events::close_streams();
    admission.drained().await;
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::extract::ConnectInfo;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpSocket;

    use super::*;

    /// Generous: these check what happens, not how fast.
    const PATIENCE: Duration = Duration::from_secs(20);

    async fn start(limits: Limits) -> (SocketAddr, watch::Sender<bool>, tokio::task::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new()
            .route("/", get(|ConnectInfo(peer): ConnectInfo<Peer>| async move { peer.0.ip().to_string() }));
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(listener, router, limits, TrustedProxies::default(), None, stopped));
        (addr, stop, task)
    }

    async fn connect_from(source: &str, to: SocketAddr) -> tokio::net::TcpStream {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
        socket.connect(to).await.unwrap()
    }

    /// Everything the server sends until it closes the connection.
    async fn until_closed(stream: &mut tokio::net::TcpStream) -> String {
        let mut out = Vec::new();
        let read = tokio::time::timeout(PATIENCE, async {
            let mut buf = [0u8; 1024];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => out.extend_from_slice(&buf[..n]),
                }
            }
        });
        read.await.expect("the server closed the connection");
        String::from_utf8_lossy(&out).into_owned()
    }

    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: test\r\n\r\n";

    #[tokio::test]
    async fn a_partial_head_and_an_idle_connection_are_closed() {
        let limits = Limits { header_read_timeout: Duration::from_millis(300), ..Limits::default() };
        let (addr, _stop, _task) = start(limits).await;
        let mut partial = connect_from("127.0.0.1", addr).await;
        partial.write_all(b"GET / HTTP/1.1\r\nHost: te").await.unwrap();
        let answer = until_closed(&mut partial).await;
        assert!(!answer.contains("200 OK"), "{answer}");
        // Kept alive after a full request, then left idle: closed too.
        let mut idle = connect_from("127.0.0.1", addr).await;
        idle.write_all(GET).await.unwrap();
        let answer = until_closed(&mut idle).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(answer.ends_with("127.0.0.1"), "the handler sees the peer: {answer}");
    }

    #[tokio::test]
    async fn connections_over_the_caps_are_refused() {
        let limits = Limits { max_connections: 3, max_connections_per_ip: 2, ..Limits::default() };
        let (addr, _stop, _task) = start(limits).await;
        let mut held = Vec::new();
        for _ in 0..2 {
            let mut s = connect_from("127.0.0.1", addr).await;
            s.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
            held.push(s);
        }
        let mut third = connect_from("127.0.0.1", addr).await;
        let answer = until_closed(&mut third).await;
        assert!(answer.starts_with("HTTP/1.1 503 "), "{answer}");
        // Another address still gets in, and is seen as itself.
        let mut other = connect_from("127.0.0.2", addr).await;
        other.write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").await.unwrap();
        let answer = until_closed(&mut other).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("127.0.0.2"), "{answer}");
        // The global cap: three held, a fourth address is refused.
        let mut from_three = connect_from("127.0.0.3", addr).await;
        from_three.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let mut fourth = connect_from("127.0.0.4", addr).await;
        assert!(until_closed(&mut fourth).await.starts_with("HTTP/1.1 503 "));
        // A place given back is taken again.
        drop(held.pop());
        let answer = tokio::time::timeout(PATIENCE, async {
            loop {
                let mut again = connect_from("127.0.0.1", addr).await;
                let _ = again.write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").await;
                let answer = until_closed(&mut again).await;
                if answer.contains("200 OK") {
                    return answer;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .expect("served once a place is free");
        assert!(answer.ends_with("127.0.0.1"));
    }

    #[tokio::test]
    async fn shutdown_ends_idle_connections_and_returns() {
        let (addr, stop, task) = start(Limits::default()).await;
        let mut idle = connect_from("127.0.0.1", addr).await;
        idle.write_all(GET).await.unwrap();
        let mut buf = [0u8; 256];
        let n = idle.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK"));
        stop.send(true).unwrap();
        tokio::time::timeout(PATIENCE, task).await.expect("the listener stopped").unwrap();
        until_closed(&mut idle).await;
    }
}
