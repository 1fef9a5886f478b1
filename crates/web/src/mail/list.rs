//! The message list of a folder, newest first, and search in a folder;
//! sorting, conversations and the selection form of bulk actions.
//!
//! Sorting by date is UID order in both directions (windows downward or
//! upward). Sorting by sender, subject or size is one SQL sort of the
//! folder's rows joined to their shared metadata, a page at a time
//! ([`mailstore::Mailstore::sorted_uids`]); conversations group the rows of the
//! page by thread.
//!
//! Pages are read by UID windows from the top: a window of a few dozen UIDs
//! below the last one shown, widened when it comes back empty (expunged
//! ranges), so a page costs a few indexed range queries whatever the size of
//! the folder; the whole folder is never loaded. A search walks the same
//! windows keeping the messages whose content the full-text index found,
//! and stops after a fixed number of rows read, offering to go on.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use mailstore::{BlobRow, Mailbox, Mailstore, MessageRow};
use model::{BlobId, Flag, SpecialUse};
use serde::Deserialize;

use super::folders::{FolderView, display_name, sidebar, targets};
use super::sanitize::shown;
use super::sorting::{Paged, Sort, by_conversation, sorted_page};
use super::{M, Reader, common, not_found, reached};
use crate::App;
use crate::base::chrome::Pane;
use crate::base::clock::Clock;
use crate::base::{Common, WebError, render};

/// Messages per page.
pub const PAGE: usize = 50;
/// Widest window read at once when windows come back non-empty.
const MAX_WINDOW: i64 = 4096;
/// Rows a search reads per request before offering to go on.
const SEARCH_BUDGET: usize = 20_000;

/// One page of a folder.
#[derive(Debug)]
pub struct Window {
    /// Newest first.
    pub rows: Vec<MessageRow>,
    /// The `avant` (exclusive upper UID) of the next page, when older
    /// messages may remain.
    pub older: Option<i64>,
}

/// Reads up to `size` messages of `mailbox` with a UID below `before` (all
/// when `None`), newest first, keeping those `keep` accepts, reading at most
/// `budget` rows.
pub async fn newest(
    ms: &Mailstore,
    mailbox: &Mailbox,
    before: Option<i64>,
    size: usize,
    budget: usize,
    keep: impl Fn(&MessageRow) -> bool,
) -> Result<Window, mailstore::Error> {
    let mut top = before.map_or(mailbox.uid_next - 1, |b| b - 1).min(mailbox.uid_next - 1);
    let mut width = (size as i64).max(1) * 2;
    let mut out: Vec<MessageRow> = Vec::with_capacity(size);
    let mut read = 0usize;
    while top >= 1 {
        let lo = (top - width + 1).max(1);
        let rows = ms.messages_between(mailbox.id, lo, top).await?;
        read += rows.len();
        let empty = rows.is_empty();
        for r in rows.into_iter().rev() {
            if !keep(&r) {
                continue;
            }
            if out.len() == size {
                let older = out.last().map(|r| r.uid);
                return Ok(Window { rows: out, older });
            }
            out.push(r);
        }
        top = lo - 1;
        if out.len() == size {
            let older = if top >= 1 { out.last().map(|r| r.uid) } else { None };
            return Ok(Window { rows: out, older });
        }
        if read >= budget && top >= 1 {
            return Ok(Window { rows: out, older: Some(top + 1) });
        }
        // Empty windows cost nothing to read: widen fast across expunged ranges.
        width = if empty { width.saturating_mul(8) } else { (width * 2).min(MAX_WINDOW) };
    }
    Ok(Window { rows: out, older: None })
}

