//! Training from what the owners do: a message filed into Indésirables
//! (special-use `\Junk`) is learnt as spam, one filed out of it into any
//! folder but the Corbeille as good mail, and one filed into the reporting
//! folder (`[hygiene] report_folder`) is forwarded to the security address,
//! learnt as spam and moved on to Indésirables.
//!
//! `mailstore` tells the [`Learner`] of every filing (IMAP COPY/MOVE, the
//! webmail's moves); it only queues it, and one task ([`Learner::start`])
//! reads the messages and trains, so a move never waits for the classifier
//! and a failure to train is logged, never fails the move. The queue holds
//! [`QUEUE`] filings; beyond, filings are dropped with a warning (training
//! is an improvement, never a promise).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use mailstore::{Filing, FilingHook, Mailstore};
use model::{AccountId, SpecialUse};
use tokio::sync::mpsc;

use super::Bayes;

/// Filings waiting for the training task.
pub const QUEUE: usize = 1024;

/// What a filing teaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lesson {
    Spam,
    Ham,
    /// Into the reporting folder: forwarded, learnt as spam, moved to Junk.
    Report,
}

/// The lesson of filing from a folder of special use `from` into one of
/// special use `to` (`to_report`: the reporting folder).
pub fn lesson(from: Option<SpecialUse>, to: Option<SpecialUse>, to_report: bool) -> Option<Lesson> {
    if to_report {
        Some(Lesson::Report)
    } else if to == Some(SpecialUse::Junk) {
        Some(Lesson::Spam)
    } else if from == Some(SpecialUse::Junk) && to != Some(SpecialUse::Trash) {
        Some(Lesson::Ham)
    } else {
        None
    }
}

/// Forwards a reported message to the security address on behalf of its
/// owner (the binary's: through the same submission as the webmail's
/// « Signaler un hameçonnage »).
pub trait Reporter: Send + Sync {
    fn report(&self, account: AccountId, raw: Vec<u8>)
    -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>>;
}

/// The reporting folder and who forwards what lands there.
pub struct ReportFolder {
    /// Its name, compared without regard to case.
    pub name: String,
    pub reporter: Arc<dyn Reporter>,
}

/// The [`FilingHook`] the binary installs on the mail domain.
pub struct Learner {
    queue: mpsc::Sender<Filing>,
}

impl FilingHook for Learner {
    fn filed(&self, filing: Filing) {
        if let Err(e) = self.queue.try_send(filing) {
            metrics::counter!("ardoise_bayes_dropped_total").increment(1);
            tracing::warn!(error = %e, "spam training queue full or closed: filing not learnt");
        }
    }
}

/// The training task's side.
struct Teacher {
    bayes: Arc<Bayes>,
    mail: Arc<Mailstore>,
    report: Option<ReportFolder>,
}

impl Learner {
    /// Starts the training task; it ends when the mail domain and every
    /// learner are dropped.
    pub fn start(bayes: Arc<Bayes>, mail: Arc<Mailstore>, report: Option<ReportFolder>) -> Arc<Learner> {
        let (queue, mut rx) = mpsc::channel(QUEUE);
        let teacher = Teacher { bayes, mail, report };
        tokio::spawn(async move {
            while let Some(filing) = rx.recv().await {
                if let Err(e) = teacher.handle(&filing).await {
                    tracing::warn!(account = filing.account, error = %e, "spam training failed");
                }
            }
        });
        Arc::new(Learner { queue })
    }
}

impl Teacher {
    async fn handle(&self, f: &Filing) -> Result<(), mailstore::Error> {
        let (Some(from), Some(to)) =
            (self.mail.mailbox(f.account, f.from).await?, self.mail.mailbox(f.account, f.to).await?)
        else {
            return Ok(());
        };
        let to_report = self.report.as_ref().is_some_and(|r| r.name.eq_ignore_ascii_case(&to.name));
        let Some(lesson) = lesson(from.special_use, to.special_use, to_report) else {
            return Ok(());
        };
        let spam = lesson != Lesson::Ham;
        let mut reported = Vec::new();
        for &uid in &f.uids {
            let Some(row) = self.mail.message_by_uid(to.id, uid).await? else { continue };
            let raw = self.mail.message_bytes(&row.blob_hash).await?;
            match self.bayes.learn(f.account, &row.blob_hash, &raw, spam).await {
                Ok(outcome) => tracing::info!(account = f.account, ?lesson, ?outcome, "message learnt"),
                Err(e) => tracing::warn!(account = f.account, error = %e, "message not learnt"),
            }
            if lesson == Lesson::Report
                && let Some(r) = &self.report
            {
                match r.reporter.report(f.account, raw).await {
                    Ok(()) => reported.push(uid),
                    Err(e) => tracing::warn!(account = f.account, error = %e, "reported message not forwarded"),
                }
            }
        }
        if !reported.is_empty() {
            // On to Indésirables (learning it again there changes nothing).
            if let Some(junk) = self.mail.mailbox_with_use(f.account, SpecialUse::Junk).await? {
                let copied = self.mail.copy(f.account, to.id, &reported, junk.id).await?;
                let sources: Vec<i64> = copied.iter().map(|c| c.source_uid).collect();
                self.mail.discard(f.account, to.id, &sources).await?;
            }
            tracing::info!(account = f.account, count = reported.len(), "messages reported as phishing from IMAP");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lessons_of_filings() {
        let (junk, trash, inbox) = (Some(SpecialUse::Junk), Some(SpecialUse::Trash), Some(SpecialUse::Inbox));
        assert_eq!(lesson(inbox, junk, false), Some(Lesson::Spam));
        assert_eq!(lesson(None, junk, false), Some(Lesson::Spam), "from any folder");
        assert_eq!(lesson(junk, inbox, false), Some(Lesson::Ham));
        assert_eq!(lesson(junk, None, false), Some(Lesson::Ham), "into any folder");
        assert_eq!(lesson(junk, trash, false), None, "thrown away: nothing learnt");
        assert_eq!(lesson(inbox, None, false), None);
        assert_eq!(lesson(inbox, trash, false), None);
        assert_eq!(lesson(junk, None, true), Some(Lesson::Report));
        assert_eq!(lesson(inbox, None, true), Some(Lesson::Report));
    }
}
