//! Commands of the selected state that change messages: STORE, EXPUNGE,
//! COPY and MOVE (with their UID forms). FETCH is `fetch.rs`, SEARCH
//! `search.rs`, SORT and THREAD `sort.rs`, CLOSE and UNSELECT `selected.rs`.

use mailstore::{FlagOp, FlagOutcome};
use model::{Flag, Keyword, Rights};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::command::{RawName, StoreMode};
use crate::reply::{Done, failed, failure};
use crate::selected::Selected;
use crate::seqset::SeqSet;
use crate::session::Conn;
use crate::state::Authed;
use crate::untagged::Untagged;

/// Splits client flags into system flag bits and keywords. `\Recent` and
/// `\*` are ignored; an unknown system flag is refused.
pub(crate) fn parse_flags(flags: &[String]) -> Result<(i64, Vec<String>), Done> {
    let mut bits = 0;
    let mut keywords = Vec::new();
    for f in flags {
        if let Some(flag) = Flag::ALL.iter().find(|x| x.imap_name().eq_ignore_ascii_case(f)) {
            bits |= flag.bit();
        } else if f.eq_ignore_ascii_case("\\Recent") || f == "\\*" {
        } else if f.starts_with('\\') {
            return Err(Done::bad(&format!("Unknown system flag {f}")));
        } else if Keyword::new(f).is_some() {
            if !keywords.contains(f) {
                keywords.push(f.clone());
            }
        } else {
            return Err(Done::bad(&format!("Invalid keyword {f}")));
        }
    }
    Ok((bits, keywords))
}

/// The flags of an APPEND that `rights` allow to set (RFC 4314 section 4:
/// `s` for `\Seen`, `t` for `\Deleted`, `w` for the others); the rest
/// are dropped silently.
pub(crate) fn allowed_flags(rights: Rights, bits: i64, keywords: Vec<String>) -> (i64, Vec<String>) {
    let mut allowed = 0;
    if rights.contains(Rights::SEEN) {
        allowed |= Flag::Seen.bit();
    }
    if rights.contains(Rights::DELETE_MESSAGES) {
        allowed |= Flag::Deleted.bit();
    }
    if rights.contains(Rights::WRITE) {
        allowed |= !(Flag::Seen.bit() | Flag::Deleted.bit());
        return (bits & allowed, keywords);
    }
    (bits & allowed, Vec::new())
}

/// Whether `rights` allow a STORE of these flags: `s` for `\Seen`, `t`
/// for `\Deleted`, `w` for every other flag and keyword.
pub(crate) fn may_store(rights: Rights, bits: i64, keywords: &[String]) -> bool {
    let others = bits & !(Flag::Seen.bit() | Flag::Deleted.bit()) != 0 || !keywords.is_empty();
    (bits & Flag::Seen.bit() == 0 || rights.contains(Rights::SEEN))
        && (bits & Flag::Deleted.bit() == 0 || rights.contains(Rights::DELETE_MESSAGES))
        && (!others || rights.contains(Rights::WRITE))
}

/// The refusal of an action the rights on a shared mailbox do not allow.
pub(crate) fn no_permission() -> Done {
    Done::no("[NOPERM] Droits insuffisants sur ce dossier partage / Not allowed on this shared mailbox")
}

/// The UID an outcome of [`mailstore::Mailstore::update_flags`] is about.
pub(crate) fn outcome_uid(o: &FlagOutcome) -> i64 {
    match o {
        FlagOutcome::Changed { uid, .. }
        | FlagOutcome::Unchanged { uid, .. }
        | FlagOutcome::Modified { uid }
        | FlagOutcome::Missing { uid } => *uid,
    }
}

/// `1:3,7` for a sorted list of UIDs.
pub(crate) fn compact_set(uids: &[i64]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < uids.len() {
        let mut j = i;
        while j + 1 < uids.len() && uids[j + 1] == uids[j] + 1 {
            j += 1;
        }
        parts.push(if i == j { uids[i].to_string() } else { format!("{}:{}", uids[i], uids[j]) });
        i = j + 1;
    }
    parts.join(",")
}

