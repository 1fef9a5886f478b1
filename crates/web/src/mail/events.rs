//! Live updates: `/courrier/evenements`, a server-sent event stream of the
//! signed-in account's mail events ([`mailstore::Mailstore::watch`]), which
//! `courrier.js` turns into fresh unread counts, a new row at the top of the
//! open folder and the Inbox count in the tab title. Pages never need it:
//! without script they are simply as fresh as their last load.
//!
//! Events (JSON data, texts already in the reader's language):
//! - `etat`: unread counts of every folder (on connect, after changes);
//! - `nouveau`: a delivered message (its folder, UID and list row, the
//!   list's own `<tr>`, whether it is a priority message when the reader
//!   asked for notifications of those only) with the counts;
//! - `rappels`: the reader's calendar reminders that fired and are not
//!   dismissed (on connect when there are some, and whenever one fires);
//! - `fin`: the session is over (logged out, revoked, expired, account
//!   suspended); the script stops listening.
//!
//! Folders shared with the reader (issue 22) are in the counts, and their
//! new messages come as `nouveau` like the reader's own: the stream also
//! listens to the owners of those folders, and starts listening again when
//! the reader's grants change ([`MailEvent::Mailboxes`] for the grantee).
//!
//! The stream checks its web session every [`CHECK`] and ends with it; it
//! also ends at once on `AccessRevoked` and when the server shuts down
//! ([`close_streams`]), so a graceful shutdown is never held up by an open
//! tab. Keep-alive comments go out every [`KEEP_ALIVE`].

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use mailstore::MailEvent;
use model::SpecialUse;
use serde::Serialize;
use tokio::sync::{broadcast, watch};

use super::{M, list};
use crate::App;
use crate::base::clock::Clock;
use crate::base::i18n::Lang;
use crate::base::session::{STAGE_FULL, Visitor, may_use_web, unix_now};

/// How often the stream checks that its session still holds.
pub const CHECK: Duration = Duration::from_secs(10);
/// Keep-alive comment interval (below common proxy idle timeouts).
pub const KEEP_ALIVE: Duration = Duration::from_secs(20);

/// Bumped when the server shuts down: every open stream ends.
fn closing() -> &'static watch::Sender<u64> {
    static CLOSING: OnceLock<watch::Sender<u64>> = OnceLock::new();
    CLOSING.get_or_init(|| watch::channel(0).0)
}

/// Ends every open event stream (called by the listeners at shutdown).
pub fn close_streams() {
    closing().send_modify(|g| *g += 1);
}

#[derive(Serialize)]
struct Count {
    id: i64,
    unread: i64,
}

#[derive(Serialize)]
struct State_ {
    folders: Vec<Count>,
    /// The Inbox's id (its count goes in the tab title).
    inbox: Option<i64>,
}

/// A new message's line: the `<tr>` of the list itself (`mail/row.html`,
/// escaped by the template), with what the announcement says.
#[derive(Serialize)]
struct Row {
    href: String,
    from: String,
    subject: String,
    html: String,
}

#[derive(Serialize)]
struct New {
    mailbox: i64,
    uid: i64,
    /// Moved or copied there by the account itself: shown, not announced.
    filed: bool,
    row: Option<Row>,
    /// High priority ([`priority`]); only worked out for a reader whose
    /// notifications are « prioritaires seulement ».
    prioritaire: bool,
    #[serde(flatten)]
    state: State_,
}

/// What one open stream keeps.
struct Live {
    app: Arc<App>,
    account: i64,
    lang: Lang,
    /// The reader's zone, for the dates of new rows.
    clock: Clock,
    /// The reader's reading pane (new rows link to it).
    pane: crate::base::chrome::Pane,
    /// The reader's notifications are for priority messages only.
    priority_only: bool,
    /// The reader's établissement (or other unit), for its direction's mail.
    unit: Option<model::OrgUnitId>,
    token_hash: String,
    expires_at: i64,
    rx: broadcast::Receiver<MailEvent>,
    /// The owners of folders shared with the reader, and their events.
    owners: Vec<i64>,
    shared: Vec<broadcast::Receiver<MailEvent>>,
    closing: watch::Receiver<u64>,
    check: tokio::time::Interval,
    /// An event read while coalescing changes, to handle next.
    held: Option<MailEvent>,
    started: bool,
    /// The pending reminders are to be sent once after the first state.
    reminders_due: bool,
    done: bool,
}

