//! One simulated client: runs commands, times them, and checks every answer
//! against its view of the mailbox. [`Client::mix_session`] is one imaptest
//! session (LOGIN to LOGOUT); the other workloads are in `workload`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::check::{Account, View, appenduid, check_status, has_flag, is_inbox};
use crate::conn::{Conn, Reply, Target};
use crate::mix::{self, Mix, Step};
use crate::resp::{Response, Status, Value};
use crate::stats::Stats;

/// Settings shared by every client.
pub struct Setup {
    pub target: Target,
    pub password: String,
    pub accounts: Vec<Arc<Account>>,
    pub seed: u64,
    pub size: usize,
    pub mix: Mix,
    /// When the measured phase started, and how long it lasts.
    pub started: Instant,
    pub duration: std::time::Duration,
    /// For `append`: the measured phase starts once every client has logged
    /// in (set by the last one), so that LOGIN costs do not count.
    pub phase: std::sync::OnceLock<Instant>,
    /// Commands left for the whole run (when an op count is given).
    pub budget: Option<std::sync::atomic::AtomicI64>,
}

impl Setup {
    /// Start of the measured phase.
    pub fn start(&self) -> Instant {
        *self.phase.get().unwrap_or(&self.started)
    }

    /// Whether the run is over (time or command budget).
    pub fn over(&self) -> bool {
        Instant::now() >= self.start() + self.duration
            || self.budget.as_ref().is_some_and(|b| b.fetch_sub(1, std::sync::atomic::Ordering::Relaxed) <= 0)
    }
}

pub struct Client {
    pub id: u32,
    pub rng: StdRng,
    pub account: Arc<Account>,
    pub stats: Stats,
    /// Number of the next message this client appends (unique per client).
    pub next_message: u64,
    /// Set while a FETCH or STORE runs: see [`Client::exec_tolerant`].
    tolerate_expunged: bool,
}

/// The run stopped (deadline or budget) in the middle of a session.
pub struct Stop;

impl Client {
    pub fn new(id: u32, setup: &Setup) -> Client {
        let account = setup.accounts[id as usize % setup.accounts.len()].clone();
        let rng = StdRng::seed_from_u64(setup.seed.wrapping_add(u64::from(id) * 7919));
        Client {
            id,
            rng,
            account,
            stats: Stats::default(),
            next_message: 1_000_000 * (u64::from(id) + 1),
            tolerate_expunged: false,
        }
    }

    /// Runs one command, times it, applies and checks the untagged replies
    /// against `view`. A BAD is always a protocol error; so is a NO, except
    /// one about expunged messages during FETCH or STORE (counted as tolerated).
    pub async fn exec(
        &mut self,
        conn: &mut Conn,
        kind: &'static str,
        line: &str,
        literal: Option<&[u8]>,
        view: &mut View,
    ) -> anyhow::Result<Reply> {
        view.exists_seen = false;
        let t = Instant::now();
        let reply = conn.command(line, literal).await?;
        self.stats.record(kind, t.elapsed());
        for r in &reply.untagged {
            let res = match r {
                Response::Exists(n) => view.exists(*n),
                Response::Expunge(n) => view.expunge(*n),
                Response::Fetch(n, items) => {
                    for e in self.account.fetched(items) {
                        self.stats.consistency(e);
                    }
                    view.fetch(*n)
                }
                Response::State { status: Status::Bye, text, .. } if kind != "LOGOUT" => {
                    Err(format!("unexpected BYE during {kind}: {text}"))
                }
                _ => Ok(()),
            };
            if let Err(e) = res {
                self.stats.consistency(format!("{kind}: {e}"));
            }
        }
        match reply.status {
            Status::Ok => {}
            Status::Bad => self.stats.protocol(format!("{kind} replied BAD {}", reply.text)),
            Status::No if self.tolerate_expunged && about_vanished(&reply.text) => self.stats.tolerated_no += 1,
            _ => self.stats.protocol(format!("{kind} replied NO {}", reply.text)),
        }
        Ok(reply)
    }

