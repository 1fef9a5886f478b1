//! Writing: a new message, a reply, a forward or a reopened draft, in plain
//! text (the default) or with simple formatting, with attachments uploaded
//! or kept from the message forwarded, sent through the submission pipeline
//! ([`super::Outbox`]) from one of the user's identities and kept in Envoyés.
//!
//! Recipients are checked before anything is built: an address that does
//! not parse, or a local address that does not exist, gets a clear French
//! error and the form comes back filled in. The sender is checked here
//! (an identity of this account whose address is still its own or an
//! alias) and again by the pipeline.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use mailstore::{Account, FlagOp};
use mailstore::{DeliveryTarget, RecipientStatus};
use model::{Address, Flag, SpecialUse};
use serde::Deserialize;

use super::compose_form::{Posted, Upload, read_form};
use super::folders::{FolderView, sidebar};
use super::identities::{self, Sender};
use super::mime::{self, Attach, Content, clean_compose_html, html_to_text};
use super::{M, MAX_UPLOAD, Reader, SendRefusal, common, own_mailbox};
use crate::App;
use crate::base::session::Visitor;
use crate::base::{Common, WebError, redirect, render};

/// Most recipients (To, Cc and Cci together) of one message from the webmail.
const MAX_RECIPIENTS: usize = 100;

/// What the form holds.
#[derive(Debug, Default, Clone)]
pub struct Draft {
    pub to: String,
    pub cc: String,
    /// Blind copies: envelope recipients only, never in the headers sent.
    pub bcc: String,
    pub subject: String,
    pub body: String,
    /// Message-ID of the message replied to (without brackets).
    pub in_reply_to: String,
    /// References of the reply, space separated, without brackets.
    pub references: String,
    /// The message replied to, as `mailbox:uid`, marked answered once sent.
    pub origin: String,
    /// The saved draft this form replaces (`mailbox:uid`), deleted once
    /// a newer version is saved or the message is sent.
    pub brouillon: String,
    /// A message (`mailbox:uid`) whose attachments numbered in `garder` go along.
    pub source: String,
    pub garder: Vec<usize>,
    /// A message (`mailbox:uid`) attached whole (forward as attachment).
    pub joindre: String,
    /// The identity chosen (its id), empty for the default.
    pub de: String,
    /// The rich text (client HTML, cleaned before any use) and whether the
    /// "Mise en forme" mode was on when posted.
    pub html: String,
    pub riche: bool,
}

/// An attachment of `source` offered to keep.
pub struct KeptView {
    pub n: usize,
    pub name: String,
    pub size: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "mail/compose.html")]
struct ComposePage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    heading: String,
    d: Draft,
    refiles: bool,
    kept: Vec<KeptView>,
    joined: Option<String>,
    identities: Vec<identities::Choice>,
    /// Most bytes of files one message may carry, checked by the browser
    /// before it uploads them (and again here).
    max_upload: usize,
    /// With file sharing on, its largest file: a file that does not fit in
    /// the message is given as a share link instead (`compose.js`); 0: off.
    share_max: u64,
}

#[derive(Debug, Default, Deserialize)]
pub struct ComposeQuery {
    /// Reply to (or forward) the message `uid` of folder `dossier`.
    pub dossier: Option<i64>,
    pub uid: Option<i64>,
    /// `1`: reply to all (the other recipients in copy).
    pub tous: Option<String>,
    /// `1`: forward inline; `pj`: forward as an attachment.
    pub transferer: Option<String>,
    /// Reopen this draft (`mailbox:uid`).
    pub brouillon: Option<String>,
    /// `brouillon`: say the draft was saved; `annule`: that sending was cancelled.
    pub info: Option<String>,
    /// Recipients to start with, comma-separated (« Écrire » from the
    /// Annuaire or Contacts); only well-formed addresses are kept.
    pub a: Option<String>,
}

/// The addresses of `list` (comma-separated) that parse, at most 100.
fn prefilled_to(list: &str) -> String {
    let kept: Vec<String> =
        list.split(',').filter_map(|a| Address::parse(a.trim()).ok()).take(100).map(|a| a.to_string()).collect();
    kept.join(", ")
}

