//! Links whose visible text names another place than where they lead.
//!
//! A phishing mail shows `https://www.impots.gouv.fr` and links to
//! `https://impots-remboursement.example`. After ammonia has cleaned a body,
//! every link gets its real destination as `title` (shown on hover), and a
//! link whose text looks like an address or a domain different from the
//! target's domain is marked (`class="ardoise-trompeur"`) and listed, so the
//! reading page can warn above the message.
//!
//! The input is ammonia's serialisation (html5ever): every attribute is
//! `name="value"` with `"` escaped, text has `<` escaped, comments are
//! gone. The small tokenizer below relies on exactly that and nothing more.

use ammonia::Url;

use super::sanitize::escape_into;

/// A link that does not go where its text says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The visible text (trimmed, at most 200 characters).
    pub text: String,
    /// The domain the text names.
    pub shown: String,
    /// The domain the link really leads to.
    pub real: String,
    /// The whole target.
    pub href: String,
}

/// Class given to deceptive links (styled by the frame).
pub const CLASS: &str = "ardoise-trompeur";

/// A link being read: its attributes, its text, and everything inside it
/// as written (kept aside until its opening tag can be written).
type OpenLink = (Vec<(String, String)>, String, String);

/// Most deceptive links listed for one message.
const MAX_LISTED: usize = 50;

/// Adds `title` (the real target) to every link of cleaned HTML, marks the
/// deceptive ones, and lists them. Linear in the input.
pub fn mark_links(html: &str) -> (String, Vec<Mismatch>) {
    let mut out = String::with_capacity(html.len() + html.len() / 16);
    let mut found = Vec::new();
    let mut open: Option<OpenLink> = None;
    let mut rest = html;
    while !rest.is_empty() {
        if rest.starts_with('<') {
            let end = tag_end(rest);
            let tag = &rest[..end];
            rest = &rest[end..];
            if is_open_a(tag) {
                if let Some(prev) = open.take() {
                    close(&mut out, prev, &mut found);
                }
                open = Some((attributes(tag), String::new(), String::new()));
            } else if tag.eq_ignore_ascii_case("</a>")
                && let Some(prev) = open.take()
            {
                close(&mut out, prev, &mut found);
                out.push_str(tag);
            } else if let Some((_, _, inner)) = open.as_mut() {
                inner.push_str(tag);
            } else {
                out.push_str(tag);
            }
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..end];
            match open.as_mut() {
                Some((_, t, inner)) => {
                    t.push_str(text);
                    inner.push_str(text);
                }
                None => out.push_str(text),
            }
            rest = &rest[end..];
        }
    }
    if let Some(prev) = open.take() {
        close(&mut out, prev, &mut found);
    }
    (out, found)
}

/// Length of the tag at the start of `s` (up to its `>` outside quotes).
fn tag_end(s: &str) -> usize {
    let mut quoted = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            '"' => quoted = !quoted,
            '>' if !quoted => return i + 1,
            _ => {}
        }
    }
    s.len()
}

fn is_open_a(tag: &str) -> bool {
    let b = tag.as_bytes();
    b.len() >= 3 && b[1].eq_ignore_ascii_case(&b'a') && (b[2] == b' ' || b[2] == b'>')
}

/// `name="value"` pairs of a tag, values unescaped.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let inner = tag.trim_start_matches('<').trim_end_matches('>');
    let mut rest = inner.split_once(' ').map_or("", |(_, r)| r);
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let name_end = rest.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = &rest[name_end..];
        if let Some(r) = rest.strip_prefix("=\"") {
            let close = r.find('"').unwrap_or(r.len());
            out.push((name, unescape(&r[..close])));
            rest = r.get(close + 1..).unwrap_or("");
        } else {
            out.push((name, String::new()));
        }
    }
    out
}

/// The few entities html5ever writes.
fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Writes the link, now that its text is known: its opening tag, then what it holds.
fn close(out: &mut String, (attrs, text, inner): OpenLink, found: &mut Vec<Mismatch>) {
    let href = attrs.iter().find(|(n, _)| n == "href").map(|(_, v)| v.clone());
    let text = unescape(&text);
    let mismatch = href.as_deref().and_then(|h| mismatch(&text, h));
    let mut tag = String::from("<a");
    for (name, value) in attrs.iter().filter(|(n, _)| n != "title" && n != "class") {
        tag.push(' ');
        tag.push_str(name);
        tag.push_str("=\"");
        escape_into(&mut tag, value);
        tag.push('"');
    }
    if let Some(h) = &href {
        tag.push_str(" title=\"");
        escape_into(&mut tag, h);
        tag.push('"');
    }
    if let Some(m) = mismatch {
        tag.push_str(&format!(" class=\"{CLASS}\""));
        if found.len() < MAX_LISTED {
            found.push(m);
        }
    }
    tag.push('>');
    out.push_str(&tag);
    out.push_str(&inner);
}

