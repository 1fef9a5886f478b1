//! Mailboxes (folders) of an account.
//!
//! A mailbox's `name` is its full path with `/` between levels, unique within
//! the account; `parent_id` points at the mailbox named by the path before the
//! last `/`, which must exist. The first level `INBOX` is matched without
//! regard to case, as IMAP requires, and always stored as `INBOX`.

use model::{AccountId, MailboxId, SpecialUse};
use sqlx::AnyConnection;

use crate::error::{Error, Result};
use crate::sql::Locked;
use crate::subscriptions::add_subscription;
use crate::types::{ChangeKind, MAILBOX_COLS, Mailbox};
use crate::{Store, now};

/// Longest accepted mailbox path, in bytes.
const MAX_NAME_LEN: usize = 1000;

impl Store {
    /// The mailboxes of an account, sorted by name.
    pub async fn list_mailboxes(&self, account: AccountId) -> Result<Vec<Mailbox>> {
        let sql = format!("SELECT {MAILBOX_COLS} FROM mailboxes WHERE account_id = $1 ORDER BY name");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account).fetch_all(&self.pool).await?;
        rows.iter().map(Mailbox::from_row).collect()
    }

    pub async fn mailbox(&self, id: MailboxId) -> Result<Option<Mailbox>> {
        let sql = format!("SELECT {MAILBOX_COLS} FROM mailboxes WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(Mailbox::from_row).transpose()
    }

    /// Finds a mailbox by its full path (`INBOX` in any case).
    pub async fn mailbox_by_name(&self, account: AccountId, name: &str) -> Result<Option<Mailbox>> {
        let Ok(name) = normalize_name(name) else {
            return Ok(None);
        };
        let mut conn = self.pool.acquire().await?;
        mailbox_named(&mut conn, account, &name).await
    }

    pub async fn mailbox_by_special_use(&self, account: AccountId, special: SpecialUse) -> Result<Option<Mailbox>> {
        let sql = format!("SELECT {MAILBOX_COLS} FROM mailboxes WHERE account_id = $1 AND special_use = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account)
            .bind(special.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Mailbox::from_row).transpose()
    }

    /// Creates a mailbox, and its missing ancestors (the paths before each
    /// `/`) as placeholders; an existing name, or a special use the account
    /// already has, is a conflict. A placeholder of that name becomes a real
    /// mailbox (RFC 9051 section 6.3.4: creating a name that exists only as
    /// a superior of others is how a client makes it selectable). Nothing is
    /// subscribed: see [`Store::create_subscribed_mailbox`].
    pub async fn create_mailbox(
        &self,
        account: AccountId,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> Result<Mailbox> {
        self.create_mailbox_as(account, name, special_use, false).await
    }

    /// [`Store::create_mailbox`], adding the name to the account's
    /// subscriptions in the same transaction (folders made in the webmail,
    /// which IMAP clients showing subscribed folders only must see too).
    pub async fn create_subscribed_mailbox(
        &self,
        account: AccountId,
        name: &str,
        special_use: Option<SpecialUse>,
    ) -> Result<Mailbox> {
        self.create_mailbox_as(account, name, special_use, true).await
    }

    async fn create_mailbox_as(
        &self,
        account: AccountId,
        name: &str,
        special_use: Option<SpecialUse>,
        subscribe: bool,
    ) -> Result<Mailbox> {
        let name = normalize_name(name)?;
        let mut tx = self.write_tx().await?;
        self.lock_ids(&mut tx, Locked::Accounts, &[account]).await?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM accounts WHERE id = $1").bind(account).fetch_optional(&mut *tx).await?;
        if exists.is_none() {
            return Err(Error::NotFound("account"));
        }
        let existing = mailbox_named(&mut tx, account, &name).await?;
        if existing.as_ref().is_some_and(|m| !m.placeholder) {
            return Err(Error::Conflict(format!("mailbox {name} already exists")));
        }
        if let Some(special) = special_use {
            let taken: Option<String> =
                sqlx::query_scalar("SELECT name FROM mailboxes WHERE account_id = $1 AND special_use = $2")
                    .bind(account)
                    .bind(special.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(other) = taken {
                return Err(Error::Conflict(format!("mailbox {other} is already the {special} mailbox")));
            }
        }
        let mailbox = match existing {
            Some(placeholder) => {
                sqlx::query("UPDATE mailboxes SET placeholder = 0, special_use = $1 WHERE id = $2")
                    .bind(special_use.map(SpecialUse::as_str))
                    .bind(placeholder.id)
                    .execute(&mut *tx)
                    .await?;
                Mailbox { placeholder: false, special_use, ..placeholder }
            }
            None => {
                // RFC 9051 section 6.3.4: CREATE makes the superior names it
                // needs; they hold nothing until something is filed in them.
                let parent = match name.rsplit_once('/') {
                    None => None,
                    Some((parent_name, _)) => Some(ensure_mailbox(&mut tx, account, parent_name).await?),
                };
                insert_mailbox(&mut tx, account, parent, &name, special_use, Kind::Real, now()).await?
            }
        };
        if subscribe {
            add_subscription(&mut tx, account, &name).await?;
        }
        tx.commit().await?;
        Ok(mailbox)
    }
}

/// Whether a new mailbox row is a real mailbox or an implied parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Real,
    Placeholder,
}

/// Inserts a mailbox row and logs its creation. The caller has checked the
/// name, the parent and the account, and holds the account's lock.
///
/// UIDVALIDITY is the creation time in seconds (it fits the 32 bits IMAP
/// allows until 2106), raised above the account's `uid_validity_floor` so
/// that a mailbox recreated within the same second still gets a new value.
pub(crate) async fn insert_mailbox(
    conn: &mut AnyConnection,
    account: AccountId,
    parent: Option<MailboxId>,
    name: &str,
    special_use: Option<SpecialUse>,
    kind: Kind,
    now: i64,
) -> Result<Mailbox> {
    // A deleted mailbox may have used `now` already: stay above every value
    // the account ever handed out, and remember the new one.
    let floor: Option<i64> = sqlx::query_scalar("SELECT uid_validity_floor FROM accounts WHERE id = $1")
        .bind(account)
        .fetch_optional(&mut *conn)
        .await?;
    let uid_validity = now.max(floor.unwrap_or(0) + 1);
    sqlx::query("UPDATE accounts SET uid_validity_floor = $1 WHERE id = $2")
        .bind(uid_validity)
        .bind(account)
        .execute(&mut *conn)
        .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO mailboxes (account_id, parent_id, name, special_use, uid_validity, uid_next, \
         highest_modseq, placeholder, created_at) VALUES ($1, $2, $3, $4, $5, 1, 1, $6, $7) RETURNING id",
    )
    .bind(account)
    .bind(parent)
    .bind(name)
    .bind(special_use.map(SpecialUse::as_str))
    .bind(uid_validity)
    .bind(i64::from(kind == Kind::Placeholder))
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO changes (account_id, mailbox_id, modseq, kind, uid, message_id, at) \
         VALUES ($1, $2, 1, $3, 0, NULL, $4)",
    )
    .bind(account)
    .bind(id)
    .bind(ChangeKind::Mailbox.as_str())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(Mailbox {
        id,
        account_id: account,
        parent_id: parent,
        name: name.to_owned(),
        special_use,
        uid_validity,
        uid_next: 1,
        highest_modseq: 1,
        placeholder: kind == Kind::Placeholder,
        created_at: now,
    })
}