    /// One imaptest session on a new connection. `Err(Stop)` when the run
    /// ended during it; connection errors abort the session (counted).
    pub async fn mix_session(&mut self, setup: &Setup) -> Result<(), Stop> {
        let steps = setup.mix.session(&mut self.rng);
        let mut conn = match Conn::connect(&setup.target).await {
            Ok(c) => c,
            Err(e) => {
                self.stats.aborted(format!("{e:#}"));
                return Ok(());
            }
        };
        let mut view = View::default();
        self.stats.sessions += 1;
        for step in steps {
            if setup.over() {
                return Err(Stop);
            }
            match self.step(&mut conn, setup, step, &mut view).await {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => {
                    self.stats.aborted(format!("{}: {e:#}", step.name()));
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Runs one step; `Ok(false)` ends the session (failed LOGIN, LOGOUT).
    async fn step(&mut self, conn: &mut Conn, setup: &Setup, step: Step, view: &mut View) -> anyhow::Result<bool> {
        let msgs = view.count;
        let selected_step = matches!(step, Step::Fetch | Step::Fetch2 | Step::Store | Step::Delete | Step::Expunge);
        if selected_step && msgs == 0 {
            return Ok(true); // imaptest: "no messages, no point in doing this command"
        }
        let name = step.name();
        match step {
            Step::Login => {
                let line = format!("LOGIN \"{}\" \"{}\"", self.account.login, setup.password);
                return Ok(self.exec(conn, name, &line, None, view).await?.status == Status::Ok);
            }
            Step::List => {
                let r = self.exec(conn, name, "LIST \"\" *", None, view).await?;
                let inbox = r
                    .untagged
                    .iter()
                    .any(|u| matches!(u, Response::Data(n, v) if n == "LIST" && v.last().is_some_and(is_inbox)));
                if r.status == Status::Ok && !inbox {
                    self.stats.consistency("LIST without INBOX".into());
                }
            }
            Step::Status => {
                let r = self.exec(conn, name, "STATUS INBOX (MESSAGES UNSEEN RECENT)", None, view).await?;
                if r.status == Status::Ok
                    && let Err(e) = check_status(&r.untagged)
                {
                    self.stats.consistency(e);
                }
            }
            Step::Select => {
                let r = self.exec(conn, name, "SELECT INBOX", None, view).await?;
                let validity = r.untagged.iter().find_map(|u| match u {
                    Response::State { code: Some(c), .. } => c.strip_prefix("UIDVALIDITY ")?.trim().parse().ok(),
                    _ => None,
                });
                let exists = r.untagged.iter().any(|u| matches!(u, Response::Exists(_)));
                if r.status == Status::Ok {
                    match validity {
                        Some(v) => {
                            if let Err(e) = self.account.uidvalidity(v) {
                                self.stats.consistency(e);
                            }
                        }
                        None => self.stats.consistency("SELECT without UIDVALIDITY".into()),
                    }
                    if !exists {
                        self.stats.consistency("SELECT without EXISTS".into());
                    }
                }
            }
            Step::Fetch => {
                let seqs = mix::random_seqs(&mut self.rng, msgs, msgs.min(100));
                let items = mix::fetch_items(&mut self.rng);
                let line = format!("FETCH {} ({})", mix::seq_set(&seqs), items.join(" "));
                let r = self.exec_tolerant(conn, name, &line, view).await?;
                if r.status == Status::Ok {
                    self.check_fetch(&r, &seqs, &items, name);
                }
            }
            Step::Fetch2 => {
                let seq = self.rng.gen_range(1..=msgs);
                let item = mix::fetch2_item(&mut self.rng);
                let r = self.exec_tolerant(conn, name, &format!("FETCH {seq} (UID {item})"), view).await?;
                if r.status == Status::Ok {
                    self.check_fetch(&r, &[seq], &["UID".to_owned(), item.to_owned()], name);
                }
            }
            Step::Store => {
                let count = mix::store_count(&mut self.rng, msgs);
                let seqs = mix::random_seqs(&mut self.rng, msgs, count);
                if seqs.is_empty() {
                    return Ok(true);
                }
                let add = self.rng.gen_bool(0.5);
                let silent = self.rng.gen_bool(0.5);
                let keyword = format!("$Load{}", self.id);
                let system = ["\\Seen", "\\Flagged", "\\Answered", "\\Draft"][self.rng.gen_range(0..4)];
                let line = format!(
                    "STORE {} {}FLAGS{} ({system} {keyword})",
                    mix::seq_set(&seqs),
                    if add { '+' } else { '-' },
                    if silent { ".SILENT" } else { "" }
                );
                let r = self.exec_tolerant(conn, name, &line, view).await?;
                if r.status == Status::Ok && !silent {
                    self.check_flags(&r, &seqs, &keyword, add);
                }
            }
            Step::Delete => {
                let count = setup.mix.delete_count(&mut self.rng, msgs);
                let seqs = mix::random_seqs(&mut self.rng, msgs, count);
                if seqs.is_empty() {
                    return Ok(true);
                }
                let silent = self.rng.gen_bool(0.5);
                let line =
                    format!("STORE {} +FLAGS{} (\\Deleted)", mix::seq_set(&seqs), if silent { ".SILENT" } else { "" });
                let r = self.exec_tolerant(conn, name, &line, view).await?;
                if r.status == Status::Ok {
                    if !silent {
                        self.check_flags(&r, &seqs, "\\Deleted", true);
                    }
                    view.mark_deleted(&seqs);
                }
            }
            Step::Expunge => {
                let r = self.exec(conn, name, "EXPUNGE", None, view).await?;
                if r.status == Status::Ok && !view.deleted.is_empty() {
                    let n = view.deleted.len();
                    self.stats.consistency(format!("{n} message(s) marked \\Deleted still there after EXPUNGE"));
                }
                view.deleted.clear();
            }
            Step::Append => {
                if !setup.mix.appends(msgs) {
                    return Ok(true);
                }
                self.append(conn, setup, view).await?;
                if !view.exists_seen {
                    self.stats.consistency("no EXISTS after APPEND into the selected mailbox".into());
                }
            }
            Step::Logout => {
                let r = self.exec(conn, name, "LOGOUT", None, view).await?;
                let bye = r.untagged.iter().any(|u| matches!(u, Response::State { status: Status::Bye, .. }));
                if !bye {
                    self.stats.protocol("LOGOUT without BYE".into());
                }
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// FETCH and STORE may meet messages another session expunged: a NO
    /// that says so is tolerated (RFC 2180 §4.1-4.2 allow it; imaptest
    /// tolerates it too), not an error.
    async fn exec_tolerant(
        &mut self,
        conn: &mut Conn,
        kind: &'static str,
        line: &str,
        view: &mut View,
    ) -> anyhow::Result<Reply> {
        self.tolerate_expunged = true;
        let r = self.exec(conn, kind, line, None, view).await;
        self.tolerate_expunged = false;
        r
    }

    /// APPENDs one new message to INBOX (random flags and date, as imaptest)
    /// and records it under its APPENDUID.
    pub async fn append(&mut self, conn: &mut Conn, setup: &Setup, view: &mut View) -> anyhow::Result<Reply> {
        let data = crate::message::build(setup.seed, self.account.number, self.next_message, setup.size);
        self.next_message += 1;
        let mut line = "APPEND INBOX".to_owned();
        if self.rng.gen_bool(0.5) {
            line.push_str([" (\\Seen)", " (\\Flagged)", " (\\Answered \\Seen)", " ()"][self.rng.gen_range(0..4)]);
        }
        if self.rng.gen_bool(0.5) {
            line.push_str(&format!(
                " \"{:02}-Oct-2026 10:{:02}:00 +0200\"",
                self.rng.gen_range(1..29),
                self.rng.gen_range(0..60)
            ));
        }
        let r = self.exec(conn, "APPEND", &line, Some(&data), view).await?;
        if r.status == Status::Ok
            && let Some((validity, uid)) = appenduid(&r)
        {
            if let Err(e) = self.account.uidvalidity(validity) {
                self.stats.consistency(e);
            }
            self.account.appended(uid, &data);
        }
        Ok(r)
    }

    /// Every requested message must come back with every requested item.
    fn check_fetch(&mut self, r: &Reply, seqs: &[u32], items: &[String], kind: &str) {
        let got = merge_fetches(r);
        for &s in seqs {
            let Some(attrs) = got.get(&s) else {
                self.stats.consistency(format!("{kind}: no FETCH response for message {s}"));
                continue;
            };
            for item in items {
                let want = mix::response_name(item);
                let found = if want.starts_with("BODY[HEADER.FIELDS") {
                    attrs.iter().any(|(n, _)| n.starts_with("BODY[HEADER.FIELDS"))
                } else {
                    attrs.iter().any(|(n, _)| *n == want)
                };
                if !found {
                    self.stats.consistency(format!("{kind}: {want} missing for message {s}"));
                }
            }
        }
    }

    /// After a non-silent STORE, any FLAGS returned for the stored messages
    /// must show the change (a flag only this client touches, or `\Deleted`,
    /// which nobody removes).
    fn check_flags(&mut self, r: &Reply, seqs: &[u32], flag: &str, set: bool) {
        for (seq, attrs) in merge_fetches(r) {
            if !seqs.contains(&seq) {
                continue;
            }
            if let Some((_, flags)) = attrs.iter().find(|(n, _)| n == "FLAGS")
                && has_flag(flags, flag) != set
            {
                let what = if set { "missing" } else { "still set" };
                self.stats.consistency(format!("STORE: {flag} {what} on message {seq}"));
            }
        }
    }
}

/// Whether a NO's text says the messages are gone (Dovecot: "Some messages
/// were also expunged"; Ardoise: "No such message").
fn about_vanished(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("expunge") || t.contains("no such message")
}

fn merge_fetches(r: &Reply) -> BTreeMap<u32, Vec<(String, Value)>> {
    let mut got: BTreeMap<u32, Vec<(String, Value)>> = BTreeMap::new();
    for u in &r.untagged {
        if let Response::Fetch(n, attrs) = u {
            got.entry(*n).or_default().extend(attrs.iter().cloned());
        }
    }
    got
}
