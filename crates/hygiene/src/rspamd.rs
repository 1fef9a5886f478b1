//! rspamd, for the académies that run one (`[hygiene] rspamd_url`).
//!
//! The message goes to rspamd's HTTP protocol (`POST /checkv2`, the
//! envelope in request headers: `IP`, `Helo`, `From`, `Rcpt`, `Hostname`,
//! `Queue-Id`, `User`), one connection per message, within a deadline and
//! under a size cap. Its JSON reply (score, action, symbols) becomes a
//! [`Judgement`]:
//!
//! - `rspamd_mode = "replace"`: rspamd decides. `reject` is our refusal
//!   (`550 5.7.1`), `add header` and `rewrite subject` file the message in
//!   Indésirables, `soft reject` asks the sender to come back later
//!   (`451`), `no action` and `greylist` deliver; its symbols become the
//!   [`Reason`]s (the symbol's name as the code, a generic French and
//!   English text).
//! - `"add"`: rspamd's score and symbols join the built-in scorer's and our
//!   thresholds decide.
//!
//! `greylist` is only a score band in rspamd: greylisting itself is its
//! greylist module's work, which turns the action into `soft reject` for a
//! first attempt and lets the retry through. Without that module the band
//! says nothing about a retry, and rspamd's own milter and other MTAs'
//! integrations (Haraka's) deliver it; deferring it here would defer the
//! same message at every retry until its sender gives up.
//!
//! rspamd down, slow or answering garbage never loses mail nor lets it in
//! unjudged: the built-in verdict stands, with a loud log line and the
//! `ardoise_rspamd_failures_total` counter. A message over the size cap is
//! judged by the built-in scorer alone (rspamd's own advice for large mail).
//!
//! Reason codes are `&'static str` (stable names of our own rules); rspamd's
//! symbol names come from its configuration, a finite set, and are interned
//! once each ([`symbol`]), at most [`MAX_SYMBOLS`] of them.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::Deserialize;

use crate::{Action, Reason, Verdict, rules};

/// The longest JSON reply read (rspamd's replies are a few kilobytes).
const MAX_REPLY: usize = 1024 * 1024;
/// Symbols kept as reasons (the heaviest first).
const MAX_REASONS: usize = 20;
/// Distinct symbol names interned for the life of the process.
pub const MAX_SYMBOLS: usize = 4096;

/// The reply text when rspamd asks for a later retry (`451`).
pub const DEFER_TEXT: &str = "Reessayez plus tard / Try again later";

/// Whose verdict counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// rspamd's action decides, the built-in scorer is the fallback.
    Replace,
    /// rspamd's score and symbols add to the built-in scorer's.
    Add,
}

/// An rspamd scanner (its "normal" worker, port 11333 by default).
#[derive(Debug, Clone, PartialEq)]
pub struct Rspamd {
    /// `host:port`, connected to and sent as `Host`.
    authority: String,
    /// The path of `checkv2` under the URL's path.
    path: String,
    pub mode: Mode,
    /// Connection, request and reply together.
    pub timeout: Duration,
    /// Larger messages are not sent (built-in scorer only).
    pub max_size: usize,
}

/// Why rspamd gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("URL rspamd invalide (attendu http://hôte:port) / invalid rspamd URL: {0}")]
    Url(String),
    #[error("message too large for rspamd ({0} bytes)")]
    TooLarge(usize),
    #[error("rspamd unreachable: {0}")]
    Connect(std::io::Error),
    #[error("rspamd did not answer in time")]
    Timeout,
    #[error("rspamd HTTP exchange failed: {0}")]
    Http(String),
    #[error("rspamd answered with HTTP status {0}")]
    Status(u16),
    #[error("rspamd's reply is unreadable: {0}")]
    Reply(String),
}

impl Error {
    /// The `reason` label of the failure counter.
    fn label(&self) -> &'static str {
        match self {
            Error::Url(_) => "url",
            Error::TooLarge(_) => "too_large",
            Error::Connect(_) => "connect",
            Error::Timeout => "timeout",
            Error::Http(_) => "http",
            Error::Status(_) => "status",
            Error::Reply(_) => "reply",
        }
    }
}

/// What the MX knows of the message, sent as request headers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub ip: IpAddr,
    pub helo: &'a str,
    /// The envelope sender; empty for the null sender (not sent: rspamd
    /// then reads the From field).
    pub from: &'a str,
    pub rcpts: &'a [String],
    /// Our host name.
    pub hostname: &'a str,
    /// The id of our `Received:` line ([`queue_id`]).
    pub queue_id: Option<&'a str>,
    /// The authenticated user (submission), never set on the MX.
    pub user: Option<&'a str>,
}

/// rspamd's action (the `action` of its reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RspamdAction {
    NoAction,
    Greylist,
    AddHeader,
    RewriteSubject,
    SoftReject,
    Reject,
}

