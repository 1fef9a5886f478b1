//! Domains, aliases, organisational units and accounts.

use model::{AccountId, AccountStatus, Address, Domain, OrgUnitId, SpecialUse, Uai};
use sqlx::AnyConnection;
use sqlx::Row;

use crate::error::{Error, Result};
use crate::mailboxes::{Kind, insert_mailbox};
use crate::subscriptions::add_subscription;
use crate::types::{ACCOUNT_COLS, Account, NewAccount, NewOrgUnit, ORG_UNIT_COLS, OrgUnit};
use crate::{Store, now};

impl Store {
    // ----- domains and aliases -----

    /// Declares a domain as local. Adding it again changes nothing.
    pub async fn add_domain(&self, domain: &Domain) -> Result<()> {
        sqlx::query("INSERT INTO domains (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(domain.as_str())
            .bind(now())
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(())
    }

    /// Local domains, sorted by name.
    pub async fn list_domains(&self) -> Result<Vec<Domain>> {
        let names: Vec<String> =
            sqlx::query_scalar("SELECT name FROM domains ORDER BY name").fetch_all(&self.pool).await?;
        names.iter().map(|n| Domain::parse(n).map_err(|e| Error::Corrupt(format!("domain {n:?}: {e}")))).collect()
    }

    /// Whether mail for this domain is delivered here.
    pub async fn is_local_domain(&self, domain: &Domain) -> Result<bool> {
        let found: Option<String> = sqlx::query_scalar("SELECT name FROM domains WHERE name = $1")
            .bind(domain.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    /// Makes `alias` deliver to `account`. Adding the same alias to the same
    /// account again changes nothing; an address already used by another
    /// account or alias is a conflict; the domain must be local.
    pub async fn add_alias(&self, alias: &Address, account: AccountId) -> Result<()> {
        let mut tx = self.write_tx().await?;
        if !self.claim_domain(&mut tx, alias.domain().as_str()).await? {
            return Err(not_local(alias));
        }
        let owner: Option<i64> =
            sqlx::query_scalar("SELECT id FROM accounts WHERE id = $1").bind(account).fetch_optional(&mut *tx).await?;
        if owner.is_none() {
            return Err(Error::NotFound("account"));
        }
        match address_owner(&mut tx, &alias.to_string()).await? {
            Some(AddressUse::Alias(id)) if id == account => return Ok(()),
            Some(_) => {
                return Err(Error::Conflict(format!("address {alias} is already in use")));
            }
            None => {}
        }
        sqlx::query("INSERT INTO aliases (address, account_id, created_at) VALUES ($1, $2, $3)")
            .bind(alias.to_string())
            .bind(account)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes the aliases whose time ended at `now` (an agent's address in
    /// the académie they left); returns how many.
    pub async fn prune_expired_aliases(&self, now: i64) -> Result<u64> {
        let mut conn = self.write_conn().await?;
        let done = sqlx::query("DELETE FROM aliases WHERE expires_at IS NOT NULL AND expires_at <= $1")
            .bind(now)
            .execute(&mut *conn)
            .await?;
        Ok(done.rows_affected())
    }

    /// When each alias of `account` that ends does (sorted by address).
    pub async fn alias_expiries(&self, account: AccountId) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT address, expires_at FROM aliases WHERE account_id = $1 AND expires_at IS NOT NULL ORDER BY address",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("address")?, r.try_get("expires_at")?))).collect()
    }

    /// The aliases of an account, sorted.
    pub async fn list_aliases(&self, account: AccountId) -> Result<Vec<Address>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT address FROM aliases WHERE account_id = $1 ORDER BY address")
                .bind(account)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|a| Address::parse(a).map_err(|e| Error::Corrupt(format!("alias {a:?}: {e}")))).collect()
    }

    // ----- organisational units -----

    /// Adds a unit under `parent` (which must exist). A UAI belongs to one
    /// unit only.
    pub async fn create_org_unit(&self, unit: &NewOrgUnit) -> Result<OrgUnitId> {
        if unit.name.trim().is_empty() {
            return Err(Error::Invalid("an organisational unit needs a name".into()));
        }
        let mut tx = self.write_tx().await?;
        if let Some(parent) = unit.parent {
            let found: Option<i64> = sqlx::query_scalar("SELECT id FROM org_units WHERE id = $1")
                .bind(parent)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Err(Error::Invalid(format!("parent organisational unit {parent} does not exist")));
            }
        }
        if let Some(uai) = &unit.uai {
            let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM org_units WHERE uai = $1")
                .bind(uai.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(id) = taken {
                return Err(Error::Conflict(format!("UAI {uai} already belongs to unit {id}")));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO org_units (parent_id, kind, name, uai) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(unit.parent)
        .bind(unit.kind.as_str())
        .bind(unit.name.trim())
        .bind(unit.uai.as_ref().map(Uai::as_str))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Every unit, parents before their children (units are created top down).
    pub async fn list_org_units(&self) -> Result<Vec<OrgUnit>> {
        let sql = format!("SELECT {ORG_UNIT_COLS} FROM org_units ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(OrgUnit::from_row).collect()
    }

    /// The établissement (or other unit) with this UAI.
    pub async fn org_unit_by_uai(&self, uai: &Uai) -> Result<Option<OrgUnit>> {
        let sql = format!("SELECT {ORG_UNIT_COLS} FROM org_units WHERE uai = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(uai.as_str()).fetch_optional(&self.pool).await?;
        row.as_ref().map(OrgUnit::from_row).transpose()
    }

    // ----- accounts -----

    /// Creates an account and its six special-use mailboxes, in one
    /// transaction. The domain must be local; the address must not be used by
    /// another account or alias, nor the login by another account.
    pub async fn create_account(&self, new: &NewAccount) -> Result<Account> {
        if new.quota_bytes.is_some_and(|q| q < 0) {
            return Err(Error::Invalid("a quota cannot be negative".into()));
        }
        if new.login.as_deref().is_some_and(|l| l.trim().is_empty()) {
            return Err(Error::Invalid("an empty login is not a login".into()));
        }
        let address = new.address.to_string();
        let now = now();
        let mut tx = self.write_tx().await?;
        if !self.claim_domain(&mut tx, new.address.domain().as_str()).await? {
            return Err(not_local(&new.address));
        }
        if address_owner(&mut tx, &address).await?.is_some() {
            return Err(Error::Conflict(format!("address {address} is already in use")));
        }
        if let Some(login) = &new.login {
            let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE login = $1")
                .bind(login)
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_some() {
                return Err(Error::Conflict(format!("login {login} is already in use")));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (address, domain, login, display_name, role, status, quota_bytes, \
             used_bytes, org_unit_id, password_hash, created_at, status_changed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10, $10) RETURNING id",
        )
        .bind(&address)
        .bind(new.address.domain().as_str())
        .bind(new.login.as_deref())
        .bind(&new.display_name)
        .bind(new.role.as_str())
        .bind(new.status.as_str())
        .bind(new.quota_bytes)
        .bind(new.org_unit)
        .bind(new.password_hash.as_deref())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for special in SpecialUse::ALL {
            insert_mailbox(&mut tx, id, None, special.default_name(), Some(*special), Kind::Real, now).await?;
            add_subscription(&mut tx, id, special.default_name()).await?;
        }
        let account = fetch_account(&mut tx, id).await?.ok_or(Error::NotFound("account"))?;
        tx.commit().await?;
        Ok(account)
    }

    pub async fn account(&self, id: AccountId) -> Result<Option<Account>> {
        let mut conn = self.pool.acquire().await?;
        fetch_account(&mut conn, id).await
    }

    /// The account receiving mail for an address, through its aliases too.
    pub async fn account_by_address(&self, address: &Address) -> Result<Option<Account>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLS} FROM accounts WHERE address = $1 \
             OR id = (SELECT account_id FROM aliases WHERE address = $1)"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(address.to_string()).fetch_optional(&self.pool).await?;
        row.as_ref().map(Account::from_row).transpose()
    }

    pub async fn account_by_login(&self, login: &str) -> Result<Option<Account>> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE login = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(login).fetch_optional(&self.pool).await?;
        row.as_ref().map(Account::from_row).transpose()
    }

    /// Every account, sorted by address.
    pub async fn list_accounts(&self) -> Result<Vec<Account>> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts ORDER BY address");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(Account::from_row).collect()
    }

    pub async fn count_accounts(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(&self.pool).await?)
    }

    /// Changes an account's status; the time and the number of the change
    /// (schema 13) are recorded only when the status actually changes.
    pub async fn set_account_status(&self, id: AccountId, status: AccountStatus) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let seq = crate::credentials::next_status_seq(&mut tx).await?;
        let done = sqlx::query(
            "UPDATE accounts SET status = $1, \
             status_changed_at = CASE WHEN status = $1 THEN status_changed_at ELSE $2 END, \
             status_seq = CASE WHEN status = $1 THEN status_seq ELSE $3 END \
             WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(now())
        .bind(seq)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        found(done.rows_affected(), "account")?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets the quota in bytes; `None` means unlimited.
    pub async fn set_quota(&self, id: AccountId, quota_bytes: Option<i64>) -> Result<()> {
        if quota_bytes.is_some_and(|q| q < 0) {
            return Err(Error::Invalid("a quota cannot be negative".into()));
        }
        let done = sqlx::query("UPDATE accounts SET quota_bytes = $1 WHERE id = $2")
            .bind(quota_bytes)
            .bind(id)
            .execute(&mut *self.write_conn().await?)
            .await?;
        found(done.rows_affected(), "account")
    }

    /// Replaces the password hash only if it is still `old` (a hash
    /// imported from another server, upgraded at the first login);
    /// tells whether it did.
    pub async fn replace_password_hash(&self, id: AccountId, old: &str, new: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
            .bind(new)
            .bind(id)
            .bind(old)
            .execute(&mut *self.write_conn().await?)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn set_password_hash(&self, id: AccountId, hash: &str) -> Result<()> {
        let done = sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id)
            .execute(&mut *self.write_conn().await?)
            .await?;
        found(done.rows_affected(), "account")
    }
}

/// Who uses an address already.
pub(crate) enum AddressUse {
    Account,
    Alias(AccountId),
    /// A distribution list (migration 19).
    List,
}

pub(crate) async fn address_owner(conn: &mut AnyConnection, address: &str) -> Result<Option<AddressUse>> {
    let row = sqlx::query(
        "SELECT CAST(0 AS BIGINT) AS is_alias, id FROM accounts WHERE address = $1 \
         UNION ALL SELECT CAST(1 AS BIGINT), account_id FROM aliases WHERE address = $1 \
         UNION ALL SELECT CAST(2 AS BIGINT), CAST(0 AS BIGINT) FROM lists WHERE address = $1",
    )
    .bind(address)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(match row.try_get::<i64, _>(0)? {
        0 => AddressUse::Account,
        1 => AddressUse::Alias(row.try_get(1)?),
        _ => AddressUse::List,
    }))
}

pub(crate) async fn fetch_account(conn: &mut AnyConnection, id: AccountId) -> Result<Option<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(Account::from_row).transpose()
}

fn not_local(address: &Address) -> Error {
    Error::Invalid(format!("{} is not a local domain", address.domain()))
}

/// Turns "no row updated" into a not-found error.
pub(crate) fn found(rows: u64, what: &'static str) -> Result<()> {
    if rows == 0 { Err(Error::NotFound(what)) } else { Ok(()) }
}
