//! The statistical spam classifier's counts (migration 28); what they mean
//! is the `hygiene` crate's business.
//!
//! `bayes_tokens` counts, per account and for the whole platform (account
//! 0), in how many spam and good messages each token (a 64-bit hash) was
//! seen; `bayes_totals` how many messages each model was trained on;
//! `bayes_trained` which message (account, blob) was trained as what, so
//! that training it again the same way changes nothing and the other way
//! moves its counts. Every training updates the account's model and the
//! platform's in one transaction: the global model is the sum of everyone's.
//!
//! The counts are derived data, rebuilt by training: they are written
//! without waiting for the disk (`write_tx_relaxed`). Rows are changed in
//! increasing token order, account first and platform second, so that two
//! trainings running at once on PostgreSQL wait for each other instead of
//! deadlocking.

use model::{AccountId, BlobId};
use sqlx::Row;

use crate::error::Result;
use crate::{Store, now};

/// The platform-wide model's account number.
pub const GLOBAL_MODEL: AccountId = 0;

/// Tokens per statement.
const CHUNK: usize = 500;

/// What a training changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trained {
    /// A message not trained before.
    Added,
    /// Trained the other way before: its counts moved.
    Moved,
    /// Already trained this way: nothing changed.
    Already,
}

/// One token's counts in one model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenCounts {
    pub account: AccountId,
    pub token: i64,
    pub spam: i64,
    pub ham: i64,
}

/// How much the models were trained.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BayesStats {
    /// Messages in the platform's model.
    pub spam: i64,
    pub ham: i64,
    /// Distinct tokens of the platform's model.
    pub tokens: i64,
    /// Accounts that trained anything.
    pub accounts: i64,
}