impl RspamdAction {
    fn parse(text: &str) -> Option<RspamdAction> {
        Some(match text {
            "no action" => RspamdAction::NoAction,
            "greylist" => RspamdAction::Greylist,
            "add header" => RspamdAction::AddHeader,
            "rewrite subject" => RspamdAction::RewriteSubject,
            "soft reject" => RspamdAction::SoftReject,
            "reject" => RspamdAction::Reject,
            _ => return None,
        })
    }
}

/// One symbol of the reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Symbol {
    pub name: String,
    pub score: f64,
    pub options: Vec<String>,
}

/// rspamd's reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub score: f64,
    pub required_score: f64,
    pub action: RspamdAction,
    /// Heaviest (absolute score) first.
    pub symbols: Vec<Symbol>,
}

#[derive(Deserialize)]
struct Wire {
    score: f64,
    #[serde(default)]
    required_score: f64,
    action: String,
    #[serde(default)]
    symbols: HashMap<String, WireSymbol>,
}

#[derive(Deserialize)]
struct WireSymbol {
    #[serde(default)]
    score: f64,
    #[serde(default)]
    options: Vec<String>,
}

impl Report {
    /// Reads a `checkv2` reply.
    pub fn parse(json: &[u8]) -> Result<Report, Error> {
        let wire: Wire = serde_json::from_slice(json).map_err(|e| Error::Reply(e.to_string()))?;
        let action =
            RspamdAction::parse(&wire.action).ok_or_else(|| Error::Reply(format!("action {:?}", wire.action)))?;
        if !wire.score.is_finite() {
            return Err(Error::Reply("score".into()));
        }
        let mut symbols: Vec<Symbol> = wire
            .symbols
            .into_iter()
            .map(|(name, s)| Symbol {
                name,
                score: if s.score.is_finite() { s.score } else { 0.0 },
                options: s.options,
            })
            .collect();
        symbols.sort_by(|a, b| b.score.abs().total_cmp(&a.score.abs()).then_with(|| a.name.cmp(&b.name)));
        Ok(Report { score: wire.score, required_score: wire.required_score, action, symbols })
    }

    /// The symbols that weigh (non-zero score) as reasons; when none does
    /// yet rspamd chose an action (`GTUBE` forces `reject` at 0 points),
    /// the symbols that are there.
    pub fn reasons(&self) -> Vec<Reason> {
        let weighing = self.symbols.iter().any(|s| s.score != 0.0);
        let all = !weighing && self.action != RspamdAction::NoAction;
        self.symbols
            .iter()
            .filter(|s| all || s.score != 0.0)
            .take(MAX_REASONS)
            .map(|s| {
                let detail = s.options.first().map(|o| rules::ascii_detail(o)).unwrap_or_default();
                match symbol(&s.name) {
                    Some(code) => Reason { code, points: s.score, detail },
                    // Not a symbol's name, or too many names: the name as detail.
                    None => Reason { code: "RSPAMD", points: s.score, detail: rules::ascii_detail(&s.name) },
                }
            })
            .collect()
    }
}

/// What the MX does with the message.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// Delivered, filed in Indésirables or refused, per
    /// [`Verdict::action`].
    Verdict(Verdict),
    /// rspamd asked for a later retry (`soft reject`): `451`.
    Defer,
}

/// rspamd's `report` with the built-in verdict, under `mode`.
pub fn combine(report: &Report, mode: Mode, builtin: Verdict) -> Judgement {
    let reasons = report.reasons();
    match mode {
        Mode::Replace => {
            let decided = match report.action {
                RspamdAction::NoAction | RspamdAction::Greylist => Action::Deliver,
                RspamdAction::AddHeader | RspamdAction::RewriteSubject => Action::Junk,
                RspamdAction::Reject => Action::Reject,
                RspamdAction::SoftReject => return Judgement::Defer,
            };
            Judgement::Verdict(Verdict {
                score: report.score,
                reasons,
                force_junk: false,
                external: builtin.external,
                decided: Some(decided),
            })
        }
        Mode::Add => {
            let mut verdict = builtin;
            verdict.score += report.score;
            for r in reasons {
                if !verdict.reasons.iter().any(|o| o.code == r.code) {
                    verdict.reasons.push(r);
                }
            }
            Judgement::Verdict(verdict)
        }
    }
}

/// The interned code of an rspamd symbol's name: letters, digits and `_`,
/// 1 to 64 of them; `None` for another name or past [`MAX_SYMBOLS`].
pub fn symbol(name: &str) -> Option<&'static str> {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    if name.is_empty() || name.len() > 64 || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let mut names = NAMES.get_or_init(Mutex::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = names.get(name) {
        return Some(found);
    }
    if names.len() >= MAX_SYMBOLS {
        return None;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    Some(leaked)
}

/// The `id` of the first (our) `Received:` field of `message`.
pub fn queue_id(message: &[u8]) -> Option<&str> {
    let head = &message[..message.len().min(2048)];
    let head = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
    };
    let mut lines = head.split('\n');
    let first = lines.next()?;
    if !first.get(..9)?.eq_ignore_ascii_case("received:") {
        return None;
    }
    let folded = lines.take_while(|l| l.starts_with([' ', '\t']));
    let mut words = std::iter::once(first).chain(folded).flat_map(str::split_whitespace);
    words.find(|w| *w == "id")?;
    let id = words.next()?.trim_end_matches(';');
    (!id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_graphic())).then_some(id)
}

