//! The composer filled in from a message: a reply (quoted), a forward
//! (inline with a header block and the original's attachments kept, or the
//! whole message attached), or a saved draft reopened as it was.

use mail_parser::{Message, MessageParser};
use mailstore::Account;

use super::compose::{Draft, load_ref};
use super::mime::{self, prefixed, quote};
use super::{M, full_date};
use crate::App;

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// "Name <address>, ..." of an address header.
pub fn addresses(a: Option<&mail_parser::Address<'_>>) -> String {
    let Some(a) = a else { return String::new() };
    a.iter()
        .map(|addr| match (addr.name(), addr.address()) {
            (Some(n), Some(x)) if !n.trim().is_empty() => format!("{} <{x}>", n.trim()),
            (_, Some(x)) => x.to_owned(),
            (Some(n), None) => n.to_owned(),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The readable text of a message: its text part, or its HTML as text.
fn original_text(msg: &Message<'_>) -> String {
    msg.text_part(0)
        .filter(|p| !p.is_text_html())
        .and_then(|p| p.text_contents().map(str::to_owned))
        .or_else(|| msg.body_text(0).map(|t| t.into_owned()))
        .unwrap_or_default()
}

/// The references of an answer to `msg`: its own, then its Message-ID.
fn references_of(msg: &Message<'_>) -> (String, String) {
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
    (message_id, references.join(" "))
}

/// The form of a reply to the message `uid` of `mailbox`.
pub async fn reply(
    app: &App,
    account: &Account,
    mailbox: i64,
    uid: i64,
    all: bool,
    signature: &str,
    m: M,
) -> Result<Option<Draft>, Failure> {
    let Some((mb, row, raw)) = load_ref(app, account, &format!("{mailbox}:{uid}")).await? else { return Ok(None) };
    let Some(msg) = MessageParser::default().parse(&raw) else { return Ok(None) };
    let author = msg.reply_to().or(msg.from()).and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or("");
    let from_line = msg
        .from()
        .and_then(|a| a.first())
        .map(|a| a.name().or(a.address()).unwrap_or("").to_owned())
        .unwrap_or_default();
    let date = msg.date().map(|d| d.to_timestamp()).unwrap_or(row.internal_date);
    let sig = if signature.is_empty() { String::new() } else { format!("{signature}\n") };
    let body =
        format!("\n\n{sig}{} {from_line} {}\n{}", full_date(date), m.get("mail.wrote"), quote(&original_text(&msg)));
    let (message_id, references) = references_of(&msg);
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
        subject: prefixed("Re:", msg.subject().unwrap_or("")),
        body,
        in_reply_to: message_id,
        references,
        origin: format!("{}:{}", mb.id, row.uid),
        ..Draft::default()
    }))
}

/// The header block of an inline forward.
pub fn forward_block(m: M, subject: &str, date: &str, from: &str, to: &str, cc: &str) -> String {
    let t = |k| m.get(k);
    let mut out = format!("-------- {} --------\n", t("mail.fwd.banner"));
    for (key, value) in
        [("mail.subject", subject), ("mail.date", date), ("mail.from", from), ("mail.to", to), ("mail.cc", cc)]
    {
        if !value.is_empty() {
            let sep = if m.0 == crate::base::i18n::Lang::Fr { " : " } else { ": " };
            out.push_str(&format!("{}{sep}{value}\n", m.get(key)));
        }
    }
    out
}

/// The form forwarding the message `uid` of `mailbox`: inline (its text
/// under a header block, its attachments kept) or attached whole.
pub async fn forward(
    app: &App,
    account: &Account,
    mailbox: i64,
    uid: i64,
    attached: bool,
    signature: &str,
    m: M,
) -> Result<Option<Draft>, Failure> {
    let r = format!("{mailbox}:{uid}");
    let Some((_, row, raw)) = load_ref(app, account, &r).await? else { return Ok(None) };
    let Some(msg) = MessageParser::default().parse(&raw) else { return Ok(None) };
    let subject = prefixed("Tr:", msg.subject().unwrap_or(""));
    let sig = if signature.is_empty() { String::new() } else { format!("{signature}\n") };
    if attached {
        return Ok(Some(Draft { subject, body: format!("\n\n{sig}"), joindre: r, ..Draft::default() }));
    }
    let date = full_date(msg.date().map(|d| d.to_timestamp()).unwrap_or(row.internal_date));
    let block = forward_block(
        m,
        msg.subject().unwrap_or("").trim(),
        &date,
        &addresses(msg.from()),
        &addresses(msg.to()),
        &addresses(msg.cc()),
    );
    let body = format!("\n\n{sig}\n{block}\n{}", original_text(&msg));
    let garder = (0..mime::list_attachments(&raw).len()).collect();
    Ok(Some(Draft { subject, body, source: r, garder, ..Draft::default() }))
}

/// A saved draft reopened in the composer, replacing itself when saved again.
pub async fn reopen(app: &App, account: &Account, r: &str) -> Result<Option<Draft>, Failure> {
    let Some((mb, row, raw)) = load_ref(app, account, r).await? else { return Ok(None) };
    if mb.special_use != Some(model::SpecialUse::Drafts) {
        return Ok(None);
    }
    let Some(msg) = MessageParser::default().parse(&raw) else { return Ok(None) };
    let header = |name: &str| msg.header_raw(name).map(|v| v.trim().to_owned()).unwrap_or_default();
    let html = msg
        .html_part(0)
        .filter(|p| p.is_text_html())
        .and_then(|p| p.text_contents())
        .map(mime::clean_compose_html)
        .unwrap_or_default();
    let text = msg.text_part(0).filter(|p| !p.is_text_html()).and_then(|p| p.text_contents()).unwrap_or("").to_owned();
    let from = msg.from().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or("").to_ascii_lowercase();
    let de = app
        .ms
        .identities(account.id)
        .await?
        .into_iter()
        .find(|i| i.address.eq_ignore_ascii_case(&from))
        .map(|i| i.id.to_string())
        .unwrap_or_default();
    let here = format!("{}:{}", mb.id, row.uid);
    let (in_reply_to, references) = (
        msg.in_reply_to().as_text().unwrap_or("").to_owned(),
        msg.references()
            .as_text_list()
            .map(|l| l.join(" "))
            .or_else(|| msg.references().as_text().map(str::to_owned))
            .unwrap_or_default(),
    );
    Ok(Some(Draft {
        to: header("To"),
        cc: header("Cc"),
        subject: msg.subject().unwrap_or("").to_owned(),
        body: text,
        in_reply_to,
        references,
        origin: header("X-Ardoise-Origine"),
        brouillon: here.clone(),
        source: here,
        garder: (0..mime::list_attachments(&raw).len()).collect(),
        joindre: String::new(),
        de,
        riche: !html.is_empty(),
        html,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_header_blocks() {
        let fr = M(crate::base::i18n::Lang::Fr);
        let block = forward_block(fr, "Sortie", "23/11/2026 17:40", "Claire <c@x.fr>", "p@x.fr", "");
        assert_eq!(
            block,
            "-------- Message transféré --------\nObjet : Sortie\nDate : 23/11/2026 17:40\n\
             De : Claire <c@x.fr>\nÀ : p@x.fr\n"
        );
        let en = forward_block(M(crate::base::i18n::Lang::En), "S", "d", "f", "t", "c");
        assert!(en.starts_with("-------- Forwarded message --------\nSubject: S\n") && en.ends_with("Cc: c\n"));
    }
}
