//! What an account keeps besides its mail: the identities it sends as (and
//! the addresses it may use), the senders whose images it trusts, its
//! display preferences and vacation reply, plus the directory lookups and
//! the administrators' notices that the webmail and mail clients show.

use model::{AccountId, Address, Domain};
use store::{Banner, DelayedSend, DirectoryEntry, MailIdentity, Notice, ReadingPrefs, Vacation, WebPrefs};

use crate::{Error, Mailstore};

/// How long IMAP logins reuse the notices they read.
pub const LOGIN_NOTICES_TTL: std::time::Duration = std::time::Duration::from_secs(5);

impl Mailstore {
    /// The account's sending identities.
    pub async fn identities(&self, account: AccountId) -> Result<Vec<MailIdentity>, Error> {
        Ok(self.store.identities(account).await?)
    }

    /// Creates (`id` none) or replaces one of the account's identities;
    /// returns its id.
    pub async fn save_identity(
        &self,
        account: AccountId,
        id: Option<i64>,
        name: &str,
        address: &str,
        signature: &str,
        is_default: bool,
    ) -> Result<i64, Error> {
        Ok(self.store.save_identity(account, id, name, address, signature, is_default).await?)
    }

    /// Deletes one of the account's identities; false when there was none.
    pub async fn delete_identity(&self, account: AccountId, id: i64) -> Result<bool, Error> {
        Ok(self.store.delete_identity(account, id).await?)
    }

    /// The account's other addresses (aliases).
    pub async fn aliases(&self, account: AccountId) -> Result<Vec<Address>, Error> {
        Ok(self.store.list_aliases(account).await?)
    }

    /// The domains this platform receives mail for.
    pub async fn local_domains(&self) -> Result<Vec<Domain>, Error> {
        Ok(self.store.list_domains().await?)
    }

    /// Up to `limit` people of the directory whose name or address contains
    /// `query`, as `viewer` may see them: active (or provisional) staff of
    /// the viewer's own domain, never students, suspended or closed accounts.
    pub async fn directory_lookup(
        &self,
        viewer: &model::Address,
        query: &str,
        limit: usize,
    ) -> Result<Vec<DirectoryEntry>, Error> {
        Ok(self.store.search_directory(query, viewer.domain(), limit).await?)
    }

    /// Senders whose remote images the account shows.
    pub async fn trusted_senders(&self, account: AccountId) -> Result<Vec<String>, Error> {
        Ok(self.store.trusted_senders(account).await?)
    }

    pub async fn is_trusted_sender(&self, account: AccountId, sender: &str) -> Result<bool, Error> {
        Ok(self.store.is_trusted_sender(account, sender).await?)
    }

    pub async fn trust_sender(&self, account: AccountId, sender: &str) -> Result<(), Error> {
        Ok(self.store.add_trusted_sender(account, sender).await?)
    }

    /// False when the sender was not trusted.
    pub async fn distrust_sender(&self, account: AccountId, sender: &str) -> Result<bool, Error> {
        Ok(self.store.remove_trusted_sender(account, sender).await?)
    }

    /// The account's display preferences, when it saved any.
    pub async fn preferences(&self, account: AccountId) -> Result<Option<WebPrefs>, Error> {
        Ok(self.store.web_prefs(account).await?)
    }

    pub async fn set_preferences(&self, account: AccountId, prefs: &WebPrefs) -> Result<(), Error> {
        Ok(self.store.set_web_prefs(account, prefs).await?)
    }

    /// The local account that `address` (or one of its aliases) belongs
    /// to: whether a sender is a colleague, and which (its role and unit).
    pub async fn local_sender(&self, address: &Address) -> Result<Option<store::Account>, Error> {
        Ok(self.store.account_by_address(address).await?)
    }

    /// The account's messages still waiting to be sent, soonest first (at most `limit`).
    pub async fn pending_sends(&self, account: AccountId, limit: i64) -> Result<Vec<DelayedSend>, Error> {
        Ok(self.store.pending_sends(account, limit).await?)
    }

