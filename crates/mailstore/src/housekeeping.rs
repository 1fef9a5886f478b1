//! Periodic housekeeping of every mailbox (issue 20): deleted messages
//! purged after the undelete delay, the Corbeille and Indésirables emptied
//! of what sat there too long (those become deleted messages, restorable
//! in turn), old Inbox messages archived into `Archives/YYYY`, and quota
//! warnings mailed (`quota_warnings.rs`). The binary runs
//! [`Mailstore::housekeeping`] every `[mail] housekeeping_interval` and on
//! `ardoise admin housekeeping run`.
//!
//! Every step works by bounded batches, one store transaction each, and is
//! idempotent: a run cut short (a crash, a restart) leaves consistent data,
//! and the next run carries on where it stopped. Archiving moves a batch in
//! one transaction ([`store::Store::move_messages`]), so a message is never
//! in both folders nor in neither.

use model::{AccountId, SpecialUse};
use store::Aged;

use crate::{Error, MailEvent, Mailbox, Mailstore};

/// Rows read per housekeeping batch.
const BATCH: i64 = 500;
const DAY: i64 = 86_400;

/// The delays of the housekeeping, in days; 0 means never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Housekeeping {
    pub undelete_days: u64,
    pub trash_days: u64,
    pub junk_days: u64,
    /// For accounts that did not choose their own.
    pub archive_days: u64,
}

/// What one housekeeping run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HousekeepingReport {
    /// Deleted messages forgotten after the undelete delay.
    pub purged: u64,
    /// Messages deleted from the Corbeille and from Indésirables.
    pub trash_expired: u64,
    pub junk_expired: u64,
    pub archived: u64,
    pub quota_warnings: u64,
    /// Steps that failed (each is logged; the others still ran).
    pub failed: Vec<&'static str>,
}

