//! The listener: connections in clear text, upgraded in place by STARTTLS
//! (RFC 5804 has no implicit-TLS port), under a global cap and one per
//! client address.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tracing::Instrument;

use crate::session::{Ending, Session};
use crate::{Config, Services};

/// How long sessions may take to finish once shutdown is requested.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Accepts ManageSieve connections until `shutdown` turns true; `tls`
/// enables STARTTLS.
pub async fn serve(
    listener: TcpListener,
    cfg: Arc<Config>,
    services: Services,
    tls: Option<TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(cfg.max_connections));
    let admission = net::Admission::new(cfg.max_connections_per_ip, usize::MAX);
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
        let span = tracing::info_span!("managesieve", peer = %peer);
        let Some(ip_slot) = admission.from_ip(peer.ip()) else {
            tracing::warn!(parent: &span, "too many connections from this address, refusing");
            continue;
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(parent: &span, "too many connections, refusing");
            sessions.spawn(async move {
                let _ = stream.write_all(b"BYE \"Trop de connexions / Too many connections\"\r\n").await;
            });
            continue;
        };
        let live = net::Live::open("managesieve");
        let (cfg, services, tls, shutdown) = (cfg.clone(), services.clone(), tls.clone(), shutdown.clone());
        sessions.spawn(
            async move {
                Box::pin(handle_connection(stream, peer.ip(), &cfg, services, tls.as_ref(), shutdown)).await;
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

/// Runs one connection, upgrading it in place on STARTTLS.
pub async fn handle_connection<S>(
    stream: S,
    peer: IpAddr,
    cfg: &Config,
    services: Services,
    tls: Option<&TlsAcceptor>,
    shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let cleartext = Session::new(stream, cfg, services.clone(), peer, false, tls.is_some(), shutdown.clone());
    let Ending::StartTls(stream) = Box::pin(cleartext.run()).await else {
        return;
    };
    let Some(acceptor) = tls else { return };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        // RFC 5804 section 2.2: the capabilities again, then OK.
        Ok(Ok(tls_stream)) => {
            let _ = Box::pin(Session::new(tls_stream, cfg, services, peer, true, false, shutdown).run()).await;
        }
        Ok(Err(error)) => tracing::info!(%error, "TLS handshake failed"),
        Err(_) => tracing::info!("TLS handshake timed out"),
    }
}
