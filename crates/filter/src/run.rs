//! Running one compiled script on one message for one recipient: sieve-rs's
//! event loop answered from what was looked up beforehand (the account's
//! folders and included scripts), so a run never waits on I/O and its work
//! is bounded by the runtime's limits alone.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sieve::{Envelope, Event, Input, Mailbox, Recipient, Runtime, Script, Sieve};

/// What the script decided for this recipient.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// The copies to file: the Inbox (`keep`) and/or folders (`fileinto`).
    /// Empty with no rejection means the message is discarded.
    pub filings: Vec<Filing>,
    /// `reject`/`ereject` with its reason: the message is refused for this
    /// recipient.
    pub reject: Option<String>,
    /// `redirect` targets (the message itself is sent on).
    pub redirects: Vec<String>,
    /// `vacation` replies to send, each once per sender and period.
    pub replies: Vec<Reply>,
}

/// One copy to file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filing {
    /// `None` is the Inbox.
    pub folder: Option<String>,
    /// `fileinto :create`: make the folder when missing. Without it, a
    /// missing folder means the Inbox (RFC 5490 section 3.2, RFC 5228 4.1).
    pub create: bool,
    /// IMAP flags and keywords (`imap4flags`), as the script spelled them.
    pub flags: Vec<String>,
}

impl Filing {
    pub fn inbox() -> Filing {
        Filing { folder: None, create: false, flags: Vec::new() }
    }
}

/// A `vacation` reply the script wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Who was answered and with which handle: the same key within
    /// `period_secs` is not answered again.
    pub key: String,
    pub period_secs: u64,
    /// The envelope recipient of the reply (the original sender).
    pub to: String,
    /// The whole reply, headers included.
    pub message: Vec<u8>,
}

/// Why a run did not give a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The script includes a personal script not looked up yet: look it up
    /// and run again.
    NeedInclude(String),
    /// The script failed (runtime error, limits reached, missing include):
    /// the message goes to the Inbox.
    Failed(String),
}

/// What a run needs to know about the recipient.
pub(crate) struct Facts<'a> {
    pub user_address: &'a str,
    /// The user's display name, for the From of a vacation reply.
    pub user_name: &'a str,
    pub mail_from: Option<&'a str>,
    pub rcpt_to: &'a str,
    pub folders: &'a HashSet<String>,
    /// Personal scripts looked up so far (`None`: no such script).
    pub includes: &'a HashMap<String, Option<Arc<Sieve>>>,
    /// The administrators' script, `include :global "ardoise-admin"`.
    pub global: Option<Arc<Sieve>>,
    /// The MX's spam and virus verdicts, for `spamtest`/`virustest`.
    pub screening: crate::sort::Screening,
}