/// `GET /courrier/evenements`.
pub async fn stream(State(app): State<Arc<App>>, v: Visitor) -> Response {
    let Some((session, account)) = v.at(STAGE_FULL).cloned() else {
        return (StatusCode::UNAUTHORIZED, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "").into_response();
    };
    let reading = app.ms.reading_preferences(account.id).await.unwrap_or_default();
    let clock = crate::base::chrome::clock_of(&app, &reading);
    let priority_only = reading.notify.as_deref() == Some("prioritaires");
    let mut closing = closing().subscribe();
    closing.mark_unchanged();
    let mut check = tokio::time::interval(CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut live = Live {
        rx: app.ms.watch(account.id),
        owners: Vec::new(),
        shared: Vec::new(),
        app,
        account: account.id,
        lang: v.lang,
        clock,
        priority_only,
        pane: crate::base::chrome::Pane::parse(reading.reading_pane.as_deref().unwrap_or("")),
        unit: account.org_unit,
        token_hash: session.token_hash,
        expires_at: session.expires_at,
        closing,
        check,
        held: None,
        started: false,
        reminders_due: true,
        done: false,
    };
    live.listen_to_owners().await;
    let events = futures_util::stream::unfold(live, |mut live| async move {
        let event = live.next().await?;
        Some((Ok::<Event, Infallible>(event), live))
    });
    let mut resp = Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)).into_response();
    // Proxies must not hold the stream back.
    resp.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

