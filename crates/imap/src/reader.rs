//! Framing of client input, without I/O: bytes go in with [`Reader::feed`],
//! complete commands (literals included) come out of [`Reader::advance`].
//!
//! A command is one or more lines; a line ending in `{n}` announces a
//! synchronising literal (the server must answer `+` before the client sends
//! the n bytes), `{n+}` a non-synchronising one (LITERAL+, the bytes follow at
//! once). The reader keeps these as explicit states and enforces the caps: a
//! line longer than `max_line`, a literal over `max_literal` or a command over
//! `max_command` is refused with a BAD and its bytes are skipped, so memory
//! never grows past the caps whatever the client sends.
//!
//! Large literals are for messages: only an authenticated client's APPEND
//! may announce one over `max_small_literal` (a few KiB: a login, a search
//! string), and those bytes are reserved from a [`LiteralBudget`] shared by
//! every session, so that neither unauthenticated clients nor many
//! simultaneous uploads can take the process' memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Caps on client input, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest line (text outside literals), CRLF included.
    pub max_line: usize,
    /// Largest single literal (APPEND's message is one).
    pub max_literal: usize,
    /// Largest whole command, literals included.
    pub max_command: usize,
    /// Largest literal before login and outside APPEND.
    pub max_small_literal: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_line: 8192, max_literal: 64 << 20, max_command: 65 << 20, max_small_literal: 8 << 10 }
    }
}

/// Bytes of large literals (APPEND's messages) that all sessions together may
/// hold in memory at once.
#[derive(Debug)]
pub struct LiteralBudget {
    limit: usize,
    used: AtomicUsize,
}

impl LiteralBudget {
    pub fn new(limit: usize) -> Arc<LiteralBudget> {
        Arc::new(LiteralBudget { limit, used: AtomicUsize::new(0) })
    }

    /// Bytes reserved now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn reserve(self: &Arc<Self>, n: usize) -> Option<Reservation> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|total| *total <= self.limit)
            })
            .ok()
            .map(|_| Reservation { budget: self.clone(), n })
    }
}

/// Bytes held from a [`LiteralBudget`] until dropped.
#[derive(Debug)]
struct Reservation {
    budget: Arc<LiteralBudget>,
    n: usize,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.n, Ordering::AcqRel);
    }
}

/// What the reader has for the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Feed more bytes.
    NeedMore,
    /// A synchronising literal was announced and accepted: send a `+`
    /// continuation, then feed its bytes.
    Continue,
    /// A complete command: its lines with CRLF and literal bytes in place.
    Command(Vec<u8>),
    /// Input refused; answer `<tag> BAD <text>` (tag `*` when unknown).
    Bad { tag: String, text: String },
    /// A valid literal refused for now (the server's memory budget is
    /// spent); answer `<tag> NO <text>`.
    No { tag: String, text: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a line of the current command.
    Line,
    /// Inside a literal with this many bytes still to come.
    Literal(usize),
    /// Dropping a refused non-synchronising literal's bytes, then the rest of the line.
    SkipLiteral(usize),
    /// Dropping everything up to the next LF.
    SkipLine,
}

/// The command reader of one connection.
#[derive(Debug)]
pub struct Reader {
    limits: Limits,
    buf: Vec<u8>,
    /// Start of the unread part of `buf`.
    pos: usize,
    /// The command assembled so far.
    cmd: Vec<u8>,
    state: State,
    /// The client has logged in: its APPENDs may carry large literals.
    authenticated: bool,
    budget: Option<Arc<LiteralBudget>>,
    /// What the command being read (or just handed out) holds of the budget.
    held: Vec<Reservation>,
}

impl Reader {
    pub fn new(limits: Limits) -> Reader {
        Reader {
            limits,
            buf: Vec::new(),
            pos: 0,
            cmd: Vec::new(),
            state: State::Line,
            authenticated: false,
            budget: None,
            held: Vec::new(),
        }
    }

    /// A reader whose large literals are reserved from `budget`.
    pub fn with_budget(limits: Limits, budget: Arc<LiteralBudget>) -> Reader {
        Reader { budget: Some(budget), ..Reader::new(limits) }
    }

    /// Says whether the client has logged in (large APPEND literals allowed).
    pub fn set_authenticated(&mut self, yes: bool) {
        self.authenticated = yes;
    }

