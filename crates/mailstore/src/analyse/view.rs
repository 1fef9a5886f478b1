//! A message as a reader sees it: built from its bytes and the analysis
//! stored at delivery, so that the webmail reads the same MIME model as IMAP
//! (one structure, byte offsets into the blob) and never parses a message a
//! second time. What it does on demand is decode: a body part's transfer
//! encoding and charset, when that part is shown or downloaded.
//!
//! Which part is *the body* follows what mail clients show: in an
//! `alternative`, the HTML when there is one (else the plain text); in a
//! `mixed` or `related`, the first readable part. Everything else a person
//! may want (attachments, but also inline images, which the webmail's frame
//! does not display, and attached messages) is a [`File`].

use super::text::{decode_charset, decode_transfer, decoded_size};
use super::{Analysis, BodyPart, EnvelopeAddress, header, mime};

/// Encoded bytes decoded by [`MessageView::file_head`]: at least 48 decoded
/// bytes in base64 even with a line break every 76 characters.
const HEAD: usize = 128;

/// A message and its analysis.
#[derive(Debug, Clone)]
pub struct MessageView {
    analysis: Analysis,
    raw: Vec<u8>,
}

/// The body to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// An HTML document, decoded to UTF-8 (not cleaned: that is the reader's).
    Html(String),
    /// Plain text, decoded to UTF-8.
    Text(String),
}

/// A file of the message, numbered from 0 in the order of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// IMAP section of the part ("2", "1.3").
    pub section: String,
    /// Decoded file name, when the sender gave one.
    pub name: Option<String>,
    /// "type/subtype", lower-case.
    pub content_type: String,
    /// Decoded size in octets.
    pub size: usize,
    /// A whole attached message (`message/rfc822` or `message/global`).
    pub message: bool,
}

