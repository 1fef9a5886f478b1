//! One pass over a raw RFC 5322 message that keeps everything IMAP and the
//! webmail need afterwards, so the blob never has to be parsed again.
//!
//! The MIME structure is walked by our own scanner ([`mime`]) rather than by
//! mail-parser's message parser, for three reasons: IMAP needs exact byte
//! offsets of every part (header start, body start, end) in the original
//! bytes; the nesting depth and the number of parts must be capped so hostile
//! input cannot blow the stack or the memory; and the work must stay linear
//! (every line is looked at once, against at most [`MAX_DEPTH`] boundaries).
//! mail-parser is still used for what it does well: decoding individual
//! header values (addresses, encoded words, dates, message ids) and charsets.
//!
//! [`analyse`] never fails and never panics: broken input gives a best-effort
//! [`Analysis`].

mod attached;
mod auth;
mod header;
mod mime;
pub mod stored;
mod text;
pub mod view;

pub use attached::{ATTACHED_DEPTH, ATTACHED_MAX};
pub use auth::AuthResults;
pub use header::written_day;

use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Deepest nesting analysed. A multipart or message/rfc822 part found at this
/// depth is not looked into: it is reported as an opaque
/// `application/octet-stream` leaf covering the same bytes.
pub const MAX_DEPTH: usize = 32;
/// Most body parts analysed in one message. Past it, the remaining parts of a
/// multipart are not reported (they stay in the blob, but the structure shows
/// only the first ones); real mail never comes close.
pub const MAX_PARTS: usize = 10_000;
/// Most addresses kept per envelope field (To, Cc...). A circular may be
/// addressed to thousands of people in one header; IMAP clients and the
/// webmail never need more than the first thousand, and keeping them all would
/// let one message bloat the metadata of every copy.
pub const MAX_ADDRESSES: usize = 1_000;
/// Most message ids kept in [`Analysis::references`].
pub const MAX_REFERENCES: usize = 1_000;
/// Cap on [`Analysis::text`], in bytes.
pub const MAX_TEXT: usize = 1 << 20;
/// Length of [`Analysis::preview`], in characters (at most).
pub const PREVIEW_CHARS: usize = 200;
/// Bytes of header values kept in [`Analysis::headers`].
pub const MAX_HEADERS: usize = 16 * 1024;

/// What one parse of a message keeps. Read back from storage with
/// [`stored::from_stored`]; a field missing there takes its default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Analysis {
    /// The IMAP ENVELOPE of the message.
    pub envelope: Envelope,
    /// The body structure tree, with byte offsets of every part.
    pub body: BodyPart,
    /// Decoded subject, "" if none.
    pub subject: String,
    /// First author as "Name <addr>" or "addr", decoded, "" if none.
    pub from: String,
    /// The Date: header as unix seconds, when it parses.
    pub sent_date: Option<i64>,
    /// Message-ID without angle brackets.
    pub message_id: Option<String>,
    /// In-Reply-To then References ids, without brackets, deduplicated.
    pub references: Vec<String>,
    /// About [`PREVIEW_CHARS`] characters of readable text, quotes left out.
    pub preview: String,
    /// Files attached to the message (not the parts of attached messages).
    pub attachments: Vec<AttachmentInfo>,
    pub has_attachment: bool,
    /// Plain text of the readable body parts, for the full-text index, capped
    /// at [`MAX_TEXT`] bytes.
    pub text: String,
    /// Every header field of the message, name and decoded value, for SEARCH
    /// HEADER and TEXT (values capped at [`MAX_HEADERS`] bytes in all).
    /// Empty for contents stored before it was kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// SPF/DKIM/DMARC/ARC results our MX prepended, when it checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<AuthResults>,
}

/// The IMAP ENVELOPE (RFC 9051 section 7.5.2).
///
/// `date`, `in_reply_to` and `message_id` are the unfolded header text, as
/// IMAP wants it; `subject` is decoded to UTF-8. As RFC 9051 requires,
/// `sender` and `reply_to` default to `from` when the header is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Envelope {
    pub date: Option<String>,
    pub subject: Option<String>,
    pub from: Vec<EnvelopeAddress>,
    pub sender: Vec<EnvelopeAddress>,
    pub reply_to: Vec<EnvelopeAddress>,
    pub to: Vec<EnvelopeAddress>,
    pub cc: Vec<EnvelopeAddress>,
    pub bcc: Vec<EnvelopeAddress>,
    pub in_reply_to: Option<String>,
    pub message_id: Option<String>,
}

/// One address of an envelope field.
///
/// Group syntax follows IMAP: an empty `host` stands for NIL. A group starts
/// with an entry whose `mailbox` is the group name and `host` is empty, and
/// ends with an entry whose `mailbox` and `host` are both empty. A real
/// address always has a non-empty host: a missing domain is reported as
/// `MISSING_DOMAIN` and a missing local part as `MISSING_MAILBOX`, as other
/// IMAP servers do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeAddress {
    pub name: Option<String>,
    pub mailbox: String,
    pub host: String,
}

impl EnvelopeAddress {
    pub fn is_group_start(&self) -> bool {
        self.host.is_empty() && !self.mailbox.is_empty()
    }
    pub fn is_group_end(&self) -> bool {
        self.host.is_empty() && self.mailbox.is_empty()
    }
    /// `mailbox@host`, or just the mailbox when the domain is missing.
    pub fn address(&self) -> String {
        if self.host.is_empty() || self.host == header::MISSING_DOMAIN {
            self.mailbox.clone()
        } else {
            format!("{}@{}", self.mailbox, self.host)
        }
    }
}

