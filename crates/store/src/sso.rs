//! Ardoise as an identity provider (migration 20): registered OIDC clients
//! and CAS services, the grants handed out to them (codes, tokens,
//! tickets; only their hashes), consents, and which web sessions proved a
//! second factor. The rules (lifetimes, PKCE, rotation) are the `sso`
//! crate's; this module keeps rows and makes single use atomic.

use model::AccountId;
use sqlx::Row;

use crate::error::Result;
use crate::{Store, now};

/// A registered application: an OIDC client (`kind` "oidc") or a CAS
/// service (`kind` "cas", whose one "redirect URI" is its URL prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoClient {
    pub id: String,
    pub kind: String,
    pub name: String,
    /// `None`: a public client (no secret; PKCE required).
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    /// An « application académique »: no consent page.
    pub academie_app: bool,
    pub require_2fa: bool,
    pub created_at: i64,
}

/// Something handed out to a client, kept by the hash of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoGrant {
    pub token_hash: String,
    /// "code", "access", "refresh" or "ticket".
    pub kind: String,
    pub client_id: String,
    pub account_id: AccountId,
    /// The authorization it descends from.
    pub family: String,
    /// The grant's details, as JSON (the `sso` crate's business).
    pub data: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// What the HR record says of an account, for claims.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SsoPerson {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// The HR role text (« enseignant »...).
    pub hr_role: Option<String>,
    pub uai: Option<String>,
    /// The name of the account's organisational unit.
    pub unit: Option<String>,
}

