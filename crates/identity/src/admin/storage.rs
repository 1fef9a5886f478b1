//! Storage as an administrator sees it (read only): bytes used per unit of
//! their sight (each unit with the units below it), the largest mailboxes,
//! and how much the content-addressed store saves (a circular to 40,000
//! people is stored once). Every figure is computed by the database
//! ([`store::Store::usage_by_unit`], `largest_accounts`, `dedup`); only
//! the units (a few thousand at most) are walked here.

use std::collections::HashMap;

use model::{AccountId, OrgUnitId};
use store::{Dedup, StorageScope};

use super::{AdminError, Administrator};
use crate::Identity;
use crate::lifecycle::Action;

/// Largest mailboxes listed.
pub const LARGEST: usize = 20;

/// A unit's usage, with the units below it.
#[derive(Debug, Clone)]
pub struct UnitStorage {
    pub id: OrgUnitId,
    pub name: String,
    pub uai: Option<String>,
    /// Levels below the highest unit shown.
    pub depth: usize,
    pub accounts: i64,
    pub used: i64,
}

/// One of the largest mailboxes.
#[derive(Debug, Clone)]
pub struct LargeMailbox {
    pub id: AccountId,
    pub address: String,
    pub unit: Option<String>,
    pub used: i64,
    pub quota: Option<i64>,
}

/// The storage page.
#[derive(Debug, Clone)]
pub struct StorageView {
    /// In tree order.
    pub units: Vec<UnitStorage>,
    /// Accounts in no unit (shown to governance only): count and bytes.
    pub unplaced: Option<(i64, i64)>,
    pub largest: Vec<LargeMailbox>,
    pub dedup: Dedup,
}

impl Identity {
    /// The storage figures of what `who` sees.
    pub async fn admin_storage(&self, who: &Administrator) -> Result<StorageView, AdminError> {
        let seen = who.units_read();
        let scope = StorageScope { units: seen.as_deref(), unplaced: who.may(Action::Read, None) };
        let usage = self.store.usage_by_unit(scope).await?;
        // Each unit's own figures added to it and to every unit above it.
        let parents: HashMap<OrgUnitId, Option<OrgUnitId>> = who.units.iter().map(|u| (u.id, u.parent)).collect();
        let mut totals: HashMap<OrgUnitId, (i64, i64)> = HashMap::new();
        let mut unplaced = None;
        for u in &usage {
            let Some(mut at) = u.unit else {
                unplaced = Some((u.accounts, u.used));
                continue;
            };
            for _ in 0..=parents.len() {
                let t = totals.entry(at).or_default();
                t.0 += u.accounts;
                t.1 += u.used;
                match parents.get(&at).copied().flatten() {
                    Some(p) => at = p,
                    None => break,
                }
            }
        }
        let units = self
            .admin_units(who)
            .await?
            .into_iter()
            .map(|r| {
                let (accounts, used) = totals.get(&r.id).copied().unwrap_or_default();
                UnitStorage { id: r.id, name: r.name, uai: r.uai, depth: r.depth, accounts, used }
            })
            .collect();
        let largest = self
            .store
            .largest_accounts(scope, LARGEST)
            .await?
            .into_iter()
            .map(|a| LargeMailbox {
                id: a.id,
                address: a.address.to_string(),
                unit: who.unit_name(a.org_unit),
                used: a.used_bytes,
                quota: a.quota_bytes,
            })
            .collect();
        let dedup = self.store.dedup(scope).await?;
        Ok(StorageView { units, unplaced: unplaced.filter(|_| scope.unplaced), largest, dedup })
    }
}
