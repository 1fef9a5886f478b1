//! The demo académie's mail: about thirty realistic French messages for the
//! two demo teachers and the school office, built with mail-builder.
//!
//! Everything is deterministic for a given "now": Message-IDs are
//! `<demo-N@domain>`, multipart boundaries are fixed, and the Date: headers
//! follow `days_ago` (the caller sets the internal date from it). The texts
//! live in [`content`], the generated PDF and iCalendar files in [`files`].

mod content;
pub use content::{ROOM, board_uid};
mod files;

use mail_builder::MessageBuilder;
use mail_builder::encoders::base64::base64_encode_mime;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::{BodyPart, MimePart};
use time::format_description::well_known::Rfc2822;
use time::{Duration, Month, OffsetDateTime, UtcOffset, Weekday};

/// One message to deliver.
pub struct DemoMail {
    /// Recipient addresses whose mailbox gets a copy (only those with an
    /// account receive it).
    pub to: Vec<String>,
    pub raw: Vec<u8>,
    pub days_ago: u32,
    pub seen: bool,
    pub flagged: bool,
}

/// The demo mail as of now. `staff` lists (address, display name) of every
/// member of staff, for the circulars.
pub fn demo_mails(domain: &str, staff: &[(String, String)]) -> Vec<DemoMail> {
    demo_mails_at(domain, staff, OffsetDateTime::now_utc().unix_timestamp())
}

/// The convocation to the conseil pédagogique as its organiser stores it
/// (the invitation's text without its METHOD), for the demo's calendars.
pub fn board_event(domain: &str, staff: &[(String, String)]) -> Option<String> {
    let ctx = Ctx { domain, now: OffsetDateTime::now_utc().unix_timestamp(), staff };
    let uid = format!("UID:{}", board_uid(domain));
    content::specs(&ctx).iter().flat_map(|s| &s.files).find_map(|f| {
        let text = String::from_utf8_lossy(&f.data);
        text.contains(&uid).then(|| text.replace("METHOD:REQUEST\r\n", ""))
    })
}

/// The demo mail as if generated at `now` (unix seconds): the same inputs
/// always give the same bytes.
pub fn demo_mails_at(domain: &str, staff: &[(String, String)], now: i64) -> Vec<DemoMail> {
    let ctx = Ctx { domain, now, staff };
    let specs = content::specs(&ctx);
    (0..specs.len()).map(|i| build(&ctx, &specs, i)).collect()
}

/// A display name and an address.
type Person = (String, String);

/// What the content needs to know: the domain, the time, the staff.
struct Ctx<'a> {
    domain: &'a str,
    now: i64,
    staff: &'a [(String, String)],
}

impl Ctx<'_> {
    /// A member of staff by local part, with the directory's display name
    /// when the directory knows the address.
    fn person(&self, local: &str, name: &str) -> Person {
        let address = format!("{local}@{}", self.domain);
        let name = self.staff.iter().find(|(a, _)| *a == address).map_or(name, |(_, n)| n.as_str());
        (name.to_owned(), address)
    }

    /// When a message sent `days_ago` days and `minutes` minutes before now was sent.
    fn sent(&self, days_ago: u32, minutes: i64) -> i64 {
        self.now - i64::from(days_ago) * 86_400 - minutes * 60
    }

    /// A meeting `days_after` days after `from`, at `hour:minute` Paris time,
    /// moved to the Monday after if that falls on a weekend.
    fn meeting(&self, from: i64, days_after: i64, hour: u8, minute: u8) -> i64 {
        let date = local(from + days_after * 86_400).date();
        let date = date
            + Duration::days(match date.weekday() {
                Weekday::Saturday => 2,
                Weekday::Sunday => 1,
                _ => 0,
            });
        // The offset of the meeting's own day (it may be after a DST change).
        let noon = date.midnight().assume_utc().unix_timestamp() + 12 * 3_600;
        date.with_hms(hour, minute, 0).map_or(noon, |t| t.assume_offset(paris_offset(noon)).unix_timestamp())
    }
}

/// One message before it is built.
struct Spec {
    days_ago: u32,
    /// Minutes before the internal date that the Date: header says.
    minutes: i64,
    from: Person,
    to: Vec<Person>,
    cc: Vec<Person>,
    /// Mailboxes that get it, when not simply the To and Cc of the domain.
    deliver: Option<Vec<String>>,
    subject: String,
    text: String,
    html: Option<String>,
    files: Vec<File>,
    /// Index of the message this one answers.
    reply_to: Option<usize>,
    seen: bool,
    flagged: bool,
}

struct File {
    content_type: ContentType<'static>,
    name: String,
    data: Vec<u8>,
}

impl File {
    fn new(content_type: &'static str, name: impl Into<String>, data: Vec<u8>) -> File {
        let mut ct = ContentType::new(content_type);
        if content_type.starts_with("text/") {
            ct = ct.attribute("charset", "utf-8");
        }
        if content_type == "text/calendar" {
            // An invitation with attendees is a REQUEST (it can be answered), others are published.
            let request = data.windows(15).any(|w| w == b"METHOD:REQUEST\r");
            ct = ct.attribute("method", if request { "REQUEST" } else { "PUBLISH" });
        }
        File { content_type: ct, name: name.into(), data }
    }
}