/// Byte offsets of a part within the raw message.
///
/// `header_start..body_start` is the part's header block (for a MIME part,
/// what IMAP calls `BODY[n.MIME]`; it includes the blank line that ends it),
/// and `body_start..end` is its body as IMAP serves it for `BODY[n]` (the line
/// break before a boundary belongs to the boundary, not to the part).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offsets {
    pub header_start: usize,
    pub body_start: usize,
    pub end: usize,
}

impl Offsets {
    pub fn header(&self) -> Range<usize> {
        self.header_start..self.body_start
    }
    pub fn body(&self) -> Range<usize> {
        self.body_start..self.end
    }
}

/// A `Content-Disposition` (RFC 2183).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disposition {
    /// Lower-case disposition type, e.g. "attachment" or "inline".
    pub kind: String,
    pub params: Vec<(String, String)>,
}

/// One node of the body structure (what IMAP's BODYSTRUCTURE describes).
///
/// Media types, subtypes, parameter names and the encoding are lower-case.
/// Parameter values are kept as in the header (unquoted, unfolded), except
/// that RFC 2231 continuations are joined: `name*0*`, `name*1*` become one
/// `name*` parameter still in its `charset'lang'%XX` form, so BODYSTRUCTURE
/// stays 7-bit; [`BodyPart::file_name`] carries the decoded name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyPart {
    pub media_type: String,
    pub subtype: String,
    pub params: Vec<(String, String)>,
    /// Content-ID, as in the header.
    pub id: Option<String>,
    /// Content-Description, as in the header.
    pub description: Option<String>,
    /// Content-Transfer-Encoding, "7bit" when absent.
    pub encoding: String,
    /// Size of the encoded body in octets.
    pub size: usize,
    /// Number of lines of the body, for text/* and message/rfc822 parts.
    pub lines: Option<usize>,
    /// Always None: no one sends Content-MD5 any more.
    pub md5: Option<String>,
    pub disposition: Option<Disposition>,
    pub language: Vec<String>,
    pub location: Option<String>,
    /// The parts of a multipart, in order (never empty for a multipart).
    pub children: Vec<BodyPart>,
    /// For message/rfc822 and message/global: the encapsulated message. None
    /// when it is transfer-encoded (base64...) or too deep: the part is then
    /// an ordinary leaf.
    pub message: Option<Box<NestedMessage>>,
    /// Decoded file name, from the disposition's `filename` or the type's
    /// `name` parameter (RFC 2231 and RFC 2047 forms understood).
    pub file_name: Option<String>,
    pub offsets: Offsets,
}

/// The message inside a message/rfc822 part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NestedMessage {
    pub envelope: Envelope,
    /// Its top-level entity: `body.offsets.header()` is what IMAP serves for
    /// `BODY[n.HEADER]` and `body.offsets.body()` for `BODY[n.TEXT]`.
    pub body: BodyPart,
}

impl BodyPart {
    pub fn is_multipart(&self) -> bool {
        !self.children.is_empty()
    }

    /// "type/subtype".
    pub fn mime_type(&self) -> String {
        format!("{}/{}", self.media_type, self.subtype)
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The part an IMAP section number designates (`[1, 2]` for `BODY[1.2]`),
    /// with `self` the message's top-level entity. Part 1 of a non-multipart
    /// entity is the entity itself, and the parts of a message/rfc822 part are
    /// numbered within the message it encapsulates (RFC 9051 section 6.4.5).
    pub fn section(&self, path: &[u32]) -> Option<&BodyPart> {
        let mut container = self;
        let mut node = self;
        for (i, &n) in path.iter().enumerate() {
            if i > 0 {
                container = if node.is_multipart() { node } else { &node.message.as_ref()?.body };
            }
            node = if container.is_multipart() {
                container.children.get(usize::try_from(n).ok()?.checked_sub(1)?)?
            } else if n == 1 {
                container
            } else {
                return None;
            };
        }
        Some(node)
    }
}

/// A file attached to the message, for the message list and the webmail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentInfo {
    /// IMAP section of the part, e.g. "2" or "1.3".
    pub section: String,
    /// Decoded file name, when the sender gave one.
    pub file_name: Option<String>,
    /// "type/subtype", lower-case.
    pub content_type: String,
    /// Decoded size in octets (exact for base64 and quoted-printable).
    pub size: usize,
}

/// Parses `raw` once and keeps what IMAP and the webmail need.
pub fn analyse(raw: &[u8]) -> Analysis {
    let root = mime::Parser::new(raw).parse();
    let fields = header::Fields::scan(raw, &root.fields);
    let envelope = header::envelope(raw, &fields);
    let subject = envelope.subject.clone().unwrap_or_default();
    let from = envelope
        .from
        .iter()
        .find(|a| !a.host.is_empty())
        .map(|a| match &a.name {
            Some(name) => format!("{name} <{}>", a.address()),
            None => a.address(),
        })
        .unwrap_or_default();
    let sent_date = fields.date(raw);
    let message_id = fields.ids(raw, header::Known::MessageId).into_iter().next();
    let mut seen = std::collections::HashSet::new();
    let references: Vec<String> = fields
        .ids(raw, header::Known::InReplyTo)
        .into_iter()
        .chain(fields.ids(raw, header::Known::References))
        .filter(|id| seen.insert(id.clone()))
        .take(MAX_REFERENCES)
        .collect();
    let body = root.part;
    let content = text::Content::collect(raw, &body);
    Analysis {
        envelope,
        subject,
        from,
        sent_date,
        message_id,
        references,
        preview: content.preview,
        has_attachment: !content.attachments.is_empty(),
        attachments: content.attachments,
        text: content.text,
        headers: header::all(raw, &root.fields),
        body,
        authentication: auth::first_field(raw),
    }
}
