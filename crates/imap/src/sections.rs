//! Serving `BODY[section]<partial>` from the blob with the byte offsets the
//! analysis stored at delivery: no message is parsed again here.

use mailstore::analyse::{Analysis, BodyPart};

use crate::command::{Section, SectionText};

/// The bytes a section designates, or `None` when the message has no such part.
pub fn extract(raw: &[u8], analysis: &Analysis, section: &Section) -> Option<Vec<u8>> {
    let root = &analysis.body;
    let slice = |r: std::ops::Range<usize>| raw.get(r).map(<[u8]>::to_vec);
    if section.part.is_empty() {
        return match &section.text {
            None => Some(raw.to_vec()),
            Some(SectionText::Header) => slice(root.offsets.header()),
            Some(SectionText::Text) => slice(root.offsets.body()),
            Some(SectionText::HeaderFields { not, fields }) => {
                Some(header_fields(raw.get(root.offsets.header())?, fields, *not))
            }
            Some(SectionText::Mime) => None,
        };
    }
    let part = root.section(&section.part)?;
    match &section.text {
        None => slice(part.offsets.body()),
        Some(SectionText::Mime) => slice(part.offsets.header()),
        Some(text) => {
            // HEADER and TEXT of a part only exist for an encapsulated message.
            let inner: &BodyPart = &part.message.as_ref()?.body;
            match text {
                SectionText::Header => slice(inner.offsets.header()),
                SectionText::Text => slice(inner.offsets.body()),
                SectionText::HeaderFields { not, fields } => {
                    Some(header_fields(raw.get(inner.offsets.header())?, fields, *not))
                }
                SectionText::Mime => None,
            }
        }
    }
}

/// The fields of a header block whose names are (or, with `not`, are not)
/// in `names`, with their continuation lines, followed by the blank line.
pub fn header_fields(header: &[u8], names: &[String], not: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut keep = false;
    for line in header.split_inclusive(|&b| b == b'\n') {
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if !line.starts_with(b" ") && !line.starts_with(b"\t") {
            let name_end = line.iter().position(|&b| b == b':').unwrap_or(line.len());
            let name = String::from_utf8_lossy(&line[..name_end]);
            let listed = names.iter().any(|n| n.eq_ignore_ascii_case(name.trim()));
            keep = listed != not;
        }
        if keep {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Applies a `<start.length>` partial to section data.
pub fn partial(data: Vec<u8>, partial: Option<(u32, u32)>) -> Vec<u8> {
    match partial {
        None => data,
        Some((start, len)) => {
            let start = (start as usize).min(data.len());
            let end = start.saturating_add(len as usize).min(data.len());
            data[start..end].to_vec()
        }
    }
}

/// Replaces each NUL byte with 0x80: a normal literal must not hold NUL
/// (RFC 9051 section 4.3), and one byte for one keeps every size exact.
pub fn replace_nuls(data: &mut [u8]) {
    for b in data.iter_mut().filter(|b| **b == 0) {
        *b = 0x80;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIXED: &[u8] = b"From: a@b.fr\r\nSubject: Pieces\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npreamble\r\n--XX\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour\r\n--XX\r\n\
Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nInner body\r\n--XX--\r\n";

    fn sec(part: &[u32], text: Option<SectionText>) -> Section {
        Section { part: part.to_vec(), text }
    }

    #[test]
    fn sections_come_from_offsets() {
        let a = mailstore::analyse::analyse(MIXED);
        let get = |s: Section| String::from_utf8(extract(MIXED, &a, &s).unwrap()).unwrap();
        assert_eq!(get(sec(&[], None)).len(), MIXED.len());
        assert!(get(sec(&[], Some(SectionText::Header))).ends_with("boundary=\"XX\"\r\n\r\n"));
        assert_eq!(get(sec(&[1], None)), "Bonjour");
        assert_eq!(get(sec(&[1], Some(SectionText::Mime))), "Content-Type: text/plain; charset=utf-8\r\n\r\n");
        assert_eq!(get(sec(&[2], Some(SectionText::Header))), "Subject: inner\r\n\r\n");
        assert_eq!(get(sec(&[2], Some(SectionText::Text))), "Inner body");
        let fields = SectionText::HeaderFields { not: false, fields: vec!["subject".into()] };
        assert_eq!(get(sec(&[], Some(fields))), "Subject: Pieces\r\n\r\n");
        assert!(extract(MIXED, &a, &sec(&[3], None)).is_none());
        assert!(extract(MIXED, &a, &sec(&[1], Some(SectionText::Header))).is_none());
        assert_eq!(partial(b"abcdef".to_vec(), Some((2, 3))), b"cde");
        assert_eq!(partial(b"abc".to_vec(), Some((5, 3))), b"");
    }
}
