//! Feeds arbitrary texts to what a PUT goes through before anything is
//! stored: the iCalendar reader (with recurrence expansion, capped) and the
//! vCard reader. Neither may panic; an accepted calendar object's bounds
//! are ordered.

#![no_main]

use groupware::ical::{Expansion, occurs_between, read};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let exp = Expansion { zone: "Europe/Paris".parse().unwrap(), cap: 500 };
    if let Ok(object) = read(text, exp) {
        if let (Some(start), Some(end)) = (object.first_start, object.last_end) {
            assert!(start <= end);
        }
        let _ = occurs_between(text, exp, 0, i64::MAX);
    }
    let _ = groupware::vcard::read(text);
});
