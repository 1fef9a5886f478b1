//! Submission listeners: port 587 style (STARTTLS, required before AUTH) and
//! port 465 style (implicit TLS, RFC 8314).

use std::net::IpAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tracing::Instrument;

use crate::conn::{Conn, wait_for_shutdown};
use crate::server::{BUSY_ADDRESS, refuse_busy};
use crate::session::{Ending, Session, Stage};
use crate::submission::Submission;
use crate::{SmtpConfig, SubmissionSink};

/// Accepts submission connections until `shutdown` turns true. With
/// `implicit_tls` the TLS handshake comes first; otherwise clients must use
/// STARTTLS before they may authenticate. The per-address cap of
/// `cfg.admission` applies, and accepted streams are wrapped in
/// [`net::QuickAck`] (under TLS, so that the handshake benefits too).
pub async fn serve_submission(
    listener: TcpListener,
    cfg: Arc<SmtpConfig>,
    sink: Arc<impl SubmissionSink>,
    tls: TlsAcceptor,
    implicit_tls: bool,
    mut shutdown: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(cfg.max_connections));
    let mut sessions = JoinSet::new();
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, implicit_tls, "submission listening");
    }
    loop {
        let accepted = tokio::select! {
            _ = wait_for_shutdown(&mut shutdown) => break,
            accepted = listener.accept() => accepted,
        };
        while sessions.try_join_next().is_some() {}
        let Ok((stream, peer)) = accepted else {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let span = tracing::info_span!("submission", peer = %peer);
        let Some(slot) = cfg.admission.from_ip(peer.ip()) else {
            tracing::warn!(parent: &span, "too many submission connections from this address, refusing");
            if !implicit_tls {
                sessions.spawn(refuse_busy(stream, cfg.hostname.clone(), BUSY_ADDRESS).instrument(span));
            }
            continue;
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "too many submission connections, closing");
            continue;
        };
        let live = net::Live::open("submission");
        let (cfg, sink, tls, shutdown) = (cfg.clone(), sink.clone(), tls.clone(), shutdown.clone());
        sessions.spawn(
            async move {
                let stream = net::QuickAck::new(stream);
                handle_submission(stream, peer.ip(), &cfg, &*sink, &tls, implicit_tls, shutdown).await;
                drop((permit, slot, live));
            }
            .instrument(span),
        );
    }
    drop(listener);
    let drain = async { while sessions.join_next().await.is_some() {} };
    if tokio::time::timeout(std::time::Duration::from_secs(30), drain).await.is_err() {
        sessions.abort_all();
    }
}

/// Runs one submission connection on any stream.
pub async fn handle_submission<S, K>(
    stream: S,
    remote_ip: IpAddr,
    cfg: &SmtpConfig,
    sink: &K,
    tls: &TlsAcceptor,
    implicit_tls: bool,
    shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    K: SubmissionSink,
{
    let stream = if implicit_tls {
        stream
    } else {
        let conn = Conn::new(stream, cfg.idle_timeout, shutdown.clone());
        let stage = Stage { cfg, remote_ip, tls: false, can_starttls: true };
        match Session::new(conn, stage, Submission(sink)).run(true).await {
            Ending::StartTls(stream) => stream,
            Ending::Closed => return,
        }
    };
    let tls_stream = match tokio::time::timeout(cfg.idle_timeout, tls.accept(stream)).await {
        Ok(Ok(s)) => s,
        Ok(Err(error)) => {
            tracing::info!(%error, "TLS handshake failed");
            return;
        }
        Err(_) => return,
    };
    let conn = Conn::new(tls_stream, cfg.idle_timeout, shutdown);
    // After STARTTLS no new greeting is due; with implicit TLS it is.
    let stage = Stage { cfg, remote_ip, tls: true, can_starttls: false };
    let _ = Session::new(conn, stage, Submission(sink)).run(implicit_tls).await;
}