impl Mailstore {
    /// One housekeeping run as of `now` (unix seconds; the clock, but
    /// `ardoise admin housekeeping run --at` may pretend a later day):
    /// every step, each logged with its counts; a failing step does not
    /// stop the others.
    pub async fn housekeeping(&self, h: &Housekeeping, now: i64) -> HousekeepingReport {
        let mut report = HousekeepingReport::default();
        let step = |name: &'static str, r: Result<u64, Error>, failed: &mut Vec<&'static str>| match r {
            Ok(n) => {
                if n > 0 {
                    metrics::counter!("ardoise_housekeeping_messages_total", "step" => name).increment(n);
                }
                n
            }
            Err(e) => {
                tracing::warn!(step = name, error = %e, "housekeeping step failed");
                failed.push(name);
                0
            }
        };
        report.purged = step("purge", self.purge_deleted(now - h.undelete_days as i64 * DAY).await, &mut report.failed);
        report.trash_expired =
            step("trash", self.expire_special(SpecialUse::Trash, h.trash_days, now).await, &mut report.failed);
        report.junk_expired =
            step("junk", self.expire_special(SpecialUse::Junk, h.junk_days, now).await, &mut report.failed);
        report.archived = step("archive", self.archive_all(h.archive_days, now).await, &mut report.failed);
        report.quota_warnings = step("quota", self.warn_quotas().await, &mut report.failed);
        // Not mail, but the same schedule: the académie directory's sync feed
        // (CardDAV) forgets old changes; a client that old reads the book again.
        match self.store.prune_directory_changes(now - store::DIRECTORY_CHANGES_KEPT_SECS).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "directory changes pruned"),
            Err(e) => {
                tracing::warn!(step = "directory", error = %e, "housekeeping step failed");
                report.failed.push("directory");
            }
        }
        // The addresses of agents moved to another académie, once their time is over.
        match self.store.prune_expired_aliases(now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(aliases = n, "expired aliases deleted"),
            Err(e) => {
                tracing::warn!(step = "aliases", error = %e, "housekeeping step failed");
                report.failed.push("aliases");
            }
        }
        tracing::info!(
            purged = report.purged,
            trash = report.trash_expired,
            junk = report.junk_expired,
            archived = report.archived,
            quota_warnings = report.quota_warnings,
            failed = report.failed.len(),
            "housekeeping"
        );
        report
    }

    /// Deletes (restorably) the messages filed in every account's folder of
    /// special use `special` more than `days` days before `now`; 0 days: never.
    pub async fn expire_special(&self, special: SpecialUse, days: u64, now: i64) -> Result<u64, Error> {
        if days == 0 {
            return Ok(0);
        }
        let cutoff = now - days as i64 * DAY;
        let mut total = 0u64;
        loop {
            let aged = self.store.aged_in_special(special, cutoff, BATCH).await?;
            let mut done = 0u64;
            for group in aged.chunk_by(|a, b| a.mailbox == b.mailbox) {
                let uids: Vec<i64> = group.iter().map(|a| a.uid).collect();
                done += self.expire(group[0].account, group[0].mailbox, &uids).await?.len() as u64;
            }
            total += done;
            // A short batch was the last; a batch that removed nothing was
            // taken by someone else meanwhile (another node): stop rather than spin.
            if (aged.len() as i64) < BATCH || done == 0 {
                return Ok(total);
            }
        }
    }

    /// Archives every account's old Inbox messages: its own delay, or
    /// `default_days` when it did not choose (0: never).
    pub async fn archive_all(&self, default_days: u64, now: i64) -> Result<u64, Error> {
        let mut total = 0;
        for (account, days) in self.store.archiving_accounts(default_days as i64).await? {
            total += self.archive_account(account, days as u64, now).await?;
        }
        Ok(total)
    }

    /// Moves the account's Inbox messages with an internal date more than
    /// `days` days before `now` into `Archives/YYYY` (the year of that
    /// date, UTC), below the account's `\Archive` folder (made if missing).
    /// Returns how many moved.
    pub async fn archive_account(&self, account: AccountId, days: u64, now: i64) -> Result<u64, Error> {
        if days == 0 {
            return Ok(0);
        }
        let Some(inbox) = self.store.mailbox_by_special_use(account, SpecialUse::Inbox).await? else {
            return Ok(0);
        };
        let cutoff = now - days as i64 * DAY;
        let mut total = 0u64;
        loop {
            let aged = self.store.older_than(inbox.id, cutoff, BATCH).await?;
            let mut by_year: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
            for Aged { uid, internal_date, .. } in &aged {
                by_year.entry(year_of(*internal_date)).or_default().push(*uid);
            }
            let mut done = 0u64;
            for (year, uids) in by_year {
                let folder = self.archive_folder(account, year).await?;
                let moved = self.store.move_messages(inbox.id, &uids, folder.id, store::Urgency::Bulk).await?;
                if moved.is_empty() {
                    continue;
                }
                done += moved.len() as u64;
                self.publish(MailEvent::Changed { account, mailbox: inbox.id, modseq: 0 });
                for m in &moved {
                    self.publish(MailEvent::Delivered {
                        account,
                        mailbox: folder.id,
                        uid: m.uid,
                        modseq: m.modseq,
                        filed: true,
                    });
                }
            }
            total += done;
            if (aged.len() as i64) < BATCH || done == 0 {
                return Ok(total);
            }
        }
    }

    /// The account's own archiving delay in days (0: never), `None` when
    /// it follows the installation's default.
    pub async fn archive_days(&self, account: AccountId) -> Result<Option<i64>, Error> {
        Ok(self.store.archive_days(account).await?)
    }

    /// Sets the account's archiving delay (`None`: the default again).
    pub async fn set_archive_days(&self, account: AccountId, days: Option<i64>) -> Result<(), Error> {
        Ok(self.store.set_archive_days(account, days).await?)
    }

    /// `<the \Archive folder>/<year>`, made (and subscribed) if missing.
    async fn archive_folder(&self, account: AccountId, year: i64) -> Result<Mailbox, Error> {
        let root = match self.store.mailbox_by_special_use(account, SpecialUse::Archive).await? {
            Some(m) => m.name,
            None => {
                let name = SpecialUse::Archive.default_name();
                match self.create_subscribed_mailbox(account, name, Some(SpecialUse::Archive)).await {
                    Ok(m) => m.name,
                    // A folder of that name without the special use: file below it.
                    Err(Error::Conflict(_)) => name.to_owned(),
                    Err(e) => return Err(e),
                }
            }
        };
        let name = format!("{root}/{year}");
        if let Some(m) = self.store.mailbox_by_name(account, &name).await? {
            return Ok(m);
        }
        match self.create_subscribed_mailbox(account, &name, None).await {
            Ok(m) => Ok(m),
            Err(Error::Conflict(_)) => {
                self.store.mailbox_by_name(account, &name).await?.ok_or(Error::NotFound("mailbox"))
            }
            Err(e) => Err(e),
        }
    }
}

/// The UTC calendar year of a unix time (days to civil date, after Howard
/// Hinnant's `civil_from_days`).
pub(crate) fn year_of(unix: i64) -> i64 {
    let z = unix.div_euclid(DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    yoe + era * 400 + i64::from(month <= 2)
}

#[cfg(test)]
mod tests {
    use super::year_of;

    #[test]
    fn years_of_unix_times() {
        assert_eq!(year_of(0), 1970);
        assert_eq!(year_of(-1), 1969);
        // 2024-12-31T23:59:59Z and 2025-01-01T00:00:00Z.
        assert_eq!(year_of(1_735_689_599), 2024);
        assert_eq!(year_of(1_735_689_600), 2025);
        // 2024-02-29 (a leap day) and 2000-03-01.
        assert_eq!(year_of(1_709_164_800), 2024);
        assert_eq!(year_of(951_868_800), 2000);
    }
}
