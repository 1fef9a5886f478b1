//! Open sessions kept between messages to the same server.
//!
//! A queue of 20,000 messages to one partner domain would otherwise cost
//! 20,000 TCP connections, EHLOs and TLS handshakes. After a transaction
//! that left the session clean, the runner puts it back here; the next
//! message for the same server address (and the same TLS choice) takes it.
//! A session is used for at most [`MAX_USES`] transactions and kept idle for
//! at most [`MAX_IDLE`]; at most [`MAX_PER_SERVER`] wait per server. The
//! runner calls [`Sessions::expire`] on each pass, so nothing idles for long.
//!
//! A kept session may have been closed by the server meanwhile: the runner
//! then opens a fresh one, which is safe because the message had not been
//! sent on the stale session (see [`crate::client::Session::send`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use crate::client::Session;

/// Transactions on one session before it is closed.
pub const MAX_USES: u32 = 100;
/// How long a session may wait unused.
pub const MAX_IDLE: Duration = Duration::from_secs(5);
/// Idle sessions kept per server.
pub const MAX_PER_SERVER: usize = 20;

/// Where a session goes: the server's address and whether TLS was tried.
type Key = (SocketAddr, bool);

/// The idle sessions, by server.
#[derive(Default)]
pub struct Sessions {
    idle: Mutex<HashMap<Key, Vec<Session>>>,
}

impl Sessions {
    /// A session to `addr` that is still fresh, if one waits.
    pub fn take(&self, addr: SocketAddr, tls: bool) -> Option<Session> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.get_mut(&(addr, tls))?;
        // The most recently used first: the likeliest to be still open.
        while let Some(s) = list.pop() {
            if s.idle_since.elapsed() < MAX_IDLE {
                return Some(s);
            }
        }
        None
    }

    /// Keeps `session` for the next message to `addr`, or closes it when it
    /// has served enough or enough sessions already wait.
    pub async fn put(&self, addr: SocketAddr, tls: bool, session: Session) {
        let refused = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let list = idle.entry((addr, tls)).or_default();
            if session.uses < MAX_USES && list.len() < MAX_PER_SERVER {
                list.push(session);
                None
            } else {
                Some(session)
            }
        };
        if let Some(s) = refused {
            s.quit().await;
        }
    }

    /// Closes the sessions that waited too long.
    pub async fn expire(&self) {
        let stale: Vec<Session> = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let mut stale = Vec::new();
            for list in idle.values_mut() {
                let (old, fresh): (Vec<_>, Vec<_>) = list.drain(..).partition(|s| s.idle_since.elapsed() >= MAX_IDLE);
                *list = fresh;
                stale.extend(old);
            }
            idle.retain(|_, list| !list.is_empty());
            stale
        };
        for s in stale {
            s.quit().await;
        }
    }
}
