//! Listeners: STARTTLS on a cleartext port, or TLS from the first byte.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use identity::Identity;
use mailstore::Mailstore;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tracing::Instrument;

use crate::ImapConfig;
use crate::session::{Ending, Session};

/// How long sessions may take to finish once shutdown is requested.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// What IMAP sessions work with: the mail domain, and the identity service
/// that decides every login (its policy is its own, whatever else is wired).
#[derive(Clone)]
pub struct Services {
    pub mail: Arc<Mailstore>,
    pub identity: Arc<Identity>,
}

/// Accepts IMAP connections until `shutdown` turns true. With `implicit_tls`
/// every connection starts with a TLS handshake (port 993); otherwise the
/// connection starts in clear text and `tls` enables STARTTLS (port 143).
pub async fn serve(
    listener: TcpListener,
    cfg: Arc<ImapConfig>,
    services: Services,
    tls: Option<TlsAcceptor>,
    implicit_tls: bool,
    mut shutdown: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(cfg.max_connections));
    let mut sessions = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => break,
            accepted = listener.accept() => accepted,
        };
        while sessions.try_join_next().is_some() {}
        let (mut stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let span = tracing::info_span!("imap", peer = %peer, tls = implicit_tls);
        let Some(ip_slot) = cfg.admission.from_ip(peer.ip()) else {
            tracing::warn!(parent: &span, "too many connections from this address, refusing");
            drop(stream);
            continue;
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(parent: &span, "too many connections, refusing");
            sessions.spawn(async move {
                let _ = stream.write_all(b"* BYE [UNAVAILABLE] Too many connections, try again later\r\n").await;
            });
            continue;
        };
        let live = net::Live::open("imap");
        let (cfg, services, tls, shutdown) = (cfg.clone(), services.clone(), tls.clone(), shutdown.clone());
        // Every idle connection keeps its task for as long as it stays: the
        // handshake and the session are boxed futures of their own, so that
        // the task holds only what is alive (the handshake's state is freed
        // once done, and the session's is not doubled by unused slots).
        sessions.spawn(
            async move {
                // Quick ACKs re-armed after every read: a command split across two
                // segments (an APPEND literal and its final CRLF) is not held back
                // ~40 ms by a delayed ACK. Wrapped under TLS, so the handshake too.
                let stream = net::QuickAck::new(stream);
                if implicit_tls {
                    let Some(acceptor) = tls else { return };
                    let run = match Box::pin(tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream))).await {
                        Ok(Ok(tls_stream)) => Box::pin(
                            Session::new(tls_stream, &cfg, services, true, false, false, shutdown)
                                .with_peer(peer.ip())
                                .run(true),
                        ),
                        Ok(Err(error)) => return tracing::info!(%error, "TLS handshake failed"),
                        Err(_) => return tracing::info!("TLS handshake timed out"),
                    };
                    let _ = run.await;
                } else {
                    Box::pin(handle_connection(stream, peer.ip(), &cfg, services, tls.as_ref(), shutdown)).await;
                }
                drop(permit);
                drop(ip_slot);
                drop(live);
            }
            .instrument(span),
        );
    }
    drop(listener);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async { while sessions.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        sessions.abort_all();
    }
}

/// Runs one cleartext connection, upgrading it in place on STARTTLS.
pub async fn handle_connection<S>(
    stream: S,
    remote_ip: IpAddr,
    cfg: &ImapConfig,
    services: Services,
    tls: Option<&TlsAcceptor>,
    shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let loopback = remote_ip.is_loopback();
    let cleartext = Box::pin(
        Session::new(stream, cfg, services.clone(), false, tls.is_some(), loopback, shutdown.clone())
            .with_peer(remote_ip)
            .run(true),
    );
    let Ending::StartTls(stream) = cleartext.await else {
        return;
    };
    let Some(acceptor) = tls else { return };
    let run = match Box::pin(tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream))).await {
        // RFC 9051 section 6.2.1: no new greeting after the handshake.
        Ok(Ok(tls_stream)) => Box::pin(
            Session::new(tls_stream, cfg, services, true, false, loopback, shutdown).with_peer(remote_ip).run(false),
        ),
        Ok(Err(error)) => return tracing::info!(%error, "TLS handshake failed"),
        Err(_) => return tracing::info!("TLS handshake timed out"),
    };
    let _ = run.await;
}
