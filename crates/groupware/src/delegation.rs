//! An assistant acting for a colleague in their calendar (issue 21, « la
//! délégation de son agenda à un assistant »; issue 22, personal delegation
//! « and on their calendar »).
//!
//! Writing in someone else's calendar is a share with the right to write
//! ([`crate::sharing`]). *Acting for* them — the invitations the assistant
//! writes there go out as the owner, the owner's answers to invitations are
//! given by the assistant — needs more: the owner also delegated their mail
//! to the assistant with « envoyer en son nom » or « envoyer de la part de »
//! (a whole-mailbox grant, the same right the composer asks before a mail
//! leaves under the owner's address). Without it, a write in a shared
//! calendar schedules nothing: no mail leaves under anyone's name because a
//! calendar was shared.
//!
//! Everything done so is written in the owner's delegation journal, which
//! the owner reads in Réglages → « Délégations ».

use model::AccountStatus;

use crate::scheduling::Principal;
use crate::{Collection, CollectionKind, Groupware, Result, Right};

impl Groupware {
    /// Who scheduling acts as when `who` writes in the calendar `c`, on
    /// which `who` holds `right`: the owner when `who` is the owner's
    /// delegate (see the module), else `who` itself.
    pub async fn acting_for(&self, who: &Principal, c: &Collection, right: Right) -> Result<Principal> {
        if c.account_id == who.id || c.kind != CollectionKind::Calendar || !right.can_write() {
            return Ok(who.clone());
        }
        let Some(owner) = self.store.account(c.account_id).await? else { return Ok(who.clone()) };
        if owner.status != AccountStatus::Active {
            return Ok(who.clone());
        }
        let grants = self.store.grants_between(owner.id, who.id).await?;
        let sends = grants.iter().any(|g| g.mailbox_id.is_none() && (g.send_as || g.on_behalf));
        if !sends {
            return Ok(who.clone());
        }
        Ok(Principal { id: owner.id, address: owner.address, display_name: owner.display_name })
    }

    /// Writes `detail` in the owner's delegation journal when `acting` is
    /// someone else than `who` (a failure is logged: the act itself stands).
    pub async fn journal_acting(&self, who: &Principal, acting: &Principal, action: &str, detail: &str) {
        if acting.id == who.id {
            return;
        }
        if let Err(e) = self.store.journal_delegation(acting.id, who.id, action, detail).await {
            tracing::warn!(error = %e, owner = acting.id, actor = who.id, "calendar delegation not journaled");
        }
    }
}
