//! What the rules look at, read from a message once and within bounds.
//!
//! Archives are never opened (a zip bomb is only a file name here), text is
//! kept up to [`MAX_TEXT`] bytes, links up to [`MAX_LINKS`], attachment
//! names up to [`MAX_ATTACHMENTS`]. mail-parser walks nested parts without
//! recursion and decodes at most three levels of attached messages, so a
//! message of a thousand nested parts or broken base64 costs time in
//! proportion to its size and nothing more.

use mail_parser::{Address, MessageParser, MimeHeaders, PartType};

/// Bytes of text (plain, and HTML turned into text) the rules read.
pub const MAX_TEXT: usize = 256 * 1024;
/// Bytes of HTML searched for links.
pub const MAX_HTML: usize = 512 * 1024;
pub const MAX_LINKS: usize = 200;
pub const MAX_ATTACHMENTS: usize = 100;

/// SpamAssassin's Generic Test for Unsolicited Bulk Email.
pub const GTUBE: &str = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

/// A link of an HTML body: its visible text and where it really goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The visible text, tags removed, white space collapsed.
    pub text: String,
    /// The host of the target (after any `user@`), lower-case; empty when
    /// the target is not an http(s) URL.
    pub host: String,
}

/// A message as the rules see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    /// mail-parser could read the header.
    pub parsed: bool,
    /// The `From:` address, lower-case.
    pub from_address: Option<String>,
    /// Its domain, lower-case.
    pub from_domain: Option<String>,
    /// The `From:` display name, decoded.
    pub display_name: Option<String>,
    /// Domains of `Reply-To:` addresses.
    pub reply_to_domains: Vec<String>,
    pub subject: String,
    pub has_date: bool,
    pub has_message_id: bool,
    /// `Received:` field values, topmost first.
    pub received: Vec<String>,
    /// Text of the bodies, up to [`MAX_TEXT`] bytes.
    pub text: String,
    pub links: Vec<Link>,
    /// Hosts of the http(s) URLs written in the text and the links.
    pub url_hosts: Vec<String>,
    pub attachment_names: Vec<String>,
    pub gtube: bool,
}

impl Features {
    /// Reads `raw`. Never fails: what cannot be read is left empty.
    pub fn extract(raw: &[u8]) -> Features {
        let mut f = Features { gtube: contains(raw, GTUBE.as_bytes()), ..Features::default() };
        let Some(message) = MessageParser::default().parse(raw) else {
            return f;
        };
        f.parsed = true;
        if let Some(addr) = message.from().and_then(first_address) {
            f.from_address = addr.0.clone();
            f.from_domain = addr.0.as_deref().and_then(|a| a.rsplit_once('@')).map(|(_, d)| d.to_owned());
            f.display_name = addr.1;
        }
        if let Some(reply_to) = message.reply_to() {
            for a in reply_to.iter() {
                if let Some((_, d)) = a.address().and_then(|a| a.rsplit_once('@')) {
                    f.reply_to_domains.push(d.to_ascii_lowercase());
                }
            }
        }
        f.subject = message.subject().unwrap_or_default().to_owned();
        f.has_date = message.date().is_some();
        f.has_message_id = message.message_id().is_some_and(|id| !id.trim().is_empty());
        for header in message.headers() {
            if header.name.as_str().eq_ignore_ascii_case("received") {
                let value = header.offset_start as usize..header.offset_end as usize;
                let raw_value = raw.get(value).map(String::from_utf8_lossy).unwrap_or_default();
                f.received.push(raw_value.split_whitespace().collect::<Vec<_>>().join(" "));
            }
        }
        for i in 0..message.text_body.len() {
            if f.text.len() >= MAX_TEXT {
                break;
            }
            if let Some(text) = message.body_text(i) {
                push_capped(&mut f.text, &text, MAX_TEXT);
                f.text.push('\n');
            }
        }
        // Links are looked for in the HTML parts themselves: for a message
        // in plain text, `html_body` names the text parts, which mail-parser
        // would turn into HTML only for them to be searched for none.
        let mut html = String::new();
        for id in &message.html_body {
            if html.len() >= MAX_HTML {
                break;
            }
            if let Some(PartType::Html(part)) = message.part(*id).map(|p| &p.body) {
                push_capped(&mut html, part, MAX_HTML);
            }
        }
        f.links = links(&html);
        f.gtube = f.gtube || contains(f.text.as_bytes(), GTUBE.as_bytes());
        let mut hosts: Vec<String> = f.links.iter().map(|l| l.host.clone()).filter(|h| !h.is_empty()).collect();
        hosts.extend(url_hosts(&f.text));
        hosts.sort();
        hosts.dedup();
        hosts.truncate(MAX_LINKS);
        f.url_hosts = hosts;
        for part in message.attachments().take(MAX_ATTACHMENTS) {
            if let Some(name) = part.attachment_name() {
                f.attachment_names.push(name.to_owned());
            }
        }
        f
    }
}