/// Reads up to `size` messages of `mailbox` with a UID above `after`
/// (all when `None`), oldest first, by UID windows like [`newest`].
pub async fn oldest(
    ms: &Mailstore,
    mailbox: &Mailbox,
    after: Option<i64>,
    size: usize,
) -> Result<Window, mailstore::Error> {
    let last = mailbox.uid_next - 1;
    let mut low = after.map_or(1, |a| a + 1).max(1);
    let mut width = (size as i64).max(1) * 2;
    let mut out: Vec<MessageRow> = Vec::with_capacity(size);
    while low <= last {
        let high = (low + width - 1).min(last);
        let rows = ms.messages_between(mailbox.id, low, high).await?;
        let empty = rows.is_empty();
        for r in rows {
            if out.len() == size {
                return Ok(Window { older: out.last().map(|r| r.uid), rows: out });
            }
            out.push(r);
        }
        low = high + 1;
        if out.len() == size {
            let more = if low <= last { out.last().map(|r| r.uid) } else { None };
            return Ok(Window { rows: out, older: more });
        }
        width = if empty { width.saturating_mul(8) } else { (width * 2).min(MAX_WINDOW) };
    }
    Ok(Window { rows: out, older: None })
}

/// One line of the list.
pub struct Row {
    pub uid: i64,
    pub href: String,
    pub from: String,
    pub subject: String,
    pub preview: String,
    pub date: String,
    /// The date to the second with its UTC offset, shown on hover.
    pub exact: String,
    pub unread: bool,
    pub flagged: bool,
    pub attachment: bool,
    /// Messages of the page in this conversation (1 outside that view).
    pub count: usize,
    /// With a reading pane: the list with this message beside it (wide
    /// screens; a phone still opens `href`).
    pub pane_href: Option<String>,
    /// The message shown in the reading pane.
    pub current: bool,
}

impl Row {
    /// The line of message `r` of `mailbox`, with its stored summary, as
    /// the list shows it at `now` (outside a conversation).
    pub fn of(clock: &Clock, m: M, mailbox: &Mailbox, r: &MessageRow, meta: Option<&BlobRow>, now: i64) -> Row {
        let subject = meta.map(|b| b.subject.trim().to_owned()).filter(|s| !s.is_empty());
        let sent = meta.and_then(|b| b.sent_date).unwrap_or(r.internal_date);
        Row {
            uid: r.uid,
            href: if mailbox.special_use == Some(SpecialUse::Drafts) {
                format!("/courrier/ecrire?brouillon={}:{}", mailbox.id, r.uid)
            } else {
                format!("/courrier/{}/{}", mailbox.id, r.uid)
            },
            from: meta.map(|b| sender_name(&b.from_addr)).unwrap_or_default(),
            subject: shown(&subject.unwrap_or_else(|| m.get("mail.nosubject").to_owned())),
            preview: meta.map(|b| shown(&b.preview.chars().take(120).collect::<String>())).unwrap_or_default(),
            date: clock.short(sent, now, m.0),
            exact: clock.exact(sent),
            unread: r.flags & Flag::Seen.bit() == 0,
            flagged: r.flags & Flag::Flagged.bit() != 0,
            attachment: meta.is_some_and(|b| b.has_attachment),
            count: 1,
            pane_href: None,
            current: false,
        }
    }

    /// The row when the list has a reading pane: `list` is the list's own
    /// address with its query (`/courrier/3?tri=objet&`), `shown` the UID
    /// in the pane.
    pub fn with_pane(self, list: &str, shown: Option<i64>) -> Row {
        Row { pane_href: Some(format!("{list}lire={}", self.uid)), current: shown == Some(self.uid), ..self }
    }
}

/// One `<tr>` of the list on its own: what the live updates insert, so a
/// new row has the same cells as those of the page.
#[derive(Template)]
#[template(path = "mail/row.html")]
pub struct RowHtml<'a> {
    pub m: M,
    pub r: &'a Row,
}