/// Runs `script` on `message` for one recipient.
pub(crate) fn execute(
    runtime: &Runtime,
    name: &str,
    script: Arc<Sieve>,
    message: &[u8],
    who: &Facts<'_>,
) -> Result<Decision, Stop> {
    let mut ctx = runtime.filter(message);
    ctx.set_user_address(who.user_address.to_owned());
    if !who.user_name.trim().is_empty() {
        ctx.set_user_full_name(who.user_name.trim());
    }
    if let Some(from) = who.mail_from {
        ctx.set_envelope(Envelope::From, from.to_owned());
    }
    ctx.set_envelope(Envelope::To, who.rcpt_to.to_owned());
    ctx.set_spam_status(u32::from(who.screening.spamtest));
    ctx.set_virus_status(u32::from(who.screening.virustest));

    let mut decision = Decision::default();
    let mut created: HashMap<usize, Vec<u8>> = HashMap::new();
    let mut pending_reply: Option<(String, u64)> = None;
    // Folders created by an earlier `fileinto :create` of this run exist.
    let mut made: HashSet<String> = HashSet::new();
    let mut input = Input::script(name.to_owned(), script);
    while let Some(result) = ctx.run(input) {
        input = Input::True;
        let event = result.map_err(|e| Stop::Failed(e.to_string()))?;
        match event {
            Event::IncludeScript { name, optional } => {
                let personal = match &name {
                    Script::Personal(personal) => personal,
                    Script::Global(global) if global == crate::admin::GLOBAL_NAME && who.global.is_some() => {
                        input = Input::script(name.clone(), who.global.clone().expect("checked"));
                        continue;
                    }
                    Script::Global(_) if optional => {
                        input = Input::False;
                        continue;
                    }
                    Script::Global(_) => return Err(Stop::Failed(format!("script global {name:?} introuvable"))),
                };
                match who.includes.get(personal.as_str()) {
                    None => return Err(Stop::NeedInclude(personal.clone())),
                    Some(Some(found)) => input = Input::script(name, found.clone()),
                    Some(None) if optional => input = Input::False,
                    Some(None) => return Err(Stop::Failed(format!("script inclus {personal:?} introuvable"))),
                }
            }
            Event::MailboxExists { mailboxes, special_use } => {
                let all = special_use.is_empty()
                    && mailboxes.iter().all(|m| match m {
                        Mailbox::Name(n) => exists(who.folders, &made, n),
                        Mailbox::Id(_) => false,
                    });
                input = all.into();
            }
            Event::ListContains { .. } => input = Input::False,
            Event::DuplicateId { id, expiry, .. } => {
                // Only `vacation` asks (the duplicate extension is off): the
                // answer "not seen" lets the reply be written, and whether it
                // is sent is decided once, atomically, with the store.
                pending_reply = Some((id, expiry));
                input = Input::False;
            }
            Event::Function { .. } | Event::SetEnvelope { .. } | Event::Notify { .. } => {}
            Event::Keep { flags, .. } => decision.filings.push(Filing { folder: None, create: false, flags }),
            Event::FileInto { folder, flags, create, .. } => {
                if create {
                    made.insert(folder.clone());
                }
                decision.filings.push(Filing { folder: Some(folder), create, flags });
            }
            Event::Discard => {}
            Event::Reject { reason, .. } => decision.reject = Some(reason),
            Event::CreatedMessage { message_id, message } => {
                created.insert(message_id, message);
            }
            Event::SendMessage { recipient, message_id, .. } => {
                let to = match recipient {
                    Recipient::Address(a) | Recipient::List(a) => a,
                    Recipient::Group(mut all) => all.pop().unwrap_or_default(),
                };
                match (created.remove(&message_id), pending_reply.take()) {
                    (Some(message), Some((key, period_secs))) if message_id != 0 => {
                        decision.replies.push(Reply { key, period_secs, to, message: crate::reply::encoded(message) })
                    }
                    _ => decision.redirects.push(to),
                }
            }
        }
    }
    Ok(decision)
}

/// Runs `script` on `message` with nothing looked up: a recipient
/// `claire.martin@ac-demo.fr` without folders or included scripts, no
/// verdicts, this server's default bounds. For the fuzz target (`fuzz/`,
/// `sieve_run`) and tests of hostile input; delivery uses [`execute`].
pub fn detached(script: Arc<Sieve>, message: &[u8]) -> Result<Decision, String> {
    static RUNTIME: std::sync::LazyLock<Runtime> =
        std::sync::LazyLock::new(|| crate::compile::runtime(&crate::RunLimits::default(), "localhost"));
    let (folders, includes) = (HashSet::new(), HashMap::new());
    let facts = Facts {
        user_address: "claire.martin@ac-demo.fr",
        user_name: "Claire Martin",
        mail_from: Some("paul.durand@ac-autre.fr"),
        rcpt_to: "claire.martin@ac-demo.fr",
        folders: &folders,
        includes: &includes,
        screening: crate::sort::Screening::default(),
        global: None,
    };
    execute(&RUNTIME, "fuzz", script, message, &facts).map_err(|stop| match stop {
        Stop::NeedInclude(name) => format!("include {name}"),
        Stop::Failed(why) => why,
    })
}

fn exists(folders: &HashSet<String>, made: &HashSet<String>, name: &str) -> bool {
    made.contains(name) || folders.contains(name) || (name.eq_ignore_ascii_case("INBOX") && folders.contains("INBOX"))
}
