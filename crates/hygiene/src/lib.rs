//! Mail hygiene: spam, phishing and viruses in incoming mail (issue 20).
//!
//! Everything here works on an isolated machine: no DNS, no download.
//!
//! - [`features`]: reads a message once ([`Features::extract`]): sender,
//!   display name, subject, links (text and target), attachment names and
//!   a bounded amount of text; never opens archives, never decodes more
//!   than [`features::MAX_TEXT`] bytes of text.
//! - [`rules`]: the built-in scorer, a pure function of those features and
//!   of what the MX knows ([`Context`]: SPF/DKIM/DMARC, HELO, the local
//!   domains). Each rule that fires is a [`Reason`] with points and a French
//!   and English explanation; the sum is the [`Verdict`]'s score.
//! - [`lookalike`]: domains that imitate the académie's own (homoglyphs,
//!   digits for letters, punycode, the domain inside another one, one
//!   letter away).
//! - [`stamp`]: the verdict written into the message: incoming
//!   `X-Spam-*` fields removed (a sender cannot vouch for itself), ours
//!   prepended, the optional `[EXTERNE]` Subject tag; and read back
//!   ([`stamp::read`]) from the top of a stored message.
//! - [`clamd`]: ClamAV's daemon (`INSTREAM` over TCP or a Unix socket),
//!   bounded in time and size.
//! - [`bayes`]: the statistical classifier (per user and for the
//!   platform), trained by the owners' moves into and out of Indésirables.
//! - [`quarantine`]: refused messages kept N days (a blob reference),
//!   listed, released into the Inboxes or deleted by the administrators.
//! - [`rspamd`]: an académie's own rspamd (`[hygiene] rspamd_url`), its
//!   verdict instead of the scorer's or added to it; the scorer stands in
//!   when rspamd fails. This and [`dnsbl`] are the only parts that reach
//!   the network, and only when configured.
//! - [`dnsbl`]: DNS blocklists for the client's address and the From
//!   domain, through the MX's resolver.
//!
//! The binary's MX (`outbound.rs`, `CheckedMx`) calls it before the 250:
//! a virus is refused (`554 5.7.0`), a score over
//! [`Settings::reject_threshold`] too (`550 5.7.1`), a score over
//! [`Settings::junk_threshold`] (or a DMARC `p=quarantine` failure) files
//! the message in Indésirables through the filter domain.

pub mod bayes;
pub mod clamd;
pub mod dnsbl;
pub mod features;
pub mod lookalike;
pub mod quarantine;
pub mod rspamd;
pub mod rules;
pub mod stamp;

use std::net::IpAddr;

pub use features::Features;
pub use rules::score;

/// The hygiene settings, resolved by the binary from `[hygiene]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The built-in scorer runs.
    pub enabled: bool,
    /// From this score on, the message goes to Indésirables.
    pub junk_threshold: f64,
    /// From this score on, the message is refused at SMTP time.
    pub reject_threshold: f64,
    /// Prefix of the Subject of mail from outside the local domains
    /// (`[EXTERNE]`), for IMAP users who never see the webmail's banner;
    /// `None`: off.
    pub subject_tag: Option<String>,
    /// ClamAV's daemon, when configured.
    pub clamd: Option<clamd::Clamd>,
    /// What to do when clamd cannot give an answer.
    pub on_scanner_failure: ScannerFailure,
    /// rspamd, when configured.
    pub rspamd: Option<rspamd::Rspamd>,
    /// DNS blocklists, when configured.
    pub dnsbl: Option<dnsbl::Dnsbl>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: true,
            junk_threshold: 5.0,
            reject_threshold: 15.0,
            subject_tag: None,
            clamd: None,
            on_scanner_failure: ScannerFailure::Defer,
            rspamd: None,
            dnsbl: None,
        }
    }
}

