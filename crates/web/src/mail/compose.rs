//! Writing: a new message or a reply, plain text, with attachments, sent
//! through the submission pipeline ([`super::Outbox`]) and kept in the
//! Envoyés folder.
//!
//! Recipients are checked before anything is built: an address that does
//! not parse, or a local address that does not exist, gets a clear French
//! error and the form comes back filled in.

use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use mail_parser::MessageParser;
use mailstore::{DeliveryTarget, RecipientStatus};
use model::{Address, Flag, SpecialUse};
use serde::Deserialize;
use store::{Account, FlagOp};

use super::folders::{FolderView, sidebar};
use super::sanitize::clean_filename;
use super::{M, MAX_UPLOAD, SendRefusal, common, full_date, own_mailbox, signed_in};
use crate::App;
use crate::pages::{Common, LangQuery, csrf_refused, fail, redirect, render};
use crate::server::Peer;
use crate::session::Visitor;

/// Most recipients (To and Cc together) of one message from the webmail.
const MAX_RECIPIENTS: usize = 100;

/// What the form holds.
#[derive(Debug, Default, Clone)]
pub struct Draft {
    pub to: String,
    pub cc: String,
    pub subject: String,
    pub body: String,
    /// Message-ID of the message replied to (without brackets).
    pub in_reply_to: String,
    /// References of the reply, space separated, without brackets.
    pub references: String,
    /// The message replied to, as `mailbox:uid`, marked answered once sent.
    pub origin: String,
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
}

#[derive(Debug, Default, Deserialize)]
pub struct ComposeQuery {
    pub lang: Option<String>,
    /// Reply to the message `uid` of folder `dossier`.
    pub dossier: Option<i64>,
    pub uid: Option<i64>,
    /// `1`: reply to all (the other recipients in copy).
    pub tous: Option<String>,
}

/// `/courrier/ecrire`: an empty form, or a reply when `dossier` and `uid` are given.
pub async fn page(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Query(q): Query<ComposeQuery>,
    headers: HeaderMap,
) -> Response {
    let (mut v, account) = match signed_in(&app, &headers, peer, &LangQuery { lang: q.lang.clone() }).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let m = M(v.lang);
    let mut draft = Draft::default();
    if let (Some(mailbox), Some(uid)) = (q.dossier, q.uid) {
        let all = q.tous.as_deref() == Some("1");
        match reply_draft(&app, &account, mailbox, uid, all, m).await {
            Ok(Some(d)) => draft = d,
            Ok(None) => return super::not_found(&app, &mut v),
            Err(e) => return fail(&app, &mut v, &e),
        }
    }
    show(&app, &mut v, &account, draft, None, false).await
}

async fn show(
    app: &App,
    v: &mut Visitor,
    account: &Account,
    d: Draft,
    error: Option<String>,
    refiles: bool,
) -> Response {
    let m = M(v.lang);
    let folders = match sidebar(app, account, None, m).await {
        Ok(f) => f,
        Err(e) => return fail(app, v, &e),
    };
    let heading = m.get(if d.origin.is_empty() { "mail.compose.title" } else { "mail.reply.title" }).to_owned();
    let mut c = common(app, v, &heading);
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    c.error = error;
    let page = ComposePage { c, m, folders, heading, d, refiles };
    render(v, status, &page)
}

/// The form of a reply to the message `uid` of `mailbox`.
async fn reply_draft(
    app: &App,
    account: &Account,
    mailbox: i64,
    uid: i64,
    all: bool,
    m: M,
) -> Result<Option<Draft>, Box<dyn std::error::Error + Send + Sync>> {
    let Some(mb) = own_mailbox(app, account, mailbox).await? else { return Ok(None) };
    let Some(row) = app.ms.store().message_by_uid(mb.id, uid).await? else { return Ok(None) };
    let raw = app.ms.blobs().get(&row.blob_hash).await?;
    let Some(msg) = MessageParser::default().parse(&raw) else { return Ok(None) };
    let author = msg.reply_to().or(msg.from()).and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or("");
    let from_line = msg
        .from()
        .and_then(|a| a.first())
        .map(|a| a.name().or(a.address()).unwrap_or("").to_owned())
        .unwrap_or_default();
    let subject = msg.subject().unwrap_or("").trim();
    let subject =
        if subject.to_ascii_lowercase().starts_with("re:") { subject.to_owned() } else { format!("Re: {subject}") };
    let original = msg
        .text_part(0)
        .filter(|p| !p.is_text_html())
        .and_then(|p| p.text_contents().map(str::to_owned))
        .or_else(|| msg.body_text(0).map(|t| t.into_owned()))
        .unwrap_or_default();
    let date = msg.date().map(|d| d.to_timestamp()).unwrap_or(row.internal_date);
    let mut body = format!("\n\n{} {from_line} {}\n", full_date(date), m.get("mail.wrote"));
    for line in original.lines().take(2000) {
        body.push_str("> ");
        body.push_str(line);
        body.push('\n');
    }
    let message_id = msg.message_id().unwrap_or("").to_owned();
    let mut references: Vec<String> =
        msg.references().as_text_list().map(|l| l.iter().map(|s| s.to_string()).collect()).unwrap_or_default();
    if references.is_empty()
        && let Some(single) = msg.references().as_text()
    {
        references.push(single.to_owned());
    }
    if !message_id.is_empty() {
        references.push(message_id.clone());
    }
    let mut cc = Vec::new();
    if all {
        let me = account.address.to_string();
        for a in msg.to().into_iter().chain(msg.cc()).flat_map(|l| l.iter()) {
            let Some(x) = a.address().map(|x| x.trim().to_ascii_lowercase()) else { continue };
            if x != me && !x.eq_ignore_ascii_case(author) && !cc.contains(&x) {
                cc.push(x);
            }
        }
    }
    Ok(Some(Draft {
        to: author.to_owned(),
        cc: cc.join(", "),
        subject,
        body,
        in_reply_to: message_id,
        references: references.join(" "),
        origin: format!("{}:{}", mb.id, row.uid),
    }))
}