#[derive(Template)]
#[template(path = "mail/list.html")]
struct ListPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    mailbox_id: i64,
    mailbox_name: String,
    rows: Vec<Row>,
    older: Option<String>,
    newest: Option<String>,
    next_label: String,
    first_label: String,
    query: String,
    searching: bool,
    targets: Vec<FolderView>,
    is_trash: bool,
    is_special: bool,
    undo: bool,
    tri: &'static str,
    descending: bool,
    conversations: bool,
    /// « Sélectionner les N messages du dossier » (empty when searching).
    select_folder: String,
    /// `volet-droite` or `volet-dessous` with a reading pane, else empty.
    pane_class: &'static str,
    /// The message in the reading pane, rendered ([`super::read::Article`]).
    pane: Option<String>,
    /// Messages waiting to be sent (« Annuler l'envoi »): what to say, and
    /// the page of the soonest.
    waiting: Option<(String, String)>,
    /// Another account's folder: what the reader may do with it.
    shared: Option<SharedView>,
    /// Read/unread (`s`), flags (`w`), delete and move (`te`) are offered.
    may_seen: bool,
    may_flag: bool,
    may_delete: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// Exclusive upper UID of the page.
    pub avant: Option<i64>,
    /// Exclusive lower UID of the page (dates oldest first).
    pub apres: Option<i64>,
    /// Page number of the other sorts.
    pub page: Option<usize>,
    /// Words to search.
    pub q: Option<String>,
    /// A message to show (a key among a fixed set, never text from the URL).
    pub info: Option<String>,
    /// `date`, `expediteur`, `objet`, `taille`.
    pub tri: Option<String>,
    /// `asc` or `desc`.
    pub ordre: Option<String>,
    /// `conversations` groups the page by thread.
    pub vue: Option<String>,
    /// The message shown in the reading pane (when the reader has one).
    pub lire: Option<i64>,
}

impl ListQuery {
    /// The list's address with the query that makes this page (not the
    /// message read nor the info), ready for one more `name=value`.
    fn page_address(&self, mailbox: i64) -> String {
        let mut out = format!("/courrier/{mailbox}?");
        let mut add = |k: &str, v: String| out.push_str(&format!("{k}={}&", form_encode(&v)));
        if let Some(q) = self.q.as_deref().filter(|q| !q.trim().is_empty()) {
            add("q", q.trim().chars().take(200).collect());
        }
        for (k, v) in [("avant", self.avant), ("apres", self.apres)] {
            if let Some(v) = v {
                add(k, v.to_string());
            }
        }
        if let Some(p) = self.page {
            add("page", p.to_string());
        }
        for (k, v) in [("tri", &self.tri), ("ordre", &self.ordre), ("vue", &self.vue)] {
            if let Some(v) = v {
                add(k, v.chars().take(20).collect());
            }
        }
        out
    }
}

/// Messages the info keys of the query may show.
const INFOS: &[&str] = &[
    "sent",
    "moved",
    "deleted",
    "destroyed",
    "created",
    "marked",
    "notrash",
    "nosent",
    "changed",
    "copied",
    "junked",
    "notjunked",
    "reported",
    "notarget",
    "noselection",
    "undone",
    "nothingtoundo",
    "emptied",
    "renamed",
    "folderdeleted",
    "allread",
];
/// Those of [`INFOS`] that are errors.
const ERRORS: &[&str] = &["notrash", "nosent", "notarget", "noselection", "nothingtoundo"];

/// The text of an info key: `mail.<key>`, or `mail.err.<key>` for errors.
fn info_text(m: M, key: &str) -> &'static str {
    match m.get(&format!("mail.{key}")) {
        "??" => m.get(&format!("mail.err.{key}")),
        text => text,
    }
}

/// `/courrier`: the Inbox.
pub async fn inbox(
    State(app): State<Arc<App>>,
    Query(q): Query<ListQuery>,
    Reader { v, account }: Reader,
) -> Result<Response, WebError> {
    let inbox = app.ms.mailbox_with_use(account.id, SpecialUse::Inbox).await?.ok_or_else(|| not_found(v.lang))?;
    show(&app, v, account, mailstore::Reached { mailbox: inbox, rights: model::Rights::ALL }, q).await
}

/// `/courrier/<mailbox>`: any folder, with paging, sorting and `?q=` search.
pub async fn folder(
    State(app): State<Arc<App>>,
    Path(mailbox): Path<i64>,
    Query(q): Query<ListQuery>,
    Reader { v, account }: Reader,
) -> Result<Response, WebError> {
    let at = reached(&app, &account, mailbox, v.lang).await?;
    show(&app, v, account, at, q).await
}

