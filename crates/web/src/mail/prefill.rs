//! The composer filled in from a message: a reply (quoted), a forward
//! (inline with a header block and the original's attachments kept, or the
//! whole message attached), or a saved draft reopened as it was.

use mailstore::{Account, MessageView, display_addresses};

use super::M;
use super::compose::{Draft, load_ref, read_ref};
use super::mime::{self, prefixed, quote};
use crate::App;
use crate::base::clock::Clock;

/// How the writer's text around a quoted message reads: their signature,
/// language and clock (the « … a écrit » line in their zone).
pub struct Quoting<'a> {
    pub signature: &'a str,
    pub m: M,
    pub clock: &'a Clock,
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// The references of an answer to `msg`: its own, then its Message-ID
/// (RFC 5322 section 3.6.4), and that Message-ID.
fn references_of(msg: &MessageView) -> (String, String) {
    let message_id = msg.message_id().unwrap_or("").to_owned();
    let mut references = msg.references();
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
    q: &Quoting<'_>,
) -> Result<Option<Draft>, Failure> {
    let (signature, m) = (q.signature, q.m);
    let Some((mb, row, msg)) = read_ref(app, account, &format!("{mailbox}:{uid}")).await? else { return Ok(None) };
    let person = |a: &&mailstore::analyse::EnvelopeAddress| !a.is_group_start() && !a.is_group_end();
    let author = msg.reply_to().iter().find(person).map(|a| a.address()).unwrap_or_default();
    let from_line = msg
        .from()
        .iter()
        .find(person)
        .map(|a| a.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| a.address()))
        .unwrap_or_default();
    let date = msg.sent_date().unwrap_or(row.internal_date);
    let sig = if signature.is_empty() { String::new() } else { format!("{signature}\n") };
    let body =
        format!("\n\n{sig}{} {from_line} {}\n{}", q.clock.full(date), m.get("mail.wrote"), quote(&msg.plain_text()));
    let (message_id, references) = references_of(&msg);
    let mut cc = Vec::new();
    if all {
        let me = account.address.to_string();
        for a in msg.to().iter().chain(msg.cc()).filter(person) {
            let x = a.address().trim().to_ascii_lowercase();
            if !x.contains('@') {
                continue;
            }
            if x != me && !x.eq_ignore_ascii_case(&author) && !cc.contains(&x) {
                cc.push(x);
            }
        }
    }
    Ok(Some(Draft {
        to: author,
        cc: cc.join(", "),
        subject: prefixed("Re:", msg.subject()),
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
    q: &Quoting<'_>,
) -> Result<Option<Draft>, Failure> {
    let (signature, m) = (q.signature, q.m);
    let r = format!("{mailbox}:{uid}");
    let Some((_, row, msg)) = read_ref(app, account, &r).await? else { return Ok(None) };
    let subject = prefixed("Tr:", msg.subject());
    let sig = if signature.is_empty() { String::new() } else { format!("{signature}\n") };
    if attached {
        return Ok(Some(Draft { subject, body: format!("\n\n{sig}"), joindre: r, ..Draft::default() }));
    }
    let date = q.clock.full(msg.sent_date().unwrap_or(row.internal_date));
    let block = forward_block(
        m,
        msg.subject().trim(),
        &date,
        &display_addresses(msg.from()),
        &display_addresses(msg.to()),
        &display_addresses(msg.cc()),
    );
    let body = format!("\n\n{sig}\n{block}\n{}", msg.plain_text());
    let garder = (0..msg.files().len()).collect();
    Ok(Some(Draft { subject, body, source: r, garder, ..Draft::default() }))
}

/// A saved draft reopened in the composer, replacing itself when saved again.
pub async fn reopen(app: &App, account: &Account, r: &str) -> Result<Option<Draft>, Failure> {
    let Some((mb, row, msg)) = load_ref(app, account, r).await? else { return Ok(None) };
    if mb.special_use != Some(model::SpecialUse::Drafts) {
        return Ok(None);
    }
    let header = |name: &str| msg.header_raw(name).unwrap_or_default();
    // A draft saved in rich text is text + HTML alternatives: both come back.
    let (text, html) = msg.draft_texts();
    let html = html.map(|h| mime::clean_compose_html(&h)).unwrap_or_default();
    let from = msg.sender().unwrap_or_default();
    let de = app
        .ms
        .identities(account.id)
        .await?
        .into_iter()
        .find(|i| i.address.eq_ignore_ascii_case(&from))
        .map(|i| i.id.to_string());
    // Written from another account's address (issue 22): « de la part de »
    // when the draft names the user in Sender:, else « en tant que »; the
    // right is checked again when it is sent.
    let own = super::identities::own_addresses(app, account).await?;
    let de = match de {
        Some(id) => id,
        None if !from.is_empty() && !own.iter().any(|a| a.eq_ignore_ascii_case(&from)) => {
            let prefix = if msg.header_raw("Sender").is_some() { "pour:" } else { "comme:" };
            format!("{prefix}{from}")
        }
        None => String::new(),
    };
    let here = format!("{}:{}", mb.id, row.uid);
    let (in_reply_to, references) = (msg.in_reply_to().join(" "), msg.references().join(" "));
    Ok(Some(Draft {
        to: header("To"),
        cc: header("Cc"),
        bcc: header("Bcc"),
        subject: msg.subject().to_owned(),
        body: text,
        in_reply_to,
        references,
        origin: header("X-Ardoise-Origine"),
        brouillon: here.clone(),
        source: here,
        garder: (0..msg.files().len()).collect(),
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