/// The domain of an `http(s)` address (IDNA-encoded, lower case, without
/// `www.`), or `None` for anything else.
fn host_of(url: &str) -> Option<String> {
    let u = Url::parse(url.trim()).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    Some(host.strip_prefix("www.").unwrap_or(&host).to_owned())
}

/// Extensions that make `rapport.pdf` a file name, not a domain.
const FILE_EXTENSIONS: &[&str] = &[
    "pdf", "doc", "docx", "odt", "ods", "odp", "xls", "xlsx", "ppt", "pptx", "txt", "csv", "jpg", "jpeg", "png", "gif",
    "zip", "html", "htm", "mp3", "mp4", "ics", "svg", "webp", "rtf", "exe",
];

/// The domain a link's text names, when the whole text is an address
/// (`https://…`, `www.…`) or a bare domain (`impots.gouv.fr/espace`).
pub fn shown_host(text: &str) -> Option<String> {
    let t = text.trim().trim_matches(|c: char| matches!(c, '<' | '>' | '«' | '»' | '"' | '\'' | '(' | ')' | '[' | ']'));
    let t = t.trim().trim_end_matches(['.', ',', ';', ':', '!', '?']);
    if t.is_empty() || t.chars().any(char::is_whitespace) {
        return None;
    }
    let lower = t.to_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return host_of(t);
    }
    if lower.starts_with("www.") {
        return host_of(&format!("http://{t}"));
    }
    // A bare domain: labels of letters, digits and hyphens, a final label of letters.
    let host_part = lower.split(['/', '?', '#']).next().unwrap_or("");
    if host_part.contains('@') || host_part.contains(':') {
        return None;
    }
    let labels: Vec<&str> = host_part.split('.').collect();
    let tld = labels.last().copied().unwrap_or("");
    let ok = labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
        && (2..=24).contains(&tld.chars().count())
        && tld.chars().all(char::is_alphabetic)
        && !FILE_EXTENSIONS.contains(&tld);
    if ok { host_of(&format!("http://{t}")) } else { None }
}

