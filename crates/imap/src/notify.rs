//! NOTIFY (RFC 5465): one connection told of what happens in the selected
//! mailbox and in others, between commands and during IDLE, as phones and
//! desktop clients watching several folders want.
//!
//! - The selected mailbox (`selected`, `selected-delayed`): EXISTS and the
//!   FETCH items asked with MessageNew for new messages, FETCH (UID FLAGS)
//!   for flag changes, EXPUNGE (or VANISHED) at once for `selected`, at the
//!   next command that may carry them for `selected-delayed`.
//! - Other mailboxes (`inboxes`, `personal`, `subscribed`, `subtree`,
//!   `mailboxes`): `* STATUS` with MESSAGES, UIDNEXT, UIDVALIDITY and UNSEEN
//!   (as Dovecot sends; HIGHESTMODSEQ once CONDSTORE is on), sent only when
//!   it differs from the last one sent for that mailbox (in the counts the
//!   group asked for: UNSEEN and HIGHESTMODSEQ move with flags, which only
//!   FlagChange asks to hear of). `inboxes` is
//!   `personal` here: mail may be filed into any folder by the user's rules
//!   (section 6.3 lets a server that cannot tell do so).
//! - MailboxName and SubscriptionChange: `* LIST` for a created, deleted
//!   (`\NonExistent`) or renamed (`OLDNAME`) mailbox, and for a name
//!   subscribed (`\Subscribed`) or not; found by comparing the account's
//!   names with the last ones seen, on [`mailstore::MailEvent::Mailboxes`].
//!
//! When several groups name the same mailbox, the last one given decides
//! its events (`(personal (...)) (mailboxes Junk NONE)` silences Junk).
//! Events this server does not report (annotations, metadata) make NOTIFY
//! fail with `NO [BADEVENT (...)]` listing the ones it does.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mailstore::MailEvent;
use model::MailboxId;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast::error::RecvError;

use crate::command::{FetchItem, NotifyEvent, NotifyFilter, NotifySet, StatusItem};
use crate::reply::{Done, failed};
use crate::selected::Selected;
use crate::session::Conn;
use crate::state::Authed;

const SUPPORTED: &str = "MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange";

/// What a NOTIFY SET asked for.
#[derive(Debug, Default)]
pub struct Notify {
    /// Message events of the selected mailbox; `None` for `selected NONE`
    /// (also when not named: RFC 5465 section 3.1).
    selected: Option<SelectedWatch>,
    /// The other groups, in the order given.
    groups: Vec<Watch>,
    /// Per mailbox, what the last STATUS line sent said ([`status_key`]).
    reported: HashMap<MailboxId, String>,
    /// Names and subscriptions as last seen, when a group asks for
    /// MailboxName or SubscriptionChange.
    names: Option<Names>,
}

#[derive(Debug)]
struct SelectedWatch {
    delayed: bool,
    fetch: Vec<FetchItem>,
}

#[derive(Debug)]
struct Watch {
    filter: Filter,
    messages: bool,
    flags: bool,
    names: bool,
    subscriptions: bool,
}

#[derive(Debug)]
enum Filter {
    Personal,
    Subscribed,
    Subtree(Vec<String>),
    Mailboxes(Vec<String>),
}

#[derive(Debug, Default, PartialEq)]
struct Names {
    mailboxes: BTreeMap<MailboxId, String>,
    subscribed: BTreeSet<String>,
}

impl Filter {
    fn covers(&self, name: &str, subscribed: &dyn Fn(&str) -> bool) -> bool {
        let same = |a: &str, b: &str| a == b || (a.eq_ignore_ascii_case("INBOX") && b.eq_ignore_ascii_case("INBOX"));
        match self {
            Filter::Personal => true,
            Filter::Subscribed => subscribed(name),
            Filter::Mailboxes(names) => names.iter().any(|n| same(n, name)),
            Filter::Subtree(roots) => roots.iter().any(|r| same(r, name) || name.starts_with(&format!("{r}/"))),
        }
    }
}

impl Notify {
    /// The group that decides for `name`: the last one naming it.
    fn watch(&self, name: &str, subscribed: &dyn Fn(&str) -> bool) -> Option<&Watch> {
        self.groups.iter().rev().find(|w| w.filter.covers(name, subscribed))
    }

    fn needs_subscriptions(&self) -> bool {
        self.groups.iter().any(|w| matches!(w.filter, Filter::Subscribed))
    }