impl MessageView {
    /// The view of `raw`, with the analysis stored for it when there is one
    /// (a content stored by an older build may have none readable: it is
    /// analysed again then).
    pub fn new(raw: Vec<u8>, analysis: Option<Analysis>) -> MessageView {
        let analysis = analysis.unwrap_or_else(|| super::analyse(&raw));
        MessageView { analysis, raw }
    }

    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    /// The message as received.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    pub fn into_raw(self) -> Vec<u8> {
        self.raw
    }

    /// Decoded subject, "" when none.
    pub fn subject(&self) -> &str {
        &self.analysis.subject
    }

    pub fn from(&self) -> &[EnvelopeAddress] {
        &self.analysis.envelope.from
    }

    /// Reply-To, or From when there is none (RFC 9051's envelope rule).
    pub fn reply_to(&self) -> &[EnvelopeAddress] {
        &self.analysis.envelope.reply_to
    }

    pub fn to(&self) -> &[EnvelopeAddress] {
        &self.analysis.envelope.to
    }

    pub fn cc(&self) -> &[EnvelopeAddress] {
        &self.analysis.envelope.cc
    }

    /// The Date: header as unix seconds, when it parses.
    pub fn sent_date(&self) -> Option<i64> {
        self.analysis.sent_date
    }

    /// Message-ID without angle brackets.
    pub fn message_id(&self) -> Option<&str> {
        self.analysis.message_id.as_deref()
    }

    /// The first author's address, lower case, when it has a domain.
    pub fn sender(&self) -> Option<String> {
        let first = self.from().iter().find(|a| !a.is_group_start() && !a.is_group_end())?;
        let address = first.address();
        address.contains('@').then(|| address.trim().to_ascii_lowercase())
    }

    /// The ids of the References field, then of In-Reply-To when there
    /// is no References, without angle brackets (what an answer's own
    /// References starts with, RFC 5322 section 3.6.4).
    pub fn references(&self) -> Vec<String> {
        let fields = self.top_fields();
        let refs = fields.ids(&self.raw, header::Known::References);
        if refs.is_empty() { fields.ids(&self.raw, header::Known::InReplyTo) } else { refs }
    }

    /// The ids of In-Reply-To, without angle brackets.
    pub fn in_reply_to(&self) -> Vec<String> {
        self.top_fields().ids(&self.raw, header::Known::InReplyTo)
    }

    /// The first field named `name` of the message's header, unfolded and
    /// trimmed, as it was written (encoded words left as they are).
    pub fn header_raw(&self, name: &str) -> Option<String> {
        let fields = mime::top_fields(&self.raw);
        let f = fields.iter().find(|f| self.raw[f.name.clone()].eq_ignore_ascii_case(name.as_bytes()))?;
        Some(header::unfold(&self.raw[f.value.clone()]))
    }

    fn top_fields(&self) -> header::Fields {
        header::Fields::scan(&self.raw, &mime::top_fields(&self.raw))
    }

    /// The body to show, when the message has a readable one.
    pub fn body(&self) -> Option<Body> {
        let part = readable(&self.analysis.body)?;
        let text = self.text_of(part);
        Some(if part.subtype == "html" { Body::Html(text) } else { Body::Text(text) })
    }

    /// The plain text of the message: its text body, or its HTML body as
    /// text (for quoting in a reply).
    pub fn plain_text(&self) -> String {
        match self.body() {
            Some(Body::Text(t)) => t,
            Some(Body::Html(h)) => super::text::html_to_text(&h),
            None => String::new(),
        }
    }

    /// The plain text and the HTML alternative of a message written as the
    /// webmail writes them (a draft reopened): the text when there is a
    /// plain text body, the HTML when there is an HTML one.
    pub fn draft_texts(&self) -> (String, Option<String>) {
        let root = &self.analysis.body;
        let text = readable_as(root, "plain").filter(|p| p.subtype == "plain").map(|p| self.text_of(p));
        let html = readable_as(root, "html").filter(|p| p.subtype == "html").map(|p| self.text_of(p));
        (text.unwrap_or_default(), html)
    }

    /// The text of a part: transfer encoding and charset decoded.
    fn text_of(&self, part: &BodyPart) -> String {
        decode_charset(&decode_transfer(&part.encoding, &self.raw[part.offsets.body()]), part.param("charset"))
    }

    /// The files of the message, in its order.
    pub fn files(&self) -> Vec<File> {
        let body = readable(&self.analysis.body);
        let mut out = Vec::new();
        collect_files(&self.analysis.body, body, false, &mut Vec::new(), &self.raw, &mut out);
        out
    }

    /// The decoded bytes of the file `n` of [`MessageView::files`], with it.
    pub fn file(&self, n: usize) -> Option<(File, Vec<u8>)> {
        let file = self.files().into_iter().nth(n)?;
        let part = self.file_part(n)?;
        let bytes = decode_transfer(&part.encoding, &self.raw[part.offsets.body()]).into_owned();
        Some((file, bytes))
    }

    /// The first decoded bytes (a few dozen at least) of the file `n`: enough
    /// to recognise a file type by its signature without decoding it whole.
    pub fn file_head(&self, n: usize) -> Option<Vec<u8>> {
        let part = self.file_part(n)?;
        let body = &self.raw[part.offsets.body()];
        Some(decode_transfer(&part.encoding, &body[..body.len().min(HEAD)]).into_owned())
    }

    fn file_part(&self, n: usize) -> Option<&BodyPart> {
        let file = self.files().into_iter().nth(n)?;
        let path: Vec<u32> = file.section.split('.').filter_map(|s| s.parse().ok()).collect();
        self.analysis.body.section(&path)
    }

    /// The text of every `text/calendar` part and `.ics` file, decoded, at most `max`.
    pub fn calendars(&self, max: usize) -> Vec<String> {
        let mut out = Vec::new();
        calendar_parts(&self.analysis.body, &mut |part| {
            if out.len() < max {
                out.push(self.text_of(part));
            }
        });
        out
    }
}

/// The part to show of `part`: HTML preferred within an alternative, the
/// first readable part elsewhere; never inside an attached message.
fn readable(part: &BodyPart) -> Option<&BodyPart> {
    readable_as(part, "html")
}

