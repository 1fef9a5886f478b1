//! The names an account subscribes to (schema 16).
//!
//! RFC 9051 section 6.3.7: subscriptions are a set of names of their own,
//! not a property of mailboxes. Creating a mailbox over IMAP does not
//! subscribe it, deleting one does not unsubscribe it (LIST shows the name
//! `\NonExistent \Subscribed` until the user unsubscribes), and renaming
//! carries the subscriptions of the name and of the names below it along,
//! as Dovecot does, so that a renamed folder stays visible in clients that
//! show subscribed folders only.

use model::AccountId;
use sqlx::AnyConnection;

use crate::Store;
use crate::error::Result;
use crate::mailboxes::normalize_name;

/// Most names one account may subscribe to: a bound on what LIST and LSUB
/// read, far above any real folder tree.
pub const MAX_SUBSCRIPTIONS: i64 = 10_000;

impl Store {
    /// The account's subscribed names, sorted.
    pub async fn subscriptions(&self, account: AccountId) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT name FROM subscriptions WHERE account_id = $1 ORDER BY name")
            .bind(account)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Adds a name to the account's subscriptions (no error if it is there
    /// already). The name is checked and its `INBOX` level spelt
    /// canonically, as for mailboxes.
    pub async fn subscribe(&self, account: AccountId, name: &str) -> Result<()> {
        let name = normalize_name(name)?;
        let mut conn = self.write_conn().await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subscriptions WHERE account_id = $1")
            .bind(account)
            .fetch_one(&mut *conn)
            .await?;
        if count >= MAX_SUBSCRIPTIONS {
            return Err(crate::Error::Invalid(format!("at most {MAX_SUBSCRIPTIONS} subscriptions per account")));
        }
        add_subscription(&mut conn, account, &name).await
    }

    /// Removes a name from the account's subscriptions, whether or not a
    /// mailbox has that name; `false` when it was not subscribed.
    pub async fn unsubscribe(&self, account: AccountId, name: &str) -> Result<bool> {
        let Ok(name) = normalize_name(name) else { return Ok(false) };
        let done = sqlx::query("DELETE FROM subscriptions WHERE account_id = $1 AND name = $2")
            .bind(account)
            .bind(&name)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

/// Inserts a subscription unless it exists, inside the caller's transaction.
pub(crate) async fn add_subscription(conn: &mut AnyConnection, account: AccountId, name: &str) -> Result<()> {
    sqlx::query("INSERT INTO subscriptions (account_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(account)
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves the subscriptions of `from` and of the names below it to `to`, in
/// the caller's rename transaction.
pub(crate) async fn rename_subscriptions(
    conn: &mut AnyConnection,
    account: AccountId,
    from: &str,
    to: &str,
) -> Result<()> {
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM subscriptions WHERE account_id = $1")
        .bind(account)
        .fetch_all(&mut *conn)
        .await?;
    let prefix = format!("{from}/");
    for old in names {
        let new = if old == from {
            to.to_owned()
        } else if let Some(rest) = old.strip_prefix(&prefix) {
            format!("{to}/{rest}")
        } else {
            continue;
        };
        sqlx::query("DELETE FROM subscriptions WHERE account_id = $1 AND name = $2")
            .bind(account)
            .bind(&old)
            .execute(&mut *conn)
            .await?;
        add_subscription(conn, account, &new).await?;
    }
    Ok(())
}
