//! Mail content made safe to show: HTML bodies cleaned with ammonia, plain
//! text escaped with its links made clickable, attachment names cleaned.
//!
//! The cleaned HTML is shown in a sandboxed frame (no scripts) whose CSP
//! allows no script either; this module is the first of those three walls,
//! so it keeps only a list of harmless tags, attributes and style
//! properties, links to `http`, `https` and `mailto` only, and no remote
//! image unless the reader asked for them (and then only over HTTPS).

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// An HTML body after cleaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanHtml {
    pub html: String,
    /// Remote images were left out (the page offers to show them).
    pub blocked_images: bool,
    /// Links whose text names another domain than their target ([`super::links`]).
    pub suspicious: Vec<super::links::Mismatch>,
}

/// Style properties kept in `style` attributes: layout and typography, none
/// that can load anything or move content outside its box.
const STYLE_PROPERTIES: &[&str] = &[
    "color",
    "background-color",
    "font-weight",
    "font-style",
    "font-size",
    "font-family",
    "text-align",
    "text-decoration",
    "text-transform",
    "line-height",
    "vertical-align",
    "white-space",
    "width",
    "max-width",
    "min-width",
    "height",
    "margin",
    "margin-top",
    "margin-bottom",
    "margin-left",
    "margin-right",
    "padding",
    "padding-top",
    "padding-bottom",
    "padding-left",
    "padding-right",
    "border",
    "border-top",
    "border-bottom",
    "border-left",
    "border-right",
    "border-collapse",
    "border-spacing",
    "border-color",
    "border-width",
    "border-style",
    "border-radius",
];

/// Cleans an HTML body. Remote images keep their address only when
/// `images` is true and they use HTTPS.
pub fn clean_html(html: &str, images: bool) -> CleanHtml {
    let blocked = Arc::new(AtomicBool::new(false));
    let flag = blocked.clone();
    let mut b = ammonia::Builder::default();
    b.url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("a", "target", "_blank")
        .add_generic_attributes(["style"])
        .filter_style_properties(STYLE_PROPERTIES.iter().copied().collect())
        .rm_tags(["map", "area"])
        .add_clean_content_tags(["title"])
        .strip_comments(true)
        .attribute_filter(move |element, attribute, value| filter_attribute(element, attribute, value, images, &flag));
    let (html, suspicious) = super::links::mark_links(&b.clean(html).to_string());
    CleanHtml { html, blocked_images: blocked.load(Ordering::Relaxed), suspicious }
}

fn filter_attribute<'u>(
    element: &str,
    attribute: &str,
    value: &'u str,
    images: bool,
    blocked: &AtomicBool,
) -> Option<Cow<'u, str>> {
    match (element, attribute) {
        ("img", "src") => {
            let v = value.trim().to_ascii_lowercase();
            if v.starts_with("https://") || v.starts_with("http://") || v.starts_with("//") {
                if images && v.starts_with("https://") {
                    return Some(Cow::Borrowed(value));
                }
                blocked.store(true, Ordering::Relaxed);
            }
            // Inline (cid:) and data: images are left out in this version.
            None
        }
        (_, "style") => {
            // Belt and braces over the property list: nothing that loads or
            // escapes (CSS escapes could spell any of these).
            let v = value.to_ascii_lowercase();
            let risky = ["url(", "expression", "\\", "javascript", "behavior", "@import", "-moz-binding"];
            if risky.iter().any(|r| v.contains(r)) { None } else { Some(Cow::Borrowed(value)) }
        }
        _ => Some(Cow::Borrowed(value)),
    }
}

/// Plain text as HTML: everything escaped, `http(s)://` links made
/// clickable (opening in a new tab, without referrer), runs of quoted lines
/// (`> ...`) in a `blockquote class="citation"`. Meant for a
/// `white-space: pre-wrap` element (long lines wrap there).
pub fn text_to_html(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let quoted = |l: &str| l.trim_start().starts_with('>');
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (i, line) in lines.iter().enumerate() {
        let q = quoted(line);
        if q && (i == 0 || !quoted(lines[i - 1])) {
            out.push_str("<blockquote class=\"citation\">");
        }
        out.push_str(&linkify(line));
        match lines.get(i + 1) {
            // A block starts or ends the line by itself.
            Some(next) if quoted(next) == q => out.push('\n'),
            Some(_) if q => out.push_str("</blockquote>"),
            Some(_) => {}
            None if q => out.push_str("</blockquote>"),
            None => {}
        }
    }
    out
}