/// What the list offers on a folder shared with the reader, by their rights.
struct SharedView {
    /// « Boîte de secretariat.0541234a — lecture seule ».
    banner: String,
    /// `\Seen` (`s`), other flags (`w`), delete and move away (`te`).
    seen: bool,
    flag: bool,
    delete: bool,
}

async fn show(
    app: &App,
    mut v: crate::base::session::Visitor,
    account: mailstore::Account,
    at: mailstore::Reached,
    q: ListQuery,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let mailbox = at.mailbox.clone();
    let shared = if at.owned_by(account.id) {
        None
    } else {
        let owner = app.identity.account(mailbox.account_id).await?.map(|a| a.address.to_string()).unwrap_or_default();
        let rights = super::delegation::rights_label(m, at.rights);
        Some(SharedView {
            banner: m.get("deleg.banner").replace("{owner}", &owner).replace("{rights}", &rights),
            seen: at.rights.contains(model::Rights::SEEN),
            flag: at.rights.contains(model::Rights::WRITE),
            delete: at.rights.contains(mailstore::MOVE_AWAY),
        })
    };
    let ms = &app.ms;
    let pane = v.chrome.pane;
    // The message in the reading pane, read (and marked read) before the
    // list is, so that its row is no longer bold.
    let pane_html = match q.lire.filter(|_| pane != Pane::None) {
        Some(uid) => match ms.message_by_uid(mailbox.id, uid).await? {
            Some(row) => {
                let msg = ms.view(&row.blob_hash).await?;
                let folders = sidebar(app, &account, Some(mailbox.id), m).await?;
                let movable = at.rights.contains(mailstore::MOVE_AWAY);
                let targets = if movable { targets(&folders, &mailbox) } else { Vec::new() };
                let csrf = v.csrf(app);
                let how = super::read::Shown { images: false, targets, csrf };
                let article = super::read::article(app, &v, &account, &at, &row, &msg, how).await?;
                Some(article.in_pane().render().map_err(|e| {
                    tracing::error!(error = %e, "template failed");
                    WebError::Internal
                })?)
            }
            // Gone meanwhile (moved, deleted): the list alone.
            None => None,
        },
        None => None,
    };
    let sort = Sort::of(&q);
    let query = q.q.as_deref().unwrap_or("").trim().chars().take(200).collect::<String>();
    let mut error = None;
    let hits: Option<mailstore::Hits> = if query.is_empty() {
        None
    } else {
        match app.ms.search_text(mailbox.account_id, &mailstore::Field::ALL, &query).await {
            Ok(Some(found)) => found,
            Ok(None) | Err(_) => {
                error = Some(m.get("mail.search.unavailable").to_owned());
                Some(mailstore::Hits::default())
            }
        }
    };
    let searching = hits.is_some();
    let encoded_query = form_encode(&query);
    let paged = if let Some(hits) = &hits {
        let window =
            newest(ms, &mailbox, q.avant, PAGE, SEARCH_BUDGET, |r| hits.contains(r.blob_hash.as_str())).await?;
        Paged {
            rows: window.rows,
            next: window.older.map(|a| format!("/courrier/{}?q={encoded_query}&avant={a}", mailbox.id)),
            first: q.avant.map(|_| format!("/courrier/{}?q={encoded_query}", mailbox.id)),
        }
    } else {
        sorted_page(ms, &mailbox, &q, sort).await?
    };
    let ids: Vec<BlobId> = paged.rows.iter().map(|r| r.blob_hash.clone()).collect();
    let metas = ms.summaries(&ids).await?.into_iter().map(|b| (b.id.clone(), b)).collect::<HashMap<_, _>>();
    let folders = sidebar(app, &account, Some(mailbox.id), m).await?;
    let now = crate::base::session::unix_now();
    let grouped: Vec<(MessageRow, usize)> = if sort.conversations && !searching {
        by_conversation(paged.rows)
    } else {
        paged.rows.into_iter().map(|r| (r, 1)).collect()
    };
    let address = q.page_address(mailbox.id);
    let rows = grouped
        .iter()
        .map(|(r, count)| {
            let row = Row { count: *count, ..Row::of(&v.chrome.clock, m, &mailbox, r, metas.get(&r.blob_hash), now) };
            let drafts = mailbox.special_use == Some(SpecialUse::Drafts);
            if pane == Pane::None || drafts { row } else { row.with_pane(&address, q.lire) }
        })
        .collect();
    let by_date = sort.key.is_none() || searching;
    let (next_label, first_label) = if (by_date && sort.descending) || searching {
        (if searching { "mail.search.more" } else { "mail.older" }, "mail.newest")
    } else {
        ("mail.page.next", "mail.page.first")
    };
    let name = display_name(&mailbox, m);
    let mut c = common(app, &mut v, &name);
    c.error = error;
    c.info = q.info.as_deref().filter(|k| INFOS.contains(k)).map(|k| info_text(m, k).to_owned());
    if q.info.as_deref().is_some_and(|k| ERRORS.contains(&k)) {
        c.error = c.info.take();
    }
    let may_seen = shared.as_ref().is_none_or(|s| s.seen);
    let may_flag = shared.as_ref().is_none_or(|s| s.flag);
    let may_delete = shared.as_ref().is_none_or(|s| s.delete);
    let targets = if may_delete { targets(&folders, &mailbox) } else { Vec::new() };
    let undo = super::undo::pending(&v, account.id);
    // The whole folder as a selection: never offered for a search's hits.
    let total = if searching { 0 } else { ms.message_count(mailbox.id).await? };
    let select_folder =
        if total > 0 { m.get("mail.select.folder").replace("{n}", &total.to_string()) } else { String::new() };
    let waiting = ms.pending_sends(account.id, 100).await?;
    let waiting = waiting.first().map(|first| {
        let text = match waiting.len() {
            1 => m.get("send.waiting.one").to_owned(),
            n => m.get("send.waiting.many").replace("{n}", &n.to_string()),
        };
        (text, format!("/courrier/envoi/{}", first.id))
    });
    let page = ListPage {
        waiting,
        c,
        m,
        folders,
        mailbox_id: mailbox.id,
        mailbox_name: name,
        rows,
        older: paged.next,
        newest: paged.first,
        next_label: m.get(next_label).to_owned(),
        first_label: m.get(first_label).to_owned(),
        query,
        searching,
        targets,
        is_trash: mailbox.special_use == Some(SpecialUse::Trash),
        is_special: mailbox.special_use.is_some() || mailbox.name == "INBOX" || shared.is_some(),
        shared,
        may_seen,
        may_flag,
        may_delete,
        undo,
        tri: sort.tri(),
        descending: sort.descending,
        conversations: sort.conversations,
        select_folder,
        pane_class: match pane {
            Pane::None => "",
            Pane::Right => "volet-droite",
            Pane::Below => "volet-dessous",
        },
        pane: pane_html,
    };
    Ok(render(&v, StatusCode::OK, &page))
}

