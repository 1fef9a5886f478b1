//! The administrators' announcements (schema 22): maintenance notices
//! scheduled ahead, each with its window, French text (English optional) and
//! severity, shown on the login page, every webmail page and to IMAP clients
//! at login. The older one-banner commands (`ardoise admin banner`) are a
//! notice starting now that ends the ones showing.

use sqlx::Row;

use crate::error::{Error, Result};
use crate::{Store, now};

/// Longest notice text kept, in characters.
pub const MAX_BANNER: usize = 500;

/// How a notice is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Info,
    Maintenance,
    Incident,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Maintenance => "maintenance",
            Severity::Incident => "incident",
        }
    }

    pub fn parse(word: &str) -> Option<Severity> {
        match word {
            "info" => Some(Severity::Info),
            "maintenance" => Some(Severity::Maintenance),
            "incident" => Some(Severity::Incident),
            _ => None,
        }
    }
}

/// A notice as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub id: i64,
    pub text_fr: String,
    /// Empty when no English text was given (the French one is shown).
    pub text_en: String,
    pub severity: Severity,
    pub starts_at: i64,
    /// Unix seconds from which it is no longer shown; `None`: until removed.
    pub ends_at: Option<i64>,
}

impl Notice {
    /// The text in `lang` (`en` or anything else for French).
    pub fn text(&self, lang: &str) -> &str {
        if lang == "en" && !self.text_en.is_empty() { &self.text_en } else { &self.text_fr }
    }

    pub fn shows_at(&self, at: i64) -> bool {
        self.starts_at <= at && self.ends_at.is_none_or(|end| at < end)
    }
}

/// A notice to schedule.
#[derive(Debug, Clone)]
pub struct NewNotice<'a> {
    pub text_fr: &'a str,
    pub text_en: &'a str,
    pub severity: Severity,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
}

/// The banner of the older commands: the notice showing that started last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    pub text: String,
    /// Unix seconds from which it is no longer shown.
    pub until: Option<i64>,
    pub set_at: i64,
}

const COLS: &str = "id, text_fr, text_en, severity, starts_at, ends_at";

fn notice_of(r: &sqlx::any::AnyRow) -> Result<Notice> {
    let severity: String = r.try_get("severity")?;
    Ok(Notice {
        id: r.try_get("id")?,
        text_fr: r.try_get("text_fr")?,
        text_en: r.try_get("text_en")?,
        severity: Severity::parse(&severity).unwrap_or(Severity::Info),
        starts_at: r.try_get("starts_at")?,
        ends_at: r.try_get("ends_at")?,
    })
}

fn checked(text: &str, what: &str) -> Result<()> {
    if text.chars().count() > MAX_BANNER || text.chars().any(|c| c.is_control()) {
        return Err(Error::Invalid(format!("{what}: at most {MAX_BANNER} characters, on one line")));
    }
    Ok(())
}

impl Store {
    /// Schedules a notice; returns its id.
    pub async fn add_notice(&self, n: &NewNotice<'_>) -> Result<i64> {
        let (fr, en) = (n.text_fr.trim(), n.text_en.trim());
        if fr.is_empty() {
            return Err(Error::Invalid("a notice needs a French text".into()));
        }
        checked(fr, "the French text")?;
        checked(en, "the English text")?;
        if n.ends_at.is_some_and(|end| end <= n.starts_at) {
            return Err(Error::Invalid("a notice must end after it starts".into()));
        }
        let row = sqlx::query(
            "INSERT INTO notices (text_fr, text_en, severity, starts_at, ends_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(fr)
        .bind(en)
        .bind(n.severity.as_str())
        .bind(n.starts_at)
        .bind(n.ends_at)
        .bind(now())
        .fetch_one(&mut *self.write_conn().await?)
        .await?;
        Ok(row.try_get("id")?)
    }

    /// The notices showing at `at`, the most severe first, then the latest.
    pub async fn notices_at(&self, at: i64) -> Result<Vec<Notice>> {
        let sql = format!(
            "SELECT {COLS} FROM notices WHERE starts_at <= $1 AND (ends_at IS NULL OR ends_at > $1) \
             ORDER BY CASE severity WHEN 'incident' THEN 0 WHEN 'maintenance' THEN 1 ELSE 2 END, starts_at DESC, id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at).fetch_all(&self.pool).await?;
        rows.iter().map(notice_of).collect()
    }

    /// Every notice not over at `at` (showing or to come), soonest first.
    pub async fn notices_pending(&self, at: i64) -> Result<Vec<Notice>> {
        let sql = format!("SELECT {COLS} FROM notices WHERE ends_at IS NULL OR ends_at > $1 ORDER BY starts_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at).fetch_all(&self.pool).await?;
        rows.iter().map(notice_of).collect()
    }

    /// Removes notice `id`; whether it existed.
    pub async fn remove_notice(&self, id: i64) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM notices WHERE id = $1").bind(id).execute(&mut *self.write_conn().await?).await?;
        Ok(done.rows_affected() > 0)
    }

    /// The banner to show at `at`: the notice showing that started last.
    pub async fn banner(&self, at: i64) -> Result<Option<Banner>> {
        let sql = format!(
            "SELECT {COLS} FROM notices WHERE starts_at <= $1 AND (ends_at IS NULL OR ends_at > $1) \
             ORDER BY starts_at DESC, id DESC LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(notice_of).transpose()?.map(|n| Banner {
            text: n.text_fr,
            until: n.ends_at,
            set_at: n.starts_at,
        }))
    }

    /// Shows `text` from now until `until`, ending the notices showing now
    /// (the banner replaces any other; scheduled ones are left alone).
    pub async fn set_banner(&self, text: &str, until: Option<i64>) -> Result<()> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_BANNER {
            return Err(Error::Invalid(format!("a banner is 1 to {MAX_BANNER} characters")));
        }
        let at = now();
        self.end_notices(at).await?;
        let notice = NewNotice { text_fr: text, text_en: "", severity: Severity::Info, starts_at: at, ends_at: until };
        self.add_notice(&notice).await.map(|_| ())
    }

    /// Ends the notices showing now; whether there was one.
    pub async fn clear_banner(&self) -> Result<bool> {
        self.end_notices(now()).await
    }

    async fn end_notices(&self, at: i64) -> Result<bool> {
        let done =
            sqlx::query("UPDATE notices SET ends_at = $1 WHERE starts_at <= $1 AND (ends_at IS NULL OR ends_at > $1)")
                .bind(at)
                .execute(&mut *self.write_conn().await?)
                .await?;
        Ok(done.rows_affected() > 0)
    }
}
