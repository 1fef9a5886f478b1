//! Wrong guesses in the login journal, apart from the answers refused for
//! throttling: the slow-down of re-authentication (a signed-in visitor
//! retyping their password before a sensitive change) counts only real
//! guesses, so a client that keeps asking while slowed down does not slow
//! itself down further; it only waits the time the last real guess set.

use model::AccountId;
use sqlx::Row;

use crate::Store;
use crate::error::Result;

impl Store {
    /// Wrong guesses (`bad`) of `account` from `ip` since `since`, counted
    /// after the last success of the same account from that address, and
    /// the time of the latest one. Rows refused for throttling are not
    /// counted.
    pub async fn recent_bad_guesses(&self, account: AccountId, ip: &str, since: i64) -> Result<(i64, Option<i64>)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(at) AS last FROM login_journal \
             WHERE ip = $1 AND account_id = $2 AND result = 'bad' AND at >= $3 AND id > COALESCE(\
             (SELECT MAX(id) FROM login_journal WHERE ip = $1 AND account_id = $2 AND result = 'ok'), 0)",
        )
        .bind(ip)
        .bind(account)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get("n")?, row.try_get("last")?))
    }
}
