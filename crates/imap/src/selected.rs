//! The selected mailbox: the session's own view of it (UIDs in sequence
//! order), SELECT/EXAMINE, CLOSE/UNSELECT, and keeping the view in step
//! with other sessions and deliveries (NOOP, IDLE, after every command).

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::sync::Arc;

use mailstore::{ChangeKind, MailEvent, Mailbox, MessageRow};
use model::Flag;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast::error::RecvError;

use crate::command::{Qresync, RawName};
use crate::reply::{Done, failed};
use crate::seqset::SeqSet;
use crate::session::{Conn, ReadStop};
use crate::state::{Authed, State, log_in_first};
use crate::untagged::{Code, Untagged};

/// What a session knows of its selected mailbox. Not `Clone`: commands
/// borrow it from the session's state, so none copies the UID list.
#[derive(Debug)]
pub struct Selected {
    /// The mailbox; under `Partages/` another account's, renamed as the
    /// session sees it (`account_id` is the owner's).
    pub mailbox: Mailbox,
    pub read_only: bool,
    /// What this login may do with it (RFC 4314): all on its own mailboxes.
    pub rights: model::Rights,
    /// UIDs in sequence-number order (message n is `uids[n - 1]`).
    pub uids: Vec<u32>,
    /// Changes up to this modseq have been reported to the client.
    pub modseq: i64,
    /// Modseqs above `modseq` of flag changes already reported to the client
    /// (made by this session, or reported while an unreported expunge held
    /// `modseq` back), so that they are not reported again.
    pub own: BTreeSet<i64>,
    /// SEARCHRES: UIDs of the last `SEARCH RETURN (SAVE)`.
    pub saved: Vec<u32>,
    /// The mailbox's rows as SEARCH last read them, with the mailbox's
    /// HIGHESTMODSEQ at that time: every change to a message (new, flags,
    /// expunge) raises it, so while it is unchanged the rows are current and
    /// repeated searches skip reading 20,000-100,000 rows. Filled by SEARCH
    /// only, so that idle sessions keep no copy of their mailbox.
    pub rows: Option<(i64, Arc<Vec<MessageRow>>)>,
    /// The keywords the client was told of in `FLAGS` and `PERMANENTFLAGS`:
    /// a keyword new to the mailbox is announced again before the first
    /// FETCH that shows it ([`Conn::announce_keywords`]).
    pub keywords: BTreeSet<String>,
    /// UIDs this session holds as `\Recent` (IMAP4rev1, RFC 3501 section
    /// 2.3.2): claimed from the mailbox by SELECT and when mail arrives
    /// while selected ([`Conn::claim_recent`]); never by EXAMINE or an
    /// IMAP4rev2 session.
    pub recent: BTreeSet<u32>,
    /// UID ranges this session claimed as recent that reach beyond its view
    /// (mail that arrived while it claimed): their messages are recent here
    /// when they come into the view.
    pub claimed: Vec<Range<i64>>,
    /// Searches kept up to date (`RETURN (UPDATE)`, RFC 5267): they end
    /// with the selection.
    pub contexts: Vec<crate::context::Context>,
}

impl Selected {
    /// The sequence number of a UID in this view.
    pub fn seq_of(&self, uid: u32) -> Option<usize> {
        self.uids.binary_search(&uid).ok().map(|i| i + 1)
    }

    /// The view indices a set names, by UID or by sequence number.
    pub fn indices(&self, uid: bool, set: &SeqSet) -> Result<Vec<usize>, Done> {
        if uid {
            return Ok(set.select(&self.uids).collect());
        }
        let count = self.uids.len() as u32;
        let out: Vec<usize> = (1..=count).filter(|n| set.contains(*n, count)).map(|n| n as usize - 1).collect();
        let beyond = set
            .0
            .iter()
            .any(|(a, b)| [a, b].iter().any(|n| matches!(n, crate::seqset::SeqNum::Value(v) if *v > count)));
        if beyond && count > 0 {
            return Err(Done::bad("Message sequence number out of range"));
        }
        Ok(out)
    }

