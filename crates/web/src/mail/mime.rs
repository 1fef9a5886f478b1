//! Building what the composer sends or saves: the body (plain text, or
//! multipart/alternative when the optional rich text was used), attachments
//! uploaded or kept from another message, a whole message forwarded as
//! `message/rfc822`; and the pure helpers behind it (cleaning the client's
//! HTML with ammonia, deriving its text part, quoting, forward headers).
//!
//! Nothing here trusts the browser: the HTML is cleaned with a small
//! allow-list whatever the client posted, and the text part is derived from
//! the cleaned HTML, never taken from the client.

use std::collections::{HashMap, HashSet};

use mail_builder::headers::raw::Raw;
use mail_builder::mime::{BodyPart, MimePart};
use mailstore::MessageView;

use super::sanitize::clean_filename;

/// One attachment of an outgoing message.
#[derive(Debug, Clone)]
pub struct Attach {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    /// A whole message (`message/rfc822`), sent unencoded as RFC 2046 asks.
    pub message: bool,
}

/// The files of `msg`, in its order, as `(name, content type, size)`, for
/// the composer's "kept attachments" list.
pub fn list_attachments(msg: &MessageView) -> Vec<(String, String, usize)> {
    msg.files().into_iter().map(|f| (clean_filename(f.name.as_deref().unwrap_or("")), f.content_type, f.size)).collect()
}

/// The files of `msg` whose numbers are in `keep`.
pub fn kept_attachments(msg: &MessageView, keep: &[usize]) -> Vec<Attach> {
    (0..msg.files().len())
        .filter(|n| keep.contains(n))
        .filter_map(|n| msg.file(n))
        .map(|(f, bytes)| {
            let mut name = clean_filename(f.name.as_deref().unwrap_or(""));
            if f.message && !name.contains('.') {
                name.push_str(".eml");
            }
            let content_type = if f.message { "message/rfc822".to_owned() } else { f.content_type };
            Attach { name, content_type, bytes, message: f.message }
        })
        .collect()
}

/// `msg` attached whole, named after its subject.
pub fn whole_message(msg: &MessageView) -> Attach {
    let subject = msg.subject().trim();
    let name = if subject.is_empty() { "message.eml".to_owned() } else { format!("{}.eml", clean_filename(subject)) };
    Attach { name, content_type: "message/rfc822".into(), bytes: msg.raw().to_vec(), message: true }
}

/// What goes in the message besides its headers.
pub struct Content<'a> {
    pub text: &'a str,
    /// Cleaned HTML of the rich text mode.
    pub html: Option<&'a str>,
    pub attachments: &'a [Attach],
}

/// The MIME body of a message.
pub fn body(c: &Content<'_>) -> MimePart<'static> {
    let text = MimePart::new("text/plain", BodyPart::Text(c.text.replace("\r\n", "\n").into()));
    let main = match c.html {
        Some(h) => MimePart::new(
            "multipart/alternative",
            vec![text, MimePart::new("text/html", BodyPart::Text(h.to_owned().into()))],
        ),
        None => text,
    };
    if c.attachments.is_empty() {
        return main;
    }
    let mut parts = vec![main];
    for a in c.attachments {
        let part =
            MimePart::new(a.content_type.clone(), BodyPart::Binary(a.bytes.clone().into())).attachment(a.name.clone());
        parts.push(if a.message {
            let eight = a.bytes.iter().any(|b| *b >= 0x80);
            part.transfer_encoding(if eight { "8bit" } else { "7bit" })
        } else {
            part
        });
    }
    MimePart::new("multipart/mixed", parts)
}

/// A header value kept as typed (drafts keep what the user wrote, even
/// when it is not yet a valid address), on one line.
pub fn raw_header(s: &str) -> Raw<'static> {
    Raw::new(s.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned())
}

/// The client's HTML reduced to what the rich text mode offers: bold,
/// italic, lists, paragraphs, line breaks and http(s)/mailto links.
pub fn clean_compose_html(html: &str) -> String {
    let tags: HashSet<&str> =
        ["b", "strong", "i", "em", "u", "ul", "ol", "li", "p", "br", "div", "a", "blockquote"].into();
    let mut attrs = HashMap::new();
    attrs.insert("a", HashSet::from(["href"]));
    ammonia::Builder::default()
        .tags(tags)
        .generic_attributes(HashSet::new())
        .tag_attributes(attrs)
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer"))
        .clean(html)
        .to_string()
}

/// The text part derived from cleaned HTML: blocks and breaks become lines,
/// list items get a dash, links keep their address, entities are decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::new();
    let mut href: Vec<Option<String>> = Vec::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..lt]));
        let Some(gt) = rest[lt..].find('>') else {
            rest = &rest[lt..];
            break;
        };
        let tag = &rest[lt + 1..lt + gt];
        rest = &rest[lt + gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        match (name.as_str(), closing) {
            ("br", _) => out.push('\n'),
            ("p" | "div" | "ul" | "ol" | "blockquote", _) if !out.is_empty() && !out.ends_with('\n') => {
                out.push('\n');
            }
            ("li", false) => {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str("- ");
            }
            ("a", false) => href.push(attribute(tag, "href")),
            ("a", true) => {
                let target = href.pop().flatten();
                if let Some(h) = target
                    && !out.ends_with(h.trim_start_matches("mailto:"))
                {
                    out.push_str(&format!(" <{h}>"));
                }
            }
            _ => {}
        }
    }
    out.push_str(&decode_entities(rest));
    out.trim().to_owned()
}

