//! What the webmail remembers for each account (display density, language,
//! theme, the senders whose remote images are always shown). The
//! administrators' announcements are [`crate::notices`].
//!
//! Values are kept as short words; the web crate decides which words it
//! accepts, the store only bounds their length.

use model::AccountId;
use sqlx::Row;

use crate::error::{Error, Result};
use crate::{Store, now};

/// An account's webmail preferences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebPrefs {
    /// `confortable` or `compacte`.
    pub density: String,
    /// `fr` or `en`.
    pub lang: String,
    /// `clair` or `sombre`.
    pub theme: String,
    /// Seconds a message sent from the webmail waits, cancellable, before
    /// it goes; `None`: the installation's default.
    pub undo_send: Option<i64>,
}

impl Default for WebPrefs {
    fn default() -> WebPrefs {
        WebPrefs { density: "confortable".into(), lang: "fr".into(), theme: "clair".into(), undo_send: None }
    }
}

/// An account's reading preferences (migration 30), saved apart from
/// [`WebPrefs`] so that neither form overwrites the other.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadingPrefs {
    /// The IANA zone dates are shown in; `None`: the installation's.
    pub time_zone: Option<String>,
    /// `aucun`, `droite` or `dessous`; `None`: `aucun`.
    pub reading_pane: Option<String>,
    /// `non`, `tous` or `prioritaires`; `None`: `non`.
    pub notify: Option<String>,
}

/// Longest time zone name kept (IANA names are shorter).
const MAX_ZONE: usize = 64;

/// Longest preference word and sender address kept.
const MAX_WORD: usize = 32;
const MAX_SENDER: usize = 320;
/// Longest undo send delay an account may keep, in seconds.
pub const MAX_UNDO_SEND: i64 = 600;
/// Most trusted senders one account keeps.
pub const MAX_TRUSTED: i64 = 1_000;

impl Store {
    /// The preferences of `account`, `None` when never saved (the caller
    /// then uses [`WebPrefs::default`] and the browser's language).
    pub async fn web_prefs(&self, account: AccountId) -> Result<Option<WebPrefs>> {
        let row = sqlx::query("SELECT density, lang, theme, undo_send_secs FROM web_prefs WHERE account_id = $1")
            .bind(account)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(WebPrefs {
                density: r.try_get("density")?,
                lang: r.try_get("lang")?,
                theme: r.try_get("theme")?,
                undo_send: r.try_get("undo_send_secs")?,
            })
        })
        .transpose()
    }

    /// Saves the preferences of `account`.
    pub async fn set_web_prefs(&self, account: AccountId, p: &WebPrefs) -> Result<()> {
        if [&p.density, &p.lang, &p.theme].iter().any(|w| w.is_empty() || w.len() > MAX_WORD) {
            return Err(Error::Invalid("preference words are 1 to 32 bytes".into()));
        }
        if p.undo_send.is_some_and(|s| !(0..=MAX_UNDO_SEND).contains(&s)) {
            return Err(Error::Invalid(format!("the undo send delay is 0 to {MAX_UNDO_SEND} seconds")));
        }
        sqlx::query(
            "INSERT INTO web_prefs (account_id, density, lang, theme, undo_send_secs, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (account_id) DO UPDATE SET density = excluded.density, lang = excluded.lang, \
             theme = excluded.theme, undo_send_secs = excluded.undo_send_secs, updated_at = excluded.updated_at",
        )
        .bind(account)
        .bind(&p.density)
        .bind(&p.lang)
        .bind(&p.theme)
        .bind(p.undo_send)
        .bind(now())
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(())
    }

    /// The reading preferences of `account` (all `None` when never saved).
    pub async fn reading_prefs(&self, account: AccountId) -> Result<ReadingPrefs> {
        let row = sqlx::query("SELECT time_zone, reading_pane, notify FROM web_prefs WHERE account_id = $1")
            .bind(account)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(ReadingPrefs {
                time_zone: r.try_get("time_zone")?,
                reading_pane: r.try_get("reading_pane")?,
                notify: r.try_get("notify")?,
            }),
            None => Ok(ReadingPrefs::default()),
        }
    }

    /// Saves the reading preferences of `account`, leaving its other
    /// preferences as they are (the defaults when it had none).
    pub async fn set_reading_prefs(&self, account: AccountId, p: &ReadingPrefs) -> Result<()> {
        let words = [&p.reading_pane, &p.notify];
        if words.iter().any(|w| w.as_ref().is_some_and(|w| w.is_empty() || w.len() > MAX_WORD))
            || p.time_zone.as_ref().is_some_and(|z| z.is_empty() || z.len() > MAX_ZONE)
        {
            return Err(Error::Invalid("reading preferences are 1 to 32 bytes, a zone 1 to 64".into()));
        }
        let d = WebPrefs::default();
        sqlx::query(
            "INSERT INTO web_prefs (account_id, density, lang, theme, time_zone, reading_pane, notify, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (account_id) DO UPDATE SET time_zone = excluded.time_zone, \
             reading_pane = excluded.reading_pane, notify = excluded.notify, updated_at = excluded.updated_at",
        )
        .bind(account)
        .bind(&d.density)
        .bind(&d.lang)
        .bind(&d.theme)
        .bind(&p.time_zone)
        .bind(&p.reading_pane)
        .bind(&p.notify)
        .bind(now())
        .execute(&mut *self.write_conn().await?)
        .await?;
        Ok(())
    }

    /// The senders whose remote images `account` always shows, sorted.
    pub async fn trusted_senders(&self, account: AccountId) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT sender FROM trusted_senders WHERE account_id = $1 ORDER BY sender")
            .bind(account)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Whether `account` trusts `sender` (compared in lower case).
    pub async fn is_trusted_sender(&self, account: AccountId, sender: &str) -> Result<bool> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT sender FROM trusted_senders WHERE account_id = $1 AND sender = $2")
                .bind(account)
                .bind(sender.to_ascii_lowercase())
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    /// Adds `sender` to the trusted senders of `account` (again: no change).
    /// Refused past [`MAX_TRUSTED`] entries.
    pub async fn add_trusted_sender(&self, account: AccountId, sender: &str) -> Result<()> {
        let sender = sender.trim().to_ascii_lowercase();
        if sender.is_empty() || sender.len() > MAX_SENDER {
            return Err(Error::Invalid("a sender address is 1 to 320 bytes".into()));
        }
        let mut tx = self.write_tx().await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM trusted_senders WHERE account_id = $1")
            .bind(account)
            .fetch_one(&mut *tx)
            .await?;
        if count >= MAX_TRUSTED {
            return Err(Error::Invalid("too many trusted senders".into()));
        }
        sqlx::query(
            "INSERT INTO trusted_senders (account_id, sender, added_at) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id, sender) DO NOTHING",
        )
        .bind(account)
        .bind(&sender)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes `sender` from the trusted senders of `account`; whether it was there.
    pub async fn remove_trusted_sender(&self, account: AccountId, sender: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM trusted_senders WHERE account_id = $1 AND sender = $2")
            .bind(account)
            .bind(sender.trim().to_ascii_lowercase())
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