/// `/courrier/ecrire`: an empty form, a reply, a forward or a draft.
pub async fn page(
    State(app): State<Arc<App>>,
    Query(q): Query<ComposeQuery>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let sender = identities::default_identity(&app, &account).await?;
    let signature = mime::signature_block(&sender.signature);
    let prepared = if let Some(r) = q.brouillon.as_deref() {
        super::prefill::reopen(&app, &account, r).await
    } else if let (Some(mailbox), Some(uid)) = (q.dossier, q.uid) {
        let quoting = super::prefill::Quoting { signature: &signature, m, clock: &v.chrome.clock };
        match q.transferer.as_deref() {
            Some(how) => super::prefill::forward(&app, &account, mailbox, uid, how == "pj", &quoting).await,
            None => {
                let all = q.tous.as_deref() == Some("1");
                super::prefill::reply(&app, &account, mailbox, uid, all, &quoting).await
            }
        }
    } else {
        Ok(Some(Draft {
            to: q.a.as_deref().map(prefilled_to).unwrap_or_default(),
            body: if signature.is_empty() { String::new() } else { format!("\n\n{signature}") },
            ..Draft::default()
        }))
    };
    let mut draft = prepared?.ok_or_else(|| super::not_found(v.lang))?;
    if let Some(folder) = q.dossier
        && draft.de.is_empty()
    {
        draft.de = answering_for(&app, &account, folder).await?;
    }
    let info = match q.info.as_deref() {
        Some("brouillon") => Some(m.get("mail.draft.saved").to_owned()),
        Some("annule") => Some(m.get("send.cancelled").to_owned()),
        _ => None,
    };
    show(&app, &mut v, &account, draft, None, false, info).await
}

/// A reply to a message of a mailbox shared with the user is written, when
/// they may send for its owner, from the owner's address (« de la part de »
/// first: the recipient sees who wrote); otherwise from the default identity.
async fn answering_for(app: &App, account: &Account, folder: i64) -> Result<String, WebError> {
    let Some(at) = app.ms.reach(account.id, folder).await? else { return Ok(String::new()) };
    if at.owned_by(account.id) {
        return Ok(String::new());
    }
    let Some(owner) = app.identity.account(at.mailbox.account_id).await? else { return Ok(String::new()) };
    let address = owner.address.to_string();
    Ok(identities::delegated(app, account)
        .await?
        .into_iter()
        .find(|(a, _, _)| *a == address)
        .map(|(a, _, r)| if r.on_behalf { format!("pour:{a}") } else { format!("comme:{a}") })
        .unwrap_or_default())
}

pub async fn show(
    app: &App,
    v: &mut Visitor,
    account: &Account,
    d: Draft,
    error: Option<String>,
    refiles: bool,
    info: Option<String>,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let folders = sidebar(app, account, None, m).await?;
    let mut kept = Vec::new();
    if let Ok(Some((_, _, msg))) = read_ref(app, account, &d.source).await {
        for (n, (name, _, size)) in mime::list_attachments(&msg).into_iter().enumerate() {
            let size = super::read::human_size(size, m);
            kept.push(KeptView { n, name, size, checked: d.garder.contains(&n) });
        }
    }
    let mut joined = None;
    if let Ok(Some((_, _, msg))) = read_ref(app, account, &d.joindre).await {
        joined = Some(mime::whole_message(&msg).name);
    }
    let identities = identities::choices(app, account, &d.de, M(v.lang)).await?;
    let share_max = app.sharing.as_ref().map_or(0, |s| s.settings().largest_file());
    let key = if !d.brouillon.is_empty() {
        "mail.draft.title"
    } else if d.origin.is_empty() {
        "mail.compose.title"
    } else {
        "mail.reply.title"
    };
    let heading = m.get(key).to_owned();
    let mut c = common(app, v, &heading);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    c.error = error;
    c.info = info;
    let page =
        ComposePage { c, m, folders, heading, d, refiles, kept, joined, identities, max_upload: MAX_UPLOAD, share_max };
    Ok(render(v, status, &page))
}

