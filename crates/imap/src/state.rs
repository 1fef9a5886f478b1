//! The protocol state of a connection (RFC 9051 section 3) as a type: what a
//! command needs is what it receives. A login is an [`Authed`] (the account,
//! the secret it proved, its event feed, its place under the account's
//! connection cap); a selected mailbox is a [`Selected`] held next to it, so
//! a command of the selected state cannot run without one.

use std::collections::VecDeque;

use mailstore::{Account, MailEvent};
use tokio::sync::broadcast;

use crate::admission::Slot;
use crate::reply::Done;
use crate::selected::Selected;

/// Where the connection stands.
pub(crate) enum State {
    NotAuthenticated,
    Authenticated(Authed),
    /// Boxed: the selected mailbox's view is several times the size of the
    /// other states, which every session would carry.
    Selected(Authed, Box<Selected>),
    /// LOGOUT was answered or the connection was lost: the session ends.
    Logout,
}

/// Events a session keeps between two reads (see [`Authed::pending`]).
const PENDING: usize = 64;

/// What a successful login gives a session.
pub(crate) struct Authed {
    pub account: Account,
    /// The secret the login proved: a later revocation of it ends the session.
    pub proof: model::Proof,
    /// The account's events, watched from login on so that a revocation
    /// closes the session even while it waits for a command (`None` once
    /// the domain is gone).
    pub events: Option<broadcast::Receiver<MailEvent>>,
    /// Events taken from `events` while looking for a revocation, kept for
    /// a session that listens (NOTIFY, updating searches); at most
    /// [`PENDING`], beyond which one `Lagged` stands for them all.
    pub pending: VecDeque<Result<MailEvent, broadcast::error::RecvError>>,
    /// This session's place under the account's connection cap, freed with
    /// the login (before the stream closes: the state is dropped first).
    _slot: Slot,
}

impl Authed {
    pub fn new(account: Account, proof: model::Proof, events: broadcast::Receiver<MailEvent>, slot: Slot) -> Self {
        Authed { account, proof, events: Some(events), pending: VecDeque::new(), _slot: slot }
    }

    /// Whether a revocation of the account's access, or of the secret this
    /// session logged in with, is waiting. The other events are kept in
    /// `pending` (a session that does not listen drops them when it next
    /// reads: the change log tells the rest).
    pub fn revoked(&mut self) -> bool {
        let proof = self.proof;
        let Some(events) = self.events.as_mut() else { return false };
        loop {
            let event = match events.try_recv() {
                Ok(event) if event.ends(proof) => return true,
                Ok(event) => Ok(event),
                Err(broadcast::error::TryRecvError::Lagged(n)) => Err(broadcast::error::RecvError::Lagged(n)),
                Err(_) => return false,
            };
            if self.pending.len() >= PENDING {
                self.pending.clear();
                self.pending.push_back(Err(broadcast::error::RecvError::Lagged(PENDING as u64)));
            }
            if !matches!(self.pending.back(), Some(Err(_))) {
                self.pending.push_back(event);
            }
        }
    }
}

/// The answer to a command of the authenticated or selected state before login.
pub(crate) fn log_in_first() -> Done {
    Done::bad("Log in first (LOGIN or AUTHENTICATE)")
}

impl State {
    /// The login and the selected mailbox, if any; `None` before login
    /// (and after logout).
    pub fn parts(&mut self) -> Option<(&mut Authed, Option<&mut Selected>)> {
        match self {
            State::Authenticated(authed) => Some((authed, None)),
            State::Selected(authed, selected) => Some((authed, Some(&mut **selected))),
            State::NotAuthenticated | State::Logout => None,
        }
    }

    /// The login, if there is one.
    pub fn authed_mut(&mut self) -> Option<&mut Authed> {
        self.parts().map(|(authed, _)| authed)
    }

    /// The login, for a command of the authenticated state (also valid in
    /// the selected state); BAD before login.
    pub fn authed(&mut self) -> Result<&mut Authed, Done> {
        self.authed_mut().ok_or_else(log_in_first)
    }

    /// The login and the selected mailbox, for a command of the selected
    /// state; BAD before login or without a selected mailbox.
    pub fn selected(&mut self) -> Result<(&Authed, &mut Selected), Done> {
        match self.parts() {
            Some((authed, Some(selected))) => Ok((authed, selected)),
            Some((_, None)) => Err(Done::bad("Select a mailbox first")),
            None => Err(log_in_first()),
        }
    }

    pub fn is_authenticated(&self) -> bool {
        matches!(self, State::Authenticated(_) | State::Selected(..))
    }

    pub fn is_selected(&self) -> bool {
        matches!(self, State::Selected(..))
    }

    /// Enters the authenticated state after a login.
    pub fn log_in(&mut self, authed: Authed) {
        *self = State::Authenticated(authed);
    }

    /// Back to the authenticated state, giving the mailbox that was selected.
    pub fn deselect(&mut self) -> Option<Selected> {
        match std::mem::replace(self, State::Logout) {
            State::Selected(authed, selected) => {
                *self = State::Authenticated(authed);
                Some(*selected)
            }
            other => {
                *self = other;
                None
            }
        }
    }

    /// Enters the selected state with `selected` (the previous selection, if
    /// any, is dropped). Only reached with a login: SELECT checks first.
    pub fn select(&mut self, selected: Selected) {
        *self = match std::mem::replace(self, State::Logout) {
            State::Authenticated(authed) | State::Selected(authed, _) => State::Selected(authed, Box::new(selected)),
            other => other,
        };
    }
}
