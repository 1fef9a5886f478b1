//! The statistical spam classifier's wiring (issue 20): the classifier
//! built from `[hygiene]`, its training hooked on the mail domain's filing
//! (`mailstore::FilingHook`, implemented by `hygiene::bayes::learn`), the
//! IMAP reporting folder's forward through the webmail's submission, and
//! the pruning of rare tokens.

use std::sync::Arc;

use hygiene::bayes::learn::{Learner, ReportFolder, Reporter};
use hygiene::bayes::{Bayes, BayesSettings, Tuning};
use mail_builder::mime::{BodyPart, MimePart};
use mailstore::Mailstore;
use model::{AccountId, Address};
use web::Outbox;

/// The classifier, when `[hygiene] enabled` and `bayes` are on.
pub fn classifier(cfg: &config::Hygiene, store: &store::Store) -> Option<Arc<Bayes>> {
    if !cfg.enabled || !cfg.bayes {
        return None;
    }
    let settings = BayesSettings {
        tuning: Tuning { min_trained: i64::try_from(cfg.bayes_min_trained).unwrap_or(i64::MAX), ..Tuning::default() },
        spam_points: cfg.bayes_points,
        ham_points: cfg.bayes_ham_points,
        global_min_trained: i64::try_from(cfg.bayes_global_min_trained).unwrap_or(i64::MAX),
    };
    Some(Arc::new(Bayes::new(store.clone(), settings)))
}

/// Trains `bayes` from the owners' filing from now on; with `[hygiene]
/// report_folder` and `security_address`, messages put in that folder are
/// forwarded there too.
pub fn start(
    cfg: &config::Hygiene,
    bayes: Arc<Bayes>,
    mailstore: &Arc<Mailstore>,
    outbox: crate::http::MtaOutbox,
    store: store::Store,
) -> anyhow::Result<()> {
    let report = if cfg.report_folder.is_empty() {
        None
    } else {
        let to = Address::parse(&cfg.security_address).map_err(|_| {
            anyhow::anyhow!("[hygiene] report_folder demande security_address / report_folder needs security_address")
        })?;
        let reporter = Arc::new(ImapReporter { outbox, store, to });
        Some(ReportFolder { name: cfg.report_folder.clone(), reporter })
    };
    mailstore.set_filing_hook(Learner::start(bayes, mailstore.clone(), report));
    Ok(())
}

/// Forwards a message put in the reporting folder as the webmail's
/// « Signaler un hameçonnage » does: attached as `message/rfc822`, from its
/// owner, through the same submission.
struct ImapReporter {
    outbox: crate::http::MtaOutbox,
    store: store::Store,
    to: Address,
}

impl Reporter for ImapReporter {
    fn report(
        &self,
        account: AccountId,
        raw: Vec<u8>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move {
            let owner = self.store.account(account).await.map_err(|e| e.to_string())?.ok_or("no such account")?;
            let text = format!(
                "Message signalé comme hameçonnage par {0} depuis sa messagerie (dossier de signalement).\n\
                 Message reported as phishing by {0} from their mail client (reporting folder).\n",
                owner.address
            );
            // The message attached unencoded, as RFC 2046 asks of message/rfc822.
            let eight = raw.iter().any(|b| *b >= 0x80);
            let attached = MimePart::new("message/rfc822", BodyPart::Binary(raw.into()))
                .attachment("message-signale.eml")
                .transfer_encoding(if eight { "8bit" } else { "7bit" });
            let body = MimePart::new(
                "multipart/mixed",
                vec![MimePart::new("text/plain", BodyPart::Text(text.into())), attached],
            );
            let forward = mail_builder::MessageBuilder::new()
                .from(owner.address.to_string())
                .to(self.to.to_string())
                .subject("Signalement d'hameçonnage / Phishing report")
                .header("Auto-Submitted", mail_builder::headers::raw::Raw::new("auto-generated"))
                .body(body)
                .write_to_vec()
                .map_err(|e| e.to_string())?;
            self.outbox.send(&owner, std::slice::from_ref(&self.to), forward).await.map_err(|e| format!("{e:?}"))
        })
    }
}

/// Forgets the tokens seen once and not trained for `[hygiene]
/// bayes_prune_days`; returns how many.
pub async fn prune(cfg: &config::Hygiene, bayes: &Bayes, now: i64) -> Result<u64, store::Error> {
    let days = i64::try_from(cfg.bayes_prune_days).unwrap_or(i64::MAX / 86_400);
    bayes.prune(now.saturating_sub(days.saturating_mul(86_400))).await
}

/// Prunes once a day (the first time an hour after start).
pub async fn prune_periodically(
    cfg: config::Hygiene,
    bayes: Arc<Bayes>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut wait = std::time::Duration::from_secs(3600);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match prune(&cfg, &bayes, now).await {
            Ok(n) => tracing::info!(forgotten = n, "spam classifier pruned"),
            Err(e) => tracing::warn!(error = %e, "spam classifier pruning failed"),
        }
        wait = std::time::Duration::from_secs(86_400);
    }
}
