//! Credential revocations (schema 14): a password changed, one app password
//! or all of them revoked. Each is a numbered row, written in the
//! transaction that makes the change, so the servers' revocation watcher
//! (another process than the admin CLI, possibly another node) learns of it
//! and ends the sessions opened with that secret.
//!
//! Numbers come from the status counter (schema 13): one sequence for every
//! change that ends sessions, in commit order.

use model::{AccountId, Revocation};
use sqlx::Row;

use crate::credentials::next_status_seq;
use crate::error::{Error, Result};
use crate::{Store, now};

/// Writes the revocation `what` of `account`, numbered `seq`.
pub(crate) async fn record(
    conn: &mut sqlx::AnyConnection,
    seq: i64,
    account: AccountId,
    what: Revocation,
    at: i64,
) -> Result<()> {
    let (word, id) = match what {
        Revocation::Password => ("password", None),
        Revocation::AppPassword(id) => ("app-password", Some(id)),
        Revocation::AppPasswords => ("app-passwords", None),
    };
    sqlx::query(
        "INSERT INTO credential_revocations (seq, account_id, what, app_password_id, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(seq)
    .bind(account)
    .bind(word)
    .bind(id)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Revokes every live app password of `account` and records it.
pub(crate) async fn revoke_all_apps(
    conn: &mut sqlx::AnyConnection,
    seq: i64,
    account: AccountId,
    at: i64,
) -> Result<u64> {
    let done = sqlx::query("UPDATE app_passwords SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL")
        .bind(at)
        .bind(account)
        .execute(&mut *conn)
        .await?;
    record(conn, seq, account, Revocation::AppPasswords, at).await?;
    Ok(done.rows_affected())
}

impl Store {
    /// Revokes one app password of `account`; false when there was none.
    pub async fn revoke_app_password(&self, account: AccountId, id: i64) -> Result<bool> {
        let at = now();
        let mut tx = self.write_tx().await?;
        let seq = next_status_seq(&mut tx).await?;
        let done = sqlx::query(
            "UPDATE app_passwords SET revoked_at = $1 WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(id)
        .bind(account)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        record(&mut tx, seq, account, Revocation::AppPassword(id), at).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Revokes every live app password of `account`; how many there were.
    pub async fn revoke_app_passwords(&self, account: AccountId) -> Result<u64> {
        let at = now();
        let mut tx = self.write_tx().await?;
        let seq = next_status_seq(&mut tx).await?;
        let n = revoke_all_apps(&mut tx, seq, account, at).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// The credential revocations numbered after `after`:
    /// `(account, what, number)`, oldest first.
    pub async fn revocations_after(&self, after: i64) -> Result<Vec<(AccountId, Revocation, i64)>> {
        let rows = sqlx::query(
            "SELECT account_id, what, app_password_id, seq FROM credential_revocations WHERE seq > $1 ORDER BY seq",
        )
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let what: String = r.try_get(1)?;
                let what = match (what.as_str(), r.try_get::<Option<i64>, _>(2)?) {
                    ("password", _) => Revocation::Password,
                    ("app-password", Some(id)) => Revocation::AppPassword(id),
                    ("app-passwords", _) => Revocation::AppPasswords,
                    (other, _) => return Err(Error::Corrupt(format!("unknown revocation {other:?}"))),
                };
                Ok((r.try_get(0)?, what, r.try_get(3)?))
            })
            .collect()
    }
}
