//! `ardoise admin account export ADDRESS --out FILE.zip`: everything a user
//! may take with them (RGPD portability), in formats other software reads:
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
//! Written to a temporary file beside `--out`, renamed at the end.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use zip::write::SimpleFileOptions;

use crate::serve::Opened;

/// Totals of an export.
pub struct Exported {
    pub folders: usize,
    pub messages: usize,
    pub contacts: usize,
    pub events: usize,
    pub journal: usize,
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

/// Appends one message in mboxrd form: every line that starts with any
/// number of `>` followed by `From ` gets one more `>`.
pub fn mboxrd_append(out: &mut Vec<u8>, internal_date: i64, raw: &[u8]) {
    out.extend_from_slice(from_line(internal_date).as_bytes());
    for line in raw.split_inclusive(|&b| b == b'\n') {
        let quoted = line.iter().take_while(|&&b| b == b'>').count();
        if line[quoted..].starts_with(b"From ") {
            out.push(b'>');
        }
        out.extend_from_slice(line);
    }
    if !raw.ends_with(b"\n") {
        out.push(b'\n');
    }
    out.push(b'\n');
}

pub async fn export(
    opened: &Opened,
    groupware: &groupware::Groupware,
    account: &store::Account,
    out: &Path,
) -> anyhow::Result<Exported> {
    let name = out.file_name().context("--out : nom de fichier attendu")?.to_string_lossy().into_owned();
    let tmp = out.with_file_name(format!(".{name}.partiel"));
    let file = std::fs::File::create(&tmp).with_context(|| format!("création de {}", tmp.display()))?;
    let mut zip = zip::ZipWriter::new(file);
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut totals = Exported { folders: 0, messages: 0, contacts: 0, events: 0, journal: 0 };

    zip.start_file("LISEZMOI.txt", opts)?;
    zip.write_all(README.as_bytes())?;

    for folder in opened.mailstore.mailboxes(account.id).await? {
        if folder.placeholder {
            continue;
        }
        let path = path_of(&folder.name);
        let mut mbox = Vec::new();
        for row in opened.mailstore.messages(folder.id).await? {
            let raw = opened
                .mailstore
                .message_bytes(&row.blob_hash)
                .await
                .with_context(|| format!("{} UID {} : message illisible", folder.name, row.uid))?;
            zip.start_file(format!("messages/{path}/{}.eml", row.uid), opts)?;
            zip.write_all(&raw)?;
            mboxrd_append(&mut mbox, row.internal_date, &raw);
            totals.messages += 1;
        }
        zip.start_file(format!("courrier/{path}.mbox"), opts)?;
        zip.write_all(&mbox)?;
        totals.folders += 1;
    }

    for c in groupware.collections(account.id).await? {
        let tags = groupware.tags(&c).await?;
        let names: Vec<String> = tags.into_iter().map(|t| t.name).collect();
        let objects = groupware.multiget(&c, &names).await?;
        match c.kind {
            store::CollectionKind::AddressBook => {
                zip.start_file(format!("contacts/{}.vcf", part(&c.segment)), opts)?;
                for o in &objects {
                    zip.write_all(o.content.as_bytes())?;
                    if !o.content.ends_with('\n') {
                        zip.write_all(b"\r\n")?;
                    }
                    totals.contacts += 1;
                }
            }
            store::CollectionKind::Calendar => {
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
    for e in opened.store.login_journal(account.id, 100_000).await? {
        let at = jiff::Timestamp::from_second(e.at).map(|t| t.to_string()).unwrap_or_default();
        csv.write_record([at.as_str(), &e.login, &e.protocol, &e.ip, &e.client, &e.result])?;
        totals.journal += 1;
    }
    zip.start_file("journal.csv", opts)?;
    zip.write_all(&csv.into_inner().map_err(|e| anyhow::anyhow!("journal.csv : {e}"))?)?;

    let file = zip.finish()?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, out).with_context(|| format!("écriture de {}", out.display()))?;
    Ok(totals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mboxrd_quotes_from_lines_and_keeps_the_rest() {
        let mut out = Vec::new();
        mboxrd_append(&mut out, 0, b"Subject: a\r\n\r\nFrom here\r\n>From there\r\nFromage\r\nfin");
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
}
