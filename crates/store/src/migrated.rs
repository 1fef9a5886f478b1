//! What `ardoise migrate imap` has copied (schema 19): one row per source
//! message, keyed by the account, the source (server and login), the source
//! folder, its UIDVALIDITY and the message's UID, naming the target by
//! mailbox and UID. Each row is written right after its message is
//! delivered, so a run killed half-way resumes where it stopped.

use model::{AccountId, MailboxId};
use sqlx::{AnyConnection, Row};

use crate::deliver::batch;
use crate::error::{Error, Result};
use crate::sql::{CHUNK_ROWS, tuples};
use crate::types::{Delivered, NewMessage, Target};
use crate::{Store, Urgency, now};

/// Where one source message was copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigratedMessage {
    pub uid: i64,
    pub mailbox: MailboxId,
    pub target_uid: i64,
}

/// A source folder as the map names it.
#[derive(Debug, Clone, Copy)]
pub struct SourceFolder<'a> {
    pub account: AccountId,
    /// Server and login, e.g. `imap.example.org/claire`.
    pub source: &'a str,
    pub folder: &'a str,
    pub uid_validity: i64,
}

impl Store {
    /// Every message of this source folder (at this UIDVALIDITY) already
    /// copied, by source UID.
    pub async fn migrated_messages(&self, at: SourceFolder<'_>) -> Result<Vec<MigratedMessage>> {
        let rows = sqlx::query(
            "SELECT uid, mailbox_id, target_uid FROM migrated_messages \
             WHERE account_id = $1 AND source = $2 AND folder = $3 AND uid_validity = $4 ORDER BY uid",
        )
        .bind(at.account)
        .bind(at.source)
        .bind(at.folder)
        .bind(at.uid_validity)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MigratedMessage {
                    uid: r.try_get("uid")?,
                    mailbox: r.try_get("mailbox_id")?,
                    target_uid: r.try_get("target_uid")?,
                })
            })
            .collect()
    }

    /// Delivers a batch of source messages, each to one target, and records
    /// where each went, all in one transaction: the messages and their map
    /// rows are committed together (durably), so a run killed at any point
    /// finds either both or neither. Returns each message's copy, in order.
    pub async fn deliver_migrated(
        &self,
        at: SourceFolder<'_>,
        messages: &[(i64, NewMessage, Target)],
    ) -> Result<Vec<Delivered>> {
        let batch_in: Vec<(&NewMessage, &[Target])> =
            messages.iter().map(|(_, m, t)| (m, std::slice::from_ref(t))).collect();
        let uids: Vec<i64> = messages.iter().map(|(uid, _, _)| *uid).collect();
        let filed = self
            .deliver_batch(&batch_in, Urgency::Bulk, async |conn, filed| record_in(conn, at, &uids, filed, now()).await)
            .await?;
        filed.into_iter().map(|mut copies| copies.pop().ok_or(Error::NotFound("delivered copy"))).collect()
    }

    /// Records that source message `uid` is now `target` (a repeat of the
    /// same source message replaces the row). Committed without waiting for
    /// the disk (`write_tx_relaxed`): a row lost in a power cut only makes a
    /// rerun find the copy by its fingerprint (Message-ID, date, size) in the
    /// target folder instead, and the next durable commit carries it anyway;
    /// the message itself was delivered durably before.
    pub async fn record_migrated(
        &self,
        at: SourceFolder<'_>,
        uid: i64,
        mailbox: MailboxId,
        target_uid: i64,
    ) -> Result<()> {
        let query = sqlx::query(
            "INSERT INTO migrated_messages \
             (account_id, source, folder, uid_validity, uid, mailbox_id, target_uid, migrated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (account_id, source, folder, uid_validity, uid) \
             DO UPDATE SET mailbox_id = excluded.mailbox_id, target_uid = excluded.target_uid, \
             migrated_at = excluded.migrated_at",
        )
        .bind(at.account)
        .bind(at.source)
        .bind(at.folder)
        .bind(at.uid_validity)
        .bind(uid)
        .bind(mailbox)
        .bind(target_uid)
        .bind(now());
        let mut tx = self.write_tx_relaxed().await?;
        query.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The map rows of a batch just filed: source `uids[i]` became `filed[i]`'s
/// (single) copy.
async fn record_in(
    conn: &mut AnyConnection,
    at: SourceFolder<'_>,
    uids: &[i64],
    filed: &[Vec<Delivered>],
    now: i64,
) -> Result<()> {
    let rows: Vec<(i64, &Delivered)> =
        uids.iter().zip(filed).filter_map(|(uid, copies)| copies.first().map(|c| (*uid, c))).collect();
    for chunk in rows.chunks(CHUNK_ROWS / 8) {
        let sql = format!(
            "INSERT INTO migrated_messages \
             (account_id, source, folder, uid_validity, uid, mailbox_id, target_uid, migrated_at) \
             VALUES {} \
             ON CONFLICT (account_id, source, folder, uid_validity, uid) \
             DO UPDATE SET mailbox_id = excluded.mailbox_id, target_uid = excluded.target_uid, \
             migrated_at = excluded.migrated_at",
            tuples("", 1, chunk.len(), 8)
        );
        let mut q = batch(sql, chunk.len());
        for (uid, copy) in chunk {
            q = q
                .bind(at.account)
                .bind(at.source)
                .bind(at.folder)
                .bind(at.uid_validity)
                .bind(*uid)
                .bind(copy.mailbox)
                .bind(copy.uid)
                .bind(now);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}