    fn watches_names(&self) -> bool {
        self.groups.iter().any(|w| w.names || w.subscriptions)
    }

    /// Whether a session with this NOTIFY reports changes of its selected
    /// mailbox between commands, and whether expunges go out at once.
    pub fn selected_events(&self) -> Option<bool> {
        self.selected.as_ref().map(|s| !s.delayed)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Conn<'_, S> {
    /// NOTIFY NONE and NOTIFY SET.
    pub(crate) async fn notify_command(
        &mut self,
        authed: &Authed,
        sel: Option<&Selected>,
        set: Option<NotifySet>,
    ) -> Done {
        let Some(set) = set else {
            self.notify = None;
            return Done::ok("NOTIFY completed");
        };
        let mut notify = Notify::default();
        for group in set.groups {
            let events = group.events.unwrap_or_default();
            if events.iter().any(|e| matches!(e, NotifyEvent::Other(_))) {
                return Done::no(&format!("[BADEVENT ({SUPPORTED})] Evenement non pris en charge / Unsupported event"));
            }
            let messages = events.iter().any(|e| matches!(e, NotifyEvent::MessageNew(_)));
            let flags = events.contains(&NotifyEvent::FlagChange);
            let filter = match group.filter {
                NotifyFilter::Selected | NotifyFilter::SelectedDelayed => {
                    let fetch = events
                        .iter()
                        .find_map(|e| if let NotifyEvent::MessageNew(items) = e { Some(items.clone()) } else { None });
                    notify.selected = messages.then(|| SelectedWatch {
                        delayed: group.filter == NotifyFilter::SelectedDelayed,
                        fetch: fetch.unwrap_or_default(),
                    });
                    continue;
                }
                NotifyFilter::Inboxes | NotifyFilter::Personal => Filter::Personal,
                NotifyFilter::Subscribed => Filter::Subscribed,
                NotifyFilter::Subtree(ref raw) | NotifyFilter::Mailboxes(ref raw) => {
                    let mut names = Vec::new();
                    for r in raw {
                        match self.decode_name(r) {
                            Ok(n) => names.push(n.trim_end_matches('/').to_owned()),
                            Err(done) => return done,
                        }
                    }
                    if matches!(group.filter, NotifyFilter::Subtree(_)) {
                        Filter::Subtree(names)
                    } else {
                        Filter::Mailboxes(names)
                    }
                }
            };
            notify.groups.push(Watch {
                filter,
                messages,
                flags,
                names: events.contains(&NotifyEvent::MailboxName),
                subscriptions: events.contains(&NotifyEvent::SubscriptionChange),
            });
        }
        let account = authed.account.id;
        if notify.watches_names() {
            match self.names(account).await {
                Ok(names) => notify.names = Some(names),
                Err(done) => return done,
            }
        }
        // RFC 5465 section 3.1: with STATUS, "the server MUST send a STATUS
        // response for that mailbox before NOTIFY's tagged OK".
        if set.status {
            let mailboxes = match self.mailstore.mailboxes(account).await {
                Ok(m) => m,
                Err(e) => return failed(e),
            };
            let subscribed = self.subscribed_set(account, &notify).await;
            let selected = sel.map(|s| s.mailbox.id);
            for m in mailboxes.iter().filter(|m| !m.placeholder && Some(m.id) != selected) {
                let Some(w) = notify.watch(&m.name, &|n| subscribed.contains(n)) else { continue };
                if !w.messages {
                    continue;
                }
                let flags = w.flags;
                match self.status_line(m, &self.notify_items()).await {
                    Ok(line) => {
                        self.untagged(&line);
                        notify.reported.insert(m.id, status_key(&line, flags));
                    }
                    Err(done) => return done,
                }
            }
        }
        self.notify = Some(Box::new(notify));
        Done::ok("NOTIFY completed")
    }

    /// Tells the client of `event` as its NOTIFY (and its updating
    /// searches) ask. `in_idle`: expunges may go out whatever was asked.
    pub(crate) async fn push_event(
        &mut self,
        authed: &Authed,
        sel: Option<&mut Selected>,
        event: Result<MailEvent, RecvError>,
        in_idle: bool,
    ) {
        let account = authed.account.id;
        let (mailbox, names) = match &event {
            Ok(MailEvent::Delivered { account: a, mailbox, .. } | MailEvent::Changed { account: a, mailbox, .. }) => {
                // Another account's events matter only for the shared mailbox selected.
                let shared_selected =
                    sel.as_ref().is_some_and(|s| s.mailbox.account_id == *a && s.mailbox.id == *mailbox);
                if *a != account && !shared_selected {
                    return;
                }
                if *a != account {
                    if let Some(s) = sel {
                        self.push_selected(s, in_idle).await;
                    }
                    return;
                }
                (Some(*mailbox), false)
            }
            Ok(MailEvent::Mailboxes { account: a }) => {
                if *a != account {
                    return;
                }
                (None, true)
            }
            Ok(MailEvent::AccessRevoked { .. } | MailEvent::CredentialRevoked { .. } | MailEvent::Reminder { .. }) => {
                return;
            }
            // Missed events: look at everything again.
            Err(RecvError::Lagged(_)) => (None, true),
            Err(RecvError::Closed) => return,
        };
        let lagged = event.is_err();
        let selected_id = sel.as_ref().map(|s| s.mailbox.id);
        if let Some(s) = sel
            && (lagged || mailbox == Some(s.mailbox.id))
        {
            self.push_selected(s, in_idle).await;
        }
        if self.notify.is_none() {
            return;
        }
        if let Some(m) = mailbox
            && Some(m) != selected_id
        {
            self.push_status(account, m).await;
        }
        if lagged && let Ok(all) = self.mailstore.mailboxes(account).await {
            // Only what changed goes out: STATUS lines are compared with the last ones sent.
            for m in all.iter().filter(|m| !m.placeholder && Some(m.id) != selected_id) {
                self.push_status(account, m.id).await;
            }
        }
        if names {
            self.push_names(account).await;
        }
    }

    /// Reports changes of the selected mailbox, then the FETCH items asked
    /// with MessageNew for the messages that came.
    async fn push_selected(&mut self, sel: &mut Selected, in_idle: bool) {
        let (watching, at_once) = match self.notify.as_ref() {
            Some(n) => match n.selected_events() {
                Some(at_once) => (true, at_once),
                None => (false, false),
            },
            // Without NOTIFY: IDLE as always; between commands, updating searches only.
            None => (in_idle || !sel.contexts.is_empty(), false),
        };
        if !watching && sel.contexts.is_empty() {
            return;
        }
        let last = sel.uids.last().copied().unwrap_or(0);
        if let Err(e) = Box::pin(self.sync(sel, at_once || in_idle)).await {
            tracing::warn!(error = %e, "resynchronisation failed");
            return;
        }
        let fetch = self.notify.as_ref().and_then(|n| n.selected.as_ref()).map(|s| s.fetch.clone());
        if let Some(items) = fetch.filter(|i| !i.is_empty()) {
            let fresh: Vec<usize> = sel.uids.iter().enumerate().filter(|(_, u)| **u > last).map(|(i, _)| i).collect();
            if !fresh.is_empty() {
                let _ = Box::pin(self.fetch(sel, true, fresh, items, None)).await;
            }
        }
    }

    /// STATUS for a watched mailbox other than the selected one, when it
    /// says something new.
    async fn push_status(&mut self, account: model::AccountId, mailbox: MailboxId) {
        let Ok(Some(m)) = self.mailstore.mailbox(account, mailbox).await else { return };
        let Some(notify) = self.notify.as_ref() else { return };
        let subscribed = self.subscribed_set(account, notify).await;
        let Some(w) = notify.watch(&m.name, &|n| subscribed.contains(n)) else { return };
        if !w.messages {
            return;
        }
        let flags = w.flags;
        let Ok(line) = self.status_line(&m, &self.notify_items()).await else { return };
        let Some(notify) = self.notify.as_mut() else { return };
        let key = status_key(&line, flags);
        if notify.reported.get(&m.id) != Some(&key) {
            notify.reported.insert(m.id, key);
            self.untagged(&line);
        }
    }

    /// LIST lines for names created, deleted, renamed, subscribed or not.
    async fn push_names(&mut self, account: model::AccountId) {
        if !self.notify.as_ref().is_some_and(|n| n.watches_names()) {
            return;
        }
        let Ok(now) = self.names(account).await else { return };
        let Some(notify) = self.notify.as_mut() else { return };
        let before = notify.names.replace(now).unwrap_or_default();
        let Some(now) = notify.names.as_ref() else { return };
        let subscribed = |n: &str| now.subscribed.contains(n) || before.subscribed.contains(n);
        let mut lines = Vec::new();
        let listed = |attrs: &str, name: &str, extra: &str| format!("LIST ({attrs}) \"/\" {name}{extra}");
        for (id, old) in &before.mailboxes {
            match now.mailboxes.get(id) {
                None => {
                    if notify.watch(old, &subscribed).is_some_and(|w| w.names) {
                        lines.push((old.clone(), "\\NonExistent".to_owned(), String::new()));
                    }
                }
                Some(new) if new != old => {
                    if notify.watch(new, &subscribed).or(notify.watch(old, &subscribed)).is_some_and(|w| w.names) {
                        lines.push((new.clone(), String::new(), old.clone()));
                    }
                }
                Some(_) => {}
            }
        }
        for (id, name) in &now.mailboxes {
            if !before.mailboxes.contains_key(id) && notify.watch(name, &subscribed).is_some_and(|w| w.names) {
                let attrs = if now.subscribed.contains(name) { "\\Subscribed" } else { "" };
                lines.push((name.clone(), attrs.to_owned(), String::new()));
            }
        }
        let exists = |n: &str| now.mailboxes.values().any(|m| m == n);
        for name in now.subscribed.symmetric_difference(&before.subscribed) {
            if !notify.watch(name, &subscribed).is_some_and(|w| w.subscriptions) {
                continue;
            }
            let mut attrs: Vec<&str> = Vec::new();
            if !exists(name) {
                attrs.push("\\NonExistent");
            }
            if now.subscribed.contains(name) {
                attrs.push("\\Subscribed");
            }
            lines.push((name.clone(), attrs.join(" "), String::new()));
        }
        for (name, attrs, old) in lines {
            let encoded = String::from_utf8_lossy(&self.encode_name(&name)).into_owned();
            let extra = if old.is_empty() {
                String::new()
            } else {
                let old = String::from_utf8_lossy(&self.encode_name(&old)).into_owned();
                format!(" (\"OLDNAME\" ({old}))")
            };
            self.untagged(&listed(&attrs, &encoded, &extra));
        }
    }

    async fn names(&self, account: model::AccountId) -> Result<Names, Done> {
        let mailboxes = self.mailstore.mailboxes(account).await.map_err(failed)?;
        let subscribed = self.mailstore.subscriptions(account).await.map_err(failed)?;
        Ok(Names {
            mailboxes: mailboxes.into_iter().filter(|m| !m.placeholder).map(|m| (m.id, m.name)).collect(),
            subscribed: subscribed.into_iter().collect(),
        })
    }

    async fn subscribed_set(&self, account: model::AccountId, notify: &Notify) -> BTreeSet<String> {
        if !notify.needs_subscriptions() {
            return BTreeSet::new();
        }
        self.mailstore.subscriptions(account).await.unwrap_or_default().into_iter().collect()
    }

    /// RFC 5465 section 5.2: "STATUS (UIDNEXT MESSAGES)", and HIGHESTMODSEQ
    /// once CONDSTORE is enabled; UIDVALIDITY (section 5.1 for flag changes)
    /// and UNSEEN, which is what a client shows of a folder.
    fn notify_items(&self) -> Vec<StatusItem> {
        let mut items = vec![StatusItem::Messages, StatusItem::UidNext, StatusItem::UidValidity, StatusItem::Unseen];
        if self.enabled.condstore {
            items.push(StatusItem::HighestModseq);
        }
        items
    }
}

/// What decides whether a STATUS line is news: all of it with FlagChange,
/// else without the counts that move with flags (UNSEEN, HIGHESTMODSEQ).
fn status_key(line: &str, flags: bool) -> String {
    if flags {
        return line.to_owned();
    }
    let mut words: Vec<&str> = Vec::new();
    let mut skip = false;
    for w in line.split(' ') {
        if skip {
            skip = false;
            continue;
        }
        let bare = w.trim_start_matches('(');
        if bare == "UNSEEN" || bare == "HIGHESTMODSEQ" {
            skip = true;
            continue;
        }
        words.push(w);
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn status_keys_leave_out_flag_counts_unless_asked() {
        let line = "STATUS \"Projets\" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 7 UNSEEN 1 HIGHESTMODSEQ 9)";
        assert_eq!(super::status_key(line, true), line);
        assert_eq!(super::status_key(line, false), "STATUS \"Projets\" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 7");
        let seen = "STATUS \"Projets\" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 7 UNSEEN 0 HIGHESTMODSEQ 10)";
        assert_eq!(super::status_key(line, false), super::status_key(seen, false));
    }
}
