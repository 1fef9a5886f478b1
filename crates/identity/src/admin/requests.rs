//! Quotas « augmentées sur demande » (issue 24): a user asks for more space
//! from Réglages with a short reason ([`Identity::request_quota`]); the
//! administrators whose sight covers the account list the open requests
//! ([`Action::Read`] on its unit) and approve them, setting the new quota,
//! or refuse them with a reason ([`Action::ManageAccount`], like the
//! account page's quota). Nobody decides their own request. Either way the
//! user finds a notice in their Inbox, and the decision is audited with the
//! real actor. One open request per account (the store's index says so).

use model::AccountId;
use store::{Account, QuotaRequest};

use super::actions::MAX_QUOTA;
use super::{AdminError, Administrator, refused};
use crate::Identity;
use crate::credentials::notify;
use crate::lifecycle::Action;

/// Open requests listed at most (the count says how many in all).
pub const REQUESTS_SHOWN: usize = 200;
/// Longest reason, and longest refusal answer, in characters.
pub const MAX_REASON: usize = 500;

/// An open request as the console lists it.
#[derive(Debug, Clone)]
pub struct RequestRow {
    pub request: QuotaRequest,
    /// The account's unit, as « name (UAI) ».
    pub unit: Option<String>,
    /// The account's quota now (`None`: unlimited) and its usage now.
    pub quota_now: Option<i64>,
    pub used_now: i64,
    /// Whether this administrator may approve or refuse it.
    pub may_decide: bool,
}

/// The open requests within sight.
#[derive(Debug, Clone)]
pub struct RequestsView {
    pub rows: Vec<RequestRow>,
    pub total: usize,
}

/// A reason or an answer as typed: trimmed, one paragraph of plain text.
fn text(typed: &str, empty: AdminError) -> Result<String, AdminError> {
    let t = typed.trim();
    if t.is_empty() {
        return Err(empty);
    }
    if t.chars().count() > MAX_REASON {
        return Err(refused("texte trop long (500 caractères au plus)", "text too long (500 characters at most)"));
    }
    Ok(t.chars().map(|c| if c.is_control() { ' ' } else { c }).collect())
}

impl Identity {
    /// Opens `account`'s request for more space. Refused when one is
    /// already open, or without a reason.
    pub async fn request_quota(&self, account: &Account, reason: &str) -> Result<i64, AdminError> {
        let reason = text(reason, refused("indiquez la raison de votre demande", "say why you ask"))?;
        match self.store.open_quota_request(account.id, &reason).await {
            Ok(id) => Ok(id),
            Err(store::Error::Conflict(_)) => {
                Err(refused("une demande est déjà en cours d'examen", "a request is already being considered"))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The account's latest request, open or decided (Réglages shows it).
    pub async fn own_quota_request(&self, account: AccountId) -> Result<Option<QuotaRequest>, store::Error> {
        self.store.latest_quota_request(account).await
    }

    /// The open requests of the accounts `who` sees, the oldest first.
    pub async fn admin_quota_requests(&self, who: &Administrator) -> Result<RequestsView, AdminError> {
        let seen = who.units_read();
        let units = seen.as_deref();
        let unplaced = who.may(Action::Read, None);
        let (requests, total) = self.store.open_quota_requests(units, unplaced, REQUESTS_SHOWN).await?;
        let mut rows = Vec::with_capacity(requests.len());
        for request in requests {
            let Some(account) = self.store.account(request.account_id).await? else { continue };
            rows.push(RequestRow {
                unit: who.unit_name(request.org_unit),
                quota_now: account.quota_bytes,
                used_now: account.used_bytes,
                may_decide: who.may(Action::ManageAccount, request.org_unit) && who.account() != Some(account.id),
                request,
            });
        }
        Ok(RequestsView { rows, total })
    }

    /// The open request `id` and its account, once `who` may decide it.
    async fn request_target(&self, who: &Administrator, id: i64) -> Result<(QuotaRequest, Account), AdminError> {
        let request = self.store.quota_request(id).await?.ok_or(AdminError::NotFound)?;
        let account = self.admin_target(who, request.account_id, Action::ManageAccount).await?;
        if who.account() == Some(account.id) {
            return Err(refused(
                "votre propre demande est traitée par un autre administrateur",
                "your own request is decided by another administrator",
            ));
        }
        if request.status != store::QuotaRequestStatus::Open {
            return Err(decided());
        }
        Ok((request, account))
    }

    /// Approves the request: the account's quota becomes `quota` (`None`:
    /// unlimited), and its owner is told.
    pub async fn admin_quota_approve(
        &self,
        who: &Administrator,
        id: i64,
        quota: Option<i64>,
    ) -> Result<(), AdminError> {
        let (request, account) = self.request_target(who, id).await?;
        if quota.is_some_and(|q| q <= 0 || q > MAX_QUOTA) {
            return Err(refused("quota invalide", "invalid quota"));
        }
        if !self.store.approve_quota_request(id, who.actor(), quota).await? {
            return Err(decided());
        }
        let size = quota.map_or_else(|| "illimité".to_owned(), mailstore::human_bytes);
        let detail =
            format!("demande #{id} : {}", quota.map_or_else(|| "illimité".to_owned(), |q| format!("{q} octets")));
        self.admin_audit(who, "quota-request.approve", &account.address.to_string(), &detail).await?;
        let body = format!(
            "Votre demande d'espace supplémentaire du {} a été acceptée : votre boîte dispose maintenant de {size}.\n\n\
             (Your request for more space was approved: your mailbox now holds {size}.)",
            day(request.requested_at)
        );
        notify::notice(&self.mail, &account, "Demande d'espace acceptée", &body).await;
        Ok(())
    }

    /// Refuses the request with `answer`, which its owner reads.
    pub async fn admin_quota_refuse(&self, who: &Administrator, id: i64, answer: &str) -> Result<(), AdminError> {
        let (request, account) = self.request_target(who, id).await?;
        let answer = text(answer, refused("indiquez la raison du refus", "say why it is refused"))?;
        if !self.store.refuse_quota_request(id, who.actor(), &answer).await? {
            return Err(decided());
        }
        self.admin_audit(
            who,
            "quota-request.refuse",
            &account.address.to_string(),
            &format!("demande #{id} : {answer}"),
        )
        .await?;
        let body = format!(
            "Votre demande d'espace supplémentaire du {} n'a pas été acceptée.\n\nRaison : {answer}\n\n\
             Vous pouvez libérer de la place (pièces jointes volumineuses, corbeille) ou faire une nouvelle \
             demande depuis Réglages.\n\n(Your request for more space was refused; the reason is above.)",
            day(request.requested_at)
        );
        notify::notice(&self.mail, &account, "Demande d'espace refusée", &body).await;
        Ok(())
    }
}

fn decided() -> AdminError {
    refused("cette demande a déjà été traitée", "this request was already decided")
}

/// A day as « 07/12/2026 » (UTC: the notice says the day, not the hour).
fn day(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!("{:02}/{:02}/{}", t.day(), u8::from(t.month()), t.year()),
        Err(_) => unix.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_trimmed_bounded_and_on_one_line() {
        let empty = || refused("vide", "empty");
        assert_eq!(text("  Archives\tdes conseils  ", empty()).unwrap(), "Archives des conseils");
        assert!(matches!(text("   ", empty()), Err(AdminError::Refused { fr: "vide", .. })));
        assert!(text(&"é".repeat(MAX_REASON), empty()).is_ok());
        assert!(text(&"é".repeat(MAX_REASON + 1), empty()).is_err());
        assert_eq!(day(1_796_601_600), "07/12/2026");
    }
}
