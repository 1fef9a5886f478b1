//! Credentials: password history, TOTP state, recovery codes, app passwords,
//! the login journal, web sessions and reset tokens (schema version 5), and
//! the password expiry reminders already sent (version 7).
//!
//! This module stores what the identity crate decides; it never sees a
//! secret in clear. Tokens arrive here already hashed, and the TOTP seed
//! already encrypted (`identity::credentials::at_rest`; seeds stored before
//! that are still clear until the server's first start re-encrypts them).

use model::{AccountId, AccountStatus};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::directory::found;
use crate::error::Result;
use crate::types::{ACCOUNT_COLS, Account};
use crate::{Store, now};

/// The credential state kept beside an account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialState {
    /// The TOTP seed as stored (encrypted by the identity crate), present
    /// once enrolment started.
    pub totp_secret: Option<String>,
    /// When TOTP was confirmed; `None` while off or pending.
    pub totp_enabled_at: Option<i64>,
    /// The last TOTP time step accepted, so a code is never accepted twice.
    pub totp_last_step: i64,
    pub password_changed_at: Option<i64>,
}

/// An app password as listed to its owner (the token itself is never kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPassword {
    pub id: i64,
    pub account_id: AccountId,
    pub name: String,
    /// Subset of `imap`, `smtp`, `dav`.
    pub scopes: Vec<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A login attempt to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJournalEntry {
    pub account_id: Option<AccountId>,
    pub login: String,
    pub protocol: String,
    pub ip: String,
    pub client: String,
    pub result: String,
    /// The device the attempt proved (the web's signed cookie), if any.
    pub device: Option<String>,
}

/// A recorded login attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub id: i64,
    pub at: i64,
    pub account_id: Option<AccountId>,
    pub login: String,
    pub protocol: String,
    pub ip: String,
    pub client: String,
    pub result: String,
}

/// A web session (looked up by the hash of its cookie).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub token_hash: String,
    pub account_id: AccountId,
    pub stage: String,
    pub created_at: i64,
    pub last_seen: i64,
    pub expires_at: i64,
    pub ip: String,
    pub client: String,
}

const JOURNAL_COLS: &str = "id, at, account_id, login, protocol, ip, client, result";
const SESSION_COLS: &str = "token_hash, account_id, stage, created_at, last_seen, expires_at, ip, client";

impl Store {
    // ----- passwords and TOTP -----

