//! The one configuration file, `ardoise.toml`, in two phases (ripgrep's lowargs /
//! hiargs split): [`check`] reads the text and reports *every* problem with its
//! line, then yields a validated [`Config`] of plain values. The binary turns
//! those values into each service's own runtime settings; no other crate depends
//! on this one, so no service sees another's configuration.
//!
//! [`fields`] is the single documented source of keys and defaults: the commented
//! sample (`ardoise config sample`, checked in as `ardoise.sample.toml`) is
//! generated from it, and a test proves the sample parses back to
//! [`Config::default`].

mod fields;
mod fields_acme;
mod fields_blob;
mod fields_cluster;
mod fields_sharing;
mod fields_upstream;
mod value;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use fields::{FIELDS, Field, fields, sample};

/// A validated configuration. Relative paths are relative to the working directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub server: Server,
    pub store: Store,
    pub blob: Blob,
    pub tls: Tls,
    pub smtp: Smtp,
    pub imap: Imap,
    pub managesieve: ManageSieve,
    pub forwarding: Forwarding,
    pub quota: Quota,
    pub mail: Mail,
    pub export: Export,
    pub log: Log,
    pub metrics: Metrics,
    pub submission: Submission,
    pub outbound: Outbound,
    pub hygiene: Hygiene,
    pub web: Web,
    pub acme: Acme,
    pub sharing: Sharing,
    pub cluster: Cluster,
    pub upstream: Upstream,
}

/// `[upstream]`: the web login delegated to the académie's identity
/// providers (the providers themselves: `ardoise admin upstream`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Upstream {
    /// The web's password form is hidden and refused: only the providers'
    /// buttons (while at least one is configured).
    pub only: bool,
}

/// `[cluster]`: how several nodes sharing one PostgreSQL store hear of each
/// other's events.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cluster {
    /// `nats://host:port`; `None`: PostgreSQL LISTEN/NOTIFY when the store is
    /// PostgreSQL, else no bus (one node).
    pub nats: Option<String>,
}

/// `[sharing]`: large-file sharing (« Partage de fichiers »).
#[derive(Debug, Clone, PartialEq)]
pub struct Sharing {
    /// Largest file one may upload, in bytes.
    pub max_file_size: u64,
    /// Bytes of shared files each account may keep at once.
    pub quota: u64,
    /// Expiry of a share when its owner chooses none, in seconds.
    pub default_expiry_secs: u64,
    /// Longest expiry an owner may choose, in seconds.
    pub max_expiry_secs: u64,
}

/// `[acme]`: the certificate from an ACME server.
#[derive(Debug, Clone, PartialEq)]
pub struct Acme {
    /// The directory URL; empty: no ACME.
    pub directory: String,
    pub contact: Vec<String>,
    /// Empty: `[server] hostname`.
    pub names: Vec<String>,
    pub root_certificate: Option<PathBuf>,
    pub renew_before_secs: u64,
    /// How the names are proved.
    pub challenge: AcmeChallenge,
}

/// `[acme] challenge`: how the ACME server checks that the names are ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcmeChallenge {
    /// HTTP-01 when there is a `[web] listen` address, else (or when the
    /// server offers no HTTP-01) TLS-ALPN-01 when there is a `[web] listen_tls`.
    Auto,
    Http01,
    TlsAlpn01,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    /// The name this host gives in greetings and `Received:` headers.
    pub hostname: String,
    /// Where the database, blobs, certificates and run files live.
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Store {
    /// `sqlite://...` or `postgres://...`; `None` means `sqlite://<data_dir>/ardoise.db`.
    pub url: Option<String>,
}

