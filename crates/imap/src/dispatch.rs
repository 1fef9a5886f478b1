//! Which command runs in which state. [`Session::dispatch`] is one
//! exhaustive `match` over [`Body`], grouped by the state a command needs,
//! with no catch-all: a new command does not compile until it is placed.
//! A command of the authenticated state receives the login
//! ([`crate::state::Authed`]), one of the selected state the login and the
//! [`crate::selected::Selected`] mailbox, both taken from the [`State`]
//! (BAD when they are missing, as RFC 9051 wants);
//! the commands that change state (LOGIN, SELECT, CLOSE, DELETE, LOGOUT)
//! receive the state itself.

use tokio::io::{AsyncRead, AsyncWrite};

use crate::command::{AppendItem, Body, Command};
use crate::reply::Done;
use crate::session::{Conn, Session, Tls, Upgrade};
use crate::state::{State, log_in_first};

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<'_, S> {
    /// Runs one command, reports what changed in the selected mailbox
    /// meanwhile, and writes the tagged completion.
    pub(crate) async fn execute(&mut self, cmd: Command) {
        let Command { tag, body } = cmd;
        let (label, started) = (body.label(), std::time::Instant::now());
        let was_selected = self.state.is_selected();
        // EXPUNGE responses may not interrupt FETCH, STORE or SEARCH by sequence number.
        let may_expunge = !matches!(
            body,
            Body::Fetch { uid: false, .. } | Body::Store { uid: false, .. } | Body::Search { uid: false, .. }
        );
        // Boxed: the nested command futures are large, and polling them unboxed
        // takes more stack than a worker thread has in debug builds.
        let done = Box::pin(self.dispatch(&tag, body)).await.unwrap_or_else(|refused| refused);
        if was_selected
            && let State::Selected(_, selected) = &mut self.state
            && let Err(e) = Box::pin(self.conn.sync(selected, may_expunge)).await
        {
            tracing::warn!(error = %e, "mailbox resynchronisation failed");
        }
        done.write(&tag, &mut self.conn.out);
        // IDLE lasts as long as the client waits: its time says nothing of ours.
        if label != "IDLE" {
            metrics::histogram!("ardoise_imap_command_seconds", "command" => label)
                .record(started.elapsed().as_secs_f64());
        }
    }

    /// The command's completion; `Err` when the state does not allow it.
    /// Every handler is boxed, so that the future a session keeps while it
    /// sits in IDLE is only as large as the small arms.
    async fn dispatch(&mut self, tag: &str, body: Body) -> Result<Done, Done> {
        let Session { state, conn } = self;
        Ok(match body {
            // Any state.
            Body::Capability => {
                let caps = conn.capabilities(state);
                conn.untagged(&format!("CAPABILITY {caps}"));
                Done::ok("CAPABILITY completed")
            }
            Body::Noop | Body::Check => Done::ok("NOOP completed"),
            Body::Logout => {
                conn.untagged("BYE Ardoise IMAP server logging out");
                *state = State::Logout;
                Done::ok("LOGOUT completed")
            }
            Body::Id => {
                conn.untagged("ID (\"name\" \"Ardoise\" \"vendor\" \"Ardoise\")");
                Done::ok("ID completed")
            }
            Body::Namespace => {
                // RFC 2342: personal, other users' (the folders shared with
                // the user, `Partages/<owner>/...`), no public one.
                conn.untagged("NAMESPACE ((\"\" \"/\")) ((\"Partages/\" \"/\")) NIL");
                Done::ok("NAMESPACE completed")
            }

            // Not authenticated.
            Body::StartTls => conn.start_tls(state),
            Body::Login { user, password } => {
                if state.is_authenticated() {
                    return Err(Done::bad("Already authenticated"));
                }
                let attempt = Box::pin(conn.login(&user, &password)).await;
                conn.settle(state, attempt)
            }
            Body::Authenticate { mechanism, initial } => {
                if state.is_authenticated() {
                    return Err(Done::bad("Already authenticated"));
                }
                let attempt = Box::pin(conn.authenticate(&mechanism, initial)).await;
                conn.settle(state, attempt)
            }

            // Authenticated (or selected).
            Body::Enable(caps) => {
                state.authed()?;
                conn.enable(caps, state.selected().ok().map(|(_, sel)| &*sel))
            }
            Body::Compress(mechanism) => {
                state.authed()?;
                conn.compress(&mechanism)
            }
            Body::Idle => {
                let (authed, selected) = state.parts().ok_or_else(log_in_first)?;
                match Box::pin(conn.idle(authed, selected)).await {
                    Ok(done) => done,
                    Err(closed) => {
                        *state = State::Logout;
                        closed
                    }
                }
            }
            Body::Select { mailbox, read_only, condstore, qresync } => {
                state.authed()?;
                Box::pin(conn.select(state, &mailbox, read_only, condstore, qresync)).await
            }
            Body::List { reference, patterns, options, lsub, status } => {
                let authed = state.authed()?;
                Box::pin(conn.list(authed, reference, patterns, options, lsub, &status)).await
            }
            Body::Status { mailbox, items } => Box::pin(conn.status(state.authed()?, &mailbox, &items)).await,
            Body::Create { mailbox, special_use } => {
                Box::pin(conn.create(state.authed()?, &mailbox, &special_use)).await
            }
            Body::Delete(mailbox) => {
                state.authed()?;
                Box::pin(conn.delete(state, &mailbox)).await
            }
            Body::Rename { from, to } => Box::pin(conn.rename(state.authed()?, &from, &to)).await,
            Body::Subscribe(mailbox) => Box::pin(conn.subscribe(state.authed()?, &mailbox, true)).await,
            Body::Unsubscribe(mailbox) => Box::pin(conn.subscribe(state.authed()?, &mailbox, false)).await,
            Body::Append { mailbox, flags, date, message, catenate, more } => {
                let authed = state.authed()?;
                let mut items = vec![AppendItem { flags, date, message, catenate }];
                items.extend(more);
                Box::pin(conn.append(authed, &mailbox, items)).await
            }
            Body::GetQuota(root) => Box::pin(conn.get_quota(state.authed()?, &root)).await,
            Body::GetQuotaRoot(mailbox) => Box::pin(conn.get_quota_root(state.authed()?, &mailbox)).await,
            Body::SetQuota => {
                state.authed()?;
                Done::no("[NOPERM] Les quotas sont fixes par l'administration / Quotas are set by administrators")
            }
            Body::MyRights(mailbox) => Box::pin(conn.my_rights(state.authed()?, &mailbox)).await,
            Body::GetAcl(mailbox) => Box::pin(conn.get_acl(state.authed()?, &mailbox)).await,
            Body::ListRights { mailbox, identifier } => {
                Box::pin(conn.list_rights(state.authed()?, &mailbox, &identifier)).await
            }
            Body::SetAcl { mailbox, identifier, rights } => {
                Box::pin(conn.set_acl(state.authed()?, &mailbox, &identifier, Some(&rights))).await
            }
            Body::DeleteAcl { mailbox, identifier } => {
                Box::pin(conn.set_acl(state.authed()?, &mailbox, &identifier, None)).await
            }

            // Selected.
            Body::Close => {
                state.selected()?;
                Box::pin(conn.close(state, true)).await
            }
            Body::Unselect => {
                state.selected()?;
                Box::pin(conn.close(state, false)).await
            }
            Body::Expunge { uids } => {
                let (authed, selected) = state.selected()?;
                let uids = uids.map(|set| selected.unsave(true, set));
                Box::pin(conn.expunge(authed, selected, uids.as_ref())).await
            }
            Body::Fetch { uid, set, items, changed_since, vanished } => {
                let (_, selected) = state.selected()?;
                let set = selected.unsave(uid, set);
                let request = crate::fetch::Request { uid, set, items, changed_since, vanished };
                Box::pin(conn.fetch_command(selected, request)).await
            }
            Body::Store { uid, set, mode, silent, flags, unchanged_since } => {
                let (authed, selected) = state.selected()?;
                let indices = selected.indices(uid, &selected.unsave(uid, set))?;
                let change = crate::messages::FlagChange { mode, silent, flags: &flags, unchanged_since };
                Box::pin(conn.store_flags(authed, selected, uid, indices, change)).await
            }
            Body::Copy { uid, set, mailbox, moving } => {
                let (authed, selected) = state.selected()?;
                let indices = selected.indices(uid, &selected.unsave(uid, set))?;
                Box::pin(conn.copy(authed, selected, uid, indices, &mailbox, moving)).await
            }
            Body::Search { uid, key, esearch } => {
                let (_, selected) = state.selected()?;
                Box::pin(conn.search(tag, selected, uid, &key, esearch.as_ref())).await
            }
            Body::Notify(set) => {
                let (authed, selected) = state.parts().ok_or_else(log_in_first)?;
                Box::pin(conn.notify_command(authed, selected.as_deref(), set)).await
            }
            Body::CancelUpdate(tags) => {
                let (_, selected) = state.selected()?;
                crate::context::cancel(selected, &tags)
            }
            Body::Sort { uid, criteria, key, esort } => {
                let (_, selected) = state.selected()?;
                Box::pin(conn.sort(tag, selected, uid, (&criteria, &key), esort.as_ref())).await
            }
            Body::Thread { uid, references, key } => {
                let (_, selected) = state.selected()?;
                Box::pin(conn.thread(selected, uid, references, &key)).await
            }
        })
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Conn<'_, S> {
    /// STARTTLS: only on a cleartext listener that offers it, before login.
    fn start_tls(&mut self, state: &State) -> Done {
        if self.tls != Tls::Offered {
            return Done::bad("TLS is already active or not available here");
        }
        if state.is_authenticated() {
            return Done::bad("STARTTLS is only valid before authentication");
        }
        // Bytes pipelined after STARTTLS came in clear text: drop them.
        self.reader.clear();
        self.upgrade = Some(Upgrade::StartTls);
        Done::ok("Begin TLS negotiation now")
    }

    fn enable(&mut self, caps: Vec<String>, selected: Option<&crate::selected::Selected>) -> Done {
        let condstore_before = self.enabled.condstore;
        let enabled: Vec<String> = caps.into_iter().filter(|cap| self.enabled.enable(cap)).collect();
        self.untagged(format!("ENABLED {}", enabled.join(" ")).trim_end());
        if let (false, true, Some(sel)) = (condstore_before, self.enabled.condstore, selected) {
            self.say(crate::untagged::Untagged::Ok(crate::untagged::Code::HighestModseq(sel.modseq)));
        }
        Done::ok("ENABLE completed")
    }

    fn compress(&mut self, mechanism: &str) -> Done {
        if self.deflate.is_some() {
            Done::no("[COMPRESSIONACTIVE] Compression is already on")
        } else if mechanism != "DEFLATE" {
            Done::bad("Only COMPRESS DEFLATE is supported")
        } else {
            // Anything pipelined after COMPRESS was sent before the client knew the answer.
            self.reader.clear();
            self.upgrade = Some(Upgrade::Deflate);
            Done::ok("DEFLATE active")
        }
    }
}