    /// The credential state of an account (all empty when never set).
    pub async fn credential_state(&self, account: AccountId) -> Result<CredentialState> {
        let row = sqlx::query(
            "SELECT totp_secret, totp_enabled_at, totp_last_step, password_changed_at \
             FROM credential_state WHERE account_id = $1",
        )
        .bind(account)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(CredentialState::default()) };
        Ok(CredentialState {
            totp_secret: row.try_get("totp_secret")?,
            totp_enabled_at: row.try_get("totp_enabled_at")?,
            totp_last_step: row.try_get("totp_last_step")?,
            password_changed_at: row.try_get("password_changed_at")?,
        })
    }

    /// Replaces the password hash, remembers the previous one in the history
    /// (keeping the newest `keep`), and with `activate` turns a provisional
    /// account active. One transaction.
    pub async fn change_password(&self, account: AccountId, new_hash: &str, keep: usize, activate: bool) -> Result<()> {
        let now = now();
        let mut tx = self.write_tx().await?;
        // First, like every transaction that may change a status (lock order):
        // the number of the password's revocation, and of the activation.
        let seq = next_status_seq(&mut tx).await?;
        let old: Option<Option<String>> = sqlx::query_scalar("SELECT password_hash FROM accounts WHERE id = $1")
            .bind(account)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(old) = old else { return Err(crate::Error::NotFound("account")) };
        if let Some(old) = old {
            sqlx::query("INSERT INTO password_history (account_id, hash, at) VALUES ($1, $2, $3)")
                .bind(account)
                .bind(old)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "DELETE FROM password_history WHERE account_id = $1 AND id NOT IN \
             (SELECT id FROM password_history WHERE account_id = $1 ORDER BY id DESC LIMIT $2)",
        )
        .bind(account)
        .bind(keep as i64)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
            .bind(new_hash)
            .bind(account)
            .execute(&mut *tx)
            .await?;
        crate::revocations::record(&mut tx, seq, account, model::Revocation::Password, now).await?;
        if activate {
            sqlx::query(
                "UPDATE accounts SET status = $1, status_changed_at = $2, status_seq = $3 WHERE id = $4 AND status = $5",
            )
            .bind(AccountStatus::Active.as_str())
            .bind(now)
            .bind(seq)
            .bind(account)
            .bind(AccountStatus::Provisional.as_str())
            .execute(&mut *tx)
            .await?;
        }
        upsert_state(&mut tx, account).await?;
        sqlx::query("UPDATE credential_state SET password_changed_at = $1 WHERE account_id = $2")
            .bind(now)
            .bind(account)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A helpdesk reset: a new provisional password (the previous hash goes
    /// to the history), the account back to `provisional` so the web forces
    /// a change at the next login, every web session ended and every app
    /// password revoked. One transaction. Refused (not found) for suspended and closed accounts.
    pub async fn set_provisional_password(&self, account: AccountId, new_hash: &str) -> Result<()> {
        let now = now();
        let mut tx = self.write_tx().await?;
        let seq = next_status_seq(&mut tx).await?;
        let old: Option<Option<String>> = sqlx::query_scalar(
            "SELECT password_hash FROM accounts WHERE id = $1 AND status IN ('active', 'provisional')",
        )
        .bind(account)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(old) = old else { return Err(crate::Error::NotFound("active account")) };
        if let Some(old) = old {
            sqlx::query("INSERT INTO password_history (account_id, hash, at) VALUES ($1, $2, $3)")
                .bind(account)
                .bind(old)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "UPDATE accounts SET password_hash = $1, status = $2, \
             status_changed_at = CASE WHEN status = $2 THEN status_changed_at ELSE $3 END, \
             status_seq = CASE WHEN status = $2 THEN status_seq ELSE $4 END WHERE id = $5",
        )
        .bind(new_hash)
        .bind(AccountStatus::Provisional.as_str())
        .bind(now)
        .bind(seq)
        .bind(account)
        .execute(&mut *tx)
        .await?;
        upsert_state(&mut tx, account).await?;
        sqlx::query("UPDATE credential_state SET password_changed_at = $1 WHERE account_id = $2")
            .bind(now)
            .bind(account)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM web_sessions WHERE account_id = $1").bind(account).execute(&mut *tx).await?;
        // Sessions opened with the old password end even when the account
        // was provisional already (no status change to see), and a reset
        // means the secrets may be known to someone else: app passwords go too.
        crate::revocations::record(&mut tx, seq, account, model::Revocation::Password, now).await?;
        let seq = next_status_seq(&mut tx).await?;
        crate::revocations::revoke_all_apps(&mut tx, seq, account, now).await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- password expiry (schema version 7) -----

    /// Active, non-student accounts with a password set at or before
    /// `set_before` (the last change, or the account's creation when it
    /// never changed), with that time, oldest first.
    pub async fn passwords_set_before(&self, set_before: i64) -> Result<Vec<(Account, i64)>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLS}, COALESCE(c.password_changed_at, created_at) AS set_at FROM accounts \
             LEFT JOIN credential_state c ON c.account_id = id \
             WHERE status = $1 AND role <> $2 AND password_hash IS NOT NULL \
             AND COALESCE(c.password_changed_at, created_at) <= $3 ORDER BY set_at, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(AccountStatus::Active.as_str())
            .bind(model::Role::Student.as_str())
            .bind(set_before)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((Account::from_row(r)?, r.try_get("set_at")?))).collect()
    }

    /// The reminder thresholds (days before expiry) already mailed for the
    /// password of `account` set at `changed_at`.
    pub async fn password_reminders_sent(&self, account: AccountId, changed_at: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT days_before FROM password_reminders WHERE account_id = $1 AND changed_at = $2 \
             ORDER BY days_before",
        )
        .bind(account)
        .bind(changed_at)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Claims one reminder: true when this call recorded it (and must send
    /// it), false when it was already sent.
    pub async fn claim_password_reminder(&self, account: AccountId, changed_at: i64, days_before: i64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO password_reminders (account_id, changed_at, days_before, sent_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, changed_at, days_before) DO NOTHING",
        )
        .bind(account)
        .bind(changed_at)
        .bind(days_before)
        .bind(now())
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The previous password hashes, newest first.
    pub async fn password_history(&self, account: AccountId) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT hash FROM password_history WHERE account_id = $1 ORDER BY id DESC")
            .bind(account)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Starts (or restarts) a TOTP enrolment: the seed is kept, TOTP stays off.
    pub async fn set_totp_pending(&self, account: AccountId, secret: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        upsert_state(&mut tx, account).await?;
        sqlx::query(
            "UPDATE credential_state SET totp_secret = $1, totp_enabled_at = NULL, totp_last_step = 0 \
             WHERE account_id = $2",
        )
        .bind(secret)
        .bind(account)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every stored TOTP seed, by account (to re-encrypt seeds kept clear
    /// by older versions).
    pub async fn totp_secrets(&self) -> Result<Vec<(AccountId, String)>> {
        let rows = sqlx::query(
            "SELECT account_id, totp_secret FROM credential_state WHERE totp_secret IS NOT NULL ORDER BY account_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("account_id")?, r.try_get("totp_secret")?))).collect()
    }

    /// Replaces the stored seed `old` of `account` by `new` (the same seed,
    /// encrypted); false when it changed meanwhile.
    pub async fn replace_totp_secret(&self, account: AccountId, old: &str, new: &str) -> Result<bool> {
        let done =
            sqlx::query("UPDATE credential_state SET totp_secret = $1 WHERE account_id = $2 AND totp_secret = $3")
                .bind(new)
                .bind(account)
                .bind(old)
                .execute(&mut *self.write_conn().await?)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Turns TOTP on (after a first good code with the pending seed).
    pub async fn enable_totp(&self, account: AccountId) -> Result<()> {
        let done = sqlx::query(
            "UPDATE credential_state SET totp_enabled_at = $1 WHERE account_id = $2 AND totp_secret IS NOT NULL",
        )
        .bind(now())
        .bind(account)
        .execute(&mut *self.write_conn().await?)
        .await?;
        found(done.rows_affected(), "totp secret")
    }

    /// Turns TOTP off and erases the seed and the recovery codes.
    pub async fn disable_totp(&self, account: AccountId) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE credential_state SET totp_enabled_at = NULL, totp_secret = NULL, totp_last_step = 0 \
             WHERE account_id = $1",
        )
        .bind(account)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1").bind(account).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records `step` as used when it is newer than the last used one; false
    /// means the code was already used (a replay), atomically.
    pub async fn claim_totp_step(&self, account: AccountId, step: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE credential_state SET totp_last_step = $1 WHERE account_id = $2 AND totp_last_step < $1",
        )
        .bind(step)
        .bind(account)
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    // ----- recovery codes -----

    /// Replaces every recovery code of an account.
    pub async fn replace_recovery_codes(&self, account: AccountId, hashes: &[String]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1").bind(account).execute(&mut *tx).await?;
        for h in hashes {
            sqlx::query("INSERT INTO recovery_codes (account_id, code_hash) VALUES ($1, $2)")
                .bind(account)
                .bind(h)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Uses a recovery code once: true when it existed and was unused.
    pub async fn use_recovery_code(&self, account: AccountId, hash: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE account_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now())
        .bind(account)
        .bind(hash)
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// How many recovery codes remain unused.
    pub async fn recovery_codes_left(&self, account: AccountId) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL")
            .bind(account)
            .fetch_one(&self.pool)
            .await?)
    }

    // ----- app passwords -----

    pub async fn create_app_password(
        &self,
        account: AccountId,
        name: &str,
        scopes: &[&str],
        token_hash: &str,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO app_passwords (account_id, name, scopes, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(account)
        .bind(name)
        .bind(scopes.join(" "))
        .bind(token_hash)
        .bind(now())
        .fetch_one(&mut *self.write_conn().await?)
        .await?)
    }

    /// The live (not revoked) app passwords of an account, oldest first.
    pub async fn app_passwords(&self, account: AccountId) -> Result<Vec<AppPassword>> {
        let rows = sqlx::query(
            "SELECT id, account_id, name, scopes, created_at, last_used_at FROM app_passwords \
             WHERE account_id = $1 AND revoked_at IS NULL ORDER BY id",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(app_password_from_row).collect()
    }

    /// The live app password of `account` with this token hash, marked used.
    pub async fn use_app_password(&self, account: AccountId, token_hash: &str) -> Result<Option<AppPassword>> {
        let row = sqlx::query(
            "SELECT id, account_id, name, scopes, created_at, last_used_at FROM app_passwords \
             WHERE account_id = $1 AND token_hash = $2 AND revoked_at IS NULL",
        )
        .bind(account)
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let app = app_password_from_row(&row)?;
        sqlx::query("UPDATE app_passwords SET last_used_at = $1 WHERE id = $2")
            .bind(now())
            .bind(app.id)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(Some(app))
    }

    // ----- the login journal -----

    pub async fn record_login(&self, entry: &NewJournalEntry) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO login_journal (at, account_id, login, protocol, ip, client, result, device) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(now())
        .bind(entry.account_id)
        .bind(&entry.login)
        .bind(&entry.protocol)
        .bind(&entry.ip)
        .bind(&entry.client)
        .bind(&entry.result)
        .bind(&entry.device)
        .fetch_one(&mut *self.write_conn().await?)
        .await?)
    }

    /// Failed attempts from `ip` since `since` (every account, or only
    /// `account`), counted after the last success of the same scope, and the
    /// time of the latest one (see [`Store::failures`] for every scope).
    pub async fn recent_failures(
        &self,
        account: Option<AccountId>,
        ip: &str,
        since: i64,
    ) -> Result<(i64, Option<i64>)> {
        use crate::failures::{FailureScope, Guessed};
        let scope = match account {
            Some(a) => FailureScope::FromAddress(Guessed::Account(a), ip),
            None => FailureScope::Address(ip),
        };
        self.failures(scope, since).await
    }

    /// Whether `account` ever logged in successfully from `ip` (within the
    /// journal's retention): a known device.
    pub async fn is_known_device(&self, account: AccountId, ip: &str) -> Result<bool> {
        let hit: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM login_journal WHERE account_id = $1 AND ip = $2 AND result = 'ok' LIMIT 1",
        )
        .bind(account)
        .bind(ip)
        .fetch_optional(&self.pool)
        .await?;
        Ok(hit.is_some())
    }

    /// Whether `account` ever logged in successfully (within the retention).
    pub async fn has_logged_in(&self, account: AccountId) -> Result<bool> {
        let hit: Option<i64> =
            sqlx::query_scalar("SELECT id FROM login_journal WHERE account_id = $1 AND result = 'ok' LIMIT 1")
                .bind(account)
                .fetch_optional(&self.pool)
                .await?;
        Ok(hit.is_some())
    }

    /// The newest attempts on an account, newest first.
    pub async fn login_journal(&self, account: AccountId, limit: i64) -> Result<Vec<JournalEntry>> {
        let sql = format!("SELECT {JOURNAL_COLS} FROM login_journal WHERE account_id = $1 ORDER BY id DESC LIMIT $2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(journal_from_row).collect()
    }

    /// Forgets attempts older than `before`; returns how many went.
    pub async fn purge_login_journal(&self, before: i64) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM login_journal WHERE at < $1")
            .bind(before)
            .execute(&mut *self.write_conn().await?)
            .await?
            .rows_affected())
    }

    // ----- web sessions -----

    pub async fn create_web_session(&self, s: &WebSession) -> Result<()> {
        sqlx::query(
            "INSERT INTO web_sessions (token_hash, account_id, stage, created_at, last_seen, expires_at, ip, client) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&s.token_hash)
        .bind(s.account_id)
        .bind(&s.stage)
        .bind(s.created_at)
        .bind(s.last_seen)
        .bind(s.expires_at)
        .bind(&s.ip)
        .bind(&s.client)
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(())
    }

    /// The unexpired session with this token hash. Reading does not refresh
    /// it: the web decides when and until when ([`Store::touch_web_session`]).
    pub async fn web_session(&self, token_hash: &str) -> Result<Option<WebSession>> {
        let sql = format!("SELECT {SESSION_COLS} FROM web_sessions WHERE token_hash = $1 AND expires_at > $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(token_hash).bind(now()).fetch_optional(&self.pool).await?;
        row.as_ref().map(session_from_row).transpose()
    }

    /// Records a use of a session: its last use and its new expiry.
    pub async fn touch_web_session(&self, token_hash: &str, last_seen: i64, expires_at: i64) -> Result<()> {
        let done = sqlx::query("UPDATE web_sessions SET last_seen = $1, expires_at = $2 WHERE token_hash = $3")
            .bind(last_seen)
            .bind(expires_at)
            .bind(token_hash)
            .execute(&mut *self.write_conn().await?)
            .await?;
        found(done.rows_affected(), "web session")
    }

    pub async fn set_web_session_stage(&self, token_hash: &str, stage: &str) -> Result<()> {
        let done = sqlx::query("UPDATE web_sessions SET stage = $1 WHERE token_hash = $2")
            .bind(stage)
            .bind(token_hash)
            .execute(&mut *self.write_conn().await?)
            .await?;
        found(done.rows_affected(), "web session")
    }

    /// Live sessions of an account, newest first.
    pub async fn web_sessions(&self, account: AccountId) -> Result<Vec<WebSession>> {
        let sql = format!(
            "SELECT {SESSION_COLS} FROM web_sessions WHERE account_id = $1 AND expires_at > $2 \
             ORDER BY created_at DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account).bind(now()).fetch_all(&self.pool).await?;
        rows.iter().map(session_from_row).collect()
    }

    /// Ends one session; `account` guards against ending someone else's.
    pub async fn delete_web_session(&self, account: AccountId, token_hash: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1 AND account_id = $2")
            .bind(token_hash)
            .bind(account)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends every session of an account but `keep`; returns how many ended.
    pub async fn delete_web_sessions(&self, account: AccountId, keep: Option<&str>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM web_sessions WHERE account_id = $1 AND token_hash <> $2")
            .bind(account)
            .bind(keep.unwrap_or(""))
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected())
    }

    // ----- the home page -----

    /// Messages of a mailbox without the `seen` flag bit (the web's home page
    /// shows the Inbox's count until the webmail exists).
    pub async fn unseen_count(&self, mailbox: model::MailboxId, seen_bit: i64) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE mailbox_id = $1 AND (flags / $2) % 2 = 0")
            .bind(mailbox)
            .bind(seen_bit)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Messages of a mailbox (the webmail's « sélectionner les N messages du
    /// dossier »).
    pub async fn message_count(&self, mailbox: model::MailboxId) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE mailbox_id = $1")
            .bind(mailbox)
            .fetch_one(&self.pool)
            .await?)
    }

    // ----- reset tokens -----

    pub async fn create_reset_token(&self, account: AccountId, token_hash: &str, expires_at: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO reset_tokens (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(account)
        .bind(now())
        .bind(expires_at)
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(())
    }

    /// The account of an unused, unexpired token; with `consume` the token
    /// is spent at the same time, in one conditional update: of two uses at
    /// once, on either backend, only one finds it unused.
    pub async fn reset_token(&self, token_hash: &str, consume: bool) -> Result<Option<AccountId>> {
        let now = now();
        if consume {
            return Ok(sqlx::query_scalar(
                "UPDATE reset_tokens SET used_at = $1 \
                 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING account_id",
            )
            .bind(now)
            .bind(token_hash)
            .fetch_optional(&mut *self.write_conn().await?)
            .await?);
        }
        Ok(sqlx::query_scalar(
            "SELECT account_id FROM reset_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// What a reset request is checked against: the keyed NUMEN hash and the
    /// secondary address the HR file gives for this account (schema 3).
    pub async fn reset_contact(&self, account: AccountId) -> Result<Option<(String, Option<String>)>> {
        let row = sqlx::query("SELECT numen_hash, secondary_address FROM people WHERE account_id = $1")
            .bind(account)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get("numen_hash")?, r.try_get("secondary_address")?))).transpose()
    }

    /// Reset links asked for an account since `since` (rate limit).
    pub async fn reset_tokens_since(&self, account: AccountId, since: i64) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM reset_tokens WHERE account_id = $1 AND created_at >= $2")
            .bind(account)
            .bind(since)
            .fetch_one(&self.pool)
            .await?)
    }
}

async fn upsert_state(conn: &mut sqlx::AnyConnection, account: AccountId) -> Result<()> {
    sqlx::query("INSERT INTO credential_state (account_id) VALUES ($1) ON CONFLICT (account_id) DO NOTHING")
        .bind(account)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn app_password_from_row(row: &AnyRow) -> Result<AppPassword> {
    let scopes: String = row.try_get("scopes")?;
    Ok(AppPassword {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        name: row.try_get("name")?,
        scopes: scopes.split_ascii_whitespace().map(str::to_owned).collect(),
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

fn journal_from_row(row: &AnyRow) -> Result<JournalEntry> {
    Ok(JournalEntry {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        account_id: row.try_get("account_id")?,
        login: row.try_get("login")?,
        protocol: row.try_get("protocol")?,
        ip: row.try_get("ip")?,
        client: row.try_get("client")?,
        result: row.try_get("result")?,
    })
}

fn session_from_row(row: &AnyRow) -> Result<WebSession> {
    Ok(WebSession {
        token_hash: row.try_get("token_hash")?,
        account_id: row.try_get("account_id")?,
        stage: row.try_get("stage")?,
        created_at: row.try_get("created_at")?,
        last_seen: row.try_get("last_seen")?,
        expires_at: row.try_get("expires_at")?,
        ip: row.try_get("ip")?,
        client: row.try_get("client")?,
    })
}

/// Takes the next status-change number (schema 13). Every transaction that
/// may change an account's status calls this first: the counter's row stays
/// locked until the commit, so the numbers follow commit order (what the
/// revocation watcher relies on), and taking it first keeps one lock order.
pub(crate) async fn next_status_seq(conn: &mut sqlx::AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("UPDATE status_sequence SET seq = seq + 1 WHERE id = 1 RETURNING seq")
        .fetch_one(&mut *conn)
        .await?)
}
