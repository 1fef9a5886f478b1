//! Upstream identity providers (migration 38): the académie's own OpenID
//! Connect or CAS server, to which the web login may be delegated. Rows
//! only; discovery, tokens and tickets are the `sso` crate's business.

use sqlx::Row;

use crate::Store;
use crate::error::Result;

/// A configured upstream provider.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamProvider {
    /// Short name, in the login URL (`/connexion/externe/<id>`).
    pub id: String,
    /// "oidc" or "cas".
    pub kind: String,
    /// Shown on the button « Se connecter avec <label> ».
    pub label: String,
    /// OIDC: the issuer; CAS: the server's base URL (…/cas).
    pub url: String,
    pub client_id: String,
    /// The client secret as a value (discouraged: prefer `secret_file`).
    pub secret: Option<String>,
    /// A file holding the client secret, read at each use.
    pub secret_file: Option<String>,
    pub scopes: Vec<String>,
    /// The claim (OIDC) or attribute (CAS; `user` for the CAS user) that
    /// names the account: an address, an alias or a login.
    pub claim: String,
    pub created_at: i64,
}

impl std::fmt::Debug for UpstreamProvider {
    /// Never shows the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamProvider")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("label", &self.label)
            .field("url", &self.url)
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.as_ref().map(|_| "<secret>"))
            .field("secret_file", &self.secret_file)
            .field("scopes", &self.scopes)
            .field("claim", &self.claim)
            .finish()
    }
}

const COLS: &str = "id, kind, label, url, client_id, secret, secret_file, scopes, claim, created_at";

fn provider_of(r: &sqlx::any::AnyRow) -> Result<UpstreamProvider> {
    Ok(UpstreamProvider {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        label: r.try_get("label")?,
        url: r.try_get("url")?,
        client_id: r.try_get("client_id")?,
        secret: r.try_get("secret")?,
        secret_file: r.try_get("secret_file")?,
        scopes: r.try_get::<String, _>("scopes")?.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        claim: r.try_get("claim")?,
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    /// Adds a provider; an id already taken is `Error::Conflict`.
    pub async fn add_upstream_provider(&self, p: &UpstreamProvider) -> Result<()> {
        let mut conn = self.write_conn().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO upstream_providers ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        )))
        .bind(&p.id)
        .bind(&p.kind)
        .bind(&p.label)
        .bind(&p.url)
        .bind(&p.client_id)
        .bind(p.secret.as_deref())
        .bind(p.secret_file.as_deref())
        .bind(p.scopes.join(" "))
        .bind(&p.claim)
        .bind(p.created_at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Every provider, by label.
    pub async fn upstream_providers(&self) -> Result<Vec<UpstreamProvider>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLS} FROM upstream_providers")))
            .fetch_all(&self.pool)
            .await?;
        let mut out = rows.iter().map(provider_of).collect::<Result<Vec<_>>>()?;
        out.sort_by(|a, b| a.label.cmp(&b.label).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    pub async fn upstream_provider(&self, id: &str) -> Result<Option<UpstreamProvider>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLS} FROM upstream_providers WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(provider_of).transpose()
    }

    /// Removes a provider; false when unknown.
    pub async fn remove_upstream_provider(&self, id: &str) -> Result<bool> {
        let mut conn = self.write_conn().await?;
        let done = sqlx::query("DELETE FROM upstream_providers WHERE id = $1").bind(id).execute(&mut *conn).await?;
        Ok(done.rows_affected() == 1)
    }
}
