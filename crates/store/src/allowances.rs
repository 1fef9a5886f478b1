//! Allowances counted where every node sees them (schema 35, issue 28): a
//! limit such as « 200 messages and 2,000 recipients per hour » must hold
//! whatever node a client reaches, so a cluster counts in the shared store
//! rather than in each node's memory.
//!
//! Each (scope, subject) has one row per fixed window (`window_start`,
//! events, weight). The sliding window is estimated the usual way: the
//! previous window's counts weighed by the share of it still inside the
//! sliding one, plus the current window's. Taking is one conditional upsert,
//! so two nodes racing for the last unit cannot both get it (SQLite and
//! PostgreSQL alike: the row is locked by the statement). A refusal counts
//! nothing. Windows older than the previous one are deleted when a subject
//! opens a new window, so at most two rows per subject stay.

use sqlx::Row;

use crate::Store;
use crate::error::Result;

/// What a subject may do per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    /// The sliding window, in seconds (at least 1).
    pub window: i64,
    /// Events per window (messages sent).
    pub events: i64,
    /// Weight per window (recipients of those messages).
    pub weight: i64,
}

/// Which part of an allowance a refused event would have exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Over {
    Events,
    Weight,
}

impl Store {
    /// Counts one event of `weight` for `subject` in `scope` at `now` (unix
    /// seconds) if it fits `allowance` over the sliding window; otherwise
    /// counts nothing and says what it would have exceeded.
    pub async fn take_allowance(
        &self,
        scope: &str,
        subject: &str,
        now: i64,
        weight: i64,
        allowance: Allowance,
    ) -> Result<std::result::Result<(), Over>> {
        let window = allowance.window.max(1);
        let start = now.div_euclid(window) * window;
        let previous: Option<(i64, i64)> = sqlx::query(
            "SELECT events, weight FROM allowances WHERE scope = $1 AND subject = $2 AND window_start = $3",
        )
        .bind(scope)
        .bind(subject)
        .bind(start - window)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| Ok::<_, sqlx::Error>((r.try_get("events")?, r.try_get("weight")?)))
        .transpose()?;
        // The share of the previous window still inside the sliding one, rounded up.
        let remaining = window - (now - start);
        let carried = |n: i64| (n * remaining + window - 1) / window;
        let (prev_events, prev_weight) = previous.map_or((0, 0), |(e, w)| (carried(e), carried(w)));
        let max_events = allowance.events - prev_events;
        let max_weight = allowance.weight - prev_weight;
        if max_events < 1 {
            return Ok(Err(Over::Events));
        }
        if weight > max_weight {
            return Ok(Err(Over::Weight));
        }
        let mut conn = self.write_conn().await?;
        let taken: Option<i64> = sqlx::query_scalar(
            "INSERT INTO allowances (scope, subject, window_start, events, weight) VALUES ($1, $2, $3, 1, $4) \
             ON CONFLICT (scope, subject, window_start) DO UPDATE \
             SET events = allowances.events + 1, weight = allowances.weight + excluded.weight \
             WHERE allowances.events + 1 <= $5 AND allowances.weight + excluded.weight <= $6 \
             RETURNING events",
        )
        .bind(scope)
        .bind(subject)
        .bind(start)
        .bind(weight)
        .bind(max_events)
        .bind(max_weight)
        .fetch_optional(&mut *conn)
        .await?;
        match taken {
            Some(1) => {
                // A new window: the ones before the previous are of no more use.
                sqlx::query("DELETE FROM allowances WHERE scope = $1 AND subject = $2 AND window_start < $3")
                    .bind(scope)
                    .bind(subject)
                    .bind(start - window)
                    .execute(&mut *conn)
                    .await?;
                Ok(Ok(()))
            }
            Some(_) => Ok(Ok(())),
            None => {
                let current: Option<i64> = sqlx::query_scalar(
                    "SELECT events FROM allowances WHERE scope = $1 AND subject = $2 AND window_start = $3",
                )
                .bind(scope)
                .bind(subject)
                .bind(start)
                .fetch_optional(&mut *conn)
                .await?;
                Ok(Err(if current.unwrap_or(0) + 1 > max_events { Over::Events } else { Over::Weight }))
            }
        }
    }
}
