//! The outbound queue as an administrator sees it: the messages waiting to
//! leave whose sending account lies within their sight (an académie's
//! administrator sees their tenant, a DSDEN's its DSDEN, a referent their
//! établissement; entries with no sending account, such as bounces, are
//! governance's: the national administrator, or the académie's when the
//! installation serves one), with retry now and delete. Listing needs
//! [`Action::Read`] on the sender's unit, acting [`Action::ManageAccount`];
//! the page shows envelopes, sizes and the remote servers' answers, never
//! a subject or a body. Every action is audited with the real actor.

use store::RcptStatus;

use super::{AdminError, Administrator};
use crate::Identity;
use crate::lifecycle::Action;

/// Entries per page.
pub const QUEUE_PAGE: usize = 50;
/// Recipients shown per entry (the count says how many more).
const RCPTS_SHOWN: usize = 10;

/// One recipient of a queued message.
#[derive(Debug, Clone)]
pub struct QueueRcpt {
    pub address: String,
    /// `pending`, `sent` or `failed`.
    pub status: &'static str,
    /// The remote server's last answer (empty before the first attempt).
    pub last_error: String,
}

/// One queued message.
#[derive(Debug, Clone)]
pub struct QueueRow {
    pub id: i64,
    /// The envelope sender (empty for a bounce's `<>`).
    pub sender: String,
    /// The sending account's unit, as « name (UAI) ».
    pub unit: Option<String>,
    pub size: i64,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub expires_at: i64,
    pub attempts: i64,
    pub pending: i64,
    /// The first recipients, and how many there are in all.
    pub recipients: Vec<QueueRcpt>,
    pub recipient_count: usize,
    /// Whether this administrator may retry or delete it.
    pub may_act: bool,
}

/// A page of the queue.
#[derive(Debug, Clone)]
pub struct QueueView {
    pub rows: Vec<QueueRow>,
    pub total: usize,
    /// From 0.
    pub page: usize,
    pub pages: usize,
}

fn status_word(s: RcptStatus) -> &'static str {
    match s {
        RcptStatus::Pending => "pending",
        RcptStatus::Sent => "sent",
        RcptStatus::Failed => "failed",
    }
}

impl Identity {
    /// Page `page` (from 0; past the end: the last) of the entries `who`
    /// sees, the oldest first.
    pub async fn admin_queue(&self, who: &Administrator, page: usize) -> Result<QueueView, AdminError> {
        let seen = who.units_read();
        let units = seen.as_deref();
        let unplaced = who.may(Action::Read, None);
        let asked = page.saturating_mul(QUEUE_PAGE);
        let (mut entries, total) = self.store.queue_page(units, unplaced, asked, QUEUE_PAGE).await?;
        let pages = total.div_ceil(QUEUE_PAGE).max(1);
        let page = page.min(pages - 1);
        if page * QUEUE_PAGE != asked {
            entries = self.store.queue_page(units, unplaced, page * QUEUE_PAGE, QUEUE_PAGE).await?.0;
        }
        let mut rows = Vec::with_capacity(entries.len());
        for e in entries {
            let rcpts = self.store.queued_recipients(e.entry.id).await?;
            let q = e.entry;
            rows.push(QueueRow {
                id: q.id,
                sender: q.sender,
                unit: who.unit_name(e.unit),
                size: q.size,
                created_at: q.created_at,
                next_attempt_at: q.next_attempt_at,
                expires_at: q.expires_at,
                attempts: q.attempts,
                pending: e.pending,
                recipient_count: rcpts.len(),
                recipients: rcpts
                    .into_iter()
                    .take(RCPTS_SHOWN)
                    .map(|r| QueueRcpt { address: r.rcpt, status: status_word(r.status), last_error: r.last_error })
                    .collect(),
                may_act: who.may(Action::ManageAccount, e.unit),
            });
        }
        Ok(QueueView { rows, total, page, pages })
    }

    /// The entry `id` when `who` sees it, after checking that they may act on it.
    async fn queue_target(&self, who: &Administrator, id: i64) -> Result<store::Queued, AdminError> {
        let unit = self.store.queued_unit(id).await?.ok_or(AdminError::NotFound)?;
        if !who.may(Action::Read, unit) {
            return Err(AdminError::NotFound);
        }
        who.check(Action::ManageAccount, unit)?;
        self.store.queued(id).await?.ok_or(AdminError::NotFound)
    }

    /// Makes the entry due now (its lifetime unchanged): the queue's runner
    /// takes it at its next pass.
    pub async fn admin_queue_retry(&self, who: &Administrator, id: i64) -> Result<(), AdminError> {
        let q = self.queue_target(who, id).await?;
        match self.store.retry_now(id, None).await {
            Ok(()) => {}
            Err(store::Error::NotFound(_)) => return Err(AdminError::NotFound),
            Err(e) => return Err(e.into()),
        }
        self.admin_audit(who, "queue.retry", &format!("file d'envoi #{id}"), &describe(&q)).await?;
        Ok(())
    }

    /// Deletes the entry: its recipients still pending get nothing, and the
    /// sender no notice of non-delivery.
    pub async fn admin_queue_delete(&self, who: &Administrator, id: i64) -> Result<(), AdminError> {
        let q = self.queue_target(who, id).await?;
        if !self.store.dequeue(id).await? {
            return Err(AdminError::NotFound);
        }
        self.admin_audit(who, "queue.delete", &format!("file d'envoi #{id}"), &describe(&q)).await?;
        Ok(())
    }
}

/// The audit log's detail of an entry: its envelope sender and size.
fn describe(q: &store::Queued) -> String {
    let sender = if q.sender.is_empty() { "<>" } else { q.sender.as_str() };
    format!("expéditeur {sender}, {} octets, {} essai(s)", q.size, q.attempts)
}
