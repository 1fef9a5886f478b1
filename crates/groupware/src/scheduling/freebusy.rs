//! Free/busy across the académie (RFC 6638 section 5: a VFREEBUSY REQUEST
//! POSTed to the outbox). Busy time only, never a title: each answer is a
//! list of periods. Only accounts of the asker's académie are answered; an
//! event marked TRANSP:TRANSPARENT, cancelled, or declined by the account
//! is not busy.

use calcard::icalendar::{ICalendarComponentType, ICalendarProperty, ICalendarValue};
use model::Address;

use super::{PartStat, Principal, itip};
use crate::{CollectionKind, Error, Groupware, Query, Result, ical};

/// Longest range a free/busy query may span (a year and a bit).
pub const MAX_RANGE: i64 = 400 * 86_400;

/// A VFREEBUSY request: the range and who is asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub start: i64,
    pub end: i64,
    pub attendees: Vec<String>,
    pub uid: String,
    pub organizer: Option<String>,
}

/// Reads a VFREEBUSY REQUEST. `Err` with a short French reason.
pub fn read_request(text: &str) -> Result<Request> {
    let cal = ical::parse(text).map_err(Error::Invalid)?;
    let m = cal.components.first().and_then(|top| top.property(&ICalendarProperty::Method));
    let is_request = m
        .and_then(|e| e.values.first())
        .is_some_and(|v| matches!(v, ICalendarValue::Method(calcard::icalendar::ICalendarMethod::Request)));
    if !is_request {
        return Err(Error::Invalid("METHOD:REQUEST attendu".into()));
    }
    let Some(fb) = cal.components.iter().find(|c| c.component_type == ICalendarComponentType::VFreebusy) else {
        return Err(Error::Invalid("VFREEBUSY attendu".into()));
    };
    let time = |p: ICalendarProperty| {
        fb.property(&p).and_then(|e| e.values.first()).and_then(|v| match v {
            ICalendarValue::PartialDateTime(d) => d.to_timestamp(),
            _ => None,
        })
    };
    let (Some(start), Some(end)) = (time(ICalendarProperty::Dtstart), time(ICalendarProperty::Dtend)) else {
        return Err(Error::Invalid("DTSTART et DTEND attendus".into()));
    };
    if end <= start || end - start > MAX_RANGE {
        return Err(Error::Invalid("intervalle de disponibilités invalide (au plus 400 jours)".into()));
    }
    let mut attendees = Vec::new();
    let mut organizer = None;
    for e in &fb.entries {
        match e.name {
            ICalendarProperty::Attendee => {
                if let Some(a) = itip::address_of(e)
                    && !attendees.contains(&a)
                {
                    if attendees.len() == itip::MAX_ATTENDEES {
                        return Err(Error::Invalid(format!("plus de {} participants", itip::MAX_ATTENDEES)));
                    }
                    attendees.push(a);
                }
            }
            ICalendarProperty::Organizer => organizer = itip::address_of(e),
            _ => {}
        }
    }
    let uid = fb.uid().unwrap_or("").chars().take(255).collect();
    Ok(Request { start, end, attendees, uid, organizer })
}

