//! CAS 3.0 service tickets. `/cas/login` gives a signed-in visitor a
//! ticket `ST-…` for a service URL under a registered prefix; the service
//! validates it once, within 5 minutes, presenting the very same URL. Any
//! validation attempt spends the ticket (CAS 3.0 section 3.1.1), so one
//! presented for another service is lost to both.

use model::AccountId;
use store::SsoGrant;

use crate::oidc::GrantData;
use crate::{Error, Sso, SsoClient, clients, random_token, token_hash, unix_now};

pub const TICKET_LIFETIME: i64 = 300;

/// Why a validation failed, as CAS names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasFailure {
    /// A parameter is missing.
    InvalidRequest,
    /// Not a ticket we gave, spent, expired, or its account may no longer sign in.
    InvalidTicket,
    /// Presented for another service than the one it was given for.
    InvalidService,
}

impl CasFailure {
    pub fn code(self) -> &'static str {
        match self {
            CasFailure::InvalidRequest => "INVALID_REQUEST",
            CasFailure::InvalidTicket => "INVALID_TICKET",
            CasFailure::InvalidService => "INVALID_SERVICE",
        }
    }
}

/// A validated ticket: the user and their attributes (CAS 3.0 `p3`).
#[derive(Debug, Clone)]
pub struct CasSuccess {
    pub user: String,
    /// Attribute name and value, in a stable order.
    pub attributes: Vec<(&'static str, String)>,
}

impl Sso {
    /// The registered service `service` belongs to.
    pub async fn cas_service(&self, service: &str) -> Result<Option<SsoClient>, Error> {
        let all = self.store.sso_clients("cas").await?;
        Ok(clients::cas_service_for(&all, service).cloned())
    }

    /// Gives a ticket for `service` (already found registered) to `account`.
    pub async fn issue_ticket(
        &self,
        service_client: &SsoClient,
        service: &str,
        account: AccountId,
        auth_time: i64,
        second_factor: bool,
    ) -> Result<String, Error> {
        let ticket = format!("ST-{}", random_token(32));
        let hash = token_hash("ticket", &ticket);
        let data = GrantData { redirect_uri: service.to_owned(), auth_time, second_factor, ..Default::default() };
        let now = unix_now();
        self.store
            .add_sso_grant(&SsoGrant {
                token_hash: hash.clone(),
                kind: "ticket".into(),
                client_id: service_client.id.clone(),
                account_id: account,
                family: hash,
                data: serde_json::to_string(&data).map_err(|e| Error::Invalid(e.to_string()))?,
                created_at: now,
                expires_at: now + TICKET_LIFETIME,
                used_at: None,
                revoked_at: None,
            })
            .await?;
        tracing::info!(target: "sso", service = service_client.id, account, "CAS ticket given");
        Ok(ticket)
    }

    /// Validates `ticket` for `service` (`/serviceValidate`).
    pub async fn validate_ticket(&self, service: &str, ticket: &str) -> Result<Result<CasSuccess, CasFailure>, Error> {
        if service.is_empty() || ticket.is_empty() {
            return Ok(Err(CasFailure::InvalidRequest));
        }
        let refused = |f: CasFailure| {
            tracing::warn!(target: "sso", failure = f.code(), "CAS ticket refused");
            Ok(Err(f))
        };
        if !ticket.starts_with("ST-") || ticket.len() > 256 {
            return refused(CasFailure::InvalidTicket);
        }
        let hash = token_hash("ticket", ticket);
        let Some(grant) = self.store.sso_grant(&hash).await?.filter(|g| g.kind == "ticket") else {
            return refused(CasFailure::InvalidTicket);
        };
        if !self.store.use_sso_grant(&hash, unix_now()).await? {
            return refused(CasFailure::InvalidTicket);
        }
        let data: GrantData = serde_json::from_str(&grant.data).map_err(|e| Error::Invalid(e.to_string()))?;
        if data.redirect_uri != service {
            return refused(CasFailure::InvalidService);
        }
        let Some(a) = self.live_account(grant.account_id, grant.created_at).await? else {
            return refused(CasFailure::InvalidTicket);
        };
        let s = self.subject(&a).await?;
        let mut attributes = vec![
            ("mail", s.email.clone()),
            ("displayName", s.name.clone()),
            ("role", s.role.clone()),
            ("authenticationDate", data.auth_time.to_string()),
            ("isFromNewLogin", "false".to_owned()),
            ("longTermAuthenticationRequestTokenUsed", "false".to_owned()),
            ("secondFactor", data.second_factor.to_string()),
        ];
        for (k, v) in [("givenName", s.given_name), ("sn", s.family_name), ("uai", s.uai), ("unit", s.unit)] {
            if let Some(v) = v {
                attributes.push((k, v));
            }
        }
        tracing::info!(target: "sso", service = grant.client_id, account = a.id, "CAS ticket validated");
        Ok(Ok(CasSuccess { user: s.email, attributes }))
    }
}
