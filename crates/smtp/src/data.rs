//! Sans-IO decoder for the DATA body: dot-unstuffing and the end-of-data mark.
//!
//! Only `CRLF . CRLF` ends the data; a bare LF or a bare CR never does, so that a
//! message cannot smuggle a second one past a server that reads line endings more
//! loosely. The decoder keeps its state between calls, so the terminator may be split
//! across reads at any byte. Once the body would exceed its limit it stops storing
//! (and frees what it had) but keeps reading to the terminator.

/// Where the decoder stands in the current line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the first byte of a line.
    LineStart,
    /// After a `.` that began a line (it is never stored).
    Dot,
    /// After `.` and CR at the start of a line: LF would end the data.
    DotCr,
    /// Inside a line.
    Text,
    /// After a CR inside a line: LF would end the line.
    Cr,
}

/// Decodes one DATA body as bytes arrive.
#[derive(Debug)]
pub(crate) struct DotDecoder {
    state: State,
    limit: usize,
    body: Vec<u8>,
    too_big: bool,
}

impl DotDecoder {
    /// A decoder that keeps at most `limit` bytes of body.
    pub(crate) fn new(limit: usize) -> Self {
        DotDecoder { state: State::LineStart, limit, body: Vec::new(), too_big: false }
    }

    /// Consumes bytes from `input`; returns how many were used and whether the end of
    /// data was reached (bytes after the terminator are left unused).
    pub(crate) fn feed(&mut self, input: &[u8]) -> (usize, bool) {
        let mut at = 0;
        while let Some(&byte) = input.get(at) {
            match self.state {
                State::LineStart if byte == b'.' => {
                    at += 1;
                    self.state = State::Dot;
                }
                State::Dot if byte == b'\r' => {
                    at += 1;
                    self.state = State::DotCr;
                }
                State::DotCr if byte == b'\n' => return (at + 1, true),
                State::DotCr => {
                    // A line made of "." and a lone CR: the CR is data.
                    self.store(b"\r");
                    self.state = State::Cr;
                }
                State::Cr if byte == b'\n' => {
                    self.store(b"\n");
                    at += 1;
                    self.state = State::LineStart;
                }
                State::LineStart | State::Dot | State::Cr => self.state = State::Text,
                State::Text => {
                    let rest = &input[at..];
                    match rest.iter().position(|&b| b == b'\r') {
                        Some(cr) => {
                            self.store(&rest[..=cr]);
                            at += cr + 1;
                            self.state = State::Cr;
                        }
                        None => {
                            self.store(rest);
                            at = input.len();
                        }
                    }
                }
            }
        }
        (at, false)
    }

    /// The decoded body, or `None` if it went over the limit.
    pub(crate) fn finish(self) -> Option<Vec<u8>> {
        (!self.too_big).then_some(self.body)
    }

    fn store(&mut self, bytes: &[u8]) {
        if self.too_big {
            return;
        }
        if self.body.len() + bytes.len() > self.limit {
            self.too_big = true;
            self.body = Vec::new();
        } else {
            self.body.extend_from_slice(bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `step` bytes; returns the body and the unused tail.
    fn decode(input: &[u8], step: usize, limit: usize) -> (Option<Vec<u8>>, Vec<u8>) {
        let mut decoder = DotDecoder::new(limit);
        let mut pos = 0;
        while pos < input.len() {
            let end = (pos + step).min(input.len());
            let (used, done) = decoder.feed(&input[pos..end]);
            pos += used;
            if done {
                return (decoder.finish(), input[pos..].to_vec());
            }
            assert_eq!(pos, end, "a decoder that is not done uses all its input");
        }
        panic!("no terminator in {:?}", String::from_utf8_lossy(input));
    }

    #[test]
    fn unstuffs_dots_whatever_the_read_boundaries() {
        let wire = b"Subject: a\r\n\r\n..leading dot\r\n.single\r\nmid.dle\r\n...\r\n.\r\nQUIT\r\n";
        let want = b"Subject: a\r\n\r\n.leading dot\r\nsingle\r\nmid.dle\r\n..\r\n".to_vec();
        for step in 1..=wire.len() {
            let (body, tail) = decode(wire, step, 1000);
            assert_eq!(body.as_deref(), Some(&want[..]), "step {step}");
            assert_eq!(tail, b"QUIT\r\n");
        }
    }

    #[test]
    fn empty_body_and_first_line_dot() {
        assert_eq!(decode(b".\r\n", 1, 10).0, Some(Vec::new()));
        assert_eq!(decode(b"..x\r\n.\r\n", 2, 10).0, Some(b".x\r\n".to_vec()));
    }

    #[test]
    fn only_crlf_dot_crlf_terminates() {
        let wire = b"a\n.\nb\r.\rc\n.\r\nd\r\n.\r\n";
        let (body, _) = decode(wire, 3, 100);
        assert_eq!(body.unwrap(), b"a\n.\nb\r.\rc\n.\r\nd\r\n");
        // A stuffed line holding only "." and a lone CR keeps that CR.
        let (body, _) = decode(b".\rx\r\n.\r\n", 1, 100);
        assert_eq!(body.unwrap(), b"\rx\r\n");
    }

    #[test]
    fn over_the_limit_reads_on_but_keeps_nothing() {
        let (body, tail) = decode(b"0123456789\r\n.\r\nNOOP", 4, 8);
        assert_eq!(body, None);
        assert_eq!(tail, b"NOOP");
        assert_eq!(decode(b"0123456\r\n.\r\n", 4, 9).0, Some(b"0123456\r\n".to_vec()));
    }
}