/// The address (lower-case) and display name of the first mailbox.
fn first_address(address: &Address<'_>) -> Option<(Option<String>, Option<String>)> {
    let first = address.first()?;
    let email = first.address().map(|a| a.trim().to_ascii_lowercase()).filter(|a| !a.is_empty());
    let name = first.name().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    Some((email, name))
}

fn push_capped(out: &mut String, text: &str, cap: usize) {
    let room = cap.saturating_sub(out.len());
    if text.len() <= room {
        out.push_str(text);
    } else {
        let mut end = room;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        out.push_str(&text[..end]);
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// The `<a href>` links of `html`: a forgiving scan, not a parser (the
/// webmail's sanitiser is the parser; here only text and target matter).
pub fn links(html: &str) -> Vec<Link> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while out.len() < MAX_LINKS {
        let Some(start) = lower[at..].find("<a").map(|i| at + i) else { break };
        let after = start + 2;
        if !lower[after..].starts_with(|c: char| c.is_ascii_whitespace()) {
            at = after;
            continue;
        }
        let Some(tag_end) = lower[after..].find('>').map(|i| after + i) else { break };
        let tag = &html[after..tag_end];
        let close = lower[tag_end..].find("</a").map_or(lower.len(), |i| tag_end + i);
        let text = strip_tags(&html[tag_end + 1..close.max(tag_end + 1)]);
        let host = href(tag).map(|h| url_host(&h)).unwrap_or_default();
        out.push(Link { text, host });
        at = close.max(tag_end + 1);
    }
    out
}

/// The value of the `href` attribute of a tag's inside.
fn href(tag: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("href").map(|i| from + i) {
        from = i + 4;
        let before_ok = i == 0 || lower[..i].ends_with(|c: char| c.is_ascii_whitespace());
        let rest = lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value_start = tag.len() - rest.len() + 1;
        let value = tag[value_start..].trim_start();
        let out = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
            _ => value.split(|c: char| c.is_ascii_whitespace()).next().unwrap_or(""),
        };
        return Some(decode_entities(out));
    }
    None
}

fn decode_entities(s: &str) -> String {
    s.replace("&amp;", "&").replace("&#47;", "/").replace("&#x2f;", "/").replace("&#58;", ":")
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    decode_entities(&out).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The host of an http(s) URL, lower-case, without `user@` or port; empty
/// for anything else (mailto:, relative links).
pub fn url_host(url: &str) -> String {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("http://").or_else(|| lower.strip_prefix("https://")) else {
        return String::new();
    };
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host.split(':').next().unwrap_or("");
    host.trim_end_matches('.').to_owned()
}

/// What ends a word of plain text, for [`url_hosts`].
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '<' | '>' | '"' | '(' | ')')
}

