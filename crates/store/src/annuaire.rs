//! The académie directory as its readers see it: active staff (and new
//! staff not yet logged in), never students, suspended or closed accounts,
//! within one scope (an académie's subtree of units, or for people outside
//! every unit, their domain's people outside every unit), with their unit
//! and its UAI; and the distribution lists of that scope. `identity`'s
//! `directory` module decides what a query means (words, accents, roles);
//! this file only runs it.

use model::{AccountId, OrgUnitId};
use sqlx::Row;

use crate::Store;
use crate::error::Result;
use crate::identities::like_escape;
use crate::lists::{ListRow, list_of};

/// Whose directory is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryScope {
    /// The people of every unit below (and at) this académie.
    Academie(OrgUnitId),
    /// The people of this domain that belong to no unit.
    Unplaced(String),
}

/// One word of a query: each given form may match.
#[derive(Debug, Clone, Default)]
pub struct DirectoryWord {
    /// Lower-cased as typed: matched inside display names.
    pub lower: String,
    /// Folded (no accents, `-` for spaces): matched inside addresses.
    pub folded: String,
    /// Units whose name or UAI the word matches.
    pub units: Vec<OrgUnitId>,
    /// Role texts (`enseignant`...) whose label the word matches.
    pub roles: Vec<&'static str>,
}

/// A person (or functional mailbox) of the directory with their unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryPerson {
    pub id: AccountId,
    pub address: String,
    pub display_name: String,
    pub role: String,
    pub unit: Option<DirectoryUnit>,
}

/// A unit as the directory shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUnit {
    pub id: OrgUnitId,
    pub kind: String,
    pub name: String,
    pub uai: Option<String>,
}

/// Who the directory lists: the statuses and roles it never shows are
/// left out here, in every query.
const VISIBLE: &str = "a.status IN ('active', 'provisional') AND a.role <> 'eleve'";

const PERSON_COLS: &str = "a.id, a.address, a.display_name, a.role, u.id AS unit_id, u.kind AS unit_kind, \
     u.name AS unit_name, u.uai AS unit_uai";

impl Store {
    /// The académie above (or at) the unit of `account`, if any.
    pub async fn academie_of(&self, account: AccountId) -> Result<Option<OrgUnitId>> {
        let unit: Option<Option<i64>> = sqlx::query_scalar("SELECT org_unit_id FROM accounts WHERE id = $1")
            .bind(account)
            .fetch_optional(&self.pool)
            .await?;
        match unit.flatten() {
            Some(unit) => self.academie_above(unit).await,
            None => Ok(None),
        }
    }

