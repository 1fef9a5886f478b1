//! Commands of the authenticated state: LIST, LSUB, STATUS, CREATE, DELETE,
//! RENAME, SUBSCRIBE, UNSUBSCRIBE and APPEND (SELECT and EXAMINE are in
//! `selected.rs`). Each receives the login it acts for.

use mailstore::{DeliveryTarget, Mailbox};
use model::{AccountId, Flag, Rights, SpecialUse};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::command::{AppendItem, ListOptions, RawName, StatusItem};
use crate::pattern::Pattern;
use crate::reply::{Done, failed, failure};
use crate::session::Conn;
use crate::state::{Authed, State, log_in_first};

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Conn<'_, S> {
    /// STATUS.
    pub(crate) async fn status(&mut self, authed: &Authed, raw: &RawName, items: &[StatusItem]) -> Done {
        let mailbox = match self.named_for(authed, raw).await {
            Ok((m, rights)) if rights.contains(Rights::READ) => m,
            Ok(_) => return Done::no("[NOPERM] Vous ne pouvez pas lire ce dossier / You may not read this mailbox"),
            Err(done) => return done,
        };
        match self.status_line(&mailbox, items).await {
            Ok(line) => {
                self.untagged(&line);
                Done::ok("STATUS completed")
            }
            Err(done) => done,
        }
    }

    /// DELETE; deleting the selected mailbox leaves the selected state (even
    /// if the deletion then fails: the client asked for it to go).
    pub(crate) async fn delete(&mut self, state: &mut State, raw: &RawName) -> Done {
        let Some((authed, selected)) = state.parts() else { return log_in_first() };
        let account = authed.account.id;
        let mbx = match self.named_or_placeholder(account, raw).await {
            Ok(m) => m,
            Err(done) => return done,
        };
        if selected.is_some_and(|s| s.mailbox.id == mbx.id) {
            state.deselect();
        }
        match self.mailstore.delete_mailbox(account, mbx.id).await {
            Ok(()) => Done::ok("DELETE completed"),
            Err(mailstore::Error::Conflict(_)) => Done::no("[HASCHILDREN] Delete the sub-folders first"),
            Err(e) => failed(e),
        }
    }

    /// RENAME.
    pub(crate) async fn rename(&mut self, authed: &Authed, from: &RawName, to: &RawName) -> Done {
        let account = authed.account.id;
        let mbx = match self.named_or_placeholder(account, from).await {
            Ok(m) => m,
            Err(done) => return done,
        };
        let new_name = match self.decode_name(to) {
            Ok(n) => n,
            Err(done) => return done,
        };
        match self.mailstore.rename_mailbox(account, mbx.id, &new_name).await {
            Ok(_) => Done::ok("RENAME completed"),
            Err(e) => failed(e),
        }
    }

    /// Decodes a mailbox name as the client spells it.
    pub(crate) fn decode_name(&self, raw: &RawName) -> Result<String, Done> {
        Ok(self.decode_text(raw)?.trim_end_matches('/').to_owned())
    }

    /// A name or LIST argument as sent, decoded but with its trailing
    /// delimiter kept (`LIST "Archives/" "%"` differs from `"Archives" "%"`).
    fn decode_text(&self, raw: &RawName) -> Result<String, Done> {
        let decoded =
            if self.enabled.utf8 { String::from_utf8(raw.0.clone()).ok() } else { model::mutf7::decode(&raw.0) };
        // The command is well formed (the name is an astring): NO, not BAD,
        // since no mailbox can have this name.
        decoded.ok_or_else(|| Done::no("[CANNOT] Invalid mailbox name (bad modified UTF-7 or UTF-8)"))
    }

    /// A mailbox name as the client must see it, as an IMAP string.
    pub(crate) fn encode_name(&self, name: &str) -> Vec<u8> {
        let mut out = Vec::new();
        if self.enabled.utf8 {
            crate::resp::string(&mut out, name.as_bytes(), true);
        } else {
            crate::resp::string(&mut out, model::mutf7::encode(name).as_bytes(), false);
        }
        out
    }

    /// A mailbox that can be selected and hold messages: a placeholder
    /// parent (`\Noselect`) is refused as nonexistent, so that APPEND, COPY
    /// and MOVE answer `[TRYCREATE]` and the client creates it.
    pub(crate) async fn find_mailbox(&self, account: AccountId, name: &str) -> Result<Mailbox, Done> {
        match self.find_name(account, name).await? {
            m if m.placeholder => Err(Done::no("[NONEXISTENT] This name is a \\Noselect parent, not a mailbox")),
            m => Ok(m),
        }
    }

    /// A mailbox or a placeholder parent (for DELETE, RENAME, SUBSCRIBE).
    async fn find_name(&self, account: AccountId, name: &str) -> Result<Mailbox, Done> {
        match self.mailstore.mailbox_named(account, name).await {
            Ok(Some(m)) => Ok(m),
            Ok(None) => Err(Done::no("[NONEXISTENT] No such mailbox")),
            Err(e) => Err(failed(e)),
        }
    }

    /// A mailbox `authed` may see by this name, with what they may do with
    /// it: their own, or under `Partages/` a folder another account shared
    /// with them (renamed as they see it, its special use left out so no
    /// client takes it for its own Sent or Trash). A shared folder they may
    /// not look up is answered exactly as a missing one.
    pub(crate) async fn find_mailbox_for(&self, authed: &Authed, name: &str) -> Result<(Mailbox, Rights), Done> {
        if !is_shared_name(name) {
            return Ok((self.find_mailbox(authed.account.id, name).await?, Rights::ALL));
        }
        match self.mailstore.shared_named(authed.account.id, name).await {
            Ok(Some(shared)) if !shared.mailbox.placeholder => {
                let mut mailbox = shared.mailbox.clone();
                mailbox.name = shared.shared_name();
                mailbox.special_use = None;
                Ok((mailbox, shared.rights))
            }
            Ok(Some(_)) => Err(Done::no("[NONEXISTENT] This name is a \\Noselect parent, not a mailbox")),
            Ok(None) => Err(Done::no("[NONEXISTENT] No such mailbox")),
            Err(e) => Err(failed(e)),
        }
    }

    /// [`Conn::find_mailbox_for`] of a name as the client sent it.
    pub(crate) async fn named_for(&self, authed: &Authed, raw: &RawName) -> Result<(Mailbox, Rights), Done> {
        let name = self.decode_name(raw)?;
        self.find_mailbox_for(authed, &name).await
    }

    async fn named_or_placeholder(&self, account: AccountId, raw: &RawName) -> Result<Mailbox, Done> {
        let name = self.decode_name(raw)?;
        self.find_name(account, &name).await
    }

    pub(crate) async fn list(
        &mut self,
        authed: &Authed,
        reference: RawName,
        patterns: Vec<RawName>,
        options: ListOptions,
        lsub: bool,
        status: &[StatusItem],
    ) -> Done {
        let account = authed.account.id;
        let reference = match self.decode_text(&reference) {
            Ok(r) => r,
            Err(done) => return done,
        };
        // RFC 9051 section 6.3.9: the reference and the name are read as one
        // left-to-right name, `#news.` and `comp.mail.*` as
        // `#news.comp.mail.*`: concatenated, with no delimiter inserted, so
        // `LIST "__imapclient" "*"` lists `__imapclient` and its children.
        let mut decoded = Vec::new();
        for p in &patterns {
            match self.decode_text(p) {
                Ok(p) => decoded.push(p),
                Err(done) => return done,
            }
        }
        // An empty name asks for the delimiter and the root name of the
        // reference; the single namespace's root is "".
        if decoded.iter().all(|p| p.is_empty()) {
            let verb = if lsub { "LSUB" } else { "LIST" };
            self.untagged(&format!("{verb} (\\Noselect) \"/\" \"\""));
            return Done::ok(&format!("{verb} completed"));
        }
        let mut mailboxes = match self.mailstore.mailboxes(account).await {
            Ok(m) => m,
            Err(e) => return failed(e),
        };
        match self.mailstore.shared_with(account).await {
            Ok(shared) => mailboxes.extend(shared_view(&shared)),
            Err(e) => return failed(e),
        }
        let subscriptions = if options.subscribed || options.return_subscribed {
            match self.mailstore.subscriptions(account).await {
                Ok(s) => s,
                Err(e) => return failed(e),
            }
        } else {
            Vec::new()
        };
        let patterns: Vec<Pattern> = decoded.iter().map(|p| Pattern::new(&format!("{reference}{p}"))).collect();
        let (verb, entries) = if lsub {
            ("LSUB", crate::list::lsub(&mailboxes, &subscriptions, &patterns))
        } else {
            ("LIST", crate::list::list(&mailboxes, &subscriptions, &patterns, options))
        };
        for entry in &entries {
            let mut line = format!("* {verb} ({}) \"/\" ", entry.attributes.join(" ")).into_bytes();
            line.extend_from_slice(&self.encode_name(&entry.name));
            if entry.childinfo_subscribed {
                line.extend_from_slice(b" (\"CHILDINFO\" (\"SUBSCRIBED\"))");
            }
            line.extend_from_slice(b"\r\n");
            self.out.extend_from_slice(&line);
            if let (false, Some(m)) = (status.is_empty(), entry.selectable) {
                match self.status_line(m, status).await {
                    Ok(line) => self.untagged(&line),
                    Err(done) => return done,
                }
            }
        }
        Done::ok(&format!("{verb} completed"))
    }

    /// `STATUS <name> (...)` for a mailbox.
    pub(crate) async fn status_line(&self, m: &Mailbox, items: &[StatusItem]) -> Result<String, Done> {
        let messages = self.mailstore.messages(m.id).await.map_err(failed)?;
        let mut parts = Vec::new();
        for item in items {
            if *item == StatusItem::MailboxId {
                parts.push(format!("MAILBOXID (F{})", m.id));
                continue;
            }
            let (name, value) = match item {
                StatusItem::Messages => ("MESSAGES", messages.len() as i64),
                StatusItem::UidNext => ("UIDNEXT", m.uid_next.max(messages.last().map_or(1, |r| r.uid + 1))),
                StatusItem::UidValidity => ("UIDVALIDITY", m.uid_validity),
                StatusItem::Unseen => {
                    ("UNSEEN", messages.iter().filter(|r| r.flags & Flag::Seen.bit() == 0).count() as i64)
                }
                StatusItem::Deleted => {
                    ("DELETED", messages.iter().filter(|r| r.flags & Flag::Deleted.bit() != 0).count() as i64)
                }
                StatusItem::Size => ("SIZE", messages.iter().map(|r| r.size).sum()),
                StatusItem::HighestModseq => ("HIGHESTMODSEQ", m.highest_modseq),
                StatusItem::Recent => {
                    // The messages no session has claimed as recent yet: the
                    // next SELECT will show them with \Recent.
                    let from = self.mailstore.unclaimed_recent(m.id).await.map_err(failed)?;
                    ("RECENT", messages.iter().filter(|r| r.uid >= from).count() as i64)
                }
                StatusItem::MailboxId => continue,
            };
            parts.push(format!("{name} {value}"));
        }
        let name = String::from_utf8_lossy(&self.encode_name(&m.name)).into_owned();
        Ok(format!("STATUS {name} ({})", parts.join(" ")))
    }

    pub(crate) async fn create(&mut self, authed: &Authed, raw: &RawName, special_use: &[String]) -> Done {
        let account = authed.account.id;
        let name = match self.decode_name(raw) {
            Ok(n) => n,
            Err(done) => return done,
        };
        if name.eq_ignore_ascii_case("INBOX") {
            return Done::no("[ALREADYEXISTS] INBOX always exists");
        }
        if is_shared_name(&name) {
            if !special_use.is_empty() {
                return Done::no("[USEATTR] Special use is the owner's to give");
            }
            return match self.mailstore.create_shared(account, &name).await {
                Ok(Some(m)) => Done::ok(&format!("[MAILBOXID (F{})] CREATE completed", m.id)),
                Ok(None) => Done::no(
                    "[NOPERM] Partages montre les dossiers partages avec vous / Partages holds the folders shared with you",
                ),
                Err(mailstore::Error::Denied(_)) => Done::no("[NOPERM] Creating folders here needs the k right"),
                Err(e) => failed(e),
            };
        }
        let special = match special_use {
            [] => None,
            [one] => match SpecialUse::ALL.iter().find(|s| special_attribute(**s) == Some(one.as_str())) {
                Some(s) => Some(*s),
                None => return Done::no("[USEATTR] Unknown special-use attribute"),
            },
            _ => return Done::no("[USEATTR] Only one special-use attribute per mailbox"),
        };
        match self.mailstore.create_mailbox(account, &name, special).await {
            Ok(m) => Done::ok(&format!("[MAILBOXID (F{})] CREATE completed", m.id)),
            Err(mailstore::Error::Conflict(text)) if text.contains("already the") => {
                Done::no("[USEATTR] Another mailbox already has this special use")
            }
            Err(e) => failed(e),
        }
    }

    /// SUBSCRIBE adds an existing mailbox's name to the subscriptions (RFC
    /// 9051 section 6.3.7 lets the server check that it exists, and clients
    /// such as imapclient's tests expect it); UNSUBSCRIBE removes a name
    /// whether or not a mailbox has it, so a deleted folder's subscription
    /// can go.
    pub(crate) async fn subscribe(&mut self, authed: &Authed, raw: &RawName, on: bool) -> Done {
        let account = authed.account.id;
        let name = match self.decode_name(raw) {
            Ok(n) => n,
            Err(done) => return done,
        };
        if on {
            let exists = if is_shared_name(&name) {
                self.find_mailbox_for(authed, &name).await.map(drop)
            } else {
                self.find_name(account, &name).await.map(drop)
            };
            if let Err(done) = exists {
                return done;
            }
            match self.mailstore.add_subscription(account, &name).await {
                Ok(()) => Done::ok("SUBSCRIBE completed"),
                Err(e) => failed(e),
            }
        } else {
            match self.mailstore.remove_subscription(account, &name).await {
                Ok(_) => Done::ok("UNSUBSCRIBE completed"),
                Err(e) => failed(e),
            }
        }
    }

    /// APPEND and MULTIAPPEND: every message is checked before any is
    /// stored, and if storing one fails the ones already stored are
    /// expunged again, so the command takes effect entirely or not at all.
    pub(crate) async fn append(&mut self, authed: &Authed, raw: &RawName, mut items: Vec<AppendItem>) -> Done {
        let (mbx, rights) = match self.named_for(authed, raw).await {
            Ok(found) => found,
            Err(done)
                if done.text.starts_with("[NONEXISTENT]") && !is_shared_name(&String::from_utf8_lossy(&raw.0)) =>
            {
                return Done::no("[TRYCREATE] No such mailbox");
            }
            Err(done) => return done,
        };
        if !rights.contains(Rights::INSERT) {
            return Done::no("[NOPERM] Vous ne pouvez pas ajouter de message ici / You may not add messages here");
        }
        // Mail goes to the mailbox's owner: their storage, their quota.
        let owner = mbx.account_id;
        // CATENATE: every message is assembled before any is stored.
        for item in &mut items {
            if let Some(parts) = item.catenate.take() {
                match self.catenate(authed, parts).await {
                    Ok(message) => item.message = message,
                    Err(done) => return done,
                }
            }
        }
        if items.iter().any(|i| i.message.len() > self.cfg.max_message_size) {
            return Done::no("[TOOBIG] Message too large");
        }
        let total: i64 = items.iter().map(|i| i.message.len() as i64).sum();
        match self.mailstore.usage(owner).await {
            Ok(usage) if usage.would_exceed(total) => {
                return Done::no("[OVERQUOTA] Mailbox full / Boite pleine");
            }
            Ok(_) | Err(mailstore::Error::NotFound(_)) => {}
            Err(e) => return failed(e),
        }
        let mut targets = Vec::with_capacity(items.len());
        for item in &items {
            let (bits, keywords) = match crate::messages::parse_flags(&item.flags) {
                Ok(f) => f,
                Err(done) => return done,
            };
            // RFC 4314 section 4: flags the user may not set are dropped.
            let (bits, keywords) = crate::messages::allowed_flags(rights, bits, keywords);
            targets.push(DeliveryTarget { account: owner, mailbox: Some(mbx.id), flags: bits, keywords });
        }
        let mut uids = Vec::with_capacity(items.len());
        for (item, target) in items.into_iter().zip(targets) {
            // The literal is handed over: the blob is written from it, no copy.
            let date = item.date.unwrap_or_else(now);
            match self.mailstore.deliver_to_owned(item.message, &[target], date).await {
                Ok(copies) => uids.extend(copies.first().map(|c| c.uid)),
                Err(e) => {
                    if let Err(undo) = self.mailstore.discard(owner, mbx.id, &uids).await {
                        tracing::error!(error = %undo, "MULTIAPPEND could not undo its first messages");
                    }
                    return failure(&e);
                }
            }
        }
        if owner != authed.account.id {
            let detail = format!("{} ({} message(s))", mbx.name, uids.len());
            self.mailstore.journal(owner, authed.account.id, "ajout", &detail).await;
        }
        Done::ok(&format!("[APPENDUID {} {}] APPEND completed", mbx.uid_validity, crate::messages::compact_set(&uids)))
    }
}