fn lines(text: &str, sep: char) -> Vec<String> {
    text.split(sep).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn client_of(r: &sqlx::any::AnyRow) -> Result<SsoClient> {
    Ok(SsoClient {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        name: r.try_get("name")?,
        secret_hash: r.try_get("secret_hash")?,
        redirect_uris: lines(&r.try_get::<String, _>("redirect_uris")?, '\n'),
        scopes: lines(&r.try_get::<String, _>("scopes")?, ' '),
        academie_app: r.try_get::<i64, _>("academie_app")? != 0,
        require_2fa: r.try_get::<i64, _>("require_2fa")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

fn grant_of(r: &sqlx::any::AnyRow) -> Result<SsoGrant> {
    Ok(SsoGrant {
        token_hash: r.try_get("token_hash")?,
        kind: r.try_get("kind")?,
        client_id: r.try_get("client_id")?,
        account_id: r.try_get("account_id")?,
        family: r.try_get("family")?,
        data: r.try_get("data")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        used_at: r.try_get("used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

const CLIENT_COLS: &str = "id, kind, name, secret_hash, redirect_uris, scopes, academie_app, require_2fa, created_at";
const GRANT_COLS: &str =
    "token_hash, kind, client_id, account_id, family, data, created_at, expires_at, used_at, revoked_at";

impl Store {
    /// Registers a client; an id already taken is `Error::Conflict`.
    pub async fn add_sso_client(&self, c: &SsoClient) -> Result<()> {
        let mut conn = self.write_conn().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO sso_clients ({CLIENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )))
        .bind(&c.id)
        .bind(&c.kind)
        .bind(&c.name)
        .bind(c.secret_hash.as_deref())
        .bind(c.redirect_uris.join("\n"))
        .bind(c.scopes.join(" "))
        .bind(i64::from(c.academie_app))
        .bind(i64::from(c.require_2fa))
        .bind(c.created_at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// The clients of one kind, by name.
    pub async fn sso_clients(&self, kind: &str) -> Result<Vec<SsoClient>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {CLIENT_COLS} FROM sso_clients WHERE kind = $1")))
            .bind(kind)
            .fetch_all(&self.pool)
            .await?;
        let mut out = rows.iter().map(client_of).collect::<Result<Vec<_>>>()?;
        out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    pub async fn sso_client(&self, id: &str) -> Result<Option<SsoClient>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {CLIENT_COLS} FROM sso_clients WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(client_of).transpose()
    }

    /// Removes a client with its grants and consents; false when unknown.
    pub async fn remove_sso_client(&self, id: &str) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        for table in ["sso_grants", "sso_consents"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE client_id = $1")))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let done = sqlx::query("DELETE FROM sso_clients WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn add_sso_grant(&self, g: &SsoGrant) -> Result<()> {
        let mut conn = self.write_conn().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO sso_grants ({GRANT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        )))
        .bind(&g.token_hash)
        .bind(&g.kind)
        .bind(&g.client_id)
        .bind(g.account_id)
        .bind(&g.family)
        .bind(&g.data)
        .bind(g.created_at)
        .bind(g.expires_at)
        .bind(g.used_at)
        .bind(g.revoked_at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    pub async fn sso_grant(&self, token_hash: &str) -> Result<Option<SsoGrant>> {
        let row =
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {GRANT_COLS} FROM sso_grants WHERE token_hash = $1")))
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(grant_of).transpose()
    }

    /// Marks a grant used if it was neither used, revoked nor expired at
    /// `at`: true for exactly one caller, however many race.
    pub async fn use_sso_grant(&self, token_hash: &str, at: i64) -> Result<bool> {
        let mut conn = self.write_conn().await?;
        let done = sqlx::query(
            "UPDATE sso_grants SET used_at = $2 WHERE token_hash = $1 \
             AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(at)
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Revokes every grant of a family (a replayed code or refresh token).
    pub async fn revoke_sso_family(&self, family: &str) -> Result<u64> {
        let mut conn = self.write_conn().await?;
        let done = sqlx::query("UPDATE sso_grants SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL")
            .bind(family)
            .bind(now())
            .execute(&mut *conn)
            .await?;
        Ok(done.rows_affected())
    }

    /// Revokes every grant of an account (suspension, closure, password change).
    pub async fn revoke_sso_account(&self, account: AccountId) -> Result<u64> {
        let mut conn = self.write_conn().await?;
        let done = sqlx::query("UPDATE sso_grants SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL")
            .bind(account)
            .bind(now())
            .execute(&mut *conn)
            .await?;
        Ok(done.rows_affected())
    }

    /// Deletes grants that expired before `before`, and second-factor marks
    /// older than it.
    pub async fn purge_sso_grants(&self, before: i64) -> Result<u64> {
        let mut conn = self.write_conn().await?;
        let done = sqlx::query("DELETE FROM sso_grants WHERE expires_at < $1").bind(before).execute(&mut *conn).await?;
        sqlx::query("DELETE FROM sso_session_factors WHERE at < $1").bind(before).execute(&mut *conn).await?;
        Ok(done.rows_affected())
    }

    /// The scopes `account` agreed to give `client`.
    pub async fn sso_consent(&self, account: AccountId, client: &str) -> Result<Option<Vec<String>>> {
        let row = sqlx::query("SELECT scopes FROM sso_consents WHERE account_id = $1 AND client_id = $2")
            .bind(account)
            .bind(client)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok(lines(&r.try_get::<String, _>("scopes")?, ' '))).transpose()
    }

    pub async fn set_sso_consent(&self, account: AccountId, client: &str, scopes: &[String]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM sso_consents WHERE account_id = $1 AND client_id = $2")
            .bind(account)
            .bind(client)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO sso_consents (account_id, client_id, scopes, at) VALUES ($1, $2, $3, $4)")
            .bind(account)
            .bind(client)
            .bind(scopes.join(" "))
            .bind(now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Records that the web session `session_hash` proved a second factor,
    /// by `method` (`otp`, `hwk`: a passkey after the password, `hwk-user`:
    /// a passwordless passkey with user verification).
    pub async fn mark_sso_second_factor(&self, session_hash: &str, account: AccountId, method: &str) -> Result<()> {
        let mut conn = self.write_conn().await?;
        sqlx::query("DELETE FROM sso_session_factors WHERE session_hash = $1")
            .bind(session_hash)
            .execute(&mut *conn)
            .await?;
        sqlx::query("INSERT INTO sso_session_factors (session_hash, account_id, at, method) VALUES ($1, $2, $3, $4)")
            .bind(session_hash)
            .bind(account)
            .bind(now())
            .bind(method)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// How the web session `session_hash` of `account` proved a second
    /// factor (see [`Store::mark_sso_second_factor`]), if it did.
    pub async fn sso_second_factor(&self, session_hash: &str, account: AccountId) -> Result<Option<String>> {
        let method =
            sqlx::query_scalar("SELECT method FROM sso_session_factors WHERE session_hash = $1 AND account_id = $2")
                .bind(session_hash)
                .bind(account)
                .fetch_optional(&self.pool)
                .await?;
        Ok(method)
    }

    /// The HR names, role and établissement of an account, and its unit's name.
    pub async fn sso_person(&self, account: AccountId) -> Result<SsoPerson> {
        let row = sqlx::query(
            "SELECT p.prenom, p.nom, p.hr_role, p.uai AS hr_uai, u.name AS unit, u.uai AS unit_uai \
             FROM accounts a LEFT JOIN people p ON p.account_id = a.id \
             LEFT JOIN org_units u ON u.id = a.org_unit_id WHERE a.id = $1",
        )
        .bind(account)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(SsoPerson::default()) };
        let hr_uai: Option<String> = r.try_get("hr_uai")?;
        let unit_uai: Option<String> = r.try_get("unit_uai")?;
        Ok(SsoPerson {
            given_name: r.try_get("prenom")?,
            family_name: r.try_get("nom")?,
            hr_role: r.try_get("hr_role")?,
            uai: hr_uai.or(unit_uai),
            unit: r.try_get("unit")?,
        })
    }
}