    /// The account's reading preferences (time zone, reading pane,
    /// notifications), the defaults when never saved.
    pub async fn reading_preferences(&self, account: AccountId) -> Result<ReadingPrefs, Error> {
        Ok(self.store.reading_prefs(account).await?)
    }

    /// Saves the reading preferences, leaving density, language and theme alone.
    pub async fn set_reading_preferences(&self, account: AccountId, prefs: &ReadingPrefs) -> Result<(), Error> {
        Ok(self.store.set_reading_prefs(account, prefs).await?)
    }

    /// Schedules the draft `mailbox`/`uid` to be sent at `send_at`
    /// ("Annuler l'envoi" possible until then).
    pub async fn schedule_send(
        &self,
        account: AccountId,
        mailbox: i64,
        uid: i64,
        send_at: i64,
    ) -> Result<DelayedSend, Error> {
        Ok(self.store.schedule_send(account, mailbox, uid, send_at).await?)
    }

    /// The account's message `id` still waiting (not claimed by a sender).
    pub async fn delayed_send(&self, account: AccountId, id: i64) -> Result<Option<DelayedSend>, Error> {
        Ok(self.store.delayed_send(account, id).await?)
    }

    /// Cancels the waiting message `id`: `Some` when the cancel won the race
    /// with the sender, which then never sends it.
    pub async fn cancel_send(&self, account: AccountId, id: i64) -> Result<Option<DelayedSend>, Error> {
        Ok(self.store.cancel_send(account, id).await?)
    }

    /// Claims the messages due at `at` (and those whose sender died, claimed
    /// before `stale`): the caller alone sends them, then [`Self::finish_send`].
    pub async fn claim_due_sends(&self, at: i64, stale: i64) -> Result<Vec<DelayedSend>, Error> {
        Ok(self.store.claim_due_sends(at, stale).await?)
    }

    pub async fn finish_send(&self, id: i64) -> Result<(), Error> {
        Ok(self.store.finish_send(id).await?)
    }

    /// When the next waiting message is due.
    pub async fn next_send_at(&self) -> Result<Option<i64>, Error> {
        Ok(self.store.next_send_at().await?)
    }

    /// The account's vacation reply, when it wrote one.
    pub async fn vacation(&self, account: AccountId) -> Result<Option<Vacation>, Error> {
        Ok(self.store.vacation(account).await?)
    }

    pub async fn set_vacation(&self, account: AccountId, vacation: &Vacation) -> Result<(), Error> {
        Ok(self.store.set_vacation(account, vacation).await?)
    }

    /// The administrators' banner shown at `at`, if any.
    pub async fn banner(&self, at: i64) -> Result<Option<Banner>, Error> {
        Ok(self.store.banner(at).await?)
    }

    /// The maintenance notices showing at `at`, the most severe first (the
    /// web reads them at every page: a notice set or ended shows at once).
    pub async fn notices(&self, at: i64) -> Result<Vec<Notice>, Error> {
        Ok(self.store.notices_at(at).await?)
    }

    /// The notices showing now, for IMAP's `* OK [ALERT]` at login: read at
    /// most every [`LOGIN_NOTICES_TTL`], so a storm of logins asks the store
    /// once (a notice set or ended reaches new logins within that time). A
    /// store that does not answer shows none: a notice never blocks a login.
    pub async fn login_notices(&self) -> Vec<Notice> {
        {
            let cached = self.login_notices.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, notices)) = cached.as_ref()
                && at.elapsed() < LOGIN_NOTICES_TTL
            {
                return notices.clone();
            }
        }
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        let notices = self.store.notices_at(now).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "reading the notices failed");
            Vec::new()
        });
        *self.login_notices.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((std::time::Instant::now(), notices.clone()));
        notices
    }
}
