//! Tagged completions, and the one place where domain errors become IMAP
//! responses: a temporary failure is `NO [UNAVAILABLE]` (try again), a
//! permanent one carries the response code that says why.

use model::{ErrorKind, Transience};

/// The tagged completion of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub status: &'static str,
    /// Response text, with its `[CODE]` first when there is one.
    pub text: String,
}

impl Done {
    pub fn ok(text: &str) -> Done {
        Done { status: "OK", text: text.to_owned() }
    }
    pub fn no(text: &str) -> Done {
        Done { status: "NO", text: text.to_owned() }
    }
    pub fn bad(text: &str) -> Done {
        Done { status: "BAD", text: text.to_owned() }
    }
    pub fn write(&self, tag: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(format!("{tag} {} {}\r\n", self.status, self.text).as_bytes());
    }
}

/// The response to a failed domain operation. Details go to the log, not
/// to the client (they may name internal tables or paths).
pub fn failure(e: &mailstore::Error) -> Done {
    match e {
        mailstore::Error::NotFound(what) => return Done::no(&format!("[NONEXISTENT] No such {what}")),
        mailstore::Error::Conflict(text) => return Done::no(&format!("[ALREADYEXISTS] {}", one_line(text))),
        mailstore::Error::Invalid(text) => return Done::no(&format!("[CANNOT] {}", one_line(text))),
        _ => {}
    }
    match e.transience() {
        Transience::Temporary => {
            tracing::warn!(error = %e, "temporary failure");
            Done::no("[UNAVAILABLE] Temporary failure, try again later")
        }
        Transience::Permanent => {
            tracing::error!(error = %e, "command failed");
            Done::no("[SERVERBUG] The server could not complete the command")
        }
    }
}

/// [`failure`] taking the error, for `map_err`.
pub fn failed(e: mailstore::Error) -> Done {
    failure(&e)
}

fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}