    /// Replaces `$` by the saved search result: UIDs, or the sequence
    /// numbers they have now.
    pub fn unsave(&self, uid: bool, set: SeqSet) -> SeqSet {
        if !set.is_saved() {
            return set;
        }
        if uid {
            return SeqSet::of(&self.saved);
        }
        let seqs: Vec<u32> = self.saved.iter().filter_map(|u| self.seq_of(*u)).map(|s| s as u32).collect();
        SeqSet::of(&seqs)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Conn<'_, S> {
    /// SELECT and EXAMINE: the previous selection ends first (with `OK
    /// [CLOSED]` under CONDSTORE), then the state is selected only if the
    /// mailbox opens and, with QRESYNC, its resynchronisation succeeds.
    pub(crate) async fn select(
        &mut self,
        state: &mut State,
        raw: &RawName,
        examine: bool,
        condstore: bool,
        qresync: Option<Qresync>,
    ) -> Done {
        if condstore {
            self.enabled.condstore = true;
        }
        if qresync.is_some() && !self.enabled.qresync {
            return Done::bad("ENABLE QRESYNC first");
        }
        if state.deselect().is_some() && self.enabled.condstore {
            self.say(Untagged::Ok(Code::Closed));
        }
        let Some(authed) = state.authed_mut() else { return log_in_first() };
        let selected = match self.open(authed, raw, examine).await {
            Ok(selected) => selected,
            Err(done) => return done,
        };
        if let Some(q) = qresync
            && let Err(failed) = self.qresync_select(&selected, &q).await
        {
            return failed;
        }
        let read_only = selected.read_only;
        let verb = if examine { "EXAMINE" } else { "SELECT" };
        state.select(selected);
        Done::ok(&if read_only {
            format!("[READ-ONLY] {verb} completed")
        } else {
            format!("[READ-WRITE] {verb} completed")
        })
    }

    /// Opens a mailbox and reports its state (the untagged part of SELECT).
    async fn open(&mut self, authed: &Authed, raw: &RawName, read_only: bool) -> Result<Selected, Done> {
        let name = self.decode_name(raw)?;
        let (mailbox, rights) = self.find_mailbox_for(authed, &name).await?;
        if !rights.contains(model::Rights::READ) {
            return Err(Done::no("[NOPERM] Vous ne pouvez pas lire ce dossier / You may not read this mailbox"));
        }
        // Without any right to change it, a shared mailbox opens read-only
        // (RFC 4314 section 4).
        let read_only = read_only || !rights.may_change();
        if mailbox.account_id != authed.account.id {
            self.mailstore.journal(mailbox.account_id, authed.account.id, "lecture", &mailbox.name).await;
        }
        let rev2 = self.enabled.rev2;
        // Claimed before the messages are read, so that every claimed UID
        // that still exists is in the view.
        let claimed =
            if read_only || rev2 { 0..0 } else { self.mailstore.claim_recent(mailbox.id).await.map_err(failed)? };
        let messages = self.mailstore.messages(mailbox.id).await.map_err(failed)?;
        let uids: Vec<u32> = messages.iter().map(|m| m.uid as u32).collect();
        let uid_next = mailbox.uid_next.max(messages.last().map_or(1, |m| m.uid + 1));
        let highest = messages.iter().map(|m| m.modseq).max().unwrap_or(0).max(mailbox.highest_modseq);
        let mut keywords: BTreeSet<&str> = BTreeSet::new();
        for m in &messages {
            keywords.extend(m.keywords.iter().map(String::as_str));
        }
        let announced: BTreeSet<String> = keywords.iter().map(|k| (*k).to_owned()).collect();
        let keywords: Vec<&str> = keywords.into_iter().collect();
        let recent: BTreeSet<u32> = uids.iter().copied().filter(|u| claimed.contains(&i64::from(*u))).collect();
        self.say(Untagged::Exists(uids.len()));
        if !rev2 {
            self.say(Untagged::Recent(recent.len()));
        }
        self.say(Untagged::MailboxFlags { keywords: &keywords });
        self.say(Untagged::Ok(Code::PermanentFlags { keywords: &keywords, read_only }));
        let first_unseen = messages.iter().position(|m| m.flags & Flag::Seen.bit() == 0);
        if let (false, Some(first)) = (rev2, first_unseen) {
            self.say(Untagged::Ok(Code::Unseen(first + 1)));
        }
        self.say(Untagged::Ok(Code::UidValidity(mailbox.uid_validity)));
        self.say(Untagged::Ok(Code::UidNext(uid_next)));
        self.say(Untagged::Ok(Code::HighestModseq(highest)));
        self.say(Untagged::Ok(Code::MailboxId(mailbox.id)));
        if rev2 {
            // RFC 9051 asks for the mailbox's canonical name with SELECT.
            let mut line = b"* LIST () \"/\" ".to_vec();
            line.extend_from_slice(&self.encode_name(&mailbox.name));
            line.extend_from_slice(b"\r\n");
            self.out.extend_from_slice(&line);
        }
        Ok(Selected {
            mailbox,
            read_only,
            rights,
            uids,
            modseq: highest,
            own: BTreeSet::new(),
            saved: Vec::new(),
            rows: None,
            keywords: announced,
            recent,
            claimed: Vec::new(),
            contexts: Vec::new(),
        })
    }

    /// New messages came into the view: claims what no session has seen
    /// as recent yet (never for EXAMINE or IMAP4rev2), and adds the new
    /// messages of every range claimed so far to the session's recent ones.
    async fn claim_recent(&self, sel: &mut Selected, arrived: &BTreeSet<u32>) {
        if !sel.read_only && !self.enabled.rev2 {
            match self.mailstore.claim_recent(sel.mailbox.id).await {
                Ok(range) if !range.is_empty() => sel.claimed.push(range),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "claiming recent messages failed"),
            }
        }
        let claimed = &sel.claimed;
        sel.recent.extend(arrived.iter().copied().filter(|u| claimed.iter().any(|r| r.contains(&i64::from(*u)))));
        let last = arrived.last().map_or(0, |u| i64::from(*u));
        sel.claimed.retain(|r| r.end - 1 > last);
    }

