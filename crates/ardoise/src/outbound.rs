//! Sending mail: wires submission, the outbound queue runner and the inbound
//! SPF/DKIM/DMARC checks to the transfer domain (`mta`). Domain outcomes
//! become submission verdicts here and nowhere else.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use identity::Identity;
use model::{AccountStatus, Address, Proof, Transience};
use mta::limits::{Exceeded, Limiter, RoleLimits};
use mta::{Destination, Mta, OutboundSettings, Submission, SubmitError};
use smtp::{
    AuthFailure, DeliverError, Envelope, MailSink, RcptVerdict, SubmissionEnvelope, SubmissionSink, SubmitRefusal,
};
use store::Account;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Loads (or creates) the DKIM keys of every local domain.
pub async fn dkim_keys(cfg: &config::Config, store: &store::Store) -> anyhow::Result<mta::dkim::DkimKeys> {
    let domains: Vec<String> = store.list_domains().await?.iter().map(|d| d.as_str().to_owned()).collect();
    let dir = cfg.server.data_dir.join("dkim");
    let selector = cfg.outbound.dkim_selector.clone();
    tokio::task::spawn_blocking(move || mta::dkim::DkimKeys::load_or_create(&dir, &selector, &domains))
        .await?
        .context("clés DKIM")
}

/// Builds the transfer service from the configuration.
pub async fn service(cfg: &config::Config, opened: &crate::serve::Opened) -> anyhow::Result<Arc<Mta>> {
    let o = &cfg.outbound;
    let capture = match &o.capture_to {
        Some(address) => {
            let address = Address::parse(address).map_err(|e| anyhow::anyhow!("[outbound] capture_to : {e:?}"))?;
            let account = opened.store.account_by_address(&address).await?;
            Some(account.with_context(|| format!("[outbound] capture_to : pas de compte {address}"))?.id)
        }
        None => None,
    };
    let settings = OutboundSettings {
        hostname: cfg.server.hostname.clone(),
        mx_override: mta::route::parse_overrides(&o.mx_override)
            .map_err(|e| anyhow::anyhow!("[outbound] mx_override {e}"))?,
        remote_port: o.remote_port as u16,
        backoff: mta::backoff::Backoff {
            first: Duration::from_secs(o.retry_first_secs),
            max: Duration::from_secs(o.retry_max_secs),
        },
        give_up_after: Duration::from_secs(o.give_up_after_secs),
        delay_warning: Duration::from_secs(o.delay_warning_secs),
        poll_interval: Duration::from_secs(o.poll_interval_secs),
        timeout: Duration::from_secs(o.timeout_secs),
        capture,
    };
    let s = &cfg.submission;
    let limiter = Limiter::new(
        RoleLimits {
            messages_per_hour: s.max_messages_per_hour as u32,
            recipients_per_hour: s.max_recipients_per_hour as u32,
        },
        mta::limits::parse_role_limits(&s.role_limits).map_err(|e| anyhow::anyhow!("[submission] role_limits {e}"))?,
    );
    // Nodes of a cluster count in the store they share; a node alone in memory.
    let clustered = cluster::Backend::choose(cfg.cluster.nats.as_deref(), &cfg.store_url()) != cluster::Backend::Alone;
    let limiter = if clustered { limiter.counted_in(opened.store.clone()) } else { limiter };
    let dkim = dkim_keys(cfg, &opened.store).await?;
    Ok(Mta::new(opened.mailstore.clone(), opened.store.clone(), opened.blobs.clone(), settings, dkim, limiter))
}

/// The static DNS table of `[outbound] dns_override_file`, if any.
pub fn dns_table(cfg: &config::Config) -> anyhow::Result<Option<mta::dnstable::DnsTable>> {
    let Some(path) = &cfg.outbound.dns_override_file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("lecture de {}", path.display()))?;
    let table = mta::dnstable::DnsTable::parse(&text).map_err(|e| anyhow::anyhow!("{} : {e}", path.display()))?;
    Ok(Some(table))
}

/// Binds the submission listeners and starts the queue runner.
pub async fn start(
    cfg: &config::Config,
    submit: SubmitSink,
    smtp_cfg: Arc<smtp::SmtpConfig>,
    acceptor: tokio_rustls::TlsAcceptor,
    bound: &mut Vec<(String, SocketAddr)>,
    tasks: &mut JoinSet<()>,
    shutdown: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mta = submit.mta.clone();
    let sink = Arc::new(submit);
    // Submission has the MX's limits and shares its body budget, but counts its
    // connections per address apart: a busy relay must not lock its users out.
    let smtp_cfg = Arc::new(smtp::SmtpConfig {
        admission: smtp::Admission::new(cfg.smtp.max_connections_per_ip as usize, usize::MAX),
        ..(*smtp_cfg).clone()
    });
    for (addrs, implicit, service) in
        [(&cfg.submission.listen, false, "submission"), (&cfg.submission.listen_tls, true, "submissions")]
    {
        for addr in addrs {
            let listener =
                tokio::net::TcpListener::bind(addr).await.with_context(|| format!("écoute soumission sur {addr}"))?;
            bound.push((service.to_owned(), listener.local_addr()?));
            tasks.spawn(smtp::serve_submission(
                listener,
                smtp_cfg.clone(),
                sink.clone(),
                acceptor.clone(),
                implicit,
                shutdown.clone(),
            ));
        }
    }
    let router = Arc::new(mta::route::Router::new(
        mta.settings().mx_override.clone(),
        mta.settings().remote_port,
        mta.settings().capture.is_none(),
    ));
    tasks.spawn(mta::runner::run(mta, router, shutdown.clone()));
    Ok(())
}

