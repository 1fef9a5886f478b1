//! The selected mailbox: the session's own view of it (UIDs in sequence
//! order), SELECT/EXAMINE, CLOSE/UNSELECT, and keeping the view in step
//! with other sessions and deliveries (NOOP, IDLE, after every command).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use mailstore::{ChangeKind, MailEvent, Mailbox, MessageRow};
use model::Flag;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast::error::RecvError;

use crate::command::RawName;
use crate::reply::{Done, failed};
use crate::session::{ReadStop, Session};

/// What a session knows of its selected mailbox.
#[derive(Debug, Clone)]
pub struct Selected {
    pub mailbox: Mailbox,
    pub read_only: bool,
    /// UIDs in sequence-number order (message n is `uids[n - 1]`). Shared:
    /// a command takes a snapshot of the selected state in O(1) (not a copy
    /// of 100,000 UIDs per FETCH); changes copy only while one is held.
    pub uids: Arc<Vec<u32>>,
    /// Changes up to this modseq have been reported to the client.
    pub modseq: i64,
    /// Modseqs above `modseq` of flag changes already reported to the client
    /// (made by this session, or reported while an unreported expunge held
    /// `modseq` back), so that they are not reported again.
    pub own: BTreeSet<i64>,
    /// SEARCHRES: UIDs of the last `SEARCH RETURN (SAVE)`.
    pub saved: Arc<Vec<u32>>,
    /// The mailbox's rows as SEARCH last read them, with the mailbox's
    /// HIGHESTMODSEQ at that time: every change to a message (new, flags,
    /// expunge) raises it, so while it is unchanged the rows are current and
    /// repeated searches skip reading 20,000-100,000 rows. Filled by SEARCH
    /// only, so that idle sessions keep no copy of their mailbox.
    pub rows: Option<(i64, Arc<Vec<MessageRow>>)>,
}

impl Selected {
    /// The sequence number of a UID in this view.
    pub fn seq_of(&self, uid: u32) -> Option<usize> {
        self.uids.binary_search(&uid).ok().map(|i| i + 1)
    }
}

