//! The quarantine as an administrator sees it: the messages the MX refused
//! (a virus, a score over the refusal threshold), kept
//! `[hygiene] quarantine_days`, released into their recipients' Inboxes or
//! deleted. Its subjects and senders are part of the mail, so, as for
//! `ardoise admin quarantine`, it is governance's ([`Action::Govern`]): a
//! message is shown, released or deleted only by an administrator who
//! governs the unit of **every** recipient (the national administrator; an
//! académie's for its own tenant's recipients: a release never delivers
//! into another académie). Looking at the list, releasing and deleting are
//! audited with the real actor.
//!
//! The list is read newest first a batch at a time ([`store::Store::quarantined_before`]):
//! an administrator who governs everything gets the newest rows at once;
//! one who governs part (an académie of a national installation) has the
//! rows of others skipped, looking at most [`SCAN_MAX`] rows.

use std::collections::HashMap;

use hygiene::quarantine::{Quarantine, Quarantined};
use model::OrgUnitId;

use super::{AdminError, Administrator};
use crate::Identity;
use crate::lifecycle::Action;

/// Messages shown at most.
pub const QUARANTINE_SHOWN: usize = 100;
/// Rows read per batch, and at most in all, for a partial scope.
const SCAN_BATCH: i64 = 500;
const SCAN_MAX: usize = 5_000;

/// One quarantined message as the console lists it.
#[derive(Debug, Clone)]
pub struct QuarantineRow {
    pub id: i64,
    /// `virus` or `spam`.
    pub reason: String,
    /// The signature's name, or the rules that fired.
    pub detail: String,
    pub mail_from: String,
    pub recipients: Vec<String>,
    pub subject: String,
    pub size: i64,
    pub received_at: i64,
    pub expires_at: i64,
}

/// The quarantine within sight.
#[derive(Debug, Clone)]
pub struct QuarantineView {
    pub rows: Vec<QuarantineRow>,
    /// Whether more rows exist than shown (or than were looked at).
    pub more: bool,
}

impl From<Quarantined> for QuarantineRow {
    fn from(q: Quarantined) -> QuarantineRow {
        QuarantineRow {
            id: q.id,
            reason: q.reason,
            detail: q.detail,
            mail_from: q.mail_from,
            recipients: q.recipients.into_iter().map(|(_, a)| a).collect(),
            subject: q.subject,
            size: q.size,
            received_at: q.received_at,
            expires_at: q.expires_at,
        }
    }
}

fn quarantine_error(e: hygiene::quarantine::Error) -> AdminError {
    match e {
        hygiene::quarantine::Error::Store(e) => AdminError::Store(e),
        other => {
            tracing::warn!(error = %other, "quarantine");
            super::refused(
                "le message n'a pas pu être remis ; réessayez plus tard",
                "the message could not be delivered; try again later",
            )
        }
    }
}

impl Identity {
    /// Whether `who` governs everything (no row needs its recipients read).
    fn governs_all(who: &Administrator) -> bool {
        who.may(Action::Govern, None) && who.units.iter().all(|u| who.may(Action::Govern, Some(u.id)))
    }

    /// The units of a message's recipients (`None` for one in no unit, or
    /// whose account is gone; a message for nobody counts as `None`), from
    /// the units of the accounts read before.
    fn units_of(q: &Quarantined, known: &HashMap<i64, Option<OrgUnitId>>) -> Vec<Option<OrgUnitId>> {
        let mut units: Vec<Option<OrgUnitId>> =
            q.recipients.iter().map(|(id, _)| known.get(id).copied().flatten()).collect();
        if units.is_empty() {
            units.push(None);
        }
        units
    }

    /// The units of the recipients of `messages`' accounts, in one query.
    async fn recipient_units(&self, messages: &[Quarantined]) -> Result<HashMap<i64, Option<OrgUnitId>>, AdminError> {
        let mut ids: Vec<i64> = messages.iter().flat_map(|q| q.recipients.iter().map(|(id, _)| *id)).collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(self.store.account_units(&ids).await?.into_iter().collect())
    }

    /// The newest quarantined messages `who` governs. Audited (the list
    /// shows senders and subjects).
    pub async fn admin_quarantine(&self, who: &Administrator) -> Result<QuarantineView, AdminError> {
        if !who.governs_some() {
            // The refusal's sentence.
            who.check(Action::Govern, None)?;
        }
        let whole = Self::governs_all(who);
        let want = if whole { QUARANTINE_SHOWN as i64 + 1 } else { SCAN_BATCH };
        let mut rows = Vec::new();
        let mut before = None;
        let mut scanned = 0;
        let mut more = false;
        'scan: loop {
            let batch = self.store.quarantined_before(before, want).await?;
            let last = batch.len() < want as usize;
            scanned += batch.len();
            before = batch.last().map(|q| q.id);
            let known = if whole { HashMap::new() } else { self.recipient_units(&batch).await? };
            for q in batch {
                if whole || Self::units_of(&q, &known).iter().all(|u| who.may(Action::Govern, *u)) {
                    if rows.len() == QUARANTINE_SHOWN {
                        more = true;
                        break 'scan;
                    }
                    rows.push(QuarantineRow::from(q));
                }
            }
            if last {
                break;
            }
            if scanned >= SCAN_MAX {
                more = true;
                break;
            }
        }
        self.admin_audit(who, "quarantine.list", "", &format!("{} message(s)", rows.len())).await?;
        Ok(QuarantineView { rows, more })
    }

    /// The message `id` when `who` governs every recipient's unit: not
    /// found when one of them is out of sight, denied when in sight but
    /// not governed.
    async fn quarantine_target(&self, who: &Administrator, id: i64) -> Result<Quarantined, AdminError> {
        let q = self.store.quarantined_one(id).await?.ok_or(AdminError::NotFound)?;
        let known = self.recipient_units(std::slice::from_ref(&q)).await?;
        let units = Self::units_of(&q, &known);
        if !units.iter().all(|u| who.may(Action::Read, *u)) {
            return Err(AdminError::NotFound);
        }
        for u in &units {
            who.check(Action::Govern, *u)?;
        }
        Ok(q)
    }

    /// Delivers the message into its recipients' Inboxes and takes it out
    /// of quarantine.
    pub async fn admin_quarantine_release(
        &self,
        who: &Administrator,
        quarantine: &Quarantine,
        id: i64,
        now: i64,
    ) -> Result<(), AdminError> {
        let q = self.quarantine_target(who, id).await?;
        if quarantine.release(id, now).await.map_err(quarantine_error)?.is_none() {
            return Err(AdminError::NotFound);
        }
        let to: Vec<&str> = q.recipients.iter().map(|(_, a)| a.as_str()).collect();
        self.admin_audit(who, "quarantine.release", &format!("quarantaine #{id}"), &to.join(",")).await?;
        Ok(())
    }

    /// Deletes the message.
    pub async fn admin_quarantine_delete(
        &self,
        who: &Administrator,
        quarantine: &Quarantine,
        id: i64,
    ) -> Result<(), AdminError> {
        let q = self.quarantine_target(who, id).await?;
        if !quarantine.delete(id).await.map_err(quarantine_error)? {
            return Err(AdminError::NotFound);
        }
        let detail = format!("{} de <{}>", q.reason, q.mail_from);
        self.admin_audit(who, "quarantine.delete", &format!("quarantaine #{id}"), &detail).await?;
        Ok(())
    }
}