/// The id of mailbox `name`, created with its missing ancestors as
/// placeholders when absent. The caller holds the account's lock.
pub(crate) async fn ensure_mailbox(conn: &mut AnyConnection, account: AccountId, name: &str) -> Result<MailboxId> {
    let mut parent: Option<MailboxId> = None;
    let mut end = 0;
    for part in name.split('/') {
        end += part.len();
        let path = &name[..end];
        end += 1;
        let id = match mailbox_named(&mut *conn, account, path).await? {
            Some(existing) => existing.id,
            None => insert_mailbox(&mut *conn, account, parent, path, None, Kind::Placeholder, now()).await?.id,
        };
        parent = Some(id);
    }
    parent.ok_or_else(|| Error::Invalid("empty mailbox name".into()))
}

/// Deletes `start` and its ancestors, nearest first, while each is a
/// placeholder without children: an implied parent lives only as long as
/// something lies below it. The caller holds the account's lock.
pub(crate) async fn prune_placeholders(conn: &mut AnyConnection, start: Option<MailboxId>) -> Result<()> {
    let mut next = start;
    while let Some(id) = next {
        let sql = format!("SELECT {MAILBOX_COLS} FROM mailboxes WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *conn).await?;
        let Some(m) = row.as_ref().map(Mailbox::from_row).transpose()? else { return Ok(()) };
        if !m.placeholder {
            return Ok(());
        }
        let children: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mailboxes WHERE parent_id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        if children > 0 {
            return Ok(());
        }
        // As for any deleted mailbox, its UIDVALIDITY stays reserved.
        sqlx::query(
            "UPDATE accounts SET uid_validity_floor = CASE WHEN uid_validity_floor > $1 \
             THEN uid_validity_floor ELSE $1 END WHERE id = $2",
        )
        .bind(m.uid_validity)
        .bind(m.account_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM changes WHERE mailbox_id = $1").bind(id).execute(&mut *conn).await?;
        sqlx::query("DELETE FROM mailboxes WHERE id = $1").bind(id).execute(&mut *conn).await?;
        next = m.parent_id;
    }
    Ok(())
}

pub(crate) async fn mailbox_named(conn: &mut AnyConnection, account: AccountId, name: &str) -> Result<Option<Mailbox>> {
    let sql = format!("SELECT {MAILBOX_COLS} FROM mailboxes WHERE account_id = $1 AND name = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account).bind(name).fetch_optional(conn).await?;
    row.as_ref().map(Mailbox::from_row).transpose()
}

/// Checks a mailbox path and spells its `INBOX` level canonically.
pub(crate) fn normalize_name(name: &str) -> Result<String> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(Error::Invalid(format!("mailbox names have 1 to {MAX_NAME_LEN} bytes")));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::Invalid("mailbox names cannot contain control characters".into()));
    }
    let mut levels: Vec<&str> = name.split('/').collect();
    if levels.iter().any(|l| l.is_empty()) {
        return Err(Error::Invalid(format!("mailbox name {name:?} has an empty level")));
    }
    if levels[0].eq_ignore_ascii_case("INBOX") {
        levels[0] = "INBOX";
    }
    Ok(levels.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_inbox_is_canonical() {
        assert_eq!(normalize_name("inbox").unwrap(), "INBOX");
        assert_eq!(normalize_name("Inbox/Projets").unwrap(), "INBOX/Projets");
        assert_eq!(normalize_name("Archives/2025").unwrap(), "Archives/2025");
        assert_eq!(normalize_name("Inboxes").unwrap(), "Inboxes");
        for bad in ["", "/a", "a/", "a//b", "a\nb"] {
            assert!(normalize_name(bad).is_err(), "{bad:?}");
        }
    }
}