/// What the MX does with a message the virus scanner could not judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScannerFailure {
    /// `451 4.7.1`: the sender retries later (the default: a virus never
    /// gets in because the scanner was down).
    Defer,
    /// Accepted, marked `X-Virus-Status: Unknown`.
    Accept,
}

/// What the MX knows of a message besides its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The académie's own domains, lower-case.
    pub local_domains: &'a [String],
    /// SPF/DKIM/DMARC results; `None` when inbound checks are off.
    pub auth: Option<&'a Auth>,
    /// What the client said in HELO/EHLO.
    pub helo: &'a str,
    pub remote_ip: IpAddr,
    /// Our own host name (as our `Received:` lines name us).
    pub hostname: &'a str,
    /// The From display name is the name of one of the académie's staff
    /// (looked up in the directory by the caller).
    pub display_name_is_colleague: bool,
}

/// The sender authentication results the MX computed (one word each).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Auth {
    pub spf: String,
    pub dkim: String,
    pub dmarc: String,
    /// DMARC failed and the domain's policy is `p=quarantine`.
    pub dmarc_quarantine: bool,
}

/// One rule that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    /// Stable name, written in `X-Spam-Status` (`tests=`).
    pub code: &'static str,
    pub points: f64,
    /// What it is about (a domain, a file name), ASCII, may be empty.
    pub detail: String,
}

impl Reason {
    /// The explanation shown to the recipient, in French or English.
    pub fn text(&self, english: bool) -> String {
        let (fr, en) = rules::explain(self.code);
        let base = if english { en } else { fr };
        if self.detail.is_empty() { base.to_owned() } else { format!("{base} ({})", self.detail) }
    }
}

/// The scorer's conclusion on one message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verdict {
    pub score: f64,
    pub reasons: Vec<Reason>,
    /// Filed in Indésirables whatever the score (DMARC `p=quarantine`).
    pub force_junk: bool,
    /// The sender is outside the académie (for the Subject tag).
    pub external: bool,
    /// The action rspamd decided (`rspamd_mode = "replace"`): the
    /// thresholds are then not consulted.
    pub decided: Option<Action>,
}

impl Verdict {
    /// Where the message goes under `settings`.
    pub fn action(&self, settings: &Settings) -> Action {
        if let Some(decided) = self.decided {
            decided
        } else if self.score >= settings.reject_threshold {
            Action::Reject
        } else if self.force_junk || self.score >= settings.junk_threshold {
            Action::Junk
        } else {
            Action::Deliver
        }
    }

    /// Sieve's `spamtest` value (RFC 5235): 1 (surely not spam) to 10
    /// (surely spam), proportional to the score up to the refusal
    /// threshold, at least 6 for what goes to Indésirables and at most 5
    /// for the rest.
    pub fn spamtest(&self, settings: &Settings) -> u8 {
        let ratio = (self.score / settings.reject_threshold.max(0.1)).clamp(0.0, 1.0);
        let n = 1 + (ratio * 9.0).round() as u8;
        match self.action(settings) {
            Action::Reject => 10,
            Action::Junk => n.max(6),
            Action::Deliver => n.min(5),
        }
    }

    pub fn codes(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.reasons.iter().map(|r| r.code)
    }
}

/// What the MX does with a scored message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Deliver,
    /// Into the recipients' Indésirables (a Sieve `fileinto` still wins).
    Junk,
    /// `550 5.7.1` at SMTP time.
    Reject,
}

/// The reply text of a refusal for spam (ASCII, no detail of the rules:
/// a spammer learns nothing to tune against).
pub const REJECT_TEXT: &str = "Message refuse comme indesirable / Message rejected as spam";

/// The reply text of a refusal for a virus; the signature's name is
/// logged, never sent to the client.
pub const VIRUS_TEXT: &str = "Message refuse : virus detecte / Message rejected: virus detected";

/// The reply text when the virus scanner could not be asked.
pub const SCANNER_DOWN_TEXT: &str =
    "Analyse antivirus indisponible, reessayez plus tard / Virus scanner unavailable, try again later";
