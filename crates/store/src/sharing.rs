//! Large-file sharing (schema 32, the `sharing` crate): shares (a document
//! behind a link), their versions, uploads in progress and the download
//! journal. The bytes are files of the sharing blob store; this module only
//! keeps what names them.

use model::{AccountId, BlobId};
use sqlx::Row;

use crate::error::{Error, Result};
use crate::{Store, now};

/// A share as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub id: i64,
    pub account_id: AccountId,
    /// The secret of the link (`/partage/<token>`).
    pub token: String,
    /// The document's name, the first version's file name.
    pub name: String,
    /// The argon2id hash of the link's password, if it has one.
    pub password: Option<String>,
    /// The addresses told of the link, one per line (may be empty).
    pub recipients: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// The owner was told of the first download.
    pub notified: bool,
}

impl Share {
    /// Whether the link works at `at`: neither revoked nor expired.
    pub fn live_at(&self, at: i64) -> bool {
        self.revoked_at.is_none() && at < self.expires_at
    }
}

/// One version of a shared document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareVersion {
    pub share_id: i64,
    /// 1 for the first upload, then 2, 3...
    pub version: i64,
    pub blob_id: BlobId,
    pub size: i64,
    pub filename: String,
    pub created_at: i64,
}

/// An upload in progress, or finished and not yet shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareUpload {
    pub id: String,
    pub account_id: AccountId,
    /// The length announced at creation.
    pub length: i64,
    pub filename: String,
    /// The share this upload is a new version of.
    pub share_id: Option<i64>,
    /// Set once every byte was received and stored.
    pub blob_id: Option<BlobId>,
    pub created_at: i64,
}

/// A new upload to record.
#[derive(Debug, Clone)]
pub struct NewShareUpload<'a> {
    pub id: &'a str,
    pub account_id: AccountId,
    pub length: i64,
    pub filename: &'a str,
    pub share_id: Option<i64>,
}

/// A share to create from a finished upload.
#[derive(Debug, Clone)]
pub struct NewShare<'a> {
    pub account_id: AccountId,
    pub upload: &'a str,
    pub token: &'a str,
    pub password: Option<&'a str>,
    pub recipients: &'a str,
    pub expires_at: i64,
    /// Each named recipient's own link: (address, token).
    pub recipient_links: &'a [(String, String)],
}

/// One line of the download journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareDownload {
    pub share_id: i64,
    pub version: i64,
    pub at: i64,
    /// The downloader's IP address.
    pub address: String,
    /// Who, when known (empty: someone with the link).
    pub who: String,
}

/// What the housekeeping removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SharesPurged {
    pub shares: u64,
    /// Files no version or upload names any more: the caller deletes them.
    pub unreferenced: Vec<BlobId>,
}

const SHARE_COLS: &str =
    "id, account_id, token, name, password, recipients, created_at, expires_at, revoked_at, notified";
const VERSION_COLS: &str = "share_id, version, blob_id, size, filename, created_at";
const UPLOAD_COLS: &str = "id, account_id, length, filename, share_id, blob_id, created_at";

fn blob_of(text: String) -> Result<BlobId> {
    BlobId::from_hex(&text).ok_or_else(|| Error::Corrupt(format!("blob id {text}")))
}

fn share_of(r: &sqlx::any::AnyRow) -> Result<Share> {
    let notified: i64 = r.try_get("notified")?;
    Ok(Share {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        token: r.try_get("token")?,
        name: r.try_get("name")?,
        password: r.try_get("password")?,
        recipients: r.try_get("recipients")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
        notified: notified != 0,
    })
}

fn version_of(r: &sqlx::any::AnyRow) -> Result<ShareVersion> {
    Ok(ShareVersion {
        share_id: r.try_get("share_id")?,
        version: r.try_get("version")?,
        blob_id: blob_of(r.try_get("blob_id")?)?,
        size: r.try_get("size")?,
        filename: r.try_get("filename")?,
        created_at: r.try_get("created_at")?,
    })
}

