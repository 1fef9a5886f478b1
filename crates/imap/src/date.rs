//! IMAP dates: `date-time` (`"17-Jul-1996 02:44:25 -0700"`) for APPEND and
//! INTERNALDATE, `date` (`1-Feb-2026`) for SEARCH. Times are unix seconds.

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn day_month_year(text: &str) -> Option<i64> {
    let mut parts = text.trim().split('-');
    let d: i64 = parts.next()?.trim().parse().ok()?;
    let month = parts.next()?;
    let m = MONTHS.iter().position(|n| n.eq_ignore_ascii_case(month))? as i64 + 1;
    let y: i64 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1..=31).contains(&d) || !(1..=9999).contains(&y) {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400)
}

/// A SEARCH date: the start of that day, UTC.
pub fn parse_date(text: &[u8]) -> Option<i64> {
    day_month_year(std::str::from_utf8(text).ok()?)
}

/// An APPEND date-time, e.g. ` 7-Jul-1996 02:44:25 -0700`.
pub fn parse_date_time(text: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(text).ok()?.trim_start();
    let mut parts = text.split(' ');
    let day = day_month_year(parts.next()?)?;
    let mut hms = parts.next()?.split(':');
    let mut field = |max: i64| hms.next()?.parse::<i64>().ok().filter(|v| (0..=max).contains(v));
    let secs = field(23)? * 3600 + field(59)? * 60 + field(60)?;
    // The zone is read as bytes: a byte slice of text could fall inside a
    // multi-byte character (`é000`) and panic.
    let zone = parts.next()?.as_bytes();
    if parts.next().is_some() {
        return None;
    }
    let [sign, digits @ ..] = zone else { return None };
    let sign = match sign {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let [h1, h2, m1, m2] = digits else { return None };
    let digit = |b: &u8| b.is_ascii_digit().then(|| i64::from(b - b'0'));
    let (hh, mm) = (digit(h1)? * 10 + digit(h2)?, digit(m1)? * 10 + digit(m2)?);
    Some(day + secs - sign * (hh * 3600 + mm * 60))
}

/// INTERNALDATE as sent to clients, in UTC: `"05-Mar-2026 10:00:00 +0000"`.
pub fn format_date_time(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    let s = unix.rem_euclid(86_400);
    format!("{d:02}-{}-{y:04} {:02}:{:02}:{:02} +0000", MONTHS[(m - 1) as usize], s / 3600, s / 60 % 60, s % 60)
}

/// The unix day start of a time.
pub fn day_of(unix: i64) -> i64 {
    unix.div_euclid(86_400) * 86_400
}

/// The day a time falls on in `zone`, as the unix start of that civil day
/// in UTC (the form dates in SEARCH keys are parsed to).
pub fn day_in(unix: i64, zone: &jiff::tz::TimeZone) -> i64 {
    let offset = jiff::Timestamp::from_second(unix).map(|t| i64::from(zone.to_offset(t).seconds())).unwrap_or(0);
    day_of(unix + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_in_a_zone() {
        let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
        // 2026-09-14 22:10 UTC is 2026-09-15 00:10 in Paris (summer time).
        let t = parse_date_time(b"14-Sep-2026 22:10:00 +0000").unwrap();
        assert_eq!(day_in(t, &paris), parse_date(b"15-Sep-2026").unwrap());
        assert_eq!(day_in(t, &jiff::tz::TimeZone::UTC), parse_date(b"14-Sep-2026").unwrap());
        let noumea = jiff::tz::TimeZone::get("Pacific/Noumea").unwrap();
        let t = parse_date_time(b"31-Dec-2026 13:30:00 +0000").unwrap();
        assert_eq!(day_in(t, &noumea), parse_date(b"01-Jan-2027").unwrap());
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_date(b"1-Jan-1970"), Some(0));
        assert_eq!(parse_date(b"01-feb-2026"), Some(1_769_904_000));
        let t = parse_date_time(b"17-Jul-1996 02:44:25 -0700").unwrap();
        assert_eq!(t, 837_596_665);
        assert_eq!(format_date_time(t), "17-Jul-1996 09:44:25 +0000");
        assert_eq!(parse_date_time(b" 7-Jul-1996 02:44:25 +0000").unwrap(), parse_date(b"7-Jul-1996").unwrap() + 9865);
        assert!(parse_date(b"32-Jan-2026").is_none());
        assert!(parse_date_time(b"17-Jul-1996 25:00:00 +0000").is_none());
    }

    /// Issue 25, item 17: a zone with a multi-byte character panicked the
    /// connection's task before login.
    #[test]
    fn malformed_zones_are_refused_without_panic() {
        assert!(parse_date_time("17-Jul-1996 02:44:25 é000".as_bytes()).is_none());
        assert!(parse_date_time("17-Jul-1996 02:44:25 +é00".as_bytes()).is_none());
        assert!(parse_date_time(b"17-Jul-1996 02:44:25 +-100").is_none());
        assert!(parse_date_time(b"17-Jul-1996 02:44:25 +01000").is_none());
        // Every short string over an alphabet with multi-byte characters.
        let alphabet = ["1", "-", "+", " ", ":", "J", "é", "€", "0"];
        let mut texts = vec![String::from("17-Jul-1996 02:44:25 ")];
        for _ in 0..5 {
            let longer: Vec<String> =
                texts.iter().flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}"))).collect();
            texts.extend(longer);
        }
        for t in &texts {
            let _ = parse_date_time(t.as_bytes());
            let _ = parse_date(t.as_bytes());
        }
    }
}