impl Store {
    /// Trains `blob` of `account` as spam (or as good mail) with its
    /// `tokens` (distinct), in the account's model and the platform's.
    pub async fn bayes_train(&self, account: AccountId, blob: &BlobId, spam: bool, tokens: &[i64]) -> Result<Trained> {
        let mut tokens = tokens.to_vec();
        tokens.sort_unstable();
        tokens.dedup();
        let now = now();
        let mut tx = self.write_tx_relaxed().await?;
        let before: Option<i64> = sqlx::query("SELECT spam FROM bayes_trained WHERE account = $1 AND blob = $2")
            .bind(account)
            .bind(blob.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("spam"))
            .transpose()?;
        let (add, take) = if spam { (1, 0) } else { (0, 1) };
        let (ds, dh, outcome) = match before {
            Some(was) if (was != 0) == spam => return Ok(Trained::Already),
            Some(_) => (add - take, take - add, Trained::Moved),
            None => (add, take, Trained::Added),
        };
        for model in [account, GLOBAL_MODEL] {
            for chunk in tokens.chunks(CHUNK) {
                let values: Vec<String> = (1..=chunk.len())
                    .map(|i| format!("({model}, ${i}, {}, {}, {now})", ds.max(0), dh.max(0)))
                    .collect();
                let sql = format!(
                    "INSERT INTO bayes_tokens (account, token, spam, ham, last_seen) VALUES {} \
                     ON CONFLICT (account, token) DO UPDATE SET {}, {}, last_seen = excluded.last_seen",
                    values.join(", "),
                    clamped_add("bayes_tokens", "spam", ds),
                    clamped_add("bayes_tokens", "ham", dh),
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for t in chunk {
                    q = q.bind(*t);
                }
                q.execute(&mut *tx).await?;
            }
            let sql = format!(
                "INSERT INTO bayes_totals (account, spam, ham) VALUES ($1, {}, {}) \
                 ON CONFLICT (account) DO UPDATE SET {}, {}",
                ds.max(0),
                dh.max(0),
                clamped_add("bayes_totals", "spam", ds),
                clamped_add("bayes_totals", "ham", dh),
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(model).execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO bayes_trained (account, blob, spam, trained_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account, blob) DO UPDATE SET spam = excluded.spam, trained_at = excluded.trained_at",
        )
        .bind(account)
        .bind(blob.as_str())
        .bind(i64::from(spam))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// How `blob` of `account` was trained: `Some(true)` as spam.
    pub async fn bayes_trained_as(&self, account: AccountId, blob: &BlobId) -> Result<Option<bool>> {
        let row = sqlx::query("SELECT spam FROM bayes_trained WHERE account = $1 AND blob = $2")
            .bind(account)
            .bind(blob.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get::<i64, _>("spam")? != 0),
            None => None,
        })
    }

    /// Messages trained (spam, good) by each of `accounts` that trained
    /// any ([`GLOBAL_MODEL`] for the platform's).
    pub async fn bayes_totals(&self, accounts: &[AccountId]) -> Result<Vec<(AccountId, i64, i64)>> {
        let mut out = Vec::new();
        for chunk in accounts.chunks(CHUNK) {
            let sql = format!(
                "SELECT account, spam, ham FROM bayes_totals WHERE account IN ({})",
                crate::sql::placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for a in chunk {
                q = q.bind(*a);
            }
            for r in q.fetch_all(&self.pool).await? {
                out.push((r.try_get("account")?, r.try_get("spam")?, r.try_get("ham")?));
            }
        }
        Ok(out)
    }

    /// The counts of `tokens` in the models of `accounts`, in one query per
    /// 500 tokens; tokens a model never saw are absent.
    pub async fn bayes_tokens(&self, accounts: &[AccountId], tokens: &[i64]) -> Result<Vec<TokenCounts>> {
        let mut out = Vec::new();
        if accounts.is_empty() {
            return Ok(out);
        }
        for models in accounts.chunks(CHUNK) {
            for chunk in tokens.chunks(CHUNK) {
                let sql = format!(
                    "SELECT account, token, spam, ham FROM bayes_tokens WHERE account IN ({}) AND token IN ({})",
                    crate::sql::placeholders(1, models.len()),
                    crate::sql::placeholders(models.len() + 1, chunk.len())
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for a in models {
                    q = q.bind(*a);
                }
                for t in chunk {
                    q = q.bind(*t);
                }
                for r in q.fetch_all(&self.pool).await? {
                    out.push(TokenCounts {
                        account: r.try_get("account")?,
                        token: r.try_get("token")?,
                        spam: r.try_get("spam")?,
                        ham: r.try_get("ham")?,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Forgets tokens seen in one message at most whose last training is
    /// before `before` (and tokens whose counts went back to nothing).
    /// Returns how many were removed.
    pub async fn bayes_prune(&self, before: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM bayes_tokens WHERE spam + ham <= 1 AND last_seen < $1")
            .bind(before)
            .execute(&mut *self.write_conn().await?)
            .await?;
        let empty = sqlx::query("DELETE FROM bayes_tokens WHERE spam <= 0 AND ham <= 0")
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected() + empty.rows_affected())
    }

    /// How much the platform's model was trained.
    pub async fn bayes_stats(&self) -> Result<BayesStats> {
        let totals = self.bayes_totals(&[GLOBAL_MODEL]).await?;
        let (spam, ham) = totals.first().map_or((0, 0), |t| (t.1, t.2));
        let tokens: i64 = sqlx::query("SELECT COUNT(*) AS n FROM bayes_tokens WHERE account = $1")
            .bind(GLOBAL_MODEL)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let accounts: i64 = sqlx::query("SELECT COUNT(*) AS n FROM bayes_totals WHERE account <> $1")
            .bind(GLOBAL_MODEL)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        Ok(BayesStats { spam, ham, tokens, accounts })
    }
}

/// `column = table.column + delta`, never below 0.
fn clamped_add(table: &str, column: &str, delta: i64) -> String {
    if delta >= 0 {
        format!("{column} = {table}.{column} + {delta}")
    } else {
        format!("{column} = CASE WHEN {table}.{column} + {delta} < 0 THEN 0 ELSE {table}.{column} + {delta} END")
    }
}