impl Groupware {
    /// The busy periods of `address` within `[start, end)` (merged, sorted),
    /// or `None` when it is no account of `asker`'s académie.
    pub async fn free_busy(
        &self,
        asker: &Principal,
        address: &str,
        start: i64,
        end: i64,
    ) -> Result<Option<Vec<(i64, i64)>>> {
        let Ok(parsed) = Address::parse(address) else { return Ok(None) };
        let Some(account) = self
            .store
            .account_by_address(&parsed)
            .await?
            .filter(|a| a.status.receives_mail() && a.role != model::Role::Student)
        else {
            return Ok(None);
        };
        let Some(me) = self.store.account(asker.id).await? else { return Ok(None) };
        // Nothing crosses académies (store::tenants).
        if !self.store.same_tenant(&me, &account).await? {
            return Ok(None);
        }
        let q = Query { component: Some("VEVENT".into()), start: Some(start), end: Some(end) };
        let mut busy = Vec::new();
        for c in self.store.collections(account.id).await?.iter().filter(|c| c.kind == CollectionKind::Calendar) {
            for o in self.query(c, &q).await? {
                let Ok(cal) = ical::parse(&o.content) else { continue };
                if let Ok(m) = itip::meeting(&cal) {
                    let declined = m.attendee(address).is_some_and(|a| a.partstat == PartStat::Declined);
                    if m.transparent || m.cancelled || declined {
                        continue;
                    }
                } else if o.content.contains("TRANSP:TRANSPARENT") {
                    continue;
                }
                for (s, e) in ical::occurrences(&o.content, self.expansion, 10_000) {
                    if s < end && e > start {
                        busy.push((s.max(start), e.min(end)));
                    }
                }
            }
        }
        busy.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::new();
        for (s, e) in busy {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        Ok(Some(merged))
    }
}

/// The VFREEBUSY REPLY of `attendee` for `request`: busy periods only.
pub fn reply(request: &Request, attendee: &str, busy: &[(i64, i64)]) -> String {
    let mut out = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Ardoise//FR\r\nMETHOD:REPLY\r\n");
    out.push_str("BEGIN:VFREEBUSY\r\n");
    if !request.uid.is_empty() {
        out.push_str(&format!("UID:{}\r\n", request.uid.replace(['\r', '\n'], "")));
    }
    out.push_str(&format!("DTSTAMP:{}\r\n", utc(request.start)));
    out.push_str(&format!("DTSTART:{}\r\nDTEND:{}\r\n", utc(request.start), utc(request.end)));
    if let Some(o) = &request.organizer {
        out.push_str(&format!("ORGANIZER:mailto:{o}\r\n"));
    }
    out.push_str(&format!("ATTENDEE:mailto:{attendee}\r\n"));
    for (s, e) in busy {
        out.push_str(&format!("FREEBUSY;FBTYPE=BUSY:{}/{}\r\n", utc(*s), utc(*e)));
    }
    out.push_str("END:VFREEBUSY\r\nEND:VCALENDAR\r\n");
    out
}

/// `YYYYMMDDTHHMMSSZ` of a unix time (proleptic Gregorian calendar).
fn utc(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", secs / 3_600, secs % 3_600 / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_are_written_as_icalendar() {
        assert_eq!(utc(0), "19700101T000000Z");
        assert_eq!(utc(1_788_739_200), "20260907T000000Z");
        assert_eq!(utc(1_798_302_600 + 59), "20261226T163059Z");
    }

    #[test]
    fn requests_are_read_and_bounded() {
        let req = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\nUID:fb-1\r\n\
                   DTSTAMP:20261101T000000Z\r\nDTSTART:20261126T000000Z\r\nDTEND:20261127T000000Z\r\n\
                   ORGANIZER:mailto:claire@x.fr\r\nATTENDEE:mailto:Paul@x.fr\r\nATTENDEE:mailto:paul@x.fr\r\n\
                   END:VFREEBUSY\r\nEND:VCALENDAR\r\n";
        let r = read_request(req).unwrap();
        assert_eq!((r.attendees.as_slice(), r.end - r.start), (["paul@x.fr".to_owned()].as_slice(), 86_400));
        let text = reply(&r, "paul@x.fr", &[(r.start + 3_600, r.start + 7_200)]);
        assert!(text.contains("FREEBUSY;FBTYPE=BUSY:20261126T010000Z/20261126T020000Z"), "{text}");
        let long = req.replace("DTEND:20261127", "DTEND:20291127");
        assert!(read_request(&long).is_err(), "a range of years is refused");
        assert!(read_request(&req.replace("METHOD:REQUEST", "METHOD:PUBLISH")).is_err());
        assert!(read_request(&req.replace("DTEND:20261127T000000Z\r\n", "")).is_err());
    }
}
