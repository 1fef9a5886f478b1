//! The VTIMEZONE written with an event for each zone the agenda offers
//! (metropolitan France and the overseas académies), so that every client
//! reads its times without knowing the IANA names (RFC 5545 section 3.6.5).

const PARIS: &str = "BEGIN:VTIMEZONE
TZID:Europe/Paris
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE";

const MIQUELON: &str = "BEGIN:VTIMEZONE
TZID:America/Miquelon
BEGIN:DAYLIGHT
TZOFFSETFROM:-0300
TZOFFSETTO:-0200
TZNAME:-02
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0200
TZOFFSETTO:-0300
TZNAME:-03
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE";

/// Zones without daylight saving time: (IANA name, offset).
const FIXED: &[(&str, &str)] = &[
    ("America/Guadeloupe", "-0400"),
    ("America/Martinique", "-0400"),
    ("America/Cayenne", "-0300"),
    ("Indian/Reunion", "+0400"),
    ("Indian/Mayotte", "+0300"),
    ("Pacific/Noumea", "+1100"),
    ("Pacific/Tahiti", "-1000"),
    ("Pacific/Wallis", "+1200"),
];

/// The VTIMEZONE of `zone` (lines separated by `\n`), empty for UTC (times
/// are then written with `Z`), `None` for a zone the agenda does not offer.
pub fn vtimezone(zone: &str) -> Option<String> {
    match zone {
        "UTC" => Some(String::new()),
        "Europe/Paris" => Some(PARIS.to_owned()),
        "America/Miquelon" => Some(MIQUELON.to_owned()),
        _ => {
            let (name, offset) = FIXED.iter().find(|(name, _)| *name == zone)?;
            Some(format!(
                "BEGIN:VTIMEZONE\nTZID:{name}\nBEGIN:STANDARD\nTZOFFSETFROM:{offset}\nTZOFFSETTO:{offset}\n\
                 TZNAME:{offset}\nDTSTART:19700101T000000\nEND:STANDARD\nEND:VTIMEZONE"
            ))
        }
    }
}
