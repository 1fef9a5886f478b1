//! What the login throttle asks the connection journal: how many failed
//! attempts a scope has made lately (issue 25, items 5 and 11).
//!
//! A scope is who is guessed at (an account, or an identifier that names no
//! account, so that both slow down alike and the throttle tells nothing of
//! which accounts exist) and from where (a source address, IPv6 counted per
//! /64 by the caller, or a device the web's signed cookie proves). Only
//! `bad` answers count: an attempt refused because the scope was already
//! slowed down (`throttled`) proves nothing and must not lengthen the wait,
//! or a client that retries every few seconds would stay locked out for as
//! long as it retries.

use model::AccountId;
use sqlx::Row;

use crate::Store;
use crate::error::Result;

/// Who is being guessed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guessed<'a> {
    Account(AccountId),
    /// An identifier that names no account, as the journal keeps it
    /// (trimmed, lower-case).
    Login(&'a str),
}

/// A set of journal rows whose failures are counted together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureScope<'a> {
    /// One account (or unknown identifier) from one source address.
    FromAddress(Guessed<'a>, &'a str),
    /// One account from one proven device.
    FromDevice(AccountId, &'a str),
    /// One source address, whatever the account.
    Address(&'a str),
    /// One account (or unknown identifier), from anywhere.
    Guessed(Guessed<'a>),
}

/// The journal's `result` of a helpdesk unlock: failures of the account
/// before it no longer slow its logins down.
pub const UNLOCK: &str = "unlock";

impl Store {
    /// The id of the account's latest unlock by the helpdesk (0: never).
    pub async fn last_unlock(&self, account: AccountId) -> Result<i64> {
        // ORDER BY ... LIMIT 1, not MAX: see `failures`.
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM login_journal WHERE account_id = $1 AND result = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(account)
        .bind(UNLOCK)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.unwrap_or(0))
    }

    /// The failures of `scope` since `since`, counted after the scope's last
    /// success, and the time of the latest one.
    pub async fn failures(&self, scope: FailureScope<'_>, since: i64) -> Result<(i64, Option<i64>)> {
        // $1 and $2 are the scope's keys (a repeated key when it has one),
        // $3 the window's start, $4 the row to count after.
        let (filter, k1, k2): (&str, String, String) = match scope {
            FailureScope::FromAddress(Guessed::Account(a), ip) => {
                ("account_id = $1 AND ip = $2", a.to_string(), ip.into())
            }
            FailureScope::FromAddress(Guessed::Login(l), ip) => {
                ("account_id IS NULL AND login = $1 AND ip = $2", l.into(), ip.into())
            }
            FailureScope::FromDevice(a, d) => ("account_id = $1 AND device = $2", a.to_string(), d.into()),
            FailureScope::Address(ip) => ("ip = $1 AND $2 = $2", ip.into(), ip.into()),
            FailureScope::Guessed(Guessed::Account(a)) => ("account_id = $1 AND $2 = $2", a.to_string(), String::new()),
            FailureScope::Guessed(Guessed::Login(l)) => {
                ("account_id IS NULL AND login = $1 AND $2 = $2", l.into(), String::new())
            }
        };
        // Two descents instead of a walk (schemas 12 and 14 index every
        // scope with the result and the id): the newest success of the scope
        // and the first journal row of the window; failures are then counted
        // after both, so the cost is the number of failures that matter, not
        // the scope's history (a school behind one NAT address logs in all day).
        // The newest success is asked as ORDER BY id DESC LIMIT 1, not MAX(id):
        // on PostgreSQL, before ANALYZE has seen a journal that grew fast
        // (a school's morning), MAX was planned as an aggregate over every
        // row of the scope (issue 28's load test: ~5,000 rows read per login).
        let sql = format!(
            "SELECT COALESCE((SELECT id FROM login_journal WHERE {filter} AND result = 'ok' \
             ORDER BY id DESC LIMIT 1), 0) AS ok_id, \
             COALESCE((SELECT id FROM login_journal WHERE at >= $3 ORDER BY at LIMIT 1), 0) AS first_id"
        );
        let bind_key = |q: sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>, k: &str| match scope {
            FailureScope::FromAddress(Guessed::Account(_), _)
            | FailureScope::FromDevice(..)
            | FailureScope::Guessed(Guessed::Account(_)) => q.bind(k.parse::<i64>().unwrap_or_default()),
            _ => q.bind(k.to_owned()),
        };
        let q = bind_key(sqlx::query(sqlx::AssertSqlSafe(sql)), &k1).bind(k2.clone()).bind(since);
        let row = q.fetch_one(&self.pool).await?;
        let (mut ok_id, first_id): (i64, i64) = (row.try_get("ok_id")?, row.try_get("first_id")?);
        if first_id == 0 {
            return Ok((0, None));
        }
        // An account the helpdesk unlocked counts again from the unlock, in
        // every scope of that account (not in the source address's own).
        if let FailureScope::FromAddress(Guessed::Account(a), _)
        | FailureScope::FromDevice(a, _)
        | FailureScope::Guessed(Guessed::Account(a)) = scope
        {
            ok_id = ok_id.max(self.last_unlock(a).await?);
        }
        let sql = format!(
            "SELECT COUNT(*) AS n, MAX(at) AS last FROM login_journal WHERE {filter} \
             AND result = 'bad' AND id > $4 AND at >= $3"
        );
        let q = bind_key(sqlx::query(sqlx::AssertSqlSafe(sql)), &k1).bind(k2).bind(since).bind(ok_id.max(first_id - 1));
        let row = q.fetch_one(&self.pool).await?;
        Ok((row.try_get("n")?, row.try_get("last")?))
    }
}