/// `[blob]`: where message contents are kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Blob {
    /// `None` means `<data_dir>/blobs`.
    pub path: Option<PathBuf>,
    /// `s3://bucket[/prefix][?endpoint=URL&region=NAME]`: in a bucket
    /// instead of `path` (several nodes share it). `None`: local files.
    pub url: Option<String>,
    /// A file naming `access_key_id` and `secret_access_key`; `None`: the
    /// `AWS_*` environment variables.
    pub credentials: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tls {
    /// PEM certificate chain and key; both `None` means a self-signed pair in `<data_dir>/tls`.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Smtp {
    pub listen: Vec<SocketAddr>,
    pub max_message_size: u64,
    pub max_recipients: u64,
    pub max_line_length: u64,
    pub max_commands: u64,
    pub max_errors: u64,
    pub idle_timeout_secs: u64,
    pub max_connections: u64,
    /// Per client address (an IPv6 /64), for the MX and submission alike.
    pub max_connections_per_ip: u64,
    /// Deadline for one whole command line.
    pub command_timeout_secs: u64,
    /// Deadline for one transaction, MAIL FROM to the end of the data.
    pub transaction_timeout_secs: u64,
    /// Lowest average rate of a message body, in bytes per second.
    pub data_min_rate: u64,
    /// Memory shared by the bodies being received, in bytes.
    pub body_memory: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Imap {
    /// Cleartext listeners (STARTTLS).
    pub listen: Vec<SocketAddr>,
    /// Implicit TLS listeners.
    pub listen_tls: Vec<SocketAddr>,
    pub allow_plaintext_loopback: bool,
    pub max_line_length: u64,
    pub max_message_size: u64,
    pub idle_timeout_secs: u64,
    pub max_connections: u64,
    pub max_connections_per_ip: u64,
    pub max_connections_per_user: u64,
}

/// ManageSieve (RFC 5804): the accounts' filter scripts.
#[derive(Debug, Clone, PartialEq)]
pub struct ManageSieve {
    /// Cleartext listeners (STARTTLS); none by default (the usual port is 4190).
    pub listen: Vec<SocketAddr>,
    pub allow_plaintext_loopback: bool,
    /// Bytes of one script.
    pub max_script_size: u64,
    /// Scripts per account.
    pub max_scripts: u64,
    pub idle_timeout_secs: u64,
}

/// Automatic forwarding (Sieve `redirect`, the webmail's « transférer »
/// rule) outside the installation's own domains.
#[derive(Debug, Clone, PartialEq)]
pub struct Forwarding {
    /// `internal` (never outside), `anywhere`, or `domains` (to [`Self::domains`]).
    pub policy: ForwardingPolicy,
    /// With `domains`: where forwarding may go (subdomains included).
    pub domains: Vec<model::Domain>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardingPolicy {
    Internal,
    Anywhere,
    Domains,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Quota {
    /// Quota given to new accounts; `None` means unlimited.
    pub default_bytes: Option<u64>,
}

/// Keeping mail tidy (issue 20): undelete, retention, archiving. Days, 0 = never.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    /// How long a deleted message stays restorable.
    pub undelete_days: u64,
    /// Messages in the Corbeille longer than this are deleted (and stay restorable).
    pub trash_days: u64,
    /// The same for Indésirables.
    pub junk_days: u64,
    /// Inbox messages older than this move to `Archives/YYYY`, for accounts
    /// that did not choose otherwise.
    pub archive_days: u64,
    /// How often the housekeeping runs (purge, retention, archiving, quota warnings).
    pub housekeeping_interval_secs: u64,
}

/// The user's own export from the webmail (Réglages → « Exporter mes données »).
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    /// Largest archive built; `None`: no cap.
    pub max_bytes: Option<u64>,
    /// How long a finished archive waits for its one download.
    pub keep_secs: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Log {
    /// A `tracing` filter such as `info` or `ardoise=debug,info`.
    pub level: String,
    /// One JSON object per line instead of text (for a log collector).
    pub json: bool,
}

/// Prometheus metrics, on a listener of their own (issue 24, item 7).
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// Where `/metrics` is served (plain HTTP); none by default.
    pub listen: Vec<SocketAddr>,
    /// A file holding the bearer token scrapes must present; required when a
    /// listener is not on the loopback.
    pub token_file: Option<PathBuf>,
}

/// Message submission by authenticated users (issue 6).
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    /// STARTTLS listeners (port 587).
    pub listen: Vec<SocketAddr>,
    /// Implicit TLS listeners (port 465).
    pub listen_tls: Vec<SocketAddr>,
    pub max_messages_per_hour: u64,
    pub max_recipients_per_hour: u64,
    /// `role=messages/recipients` overrides.
    pub role_limits: Vec<String>,
}