/// The one place where submission checks a login: the identity service's
/// login, shared by every protocol (app passwords when 2FA is on, brute-force
/// slow-down, expiry, the connection journal).
async fn login(identity: &Identity, user: &str, password: &str, peer: IpAddr) -> Result<Submitter, AuthFailure> {
    use identity::credentials::{Login, Protocol};
    let attempt = Login { login: user, secret: password, protocol: Protocol::Smtp, peer, client: None, device: None };
    submitter(identity.login(&attempt).await)
}

/// A login's outcome in submission's terms.
fn submitter(
    outcome: Result<identity::credentials::Principal, identity::credentials::Refusal>,
) -> Result<Submitter, AuthFailure> {
    use identity::credentials::Refusal;
    match outcome {
        Ok(principal) => Ok(Submitter { proof: principal.proof(), account: principal.account }),
        Err(Refusal::BadCredentials | Refusal::AppPasswordRequired) => Err(AuthFailure::BadCredentials),
        Err(Refusal::PasswordExpired) => Err(AuthFailure::PasswordExpired),
        Err(Refusal::Throttled { .. }) => Err(AuthFailure::Throttled),
        Err(refusal) if refusal.is_temporary() => Err(AuthFailure::Temporary),
        Err(_) => Err(AuthFailure::NotAllowed),
    }
}

/// A logged-in submission client: the account, and the secret it proved (a
/// later revocation of that secret ends the session).
pub struct Submitter {
    pub account: Account,
    pub proof: Proof,
}

impl std::ops::Deref for Submitter {
    type Target = Account;
    fn deref(&self) -> &Account {
        &self.account
    }
}

/// Submission's business side: the MTA for sending, the identity service
/// for logins, the lists for postings to them.
pub struct SubmitSink {
    pub mta: Arc<Mta>,
    pub identity: Arc<Identity>,
    pub lists: Arc<lists::Lists>,
}

/// Whether a recipient of a submission is a distribution list.
pub async fn is_list(lists: &lists::Lists, rcpt: &Address) -> Result<bool, lists::Error> {
    Ok(matches!(lists.recipient(rcpt).await?, Some(lists::ListAddress::List(_))))
}

/// A logged-in user's message (submission or the webmail): the lists among
/// the recipients are taken apart, the rest goes through the transfer
/// service's checks, signature, delivery and queue, then the signed message
/// is posted to the lists as this account (`lists::Poster::Account`), those
/// who got it directly not getting it again.
pub async fn submit_with_lists(mta: &Mta, lists: &lists::Lists, sub: Submission<'_>) -> Result<(), SubmitError> {
    let mut targets = Vec::new();
    let mut others = Vec::new();
    for rcpt in sub.recipients {
        match is_list(lists, rcpt).await {
            Ok(true) => targets.push(rcpt.clone()),
            Ok(false) => others.push(rcpt.clone()),
            Err(e) => {
                tracing::warn!(error = %e, "list look-up failed");
                return Err(SubmitError::Failed(Transience::Temporary, "try again later".into()));
            }
        }
    }
    if targets.is_empty() {
        return mta.submit(sub).await;
    }
    let account = sub.account;
    let signed = mta.submit_signed(Submission { recipients: &others, ..sub }).await?;
    let mut direct = Vec::new();
    for rcpt in &others {
        if let Ok(Destination::Local(ids)) = mta.destination(rcpt).await {
            direct.extend(ids);
        }
    }
    lists.post(signed, lists::Poster::Account(account), &targets, &direct).await.map(drop).map_err(|e| {
        tracing::error!(error = %e, "list posting failed");
        let why = match &e {
            lists::Error::TooDeep { .. } | lists::Error::TooLarge { .. } => e.to_string(),
            _ => "list delivery failed".to_owned(),
        };
        SubmitError::Failed(model::ErrorKind::transience(&e), why)
    })
}

fn temporary(e: impl std::fmt::Display) -> SubmitRefusal {
    tracing::warn!(error = %e, "submission check failed");
    SubmitRefusal::Temporary("try again later".into())
}

impl SubmissionSink for SubmitSink {
    type User = Submitter;

    async fn authenticate(&self, user: &str, password: &str, remote_ip: IpAddr) -> Result<Submitter, AuthFailure> {
        login(&self.identity, user, password, remote_ip).await
    }

