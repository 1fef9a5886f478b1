//! ManageSieve (RFC 5804): putting, checking, listing and activating the
//! Sieve scripts that filter an account's mail, for Thunderbird's Sieve
//! add-on, Roundcube's managesieve plugin and other clients.
//!
//! - [`reader`] frames client lines without I/O (quoted strings, literals
//!   `{n+}` and `{n}`, every length capped: an absurd literal is refused
//!   before a byte of it is read).
//! - [`session`] is one conversation over any stream (tests drive it in
//!   memory), [`auth`] its AUTHENTICATE "PLAIN" through the identity
//!   service's one login, [`commands`] the authenticated state's commands,
//!   whose work the `filter` crate does; [`reply`] writes responses.
//! - [`server`] accepts connections, STARTTLS upgrading them in place.
//!
//! Like every adapter, this crate knows the domain (`filter`, `identity`)
//! and never the store or the configuration.

pub mod auth;
pub mod commands;
pub mod reader;
pub mod reply;
pub mod server;
pub mod session;

use std::sync::Arc;
use std::time::Duration;

pub use server::{handle_connection, serve};

/// What sessions work with: the filter service and the identity service
/// that decides every login.
#[derive(Clone)]
pub struct Services {
    pub filters: Arc<filter::Filters>,
    pub identity: Arc<identity::Identity>,
}

/// Settings of the ManageSieve listeners, resolved by the binary.
#[derive(Debug, Clone)]
pub struct Config {
    /// Bytes of a command line outside its literals.
    pub max_line: usize,
    /// Literals above the script size cap but at most this long are read
    /// and dropped (`NO (QUOTA/MAXSIZE)`); longer ones end the connection.
    pub max_discard: usize,
    /// A session silent this long is closed.
    pub idle_timeout: Duration,
    /// AUTHENTICATE in clear from loopback (the demo, tests), like IMAP's setting.
    pub allow_plaintext_loopback: bool,
    pub max_connections: usize,
    /// Connections per client address (an IPv6 /64 counting as one).
    pub max_connections_per_ip: usize,
    /// Pause after a wrong password.
    pub auth_failure_delay: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_line: 8 * 1024,
            max_discard: 1024 * 1024,
            idle_timeout: Duration::from_secs(600),
            allow_plaintext_loopback: false,
            max_connections: 500,
            max_connections_per_ip: 20,
            auth_failure_delay: Duration::from_secs(1),
        }
    }
}