/// [`readable`], with `prefer` ("html" or "plain") chosen in alternatives.
fn readable_as<'a>(part: &'a BodyPart, prefer: &str) -> Option<&'a BodyPart> {
    if part.is_multipart() {
        let mut found = part.children.iter().filter_map(|c| readable_as(c, prefer));
        if part.subtype == "alternative" {
            let all: Vec<&BodyPart> = found.collect();
            return all.iter().find(|p| p.subtype == prefer).or(all.first()).copied();
        }
        return found.next();
    }
    let text = part.media_type == "text" && matches!(part.subtype.as_str(), "plain" | "html");
    let disposition = part.disposition.as_ref().map(|d| d.kind.as_str());
    let attached = disposition == Some("attachment") || (part.file_name.is_some() && disposition != Some("inline"));
    (part.message.is_none() && text && !attached).then_some(part)
}

/// Every leaf that is neither the body nor another rendering of it (a text
/// part of an alternative), and every attached message, not looked into.
fn collect_files(
    part: &BodyPart,
    body: Option<&BodyPart>,
    in_alternative: bool,
    path: &mut Vec<u32>,
    raw: &[u8],
    out: &mut Vec<File>,
) {
    if part.is_multipart() {
        let alternative = part.subtype == "alternative";
        for (i, child) in part.children.iter().enumerate() {
            path.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
            collect_files(child, body, alternative, path, raw, out);
            path.pop();
        }
        return;
    }
    let is_body = body.is_some_and(|b| std::ptr::eq(b, part));
    let alternative_text = in_alternative && part.media_type == "text" && part.file_name.is_none();
    if is_body || alternative_text {
        return;
    }
    let section =
        if path.is_empty() { "1".to_owned() } else { path.iter().map(u32::to_string).collect::<Vec<_>>().join(".") };
    let message = part.media_type == "message" && matches!(part.subtype.as_str(), "rfc822" | "global");
    out.push(File {
        section,
        name: part.file_name.clone(),
        content_type: part.mime_type(),
        size: decoded_size(&part.encoding, &raw[part.offsets.body()]),
        message,
    });
}

fn calendar_parts<'a>(part: &'a BodyPart, f: &mut impl FnMut(&'a BodyPart)) {
    if part.is_multipart() {
        part.children.iter().for_each(|c| calendar_parts(c, f));
    } else if part.message.is_none() {
        let ics = part.file_name.as_deref().is_some_and(|n| n.to_ascii_lowercase().ends_with(".ics"));
        if part.mime_type() == "text/calendar" || ics {
            f(part);
        }
    }
}