fn upload_of(r: &sqlx::any::AnyRow) -> Result<ShareUpload> {
    let blob: Option<String> = r.try_get("blob_id")?;
    Ok(ShareUpload {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        length: r.try_get("length")?,
        filename: r.try_get("filename")?,
        share_id: r.try_get("share_id")?,
        blob_id: blob.map(blob_of).transpose()?,
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    /// Bytes the account's live shares (every version) and its uploads take.
    pub async fn sharing_usage(&self, account: AccountId) -> Result<i64> {
        let row = sqlx::query(
            "SELECT CAST((SELECT COALESCE(SUM(v.size), 0) FROM share_versions v JOIN shares s ON s.id = v.share_id \
               WHERE s.account_id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2) AS BIGINT) AS shared, \
             CAST((SELECT COALESCE(SUM(length), 0) FROM share_uploads WHERE account_id = $1) AS BIGINT) AS uploading",
        )
        .bind(account)
        .bind(now())
        .fetch_one(&self.pool)
        .await?;
        let shared: i64 = row.try_get("shared")?;
        let uploading: i64 = row.try_get("uploading")?;
        Ok(shared + uploading)
    }

    /// Records a new upload.
    pub async fn create_share_upload(&self, new: &NewShareUpload<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO share_uploads (id, account_id, length, filename, share_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new.id)
        .bind(new.account_id)
        .bind(new.length)
        .bind(new.filename)
        .bind(new.share_id)
        .bind(now())
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(())
    }

    /// The upload with this id, whoever it belongs to (the caller checks).
    pub async fn share_upload(&self, id: &str) -> Result<Option<ShareUpload>> {
        let sql = format!("SELECT {UPLOAD_COLS} FROM share_uploads WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(upload_of).transpose()
    }

    /// Marks an upload complete, its bytes stored as `blob`.
    pub async fn complete_share_upload(&self, id: &str, blob: &BlobId) -> Result<()> {
        sqlx::query("UPDATE share_uploads SET blob_id = $1 WHERE id = $2")
            .bind(blob.as_str())
            .bind(id)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(())
    }

    /// Forgets an upload; whether it existed.
    pub async fn delete_share_upload(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM share_uploads WHERE id = $1")
            .bind(id)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Uploads created before `before` (abandoned: the housekeeping removes them).
    pub async fn share_uploads_before(&self, before: i64) -> Result<Vec<ShareUpload>> {
        let sql = format!("SELECT {UPLOAD_COLS} FROM share_uploads WHERE created_at < $1");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(before).fetch_all(&self.pool).await?;
        rows.iter().map(upload_of).collect()
    }

    /// Creates a share whose first version is the account's finished upload
    /// `new.upload`, which is used up. One transaction.
    pub async fn create_share(&self, new: &NewShare<'_>) -> Result<Share> {
        let mut tx = self.write_tx().await?;
        let sql = format!("SELECT {UPLOAD_COLS} FROM share_uploads WHERE id = $1 AND account_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(new.upload)
            .bind(new.account_id)
            .fetch_optional(&mut *tx)
            .await?;
        let upload = row.as_ref().map(upload_of).transpose()?.ok_or(Error::NotFound("upload"))?;
        let Some(blob) = &upload.blob_id else { return Err(Error::Invalid("the upload is not complete".into())) };
        if upload.share_id.is_some() {
            return Err(Error::Invalid("this upload is a new version of a share".into()));
        }
        let at = now();
        let sql = format!(
            "INSERT INTO shares (account_id, token, name, password, recipients, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {SHARE_COLS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(new.account_id)
            .bind(new.token)
            .bind(&upload.filename)
            .bind(new.password)
            .bind(new.recipients)
            .bind(at)
            .bind(new.expires_at)
            .fetch_one(&mut *tx)
            .await?;
        let share = share_of(&row)?;
        for (address, token) in new.recipient_links {
            sqlx::query("INSERT INTO share_recipients (share_id, token, address) VALUES ($1, $2, $3)")
                .bind(share.id)
                .bind(token)
                .bind(address)
                .execute(&mut *tx)
                .await?;
        }
        insert_version(&mut tx, share.id, 1, blob, &upload, at).await?;
        sqlx::query("DELETE FROM share_uploads WHERE id = $1").bind(&upload.id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(share)
    }

    /// Adds the finished upload `upload` (made for share `share`) as the
    /// share's next version; returns its number. One transaction.
    pub async fn add_share_version(&self, account: AccountId, share: i64, upload: &str) -> Result<i64> {
        let mut tx = self.write_tx().await?;
        let sql = format!("SELECT {UPLOAD_COLS} FROM share_uploads WHERE id = $1 AND account_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(upload).bind(account).fetch_optional(&mut *tx).await?;
        let upload = row.as_ref().map(upload_of).transpose()?.ok_or(Error::NotFound("upload"))?;
        let Some(blob) = &upload.blob_id else { return Err(Error::Invalid("the upload is not complete".into())) };
        if upload.share_id != Some(share) {
            return Err(Error::Invalid("this upload is not a version of that share".into()));
        }
        let at = now();
        let live: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM shares WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL AND expires_at > $3",
        )
        .bind(share)
        .bind(account)
        .bind(at)
        .fetch_optional(&mut *tx)
        .await?;
        if live.is_none() {
            return Err(Error::NotFound("share"));
        }
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM share_versions WHERE share_id = $1")
            .bind(share)
            .fetch_one(&mut *tx)
            .await?;
        let version = last.unwrap_or(0) + 1;
        insert_version(&mut tx, share, version, blob, &upload, at).await?;
        sqlx::query("DELETE FROM share_uploads WHERE id = $1").bind(&upload.id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// The account's shares, the newest first (revoked and expired ones
    /// included until the housekeeping removes them).
    pub async fn shares_of(&self, account: AccountId) -> Result<Vec<Share>> {
        let sql = format!("SELECT {SHARE_COLS} FROM shares WHERE account_id = $1 ORDER BY created_at DESC, id DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account).fetch_all(&self.pool).await?;
        rows.iter().map(share_of).collect()
    }

    /// Share `id` if it is the account's.
    pub async fn share_of_account(&self, account: AccountId, id: i64) -> Result<Option<Share>> {
        let sql = format!("SELECT {SHARE_COLS} FROM shares WHERE id = $1 AND account_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(account).fetch_optional(&self.pool).await?;
        row.as_ref().map(share_of).transpose()
    }

    /// The share behind a link.
    pub async fn share_by_token(&self, token: &str) -> Result<Option<Share>> {
        let sql = format!("SELECT {SHARE_COLS} FROM shares WHERE token = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(token).fetch_optional(&self.pool).await?;
        row.as_ref().map(share_of).transpose()
    }

    /// The share behind a recipient's own link, with the recipient's address.
    pub async fn share_by_recipient_token(&self, token: &str) -> Result<Option<(Share, String)>> {
        let cols = SHARE_COLS.split(", ").map(|c| format!("s.{}", c.trim())).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {cols}, r.address AS recipient FROM share_recipients r JOIN shares s ON s.id = r.share_id \
             WHERE r.token = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(token).fetch_optional(&self.pool).await?;
        row.as_ref().map(|r| Ok((share_of(r)?, r.try_get("recipient")?))).transpose()
    }

    /// Each named recipient's own link of a share: (address, token), in the
    /// order they were named.
    pub async fn share_recipient_links(&self, share: i64) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as("SELECT address, token FROM share_recipients WHERE share_id = $1 ORDER BY id")
            .bind(share)
            .fetch_all(&self.pool)
            .await?)
    }

    /// A share's versions, the first first.
    pub async fn share_versions(&self, share: i64) -> Result<Vec<ShareVersion>> {
        let sql = format!("SELECT {VERSION_COLS} FROM share_versions WHERE share_id = $1 ORDER BY version");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(share).fetch_all(&self.pool).await?;
        rows.iter().map(version_of).collect()
    }

    /// Writes a line of the journal; returns whether it is the share's first
    /// download (the owner is to be told, once: claimed by compare and set).
    pub async fn record_share_download(&self, share: i64, version: i64, address: &str, who: &str) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO share_downloads (share_id, version, at, address, who) VALUES ($1, $2, $3, $4, $5)")
            .bind(share)
            .bind(version)
            .bind(now())
            .bind(address)
            .bind(who)
            .execute(&mut *tx)
            .await?;
        let first = sqlx::query("UPDATE shares SET notified = 1 WHERE id = $1 AND notified = 0")
            .bind(share)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        tx.commit().await?;
        Ok(first)
    }

    /// A share's journal, the latest first.
    pub async fn share_downloads(&self, share: i64) -> Result<Vec<ShareDownload>> {
        let rows = sqlx::query(
            "SELECT share_id, version, at, address, who FROM share_downloads WHERE share_id = $1 \
             ORDER BY at DESC, id DESC",
        )
        .bind(share)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ShareDownload {
                    share_id: r.try_get("share_id")?,
                    version: r.try_get("version")?,
                    at: r.try_get("at")?,
                    address: r.try_get("address")?,
                    who: r.try_get("who")?,
                })
            })
            .collect()
    }

    /// Ends the account's share `id` now; whether it was live.
    pub async fn revoke_share(&self, account: AccountId, id: i64) -> Result<bool> {
        let at = now();
        let done =
            sqlx::query("UPDATE shares SET revoked_at = $1 WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL")
                .bind(at)
                .bind(id)
                .bind(account)
                .execute(&mut *self.write_conn().await?)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Removes the shares expired or revoked before `at` (with their versions
    /// and journal) and says which files nothing names any more.
    pub async fn purge_shares(&self, at: i64) -> Result<SharesPurged> {
        let mut tx = self.write_tx().await?;
        let blobs: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT v.blob_id FROM share_versions v JOIN shares s ON s.id = v.share_id \
             WHERE s.expires_at <= $1 OR s.revoked_at IS NOT NULL",
        )
        .bind(at)
        .fetch_all(&mut *tx)
        .await?;
        let shares = sqlx::query("DELETE FROM shares WHERE expires_at <= $1 OR revoked_at IS NOT NULL")
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let mut unreferenced = Vec::new();
        for blob in blobs {
            let held: i64 = sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM share_versions WHERE blob_id = $1) \
                 + (SELECT COUNT(*) FROM share_uploads WHERE blob_id = $1)",
            )
            .bind(&blob)
            .fetch_one(&mut *tx)
            .await?;
            if held == 0 {
                unreferenced.push(blob_of(blob)?);
            }
        }
        tx.commit().await?;
        Ok(SharesPurged { shares, unreferenced })
    }

    /// Whether any version or upload names this file.
    pub async fn share_blob_held(&self, blob: &BlobId) -> Result<bool> {
        let held: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM share_versions WHERE blob_id = $1) \
             + (SELECT COUNT(*) FROM share_uploads WHERE blob_id = $1)",
        )
        .bind(blob.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(held > 0)
    }
}

async fn insert_version(
    tx: &mut crate::WriteTx,
    share: i64,
    version: i64,
    blob: &BlobId,
    upload: &ShareUpload,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO share_versions (share_id, version, blob_id, size, filename, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(share)
    .bind(version)
    .bind(blob.as_str())
    .bind(upload.length)
    .bind(&upload.filename)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