/// `mailbox:uid` as numbers.
pub fn parse_ref(s: &str) -> Option<(i64, i64)> {
    let (mb, uid) = s.trim().split_once(':')?;
    Some((mb.parse().ok()?, uid.parse().ok()?))
}

/// The message a `mailbox:uid` reference names, when it is the account's.
pub async fn load_ref(
    app: &App,
    account: &Account,
    r: &str,
) -> Result<
    Option<(mailstore::Mailbox, mailstore::MessageRow, mailstore::MessageView)>,
    Box<dyn std::error::Error + Send + Sync>,
> {
    let Some((mailbox, uid)) = parse_ref(r) else { return Ok(None) };
    let Some(mb) = own_mailbox(app, account, mailbox).await? else { return Ok(None) };
    let Some(row) = app.ms.message_by_uid(mb.id, uid).await? else { return Ok(None) };
    let msg = app.ms.view(&row.blob_hash).await?;
    Ok(Some((mb, row, msg)))
}

/// The message a `mailbox:uid` reference names, when the account may read
/// it: its own, or in a folder shared with it with `r` (a reply, a forward
/// or the attachments kept from a shared mailbox's message).
pub async fn read_ref(
    app: &App,
    account: &Account,
    r: &str,
) -> Result<
    Option<(mailstore::Mailbox, mailstore::MessageRow, mailstore::MessageView)>,
    Box<dyn std::error::Error + Send + Sync>,
> {
    let Some((mailbox, uid)) = parse_ref(r) else { return Ok(None) };
    let Some(at) = app.ms.reach(account.id, mailbox).await? else { return Ok(None) };
    if !at.rights.contains(model::Rights::READ) {
        return Ok(None);
    }
    let Some(row) = app.ms.message_by_uid(at.mailbox.id, uid).await? else { return Ok(None) };
    let msg = app.ms.view(&row.blob_hash).await?;
    Ok(Some((at.mailbox, row, msg)))
}

/// Splits a recipients field ("a@x.fr, Nom <b@y.fr>; c@z.fr") into addresses;
/// `Err` holds the first piece that is not an address.
pub fn parse_recipients(field: &str) -> Result<Vec<Address>, String> {
    let mut out = Vec::new();
    for piece in field.split([',', ';', '\n']) {
        let piece = piece.trim();
        if piece.is_empty() {
            continue;
        }
        let addr = match (piece.rfind('<'), piece.rfind('>')) {
            (Some(a), Some(b)) if a < b => &piece[a + 1..b],
            _ => piece,
        };
        match Address::parse(addr.trim()) {
            Ok(a) => out.push(a),
            Err(_) => return Err(piece.chars().take(200).collect()),
        }
    }
    Ok(out)
}

/// Strips what could break a header line out of a user-typed value.
pub fn one_line(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned()
}

/// Message ids typed back by the form: `<>` and spaces removed, capped.
fn message_ids(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|id| id.trim_matches(['<', '>']).to_owned())
        .filter(|id| !id.is_empty() && id.len() <= 250 && id.contains('@') && id.chars().all(|c| c.is_ascii_graphic()))
        .take(50)
        .collect()
}

/// The text and cleaned HTML to send: the HTML only in rich text mode,
/// cleaned whatever the client did, and the text derived from it.
pub fn texts(d: &Draft) -> (String, Option<String>) {
    if d.riche && !d.html.trim().is_empty() {
        let html = clean_compose_html(&d.html);
        (html_to_text(&html), Some(html))
    } else {
        (d.body.replace("\r\n", "\n"), None)
    }
}

/// Uploads, kept attachments and the message forwarded whole; `Err` is a
/// text key.
pub async fn gather(app: &App, account: &Account, d: &Draft, files: Vec<Upload>) -> Result<Vec<Attach>, &'static str> {
    let mut out: Vec<Attach> = Vec::new();
    if !d.garder.is_empty()
        && let Ok(Some((_, _, msg))) = read_ref(app, account, &d.source).await
    {
        out.extend(mime::kept_attachments(&msg, &d.garder));
    }
    if let Ok(Some((_, _, msg))) = read_ref(app, account, &d.joindre).await {
        out.push(mime::whole_message(&msg));
    }
    out.extend(files.into_iter().map(|f| Attach {
        name: f.name,
        content_type: f.content_type,
        bytes: f.bytes,
        message: false,
    }));
    if out.iter().map(|a| a.bytes.len()).sum::<usize>() > MAX_UPLOAD {
        return Err("mail.err.toobig");
    }
    Ok(out)
}