/// The web service: listeners and the identity policy its pages apply (issue 4).
#[derive(Debug, Clone, PartialEq)]
pub struct Web {
    /// Plain HTTP listeners (behind a TLS proxy, or the demo on 127.0.0.1).
    pub listen: Vec<SocketAddr>,
    /// HTTPS listeners (rustls, the certificate of [tls]).
    pub listen_tls: Vec<SocketAddr>,
    pub require_2fa_for_admins: bool,
    pub require_2fa_for_all: bool,
    pub password_min_length: u64,
    pub password_min_classes: u64,
    pub password_min_strength: u64,
    pub password_history: u64,
    /// 0: passwords never expire.
    pub password_max_age_days: u64,
    /// Days before expiry when a reminder is mailed.
    pub password_reminder_days: Vec<u64>,
    /// How long a successful password check is remembered; 0: never.
    pub credential_cache_secs: u64,
    /// How long a web session lives unused (idle timeout).
    pub session_ttl_secs: u64,
    /// How long a web session lives at most after login (absolute lifetime).
    pub session_max_age_secs: u64,
    /// Seconds a webmail message waits, cancellable, before it is sent.
    pub undo_send_delay_secs: u64,
    /// Most HTTP connections at once per listener.
    pub max_connections: u64,
    /// Most HTTP connections at once from one address.
    pub max_connections_per_ip: u64,
    /// Where users reach the web, for links in mails; empty: https://<hostname>.
    pub public_url: String,
    /// The IANA time zone dates are shown in (checked when the web starts).
    pub time_zone: String,
    /// Reverse proxies whose forwarding headers are believed (`address/prefix`).
    pub trusted_proxies: Vec<String>,
    /// The host name mail clients are told to use (autoconfig, autodiscover,
    /// Apple profiles); empty: the server's hostname.
    pub mail_host: String,
    /// Largest calendar object or vCard a CalDAV/CardDAV PUT may store (bytes).
    pub dav_max_object_size: u64,
}

/// Outgoing mail: queue, retries, routes, DKIM (issue 6).
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    /// `domain=ip:port` static routes used instead of MX records.
    pub mx_override: Vec<String>,
    /// A static DNS table (TXT records) for SPF/DKIM/DMARC checks; `None` = real DNS.
    pub dns_override_file: Option<PathBuf>,
    pub retry_first_secs: u64,
    pub retry_max_secs: u64,
    pub give_up_after_secs: u64,
    pub delay_warning_secs: u64,
    pub poll_interval_secs: u64,
    pub timeout_secs: u64,
    pub remote_port: u64,
    pub dkim_selector: String,
    /// Deliver every remote message to this local address instead (demo outbox).
    pub capture_to: Option<String>,
    /// Check SPF/DKIM/DMARC on incoming mail.
    pub verify_inbound: bool,
}