fn message_id(ctx: &Ctx<'_>, index: usize) -> String {
    format!("demo-{}@{}", index + 1, ctx.domain)
}

/// The ancestors of message `index`, oldest first.
fn ancestors(specs: &[Spec], index: usize) -> Vec<usize> {
    let mut chain = Vec::new();
    let mut cur = specs[index].reply_to;
    while let Some(parent) = cur.filter(|p| !chain.contains(p)) {
        chain.push(parent);
        cur = specs[parent].reply_to;
    }
    chain.reverse();
    chain
}

fn build(ctx: &Ctx<'_>, specs: &[Spec], index: usize) -> DemoMail {
    let s = &specs[index];
    let sent = ctx.sent(s.days_ago, s.minutes);
    let mut b = MessageBuilder::new()
        .message_id(message_id(ctx, index))
        .header("Date", Raw::new(rfc2822(sent)))
        .from(s.from.clone())
        .subject(s.subject.as_str());
    if !s.to.is_empty() {
        b = b.to(s.to.clone());
    }
    if !s.cc.is_empty() {
        b = b.cc(s.cc.clone());
    }
    if let Some(parent) = s.reply_to {
        let refs: Vec<String> = ancestors(specs, index).into_iter().map(|i| message_id(ctx, i)).collect();
        b = b.in_reply_to(message_id(ctx, parent)).references(refs);
    }
    let boundary = |kind: &str| format!("----ardoise-demo-{}-{kind}", index + 1);
    let text = MimePart::new("text/plain", s.text.as_str());
    let main = match &s.html {
        Some(html) => MimePart::new(
            ContentType::new("multipart/alternative").attribute("boundary", boundary("alt")),
            vec![text, MimePart::new("text/html", html.as_str())],
        ),
        None => text,
    };
    let body = if s.files.is_empty() {
        main
    } else {
        let mut parts = vec![main];
        for f in &s.files {
            parts.push(attachment(f));
        }
        MimePart::new(ContentType::new("multipart/mixed").attribute("boundary", boundary("mixed")), parts)
    };
    // Writing into a Vec cannot fail.
    let raw = b.body(body).write_to_vec().unwrap_or_default();
    let to = s.deliver.clone().unwrap_or_else(|| {
        let suffix = format!("@{}", ctx.domain);
        let mut to: Vec<String> = Vec::new();
        for (_, address) in s.to.iter().chain(&s.cc) {
            if address.ends_with(&suffix) && !to.contains(address) {
                to.push(address.clone());
            }
        }
        to
    });
    DemoMail { to, raw, days_ago: s.days_ago, seen: s.seen, flagged: s.flagged }
}

/// A file as a MIME part. Text files are base64-encoded here: left to
/// mail-builder, an attached text file would be quoted-printable with its
/// line breaks encoded, which RFC 2045 does not allow for text.
fn attachment(f: &File) -> MimePart<'_> {
    if !f.content_type.is_text() {
        return MimePart::new(f.content_type.clone(), BodyPart::Binary(f.data.as_slice().into()))
            .attachment(f.name.as_str());
    }
    let mut encoded = Vec::new();
    // Encoding into a Vec cannot fail.
    let _ = base64_encode_mime(&f.data, &mut encoded, false);
    MimePart::new(f.content_type.clone(), BodyPart::Binary(encoded.into()))
        .attachment(f.name.as_str())
        .header("Content-Transfer-Encoding", Raw::new("base64"))
}

/// Paris time: UTC+1, or UTC+2 from the last Sunday of March to the last
/// Sunday of October (01:00 UTC both times).
fn paris_offset(ts: i64) -> UtcOffset {
    let year = OffsetDateTime::from_unix_timestamp(ts).unwrap_or(OffsetDateTime::UNIX_EPOCH).year();
    let switch = |month: Month| {
        let last = time::Date::from_calendar_date(year, month, 31).unwrap_or(time::Date::MIN);
        let sunday = last - Duration::days(i64::from(last.weekday().number_days_from_sunday()));
        sunday.midnight().assume_utc().unix_timestamp() + 3_600
    };
    let summer = ts >= switch(Month::March) && ts < switch(Month::October);
    UtcOffset::from_hms(if summer { 2 } else { 1 }, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// `ts` as a date-time at Paris's offset.
fn local(ts: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(ts).unwrap_or(OffsetDateTime::UNIX_EPOCH).to_offset(paris_offset(ts))
}

fn rfc2822(ts: i64) -> String {
    local(ts).format(&Rfc2822).unwrap_or_default()
}

/// "jeudi 19 mars" (or "lundi 1er juin").
fn fr_day(ts: i64) -> String {
    const DAYS: [&str; 7] = ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"];
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let t = local(ts);
    let day = if t.day() == 1 { "1er".to_owned() } else { t.day().to_string() };
    format!(
        "{} {day} {}",
        DAYS[usize::from(t.weekday().number_days_from_sunday())],
        MONTHS[usize::from(u8::from(t.month()) - 1)]
    )
}

/// "17 h" or "17 h 30".
fn fr_time(ts: i64) -> String {
    let t = local(ts);
    if t.minute() == 0 { format!("{} h", t.hour()) } else { format!("{} h {:02}", t.hour(), t.minute()) }
}

#[cfg(test)]
mod tests;