    /// Sends `FLAGS` and `OK [PERMANENTFLAGS]` again when one of these
    /// keywords is new to the client's view of the mailbox (RFC 3501 section
    /// 7.2.6, RFC 9051 section 7.3.5), so that no FETCH shows a keyword the
    /// client was not told the mailbox has.
    pub(crate) fn announce_keywords<'k>(&mut self, sel: &mut Selected, keywords: impl IntoIterator<Item = &'k String>) {
        let mut grown = false;
        for k in keywords {
            if !sel.keywords.contains(k) {
                sel.keywords.insert(k.clone());
                grown = true;
            }
        }
        if !grown {
            return;
        }
        let all: Vec<&str> = sel.keywords.iter().map(String::as_str).collect();
        self.say(Untagged::MailboxFlags { keywords: &all });
        self.say(Untagged::Ok(Code::PermanentFlags { keywords: &all, read_only: sel.read_only }));
    }

    /// Reports what changed in the selected mailbox since the last report:
    /// new messages (EXISTS), other sessions' flag changes (FETCH) and, when
    /// `may_expunge`, messages that disappeared (EXPUNGE).
    pub(crate) async fn sync(&mut self, sel: &mut Selected, may_expunge: bool) -> Result<(), mailstore::Error> {
        let changes = self.mailstore.changes_since(sel.mailbox.id, sel.modseq).await?;
        if changes.is_empty() {
            return Ok(());
        }
        let messages = self.mailstore.messages(sel.mailbox.id).await?;
        let current: HashMap<u32, &MessageRow> = messages.iter().map(|m| (m.uid as u32, m)).collect();
        let top = changes.iter().map(|c| c.modseq).max().unwrap_or(sel.modseq);
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
        if !arrived.is_empty() {
            let before = sel.recent.len();
            self.claim_recent(sel, &arrived).await;
            sel.uids.extend(arrived);
            self.say(Untagged::Exists(sel.uids.len()));
            if sel.recent.len() != before {
                self.say(Untagged::Recent(sel.recent.len()));
            }
        }
        // Updated searches go out after the EXISTS above and before any
        // EXPUNGE below (RFC 5267 sections 4.3.3 and 4.3.4), so that their
        // numbers are valid; when nothing is expunged now, after the flag
        // changes too (RFC 5465 section 7: FETCH before ESEARCH).
        let expunging = may_expunge && expunged_seen;
        if expunging && !sel.contexts.is_empty() {
            Box::pin(self.refresh_contexts(sel)).await;
        }
        if expunging {
            let mut vanished = Vec::new();
            let mut gone = Vec::new();
            let mut i = sel.uids.len();
            while i > 0 {
                i -= 1;
                if !current.contains_key(&sel.uids[i]) {
                    sel.recent.remove(&sel.uids[i]);
                    vanished.push(i64::from(sel.uids.remove(i)));
                    gone.push(i + 1);
                }
            }
            if self.enabled.qresync && !vanished.is_empty() {
                vanished.reverse();
                self.say(Untagged::Vanished { earlier: false, uids: &vanished });
            } else {
                for seq in gone {
                    self.say(Untagged::Expunge(seq));
                }
            }
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
        let shown = flagged.iter().chain(sel.uids.iter().filter(|u| **u > last));
        let keywords: Vec<String> =
            shown.filter_map(|u| current.get(u)).flat_map(|row| row.keywords.iter().cloned()).collect();
        self.announce_keywords(sel, &keywords);
        for uid in flagged {
            let (Some(seq), Some(row)) = (sel.seq_of(uid), current.get(&uid)) else {
                continue;
            };
            if uid > last {
                continue;
            }
            let modseq = self.enabled.condstore.then_some(row.modseq);
            let (flags, recent, keywords) = (row.flags, sel.recent.contains(&uid), &row.keywords);
            self.say(Untagged::Flags { seq, uid: Some(row.uid), flags, recent, keywords, modseq });
        }
        if !expunging && !sel.contexts.is_empty() {
            Box::pin(self.refresh_contexts(sel)).await;
        }
        sel.own.retain(|m| *m > new_modseq);
        sel.modseq = new_modseq;
        Ok(())
    }

    /// CLOSE (expunging `\Deleted` messages unless read-only) and UNSELECT:
    /// back to the authenticated state.
    pub(crate) async fn close(&mut self, state: &mut State, expunge: bool) -> Done {
        let Some(account) = state.authed_mut().map(|a| a.account.id) else { return log_in_first() };
        let Some(sel) = state.deselect() else {
            return Done::bad("Select a mailbox first");
        };
        // RFC 4314 section 4: without `e`, CLOSE expunges nothing and says nothing.
        if expunge && !sel.read_only && sel.rights.contains(model::Rights::EXPUNGE) {
            let deleted: Vec<i64> = match self.mailstore.messages(sel.mailbox.id).await {
                Ok(rows) => rows.iter().filter(|m| m.flags & Flag::Deleted.bit() != 0).map(|m| m.uid).collect(),
                Err(e) => return failed(e),
            };
            let owner = sel.mailbox.account_id;
            match self.mailstore.expunge(owner, sel.mailbox.id, &deleted).await {
                Ok(gone) if owner != account && !gone.is_empty() => {
                    let detail = format!("{} UID {}", sel.mailbox.name, crate::messages::compact_set(&gone));
                    self.mailstore.journal(owner, account, "suppression", &detail).await;
                }
                Ok(_) => {}
                Err(e) => return crate::reply::failure(&e),
            }
        }
        Done::ok(if expunge { "CLOSE completed" } else { "UNSELECT completed" })
    }

    /// IDLE: report changes as they happen until the client sends DONE.
    /// `Err` when the connection ended meanwhile.
    pub(crate) async fn idle(&mut self, authed: &Authed, mut sel: Option<&mut Selected>) -> Result<Done, Done> {
        // Subscribe before looking at the store, so nothing falls in between.
        let (account, proof) = (authed.account.id, authed.proof);
        let mut events = self.mailstore.watch(account);
        // A shared mailbox's changes are its owner's events: watched too,
        // for those only (the owner's revocations end no session of ours).
        let owner = sel.as_ref().map(|s| s.mailbox.account_id).filter(|o| *o != account);
        let mut owner_events = owner.map(|o| self.mailstore.watch(o));
        self.out.extend_from_slice(b"+ idling\r\n");
        self.sync_if_selected(sel.as_deref_mut()).await;
        if self.flush().await.is_err() {
            return Ok(Done::bad("Connection lost"));
        }
        loop {
            match self.reader.next_line() {
                Some(Ok(line)) if line.eq_ignore_ascii_case(b"DONE") => return Ok(Done::ok("IDLE terminated")),
                Some(_) => return Ok(Done::bad("Expected DONE to end IDLE")),
                None => {}
            }
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
                        Ok(Ok(n)) => {
                            self.last_input = tokio::time::Instant::now();
                            self.feed(&buf[..n]).map(|()| None)
                        }
                    }
                }
                event = events.recv() => match event {
                    Ok(event) if event.ends(proof) => Err(ReadStop::Revoked),
                    Err(RecvError::Closed) => Ok(None),
                    event => Ok(Some(event)),
                },
                event = async {
                    match owner_events.as_mut() {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                } => match event {
                    Ok(MailEvent::Delivered { .. } | MailEvent::Changed { .. }) | Err(RecvError::Lagged(_)) => {
                        Ok(Some(event))
                    }
                    Err(RecvError::Closed) => {
                        owner_events = None;
                        Ok(None)
                    }
                    Ok(_) => Ok(None),
                },
                _ = shutdown.wait_for(|stop| *stop) => Err(ReadStop::Shutdown),
            };
            match woke {
                Err(stop) => {
                    self.say_goodbye(stop).await;
                    return Err(Done::bad("Connection closed during IDLE"));
                }
                Ok(None) => {}
                Ok(Some(event)) => {
                    // As between commands, with expunges allowed: what NOTIFY
                    // asked for, else the selected mailbox's changes.
                    Box::pin(self.push_event(authed, sel.as_deref_mut(), event, true)).await;
                    if self.flush().await.is_err() {
                        return Ok(Done::bad("Connection lost"));
                    }
                }
            }
        }
    }

    /// [`Conn::sync`] when a mailbox is selected; a failure is logged (the
    /// next report tries again).
    async fn sync_if_selected(&mut self, sel: Option<&mut Selected>) {
        if let Some(sel) = sel
            && let Err(e) = self.sync(sel, true).await
        {
            tracing::warn!(error = %e, "resynchronisation failed");
        }
    }
}