/// `POST /courrier/envoyer`: sends, or saves the draft (`action=brouillon`).
pub async fn send(
    State(app): State<Arc<App>>,
    Reader { mut v, account }: Reader,
    mp: Multipart,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let Posted { csrf, mut d, files, action, auto, error } = read_form(mp).await;
    if let Some(key) = error {
        // Shown again with what was typed (nothing is done with it here).
        if auto {
            return Ok(super::drafts::json(StatusCode::BAD_REQUEST, &serde_json::json!({ "erreur": m.get(key) })));
        }
        d.subject = one_line(&d.subject);
        return show(&app, &mut v, &account, d, Some(m.get(key).to_owned()), false, None).await;
    }
    // The token travels in the multipart body: checked here, not by an extractor.
    v.check_csrf(&app, &csrf)?;
    d.subject = one_line(&d.subject);
    if action == "brouillon" {
        return super::drafts::save(&app, &mut v, &account, d, files, auto).await;
    }
    if app.outbox.is_some() {
        let delay = super::sending::delay(&app, &account).await?;
        if delay > 0 {
            return super::sending::schedule(&app, &mut v, &account, d, files, delay).await;
        }
    }
    let refiles = !files.is_empty();
    let ready = match prepare(&app, &account, &d, files, m).await? {
        Ok(r) => r,
        Err(Refused { text, keeps_files }) => {
            return show(&app, &mut v, &account, d, Some(text), refiles && keeps_files, None).await;
        }
    };
    let info = match deliver(&app, &account, ready, m).await? {
        Ok(info) => info,
        Err(text) => return show(&app, &mut v, &account, d, Some(text), refiles, None).await,
    };
    mark_answered(&app, &account, &d.origin).await;
    super::drafts::discard(&app, &account, &d.brouillon).await;
    Ok(redirect(&v, &format!("/courrier?info={info}")))
}

/// Why a message cannot go: the text to show, and whether the files
/// chosen are still to be uploaded again (they were not the problem).
pub struct Refused {
    pub text: String,
    pub keeps_files: bool,
}

/// A message checked and built: what the pipeline gets and who is in
/// blind copy (said in the copy kept in Envoyés).
pub struct Ready {
    /// Sent from another account's address: the pipeline files the copy in
    /// that account's Envoyés, not in the user's.
    delegated: bool,
    recipients: Vec<Address>,
    bcc: Vec<Address>,
    raw: Vec<u8>,
}

/// Checks the form (recipients, sender, attachments) and builds the message.
pub async fn prepare(
    app: &App,
    account: &Account,
    d: &Draft,
    files: Vec<Upload>,
    m: M,
) -> Result<Result<Ready, Refused>, WebError> {
    let refused = |text: String| Ok(Err(Refused { text, keeps_files: true }));
    let (to, cc, bcc) = match (parse_recipients(&d.to), parse_recipients(&d.cc), parse_recipients(&d.bcc)) {
        (Ok(to), Ok(cc), Ok(bcc)) => (to, cc, bcc),
        (Err(bad), _, _) | (_, Err(bad), _) | (_, _, Err(bad)) => {
            return refused(format!("{} « {bad} »", m.get("mail.err.invalid")));
        }
    };
    let mut recipients: Vec<Address> = to.iter().chain(cc.iter()).chain(bcc.iter()).cloned().collect();
    recipients.sort_by_key(|a| a.to_string());
    recipients.dedup();
    if recipients.is_empty() {
        return refused(m.get("mail.err.norecipient").to_owned());
    }
    if recipients.len() > MAX_RECIPIENTS {
        return refused(format!("{} ({MAX_RECIPIENTS} max.)", m.get("mail.err.limit")));
    }
    for r in &recipients {
        if app.ms.check_recipient(r, None).await? == RecipientStatus::Unknown {
            return refused(format!("{} {r}", m.get("mail.err.unknown")));
        }
    }
    let sender = match identities::sender(app, account, &d.de).await? {
        Ok(s) => s,
        Err(address) => return refused(format!("{} {address}", m.get("mail.err.forged"))),
    };
    let attachments = match gather(app, account, d, files).await {
        Ok(a) => a,
        Err(key) => return Ok(Err(Refused { text: m.get(key).to_owned(), keeps_files: false })),
    };
    let (text, html) = texts(d);
    let content = Content { text: &text, html: html.as_deref(), attachments: &attachments };
    let raw = build(&sender, d, Some((&to, &cc)), &content)?;
    let delegated = !identities::own_addresses(app, account).await?.contains(&sender.address);
    Ok(Ok(Ready { delegated, recipients, bcc, raw }))
}