/// The name part of `Name <address>`, or the address.
///
/// A display name that holds an address other than the sender's own (a
/// forger's `"paul.durand@ac-demo.fr" <attaquant@example.org>`) is not
/// shown: the real address is. Bidirectional controls are taken out.
pub fn sender_name(from: &str) -> String {
    let name = match from.rsplit_once('<') {
        Some((name, addr)) if !name.trim().is_empty() => {
            let (name, addr) = (name.trim().trim_matches('"'), addr.trim_end_matches('>').trim());
            if name.contains('@') && !name.eq_ignore_ascii_case(addr) { addr } else { name }
        }
        Some((_, addr)) => addr.trim_end_matches('>'),
        None => from,
    };
    super::sanitize::shown(name)
}

/// Percent-encodes a query value.
pub fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use store::Store;

    use super::*;

    #[test]
    fn sender_names() {
        assert_eq!(sender_name("Claire Martin <claire.martin@ac-demo.fr>"), "Claire Martin");
        assert_eq!(sender_name("\"Paul\" <p@x.fr>"), "Paul");
        assert_eq!(sender_name("<p@x.fr>"), "p@x.fr");
        assert_eq!(sender_name("p@x.fr"), "p@x.fr");
        // A name posing as a colleague's address shows the real one.
        assert_eq!(sender_name("\"paul.durand@ac-demo.fr\" <attaquant@example.org>"), "attaquant@example.org");
        assert_eq!(sender_name("p@x.fr <P@x.fr>"), "p@x.fr");
        assert_eq!(sender_name("Facture \u{202E}fdp.exe <f@x.fr>"), "Facture fdp.exe");
    }

    async fn store_with(n: usize, expunge: impl Fn(i64) -> bool) -> (tempfile::TempDir, Arc<Mailstore>, Mailbox) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("m.db").display())).await.unwrap();
        store.migrate().await.unwrap();
        store.add_domain(&model::Domain::parse("ac-test.fr").unwrap()).await.unwrap();
        let account = store
            .create_account(&store::NewAccount {
                address: model::Address::parse("a@ac-test.fr").unwrap(),
                login: None,
                display_name: "A".into(),
                role: model::Role::Teacher,
                status: model::AccountStatus::Active,
                quota_bytes: None,
                org_unit: None,
                password_hash: None,
            })
            .await
            .unwrap()
            .id;
        let inbox = store.mailbox_by_special_use(account, SpecialUse::Inbox).await.unwrap().unwrap();
        let blobs = blob::BlobStore::open(dir.path().join("blobs")).unwrap();
        let ms = mailstore::Mailstore::new(store.clone(), blobs);
        for i in 0..n {
            let raw = format!("Subject: m{i}\r\nFrom: b@ac-test.fr\r\n\r\ncorps {i}\r\n");
            ms.deliver(raw.as_bytes(), &[account], 1_700_000_000 + i as i64).await.unwrap();
        }
        let gone: Vec<i64> = (1..=n as i64).filter(|u| expunge(*u)).collect();
        if !gone.is_empty() {
            store.expunge(inbox.id, &gone).await.unwrap();
        }
        let inbox = store.mailbox(inbox.id).await.unwrap().unwrap();
        (dir, ms, inbox)
    }

    #[tokio::test]
    async fn pages_walk_down_by_uid() {
        let (_dir, ms, inbox) = store_with(120, |_| false).await;
        let first = newest(&ms, &inbox, None, 50, usize::MAX, |_| true).await.unwrap();
        let uids: Vec<i64> = first.rows.iter().map(|r| r.uid).collect();
        assert_eq!(uids, (71..=120).rev().collect::<Vec<_>>());
        assert_eq!(first.older, Some(71));
        let second = newest(&ms, &inbox, first.older, 50, usize::MAX, |_| true).await.unwrap();
        assert_eq!(second.rows.first().map(|r| r.uid), Some(70));
        assert_eq!(second.rows.last().map(|r| r.uid), Some(21));
        let third = newest(&ms, &inbox, second.older, 50, usize::MAX, |_| true).await.unwrap();
        assert_eq!(third.rows.len(), 20);
        assert_eq!(third.older, None);
    }

    #[tokio::test]
    async fn oldest_first_walks_up_by_uid() {
        let (_dir, ms, inbox) = store_with(120, |u| (10..=60).contains(&u)).await;
        let first = oldest(&ms, &inbox, None, 50).await.unwrap();
        let uids: Vec<i64> = first.rows.iter().map(|r| r.uid).collect();
        assert_eq!(uids, (1..=9).chain(61..=101).collect::<Vec<_>>());
        assert_eq!(first.older, Some(101));
        let second = oldest(&ms, &inbox, first.older, 50).await.unwrap();
        assert_eq!(second.rows.iter().map(|r| r.uid).collect::<Vec<_>>(), (102..=120).collect::<Vec<_>>());
        assert_eq!(second.older, None);
    }

    #[tokio::test]
    async fn the_folder_count_leaves_out_expunged_messages() {
        let (_dir, ms, inbox) = store_with(30, |u| u % 3 == 0).await;
        assert_eq!(ms.message_count(inbox.id).await.unwrap(), 20);
    }

    #[test]
    fn every_info_has_a_text() {
        for lang in [crate::base::i18n::Lang::Fr, crate::base::i18n::Lang::En] {
            for k in INFOS {
                assert_ne!(info_text(M(lang), k), "??", "{k}");
            }
        }
        assert!(ERRORS.iter().all(|e| INFOS.contains(e)));
    }

    #[tokio::test]
    async fn expunged_ranges_and_filters_are_crossed() {
        // Only UIDs 1..=5 and 300 remain.
        let (_dir, ms, inbox) = store_with(300, |u| u > 5 && u < 300).await;
        let page = newest(&ms, &inbox, None, 50, usize::MAX, |_| true).await.unwrap();
        let uids: Vec<i64> = page.rows.iter().map(|r| r.uid).collect();
        assert_eq!(uids, [300, 5, 4, 3, 2, 1]);
        assert_eq!(page.older, None);
        // A filter with a small budget stops early and says where to go on.
        let page = newest(&ms, &inbox, None, 2, 1, |r| r.uid % 2 == 1).await.unwrap();
        assert!(page.rows.len() <= 2);
        let mut all = page.rows.iter().map(|r| r.uid).collect::<Vec<_>>();
        let mut next = page.older;
        while let Some(before) = next {
            let p = newest(&ms, &inbox, Some(before), 2, 1, |r| r.uid % 2 == 1).await.unwrap();
            all.extend(p.rows.iter().map(|r| r.uid));
            next = p.older;
        }
        assert_eq!(all, [5, 3, 1]);
    }

    /// A page of a 100,000-message folder costs a few range queries: run
    /// with `--ignored` to see the times (kept out of the normal run, since
    /// timings on a shared machine are noise; BENCHMARKS.md is for numbers).
    #[tokio::test]
    #[ignore]
    async fn a_page_of_a_hundred_thousand_messages() {
        let (_dir, ms, inbox) = store_with(1, |_| false).await;
        let raw = b"Subject: circulaire\r\nFrom: b@ac-test.fr\r\n\r\nnote de service\r\n";
        let targets: Vec<mailstore::DeliveryTarget> = (0..100_000)
            .map(|_| mailstore::DeliveryTarget {
                account: inbox.account_id,
                mailbox: Some(inbox.id),
                flags: 0,
                keywords: Vec::new(),
            })
            .collect();
        ms.deliver_to(raw, &targets, 1_700_000_000).await.unwrap();
        let inbox = ms.mailbox(inbox.account_id, inbox.id).await.unwrap().unwrap();
        for before in [None, Some(50_000), Some(60)] {
            let t = std::time::Instant::now();
            let page = newest(&ms, &inbox, before, PAGE, usize::MAX, |_| true).await.unwrap();
            eprintln!("page below {before:?}: {} rows in {:?}", page.rows.len(), t.elapsed());
            assert_eq!(page.rows.len(), PAGE);
        }
        for key in [mailstore::SortKey::From, mailstore::SortKey::Subject, mailstore::SortKey::Size] {
            for page in [0, 1000] {
                let t = std::time::Instant::now();
                let uids = ms.sorted_uids(inbox.id, key, false, page * PAGE, PAGE + 1).await.unwrap();
                eprintln!("sorted by {key:?}, page {page}: {} uids in {:?}", uids.len(), t.elapsed());
                assert_eq!(uids.len(), PAGE + 1);
            }
        }
        let t = std::time::Instant::now();
        let page = oldest(&ms, &inbox, Some(50_000), PAGE).await.unwrap();
        eprintln!("oldest first above 50000: {} rows in {:?}", page.rows.len(), t.elapsed());
        let t = std::time::Instant::now();
        let unread = ms.unseen_count(inbox.id).await.unwrap();
        eprintln!("unread count {unread} in {:?}", t.elapsed());
    }
}
