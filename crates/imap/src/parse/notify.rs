//! Parsing of NOTIFY SET (RFC 5465 section 8), with the composition rules
//! whose breach is a BAD (sections 5 and 6.1): MessageNew and
//! MessageExpunge together or not at all, FlagChange only with both, only
//! message events for the selected mailbox, and only one of `selected` and
//! `selected-delayed`. Events this server does not report are kept as
//! [`NotifyEvent::Other`]: the command then fails with NO [BADEVENT].

use super::{Cursor, R};
use crate::command::*;

/// Groups in one NOTIFY SET, and mailboxes in one group: bounded.
const MAX_GROUPS: usize = 32;
const MAX_NAMES: usize = 256;

impl Cursor<'_> {
    /// After `NOTIFY SET`: `[SP "STATUS"] SP event-group *(SP event-group)`.
    pub(super) fn notify_set(&mut self) -> R<NotifySet> {
        self.sp()?;
        let save = self.i;
        let status = self.word().ok().as_deref() == Some("STATUS");
        if status {
            self.sp()?;
        } else {
            self.i = save;
        }
        let mut groups = vec![self.notify_group()?];
        while self.eat(b' ') {
            if groups.len() == MAX_GROUPS {
                return Err("Too many event groups".into());
            }
            groups.push(self.notify_group()?);
        }
        let selected = groups
            .iter()
            .filter(|g| matches!(g.filter, NotifyFilter::Selected | NotifyFilter::SelectedDelayed))
            .count();
        if selected > 1 {
            return Err("Only one of SELECTED and SELECTED-DELAYED may be given".into());
        }
        Ok(NotifySet { status, groups })
    }

    fn notify_group(&mut self) -> R<NotifyGroup> {
        self.expect(b'(', "'('")?;
        let filter = match self.word()?.as_str() {
            "SELECTED" => NotifyFilter::Selected,
            "SELECTED-DELAYED" => NotifyFilter::SelectedDelayed,
            "INBOXES" => NotifyFilter::Inboxes,
            "PERSONAL" => NotifyFilter::Personal,
            "SUBSCRIBED" => NotifyFilter::Subscribed,
            "SUBTREE" => NotifyFilter::Subtree(self.notify_names()?),
            "MAILBOXES" => NotifyFilter::Mailboxes(self.notify_names()?),
            other => return Err(format!("Unknown mailbox filter {other}")),
        };
        self.sp()?;
        let events = if self.eat(b'(') {
            let mut events = Vec::new();
            while !self.eat(b')') {
                if !events.is_empty() {
                    self.sp()?;
                }
                events.push(self.notify_event()?);
            }
            if events.is_empty() {
                return Err("Empty event list (use NONE)".into());
            }
            Some(events)
        } else if self.word()? == "NONE" {
            None
        } else {
            return Err("Expected an event list or NONE".into());
        };
        self.expect(b')', "')'")?;
        if let Some(events) = &events {
            check_events(&filter, events)?;
        }
        Ok(NotifyGroup { filter, events })
    }

    /// `SP (mailbox / "(" mailbox *(SP mailbox) ")")`.
    fn notify_names(&mut self) -> R<Vec<RawName>> {
        self.sp()?;
        if !self.eat(b'(') {
            return Ok(vec![self.mailbox()?]);
        }
        let mut names = vec![self.mailbox()?];
        while self.eat(b' ') {
            if names.len() == MAX_NAMES {
                return Err("Too many mailboxes in one group".into());
            }
            names.push(self.mailbox()?);
        }
        self.expect(b')', "')'")?;
        Ok(names)
    }

    fn notify_event(&mut self) -> R<NotifyEvent> {
        let name = self.word()?;
        Ok(match name.as_str() {
            "MESSAGENEW" => {
                let save = self.i;
                if self.eat(b' ') && self.peek() == Some(b'(') {
                    NotifyEvent::MessageNew(self.fetch_items()?)
                } else {
                    self.i = save;
                    NotifyEvent::MessageNew(Vec::new())
                }
            }
            "MESSAGEEXPUNGE" => NotifyEvent::MessageExpunge,
            "FLAGCHANGE" => NotifyEvent::FlagChange,
            "MAILBOXNAME" => NotifyEvent::MailboxName,
            "SUBSCRIPTIONCHANGE" => NotifyEvent::SubscriptionChange,
            _ => NotifyEvent::Other(name),
        })
    }
}

/// RFC 5465 section 5: "If one of MessageNew or MessageExpunge is
/// specified, then both events MUST be specified. Otherwise, the server
/// MUST respond with the tagged BAD response"; the same for FlagChange
/// (and AnnotationChange) without both; section 6.1: "It is an error to
/// specify other types of events with either the SELECTED or the
/// SELECTED-DELAYED selector."
fn check_events(filter: &NotifyFilter, events: &[NotifyEvent]) -> R<()> {
    let new = events.iter().any(|e| matches!(e, NotifyEvent::MessageNew(_)));
    let expunge = events.contains(&NotifyEvent::MessageExpunge);
    let flags = events
        .iter()
        .any(|e| matches!(e, NotifyEvent::FlagChange) || matches!(e, NotifyEvent::Other(n) if n == "ANNOTATIONCHANGE"));
    if new != expunge {
        return Err("MessageNew and MessageExpunge go together".into());
    }
    if flags && !new {
        return Err("FlagChange needs MessageNew and MessageExpunge".into());
    }
    let selected = matches!(filter, NotifyFilter::Selected | NotifyFilter::SelectedDelayed);
    let message_event = |e: &NotifyEvent| {
        matches!(e, NotifyEvent::MessageNew(_) | NotifyEvent::MessageExpunge | NotifyEvent::FlagChange)
            || matches!(e, NotifyEvent::Other(n) if n == "ANNOTATIONCHANGE")
    };
    if selected && !events.iter().all(message_event) {
        return Err("Only message events may be asked for the selected mailbox".into());
    }
    Ok(())
}
