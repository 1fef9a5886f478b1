//! Feeds arbitrary client bytes through the IMAP command reader and parser.
//!
//! The first byte picks how the input is cut into reads, so that literals,
//! their announcements and line breaks fall across read boundaries. Neither
//! may panic, and the reader must never hold more than its caps allow.

#![no_main]

use imap::parse::parse_command;
use imap::reader::{Event, Limits, Reader};
use libfuzzer_sys::fuzz_target;

/// Small caps, so that the fuzzer reaches them quickly.
const LIMITS: Limits = Limits { max_line: 256, max_literal: 512, max_command: 1024, max_small_literal: 64 };

fuzz_target!(|data: &[u8]| {
    let Some((&first, input)) = data.split_first() else { return };
    let piece = usize::from(first & 0x3f) + 1;
    let mut reader = Reader::new(LIMITS);
    // The top bit says whether the client has logged in (large APPEND literals).
    reader.set_authenticated(first & 0x80 != 0);
    for chunk in input.chunks(piece) {
        reader.feed(chunk);
        loop {
            match reader.advance() {
                Event::NeedMore => break,
                Event::Continue | Event::Bad { .. } | Event::No { .. } => {}
                Event::Command(bytes) => {
                    assert!(bytes.len() <= LIMITS.max_command + LIMITS.max_line);
                    let _ = parse_command(&bytes);
                }
            }
        }
        assert!(reader.buffered() <= LIMITS.max_command + LIMITS.max_line + piece);
    }
});
