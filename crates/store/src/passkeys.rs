//! Passkeys (schema 36): WebAuthn credentials of accounts, and the
//! challenges of ceremonies in progress.
//!
//! A challenge is claimed once: [`Store::claim_passkey_challenge`] deletes
//! its row and returns what it was given for, so two requests carrying the
//! same challenge cannot both succeed. A use moves the signature counter
//! forward only from the value that was read ([`Store::passkey_used`] is a
//! compare and set), so two assertions racing with the same counter cannot
//! both pass.

use model::AccountId;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::Result;
use crate::{Store, now};

/// A stored passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passkey {
    pub id: i64,
    pub account_id: AccountId,
    /// The credential id, base64url without padding.
    pub credential_id: String,
    /// The COSE public key, base64.
    pub public_key: String,
    pub sign_count: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A passkey to record (after a checked registration).
#[derive(Debug, Clone)]
pub struct NewPasskey<'a> {
    pub account_id: AccountId,
    pub credential_id: &'a str,
    pub public_key: &'a str,
    pub sign_count: i64,
    pub name: &'a str,
}

/// A challenge claimed: what it was given for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedChallenge {
    pub purpose: String,
    pub account_id: Option<AccountId>,
}

fn from_row(r: &AnyRow) -> Result<Passkey> {
    Ok(Passkey {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        credential_id: r.try_get("credential_id")?,
        public_key: r.try_get("public_key")?,
        sign_count: r.try_get("sign_count")?,
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

impl Store {
    /// Records a challenge (by its hash) given for `purpose`, valid until
    /// `expires_at`; expired challenges are dropped on the way.
    pub async fn put_passkey_challenge(
        &self,
        challenge_hash: &str,
        purpose: &str,
        account: Option<AccountId>,
        expires_at: i64,
    ) -> Result<()> {
        let mut conn = self.write_conn().await?;
        sqlx::query("DELETE FROM passkey_challenges WHERE expires_at < $1").bind(now()).execute(&mut *conn).await?;
        sqlx::query(
            "INSERT INTO passkey_challenges (challenge_hash, purpose, account_id, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(challenge_hash)
        .bind(purpose)
        .bind(account)
        .bind(expires_at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Takes the challenge of this hash if it is still valid: it is gone
    /// afterwards, whatever the ceremony's outcome. `None`: unknown, already
    /// used, or expired.
    pub async fn claim_passkey_challenge(&self, challenge_hash: &str) -> Result<Option<ClaimedChallenge>> {
        let row = sqlx::query(
            "DELETE FROM passkey_challenges WHERE challenge_hash = $1 AND expires_at >= $2 \
             RETURNING purpose, account_id",
        )
        .bind(challenge_hash)
        .bind(now())
        .fetch_optional(&mut *self.write_conn().await?)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(ClaimedChallenge { purpose: r.try_get("purpose")?, account_id: r.try_get("account_id")? }))
    }

    /// Records a new passkey; `Error::Conflict` when its credential id is
    /// already registered (to this account or another).
    pub async fn add_passkey(&self, new: &NewPasskey<'_>) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO passkeys (account_id, credential_id, public_key, sign_count, name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(new.account_id)
        .bind(new.credential_id)
        .bind(new.public_key)
        .bind(new.sign_count)
        .bind(new.name)
        .bind(now())
        .fetch_one(&mut *self.write_conn().await?)
        .await?;
        Ok(row.try_get("id")?)
    }

    /// The account's passkeys, oldest first.
    pub async fn passkeys(&self, account: AccountId) -> Result<Vec<Passkey>> {
        let rows = sqlx::query(
            "SELECT id, account_id, credential_id, public_key, sign_count, name, created_at, last_used_at \
             FROM passkeys WHERE account_id = $1 ORDER BY id",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// How many passkeys the account has.
    pub async fn passkey_count(&self, account: AccountId) -> Result<i64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passkeys WHERE account_id = $1")
            .bind(account)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// The passkey of a credential id, whoever holds it.
    pub async fn passkey_by_credential(&self, credential_id: &str) -> Result<Option<Passkey>> {
        let row = sqlx::query(
            "SELECT id, account_id, credential_id, public_key, sign_count, name, created_at, last_used_at \
             FROM passkeys WHERE credential_id = $1",
        )
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Records a use: the counter moves from `seen` to `count`, only if it
    /// is still `seen` (false otherwise: another use came first).
    pub async fn passkey_used(&self, id: i64, seen: i64, count: i64) -> Result<bool> {
        let done =
            sqlx::query("UPDATE passkeys SET sign_count = $1, last_used_at = $2 WHERE id = $3 AND sign_count = $4")
                .bind(count)
                .bind(now())
                .bind(id)
                .bind(seen)
                .execute(&mut *self.write_conn().await?)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes one passkey of the account; false when it has none of that id.
    pub async fn delete_passkey(&self, account: AccountId, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM passkeys WHERE account_id = $1 AND id = $2")
            .bind(account)
            .bind(id)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes every passkey of the account (the helpdesk's reset); returns how many went.
    pub async fn delete_passkeys(&self, account: AccountId) -> Result<u64> {
        let done = sqlx::query("DELETE FROM passkeys WHERE account_id = $1")
            .bind(account)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected())
    }
}