/// One uploaded file.
struct Upload {
    name: String,
    content_type: String,
    bytes: Vec<u8>,
}

/// Reads the multipart form; `Err` is a text key of the error.
async fn read_form(mut mp: Multipart) -> Result<(String, Draft, Vec<Upload>), &'static str> {
    let (mut csrf, mut d, mut files, mut total) = (String::new(), Draft::default(), Vec::new(), 0usize);
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                tracing::info!(error = %e, "compose form unreadable");
                return Err(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    "mail.err.toobig"
                } else {
                    "mail.err.form"
                });
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        if name == "pj" {
            let file_name = field.file_name().unwrap_or("").to_owned();
            let content_type = field.content_type().unwrap_or("application/octet-stream").to_owned();
            let bytes = field.bytes().await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE { "mail.err.toobig" } else { "mail.err.form" }
            })?;
            if file_name.is_empty() && bytes.is_empty() {
                continue; // no file chosen
            }
            total += bytes.len();
            if total > MAX_UPLOAD {
                return Err("mail.err.toobig");
            }
            files.push(Upload {
                name: clean_filename(&file_name),
                content_type: clean_type(&content_type),
                bytes: bytes.to_vec(),
            });
            continue;
        }
        let text = field.text().await.map_err(|_| "mail.err.form")?;
        total += text.len();
        if total > MAX_UPLOAD {
            return Err("mail.err.toobig");
        }
        match name.as_str() {
            "csrf" => csrf = text,
            "to" => d.to = text,
            "cc" => d.cc = text,
            "subject" => d.subject = text,
            "body" => d.body = text,
            "in_reply_to" => d.in_reply_to = text,
            "references" => d.references = text,
            "origin" => d.origin = text,
            _ => {}
        }
    }
    Ok((csrf, d, files))
}