    /// Every unit of an académie's subtree (at most 100,000).
    pub async fn directory_units(&self, academie: OrgUnitId) -> Result<Vec<DirectoryUnit>> {
        let rows = sqlx::query(
            "WITH RECURSIVE sub(id, depth) AS ( \
                 SELECT id, 0 FROM org_units WHERE id = $1 \
                 UNION ALL \
                 SELECT o.id, sub.depth + 1 FROM org_units o JOIN sub ON o.parent_id = sub.id WHERE sub.depth < 64 \
             ) \
             SELECT u.id, u.kind, u.name, u.uai FROM org_units u JOIN sub ON sub.id = u.id ORDER BY u.id LIMIT 100000",
        )
        .bind(academie)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DirectoryUnit {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    name: r.try_get("name")?,
                    uai: r.try_get("uai")?,
                })
            })
            .collect()
    }

    /// Up to `limit` people of `scope` matching every word, by name (then
    /// address). No word lists everyone, by name.
    pub async fn directory_search(
        &self,
        scope: &DirectoryScope,
        words: &[DirectoryWord],
        limit: usize,
    ) -> Result<Vec<DirectoryPerson>> {
        let mut conditions = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        let (from, join, within) = scope_sql(scope);
        for w in words {
            binds.push(format!("%{}%", like_escape(&w.lower)));
            let lower = binds.len() + 1;
            binds.push(format!("%{}%", like_escape(&w.folded)));
            let folded = binds.len() + 1;
            let mut any = vec![
                format!("LOWER(a.display_name) LIKE ${lower} ESCAPE '\\'"),
                format!("a.address LIKE ${folded} ESCAPE '\\'"),
            ];
            if !w.units.is_empty() {
                let ids: Vec<String> = w.units.iter().map(i64::to_string).collect();
                any.push(format!("a.org_unit_id IN ({})", ids.join(",")));
            }
            if !w.roles.is_empty() {
                // Role texts come from `model::Role::as_str`, never from the query.
                let roles: Vec<String> = w.roles.iter().map(|r| format!("'{}'", r.replace('\'', ""))).collect();
                any.push(format!("a.role IN ({})", roles.join(",")));
            }
            conditions.push(format!("({})", any.join(" OR ")));
        }
        let filter = if conditions.is_empty() { String::new() } else { format!(" AND {}", conditions.join(" AND ")) };
        let sql = format!(
            "{from} SELECT {PERSON_COLS} FROM accounts a {join} LEFT JOIN org_units u ON u.id = a.org_unit_id \
             WHERE {within}{VISIBLE}{filter} ORDER BY a.display_name, a.address LIMIT {limit}",
        );
        self.directory_people(sql, scope, binds).await
    }

    /// The next `limit` people of `scope` after the account `after`, by id:
    /// the pages of a full listing.
    pub async fn directory_page(
        &self,
        scope: &DirectoryScope,
        after: AccountId,
        limit: usize,
    ) -> Result<Vec<DirectoryPerson>> {
        let binds: Vec<String> = Vec::new();
        let (from, join, within) = scope_sql(scope);
        let sql = format!(
            "{from} SELECT {PERSON_COLS} FROM accounts a {join} LEFT JOIN org_units u ON u.id = a.org_unit_id \
             WHERE {within}{VISIBLE} AND a.id > {after} ORDER BY a.id LIMIT {limit}",
        );
        self.directory_people(sql, scope, binds).await
    }

    /// These people of `scope`, those the directory shows (at most 1,000 ids).
    pub async fn directory_people_by_id(
        &self,
        scope: &DirectoryScope,
        ids: &[AccountId],
    ) -> Result<Vec<DirectoryPerson>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = ids.iter().take(1000).map(i64::to_string).collect();
        let binds: Vec<String> = Vec::new();
        let (from, join, within) = scope_sql(scope);
        let sql = format!(
            "{from} SELECT {PERSON_COLS} FROM accounts a {join} LEFT JOIN org_units u ON u.id = a.org_unit_id \
             WHERE {within}{VISIBLE} AND a.id IN ({}) ORDER BY a.id",
            list.join(","),
        );
        self.directory_people(sql, scope, binds).await
    }

    async fn directory_people(
        &self,
        sql: String,
        scope: &DirectoryScope,
        binds: Vec<String>,
    ) -> Result<Vec<DirectoryPerson>> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        match scope {
            DirectoryScope::Academie(id) => q = q.bind(*id),
            DirectoryScope::Unplaced(domain) => q = q.bind(domain.clone()),
        }
        for b in binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let unit_id: Option<i64> = r.try_get("unit_id")?;
                let unit = match unit_id {
                    Some(id) => Some(DirectoryUnit {
                        id,
                        kind: r.try_get("unit_kind")?,
                        name: r.try_get("unit_name")?,
                        uai: r.try_get("unit_uai")?,
                    }),
                    None => None,
                };
                Ok(DirectoryPerson {
                    id: r.try_get("id")?,
                    address: r.try_get("address")?,
                    display_name: r.try_get("display_name")?,
                    role: r.try_get("role")?,
                    unit,
                })
            })
            .collect()
    }

    /// The distribution lists of `scope`: those of a unit of the académie,
    /// and those of no unit on a domain its people use (at most `limit`).
    pub async fn directory_lists(&self, scope: &DirectoryScope, limit: usize) -> Result<Vec<ListRow>> {
        let sql = match scope {
            DirectoryScope::Academie(_) => format!(
                "WITH RECURSIVE sub(id, depth) AS ( \
                     SELECT id, 0 FROM org_units WHERE id = $1 \
                     UNION ALL \
                     SELECT o.id, sub.depth + 1 FROM org_units o JOIN sub ON o.parent_id = sub.id \
                      WHERE sub.depth < 64 \
                 ) \
                 SELECT id, address, name, description, kind, unit_id, role, post_policy, discussion, tag, created_at, \
                        archive \
                   FROM lists l \
                  WHERE l.unit_id IN (SELECT id FROM sub) \
                     OR (l.unit_id IS NULL AND l.domain IN ( \
                         SELECT DISTINCT a.domain FROM accounts a JOIN sub ON a.org_unit_id = sub.id)) \
                  ORDER BY l.name, l.address LIMIT {limit}"
            ),
            DirectoryScope::Unplaced(_) => format!(
                "SELECT id, address, name, description, kind, unit_id, role, post_policy, discussion, tag, created_at, \
                        archive \
                   FROM lists l WHERE l.unit_id IS NULL AND l.domain = $1 ORDER BY l.name, l.address LIMIT {limit}"
            ),
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        match scope {
            DirectoryScope::Academie(id) => q = q.bind(*id),
            DirectoryScope::Unplaced(domain) => q = q.bind(domain.clone()),
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(list_of).collect()
    }
}

/// The `WITH` clause, the join and the condition that keep a query within
/// `scope` (whose one placeholder is `$1`).
fn scope_sql(scope: &DirectoryScope) -> (&'static str, &'static str, &'static str) {
    match scope {
        DirectoryScope::Academie(_) => (
            "WITH RECURSIVE sub(id, depth) AS ( \
                 SELECT id, 0 FROM org_units WHERE id = $1 \
                 UNION ALL \
                 SELECT o.id, sub.depth + 1 FROM org_units o JOIN sub ON o.parent_id = sub.id WHERE sub.depth < 64 \
             )",
            "JOIN sub ON a.org_unit_id = sub.id",
            "",
        ),
        DirectoryScope::Unplaced(_) => ("", "", "a.org_unit_id IS NULL AND a.domain = $1 AND "),
    }
}