/// One line of plain text as HTML, links made clickable.
fn linkify(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut rest = text;
    while let Some(start) = find_link(rest) {
        escape_into(&mut out, &rest[..start]);
        let tail = &rest[start..];
        let end = tail.find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`')).unwrap_or(tail.len());
        let mut link = &tail[..end];
        // Sentence punctuation after a link is not part of it.
        while let Some(last) = link.chars().last() {
            if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | ')' | ']' | '\'' | '»') {
                link = &link[..link.len() - last.len_utf8()];
            } else {
                break;
            }
        }
        let scheme_len = if link.starts_with("https://") { 8 } else { 7 };
        if link.len() <= scheme_len {
            escape_into(&mut out, &tail[..link.len().max(1)]);
            rest = &tail[link.len().max(1)..];
            continue;
        }
        out.push_str("<a href=\"");
        escape_into(&mut out, link);
        out.push_str("\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">");
        escape_into(&mut out, link);
        out.push_str("</a>");
        rest = &tail[link.len()..];
    }
    escape_into(&mut out, rest);
    out
}

/// Where the next `http://` or `https://` starts, at a word boundary.
fn find_link(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find("http").map(|i| i + from) {
        let boundary = s[..i].chars().last().is_none_or(|c| !c.is_alphanumeric());
        let tail = &s[i..];
        if boundary && (tail.starts_with("http://") || tail.starts_with("https://")) {
            return Some(i);
        }
        from = i + 4;
    }
    None
}

/// Escapes `s` for HTML text and attribute values.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// Characters that reorder text (bidirectional overrides and isolates,
/// marks): `facture\u{202E}fdp.exe` would read as "facture" + "exe.pdf".
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A name, subject or preview as shown: without the bidirectional controls
/// that could make « Facture \u{202E}fdp.exe » read « Facture exe.pdf » and
/// reverse the text beside it.
pub fn shown(s: &str) -> String {
    s.chars().filter(|c| !is_bidi_control(*c)).collect()
}

/// Longest file name kept, in characters.
const MAX_NAME_CHARS: usize = 150;

/// A file name safe to offer for download: no directory part, no path
/// separators, no control or reordering characters, no leading dots, at
/// most 150 characters; "piece-jointe" when nothing is left.
pub fn clean_filename(name: &str) -> String {
    // Keep the last path component only (both separators), then drop what is left of them.
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c) && !matches!(c, '/' | '\\' | '\u{FEFF}' | '\u{200B}'))
        .collect();
    let trimmed = cleaned.trim().trim_start_matches(['.', ' ']).trim_end_matches(['.', ' ']);
    let mut out: String = trimmed.chars().take(MAX_NAME_CHARS).collect();
    if out.is_empty() {
        out = "piece-jointe".to_owned();
    }
    out
}