/// The folders shared with a user as their LIST sees them: renamed under
/// `Partages/<owner>/`, without special use, `\Noselect` when they may not
/// be read, below `\Noselect` parents (`Partages`, `Partages/<owner>`, and
/// any folder of the owner not shared with them).
pub(crate) fn shared_view(shared: &[mailstore::SharedMailbox]) -> Vec<Mailbox> {
    let mut out: Vec<Mailbox> = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for s in shared {
        let mut m = s.mailbox.clone();
        m.name = s.shared_name();
        m.special_use = None;
        m.placeholder = m.placeholder || !s.rights.contains(Rights::READ);
        names.insert(m.name.clone());
        out.push(m);
    }
    let mut parents = Vec::new();
    for m in &out {
        let mut name = m.name.as_str();
        while let Some((parent, _)) = name.rsplit_once('/') {
            if names.insert(parent.to_owned()) {
                parents.push(Mailbox {
                    id: 0,
                    account_id: m.account_id,
                    parent_id: None,
                    name: parent.to_owned(),
                    special_use: None,
                    uid_validity: 0,
                    uid_next: 0,
                    highest_modseq: 0,
                    placeholder: true,
                    created_at: 0,
                });
            }
            name = parent;
        }
    }
    out.extend(parents);
    out
}

/// Whether a name is in the shared namespace (`Partages` and below).
pub(crate) fn is_shared_name(name: &str) -> bool {
    name.strip_prefix(mailstore::SHARED_ROOT).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The IMAP attribute of a special use (none for the Inbox).
pub(crate) fn special_attribute(s: SpecialUse) -> Option<&'static str> {
    match s {
        SpecialUse::Inbox => None,
        SpecialUse::Drafts => Some("\\Drafts"),
        SpecialUse::Sent => Some("\\Sent"),
        SpecialUse::Trash => Some("\\Trash"),
        SpecialUse::Junk => Some("\\Junk"),
        SpecialUse::Archive => Some("\\Archive"),
    }
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
