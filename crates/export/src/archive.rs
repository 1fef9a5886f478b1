//! The archive itself: one account's data as a .zip.
//!
//! ```text
//! LISEZMOI.txt                          what is where (French, English)
//! courrier/<dossier>.mbox               each folder as mboxrd
//! messages/<dossier>/<uid>.eml          each message, byte for byte
//! contacts/<carnet>.vcf                 each address book, its vCards in one file
//! agendas/<agenda>/<nom>.ics            each calendar object as iCalendar
//! journal.csv                           the connection journal (90 days)
//! ```
//!
//! Written to a temporary file beside the destination and renamed once
//! whole. Memory stays bounded by the largest message: a folder's mbox is
//! streamed into the archive message by message, and the messages are read
//! again for their `.eml` copies.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use mailstore::Account;
use zip::write::SimpleFileOptions;

use crate::{Error, Sources};

/// Totals of an export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exported {
    pub folders: usize,
    pub messages: usize,
    pub contacts: usize,
    pub events: usize,
    pub journal: usize,
    /// Size of the archive file.
    pub bytes: u64,
}

/// How far an export is: messages written out of those counted at the
/// start (mail delivered meanwhile may push `done` past `total`).
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}

const README: &str = "Export de votre compte Ardoise / your Ardoise account's export\n\n\
courrier/<dossier>.mbox : chaque dossier au format mbox (mboxrd), lisible par Thunderbird (ImportExportTools) et la plupart des logiciels\n\
messages/<dossier>/<uid>.eml : chaque message tel qu'il a été reçu\n\
contacts/<carnet>.vcf : les carnets d'adresses (vCard)\n\
agendas/<agenda>/<nom>.ics : les événements et tâches (iCalendar)\n\
journal.csv : le journal de connexion (90 derniers jours)\n\n\
courrier/: each folder as mboxrd; messages/: each message as received (.eml); contacts/: vCard;\n\
agendas/: iCalendar; journal.csv: the connection journal (last 90 days).\n";

/// A safe name in the archive for one level of a folder path.
fn part(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_control() || matches!(c, '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') { '_' } else { c })
        .collect();
    match clean.trim() {
        "" | "." | ".." => "_".to_owned(),
        t => t.to_owned(),
    }
}

/// A folder's `/`-separated path, each level made safe.
fn path_of(folder: &str) -> String {
    folder.split('/').map(part).collect::<Vec<_>>().join("/")
}

/// The `From ` line of an mbox entry: the envelope sender is not kept, so
/// `MAILER-DAEMON`, and the internal date in asctime form (UTC).
fn from_line(internal_date: i64) -> String {
    let when = jiff::Timestamp::from_second(internal_date).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    format!("From MAILER-DAEMON {}\n", when.strftime("%a %b %e %H:%M:%S %Y"))
}

/// Writes one message in mboxrd form: every line that starts with any
/// number of `>` followed by `From ` gets one more `>`.
pub fn mboxrd_append(out: &mut impl Write, internal_date: i64, raw: &[u8]) -> io::Result<()> {
    out.write_all(from_line(internal_date).as_bytes())?;
    for line in raw.split_inclusive(|&b| b == b'\n') {
        let quoted = line.iter().take_while(|&&b| b == b'>').count();
        if line[quoted..].starts_with(b"From ") {
            out.write_all(b">")?;
        }
        out.write_all(line)?;
    }
    if !raw.ends_with(b"\n") {
        out.write_all(b"\n")?;
    }
    out.write_all(b"\n")
}

/// The archive file, refusing to grow past a cap: a write that would cross
/// it fails and raises `exceeded`, which the caller reads as « too large ».
struct Capped {
    file: File,
    pos: u64,
    len: u64,
    cap: u64,
    exceeded: Arc<AtomicBool>,
}

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.pos + buf.len() as u64 > self.cap {
            self.exceeded.store(true, Ordering::Relaxed);
            return Err(io::Error::new(io::ErrorKind::FileTooLarge, "taille maximale de l'export atteinte"));
        }
        let n = self.file.write(buf)?;
        self.pos += n as u64;
        self.len = self.len.max(self.pos);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Seek for Capped {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = self.file.seek(to)?;
        Ok(self.pos)
    }
}

/// Writes `account`'s archive to `out`. With `max_bytes`, an archive that
/// would grow past it is abandoned ([`Error::TooLarge`]) and nothing is left
/// behind.
pub async fn write(
    sources: &Sources,
    account: &Account,
    out: &Path,
    max_bytes: Option<u64>,
    progress: &Progress,
) -> Result<Exported, Error> {
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "export.zip".into());
    let tmp = out.with_file_name(format!(".{name}.partiel"));
    let exceeded = Arc::new(AtomicBool::new(false));
    let file = File::create(&tmp)?;
    let capped = Capped { file, pos: 0, len: 0, cap: max_bytes.unwrap_or(u64::MAX), exceeded: exceeded.clone() };
    let result = fill(sources, account, capped, progress).await;
    match result {
        Ok((file, totals)) => {
            file.sync_all()?;
            drop(file);
            std::fs::rename(&tmp, out)?;
            Ok(totals)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            match max_bytes {
                Some(max) if exceeded.load(Ordering::Relaxed) => Err(Error::TooLarge { max }),
                _ => Err(e),
            }
        }
    }
}

