//! Feeds arbitrary client bytes through the ManageSieve line framer, as the
//! session does: whole lines are taken off the front, malformed ones
//! skipped. It may never panic, always makes progress on a whole line, and
//! never hands out a literal or a line beyond its caps.

#![no_main]

use libfuzzer_sys::fuzz_target;
use managesieve::reader::{Caps, Framed, Token, frame};

/// Small caps, so that the fuzzer reaches them quickly.
const CAPS: Caps = Caps { line: 128, literal: 256 };

fuzz_target!(|data: &[u8]| {
    let mut buf = data;
    loop {
        match frame(buf, CAPS) {
            Framed::Line { tokens, consumed } => {
                assert!(consumed > 0 && consumed <= buf.len());
                for t in &tokens {
                    if let Token::Str(s) = t {
                        assert!(s.len() <= CAPS.literal + CAPS.line);
                    }
                }
                buf = &buf[consumed..];
            }
            Framed::Bad { consumed, .. } => {
                assert!(consumed > 0 && consumed <= buf.len());
                buf = &buf[consumed..];
            }
            Framed::LiteralTooLarge { size, header } => {
                assert!(size > CAPS.literal as u64 && header <= buf.len());
                return;
            }
            Framed::Partial | Framed::LineTooLong => return,
        }
    }
});