/// Spam, phishing and viruses in incoming mail (issue 20).
#[derive(Debug, Clone, PartialEq)]
pub struct Hygiene {
    /// The built-in scorer runs on mail received by the MX.
    pub enabled: bool,
    /// From this score on, into Indésirables.
    pub junk_threshold: f64,
    /// From this score on, refused at SMTP time (`550 5.7.1`).
    pub reject_threshold: f64,
    /// Subject prefix of mail from outside (`[EXTERNE]`); empty = off.
    pub subject_tag: String,
    /// clamd's address: `tcp:host:port` or a socket path; `None` = no scan.
    pub clamd: Option<String>,
    pub clamd_timeout_secs: u64,
    /// The largest stream sent to clamd (its `StreamMaxLength`), in bytes;
    /// shared files larger than this are refused while clamd is configured.
    pub clamd_max_size: u64,
    /// When clamd fails: `false` defers (`451 4.7.1`), `true` accepts and marks.
    pub accept_unscanned: bool,
    /// Days refused messages are kept for the administrators; 0 = none.
    pub quarantine_days: u64,
    /// Where « Signaler un hameçonnage » forwards a message; empty = no button.
    pub security_address: String,
    /// The statistical classifier scores and learns.
    pub bayes: bool,
    /// Points a message surely spam for the classifier gets (scaled by
    /// its probability).
    pub bayes_points: f64,
    /// Points taken off a message surely good for the classifier.
    pub bayes_ham_points: f64,
    /// Spam and good messages each a model must be trained on before it
    /// has a say.
    pub bayes_min_trained: u64,
    /// The same for the platform's model (everyone's training summed).
    pub bayes_global_min_trained: u64,
    /// Tokens seen once and not trained again for this many days are
    /// forgotten by the housekeeping.
    pub bayes_prune_days: u64,
    /// An IMAP folder whose messages are reported as phishing (forwarded
    /// to `security_address`, learnt as spam, moved to Junk); empty = none.
    pub report_folder: String,
    /// rspamd's HTTP address (`http://127.0.0.1:11333`); `None` = not used.
    pub rspamd_url: Option<String>,
    /// rspamd's verdict replaces the built-in scorer's (`true`) or adds to it.
    pub rspamd_replace: bool,
    pub rspamd_timeout_secs: u64,
    /// Larger messages are judged by the built-in scorer alone.
    pub rspamd_max_size: u64,
    /// DNS blocklist zones asked about the client's address.
    pub dnsbl: Vec<String>,
    /// DNS blocklist zones asked about the From domain.
    pub dnsbl_domains: Vec<String>,
    /// Points each listing adds.
    pub dnsbl_points: f64,
    pub dnsbl_timeout_secs: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            server: Server { hostname: "localhost".into(), data_dir: PathBuf::from("ardoise-data") },
            store: Store { url: None },
            blob: Blob { path: None, url: None, credentials: None },
            tls: Tls { cert: None, key: None },
            smtp: Smtp {
                listen: vec!["0.0.0.0:25".parse().unwrap()],
                max_message_size: 20 * 1024 * 1024,
                max_recipients: 1000,
                max_line_length: 4096,
                max_commands: 1000,
                max_errors: 10,
                idle_timeout_secs: 300,
                max_connections: 2000,
                max_connections_per_ip: 20,
                command_timeout_secs: 300,
                transaction_timeout_secs: 30 * 60,
                data_min_rate: 1024,
                body_memory: 128 * 1024 * 1024,
            },
            imap: Imap {
                listen: vec!["0.0.0.0:143".parse().unwrap()],
                listen_tls: vec!["0.0.0.0:993".parse().unwrap()],
                allow_plaintext_loopback: false,
                max_line_length: 65536,
                max_message_size: 64 * 1024 * 1024,
                idle_timeout_secs: 30 * 60,
                max_connections: 10_000,
                max_connections_per_ip: 100,
                max_connections_per_user: 30,
            },
            managesieve: ManageSieve {
                listen: Vec::new(),
                allow_plaintext_loopback: false,
                max_script_size: 64 * 1024,
                max_scripts: 20,
                idle_timeout_secs: 10 * 60,
            },
            forwarding: Forwarding { policy: ForwardingPolicy::Internal, domains: Vec::new() },
            quota: Quota { default_bytes: Some(2 * 1024 * 1024 * 1024) },
            mail: Mail {
                undelete_days: 30,
                trash_days: 30,
                junk_days: 30,
                archive_days: 0,
                housekeeping_interval_secs: 3600,
            },
            export: Export { max_bytes: Some(4 * 1024 * 1024 * 1024), keep_secs: 24 * 3600 },
            log: Log { level: "info".into(), json: false },
            metrics: Metrics { listen: Vec::new(), token_file: None },
            submission: Submission {
                listen: vec!["0.0.0.0:587".parse().unwrap()],
                listen_tls: vec!["0.0.0.0:465".parse().unwrap()],
                max_messages_per_hour: 200,
                max_recipients_per_hour: 2000,
                role_limits: Vec::new(),
            },
            outbound: Outbound {
                mx_override: Vec::new(),
                dns_override_file: None,
                retry_first_secs: 300,
                retry_max_secs: 4 * 3600,
                give_up_after_secs: 5 * 86400,
                delay_warning_secs: 4 * 3600,
                poll_interval_secs: 5,
                timeout_secs: 120,
                remote_port: 25,
                dkim_selector: "ardoise".into(),
                capture_to: None,
                verify_inbound: false,
            },
            hygiene: Hygiene {
                enabled: true,
                junk_threshold: 5.0,
                reject_threshold: 15.0,
                subject_tag: String::new(),
                clamd: None,
                clamd_timeout_secs: 30,
                clamd_max_size: 25 << 20,
                accept_unscanned: false,
                quarantine_days: 30,
                security_address: String::new(),
                bayes: true,
                bayes_points: 7.0,
                bayes_ham_points: 3.0,
                bayes_min_trained: 20,
                bayes_global_min_trained: 200,
                bayes_prune_days: 90,
                report_folder: String::new(),
                rspamd_url: None,
                rspamd_replace: true,
                rspamd_timeout_secs: 10,
                rspamd_max_size: 10 * 1024 * 1024,
                dnsbl: Vec::new(),
                dnsbl_domains: Vec::new(),
                dnsbl_points: 3.0,
                dnsbl_timeout_secs: 2,
            },
            web: Web {
                listen: Vec::new(),
                listen_tls: Vec::new(),
                require_2fa_for_admins: true,
                require_2fa_for_all: false,
                password_min_length: 12,
                password_min_classes: 3,
                password_min_strength: 3,
                password_history: 5,
                password_max_age_days: 0,
                password_reminder_days: vec![14, 3],
                credential_cache_secs: 300,
                session_ttl_secs: 2 * 3600,
                session_max_age_secs: 12 * 3600,
                undo_send_delay_secs: 10,
                max_connections: 4096,
                max_connections_per_ip: 256,
                public_url: String::new(),
                time_zone: "Europe/Paris".into(),
                dav_max_object_size: 1 << 20,
                trusted_proxies: Vec::new(),
                mail_host: String::new(),
            },
            acme: Acme {
                directory: String::new(),
                contact: Vec::new(),
                names: Vec::new(),
                root_certificate: None,
                renew_before_secs: 30 * 86400,
                challenge: AcmeChallenge::Auto,
            },
            sharing: Sharing {
                max_file_size: 2 << 30,
                quota: 10 << 30,
                default_expiry_secs: 10 * 86400,
                max_expiry_secs: 30 * 86400,
            },
            cluster: Cluster::default(),
            upstream: Upstream::default(),
        }
    }
}