    async fn authenticate_bearer(
        &self,
        user: Option<&str>,
        token: &str,
        remote_ip: IpAddr,
    ) -> Result<Submitter, AuthFailure> {
        use identity::credentials::{BearerLogin, Protocol};
        let attempt = BearerLogin { user, token, protocol: Protocol::Smtp, peer: remote_ip, client: None };
        submitter(self.identity.login_bearer(&attempt).await)
    }

    fn bearer_challenge(&self, mechanism: sasl::BearerMechanism) -> Option<String> {
        Some(self.identity.bearer_challenge(mechanism))
    }

    async fn revoked(&self, user: &Submitter) {
        let ms = self.mta.mailstore();
        let mut events = ms.watch(user.id);
        loop {
            // A suspension published before the subscription (or lost to a
            // lagging receiver) is seen in the store.
            if let Ok(Some(now)) = self.identity.account(user.id).await
                && matches!(now.status, AccountStatus::Suspended | AccountStatus::Closed)
            {
                return;
            }
            loop {
                match events.recv().await {
                    Ok(event) if event.ends(user.proof) => return,
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
                }
            }
        }
    }

    async fn check_sender(&self, user: &Submitter, sender: Option<&Address>) -> Result<(), SubmitRefusal> {
        let Some(sender) = sender else {
            return Err(SubmitRefusal::ForgedSender("<>".into()));
        };
        match self.mta.may_use_envelope(user, sender).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(SubmitRefusal::ForgedSender(sender.to_string())),
            Err(e) => Err(temporary(e)),
        }
    }

    async fn check_recipient(&self, _user: &Submitter, rcpt: &Address) -> Result<(), SubmitRefusal> {
        match self.mta.destination(rcpt).await {
            Ok(Destination::UnknownLocal) => match is_list(&self.lists, rcpt).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(SubmitRefusal::UnknownRecipient),
                Err(e) => Err(temporary(e)),
            },
            Ok(_) => Ok(()),
            Err(e) => Err(temporary(e)),
        }
    }

    async fn submit(
        &self,
        user: &Submitter,
        envelope: &SubmissionEnvelope,
        message: Vec<u8>,
    ) -> Result<(), SubmitRefusal> {
        let submission = Submission {
            account: user,
            mail_from: envelope.mail_from.as_ref(),
            recipients: &envelope.recipients,
            message,
        };
        submit_with_lists(&self.mta, &self.lists, submission).await.map_err(|e| match e {
            SubmitError::ForgedSender(who) => SubmitRefusal::ForgedSender(who),
            SubmitError::LimitExceeded(Exceeded::Messages(n)) => SubmitRefusal::RateLimited(format!(
                "Limite d'envoi atteinte : {n} messages par heure, reessayez plus tard / sending limit reached: {n} messages per hour"
            )),
            SubmitError::LimitExceeded(Exceeded::Recipients(n)) => SubmitRefusal::RateLimited(format!(
                "Limite d'envoi atteinte : {n} destinataires par heure, reessayez plus tard / sending limit reached: {n} recipients per hour"
            )),
            SubmitError::Failed(Transience::Temporary, why) => SubmitRefusal::Temporary(why),
            SubmitError::Failed(Transience::Permanent, why) => SubmitRefusal::Permanent(why),
        })
    }
}

/// The MX sink with the checks of [`crate::screen`] in front of delivery:
/// sender authentication, virus scan, spam and phishing score.
pub struct CheckedMx {
    pub inner: Arc<crate::mx::MxSink>,
    pub screen: crate::screen::Screen,
}

/// Wraps the MX sink with the inbound checks configured in `[outbound]`
/// and `[hygiene]`; refused messages go to `quarantine`.
pub fn checked_mx(
    cfg: &config::Config,
    inner: Arc<crate::mx::MxSink>,
    quarantine: Arc<hygiene::quarantine::Quarantine>,
    bayes: Option<Arc<hygiene::bayes::Bayes>>,
) -> anyhow::Result<CheckedMx> {
    let verifier = if cfg.outbound.verify_inbound || cfg.outbound.dns_override_file.is_some() {
        Some(mta::inbound::Verifier::new(&cfg.server.hostname, dns_table(cfg)?))
    } else {
        None
    };
    let screen = crate::screen::Screen {
        verifier,
        settings: hygiene::Settings { dnsbl: crate::screen::dnsbl(cfg)?, ..crate::screen::settings(&cfg.hygiene)? },
        mailstore: inner.0.clone(),
        hostname: cfg.server.hostname.clone(),
        quarantine,
        bayes,
    };
    Ok(CheckedMx { inner, screen })
}

impl MailSink for CheckedMx {
    async fn check_recipient(&self, rcpt: &Address, size: Option<u64>) -> RcptVerdict {
        self.inner.check_recipient(rcpt, size).await
    }

    async fn postmaster(&self, hostname: &str) -> String {
        self.inner.postmaster(hostname).await
    }

    async fn deliver(&self, envelope: &Envelope, message: Vec<u8>) -> Result<(), DeliverError> {
        let screened = self.screen.check(envelope, message).await?;
        self.inner.deliver_screened(envelope, screened.message, screened.screening, &screened.own).await
    }
}