/// `(\Seen \Flagged $Keyword)` for a message.
pub(crate) fn flag_list(bits: i64, keywords: &[String]) -> String {
    let mut names: Vec<&str> = Flag::from_bits(bits).into_iter().map(Flag::imap_name).collect();
    names.extend(keywords.iter().map(String::as_str));
    format!("({})", names.join(" "))
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<'_, S> {
    pub(crate) async fn select(&mut self, raw: &RawName, read_only: bool) -> Done {
        let had_selection = self.selected.take().is_some();
        if had_selection && self.condstore {
            self.untagged("OK [CLOSED] Previous mailbox closed");
        }
        let name = match self.decode_name(raw) {
            Ok(n) => n,
            Err(done) => return done,
        };
        let mailbox = match self.find_mailbox(&name).await {
            Ok(m) => m,
            Err(done) => return done,
        };
        let messages = match self.mailstore.messages(mailbox.id).await {
            Ok(m) => m,
            Err(e) => return failed(e),
        };
        let uids: Vec<u32> = messages.iter().map(|m| m.uid as u32).collect();
        let uid_next = mailbox.uid_next.max(messages.last().map_or(1, |m| m.uid + 1));
        let highest = messages.iter().map(|m| m.modseq).max().unwrap_or(0).max(mailbox.highest_modseq);
        let mut keywords: BTreeSet<&str> = BTreeSet::new();
        for m in &messages {
            keywords.extend(m.keywords.iter().map(String::as_str));
        }
        let keywords: Vec<&str> = keywords.into_iter().collect();
        let extra = if keywords.is_empty() { String::new() } else { format!(" {}", keywords.join(" ")) };
        self.untagged(&format!("{} EXISTS", uids.len()));
        if !self.rev2 {
            self.untagged("0 RECENT");
        }
        self.untagged(&format!("FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft{extra})"));
        self.untagged(&format!(
            "OK [PERMANENTFLAGS ({})] Flags permitted",
            if read_only { String::new() } else { format!("\\Answered \\Flagged \\Deleted \\Seen \\Draft{extra} \\*") }
        ));
        let first_unseen = messages.iter().position(|m| m.flags & Flag::Seen.bit() == 0);
        if let (false, Some(first)) = (self.rev2, first_unseen) {
            self.untagged(&format!("OK [UNSEEN {}] First unseen message", first + 1));
        }
        self.untagged(&format!("OK [UIDVALIDITY {}] UIDs valid", mailbox.uid_validity));
        self.untagged(&format!("OK [UIDNEXT {uid_next}] Predicted next UID"));
        self.untagged(&format!("OK [HIGHESTMODSEQ {highest}] Highest"));
        self.untagged(&format!("OK [MAILBOXID (F{})] Ok", mailbox.id));
        if self.rev2 {
            // RFC 9051 asks for the mailbox's canonical name with SELECT.
            let mut line = b"* LIST () \"/\" ".to_vec();
            line.extend_from_slice(&self.encode_name(&mailbox.name));
            line.extend_from_slice(b"\r\n");
            self.out.extend_from_slice(&line);
        }
        self.selected = Some(Selected {
            mailbox,
            read_only,
            uids: Arc::new(uids),
            modseq: highest,
            own: BTreeSet::new(),
            saved: Arc::default(),
            rows: None,
        });
        Done::ok(if read_only { "[READ-ONLY] EXAMINE completed" } else { "[READ-WRITE] SELECT completed" })
    }

    /// Reports what changed in the selected mailbox since the last report:
    /// new messages (EXISTS), other sessions' flag changes (FETCH) and, when
    /// `may_expunge`, messages that disappeared (EXPUNGE).
    pub(crate) async fn sync(&mut self, may_expunge: bool) -> Result<(), mailstore::Error> {
        let Some(sel) = self.selected.as_ref() else {
            return Ok(());
        };
        let changes = self.mailstore.changes_since(sel.mailbox.id, sel.modseq).await?;
        if changes.is_empty() {
            return Ok(());
        }
        let messages = self.mailstore.messages(sel.mailbox.id).await?;
        let current: HashMap<u32, &MessageRow> = messages.iter().map(|m| (m.uid as u32, m)).collect();
        let top = changes.iter().map(|c| c.modseq).max().unwrap_or(sel.modseq);
        let sel = self.selected.as_mut().expect("checked above");
        let expunged_seen = changes.iter().any(|c| c.kind == ChangeKind::Expunge);
        // New messages first. When expunges may be reported, a message that
        // arrived and was expunged since the last report (an APPEND of this
        // session that another one removed at once, say) is announced too,
        // then expunged below: a client that just appended must see EXISTS.
        let last = sel.uids.last().copied().unwrap_or(0);
        let mut arrived: BTreeSet<u32> = messages.iter().map(|m| m.uid as u32).filter(|u| *u > last).collect();
        if may_expunge {
            arrived.extend(
                changes.iter().filter(|c| c.kind == ChangeKind::New).map(|c| c.uid as u32).filter(|u| *u > last),
            );
        }
        let mut lines = Vec::new();
        if !arrived.is_empty() {
            Arc::make_mut(&mut sel.uids).extend(arrived);
            lines.push(format!("{} EXISTS", sel.uids.len()));
        }
        if may_expunge && expunged_seen {
            let mut vanished = Vec::new();
            let mut gone = Vec::new();
            let mut i = sel.uids.len();
            while i > 0 {
                i -= 1;
                if !current.contains_key(&sel.uids[i]) {
                    vanished.push(i64::from(Arc::make_mut(&mut sel.uids).remove(i)));
                    gone.push(format!("{} EXPUNGE", i + 1));
                }
            }
            if self.qresync && !vanished.is_empty() {
                vanished.reverse();
                gone = vec![format!("VANISHED {}", crate::messages::compact_set(&vanished))];
            }
            lines.extend(gone);
        }
        // Expunges not yet reported must be found again next time: then the
        // view's modseq stops just before the first of them, and the flag
        // changes after it will be read again.
        let new_modseq = if may_expunge || !expunged_seen {
            top
        } else {
            let first_expunge = changes.iter().filter(|c| c.kind == ChangeKind::Expunge).map(|c| c.modseq).min();
            first_expunge.map_or(top, |m| m - 1).max(sel.modseq)
        };
        let mut flagged: BTreeSet<u32> = BTreeSet::new();
        for c in changes.iter().filter(|c| c.kind == ChangeKind::Flags) {
            if !sel.own.contains(&c.modseq) {
                flagged.insert(c.uid as u32);
                if c.modseq > new_modseq {
                    // Reported now, read again next time: not twice.
                    sel.own.insert(c.modseq);
                }
            }
        }
        for uid in flagged {
            let (Some(seq), Some(row)) = (sel.seq_of(uid), current.get(&uid)) else {
                continue;
            };
            if uid > last {
                continue;
            }
            let modseq = if self.condstore { format!(" MODSEQ ({})", row.modseq) } else { String::new() };
            lines.push(format!("{seq} FETCH (UID {uid} FLAGS {}{modseq})", flag_list(row.flags, &row.keywords)));
        }
        sel.own.retain(|m| *m > new_modseq);
        sel.modseq = new_modseq;
        for line in lines {
            self.untagged(&line);
        }
        Ok(())
    }

    /// CLOSE (expunging `\Deleted` messages unless read-only) and UNSELECT.
    pub(crate) async fn close(&mut self, expunge: bool) -> Done {
        let Some(sel) = self.selected.take() else {
            return Done::bad("No mailbox selected");
        };
        if expunge && !sel.read_only {
            let account = self.account.as_ref().map(|a| a.id).unwrap_or_default();
            let deleted: Vec<i64> = match self.mailstore.messages(sel.mailbox.id).await {
                Ok(rows) => rows.iter().filter(|m| m.flags & Flag::Deleted.bit() != 0).map(|m| m.uid).collect(),
                Err(e) => return failed(e),
            };
            if let Err(e) = self.mailstore.expunge(account, sel.mailbox.id, &deleted).await {
                return crate::reply::failure(&e);
            }
        }
        Done::ok(if expunge { "CLOSE completed" } else { "UNSELECT completed" })
    }

    /// IDLE: report changes as they happen until the client sends DONE.
    pub(crate) async fn idle(&mut self) -> Done {
        // Subscribe before looking at the store, so nothing falls in between.
        let account = self.account.as_ref().map(|a| a.id).unwrap_or_default();
        let credential = self.credential;
        let mut events = self.mailstore.watch(account);
        self.out.extend_from_slice(b"+ idling\r\n");
        if let Err(e) = self.sync(true).await {
            tracing::warn!(error = %e, "resynchronisation failed");
        }
        if self.flush().await.is_err() {
            return Done::bad("Connection lost");
        }
        loop {
            match self.reader.next_line() {
                Some(Ok(line)) if line.eq_ignore_ascii_case(b"DONE") => return Done::ok("IDLE terminated"),
                Some(_) => return Done::bad("Expected DONE to end IDLE"),
                None => {}
            }
            let mailbox = self.selected.as_ref().map(|s| s.mailbox.id);
            let mut shutdown = self.shutdown.clone();
            // Small: what comes during IDLE is `DONE` (anything pipelined
            // after it is read on the next turns), and an idle session keeps
            // this buffer for as long as it waits.
            let mut buf = vec![0u8; 256];
            let woke = tokio::select! {
                read = tokio::time::timeout(self.cfg.idle_timeout, tokio::io::AsyncReadExt::read(&mut self.stream, &mut buf)) => {
                    match read {
                        Ok(Ok(0)) | Ok(Err(_)) => Err(ReadStop::Eof),
                        Err(_) => Err(ReadStop::Timeout),
                        Ok(Ok(n)) => self.feed(&buf[..n]).map(|()| false),
                    }
                }
                event = events.recv() => match event {
                    Ok(event) if crate::session::ends(&event, credential) => Err(ReadStop::Revoked),
                    event => Ok(match event {
                        Ok(MailEvent::Delivered { account: a, mailbox: m, .. })
                        | Ok(MailEvent::Changed { account: a, mailbox: m, .. }) => a == account && Some(m) == mailbox,
                        Ok(MailEvent::AccessRevoked { .. } | MailEvent::CredentialRevoked { .. }) => false,
                        Err(RecvError::Lagged(_)) => true,
                        Err(RecvError::Closed) => false,
                    }),
                },
                _ = shutdown.wait_for(|stop| *stop) => Err(ReadStop::Shutdown),
            };
            match woke {
                Err(stop) => {
                    self.say_goodbye(stop).await;
                    self.logout = true;
                    return Done::bad("Connection closed during IDLE");
                }
                Ok(false) => {}
                Ok(true) => {
                    if let Err(e) = self.sync(true).await {
                        tracing::warn!(error = %e, "resynchronisation failed");
                    }
                    if self.flush().await.is_err() {
                        return Done::bad("Connection lost");
                    }
                }
            }
        }
    }
}
