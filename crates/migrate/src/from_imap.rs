//! `ardoise migrate imap`: accounts copied from another IMAP server, several
//! at once, folder by folder. Messages are filed in groups, each group with
//! its rows of the map of migrated messages in one transaction, so that a
//! run killed half-way resumes after the last group committed; a rerun copies only what is new
//! (absent from the map, and whose Message-ID, date and size are not
//! already in the target folder, as imapsync checks), and brings the flags
//! of what was copied before up to date with the source.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use mailstore::{Bytes, FlagOp, Mailbox, Mailstore, SourceFolder, SourceMessage};
use model::AccountId;
use tokio::sync::Semaphore;

use crate::folders::{self, Destination, FolderMap};
use crate::imap::client::{Client, ImapError, Response, Security, quote};
use crate::imap::proto::{self, ListEntry};
use crate::progress::{Bars, ItemBar};
use crate::report::{Outcome, Report};
use crate::target::{Contents, Fingerprint, Target, flags_from_imap};
use model::mutf7;

/// UIDs asked for in one `UID FETCH` of bodies.
const FETCH_BATCH: usize = 100;
/// Messages read from the source and not yet filed, at most.
const WAITING: usize = 64;
/// Groups being filed at once: one commits while the next one's files are
/// written.
const GROUPS: usize = 2;
/// One group (one transaction) holds at most this many messages...
const GROUP_MESSAGES: usize = 64;
/// ... and this many bytes (a group of one may be larger).
const GROUP_BYTES: usize = 32 << 20;

/// The server to copy from.
#[derive(Clone)]
pub struct Source {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub tls: Arc<rustls::ClientConfig>,
    /// A master login (Dovecot's `user*master`) and its password.
    pub master: Option<(String, String)>,
}

/// One account to copy.
#[derive(Debug, Clone)]
pub struct AccountJob {
    pub source_login: String,
    /// Unused with a master login.
    pub password: Option<String>,
    pub target: AccountId,
    pub target_address: String,
}

/// What the run does.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub folder_map: FolderMap,
    /// Lists what would be copied; writes nothing.
    pub dry_run: bool,
    /// Compares counts and flags on both sides; copies nothing.
    pub verify: bool,
}

/// Copies every account, at most `jobs` at once; the report holds every
/// message's outcome.
pub async fn run(
    mailstore: Arc<Mailstore>,
    source: Source,
    accounts: Vec<AccountJob>,
    options: Options,
    jobs: usize,
) -> Arc<Report> {
    let report = Arc::new(Report::new());
    let bars = Bars::new();
    let gate = Arc::new(Semaphore::new(jobs.max(1)));
    let source = Arc::new(source);
    let options = Arc::new(options);
    let mut tasks = tokio::task::JoinSet::new();
    for job in accounts {
        let (ms, source, options, report, bars, gate) =
            (mailstore.clone(), source.clone(), options.clone(), report.clone(), bars.clone(), gate.clone());
        tasks.spawn(async move {
            let Ok(_permit) = gate.acquire_owned().await else { return };
            let bar = bars.item(&job.target_address);
            migrate_account(ms, &source, &job, &options, &report, &bar).await;
        });
    }
    while let Some(done) = tasks.join_next().await {
        if let Err(e) = done {
            tracing::error!(error = %e, "tâche de migration interrompue");
        }
    }
    bars.finish();
    report
}

/// One account: every failure lands in the report, nothing is returned.
pub async fn migrate_account(
    mailstore: Arc<Mailstore>,
    source: &Source,
    job: &AccountJob,
    options: &Options,
    report: &Report,
    bar: &ItemBar,
) {
    let address = job.target_address.as_str();
    let (login, password) = match (&source.master, &job.password) {
        (Some((master, password)), _) => (format!("{}*{}", job.source_login, master), password.clone()),
        (None, Some(password)) => (job.source_login.clone(), password.clone()),
        (None, None) => {
            report.add(address, "", "", Outcome::Failed, "pas de mot de passe pour ce compte source / no password");
            return;
        }
    };
    let mut client = match Client::connect(&source.host, source.port, source.security, source.tls.clone()).await {
        Ok(c) => c,
        Err(e) => {
            report.add(address, "", "", Outcome::Failed, e.to_string());
            return;
        }
    };
    if let Err(e) = client.login(&login, &password).await {
        let reason = match e {
            ImapError::Refused(text) => format!("connexion refusée par la source pour {} : {text}", job.source_login),
            other => other.to_string(),
        };
        report.add(address, "", "", Outcome::Failed, reason);
        return;
    }
    let target = Target {
        mailstore,
        account: job.target,
        address: address.to_owned(),
        dry_run: options.dry_run || options.verify,
    };
    let account = Account { target, source_id: format!("{}/{}", source.host, job.source_login), options, report, bar };
    if let Err(e) = account.folders(&mut client).await {
        report.add(
            address,
            "",
            "",
            Outcome::Failed,
            format!("{e} ; une nouvelle exécution reprend où celle-ci s'est arrêtée"),
        );
        return;
    }
    client.logout().await;
}

