//! Small attachments made in code: a valid one-page PDF and an iCalendar
//! invitation, so the demo needs no binary files.

use time::OffsetDateTime;

/// A one-page A4 PDF with a bold title and lines of text (Helvetica,
/// WinAnsiEncoding, so French accents display). The cross-reference table
/// points at the exact offsets, so strict readers accept it.
pub(super) fn pdf(title: &str, lines: &[&str]) -> Vec<u8> {
    let mut content = b"BT\n/F1 15 Tf\n56 780 Td\n(".to_vec();
    content.extend(pdf_string(title));
    content.extend_from_slice(b") Tj\nET\nBT\n/F2 11 Tf\n15 TL\n56 748 Td\n");
    for line in lines {
        content.push(b'(');
        content.extend(pdf_string(line));
        content.extend_from_slice(b") Tj\nT*\n");
    }
    content.extend_from_slice(b"ET");
    let font = |name: &str| {
        format!("<< /Type /Font /Subtype /Type1 /BaseFont /{name} /Encoding /WinAnsiEncoding >>").into_bytes()
    };
    let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    stream.extend(content);
    stream.extend_from_slice(b"\nendstream");
    let mut info = b"<< /Title (".to_vec();
    info.extend(pdf_string(title));
    info.extend_from_slice(b") /Producer (Ardoise) >>");
    let objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>"
            .to_vec(),
        font("Helvetica-Bold"),
        font("Helvetica"),
        stream,
        info,
    ];
    // The second line's high bytes tell transfer agents the file is binary.
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).into_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").into_bytes());
    }
    out.extend(
        format!("trailer\n<< /Size {} /Root 1 0 R /Info 7 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1)
            .into_bytes(),
    );
    out
}

/// A PDF literal string's bytes in WinAnsiEncoding, parentheses escaped.
fn pdf_string(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        let byte = match c {
            '(' | ')' | '\\' => {
                out.push(b'\\');
                c as u8
            }
            c if c.is_ascii() => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            '—' => 0x97,
            'Œ' => 0x8c,
            'œ' => 0x9c,
            '\u{202f}' => b' ',
            _ => b'?',
        };
        out.push(byte);
    }
    out
}

/// A meeting to put in an invitation.
pub(super) struct Event<'a> {
    pub uid: String,
    /// Unix seconds.
    pub start: i64,
    pub minutes: i64,
    pub summary: &'a str,
    pub location: &'a str,
    pub description: &'a str,
    /// Display name and address.
    pub organizer: (&'a str, &'a str),
    /// When the invitation was made (DTSTAMP).
    pub stamp: i64,
    /// Display name and address of each attendee; a room's name starts with « Salle ».
    /// With attendees the file is an iTIP REQUEST that can be answered.
    pub attendees: Vec<(String, String)>,
}

/// An iCalendar file (RFC 5545) with one event, lines folded at 75 octets.
pub(super) fn ics(e: &Event<'_>) -> Vec<u8> {
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Ardoise//Demo//FR".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        (if e.attendees.is_empty() { "METHOD:PUBLISH" } else { "METHOD:REQUEST" }).to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}", e.uid),
        "SEQUENCE:0".to_owned(),
        format!("DTSTAMP:{}", utc(e.stamp)),
        format!("DTSTART:{}", utc(e.start)),
        format!("DTEND:{}", utc(e.start + e.minutes * 60)),
        format!("SUMMARY:{}", escape(e.summary)),
        format!("LOCATION:{}", escape(e.location)),
        format!("DESCRIPTION:{}", escape(e.description)),
        format!("ORGANIZER;CN=\"{}\":mailto:{}", e.organizer.0.replace('"', "'"), e.organizer.1),
        "STATUS:CONFIRMED".to_owned(),
    ];
    let attendees = e.attendees.iter().map(|(name, address)| {
        let cutype = if name.starts_with("Salle") { "ROOM" } else { "INDIVIDUAL" };
        format!(
            "ATTENDEE;CUTYPE={cutype};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=\"{}\":mailto:{address}",
            name.replace('"', "'")
        )
    });
    let end = ["END:VEVENT".to_owned(), "END:VCALENDAR".to_owned()];
    let mut out = String::new();
    for line in lines.into_iter().chain(attendees).chain(end) {
        out.push_str(&fold(&line));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

fn utc(ts: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(ts).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace(';', "\\;").replace(',', "\\,").replace('\n', "\\n")
}

/// Folds a content line so that no physical line exceeds 75 octets.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3);
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out
}