/// What STORE does to the flags.
pub(crate) struct FlagChange<'a> {
    pub mode: StoreMode,
    pub silent: bool,
    pub flags: &'a [String],
    pub unchanged_since: Option<u64>,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Conn<'_, S> {
    /// STORE and UID STORE on the messages at these view indices.
    pub(crate) async fn store_flags(
        &mut self,
        authed: &Authed,
        sel: &mut Selected,
        uid: bool,
        indices: Vec<usize>,
        change: FlagChange<'_>,
    ) -> Done {
        let FlagChange { mode, silent, flags, unchanged_since } = change;
        if sel.read_only {
            return Done::no("[READ-ONLY] The mailbox is open read-only");
        }
        let (bits, keywords) = match parse_flags(flags) {
            Ok(f) => f,
            Err(done) => return done,
        };
        // A replacement clears every flag too: all the rights it touches are needed.
        let touched = if matches!(mode, StoreMode::Replace) { !0 } else { bits };
        if !may_store(sel.rights, touched, &keywords) {
            return no_permission();
        }
        if unchanged_since.is_some() {
            self.condstore_on(Some(&*sel));
        }
        if indices.is_empty() {
            return Done::ok(if uid { "UID STORE completed" } else { "STORE completed" });
        }
        // One transaction for the whole set; each message's new flags are
        // computed from its current ones under the store's write lock, so
        // concurrent +FLAGS/-FLAGS of other sessions are never undone.
        let op = match mode {
            StoreMode::Replace => FlagOp::Replace,
            StoreMode::Add => FlagOp::Add,
            StoreMode::Remove => FlagOp::Remove,
        };
        let uids: Vec<i64> = indices.iter().map(|i| i64::from(sel.uids[*i])).collect();
        let since = unchanged_since.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        let account = sel.mailbox.account_id;
        if account != authed.account.id && bits & Flag::Deleted.bit() != 0 {
            let detail = format!("{} \\Deleted {}", sel.mailbox.name, compact_set(&uids));
            self.mailstore.journal(account, authed.account.id, "marquage", &detail).await;
        }
        let outcomes =
            match self.mailstore.update_flags(account, sel.mailbox.id, &uids, op, bits, &keywords, since).await {
                Ok(o) => o,
                Err(e) => return failure(&e),
            };
        let by_uid: std::collections::HashMap<i64, &FlagOutcome> =
            outcomes.iter().map(|o| (outcome_uid(o), o)).collect();
        let mut modified = Vec::new();
        let mut missing = Vec::new();
        let condstore = self.enabled.condstore;
        let shown = outcomes.iter().filter_map(|o| match o {
            FlagOutcome::Changed { keywords, .. } | FlagOutcome::Unchanged { keywords, .. } => Some(keywords),
            FlagOutcome::Modified { .. } | FlagOutcome::Missing { .. } => None,
        });
        self.announce_keywords(sel, shown.flatten());
        for i in indices {
            let message_uid = i64::from(sel.uids[i]);
            let number = if uid { message_uid } else { i as i64 + 1 };
            let (flags, keywords, modseq, changed) = match by_uid.get(&message_uid) {
                Some(FlagOutcome::Changed { flags, keywords, modseq, .. }) => {
                    sel.own.insert(*modseq);
                    (*flags, keywords, *modseq, true)
                }
                Some(FlagOutcome::Unchanged { flags, keywords, modseq, .. }) => (*flags, keywords, *modseq, false),
                Some(FlagOutcome::Modified { .. }) => {
                    modified.push(number);
                    continue;
                }
                Some(FlagOutcome::Missing { .. }) | None => {
                    missing.push(number);
                    continue;
                }
            };
            if silent {
                // RFC 7162 section 3.2 (RFC 4551 3.2): under CONDSTORE "an untagged FETCH
                // response MUST be sent, even if the .SILENT suffix is
                // specified", with the MODSEQ (and no flags: they were asked
                // not to be sent).
                if changed && condstore {
                    self.untagged(&format!("{} FETCH (UID {message_uid} MODSEQ ({modseq}))", i + 1));
                }
            } else {
                self.say(Untagged::Flags {
                    seq: i + 1,
                    // RFC 7162 section 3.1: under CONDSTORE, every untagged
                    // FETCH a STORE causes carries the UID and the MODSEQ.
                    uid: (uid || condstore).then_some(message_uid),
                    flags,
                    recent: sel.recent.contains(&sel.uids[i]),
                    keywords,
                    modseq: condstore.then_some(modseq),
                });
            }
        }
        let what = if uid { "UIDs" } else { "messages" };
        if !modified.is_empty() {
            modified.sort_unstable();
            let also = if missing.is_empty() {
                String::new()
            } else {
                missing.sort_unstable();
                format!("; {what} {} were expunged by another session", compact_set(&missing))
            };
            return Done::ok(&format!(
                "[MODIFIED {}] Conditional STORE failed for some messages{also}",
                compact_set(&modified)
            ));
        }
        if !missing.is_empty() {
            // RFC 2180 4.2.1: the rest of the set was stored; say which ones
            // were not, and why (RFC 5530 EXPUNGEISSUED: a NOOP will report
            // their removal).
            missing.sort_unstable();
            return Done::no(&format!(
                "[EXPUNGEISSUED] Flags stored except on {what} {}, expunged by another session",
                compact_set(&missing)
            ));
        }
        Done::ok(if uid { "UID STORE completed" } else { "STORE completed" })
    }

    /// Removes `\Deleted` messages (only those in `uids` for UID EXPUNGE)
    /// and reports each removal.
    pub(crate) async fn expunge(&mut self, authed: &Authed, sel: &mut Selected, uids: Option<&SeqSet>) -> Done {
        if sel.read_only {
            return Done::no("[READ-ONLY] The mailbox is open read-only");
        }
        if !sel.rights.contains(Rights::EXPUNGE) {
            return no_permission();
        }
        let rows = match self.mailstore.messages(sel.mailbox.id).await {
            Ok(rows) => rows,
            Err(e) => return failed(e),
        };
        let largest = sel.uids.last().copied().unwrap_or(0);
        let doomed: Vec<i64> = rows
            .iter()
            .filter(|m| m.flags & Flag::Deleted.bit() != 0)
            .filter(|m| sel.seq_of(m.uid as u32).is_some())
            .filter(|m| uids.is_none_or(|set| set.contains(m.uid as u32, largest)))
            .map(|m| m.uid)
            .collect();
        let owner = sel.mailbox.account_id;
        match self.mailstore.expunge(owner, sel.mailbox.id, &doomed).await {
            Ok(gone) => {
                if owner != authed.account.id && !gone.is_empty() {
                    let detail = format!("{} UID {}", sel.mailbox.name, compact_set(&gone));
                    self.mailstore.journal(owner, authed.account.id, "suppression", &detail).await;
                }
                // What this call removed is reported here, in this view's
                // numbering; messages of the view that another session removed
                // (some of `doomed` may be among them) are reported right after,
                // by the sync that follows every command that may send EXPUNGE
                // (`Session::execute`), with the numbers as they are by then.
                self.report_expunged(sel, &gone).await;
                Done::ok(if uids.is_some() { "UID EXPUNGE completed" } else { "EXPUNGE completed" })
            }
            Err(e) => failure(&e),
        }
    }

    /// Sends EXPUNGE (VANISHED under QRESYNC) for UIDs removed by this
    /// session and drops them from the view; updated searches first tell of
    /// their removal, while the numbers are still valid (RFC 5267 section 4.3.4).
    async fn report_expunged(&mut self, sel: &mut Selected, gone: &[i64]) {
        if !sel.contexts.is_empty() && !gone.is_empty() {
            Box::pin(self.refresh_contexts(sel)).await;
        }
        let mut vanished = Vec::new();
        for uid in gone {
            if let Some(seq) = sel.seq_of(*uid as u32) {
                sel.uids.remove(seq - 1);
                sel.recent.remove(&(*uid as u32));
                if !self.enabled.qresync {
                    self.say(Untagged::Expunge(seq));
                }
                vanished.push(*uid);
            }
        }
        if self.enabled.qresync {
            vanished.sort_unstable();
            self.vanished_line(false, &vanished);
        }
    }

    /// COPY and MOVE (and their UID forms) of the messages at these view indices.
    pub(crate) async fn copy(
        &mut self,
        authed: &Authed,
        sel: &mut Selected,
        uid: bool,
        indices: Vec<usize>,
        target: &RawName,
        moving: bool,
    ) -> Done {
        if moving && sel.read_only {
            return Done::no("[READ-ONLY] The mailbox is open read-only");
        }
        // RFC 6851 section 3.3 with RFC 4314: moving away is deleting and expunging.
        if moving && !sel.rights.contains(Rights::DELETE_MESSAGES.union(Rights::EXPUNGE)) {
            return no_permission();
        }
        let account = sel.mailbox.account_id;
        let name = match self.decode_name(target) {
            Ok(n) => n,
            Err(done) => return done,
        };
        let to = match self.find_mailbox_for(authed, &name).await {
            Ok((m, rights)) if rights.contains(Rights::INSERT) => m,
            Ok(_) => return no_permission(),
            Err(_) if crate::mailboxes::is_shared_name(&name) => return Done::no("[NONEXISTENT] No such mailbox"),
            Err(_) => return Done::no("[TRYCREATE] No such mailbox"),
        };
        if to.account_id != account {
            return Done::no(
                "[CANNOT] Copie entre deux boites : enregistrez le message dans l'autre (APPEND) \
                 / Copying between two accounts' mailboxes is not supported, use APPEND",
            );
        }
        let uids: Vec<i64> = indices.iter().map(|i| i64::from(sel.uids[*i])).collect();
        let verb = if moving { "MOVE" } else { "COPY" };
        if uids.is_empty() {
            return Done::ok(&format!("{verb} completed (nothing to do)"));
        }
        // A move within one mailbox gives the messages new UIDs: a copy, then
        // the originals discarded (the store's one-transaction move is between two).
        let within = moving && to.id == sel.mailbox.id;
        let copied = if moving && !within {
            self.mailstore.move_messages(account, sel.mailbox.id, &uids, to.id).await
        } else {
            self.mailstore.copy(account, sel.mailbox.id, &uids, to.id).await
        };
        let copied = match copied {
            Ok(c) => c,
            Err(e) => return failure(&e),
        };
        let sources: Vec<i64> = copied.iter().map(|c| c.source_uid).collect();
        let targets: Vec<i64> = copied.iter().map(|c| c.uid).collect();
        let code = if copied.is_empty() {
            String::new()
        } else {
            format!("[COPYUID {} {} {}] ", to.uid_validity, compact_set(&sources), compact_set(&targets))
        };
        if !moving {
            return Done::ok(&format!("{code}COPY completed"));
        }
        if account != authed.account.id {
            let detail = format!("{} -> {} UID {}", sel.mailbox.name, to.name, compact_set(&sources));
            self.mailstore.journal(account, authed.account.id, "deplacement", &detail).await;
        }
        // RFC 6851 section 4.3: COPYUID in an untagged OK before the expunges.
        self.untagged(&format!("OK {code}Moved"));
        let gone = if within {
            match self.mailstore.discard(account, sel.mailbox.id, &sources).await {
                Ok(gone) => gone,
                Err(e) => return failure(&e),
            }
        } else {
            sources
        };
        self.report_expunged(sel, &gone).await;
        Done::ok(if uid { "UID MOVE completed" } else { "MOVE completed" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_sets() {
        let (bits, kw) = parse_flags(&["\\Seen".into(), "$Junk".into(), "\\Recent".into()]).unwrap();
        assert_eq!(bits, Flag::Seen.bit());
        assert_eq!(kw, vec!["$Junk".to_owned()]);
        assert!(parse_flags(&["\\Bogus".into()]).is_err());
        assert_eq!(compact_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
    }
}