struct Account<'a> {
    target: Target,
    source_id: String,
    options: &'a Options,
    report: &'a Report,
    bar: &'a ItemBar,
}

/// A source message's metadata.
struct Meta {
    uid: u32,
    flags: (i64, Vec<String>),
    internal_date: i64,
    fingerprint: Fingerprint,
}

/// A folder that could not be copied, and whether the connection is lost with it.
struct FolderError {
    reason: String,
    connection_lost: bool,
}

impl From<ImapError> for FolderError {
    fn from(e: ImapError) -> FolderError {
        let connection_lost = !matches!(e, ImapError::Refused(_));
        FolderError { reason: e.to_string(), connection_lost }
    }
}

impl From<String> for FolderError {
    fn from(reason: String) -> FolderError {
        FolderError { reason, connection_lost: false }
    }
}

impl Account<'_> {
    fn address(&self) -> &str {
        &self.target.address
    }

    /// Every folder; an error only when the connection is lost.
    async fn folders(&self, client: &mut Client) -> Result<(), ImapError> {
        let listed: Vec<ListEntry> =
            client.run("LIST \"\" \"*\"").await?.iter().filter_map(|r| proto::parse_list(r)).collect();
        let subscribed: HashSet<String> =
            client.run("LSUB \"\" \"*\"").await?.iter().filter_map(|r| proto::parse_list(r)).map(|e| e.name).collect();
        for entry in &listed {
            let decoded = mutf7::decode(entry.name.as_bytes()).unwrap_or_else(|| entry.name.clone());
            let Some(dest) =
                folders::destination(&decoded, entry.delimiter, &entry.attributes, &self.options.folder_map)
            else {
                self.report.add(self.address(), &decoded, "", Outcome::Failed, "nom de dossier vide une fois traduit");
                continue;
            };
            let wants_subscription = subscribed.contains(&entry.name);
            if !entry.selectable() {
                // A level with no messages of its own: made only if subscribed (its children make it otherwise).
                if wants_subscription && let Destination::Named(name) = &dest {
                    self.target.subscribe(name).await;
                }
                continue;
            }
            match self.folder(client, entry, &decoded, &dest).await {
                Ok(Some(mailbox)) if wants_subscription => self.target.subscribe(&mailbox.name).await,
                Ok(_) => {}
                Err(e) if e.connection_lost => {
                    self.report.add(self.address(), &decoded, "", Outcome::Failed, e.reason.clone());
                    return Err(ImapError::Protocol(e.reason));
                }
                Err(e) => self.report.add(self.address(), &decoded, "", Outcome::Failed, e.reason),
            }
        }
        Ok(())
    }

    async fn folder(
        &self,
        client: &mut Client,
        entry: &ListEntry,
        decoded: &str,
        dest: &Destination,
    ) -> Result<Option<Mailbox>, FolderError> {
        let data = client.run(&format!("EXAMINE {}", quote(&entry.name))).await?;
        let uid_validity = data
            .iter()
            .find_map(|d| proto::response_code(d, "UIDVALIDITY"))
            .ok_or_else(|| "la source n'a pas donné d'UIDVALIDITY".to_owned())?;
        let exists = data.iter().find_map(|d| proto::exists(d)).unwrap_or(0);
        let mailbox = self.target.folder(dest).await?;
        let metas = if exists == 0 { Vec::new() } else { self.metadata(client).await? };
        let at = SourceFolder {
            account: self.target.account,
            source: &self.source_id,
            folder: decoded,
            uid_validity: uid_validity as i64,
        };
        let mapped: HashMap<i64, mailstore::MigratedMessage> = self
            .target
            .mailstore
            .migrated_messages(at)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|m| (m.uid, m))
            .collect();
        let contents = self.target.contents(mailbox.as_ref()).await?;
        if self.options.verify {
            self.verify(decoded, &metas, &mapped, &contents, mailbox.as_ref());
            return Ok(mailbox);
        }
        let mut to_copy = Vec::new();
        for meta in metas {
            let uid = meta.uid;
            if let Some(m) = mapped.get(&i64::from(uid)) {
                let reason = match (&mailbox, contents.by_uid.get(&m.target_uid)) {
                    (Some(mb), Some(row)) if mb.id == m.mailbox => self.bring_flags(mb, row, &meta.flags).await,
                    _ => "déjà copié (supprimé depuis dans Ardoise)".to_owned(),
                };
                self.report.add(self.address(), decoded, uid, Outcome::Skipped, reason);
            } else if let Some(&target_uid) = contents.by_fingerprint.get(&meta.fingerprint) {
                if let Some(mb) = &mailbox
                    && !self.target.dry_run
                {
                    self.target
                        .mailstore
                        .record_migrated(at, i64::from(uid), mb.id, target_uid)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                self.report.add(
                    self.address(),
                    decoded,
                    uid,
                    Outcome::Skipped,
                    "déjà présent (Message-ID, date, taille)",
                );
            } else {
                to_copy.push(meta);
            }
        }
        let Some(mailbox) = mailbox.filter(|_| !self.target.dry_run) else {
            for meta in to_copy {
                self.report.add(self.address(), decoded, meta.uid, Outcome::WouldCopy, "");
            }
            return Ok(None);
        };
        self.bar.more(to_copy.len() as u64);
        for batch in to_copy.chunks(FETCH_BATCH) {
            self.copy_batch(client, at, &mailbox, batch).await?;
        }
        Ok(Some(mailbox))
    }

    /// Flags, dates, sizes and Message-IDs of every message of the examined folder.
    async fn metadata(&self, client: &mut Client) -> Result<Vec<Meta>, ImapError> {
        let data = client
            .run("UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            .await?;
        let mut seen = HashSet::new();
        let mut metas = Vec::new();
        for resp in data {
            let Some(f) = proto::parse_fetch(&resp) else { continue };
            let Some(uid) = f.uid else { continue };
            // A server that repeats a UID gets its first answer believed.
            if !seen.insert(uid) {
                continue;
            }
            let internal_date = f.internal_date.as_deref().and_then(proto::internal_date).unwrap_or(0);
            let size = f.size.unwrap_or(0) as i64;
            let fingerprint = Fingerprint::of(f.section.as_deref().unwrap_or_default(), internal_date, size);
            metas.push(Meta { uid, flags: flags_from_imap(&f.flags.unwrap_or_default()), internal_date, fingerprint });
        }
        Ok(metas)
    }

    /// Replaces an already copied message's flags with the source's when they differ.
    async fn bring_flags(&self, mailbox: &Mailbox, row: &mailstore::MessageRow, flags: &(i64, Vec<String>)) -> String {
        let mut ours = row.keywords.clone();
        ours.sort();
        if row.flags == flags.0 && ours == flags.1 {
            return "déjà copié".into();
        }
        if self.target.dry_run {
            return "déjà copié ; drapeaux à mettre à jour".into();
        }
        match self
            .target
            .mailstore
            .update_flags(self.target.account, mailbox.id, &[row.uid], FlagOp::Replace, flags.0, &flags.1, None)
            .await
        {
            Ok(_) => "déjà copié ; drapeaux mis à jour".into(),
            Err(e) => format!("déjà copié ; drapeaux non mis à jour : {e}"),
        }
    }

    /// Fetches and files one batch. The source's answers are read while
    /// earlier messages are being filed: what has arrived is filed as one
    /// group (one transaction with its map rows, see
    /// [`Mailstore::file_migrated`]) as soon as one of [`GROUPS`] slots is
    /// free, so groups grow when the disk is the slower side and a message
    /// never waits for a group to fill. Target UIDs follow the order in
    /// which groups commit, which may differ a little from the source's.
    async fn copy_batch(
        &self,
        client: &mut Client,
        at: SourceFolder<'_>,
        mailbox: &Mailbox,
        batch: &[Meta],
    ) -> Result<(), ImapError> {
        let set: Vec<String> = batch.iter().map(|m| m.uid.to_string()).collect();
        let mut pending: HashMap<u32, &Meta> = batch.iter().map(|m| (m.uid, m)).collect();
        client.start(&format!("UID FETCH {} (UID BODY.PEEK[])", set.join(","))).await?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<(&Meta, Bytes)>(WAITING);
        let read = async {
            // Owned by the reader: dropped when it ends, which ends the filing loop.
            let tx = tx;
            loop {
                let resp = match client.next().await {
                    Ok(Response::Data(d)) => d,
                    Ok(Response::Done) => return Ok(()),
                    Err(e) => return Err(e),
                };
                let Some(f) = proto::parse_fetch(&resp) else { continue };
                let (Some(uid), Some(body)) = (f.uid, f.body) else { continue };
                let Some(meta) = pending.remove(&uid) else { continue };
                if tx.send((meta, Bytes::from(body))).await.is_err() {
                    return Ok(());
                }
            }
        };
        let file = async {
            let mut filing = FuturesUnordered::new();
            let mut waiting: Vec<(&Meta, Bytes)> = Vec::new();
            let mut open = true;
            loop {
                if filing.len() < GROUPS && !waiting.is_empty() {
                    let group = take_group(&mut waiting);
                    filing.push(self.file_group(at, mailbox, group));
                    continue;
                }
                if !open && filing.is_empty() {
                    break;
                }
                tokio::select! {
                    biased;
                    Some(n) = filing.next(), if !filing.is_empty() => (0..n).for_each(|_| self.bar.done()),
                    item = rx.recv(), if open && waiting.len() < WAITING => match item {
                        Some(item) => waiting.push(item),
                        None => open = false,
                    },
                }
            }
        };
        let (read, ()) = tokio::join!(read, file);
        if let Err(e) = read {
            let connection_lost = !matches!(e, ImapError::Refused(_));
            for meta in pending.values() {
                self.report.add(self.address(), at.folder, meta.uid, Outcome::Failed, e.to_string());
                self.bar.done();
            }
            return if connection_lost { Err(e) } else { Ok(()) };
        }
        for meta in pending.values() {
            self.report.add(
                self.address(),
                at.folder,
                meta.uid,
                Outcome::Failed,
                "absent de la réponse de la source (supprimé entre-temps ?)",
            );
            self.bar.done();
        }
        Ok(())
    }

    /// Files a group in one transaction; returns how many messages it held.
    /// If the group fails as a whole, its messages are filed one by one, so
    /// that only the culprit is reported failed (with its own reason).
    async fn file_group(&self, at: SourceFolder<'_>, mailbox: &Mailbox, group: Vec<(&Meta, Bytes)>) -> usize {
        let n = group.len();
        let address = self.address();
        let messages = group
            .iter()
            .map(|(meta, body)| SourceMessage {
                uid: i64::from(meta.uid),
                raw: body.clone(),
                flags: meta.flags.0,
                keywords: meta.flags.1.clone(),
                internal_date: meta.internal_date,
            })
            .collect();
        match self.target.mailstore.file_migrated(at, mailbox.id, messages).await {
            Ok(_) => {
                for (meta, _) in &group {
                    self.report.add(address, at.folder, meta.uid, Outcome::Copied, "");
                }
            }
            Err(e) if n == 1 => self.report.add(address, at.folder, group[0].0.uid, Outcome::Failed, e.to_string()),
            Err(e) => {
                tracing::warn!(messages = n, error = %e, "groupe refusé ; message par message");
                for (meta, body) in group {
                    self.deliver(at, mailbox, meta, body).await;
                }
            }
        }
        n
    }

    async fn deliver(&self, at: SourceFolder<'_>, mailbox: &Mailbox, meta: &Meta, body: Bytes) {
        let (flags, keywords) = meta.flags.clone();
        let address = self.address();
        match self.target.deliver(mailbox, body, flags, keywords, meta.internal_date).await {
            Ok(target_uid) => match self
                .target
                .mailstore
                .record_migrated(at, i64::from(meta.uid), mailbox.id, target_uid)
                .await
            {
                Ok(()) => self.report.add(address, at.folder, meta.uid, Outcome::Copied, ""),
                Err(e) => {
                    self.report.add(address, at.folder, meta.uid, Outcome::Failed, format!("copié mais non noté : {e}"))
                }
            },
            Err(e) => self.report.add(address, at.folder, meta.uid, Outcome::Failed, e),
        }
    }

    /// `--verify`: every source message mapped to a present copy with the same flags.
    fn verify(
        &self,
        decoded: &str,
        metas: &[Meta],
        mapped: &HashMap<i64, mailstore::MigratedMessage>,
        contents: &Contents,
        mailbox: Option<&Mailbox>,
    ) {
        let mut differences = 0;
        for meta in metas {
            let row = mapped
                .get(&i64::from(meta.uid))
                .filter(|m| mailbox.is_some_and(|mb| mb.id == m.mailbox))
                .and_then(|m| contents.by_uid.get(&m.target_uid))
                .or_else(|| contents.by_fingerprint.get(&meta.fingerprint).and_then(|uid| contents.by_uid.get(uid)));
            let Some(row) = row else {
                self.report.add(self.address(), decoded, meta.uid, Outcome::Different, "absent d'Ardoise");
                differences += 1;
                continue;
            };
            let mut ours = row.keywords.clone();
            ours.sort();
            if row.flags != meta.flags.0 || ours != meta.flags.1 {
                let reason = format!(
                    "drapeaux : source {:?} {:?}, Ardoise {:?} {:?}",
                    meta.flags.0, meta.flags.1, row.flags, ours
                );
                self.report.add(self.address(), decoded, meta.uid, Outcome::Different, reason);
                differences += 1;
            }
        }
        if differences == 0 {
            let reason = format!("{} messages à la source, tous présents avec les mêmes drapeaux", metas.len());
            self.report.add(self.address(), decoded, "", Outcome::Verified, reason);
        }
    }
}