impl Config {
    /// The store URL with its default applied.
    pub fn store_url(&self) -> String {
        match &self.store.url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.server.data_dir.join("ardoise.db").display()),
        }
    }
    /// The blob directory with its default applied.
    pub fn blob_path(&self) -> PathBuf {
        self.blob.path.clone().unwrap_or_else(|| self.server.data_dir.join("blobs"))
    }
}

/// One problem found in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number, when the problem has a place in the file.
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "ligne {line} : {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Validates `text`, returning the configuration or every problem found.
pub fn check(text: &str) -> Result<Config, Vec<Problem>> {
    value::check(text)
}

/// Reads and validates a file; I/O errors are reported as one problem.
pub fn load(path: &std::path::Path) -> Result<Config, Vec<Problem>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![Problem { line: None, message: format!("impossible de lire {} : {e}", path.display()) }])?;
    check(&text)
}

/// Parses a size such as `20M`, `2G`, `512K` or `1048576` (bytes; binary multiples).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, mult) = match s.char_indices().last()? {
        (i, 'K' | 'k') => (&s[..i], 1u64 << 10),
        (i, 'M' | 'm') => (&s[..i], 1 << 20),
        (i, 'G' | 'g') => (&s[..i], 1 << 30),
        (i, 'T' | 't') => (&s[..i], 1 << 40),
        _ => (s, 1),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(mult)
}

/// Parses a duration such as `300`, `90s`, `5m` or `2h` into seconds.
pub fn parse_duration_secs(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, mult) = match s.char_indices().last()? {
        (i, 's') => (&s[..i], 1u64),
        (i, 'm') => (&s[..i], 60),
        (i, 'h') => (&s[..i], 3600),
        (i, 'd') => (&s[..i], 86400),
        _ => (s, 1),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(mult)
}

#[cfg(test)]
mod tests;