impl Rspamd {
    /// A scanner at `url` (`http://host:port`, optionally a path prefix).
    pub fn new(url: &str, mode: Mode, timeout: Duration, max_size: usize) -> Result<Rspamd, Error> {
        let rest = url.trim().strip_prefix("http://").ok_or_else(|| Error::Url(url.into()))?;
        let (authority, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let host_ok = !authority.is_empty() && authority.bytes().all(|b| b.is_ascii_graphic() && b != b'@');
        if !host_ok {
            return Err(Error::Url(url.into()));
        }
        let port_ok = |p: &str| p.strip_prefix(':').is_some_and(|p| p.parse::<u16>().is_ok());
        let authority = match authority.strip_prefix('[').map(|a| a.split_once(']')) {
            Some(Some((_, ""))) => format!("{authority}:11333"),
            Some(Some((_, port))) if port_ok(port) => authority.to_owned(),
            Some(_) => return Err(Error::Url(url.into())),
            None => match authority.find(':') {
                None => format!("{authority}:11333"),
                Some(i) if i > 0 && port_ok(&authority[i..]) => authority.to_owned(),
                Some(_) => return Err(Error::Url(url.into())),
            },
        };
        let prefix = prefix.trim_end_matches('/');
        let path = if prefix.is_empty() { "/checkv2".to_owned() } else { format!("/{prefix}/checkv2") };
        Ok(Rspamd { authority, path, mode, timeout, max_size })
    }

    /// rspamd's reply on `message`.
    pub async fn check(&self, message: &[u8], request: &Request<'_>) -> Result<Report, Error> {
        if message.len() > self.max_size {
            return Err(Error::TooLarge(message.len()));
        }
        let reply =
            tokio::time::timeout(self.timeout, self.exchange(message, request)).await.map_err(|_| Error::Timeout)??;
        Report::parse(&reply)
    }

    /// The message judged: rspamd's reply combined with `builtin` per the
    /// mode, or `builtin` alone when rspamd could not answer (logged and
    /// counted).
    pub async fn judge(&self, message: &[u8], request: &Request<'_>, builtin: Verdict) -> Judgement {
        match self.check(message, request).await {
            Ok(report) => {
                let action = format!("{:?}", report.action);
                tracing::info!(score = report.score, action = %action, "rspamd verdict");
                combine(&report, self.mode, builtin)
            }
            Err(Error::TooLarge(size)) => {
                tracing::info!(size, "message over rspamd's size cap, built-in scorer only");
                Judgement::Verdict(builtin)
            }
            Err(e) => {
                metrics::counter!("ardoise_rspamd_failures_total", "reason" => e.label()).increment(1);
                tracing::error!(error = %e, rspamd = %self.authority, "rspamd failed, built-in scorer used instead");
                Judgement::Verdict(builtin)
            }
        }
    }

    async fn exchange(&self, message: &[u8], r: &Request<'_>) -> Result<Vec<u8>, Error> {
        let stream = tokio::net::TcpStream::connect(&self.authority).await.map_err(Error::Connect)?;
        let _ = stream.set_nodelay(true);
        let http = |e: hyper::Error| Error::Http(e.to_string());
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(http)?;
        let driver = AbortOnDrop(tokio::spawn(async move {
            let _ = connection.await;
        }));
        let mut req = hyper::Request::post(self.path.as_str())
            .header(hyper::header::HOST, self.authority.as_str())
            .header(hyper::header::CONTENT_LENGTH, message.len())
            .header(hyper::header::CONNECTION, "close");
        let ip = r.ip.to_string();
        let mut fields: Vec<(&str, &str)> =
            vec![("IP", ip.as_str()), ("Helo", r.helo), ("From", r.from), ("Hostname", r.hostname)];
        fields.extend(r.rcpts.iter().map(|rcpt| ("Rcpt", rcpt.as_str())));
        fields.extend(r.queue_id.map(|q| ("Queue-Id", q)));
        fields.extend(r.user.map(|u| ("User", u)));
        for (name, value) in fields.into_iter().filter(|(_, v)| !v.is_empty()) {
            // A value a header cannot carry (control characters) is left out.
            if let Ok(value) = hyper::header::HeaderValue::from_bytes(value.as_bytes()) {
                req = req.header(name, value);
            }
        }
        let req = req.body(Full::new(Bytes::copy_from_slice(message))).map_err(|e| Error::Http(e.to_string()))?;
        let response = sender.send_request(req).await.map_err(http)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(Error::Status(status));
        }
        let body =
            Limited::new(response.into_body(), MAX_REPLY).collect().await.map_err(|e| Error::Http(e.to_string()))?;
        drop(driver);
        Ok(body.to_bytes().to_vec())
    }
}

/// The connection's task, stopped with the exchange (a deadline drops it).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
#[path = "rspamd_tests.rs"]
mod tests;