/// The first messages of `waiting` that make one group (at least one).
fn take_group<'m>(waiting: &mut Vec<(&'m Meta, Bytes)>) -> Vec<(&'m Meta, Bytes)> {
    let mut bytes = 0;
    let mut n = 0;
    for (_, body) in waiting.iter() {
        if n == GROUP_MESSAGES || (n > 0 && bytes + body.len() > GROUP_BYTES) {
            break;
        }
        bytes += body.len();
        n += 1;
    }
    waiting.drain(..n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(uid: u32) -> Meta {
        Meta {
            uid,
            flags: (0, Vec::new()),
            internal_date: 0,
            fingerprint: Fingerprint { message_id: String::new(), internal_date: 0, size: 0 },
        }
    }

    #[test]
    fn a_group_stops_at_its_count_or_its_bytes_but_never_holds_nothing() {
        let metas: Vec<Meta> = (1..=100).map(meta).collect();
        let mut waiting: Vec<(&Meta, Bytes)> = metas.iter().map(|m| (m, Bytes::from(vec![b'x'; 10]))).collect();
        assert_eq!(take_group(&mut waiting).len(), GROUP_MESSAGES);
        assert_eq!(waiting.len(), 100 - GROUP_MESSAGES);
        assert_eq!(waiting[0].0.uid, GROUP_MESSAGES as u32 + 1, "the oldest go first");

        let big = Bytes::from(vec![b'x'; GROUP_BYTES / 2 + 1]);
        let mut waiting: Vec<(&Meta, Bytes)> = metas[..3].iter().map(|m| (m, big.clone())).collect();
        assert_eq!(take_group(&mut waiting).len(), 1, "two halves and a byte do not fit");
        let huge = Bytes::from(vec![b'x'; GROUP_BYTES * 2]);
        let mut waiting: Vec<(&Meta, Bytes)> = vec![(&metas[0], huge), (&metas[1], Bytes::from_static(b"y"))];
        assert_eq!(take_group(&mut waiting).len(), 1, "a message larger than a group goes alone");
        assert_eq!(take_group(&mut waiting).len(), 1);
        assert!(take_group(&mut waiting).is_empty());
    }
}
