//! Sans-IO decoder for the DATA body: dot-unstuffing and the end-of-data mark.
//!
//! Only `CRLF . CRLF` ends the data; a bare LF or a bare CR never does, so that a
//! message cannot smuggle a second one past a server that reads line endings more
//! loosely. The decoder keeps its state between calls, so the terminator may be split
//! across reads at any byte. It keeps nothing itself: each call hands the decoded
//! bytes to the caller, which stores them (see `body.rs`) and enforces the size limit.

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
}

impl DotDecoder {
    pub(crate) fn new() -> Self {
        DotDecoder { state: State::LineStart }
    }

    /// Consumes bytes from `input`, appending the decoded body bytes to `out`; returns
    /// how many were used and whether the end of data was reached (bytes after the
    /// terminator are left unused).
    pub(crate) fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> (usize, bool) {
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
                    out.extend_from_slice(b"\r");
                    self.state = State::Cr;
                }
                State::Cr if byte == b'\n' => {
                    out.extend_from_slice(b"\n");
                    at += 1;
                    self.state = State::LineStart;
                }
                State::LineStart | State::Dot | State::Cr => self.state = State::Text,
                State::Text => {
                    let rest = &input[at..];
                    match rest.iter().position(|&b| b == b'\r') {
                        Some(cr) => {
                            out.extend_from_slice(&rest[..=cr]);
                            at += cr + 1;
                            self.state = State::Cr;
                        }
                        None => {
                            out.extend_from_slice(rest);
                            at = input.len();
                        }
                    }
                }
            }
        }
        (at, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `step` bytes; returns the body and the unused tail.
    fn decode(input: &[u8], step: usize) -> (Option<Vec<u8>>, Vec<u8>) {
        let mut decoder = DotDecoder::new();
        let mut body = Vec::new();
        let mut pos = 0;
        while pos < input.len() {
            let end = (pos + step).min(input.len());
            let (used, done) = decoder.feed(&input[pos..end], &mut body);
            pos += used;
            if done {
                return (Some(body), input[pos..].to_vec());
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
            let (body, tail) = decode(wire, step);
            assert_eq!(body.as_deref(), Some(&want[..]), "step {step}");
            assert_eq!(tail, b"QUIT\r\n");
        }
    }

    #[test]
    fn empty_body_and_first_line_dot() {
        assert_eq!(decode(b".\r\n", 1).0, Some(Vec::new()));
        assert_eq!(decode(b"..x\r\n.\r\n", 2).0, Some(b".x\r\n".to_vec()));
    }

    #[test]
    fn only_crlf_dot_crlf_terminates() {
        let wire = b"a\n.\nb\r.\rc\n.\r\nd\r\n.\r\n";
        let (body, _) = decode(wire, 3);
        assert_eq!(body.unwrap(), b"a\n.\nb\r.\rc\n.\r\nd\r\n");
        // A stuffed line holding only "." and a lone CR keeps that CR.
        let (body, _) = decode(b".\rx\r\n.\r\n", 1);
        assert_eq!(body.unwrap(), b"\rx\r\n");
    }
}