/// Whether a link's visible `text` names a domain other than the one of
/// `href`. The target may be the named domain or one of its subdomains
/// (`ac-demo.fr` leading to `ent.ac-demo.fr` is fine); anything else is not,
/// `paypal.com` leading to `paypal.com.example.net` included.
pub fn mismatch(text: &str, href: &str) -> Option<Mismatch> {
    let shown = shown_host(text)?;
    let real = host_of(href)?;
    if real == shown || real.ends_with(&format!(".{shown}")) {
        return None;
    }
    Some(Mismatch { text: text.trim().chars().take(200).collect(), shown, real, href: href.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::sanitize::clean_html;

    #[test]
    fn a_link_naming_another_domain_is_flagged() {
        let m = mismatch("https://www.impots.gouv.fr", "https://impots-remboursement.example/login").unwrap();
        assert_eq!((m.shown.as_str(), m.real.as_str()), ("impots.gouv.fr", "impots-remboursement.example"));
        assert!(mismatch("paypal.com", "https://paypal.com.evil.example/").is_some());
        assert!(mismatch("www.ac-demo.fr", "https://ac-demo.fr@evil.example/").is_some(), "user info is not the host");
        assert!(mismatch("ENT.ac-demo.fr/notes", "http://phish.example").is_some());
        assert!(mismatch("« education.gouv.fr »", "https://education-gouv.example").is_some());
        assert!(mismatch("https://bаnque.fr", "https://banque.fr").is_some(), "a Cyrillic а is another domain");
    }

    #[test]
    fn honest_links_are_not_flagged() {
        assert_eq!(mismatch("https://ent.ac-demo.fr/odj", "https://ent.ac-demo.fr/odj?x=1"), None);
        assert_eq!(mismatch("ac-demo.fr", "https://ent.ac-demo.fr/"), None, "a subdomain of the named one");
        assert_eq!(mismatch("www.education.gouv.fr", "https://education.gouv.fr/"), None);
        assert_eq!(mismatch("Cliquez ici", "https://evil.example/"), None, "not an address: nothing to compare");
        assert_eq!(mismatch("compte-rendu.pdf", "https://cloud.example/f/1"), None, "a file name");
        assert_eq!(mismatch("version 1.2", "https://x.example/"), None);
        assert_eq!(mismatch("claire@ac-demo.fr", "https://evil.example/"), None, "an address, not a site");
        assert_eq!(mismatch("paypal.com", "mailto:x@evil.example"), None, "not a web link");
    }

    #[test]
    fn cleaned_html_gets_titles_marks_and_a_list() {
        let html = "<p>Bonjour <a href=\"https://evil.example/a?b=1&amp;c=2\" title=\"Votre banque\">\
                    <b>www.banque.fr</b></a> et <a href=\"https://ent.ac-demo.fr/\">ENT</a>\
                    <img alt=\"<a href=x>\" src=\"data:,\"></p>";
        let clean = clean_html(html, false);
        assert_eq!(clean.suspicious.len(), 1);
        let m = &clean.suspicious[0];
        assert_eq!(
            (m.text.as_str(), m.real.as_str(), m.href.as_str()),
            ("www.banque.fr", "evil.example", "https://evil.example/a?b=1&c=2")
        );
        assert!(clean.html.contains("title=\"https://evil.example/a?b=1&amp;c=2\""), "{}", clean.html);
        assert!(!clean.html.contains("Votre banque"), "the sender's title is replaced");
        assert!(clean.html.contains(&format!("class=\"{CLASS}\"")));
        assert!(clean.html.contains("title=\"https://ent.ac-demo.fr/\">ENT</a>"), "{}", clean.html);
        assert!(
            clean
                .html
                .contains("<a href=\"https://ent.ac-demo.fr/\" target=\"_blank\" rel=\"noopener noreferrer nofollow\"")
        );
        assert_eq!(clean.html.matches("class=").count(), 1, "the honest link is not marked");
    }

    #[test]
    fn odd_markup_does_not_confuse_the_tokenizer() {
        let (out, found) = mark_links("<a href=\"https://a.example/\">a.example</a><abbr title=\"x\">y</abbr><a>z</a>");
        assert!(found.is_empty());
        assert!(out.contains("<abbr title=\"x\">y</abbr>"));
        assert!(out.ends_with("<a>z</a>"));
        let (out, found) = mark_links("<a href=\"https://evil.example/\">banque.fr");
        assert_eq!(found.len(), 1, "an unclosed link still counts");
        assert!(out.ends_with(">banque.fr"), "{out}");
        let many = "<a href=\"https://evil.example/\">banque.fr</a>".repeat(20_000);
        let (out, found) = mark_links(&many);
        assert_eq!((found.len(), out.matches(CLASS).count()), (MAX_LISTED, 20_000), "all marked, some listed");
    }

    /// Random markup made of the pieces that matter (tags, quotes, entities,
    /// multi-byte letters): never a panic, the same links out as in, and a
    /// second pass finds the same deceptive links.
    #[test]
    fn random_markup_keeps_its_links() {
        const PIECES: &[&str] = &[
            "<a href=\"https://evil.example/\">",
            "<a href=\"https://banque.fr/x\" title=\"t\">",
            "</a>",
            "<a>",
            "banque.fr",
            "www.banque.fr",
            " ",
            "é",
            "\u{202e}",
            "&amp;",
            "&quot;",
            "<b>",
            "</b>",
            "\"",
            ">",
            "<br>",
            "<img alt=\"<a href=x>\">",
            "https://",
            "evil.example",
            "ñ.fr",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut flagged = 0;
        for _ in 0..2_000 {
            let mut html = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            for _ in 0..(seed % 24) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                html.push_str(PIECES[(seed % PIECES.len() as u64) as usize]);
            }
            let (out, found) = mark_links(&html);
            assert_eq!(out.matches("<a").count(), html.matches("<a").count(), "{html}");
            let (again, found_again) = mark_links(&out);
            assert_eq!(found, found_again, "{html}");
            assert_eq!(again, out, "marking is stable: {html}");
            flagged += found.len();
        }
        assert!(flagged > 100, "the generator makes deceptive links: {flagged}");
    }
}
