//! Feeds arbitrary bytes to the IMAP date parsers (APPEND's date-time and
//! SEARCH's date): they read client input before login and may never panic.
//! Whatever parses must format back to a date-time that parses to the same
//! instant.

#![no_main]

use imap::date::{format_date_time, parse_date, parse_date_time};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_date(data);
    if let Some(t) = parse_date_time(data) {
        assert_eq!(parse_date_time(format_date_time(t).as_bytes()), Some(t));
    }
});
