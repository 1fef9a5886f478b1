//! What the MX checks before its 250 (issue 20): the sender's
//! authentication (SPF, DKIM, DMARC), the virus scan (clamd), the spam and
//! phishing score (`hygiene`). Refusals become `DeliverError`s here (the
//! smtp crate's table makes them `550 5.7.1`, `554 5.7.0`, `451 4.7.1`);
//! an accepted message leaves stamped (`Authentication-Results:` on top,
//! `X-Spam-*` and `X-Virus-Status` below our `Received:`, incoming ones
//! removed) with the
//! `filter::Screening` that sends it to Indésirables when it should.

use std::sync::Arc;

use hygiene::quarantine::Why;
use hygiene::{Action, Features, clamd::Scan};
use mailstore::Mailstore;
use smtp::{DeliverError, Envelope};

/// The hygiene service's settings from `[hygiene]`.
pub fn settings(cfg: &config::Hygiene) -> anyhow::Result<hygiene::Settings> {
    if cfg.reject_threshold <= cfg.junk_threshold {
        anyhow::bail!(
            "[hygiene] reject_threshold ({}) doit dépasser junk_threshold ({}) / must be above junk_threshold",
            cfg.reject_threshold,
            cfg.junk_threshold
        );
    }
    let clamd = match &cfg.clamd {
        Some(text) => {
            let address = hygiene::clamd::Address::parse(text).map_err(|e| anyhow::anyhow!("[hygiene] clamd : {e}"))?;
            let timeout = std::time::Duration::from_secs(cfg.clamd_timeout_secs);
            let max_size = usize::try_from(cfg.clamd_max_size).unwrap_or(usize::MAX);
            Some(hygiene::clamd::Clamd::new(address).with_timeout(timeout).with_max_size(max_size))
        }
        None => None,
    };
    Ok(hygiene::Settings {
        enabled: cfg.enabled,
        junk_threshold: cfg.junk_threshold,
        reject_threshold: cfg.reject_threshold,
        subject_tag: Some(cfg.subject_tag.clone()).filter(|t| !t.is_empty()),
        clamd,
        on_scanner_failure: if cfg.accept_unscanned {
            hygiene::ScannerFailure::Accept
        } else {
            hygiene::ScannerFailure::Defer
        },
        rspamd: rspamd(cfg)?,
        dnsbl: None,
    })
}

/// rspamd from `[hygiene] rspamd_url` and its companions.
fn rspamd(cfg: &config::Hygiene) -> anyhow::Result<Option<hygiene::rspamd::Rspamd>> {
    let Some(url) = &cfg.rspamd_url else {
        return Ok(None);
    };
    let mode = if cfg.rspamd_replace { hygiene::rspamd::Mode::Replace } else { hygiene::rspamd::Mode::Add };
    let timeout = std::time::Duration::from_secs(cfg.rspamd_timeout_secs);
    let max_size = usize::try_from(cfg.rspamd_max_size).unwrap_or(usize::MAX);
    let rspamd = hygiene::rspamd::Rspamd::new(url, mode, timeout, max_size)
        .map_err(|e| anyhow::anyhow!("[hygiene] rspamd_url : {e}"))?;
    Ok(Some(rspamd))
}

/// The DNS blocklists of `[hygiene] dnsbl` and `dnsbl_domains`, asked
/// through the MX's resolver (the static table of `[outbound]
/// dns_override_file` when there is one).
pub fn dnsbl(cfg: &config::Config) -> anyhow::Result<Option<hygiene::dnsbl::Dnsbl>> {
    let h = &cfg.hygiene;
    if h.dnsbl.is_empty() && h.dnsbl_domains.is_empty() {
        return Ok(None);
    }
    let lookup = mta::lookup::ALookup::new(crate::outbound::dns_table(cfg)?);
    Ok(Some(hygiene::dnsbl::Dnsbl {
        ip_lists: h.dnsbl.clone(),
        domain_lists: h.dnsbl_domains.clone(),
        points: h.dnsbl_points,
        timeout: std::time::Duration::from_secs(h.dnsbl_timeout_secs),
        resolver: Arc::new(Lookup(lookup)),
    }))
}

/// The MX's resolver as the blocklists' (the trait is hygiene's, the
/// resolver mta's).
struct Lookup(mta::lookup::ALookup);

impl hygiene::dnsbl::Resolve for Lookup {
    fn a<'a>(&'a self, name: &'a str) -> std::pin::Pin<Box<dyn Future<Output = hygiene::dnsbl::Answer> + Send + 'a>> {
        Box::pin(self.0.a(name))
    }
}