    /// Adds bytes received from the client.
    pub fn feed(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 4096 && self.pos * 2 > self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Whether bytes were received that no command has consumed yet (after
    /// STARTTLS they must be dropped: they were sent in clear text).
    pub fn has_pending(&self) -> bool {
        self.pos < self.buf.len() || !self.cmd.is_empty()
    }

    /// Forgets every buffered byte.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.pos = 0;
        self.cmd.clear();
        self.state = State::Line;
        self.held.clear();
    }

    /// Bytes the reader holds (for tests of memory bounds).
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos + self.cmd.len()
    }

    /// Takes one bare line (without its line break), for IDLE's `DONE` and
    /// AUTHENTICATE's responses. `None` means more bytes are needed; an
    /// over-long line gives `Some(Err(()))` and is skipped.
    pub fn next_line(&mut self) -> Option<Result<Vec<u8>, ()>> {
        let rest = &self.buf[self.pos..];
        match rest.iter().position(|&b| b == b'\n') {
            Some(nl) => {
                let mut line = rest[..nl].to_vec();
                self.pos += nl + 1;
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.len() + 2 > self.limits.max_line { Some(Err(())) } else { Some(Ok(line)) }
            }
            None if rest.len() > self.limits.max_line => {
                self.pos = self.buf.len();
                self.state = State::SkipLine;
                Some(Err(()))
            }
            None => None,
        }
    }