/// The value of `name="..."` in a tag written by ammonia (always double quoted).
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = tag[start..].find('"')?;
    Some(decode_entities(&tag[start..start + end]))
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|i| *i <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `> ` before each line of `text` (at most 2,000 lines).
pub fn quote(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines().take(2000) {
        out.push_str(if line.is_empty() { ">" } else { "> " });
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `Re: ` or `Tr: ` before a subject, unless it already has one.
pub fn prefixed(prefix: &str, subject: &str) -> String {
    let subject = subject.trim();
    let lower = subject.to_lowercase();
    let known: &[&str] = if prefix == "Re:" { &["re:"] } else { &["tr:", "fwd:", "fw:", "trans:"] };
    if known.iter().any(|k| lower.starts_with(k)) { subject.to_owned() } else { format!("{prefix} {subject}") }
}

/// The signature block: "-- " on its own line, then the signature.
pub fn signature_block(signature: &str) -> String {
    let s = signature.trim_end().replace("\r\n", "\n");
    if s.is_empty() { String::new() } else { format!("-- \n{s}\n") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_html_is_cleaned() {
        let dirty = "<p onclick=\"x()\">Bonjour <b>Paul</b><script>alert(1)</script></p>\
                     <img src=x onerror=alert(2)><a href=\"javascript:alert(3)\">pay</a>\
                     <a href=\"https://ac-demo.fr/?a=1&amp;b=2\" style=\"color:red\">lien</a><iframe src=x></iframe>";
        let clean = clean_compose_html(dirty);
        for bad in ["script", "onclick", "onerror", "<img", "javascript", "style", "iframe", "alert(1)"] {
            assert!(!clean.contains(bad), "{bad} in {clean}");
        }
        assert!(clean.contains("<b>Paul</b>") && clean.contains("href=\"https://ac-demo.fr/?a=1&amp;b=2\""));
        assert!(clean.contains("rel=\"noopener noreferrer\""));
    }

    #[test]
    fn text_is_derived_from_html() {
        let html = clean_compose_html(
            "<p>Bonjour <b>Paul</b>,</p><ul><li>un &amp; deux</li><li>trois</li></ul>\
             <div>voir <a href=\"https://ac-demo.fr/x\">le site</a><br>à bientôt&nbsp;!</div>",
        );
        assert_eq!(
            html_to_text(&html),
            "Bonjour Paul,\n- un & deux\n- trois\nvoir le site <https://ac-demo.fr/x>\nà bientôt !"
        );
        assert_eq!(html_to_text("a &lt;b&gt; &#233;&#xe9; &bogus; & c"), "a <b> éé &bogus; & c");
    }

    #[test]
    fn quoting_prefixes_and_signatures() {
        assert_eq!(quote("un\n\ndeux"), "> un\n>\n> deux\n");
        assert_eq!(prefixed("Re:", "Sortie"), "Re: Sortie");
        assert_eq!(prefixed("Re:", "RE: Sortie"), "RE: Sortie");
        assert_eq!(prefixed("Tr:", "Fwd: Sortie"), "Fwd: Sortie");
        assert_eq!(prefixed("Tr:", " Sortie "), "Tr: Sortie");
        assert_eq!(signature_block("Claire\r\nCollège\n\n"), "-- \nClaire\nCollège\n");
        assert_eq!(signature_block("  \n"), "");
    }

    #[test]
    fn forwarded_messages_stay_whole_and_attachments_are_kept() {
        let original = b"From: a@x.fr\r\nSubject: Note\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: text/plain\r\n\r\ncorps\r\n--b\r\nContent-Type: application/pdf\r\n\
Content-Disposition: attachment; filename=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--b--\r\n";
        let original_view = MessageView::new(original.to_vec(), None);
        assert_eq!(list_attachments(&original_view), [("a.pdf".to_owned(), "application/pdf".to_owned(), 4)]);
        let kept = kept_attachments(&original_view, &[0, 0]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].bytes, b"%PDF");
        let whole = whole_message(&original_view);
        assert_eq!(whole.name, "Note.eml");
        let attachments = [kept[0].clone(), whole];
        let part = body(&Content { text: "voir", html: Some("<b>voir</b>"), attachments: &attachments });
        let raw = mail_builder::MessageBuilder::new()
            .from("a@x.fr")
            .to("b@x.fr")
            .subject("Tr: Note")
            .body(part)
            .write_to_vec()
            .unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(text.contains("multipart/alternative") && text.contains("message/rfc822"), "{text}");
        let sent = MessageView::new(raw, None);
        let names: Vec<String> = list_attachments(&sent).into_iter().map(|a| a.0).collect();
        assert_eq!(names, ["a.pdf", "Note.eml"]);
        let (_, inner) = sent.file(1).unwrap();
        assert_eq!(inner, original.as_slice(), "the forwarded message is byte for byte the original");
    }
}