/// The quarantine of `[hygiene] quarantine_days`.
pub fn quarantine(cfg: &config::Config, opened: &crate::serve::Opened) -> Arc<hygiene::quarantine::Quarantine> {
    let days = u32::try_from(cfg.hygiene.quarantine_days).unwrap_or(u32::MAX);
    Arc::new(hygiene::quarantine::Quarantine::new(
        opened.store.clone(),
        opened.blobs.clone(),
        opened.mailstore.clone(),
        days,
    ))
}

/// Deletes, once an hour, the quarantined messages whose time is up.
pub async fn sweep_quarantine_periodically(
    quarantine: Arc<hygiene::quarantine::Quarantine>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match quarantine.sweep(now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "expired quarantined messages deleted"),
            Err(e) => tracing::warn!(error = %e, "quarantine sweep failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// The checks, built once from `[outbound]` and `[hygiene]`.
pub struct Screen {
    /// `None` when `[outbound] verify_inbound` is off.
    pub verifier: Option<mta::inbound::Verifier>,
    pub settings: hygiene::Settings,
    pub mailstore: Arc<Mailstore>,
    /// Our host name, as our `Received:` lines give it.
    pub hostname: String,
    /// Where refused messages are kept.
    pub quarantine: Arc<hygiene::quarantine::Quarantine>,
    /// The statistical classifier, when `[hygiene] bayes` is on.
    pub bayes: Option<Arc<hygiene::bayes::Bayes>>,
}

/// The spam judgement of a message: the verdict and what the statistical
/// models thought (for the recipients' own verdicts).
struct Judged {
    verdict: hygiene::Verdict,
    opinions: Option<(Arc<hygiene::bayes::Bayes>, hygiene::bayes::Tokens, hygiene::bayes::Opinions)>,
}

/// A message the checks let through.
pub struct Screened {
    pub message: Vec<u8>,
    pub screening: filter::Screening,
    /// Recipients whose own spam model judged their copy: their verdicts.
    pub own: Vec<(i64, filter::Screening)>,
}

impl Screen {
    /// Checks `message` (our `Received:` line on top) from `envelope`.
    ///
    /// clamd scans the message while the sender is authenticated and the
    /// message scored: a session waits for the slower of the two, not for
    /// both. The refusals keep their order: the sender's DMARC policy, a
    /// virus, rspamd's « later », spam.
    pub async fn check(&self, envelope: &Envelope, message: Vec<u8>) -> Result<Screened, DeliverError> {
        let (scanned, judged) = tokio::join!(self.scan(&message), async {
            let auth = self.authenticate(envelope, &message).await?;
            let judged = self.judge(envelope, &message, auth.as_ref().map(|(_, a)| a)).await;
            Ok::<_, DeliverError>((auth, judged))
        });
        let (auth, judged) = judged?;
        let (virus_field, virustest) = match scanned {
            Ok(scanned) => scanned,
            Err((e, Some(signature))) => {
                self.keep(envelope, &message, Why::Virus, &signature).await;
                return Err(e);
            }
            Err((e, None)) => return Err(e),
        };
        let judged = judged?;
        let sender_verified = auth.as_ref().is_some_and(|(_, a)| a.spf == "pass");
        let mut screening = filter::Screening { virustest, sender_verified, ..filter::Screening::default() };
        let mut ours = String::new();
        let mut tag = None;
        let mut own = Vec::new();
        if let Some(Judged { verdict, opinions }) = judged {
            let action = verdict.action(&self.settings);
            let label = match action {
                Action::Deliver => "deliver",
                Action::Junk => "junk",
                Action::Reject => "reject",
            };
            metrics::counter!("ardoise_spam_verdicts_total", "action" => label).increment(1);
            let codes: Vec<&str> = verdict.codes().collect();
            tracing::info!(score = verdict.score, tests = %codes.join(","), action = label, "spam verdict");
            if action == Action::Reject {
                self.keep(envelope, &message, Why::Spam, &codes.join(",")).await;
                return Err(DeliverError::refused(hygiene::REJECT_TEXT));
            }
            screening.junk = action == Action::Junk;
            screening.spamtest = verdict.spamtest(&self.settings);
            if let Some((bayes, tokens, opinions)) = &opinions {
                for (account, theirs) in hygiene::bayes::per_recipient(&bayes.settings, &verdict, tokens, opinions) {
                    let junk = theirs.action(&self.settings) != Action::Deliver;
                    let spamtest = theirs.spamtest(&self.settings);
                    tracing::info!(account, score = theirs.score, junk, "recipient's own spam model");
                    own.push((account, filter::Screening { junk, spamtest, ..screening }));
                }
            }
            ours.push_str(&hygiene::stamp::spam_fields(&verdict, &self.settings));
            tag = self.settings.subject_tag.as_deref().filter(|_| verdict.external);
        }
        if let Some(field) = virus_field {
            ours.push_str(&field);
        }
        // Authentication-Results first, then our Received: line, then ours;
        // a sender's own X-Spam-*/X-Virus-* are removed even with scoring off.
        let stamped = hygiene::stamp::insert(&message, &ours, tag);
        let message = match auth {
            Some((header, _)) => [header.as_bytes(), &stamped].concat(),
            None => stamped,
        };
        Ok(Screened { message, screening, own })
    }

    /// The spam and phishing judgement (built-in scorer, rspamd, the
    /// platform's statistical model); `Ok(None)` when scoring is off, an
    /// error when rspamd asks for a later retry.
    async fn judge(
        &self,
        envelope: &Envelope,
        message: &[u8],
        auth: Option<&hygiene::Auth>,
    ) -> Result<Option<Judged>, DeliverError> {
        if !self.settings.enabled && self.settings.rspamd.is_none() {
            return Ok(None);
        }
        let features = Features::extract(message);
        let verdict = self.score(envelope, &features, auth).await;
        let Some(mut verdict) = self.ask_rspamd(envelope, message, verdict).await else {
            return Err(DeliverError::failed(model::Transience::Temporary, hygiene::rspamd::DEFER_TEXT));
        };
        // The statistical classifier: the platform's model joins the
        // score; recipients with a trained model of their own get their
        // copy judged by it (`own`, for delivery).
        let opinions = self.classify(envelope, &features).await;
        if let Some((bayes, tokens, opinions)) = &opinions
            && let Some(reason) = opinions.global.as_ref().and_then(|j| bayes.settings.reason(j, tokens))
        {
            hygiene::bayes::add_reason(&mut verdict, reason);
        }
        Ok(Some(Judged { verdict, opinions }))
    }

    /// What the classifier's models think of the message: the platform's
    /// and the recipients' own (one token extraction, one query for the
    /// models' totals, one batched query for their counts). `None` when
    /// off or failing (logged: the message is scored without it).
    async fn classify(
        &self,
        envelope: &Envelope,
        features: &Features,
    ) -> Option<(Arc<hygiene::bayes::Bayes>, hygiene::bayes::Tokens, hygiene::bayes::Opinions)> {
        let bayes = self.bayes.clone()?;
        let tokens = hygiene::bayes::Tokens::of(features);
        let recipients: Vec<i64> =
            envelope.recipients.iter().map(|(_, id)| *id).filter(|id| *id != smtp::EXPANDED).collect();
        match bayes.judge(&tokens, &recipients).await {
            Ok(opinions) => Some((bayes, tokens, opinions)),
            Err(e) => {
                tracing::warn!(error = %e, "spam classifier unavailable");
                None
            }
        }
    }

    /// SPF/DKIM/DMARC: the `Authentication-Results:` field and the results;
    /// DMARC `p=reject` failures refused.
    async fn authenticate(
        &self,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<Option<(String, hygiene::Auth)>, DeliverError> {
        let Some(verifier) = &self.verifier else {
            return Ok(None);
        };
        let mail_from = envelope.mail_from.as_ref().map(|a| a.to_string()).unwrap_or_default();
        let verdict = verifier.check(message, envelope.remote_ip, &envelope.helo, &mail_from).await;
        tracing::info!(spf = %verdict.spf, dkim = %verdict.dkim, dmarc = %verdict.dmarc, "inbound authentication");
        if verdict.reject {
            return Err(DeliverError::refused(
                "Refuse par la politique DMARC de l'expediteur / rejected by the sender's DMARC policy",
            ));
        }
        let auth = hygiene::Auth {
            spf: verdict.spf,
            dkim: verdict.dkim,
            dmarc: verdict.dmarc,
            dmarc_quarantine: verdict.quarantine,
        };
        Ok(Some((verdict.header, auth)))
    }

    /// The virus scan: the `X-Virus-Status` field to write and Sieve's
    /// `virustest` value; a virus (with its signature's name, for the
    /// quarantine) or, by default, a failed scan refused.
    async fn scan(&self, message: &[u8]) -> Result<(Option<String>, u8), (DeliverError, Option<String>)> {
        let Some(clamd) = &self.settings.clamd else {
            return Ok((None, 0));
        };
        match clamd.scan(message).await {
            Ok(Scan::Clean) => Ok((Some(hygiene::stamp::virus_field("clean")), 1)),
            // The signature is logged by the scan, never sent to the client.
            Ok(Scan::Infected(signature)) => Err((DeliverError::infected(hygiene::VIRUS_TEXT), Some(signature))),
            Err(_) if self.settings.on_scanner_failure == hygiene::ScannerFailure::Accept => {
                Ok((Some(hygiene::stamp::virus_field("unknown")), 0))
            }
            Err(_) => Err((DeliverError::unscanned(hygiene::SCANNER_DOWN_TEXT), None)),
        }
    }

    /// Keeps a refused message in quarantine (when on); a failure is only
    /// logged: the refusal stands either way.
    async fn keep(&self, envelope: &Envelope, message: &[u8], why: Why, detail: &str) {
        let recipients: Vec<(i64, String)> = envelope
            .recipients
            .iter()
            .filter(|(_, id)| *id != smtp::EXPANDED)
            .map(|(a, id)| (*id, a.to_string()))
            .collect();
        let from = envelope.mail_from.as_ref().map(|a| a.to_string()).unwrap_or_default();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match self.quarantine.keep(message, why, detail, &from, &recipients, now).await {
            Ok(Some(id)) => tracing::info!(quarantine = id, reason = why.as_str(), "refused message quarantined"),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "refused message could not be quarantined"),
        }
    }

    async fn score(&self, envelope: &Envelope, features: &Features, auth: Option<&hygiene::Auth>) -> hygiene::Verdict {
        let local_domains: Vec<String> = match self.mailstore.local_domains().await {
            Ok(domains) => domains.iter().map(|d| d.to_string().to_lowercase()).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "local domains unavailable for the spam checks");
                Vec::new()
            }
        };
        let colleague = self.claims_a_colleague(envelope, features, &local_domains).await;
        let ctx = hygiene::Context {
            local_domains: &local_domains,
            auth,
            helo: &envelope.helo,
            remote_ip: envelope.remote_ip,
            hostname: &self.hostname,
            display_name_is_colleague: colleague,
        };
        let mut verdict = hygiene::score(features, &ctx);
        if let Some(dnsbl) = &self.settings.dnsbl {
            for reason in dnsbl.check(envelope.remote_ip, features.from_domain.as_deref()).await {
                verdict.score += reason.points;
                verdict.reasons.push(reason);
            }
        }
        verdict
    }

    /// rspamd's judgement, when configured, with `builtin` (the built-in
    /// verdict, which stands when rspamd fails); `None` when rspamd asks
    /// for a later retry.
    async fn ask_rspamd(
        &self,
        envelope: &Envelope,
        message: &[u8],
        builtin: hygiene::Verdict,
    ) -> Option<hygiene::Verdict> {
        let Some(rspamd) = &self.settings.rspamd else {
            return Some(builtin);
        };
        let from = envelope.mail_from.as_ref().map(|a| a.to_string()).unwrap_or_default();
        let mut rcpts: Vec<String> = envelope.recipients.iter().map(|(a, _)| a.to_string()).collect();
        // One entry per account: an address shared by several comes once.
        rcpts.dedup();
        let request = hygiene::rspamd::Request {
            ip: envelope.remote_ip,
            helo: &envelope.helo,
            from: &from,
            rcpts: &rcpts,
            hostname: &self.hostname,
            queue_id: hygiene::rspamd::queue_id(message),
            user: None,
        };
        match rspamd.judge(message, &request, builtin).await {
            hygiene::rspamd::Judgement::Verdict(verdict) => Some(verdict),
            hygiene::rspamd::Judgement::Defer => None,
        }
    }

    /// Whether the From display name of a message from another domain is
    /// the name of someone in the recipients' directory.
    async fn claims_a_colleague(&self, envelope: &Envelope, f: &Features, locals: &[String]) -> bool {
        let (Some(name), Some(domain)) = (&f.display_name, &f.from_domain) else {
            return false;
        };
        let name = name.trim();
        let folded = hygiene::rules::fold(name);
        if locals.iter().any(|l| domain == l) || folded.split_whitespace().count() < 2 || name.len() > 100 {
            return false;
        }
        let Some((viewer, _)) = envelope.recipients.first() else {
            return false;
        };
        match self.mailstore.directory_lookup(viewer, name, 5).await {
            Ok(found) => found.iter().any(|e| hygiene::rules::fold(&e.name) == folded),
            Err(e) => {
                tracing::warn!(error = %e, "directory look-up for the spam checks failed");
                false
            }
        }
    }
}
