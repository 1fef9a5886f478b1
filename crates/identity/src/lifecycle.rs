//! Account lifecycle: HR sync, states, suspension, scopes, audit log.
//!
//! Accounts follow the HR directory: [`sync`] reads the HR file
//! ([`format`], documented in docs/hr-sync.md), computes the [`plan`]
//! (created, renamed, updated, suspended, reactivated, closed) against the
//! store, and applies it in one transaction. Addresses and logins come from
//! [`names`]; the NUMEN is only kept hashed ([`numen`]). Suspension is
//! immediate: the [`watcher`] running in every server ends the sessions of
//! accounts that another process suspended. Administrators act within a
//! scope ([`scopes`]) and every administrative action goes to the
//! hash-chained [`audit`] log.
//!
//! States: `provisional` (created by HR, must change the NUMEN password at
//! the first login), `active`, `suspended` (login refused everywhere, mail
//! still accepted), `closed` (after the retention period following a
//! departure: mail refused with 550 5.1.1). Students are refused on every
//! protocol whatever their state.

pub mod audit;
pub mod format;
pub mod names;
pub mod numen;
pub mod plan;
pub mod scopes;
pub mod sync;
pub mod watcher;

pub use format::{HrRow, HrStatus, LineError};
pub use numen::NumenKey;
pub use plan::{Change, ChangeKind};
pub use scopes::{Action, AdminRole, OrgTree, Scope};
pub use sync::{Stage, SyncError, SyncOptions, SyncReport, sync};
pub use watcher::watch_revocations;