    /// Advances as far as the buffered bytes allow. A command handed out by
    /// the previous call has been executed by now: what it held of the
    /// literal budget goes back.
    pub fn advance(&mut self) -> Event {
        if self.state == State::Line && self.cmd.is_empty() {
            self.held.clear();
        }
        loop {
            match self.state {
                State::SkipLiteral(left) => {
                    let take = left.min(self.buf.len() - self.pos);
                    self.pos += take;
                    if take < left {
                        self.state = State::SkipLiteral(left - take);
                        return Event::NeedMore;
                    }
                    self.state = State::SkipLine;
                }
                State::SkipLine => match self.buf[self.pos..].iter().position(|&b| b == b'\n') {
                    Some(nl) => {
                        self.pos += nl + 1;
                        self.state = State::Line;
                    }
                    None => {
                        self.pos = self.buf.len();
                        return Event::NeedMore;
                    }
                },
                State::Literal(left) => {
                    let take = left.min(self.buf.len() - self.pos);
                    self.cmd.extend_from_slice(&self.buf[self.pos..self.pos + take]);
                    self.pos += take;
                    if take < left {
                        self.state = State::Literal(left - take);
                        return Event::NeedMore;
                    }
                    self.state = State::Line;
                }
                State::Line => {
                    let rest = &self.buf[self.pos..];
                    let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                        if rest.len() > self.limits.max_line {
                            let tag = self.tag_so_far();
                            self.pos = self.buf.len();
                            self.cmd.clear();
                            self.state = State::SkipLine;
                            return Event::Bad { tag, text: "Command line too long".into() };
                        }
                        return Event::NeedMore;
                    };
                    if nl + 1 > self.limits.max_line {
                        let tag = self.tag_so_far();
                        self.pos += nl + 1;
                        self.cmd.clear();
                        return Event::Bad { tag, text: "Command line too long".into() };
                    }
                    let line_start = self.cmd.len();
                    self.cmd.extend_from_slice(&rest[..=nl]);
                    self.pos += nl + 1;
                    match literal_announcement(&self.cmd[line_start..]) {
                        None => return Event::Command(std::mem::take(&mut self.cmd)),
                        Some(Err(())) => {
                            let tag = self.tag_so_far();
                            self.cmd.clear();
                            return Event::Bad { tag, text: "Invalid literal length".into() };
                        }
                        Some(Ok((n, sync))) => {
                            let cap = if self.authenticated && self.is_append() {
                                self.limits.max_literal
                            } else {
                                self.limits.max_small_literal.min(self.limits.max_literal)
                            };
                            if n > cap || self.cmd.len() + n > self.limits.max_command {
                                let tag = self.tag_so_far();
                                self.cmd.clear();
                                self.held.clear();
                                if !sync {
                                    self.state = State::SkipLiteral(n);
                                }
                                let text = format!(
                                    "[TOOBIG] Literal of {n} bytes refused: the limit is {} bytes",
                                    cap.min(self.limits.max_command)
                                );
                                return Event::Bad { tag, text };
                            }
                            if n > self.limits.max_small_literal
                                && let Some(budget) = &self.budget
                            {
                                match budget.reserve(n) {
                                    Some(r) => self.held.push(r),
                                    None => {
                                        let tag = self.tag_so_far();
                                        self.cmd.clear();
                                        self.held.clear();
                                        if !sync {
                                            self.state = State::SkipLiteral(n);
                                        }
                                        let text = "[LIMIT] Serveur occupe, reessayez dans un instant / \
                                                    Server busy, try again shortly"
                                            .to_owned();
                                        return Event::No { tag, text };
                                    }
                                }
                            }
                            self.state = State::Literal(n);
                            if sync {
                                return Event::Continue;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Whether the command being read is an APPEND (its first line's second
    /// word), the one command that carries messages.
    fn is_append(&self) -> bool {
        let first = self.cmd.split(|&b| b == b'\n').next().unwrap_or(&[]);
        let mut words = first.split(|&b| b == b' ');
        words.next();
        words.next().is_some_and(|w| w.eq_ignore_ascii_case(b"APPEND"))
    }

    /// The tag of the command being read, or `*` when it is not a valid tag.
    fn tag_so_far(&self) -> String {
        let source = if self.cmd.is_empty() { &self.buf[self.pos.min(self.buf.len())..] } else { &self.cmd[..] };
        let end = source.iter().position(|&b| b == b' ' || b == b'\r' || b == b'\n').unwrap_or(source.len());
        let tag = &source[..end.min(64)];
        if !tag.is_empty() && end <= 64 && tag.iter().all(|&b| crate::parse::is_tag_char(b)) {
            String::from_utf8_lossy(tag).into_owned()
        } else {
            "*".to_owned()
        }
    }
}

/// Whether a line (with its line break) ends with a literal announcement:
/// `Some(Ok((length, synchronising)))`, `Some(Err(()))` for a malformed one.
fn literal_announcement(line: &[u8]) -> Option<Result<(usize, bool), ()>> {
    let line = line.strip_suffix(b"\n")?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let mut digits = &inner[open + 1..];
    let mut sync = true;
    if let Some(d) = digits.strip_suffix(b"+").or_else(|| digits.strip_suffix(b"-")) {
        digits = d;
        sync = false;
    }
    // `~{n}` (BINARY literals) is announced the same way.
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return Some(Err(()));
    }
    let n: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(usize::try_from(n).map(|n| (n, sync)).map_err(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Reader {
        let mut r = Reader::new(Limits { max_line: 64, max_literal: 100, max_command: 200, max_small_literal: 10 });
        r.set_authenticated(true);
        r
    }

    fn limits() -> Limits {
        Limits { max_line: 1024, max_literal: 64 << 20, max_command: 65 << 20, max_small_literal: 8 << 10 }
    }

    /// Issue 25, item 15: 12 unauthenticated connections each sending a
    /// 60 MiB LOGIN literal took 820 MB. Before login only small literals are
    /// accepted, whatever the command.
    #[test]
    fn large_literals_are_refused_before_login() {
        let mut r = Reader::new(limits());
        r.feed(b"a LOGIN {62914560}\r\n");
        let Event::Bad { tag, text } = r.advance() else { panic!() };
        assert_eq!((tag.as_str(), text.contains("[TOOBIG]")), ("a", true), "{text}");
        r.feed(b"b APPEND INBOX {100000+}\r\n");
        assert!(matches!(r.advance(), Event::Bad { tag, .. } if tag == "b"));
        r.feed(&vec![b'x'; 100_000]);
        r.feed(b"\r\nc LOGIN {24}\r\n");
        assert_eq!(r.advance(), Event::Continue);
        assert!(r.buffered() < 100, "{}", r.buffered());
    }

    /// After login, only APPEND carries a large literal.
    #[test]
    fn only_append_takes_large_literals_after_login() {
        let mut r = Reader::new(limits());
        r.set_authenticated(true);
        r.feed(b"a SEARCH TEXT {100000}\r\n");
        assert!(matches!(r.advance(), Event::Bad { tag, .. } if tag == "a"));
        r.feed(b"b append INBOX (\\Seen) {100000}\r\n");
        assert_eq!(r.advance(), Event::Continue);
    }

    /// Large literals are reserved from a budget shared by every session:
    /// when it is spent the command is refused for now (NO, not BAD), and
    /// the bytes come back once the command holding them was executed.
    #[test]
    fn large_literals_share_a_budget() {
        let budget = LiteralBudget::new(150_000);
        let mut one = Reader::with_budget(limits(), budget.clone());
        let mut two = Reader::with_budget(limits(), budget.clone());
        one.set_authenticated(true);
        two.set_authenticated(true);
        one.feed(b"a APPEND INBOX {100000}\r\n");
        assert_eq!(one.advance(), Event::Continue);
        assert_eq!(budget.used(), 100_000);
        two.feed(b"b APPEND INBOX {100000}\r\n");
        let Event::No { tag, text } = two.advance() else { panic!() };
        assert!(tag == "b" && text.starts_with("[LIMIT]"), "{text}");
        one.feed(&vec![b'x'; 100_000]);
        one.feed(b"\r\n");
        assert!(matches!(one.advance(), Event::Command(_)));
        // Still held while the session executes the command...
        assert_eq!(budget.used(), 100_000);
        // ...and given back when the session asks for the next one.
        assert_eq!(one.advance(), Event::NeedMore);
        assert_eq!(budget.used(), 0);
        two.feed(b"c APPEND INBOX {100000}\r\n");
        assert_eq!(two.advance(), Event::Continue);
        drop(two);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn commands_come_out_whole_even_when_split() {
        let mut r = small();
        r.feed(b"a1 NOOP\r");
        assert_eq!(r.advance(), Event::NeedMore);
        r.feed(b"\na2 CAPABILITY\r\na3");
        assert_eq!(r.advance(), Event::Command(b"a1 NOOP\r\n".to_vec()));
        assert_eq!(r.advance(), Event::Command(b"a2 CAPABILITY\r\n".to_vec()));
        assert_eq!(r.advance(), Event::NeedMore);
        assert!(r.has_pending());
    }

    #[test]
    fn synchronising_literals_ask_for_continuation() {
        let mut r = small();
        r.set_authenticated(false);
        r.feed(b"a LOGIN {5}\r\n");
        assert_eq!(r.advance(), Event::Continue);
        r.feed(b"cla");
        assert_eq!(r.advance(), Event::NeedMore);
        r.feed(b"ire {3+}\r\npw!\r\n");
        assert_eq!(r.advance(), Event::Command(b"a LOGIN {5}\r\nclaire {3+}\r\npw!\r\n".to_vec()));
    }

    #[test]
    fn oversized_input_is_refused_and_skipped() {
        let mut r = small();
        r.feed(b"t1 APPEND INBOX {1000}\r\nt2 NOOP\r\n");
        let Event::Bad { tag, text } = r.advance() else { panic!() };
        assert_eq!(tag, "t1");
        assert!(text.contains("[TOOBIG]"), "{text}");
        assert_eq!(r.advance(), Event::Command(b"t2 NOOP\r\n".to_vec()));

        // A non-synchronising literal's bytes are dropped without being kept.
        r.feed(b"t3 APPEND INBOX {150+}\r\n");
        assert!(matches!(r.advance(), Event::Bad { .. }));
        r.feed(&[b'x'; 150]);
        r.feed(b"\r\nt4 NOOP\r\n");
        assert_eq!(r.advance(), Event::Command(b"t4 NOOP\r\n".to_vec()));

        let mut long = b"t5 ".to_vec();
        long.extend_from_slice(&[b'a'; 100]);
        r.feed(&long);
        assert_eq!(r.advance(), Event::Bad { tag: "t5".into(), text: "Command line too long".into() });
        r.feed(&[b'a'; 1000]);
        assert_eq!(r.advance(), Event::NeedMore);
        assert!(r.buffered() < 64);
        r.feed(b"\r\nt6 NOOP\r\n");
        assert_eq!(r.advance(), Event::Command(b"t6 NOOP\r\n".to_vec()));
    }

    #[test]
    fn gigabyte_and_malformed_literals_are_bad() {
        let mut r = small();
        r.feed(b"x APPEND INBOX {99999999999999}\r\n");
        assert!(matches!(r.advance(), Event::Bad { .. }));
        r.feed(b"y LOGIN {a}\r\n");
        assert!(matches!(r.advance(), Event::Bad { tag, .. } if tag == "y"));
    }
}
