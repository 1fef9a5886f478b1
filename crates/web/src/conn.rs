//! Admission and the life of one HTTP connection.
//!
//! `axum::serve` keeps every accepted connection for as long as the client
//! likes: 1,100 connections that each sent half a request head held the
//! process's file descriptors, and every service (SMTP and IMAP too) failed
//! with `Too many open files` (issue 25, item 13). So the listener drives
//! hyper's HTTP/1 connections itself: a request head must arrive within
//! [`Limits::header_read_timeout`] (hyper starts that clock whenever it waits
//! for a head, so it also closes keep-alive connections left idle), and
//! connections are counted per client address (an IPv6 /64 counts as one)
//! and overall, refusing above either cap.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower_service::Service;

use crate::base::Peer;

/// How many connections a web listener keeps, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once on one listener.
    pub max_connections: usize,
    /// Connections open at once from one address (an IPv6 /64 is one address).
    pub max_connections_per_ip: usize,
    /// Longest wait for a complete request head, the first one or the next
    /// one on a kept-alive connection.
    pub header_read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_connections: 4096, max_connections_per_ip: 256, header_read_timeout: Duration::from_secs(10) }
    }
}

/// Who may open one more connection: a global budget and a count per address.
pub(crate) struct Admission {
    global: Arc<Semaphore>,
    max: u32,
    per_ip: usize,
    counts: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection; dropping it gives its place back.
pub(crate) struct Ticket {
    _permit: OwnedSemaphorePermit,
    admission: Arc<Admission>,
    key: IpAddr,
}

impl Admission {
    pub(crate) fn new(limits: &Limits) -> Arc<Admission> {
        let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        Arc::new(Admission {
            global: Arc::new(Semaphore::new(max)),
            max: max as u32,
            per_ip: limits.max_connections_per_ip.max(1),
            counts: Mutex::new(HashMap::new()),
        })
    }

    /// A place for a connection from `ip`, or `None` above either cap. A
    /// trusted reverse proxy (`proxy`) carries everyone's connections: only
    /// the global cap applies to it.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr, proxy: bool) -> Option<Ticket> {
        let permit = self.global.clone().try_acquire_owned().ok()?;
        let key = group(ip);
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let n = counts.entry(key).or_insert(0);
        if *n >= self.per_ip && !proxy {
            return None;
        }
        *n += 1;
        Some(Ticket { _permit: permit, admission: self.clone(), key })
    }

    /// Waits until every admitted connection has ended.
    pub(crate) async fn drained(&self) {
        let _ = self.global.acquire_many(self.max).await;
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut counts = self.admission.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = counts.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// The address a connection is counted under: IPv4 as is (also when mapped
/// into IPv6), IPv6 by its /64, which one subscriber usually holds whole.
fn group(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
    }
}

/// Serves HTTP/1 requests on `io` with `router` until the client leaves, a
/// timeout closes it, or `shutdown` turns true (then the request in progress
/// finishes first).
pub(crate) async fn drive<I>(
    io: I,
    peer: SocketAddr,
    router: Router,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        // What `ConnectInfo<Peer>` extracts in the handlers.
        req.extensions_mut().insert(ConnectInfo(Peer(peer)));
        let mut router = router.clone();
        async move { router.call(req).await }
    });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let stopping = async {
        // The guard `wait_for` returns must not live across the awaits below.
        let _ = shutdown.wait_for(|s| *s).await.map(|_| ());
    };
    tokio::select! {
        done = conn.as_mut() => {
            if let Err(e) = done {
                tracing::debug!(error = %e, "web connection ended");
            }
            return;
        }
        () = stopping => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(total: usize, per_ip: usize) -> Limits {
        Limits { max_connections: total, max_connections_per_ip: per_ip, ..Limits::default() }
    }

    #[test]
    fn caps_per_address_and_overall() {
        let a = Admission::new(&limits(3, 2));
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        let two: IpAddr = "192.0.2.2".parse().unwrap();
        let first = a.admit(one, false).unwrap();
        let _second = a.admit(one, false).unwrap();
        assert!(a.admit(one, false).is_none(), "third from one address");
        let _other = a.admit(two, false).unwrap();
        assert!(a.admit("192.0.2.3".parse().unwrap(), false).is_none(), "over the global cap");
        drop(first);
        assert!(a.admit(one, false).is_some(), "a place given back is reusable");
    }

    #[test]
    fn a_trusted_proxy_is_held_only_to_the_global_cap() {
        let a = Admission::new(&limits(3, 1));
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let _held: Vec<_> = (0..3).map(|_| a.admit(proxy, true).expect("a proxy carries many clients")).collect();
        assert!(a.admit(proxy, true).is_none(), "over the global cap");
    }

    #[test]
    fn an_ipv6_64_is_one_address() {
        let a = Admission::new(&limits(10, 2));
        let _x = a.admit("2001:db8:1:2::1".parse().unwrap(), false).unwrap();
        let _y = a.admit("2001:db8:1:2:ffff::9".parse().unwrap(), false).unwrap();
        assert!(a.admit("2001:db8:1:2:abcd::1".parse().unwrap(), false).is_none());
        assert!(a.admit("2001:db8:1:3::1".parse().unwrap(), false).is_some());
        assert_eq!(group("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7".parse::<IpAddr>().unwrap());
    }
}