/// A declared content type if it looks like one, else octet-stream.
fn clean_type(t: &str) -> String {
    let t = t.trim().to_ascii_lowercase();
    let ok = t.len() <= 100
        && t.split_once('/').is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && t.bytes().all(|c| c.is_ascii_alphanumeric() || b"/.+-".contains(&c))
        });
    if ok { t } else { "application/octet-stream".to_owned() }
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
fn one_line(s: &str) -> String {
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

/// `POST /courrier/envoyer`.
pub async fn send(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    mp: Multipart,
) -> Response {
    let (mut v, account) = match signed_in(&app, &headers, peer, &LangQuery::default()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let m = M(v.lang);
    let (csrf, mut d, files) = match read_form(mp).await {
        Ok(x) => x,
        Err(key) => return show(&app, &mut v, &account, Draft::default(), Some(m.get(key).to_owned()), false).await,
    };
    if !v.csrf_ok(&app, &csrf) {
        return csrf_refused(&app, &mut v);
    }
    d.subject = one_line(&d.subject);
    let refiles = !files.is_empty();
    let to = parse_recipients(&d.to);
    let cc = parse_recipients(&d.cc);
    let (to, cc) = match (to, cc) {
        (Ok(to), Ok(cc)) => (to, cc),
        (Err(bad), _) | (_, Err(bad)) => {
            let text = format!("{} « {bad} »", m.get("mail.err.invalid"));
            return show(&app, &mut v, &account, d, Some(text), refiles).await;
        }
    };
    let mut recipients: Vec<Address> = to.iter().chain(cc.iter()).cloned().collect();
    recipients.sort_by_key(|a| a.to_string());
    recipients.dedup();
    if recipients.is_empty() {
        return show(&app, &mut v, &account, d, Some(m.get("mail.err.norecipient").to_owned()), refiles).await;
    }
    if recipients.len() > MAX_RECIPIENTS {
        let text = format!("{} ({MAX_RECIPIENTS} max.)", m.get("mail.err.limit"));
        return show(&app, &mut v, &account, d, Some(text), refiles).await;
    }
    for r in &recipients {
        match app.ms.check_recipient(r, None).await {
            Ok(RecipientStatus::Unknown) => {
                let text = format!("{} {r}", m.get("mail.err.unknown"));
                return show(&app, &mut v, &account, d, Some(text), refiles).await;
            }
            Ok(_) => {}
            Err(e) => return fail(&app, &mut v, &e),
        }
    }
    let raw = match build(&account, &d, &to, &cc, &files) {
        Ok(r) => r,
        Err(e) => return fail(&app, &mut v, &e),
    };
    let Some(outbox) = app.outbox.as_ref() else {
        return show(&app, &mut v, &account, d, Some(m.get("mail.err.temporary").to_owned()), refiles).await;
    };
    if let Err(refusal) = outbox.send(&account, &recipients, raw.clone()).await {
        let text = match refusal {
            SendRefusal::ForgedSender(who) => format!("{} {who}", m.get("mail.err.forged")),
            SendRefusal::UnknownRecipient(who) => format!("{} {who}", m.get("mail.err.unknown")),
            SendRefusal::RateLimited(detail) => format!("{} ({detail})", m.get("mail.err.limit")),
            SendRefusal::Temporary => m.get("mail.err.temporary").to_owned(),
            SendRefusal::Permanent(why) => format!("{} {why}", m.get("mail.err.refused")),
        };
        return show(&app, &mut v, &account, d, Some(text), refiles).await;
    }
    let info = match keep_sent(&app, &account, &raw).await {
        Ok(()) => "sent",
        Err(e) => {
            tracing::warn!(error = %e, account = account.id, "no copy kept in Sent");
            "nosent"
        }
    };
    mark_answered(&app, &account, &d.origin).await;
    redirect(&v, &format!("/courrier?info={info}"))
}

/// The message as sent: From the account, a fresh Message-ID of its domain.
fn build(account: &Account, d: &Draft, to: &[Address], cc: &[Address], files: &[Upload]) -> std::io::Result<Vec<u8>> {
    let now = crate::session::unix_now();
    let domain = account.address.domain().as_str().to_owned();
    let id = format!("{:x}.{:016x}@{domain}", now, rand::random::<u64>());
    let addr = |a: &Address| a.to_string();
    let mut b = mail_builder::MessageBuilder::new()
        .from((account.display_name.clone(), account.address.to_string()))
        .to(to.iter().map(addr).collect::<Vec<String>>())
        .subject(d.subject.clone())
        .message_id(id)
        .date(now)
        .text_body(d.body.replace("\r\n", "\n"));
    if !cc.is_empty() {
        b = b.cc(cc.iter().map(addr).collect::<Vec<String>>());
    }
    let in_reply_to = message_ids(&d.in_reply_to);
    if let Some(first) = in_reply_to.first() {
        b = b.in_reply_to(first.clone());
    }
    let references = message_ids(&d.references);
    if !references.is_empty() {
        b = b.references(references);
    }
    for f in files {
        b = b.attachment(f.content_type.clone(), f.name.clone(), f.bytes.clone());
    }
    b.write_to_vec()
}

/// A copy in Envoyés, already read.
async fn keep_sent(app: &App, account: &Account, raw: &[u8]) -> Result<(), mailstore::Error> {
    let sent = app
        .ms
        .store()
        .mailbox_by_special_use(account.id, SpecialUse::Sent)
        .await?
        .ok_or(mailstore::Error::NoMailbox(account.id))?;
    let target =
        DeliveryTarget { account: account.id, mailbox: Some(sent.id), flags: Flag::Seen.bit(), keywords: Vec::new() };
    app.ms.deliver_to(raw, &[target], crate::session::unix_now()).await?;
    Ok(())
}

/// Marks the message replied to as answered (best effort).
async fn mark_answered(app: &App, account: &Account, origin: &str) {
    let Some((mb, uid)) = origin.split_once(':') else { return };
    let (Ok(mb), Ok(uid)) = (mb.parse::<i64>(), uid.parse::<i64>()) else { return };
    let Ok(Some(mailbox)) = own_mailbox(app, account, mb).await else { return };
    let answered = Flag::Answered.bit();
    if let Err(e) = app.ms.update_flags(account.id, mailbox.id, &[uid], FlagOp::Add, answered, &[], None).await {
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
        assert_eq!(clean_type("image/PNG"), "image/png");
        assert_eq!(clean_type("text/html\r\nX: y"), "application/octet-stream");
    }
}
