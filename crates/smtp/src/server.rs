//! The listener loop and the per-connection driver (plain text, then TLS if asked).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tracing::Instrument;

use crate::conn::{Conn, wait_for_shutdown};
use crate::mx::Mx;
use crate::session::{Ending, Session, Stage};
use crate::{MailSink, SmtpConfig};

/// How long sessions may take to finish once shutdown is requested.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// How long the "too many connections" refusal may take to write.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after a failed accept (descriptor exhaustion...), to avoid spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Accepts SMTP connections until `shutdown` turns true (or its sender is dropped).
///
/// At most `cfg.max_connections` sessions run at once, and at most
/// `cfg.admission`'s share from one address; extra clients get `421 4.7.0` and
/// are closed. Accepted streams are wrapped in [`net::QuickAck`], so that a
/// command split across two segments is not held back by a delayed ACK. On shutdown the listener stops accepting, every session
/// answers `421 4.3.2` at its next read (deliveries under way are finished first), and
/// this function returns once they are all gone or after a grace period.
pub async fn serve(
    listener: TcpListener,
    cfg: Arc<SmtpConfig>,
    sink: Arc<impl MailSink>,
    tls: Option<TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(cfg.max_connections));
    let mut sessions = JoinSet::new();
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, starttls = tls.is_some(), "SMTP listening");
    }
    loop {
        let accepted = tokio::select! {
            _ = wait_for_shutdown(&mut shutdown) => break,
            accepted = listener.accept() => accepted,
        };
        while sessions.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let span = tracing::info_span!("smtp", peer = %peer);
        let Some(slot) = cfg.admission.from_ip(peer.ip()) else {
            tracing::warn!(parent: &span, "too many connections from this address, refusing");
            sessions.spawn(refuse_busy(stream, cfg.hostname.clone(), BUSY_ADDRESS).instrument(span));
            continue;
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(parent: &span, "too many connections, refusing");
            sessions.spawn(refuse_busy(stream, cfg.hostname.clone(), BUSY).instrument(span));
            continue;
        };
        let live = net::Live::open("smtp");
        let (cfg, sink, tls, shutdown) = (cfg.clone(), sink.clone(), tls.clone(), shutdown.clone());
        sessions.spawn(
            async move {
                tracing::debug!("connection accepted");
                let stream = net::QuickAck::new(stream);
                handle_connection(stream, peer.ip(), &cfg, &*sink, tls.as_ref(), shutdown).await;
                drop((permit, slot, live));
            }
            .instrument(span),
        );
    }
    drop(listener);
    tracing::info!(sessions = sessions.len(), "SMTP listener stopped, waiting for sessions");
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async { while sessions.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(sessions = sessions.len(), "sessions still running after the grace period, aborting them");
        sessions.abort_all();
    }
}

/// Runs one SMTP connection on any stream, upgrading it in place on STARTTLS.
///
/// `tls` enables STARTTLS; `remote_ip` is recorded in the envelope and the trace
/// header. Returns when the connection is over; nothing is delivered unless a message
/// was complete and answered with 250.
pub async fn handle_connection<S, K>(
    stream: S,
    remote_ip: IpAddr,
    cfg: &SmtpConfig,
    sink: &K,
    tls: Option<&TlsAcceptor>,
    shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    K: MailSink,
{
    let conn = Conn::new(stream, cfg.idle_timeout, shutdown.clone());
    let stage = Stage { cfg, remote_ip, tls: false, can_starttls: tls.is_some() };
    let Ending::StartTls(stream) = Session::new(conn, stage, Mx(sink)).run(true).await else {
        return;
    };
    let Some(acceptor) = tls else {
        return;
    };
    let tls_stream = match tokio::time::timeout(cfg.idle_timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls_stream)) => tls_stream,
        Ok(Err(error)) => {
            tracing::info!(%error, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::info!("TLS handshake timed out");
            return;
        }
    };
    tracing::debug!("TLS established");
    let conn = Conn::new(tls_stream, cfg.idle_timeout, shutdown);
    // RFC 3207: the session starts afresh, without a greeting, and cannot upgrade twice.
    let stage = Stage { cfg, remote_ip, tls: true, can_starttls: false };
    let _ = Session::new(conn, stage, Mx(sink)).run(false).await;
}

/// The refusal when every connection is taken.
pub(crate) const BUSY: &str = "Too many connections, try again later";
/// The refusal when the client's address holds its share of connections.
pub(crate) const BUSY_ADDRESS: &str =
    "Trop de connexions depuis votre adresse / Too many connections from your address, try again later";

/// Tells a client over a connection limit to come back later.
pub(crate) async fn refuse_busy(mut stream: TcpStream, hostname: String, why: &str) {
    let reply = format!("421 4.7.0 {hostname} {why}\r\n");
    let _ = tokio::time::timeout(REFUSAL_TIMEOUT, async {
        stream.write_all(reply.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}