impl Live {
    /// The next event to send, or `None` when the stream ends.
    async fn next(&mut self) -> Option<Event> {
        if self.done {
            return None;
        }
        if !self.started {
            self.started = true;
            // The interval's first tick is immediate: the session was just checked.
            self.check.tick().await;
            return Some(self.state_event().await);
        }
        if std::mem::take(&mut self.reminders_due)
            && let Some(event) = self.reminders_event(false).await
        {
            return Some(event);
        }
        loop {
            let event = match self.held.take() {
                Some(e) => Ok(e),
                None => tokio::select! {
                    e = self.rx.recv() => e,
                    e = recv_any(&mut self.shared) => e,
                    _ = self.check.tick() => {
                        if self.session_holds().await {
                            continue;
                        }
                        return self.finish();
                    }
                    _ = self.closing.changed() => return None,
                },
            };
            match event {
                Ok(MailEvent::Delivered { account, mailbox, uid, filed, .. }) if self.hears(account) => {
                    if account != self.account && !self.may_read(mailbox).await {
                        // A folder of the owner's not shared with the reader.
                        continue;
                    }
                    return Some(self.new_event(mailbox, uid, filed).await);
                }
                Ok(MailEvent::Changed { account, .. }) if self.hears(account) => {
                    self.coalesce();
                    return Some(self.state_event().await);
                }
                Ok(MailEvent::Mailboxes { account }) if account == self.account => {
                    // Grants given or taken back: other owners, other folders.
                    self.listen_to_owners().await;
                    return Some(self.state_event().await);
                }
                Ok(MailEvent::AccessRevoked { account, .. }) if account == self.account => return self.finish(),
                Ok(MailEvent::Reminder { account }) if account == self.account => {
                    if let Some(event) = self.reminders_event(true).await {
                        return Some(event);
                    }
                }
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => return Some(self.state_event().await),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// Skips the changes already waiting (one count refresh covers them);
    /// keeps the first other event for next time.
    fn coalesce(&mut self) {
        while let Ok(e) = self.rx.try_recv() {
            if !matches!(e, MailEvent::Changed { .. }) {
                self.held = Some(e);
                return;
            }
        }
    }

    fn finish(&mut self) -> Option<Event> {
        self.done = true;
        Some(Event::default().event("fin").data("{}"))
    }

    async fn session_holds(&self) -> bool {
        if unix_now() >= self.expires_at {
            return false;
        }
        // The web session and the account's state are identity's, not mail.
        let identity = &self.app.identity;
        match identity.web_session(&self.token_hash).await {
            Ok(Some(s)) if s.stage == STAGE_FULL && s.account_id == self.account => {}
            Ok(_) => return false,
            // A database hiccup does not end the stream; the next check decides.
            Err(_) => return true,
        }
        match identity.account(self.account).await {
            Ok(Some(a)) => may_use_web(&a),
            Ok(None) => false,
            Err(_) => true,
        }
    }

    /// Whether events of `account` concern the reader: theirs, or an owner's
    /// who shares folders with them.
    fn hears(&self, account: i64) -> bool {
        account == self.account || self.owners.contains(&account)
    }

    /// Whether the reader may read `mailbox` (theirs or shared with `r`).
    async fn may_read(&self, mailbox: i64) -> bool {
        matches!(self.app.ms.reach(self.account, mailbox).await, Ok(Some(at)) if at.rights.contains(model::Rights::READ))
    }

    /// Listens to every account that shares folders with the reader now.
    async fn listen_to_owners(&mut self) {
        let Ok(grants) = self.app.ms.grants_held(self.account).await else { return };
        let mut owners: Vec<i64> = grants.iter().map(|g| g.owner_id).collect();
        owners.sort_unstable();
        owners.dedup();
        if owners != self.owners {
            self.shared = owners.iter().map(|o| self.app.ms.watch(*o)).collect();
            self.owners = owners;
        }
    }

    async fn state(&self) -> State_ {
        let ms = &self.app.ms;
        let mut out = State_ { folders: Vec::new(), inbox: None };
        let Ok(boxes) = ms.mailboxes(self.account).await else { return out };
        for b in boxes {
            if b.special_use == Some(SpecialUse::Inbox) {
                out.inbox = Some(b.id);
            }
            if let Ok(unread) = ms.unseen_count(b.id).await {
                out.folders.push(Count { id: b.id, unread });
            }
        }
        if self.owners.is_empty() {
            return out;
        }
        for s in ms.shared_with(self.account).await.unwrap_or_default() {
            if s.rights.contains(model::Rights::READ)
                && let Ok(unread) = ms.unseen_count(s.mailbox.id).await
            {
                out.folders.push(Count { id: s.mailbox.id, unread });
            }
        }
        out
    }

    /// The `rappels` event: the pending reminders (`None` without the
    /// agenda, or when there are none and none just fired).
    async fn reminders_event(&self, fired: bool) -> Option<Event> {
        let gw = self.app.groupware.as_ref()?;
        let a = crate::agenda::A(self.lang);
        let items = crate::agenda::reminders::shown(gw, self.account, a, self.clock.zone()).await.ok()?;
        if items.is_empty() && !fired {
            return None;
        }
        let data = serde_json::json!({
            "items": items,
            "titre": a.get("ag.rem.title"),
            "fermer": a.get("ag.rem.dismiss"),
            "voir": a.get("ag.rem.open"),
        });
        Some(Event::default().event("rappels").data(data.to_string()))
    }

    async fn state_event(&self) -> Event {
        let data = serde_json::to_string(&self.state().await).unwrap_or_else(|_| "{}".into());
        Event::default().event("etat").data(data)
    }

    async fn new_event(&self, mailbox: i64, uid: i64, filed: bool) -> Event {
        let prioritaire = !filed && self.priority_only && self.is_priority(mailbox, uid).await;
        let new =
            New { mailbox, uid, filed, row: self.row(mailbox, uid).await, prioritaire, state: self.state().await };
        let data = serde_json::to_string(&new).unwrap_or_else(|_| "{}".into());
        Event::default().event("nouveau").data(data)
    }

    /// Whether the new message `uid` of `mailbox` is a priority one: marked
    /// so by its sender, or sent by the direction of the reader's own unit
    /// (a local account with the `direction` role, from inside: a forged
    /// local sender that came through the MX does not count).
    async fn is_priority(&self, mailbox: i64, uid: i64) -> bool {
        let ms = &self.app.ms;
        let Ok(Some(folder)) = ms.mailbox(self.account, mailbox).await else { return false };
        let Ok(Some(msg)) = ms.message_by_uid(folder.id, uid).await else { return false };
        let Ok(view) = ms.view(&msg.blob_hash).await else { return false };
        if marked_priority(&|name| view.header_raw(name)) {
            return true;
        }
        let Some(unit) = self.unit else { return false };
        let Some(sender) = view.sender().and_then(|s| model::Address::parse(&s).ok()) else { return false };
        let from_inside = matches!(
            super::reading::origin(&self.app, Some(&sender.to_string()), view.raw()).await,
            Ok(super::reading::Origin::Local)
        );
        from_inside
            && matches!(ms.local_sender(&sender).await, Ok(Some(a)) if a.role == model::Role::Direction && a.org_unit == Some(unit))
    }

    /// The list row of a new message, rendered by the list's own row
    /// template: the same cells, checkbox included, as after a reload.
    async fn row(&self, mailbox: i64, uid: i64) -> Option<Row> {
        let ms = &self.app.ms;
        // The reader's own folder, or one shared with them that they may read.
        let at = ms.reach(self.account, mailbox).await.ok()??;
        if !at.rights.contains(model::Rights::READ) {
            return None;
        }
        let folder = at.mailbox;
        let msg = ms.message_by_uid(folder.id, uid).await.ok()??;
        if msg.account_id != folder.account_id {
            return None;
        }
        let meta = ms.summary(&msg.blob_hash).await.ok()?;
        let m = M(self.lang);
        let mut row = list::Row::of(&self.clock, m, &folder, &msg, meta.as_ref(), unix_now());
        if self.pane != crate::base::chrome::Pane::None && folder.special_use != Some(SpecialUse::Drafts) {
            row = row.with_pane(&format!("/courrier/{}?", folder.id), None);
        }
        let html = list::RowHtml { m, r: &row }.render().ok()?;
        Some(Row { html, href: row.href, from: row.from, subject: row.subject })
    }
}

/// The next event of any of `receivers` (never, when there are none).
async fn recv_any(receivers: &mut [broadcast::Receiver<MailEvent>]) -> Result<MailEvent, broadcast::error::RecvError> {
    if receivers.is_empty() {
        return std::future::pending().await;
    }
    type Recv<'a> = std::pin::Pin<Box<dyn Future<Output = Result<MailEvent, broadcast::error::RecvError>> + Send + 'a>>;
    let mut waiting: Vec<Recv<'_>> = receivers.iter_mut().map(|r| Box::pin(r.recv()) as Recv<'_>).collect();
    std::future::poll_fn(|cx| {
        for w in &mut waiting {
            if let std::task::Poll::Ready(e) = w.as_mut().poll(cx) {
                return std::task::Poll::Ready(e);
            }
        }
        std::task::Poll::Pending
    })
    .await
}

/// Whether a message's headers (`header` gives one by name) mark it high
/// priority: `X-Priority: 1` or `2` (Outlook, Thunderbird), `Importance:
/// high` (RFC 2156), `Priority: urgent` (RFC 2156), `X-MSMail-Priority: High`.
pub fn marked_priority(header: &dyn Fn(&str) -> Option<String>) -> bool {
    let value = |name: &str| header(name).map(|v| v.trim().to_ascii_lowercase());
    value("X-Priority").is_some_and(|v| v.starts_with('1') || v.starts_with('2'))
        || value("Importance").is_some_and(|v| v == "high")
        || value("Priority").is_some_and(|v| v == "urgent")
        || value("X-MSMail-Priority").is_some_and(|v| v == "high")
}

#[cfg(test)]
mod tests {
    use super::marked_priority;

    fn with(headers: &[(&str, &str)]) -> bool {
        marked_priority(&|name: &str| {
            headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn priority_headers() {
        assert!(with(&[("X-Priority", "1 (Highest)")]));
        assert!(with(&[("X-Priority", " 2")]));
        assert!(with(&[("Importance", "High")]));
        assert!(with(&[("Priority", "urgent")]));
        assert!(with(&[("X-MSMail-Priority", "High")]));
        assert!(!with(&[("X-Priority", "3 (Normal)")]));
        assert!(!with(&[("Importance", "normal")]));
        assert!(!with(&[("X-Priority", "5"), ("Importance", "low")]));
        assert!(!with(&[]));
    }
}