/// The `Content-Disposition` value for downloading `name` (already
/// cleaned): an ASCII fallback and the UTF-8 name (RFC 6266).
pub fn content_disposition(name: &str) -> String {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Most bytes of a body the reading page shows (HTML source or plain text).
/// A 10 MB body is cleaned and laid out in full by an old school computer's
/// browser for tens of seconds; beyond this the page shows the beginning and
/// offers the whole message as a download.
pub const DISPLAY_LIMIT: usize = 512 * 1024;

/// The part of `body` the page shows, and whether it was cut: all of it
/// within [`DISPLAY_LIMIT`], otherwise its beginning, cut on a character
/// boundary and, where one is near, before a tag (HTML) or after a line
/// (text). Whatever is cut off, what remains still goes through
/// [`clean_html`] or [`text_to_html`].
pub fn shown_part(body: &str, html: bool) -> (&str, bool) {
    if body.len() <= DISPLAY_LIMIT {
        return (body, false);
    }
    let mut end = DISPLAY_LIMIT;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    let head = &body[..end];
    let near = end.saturating_sub(16 * 1024);
    let better = if html { head.rfind('<') } else { head.rfind('\n').map(|i| i + 1) };
    (better.filter(|&i| i > near).map_or(head, |i| &head[..i]), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hostile HTML seen in the wild or in XSS cheat sheets.
    const CORPUS: &[&str] = &[
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<scr<script>ipt>alert(1)</scr</script>ipt>",
        "<img src=x onerror=alert(1)>",
        "<body onload=alert(1)>",
        "<div onmouseover=\"alert(1)\">survol</div>",
        "<a href=\"javascript:alert(1)\">clic</a>",
        "<a href=\"JaVaScRiPt:alert(1)\">clic</a>",
        "<a href=\"  javascript:alert(1)\">clic</a>",
        "<a href=\"jav&#x09;ascript:alert(1)\">clic</a>",
        "<a href=\"java\u{0}script:alert(1)\">clic</a>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">clic</a>",
        "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
        "<iframe src=\"javascript:alert(1)\"></iframe>",
        "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
        "<object data=\"x.swf\"></object><embed src=\"x.swf\">",
        "<svg onload=alert(1)><script>alert(1)</script></svg>",
        "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
        "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<math href=\"javascript:alert(1)\">CLICKME</math>",
        "<form action=\"javascript:alert(1)\"><button>go</button></form>",
        "<input onfocus=alert(1) autofocus>",
        "<div style=\"width: expression(alert(1))\">ie</div>",
        "<div style=\"background-image: url(javascript:alert(1))\">bg</div>",
        "<div style=\"color: red; background: url(https://tracker.example/p.gif)\">bg</div>",
        "<div style=\"-moz-binding: url(x.xml#xss)\">moz</div>",
        "<style>body{background:url(javascript:alert(1))}</style><p>x</p>",
        "<link rel=stylesheet href=\"https://evil.example/x.css\">",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
        "<base href=\"javascript:alert(1)//\">",
        "<p <script>alert(1)</script>",
        "<<img src=x onerror=alert(1)//<",
        "<img src=\"x\" onerror=\"alert(1)\"",
        "</title><script>alert(1)</script>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
        "<details open ontoggle=alert(1)>",
        "<video><source onerror=alert(1)></video>",
        "<a href=\"vbscript:msgbox(1)\">vb</a>",
        "<table background=\"javascript:alert(1)\"><tr><td>t</td></tr></table>",
    ];

    fn assert_harmless(out: &str, input: &str) {
        let lower = out.to_ascii_lowercase();
        for bad in [
            "<script",
            "javascript:",
            "vbscript:",
            "data:",
            "<iframe",
            "<object",
            "<embed",
            "<svg",
            "<math",
            "<form",
            "<input",
            "<style",
            "<link",
            "<meta",
            "<base",
            "expression(",
            "url(",
            "-moz-binding",
            "srcdoc",
        ] {
            assert!(!lower.contains(bad), "{bad:?} survived in {out:?} (from {input:?})");
        }
        // No event handler attribute anywhere: ` on...=` inside a tag.
        let mut in_tag = false;
        let bytes = lower.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'<' => in_tag = true,
                b'>' => in_tag = false,
                b' ' | b'\t' | b'\n' | b'/' if in_tag => {
                    let rest = &lower[i + 1..];
                    let name: String = rest.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
                    assert!(
                        !(name.starts_with("on") && rest[name.len()..].starts_with('=')),
                        "handler survived in {out:?} (from {input:?})"
                    );
                }
                _ => {}
            }
        }
    }

    #[test]
    fn xss_corpus_is_harmless() {
        for input in CORPUS {
            for images in [false, true] {
                let out = clean_html(input, images);
                assert_harmless(&out.html, input);
            }
        }
    }

    #[test]
    fn ordinary_mail_keeps_its_look() {
        let out = clean_html(
            "<table><tr><td style=\"color: #123456; font-weight: bold\">Bonjour</td></tr></table>\
             <p><a href=\"https://www.education.gouv.fr/\">site</a> <b>gras</b></p>",
            false,
        );
        assert!(out.html.contains("color:#123456") || out.html.contains("color: #123456"), "{}", out.html);
        assert!(out.html.contains("<b>gras</b>"));
        assert!(out.html.contains("href=\"https://www.education.gouv.fr/\""));
        assert!(out.html.contains("target=\"_blank\"") && out.html.contains("noopener"));
        assert!(!out.blocked_images);
    }

    #[test]
    fn remote_images_are_blocked_unless_allowed_over_https() {
        let html = "<img src=\"https://tracker.example/p.gif\" alt=\"logo\"><img src=\"http://plain.example/a.png\">";
        let blocked = clean_html(html, false);
        assert!(blocked.blocked_images);
        assert!(
            !blocked.html.contains("tracker.example") && !blocked.html.contains("plain.example"),
            "{}",
            blocked.html
        );
        assert!(blocked.html.contains("alt=\"logo\""));
        let shown = clean_html(html, true);
        assert!(shown.html.contains("src=\"https://tracker.example/p.gif\""), "{}", shown.html);
        assert!(!shown.html.contains("plain.example"), "plain HTTP stays out: {}", shown.html);
        assert!(!clean_html("<img src=\"cid:logo@x\">", false).blocked_images);
    }

    #[test]
    fn the_title_is_not_shown_as_text() {
        let out = clean_html("<html><head><title>PWNED</title></head><body><p>corps</p></body></html>", false);
        assert_eq!(out.html, "<p>corps</p>");
    }

    #[test]
    fn relative_links_are_dropped() {
        let out = clean_html("<a href=\"/courrier/1/2\">ici</a><a href=\"?x=1\">là</a>", false);
        assert!(!out.html.contains("href"), "{}", out.html);
    }

    #[test]
    fn broken_html_is_closed() {
        let out = clean_html("<div><p>ouvert <b>gras <i>italique", false);
        assert_eq!(out.html.matches("<b>").count(), out.html.matches("</b>").count(), "{}", out.html);
        assert!(out.html.ends_with("</div>"), "{}", out.html);
    }

    #[test]
    fn text_is_escaped_and_links_clickable() {
        let html = text_to_html("Voir https://exemple.fr/a?b=1&c=2. <script>alert(1)</script> \"q\"");
        assert_eq!(
            html,
            "Voir <a href=\"https://exemple.fr/a?b=1&amp;c=2\" rel=\"noopener noreferrer nofollow\" \
             target=\"_blank\">https://exemple.fr/a?b=1&amp;c=2</a>. &lt;script&gt;alert(1)&lt;/script&gt; \
             &quot;q&quot;"
        );
        // Only http(s) becomes a link, and only at a word boundary.
        let html = text_to_html("javascript:alert(1) xhttp://a.fr http:// (http://b.fr)");
        assert!(!html.contains("<a href=\"javascript"), "{html}");
        assert!(!html.contains("href=\"http://a.fr"), "{html}");
        assert!(html.contains("href=\"http://b.fr\""), "{html}");
        assert!(html.contains("http://"), "{html}");
        // A quote cannot end the attribute.
        let html = text_to_html("https://a.fr/\"onmouseover=alert(1)");
        assert!(html.contains("href=\"https://a.fr/\""), "{html}");
        assert!(html.contains("&quot;onmouseover"), "{html}");
    }

    #[test]
    fn quoted_lines_are_grouped_and_links_kept() {
        let html = text_to_html("Bonjour,\r\n> Le 3, Paul a écrit :\r\n>> voir https://a.fr\r\nMerci\r\n> fin");
        assert_eq!(
            html,
            "Bonjour,<blockquote class=\"citation\">&gt; Le 3, Paul a écrit :\n&gt;&gt; voir <a href=\"https://a.fr\" \
             rel=\"noopener noreferrer nofollow\" target=\"_blank\">https://a.fr</a></blockquote>Merci\
             <blockquote class=\"citation\">&gt; fin</blockquote>"
        );
        assert_eq!(text_to_html("a\n\nb"), "a\n\nb");
        assert_eq!(text_to_html("x > y"), "x &gt; y", "only a leading > quotes");
    }

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\Users\\x\\rapport.pdf"), "rapport.pdf");
        assert_eq!(clean_filename("facture\u{202E}fdp.exe"), "facturefdp.exe");
        assert_eq!(clean_filename("a\u{2066}b\u{2069}c\u{200F}.txt"), "abc.txt");
        assert_eq!(clean_filename("ligne\r\nX-Injected: 1.txt"), "ligneX-Injected: 1.txt");
        assert_eq!(clean_filename("..."), "piece-jointe");
        assert_eq!(clean_filename(".bashrc"), "bashrc");
        assert_eq!(clean_filename(""), "piece-jointe");
        assert_eq!(clean_filename("/"), "piece-jointe");
        assert_eq!(clean_filename("Compte rendu élève.pdf"), "Compte rendu élève.pdf");
        assert_eq!(clean_filename(&"é".repeat(400)).chars().count(), 150);
    }

    #[test]
    fn long_bodies_are_cut_for_display_on_clean_boundaries() {
        assert_eq!(shown_part("<p>court</p>", true), ("<p>court</p>", false));
        let html = "<p>é<b>lourd</b></p>".repeat(DISPLAY_LIMIT / 10);
        let (shown, cut) = shown_part(&html, true);
        assert!(cut && shown.len() <= DISPLAY_LIMIT && shown.len() > DISPLAY_LIMIT - 32, "{}", shown.len());
        assert!(shown.ends_with('>') && html.starts_with(shown), "cut before a tag");
        // Still cleaned afterwards: an open tag at the cut is closed by the parser.
        assert!(clean_html(shown, false).html.ends_with("</p>"));
        let text = "ligne accentuée\n".repeat(DISPLAY_LIMIT / 10);
        let (shown, cut) = shown_part(&text, false);
        assert!(cut && shown.ends_with("accentuée\n"));
        // No boundary nearby: cut on a character boundary.
        let one_line = "é".repeat(DISPLAY_LIMIT);
        let (shown, cut) = shown_part(&one_line, false);
        assert!(cut && shown.len() == DISPLAY_LIMIT && shown.chars().all(|c| c == 'é'));
    }

    #[test]
    fn content_disposition_has_an_ascii_fallback() {
        assert_eq!(
            content_disposition("élève \"1\".pdf"),
            "attachment; filename=\"_l_ve _1_.pdf\"; filename*=UTF-8''%C3%A9l%C3%A8ve%20%221%22.pdf"
        );
    }
}