/// "Name <address>, ..." of an address list, groups flattened.
pub fn display_addresses(list: &[EnvelopeAddress]) -> String {
    list.iter()
        .filter(|a| !a.is_group_start() && !a.is_group_end())
        .map(|a| match a.name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => format!("{n} <{}>", a.address()),
            _ => a.address(),
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(raw: &str) -> MessageView {
        MessageView::new(raw.as_bytes().to_vec(), None)
    }

    const NEWSLETTER: &str = "From: =?utf-8?q?Acad=C3=A9mie?= <lettre@ac-test.fr>\r\nTo: a@x.fr, Grp: b@x.fr, \"C\" <c@x.fr>;\r\n\
        Subject: Lettre\r\nMessage-ID: <m2@x>\r\nIn-Reply-To: <m1@x>\r\nReferences: <m0@x> <m1@x>\r\n\
        Content-Type: multipart/mixed; boundary=out\r\n\r\n--out\r\nContent-Type: multipart/alternative; boundary=alt\r\n\r\n\
        --alt\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
        R=E9union =\r\nlundi\r\n--alt\r\nContent-Type: multipart/related; boundary=rel\r\n\r\n--rel\r\n\
        Content-Type: text/html; charset=utf-8\r\n\r\n<p>Réunion <img src=\"cid:logo\"></p>\r\n--rel\r\n\
        Content-Type: image/png\r\nContent-ID: <logo>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--rel--\r\n\
        --alt--\r\n--out\r\nContent-Type: application/pdf; name=\"ordre du jour.pdf\"\r\nContent-Disposition: attachment\r\n\
        Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjcK\r\n--out\r\nContent-Type: message/rfc822\r\n\r\n\
        From: b@x.fr\r\nSubject: Avant\r\n\r\n<p>dedans</p>\r\n--out--\r\n";

    #[test]
    fn the_body_is_the_html_of_an_alternative_and_every_other_part_a_file() {
        let v = view(NEWSLETTER);
        assert_eq!(v.body(), Some(Body::Html("<p>Réunion <img src=\"cid:logo\"></p>".into())));
        assert_eq!(v.draft_texts().0, "Réunion lundi", "quoted-printable soft break and Latin-1 decoded");
        let files = v.files();
        let sections: Vec<_> = files.iter().map(|f| (f.section.as_str(), f.content_type.as_str(), f.size)).collect();
        assert_eq!(sections, [("1.2.2", "image/png", 8), ("2", "application/pdf", 9), ("3", "message/rfc822", 45)]);
        assert_eq!(files[1].name.as_deref(), Some("ordre du jour.pdf"));
        assert!(files[2].message && !files[1].message);
        assert_eq!(v.file(1).unwrap().1, b"%PDF-1.7\n");
        assert_eq!(v.file_head(0).unwrap(), b"\x89PNG\r\n\x1a\n");
        assert_eq!(v.file(2).unwrap().1, b"From: b@x.fr\r\nSubject: Avant\r\n\r\n<p>dedans</p>");
        assert!(v.file(3).is_none());
    }

    #[test]
    fn headers_read_from_the_stored_envelope() {
        let v = view(NEWSLETTER);
        assert_eq!(v.subject(), "Lettre");
        assert_eq!(display_addresses(v.from()), "Académie <lettre@ac-test.fr>");
        assert_eq!(display_addresses(v.to()), "a@x.fr, b@x.fr, C <c@x.fr>", "group markers are not people");
        assert_eq!(v.sender().as_deref(), Some("lettre@ac-test.fr"));
        assert_eq!(v.references(), ["m0@x", "m1@x"]);
        assert_eq!(v.in_reply_to(), ["m1@x"]);
        assert_eq!(v.message_id(), Some("m2@x"));
        assert_eq!(v.header_raw("subject").as_deref(), Some("Lettre"));
        assert_eq!(v.header_raw("X-Absent"), None);
        // Headers of a part are not the message's.
        assert_eq!(v.header_raw("Content-ID"), None);
    }

    #[test]
    fn a_plain_message_and_a_mixed_one_show_their_first_readable_part() {
        let plain = view("Subject: x\r\n\r\nBonjour\r\n");
        assert_eq!(plain.body(), Some(Body::Text("Bonjour\r\n".into())));
        assert!(plain.files().is_empty());
        let mixed = view(
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: image/jpeg\r\n\r\nJPG\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nTexte\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>2</p>\r\n--b--\r\n",
        );
        assert_eq!(mixed.body(), Some(Body::Text("Texte".into())));
        let types: Vec<_> = mixed.files().into_iter().map(|f| f.content_type).collect();
        assert_eq!(types, ["image/jpeg", "text/html"], "nothing the reader cannot see is lost");
        assert_eq!(mixed.plain_text(), "Texte");
        let only_html = view("Content-Type: text/html\r\n\r\n<p>Un <b>mot</b></p>");
        assert_eq!(only_html.plain_text(), "Un mot");
        assert_eq!(view("Content-Type: image/png\r\n\r\nPNG").body(), None);
    }

    #[test]
    fn calendars_come_from_parts_and_ics_files() {
        let v = view(
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/calendar; charset=utf-8\r\n\r\n\
             BEGIN:VCALENDAR\r\n--b\r\nContent-Type: application/octet-stream; name=rdv.ICS\r\n\
             Content-Transfer-Encoding: base64\r\n\r\nQkVHSU46VkNBTEVOREFS\r\n--b--\r\n",
        );
        assert_eq!(v.calendars(20), ["BEGIN:VCALENDAR", "BEGIN:VCALENDAR"]);
        assert_eq!(v.calendars(1).len(), 1);
    }

    #[test]
    fn a_stored_analysis_is_used_as_it_is() {
        let raw = NEWSLETTER.as_bytes().to_vec();
        let stored = super::super::stored::from_stored(&super::super::stored::to_stored(&super::super::analyse(&raw)));
        let v = MessageView::new(raw, stored);
        assert_eq!(v.files().len(), 3);
        assert_eq!(v.subject(), "Lettre");
    }
}