/// Hosts of the http(s) URLs written in plain text: the words (runs of
/// characters between [`ends_word`] ones) holding `://`. Only the places
/// of `://` are visited (a SIMD search), then their words' bounds.
fn url_hosts(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut done_to = 0;
    for at in memchr::memmem::find_iter(text.as_bytes(), b"://") {
        if at < done_to {
            continue; // a second `://` in a word already read
        }
        let start = text[..at].char_indices().rev().find(|(_, c)| ends_word(*c)).map_or(0, |(i, c)| i + c.len_utf8());
        let end = text[at..].char_indices().find(|(_, c)| ends_word(*c)).map_or(text.len(), |(i, _)| at + i);
        done_to = end;
        let word = &text[start..end];
        let lower = word.to_ascii_lowercase();
        if let Some(i) = lower.find("http://").or_else(|| lower.find("https://")) {
            let host = url_host(&word[i..]);
            if !host.is_empty() {
                out.push(host);
            }
        }
        if out.len() >= MAX_LINKS {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_text_and_real_host() {
        let html = r#"<p>Voir <a href="https://evil.example/login">https://www.ac-demo.fr</a> et
            <A class=x HREF=http://ac-demo.fr@phish.example:8080/x>ici</A> <a name="n">ancre</a>"#;
        let l = links(html);
        assert_eq!(l[0], Link { text: "https://www.ac-demo.fr".into(), host: "evil.example".into() });
        assert_eq!(l[1], Link { text: "ici".into(), host: "phish.example".into() });
        assert_eq!(l[2].host, "");
    }

    #[test]
    fn a_whole_message_is_read() {
        let raw = b"From: \"Service informatique\" <DSI@Ac-Dem0.fr>\r\nReply-To: x@other.example\r\n\
Subject: =?utf-8?q?Votre_compte_va_=C3=AAtre_suspendu?=\r\nContent-Type: text/html\r\n\r\n\
<p>Cliquez <a href=\"http://login.example/\">ici</a> XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X</p>";
        let f = Features::extract(raw);
        assert!(f.parsed && f.gtube);
        assert_eq!(f.from_address.as_deref(), Some("dsi@ac-dem0.fr"));
        assert_eq!(f.from_domain.as_deref(), Some("ac-dem0.fr"));
        assert_eq!(f.display_name.as_deref(), Some("Service informatique"));
        assert_eq!(f.reply_to_domains, ["other.example"]);
        assert_eq!(f.subject, "Votre compte va être suspendu");
        assert!(!f.has_date && !f.has_message_id);
        assert_eq!(f.url_hosts, ["login.example"]);
        assert!(f.text.contains("Cliquez"), "{}", f.text);
    }

    #[test]
    fn bad_input_is_bounded() {
        // A thousand nested multiparts, malformed base64, a huge line.
        let mut raw = String::from("From: a@b.example\r\nSubject: x\r\n");
        for i in 0..1000 {
            raw.push_str(&format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"));
        }
        raw.push_str("Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not*base64===\r\n");
        raw.push_str(&"A".repeat(2 * MAX_TEXT));
        let f = Features::extract(raw.as_bytes());
        assert!(f.text.len() <= MAX_TEXT + 1);
        assert_eq!(f.from_domain.as_deref(), Some("b.example"));
        // Not a message at all.
        let f = Features::extract(&[0xff, 0xfe, 0, 1, 2]);
        assert!(f.from_address.is_none() && !f.gtube);
    }

    /// The words of `text` holding `://`, found the obvious way: what
    /// [`url_hosts`] must agree with.
    fn url_hosts_by_splitting(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for word in text.split(ends_word).filter(|w| w.contains("://")) {
            let lower = word.to_ascii_lowercase();
            if let Some(i) = lower.find("http://").or_else(|| lower.find("https://")) {
                let host = url_host(&word[i..]);
                if !host.is_empty() {
                    out.push(host);
                }
            }
        }
        out
    }

    #[test]
    fn url_hosts_are_the_words_holding_a_scheme() {
        for text in [
            "Voir https://www.ac-demo.fr/x et (http://Evil.Example:8080/login) ou <https://a.example>",
            "\u{a0}https://nbsp.example\u{a0}texte «https://guillemets.example»",
            "deux://dans https://un.example/?r=http://autre.example mot",
            "ftp://pas.http.example http:// https://é.example/ú",
            "://début https://fin.example",
            "",
        ] {
            assert_eq!(url_hosts(text), url_hosts_by_splitting(text), "{text}");
        }
        assert_eq!(url_hosts("Voir https://www.ac-demo.fr/x"), ["www.ac-demo.fr"]);
    }

    #[test]
    fn an_archive_is_only_a_name() {
        let raw = b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\n\
Content-Type: text/plain\r\n\r\nHello\r\n--z\r\nContent-Type: application/zip\r\n\
Content-Disposition: attachment; filename=\"bombe.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n--z--\r\n";
        let f = Features::extract(raw);
        assert_eq!(f.attachment_names, ["bombe.zip"]);
    }
}
