//! Per-user sending limits: messages and recipients per sliding hour, by role.
//!
//! A compromised staff account must not become a spam cannon that gets the
//! académie's servers blacklisted. A node alone counts in memory (a restart
//! forgives), over the last 60 minutes; nodes of a cluster count in the
//! shared store ([`Limiter::counted_in`], `store::Store::take_allowance`:
//! hourly windows with the usual sliding estimate), so that an account
//! reaching several nodes still has one allowance. Going over is a temporary
//! refusal (`450 4.7.1`): the client keeps the message and may send it later,
//! and the user sees a clear reason.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use model::{AccountId, Role};

const WINDOW: Duration = Duration::from_secs(3600);

/// The hourly allowance of one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleLimits {
    pub messages_per_hour: u32,
    pub recipients_per_hour: u32,
}

/// Which allowance would be exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    Messages(u32),
    Recipients(u32),
}

/// Counts what each account sent in the last hour.
pub struct Limiter {
    default: RoleLimits,
    per_role: HashMap<Role, RoleLimits>,
    sent: Mutex<HashMap<AccountId, VecDeque<(Instant, u32)>>>,
    /// The store every node counts in, when clustered.
    shared: Option<store::Store>,
}

/// The scope of the sending allowance in the shared store.
const SCOPE: &str = "envoi";

impl Limiter {
    pub fn new(default: RoleLimits, per_role: HashMap<Role, RoleLimits>) -> Limiter {
        Limiter { default, per_role, sent: Mutex::new(HashMap::new()), shared: None }
    }

    /// The same limits counted in `store`, which every node of the cluster
    /// shares, rather than in this process.
    pub fn counted_in(self, store: store::Store) -> Limiter {
        Limiter { shared: Some(store), ..self }
    }

    /// The allowance of `role`.
    pub fn limits_of(&self, role: Role) -> RoleLimits {
        self.per_role.get(&role).copied().unwrap_or(self.default)
    }

    /// Records a message to `recipients` recipients if it fits the allowance.
    /// When the shared store fails, this node's own count decides (and the
    /// failure is logged): a store that fails refuses the submission anyway.
    pub async fn take(&self, account: AccountId, role: Role, recipients: u32) -> Result<(), Exceeded> {
        let Some(store) = &self.shared else {
            return self.take_at(account, role, recipients, Instant::now());
        };
        let limits = self.limits_of(role);
        let allowance = store::Allowance {
            window: WINDOW.as_secs() as i64,
            events: i64::from(limits.messages_per_hour),
            weight: i64::from(limits.recipients_per_hour),
        };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        match store.take_allowance(SCOPE, &account.to_string(), now, i64::from(recipients), allowance).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(store::Over::Events)) => Err(Exceeded::Messages(limits.messages_per_hour)),
            Ok(Err(store::Over::Weight)) => Err(Exceeded::Recipients(limits.recipients_per_hour)),
            Err(e) => {
                tracing::warn!(account, error = %e, "shared sending allowance unavailable: counted on this node");
                self.take_at(account, role, recipients, Instant::now())
            }
        }
    }

    fn take_at(&self, account: AccountId, role: Role, recipients: u32, now: Instant) -> Result<(), Exceeded> {
        let limits = self.limits_of(role);
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        let log = sent.entry(account).or_default();
        while log.front().is_some_and(|(at, _)| now.duration_since(*at) >= WINDOW) {
            log.pop_front();
        }
        if log.len() as u32 >= limits.messages_per_hour {
            return Err(Exceeded::Messages(limits.messages_per_hour));
        }
        let so_far: u32 = log.iter().map(|(_, n)| n).sum();
        if so_far.saturating_add(recipients) > limits.recipients_per_hour {
            return Err(Exceeded::Recipients(limits.recipients_per_hour));
        }
        log.push_back((now, recipients));
        Ok(())
    }
}

/// Parses `role=messages/recipients` entries.
pub fn parse_role_limits(entries: &[String]) -> Result<HashMap<Role, RoleLimits>, String> {
    let mut out = HashMap::new();
    for entry in entries {
        let bad = || format!("« {entry} » : attendu rôle=messages/destinataires (ex. enseignant=200/2000)");
        let (role, counts) = entry.split_once('=').ok_or_else(bad)?;
        let role: Role = role.trim().parse()?;
        let (m, r) = counts.split_once('/').ok_or_else(bad)?;
        let limits = RoleLimits {
            messages_per_hour: m.trim().parse().map_err(|_| bad())?,
            recipients_per_hour: r.trim().parse().map_err(|_| bad())?,
        };
        out.insert(role, limits);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hourly_allowances_slide() {
        let limiter = Limiter::new(
            RoleLimits { messages_per_hour: 3, recipients_per_hour: 10 },
            parse_role_limits(&["direction=100/1000".into()]).unwrap(),
        );
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.take_at(1, Role::Teacher, 2, t0).unwrap();
        }
        assert_eq!(limiter.take_at(1, Role::Teacher, 1, t0), Err(Exceeded::Messages(3)));
        assert_eq!(limiter.take_at(2, Role::Teacher, 11, t0), Err(Exceeded::Recipients(10)));
        limiter.take_at(2, Role::Teacher, 10, t0).unwrap();
        // Another role has its own allowance; a refused message is not counted.
        limiter.take_at(3, Role::Direction, 500, t0).unwrap();
        // An hour later the window is empty again.
        limiter.take_at(1, Role::Teacher, 1, t0 + WINDOW).unwrap();
        assert!(parse_role_limits(&["inconnu=1/1".into()]).is_err());
        assert!(parse_role_limits(&["enseignant=1".into()]).is_err());
    }
}