/// Hands a built message to the pipeline and keeps a copy in Envoyés: the
/// info key for the list (`sent`, or `nosent` without the copy), or the
/// pipeline's refusal as a text.
pub async fn deliver(
    app: &App,
    account: &Account,
    ready: Ready,
    m: M,
) -> Result<Result<&'static str, String>, WebError> {
    let Ready { delegated, recipients, bcc, raw } = ready;
    let Some(outbox) = app.outbox.as_ref() else {
        return Ok(Err(m.get("mail.err.temporary").to_owned()));
    };
    if let Err(refusal) = outbox.send(account, &recipients, raw.clone()).await {
        let text = match refusal {
            SendRefusal::ForgedSender(who) => format!("{} {who}", m.get("mail.err.forged")),
            SendRefusal::UnknownRecipient(who) => format!("{} {who}", m.get("mail.err.unknown")),
            SendRefusal::RateLimited(detail) => format!("{} ({detail})", m.get("mail.err.limit")),
            SendRefusal::Temporary => m.get("mail.err.temporary").to_owned(),
            SendRefusal::Permanent(why) => format!("{} {why}", m.get("mail.err.refused")),
        };
        return Ok(Err(text));
    }
    if delegated {
        // The submission pipeline filed it in the owner's Envoyés and journaled it.
        return Ok(Ok("sent"));
    }
    // The copy in Envoyés says who was in blind copy (only its owner reads it).
    let kept = if bcc.is_empty() {
        raw
    } else {
        let list = bcc.iter().map(Address::to_string).collect::<Vec<_>>().join(", ");
        let mut with = format!("Bcc: {list}\r\n").into_bytes();
        with.extend_from_slice(&raw);
        with
    };
    Ok(Ok(match keep_sent(app, account, &kept).await {
        Ok(()) => "sent",
        Err(e) => {
            tracing::warn!(error = %e, account = account.id, "no copy kept in Sent");
            "nosent"
        }
    }))
}

/// The message as sent (`recipients` given: parsed To and Cc) or as a
/// draft (the fields kept as typed, with the message replied to): From the
/// identity, a fresh Message-ID of its domain.
pub fn build(
    sender: &Sender,
    d: &Draft,
    recipients: Option<(&[Address], &[Address])>,
    content: &Content<'_>,
) -> std::io::Result<Vec<u8>> {
    let now = crate::base::session::unix_now();
    let domain = sender.address.rsplit_once('@').map_or("localhost", |(_, d)| d).to_owned();
    let id = format!("{:x}.{:016x}@{domain}", now, rand::random::<u64>());
    let addr = |a: &Address| a.to_string();
    let mut b = mail_builder::MessageBuilder::new()
        .from((sender.name.clone(), sender.address.clone()))
        .subject(d.subject.clone())
        .message_id(id)
        .date(now);
    // « De la part de »: the user who wrote, beside the owner in From:.
    if let Some((name, address)) = sender.on_behalf.clone() {
        b = b.sender((name, address));
    }
    match recipients {
        Some((to, cc)) => {
            if !to.is_empty() {
                b = b.to(to.iter().map(addr).collect::<Vec<String>>());
            }
            if !cc.is_empty() {
                b = b.cc(cc.iter().map(addr).collect::<Vec<String>>());
            }
        }
        None => {
            for (name, value) in [("To", &d.to), ("Cc", &d.cc), ("Bcc", &d.bcc), ("X-Ardoise-Origine", &d.origin)] {
                if !value.trim().is_empty() {
                    b = b.header(name, mime::raw_header(value));
                }
            }
        }
    }
    let in_reply_to = message_ids(&d.in_reply_to);
    if let Some(first) = in_reply_to.first() {
        b = b.in_reply_to(first.clone());
    }
    let references = message_ids(&d.references);
    if !references.is_empty() {
        b = b.references(references);
    }
    b.body(mime::body(content)).write_to_vec()
}