async fn fill(
    sources: &Sources,
    account: &Account,
    capped: Capped,
    progress: &Progress,
) -> Result<(File, Exported), Error> {
    let ms = &sources.mailstore;
    let mut zip = zip::ZipWriter::new(capped);
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    let mut totals = Exported::default();

    zip.start_file("LISEZMOI.txt", opts)?;
    zip.write_all(README.as_bytes())?;

    let folders: Vec<_> = ms.mailboxes(account.id).await?.into_iter().filter(|f| !f.placeholder).collect();
    let mut total = 0;
    for folder in &folders {
        total += ms.message_count(folder.id).await?.max(0) as u64;
    }
    progress.total.store(total, Ordering::Relaxed);

    for folder in &folders {
        let path = path_of(&folder.name);
        let rows = ms.messages(folder.id).await?;
        zip.start_file(format!("courrier/{path}.mbox"), opts)?;
        for row in &rows {
            let raw = ms.message_bytes(&row.blob_hash).await?;
            mboxrd_append(&mut zip, row.internal_date, &raw)?;
        }
        for row in &rows {
            let raw = ms.message_bytes(&row.blob_hash).await?;
            zip.start_file(format!("messages/{path}/{}.eml", row.uid), opts)?;
            zip.write_all(&raw)?;
            totals.messages += 1;
            progress.done.fetch_add(1, Ordering::Relaxed);
        }
        totals.folders += 1;
    }

    let gw = &sources.groupware;
    for c in gw.collections(account.id).await? {
        let names: Vec<String> = gw.tags(&c).await?.into_iter().map(|t| t.name).collect();
        let objects = gw.multiget(&c, &names).await?;
        match c.kind {
            groupware::CollectionKind::AddressBook => {
                zip.start_file(format!("contacts/{}.vcf", part(&c.segment)), opts)?;
                for o in &objects {
                    zip.write_all(o.content.as_bytes())?;
                    if !o.content.ends_with('\n') {
                        zip.write_all(b"\r\n")?;
                    }
                    totals.contacts += 1;
                }
            }
            groupware::CollectionKind::Calendar => {
                for o in &objects {
                    zip.start_file(format!("agendas/{}/{}", part(&c.segment), part(&o.name)), opts)?;
                    zip.write_all(o.content.as_bytes())?;
                    totals.events += 1;
                }
            }
        }
    }

    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(["date_utc", "identifiant", "protocole", "adresse_ip", "client", "resultat"])?;
    for e in sources.identity.login_journal(account.id, 100_000).await? {
        let at = jiff::Timestamp::from_second(e.at).map(|t| t.to_string()).unwrap_or_default();
        csv.write_record([at.as_str(), &e.login, &e.protocol, &e.ip, &e.client, &e.result])?;
        totals.journal += 1;
    }
    let journal = csv.into_inner().map_err(|e| Error::Io(e.into_error()))?;
    zip.start_file("journal.csv", opts)?;
    zip.write_all(&journal)?;

    let capped = zip.finish()?;
    totals.bytes = capped.len;
    Ok((capped.file, totals))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mboxrd_quotes_from_lines_and_keeps_the_rest() {
        let mut out = Vec::new();
        mboxrd_append(&mut out, 0, b"Subject: a\r\n\r\nFrom here\r\n>From there\r\nFromage\r\nfin").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n\
             Subject: a\r\n\r\n>From here\r\n>>From there\r\nFromage\r\nfin\n\n"
        );
    }

    #[test]
    fn archive_paths_stay_inside() {
        assert_eq!(path_of("Projets/Réunions 2026"), "Projets/Réunions 2026");
        assert_eq!(path_of("../a:b/.."), "_/a_b/_");
    }

    #[test]
    fn a_capped_file_refuses_to_grow_past_its_cap_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let exceeded = Arc::new(AtomicBool::new(false));
        let file = File::create(dir.path().join("a.zip")).unwrap();
        let mut c = Capped { file, pos: 0, len: 0, cap: 10, exceeded: exceeded.clone() };
        c.write_all(b"0123456789").unwrap();
        assert!(!exceeded.load(Ordering::Relaxed));
        c.seek(SeekFrom::Start(4)).unwrap();
        c.write_all(b"abcdef").unwrap();
        assert_eq!(c.len, 10);
        assert!(c.write_all(b"x").is_err());
        assert!(exceeded.load(Ordering::Relaxed));
    }
}