/// A copy in Envoyés, already read.
async fn keep_sent(app: &App, account: &Account, raw: &[u8]) -> Result<(), mailstore::Error> {
    let sent =
        app.ms.mailbox_with_use(account.id, SpecialUse::Sent).await?.ok_or(mailstore::Error::NoMailbox(account.id))?;
    let target =
        DeliveryTarget { account: account.id, mailbox: Some(sent.id), flags: Flag::Seen.bit(), keywords: Vec::new() };
    app.ms.deliver_to(raw, &[target], crate::base::session::unix_now()).await?;
    Ok(())
}

/// Marks the message replied to as answered (best effort).
pub async fn mark_answered(app: &App, account: &Account, origin: &str) {
    let Some((mb, uid)) = parse_ref(origin) else { return };
    // A shared folder's message is marked only with `w` (the domain checks).
    let Ok(Some(at)) = app.ms.reach(account.id, mb).await else { return };
    if !at.rights.contains(model::Rights::WRITE) {
        return;
    }
    let answered = Flag::Answered.bit();
    if let Err(e) = app.ms.flags_as(account.id, &at, &[uid], FlagOp::Add, answered, &[]).await {
        tracing::warn!(error = %e, "marking as answered failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_parsed_or_refused() {
        let got = parse_recipients("paul.durand@ac-demo.fr, Claire Martin <Claire.Martin@ac-demo.fr>;\n").unwrap();
        assert_eq!(
            got.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            ["paul.durand@ac-demo.fr", "claire.martin@ac-demo.fr"]
        );
        assert_eq!(parse_recipients("paul.durand@ac-demo.fr, pas une adresse").unwrap_err(), "pas une adresse");
        assert!(parse_recipients("  ").unwrap().is_empty());
    }

    #[test]
    fn header_values_stay_on_one_line() {
        assert_eq!(one_line("Objet\r\nBcc: x@y.fr"), "ObjetBcc: x@y.fr");
        assert_eq!(message_ids("<a@b> c@d\r\nX: y <e f>"), ["a@b", "c@d"]);
        assert_eq!(parse_ref(" 12:34 "), Some((12, 34)));
        assert_eq!(parse_ref("12"), None);
    }

    #[test]
    fn rich_text_is_cleaned_and_drafts_keep_typed_fields() {
        let d = Draft {
            to: "Paul <paul@x.fr>, pas encore\r\nBcc: x@y.fr".into(),
            subject: "Essai".into(),
            body: "ignoré".into(),
            html: "<b>gras</b><script>alert(1)</script>".into(),
            riche: true,
            origin: "3:7".into(),
            ..Draft::default()
        };
        let (text, html) = texts(&d);
        assert_eq!((text.as_str(), html.as_deref()), ("gras", Some("<b>gras</b>")));
        let sender =
            Sender { name: "Claire".into(), address: "claire@x.fr".into(), signature: String::new(), on_behalf: None };
        let content = Content { text: &text, html: html.as_deref(), attachments: &[] };
        let raw = String::from_utf8(build(&sender, &d, None, &content).unwrap()).unwrap();
        assert!(raw.contains("To: Paul <paul@x.fr>, pas encoreBcc: x@y.fr\r\n"), "{raw}");
        assert!(raw.contains("X-Ardoise-Origine: 3:7\r\n") && !raw.contains("script"));
        assert!(!raw.contains("\nBcc:"));
    }
}
