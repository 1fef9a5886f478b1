//! `ardoise import mbox` and `ardoise import maildir`: files on disk filed
//! into an account. Idempotent by fingerprint (Message-ID, internal date,
//! size in the target folder), so an interrupted or repeated import copies
//! only what is missing.

use std::collections::hash_map::Entry;
use std::path::Path;
use std::sync::Arc;

use mailstore::{Mailbox, Mailstore};
use model::AccountId;

use crate::folders::Destination;
use crate::maildir;
use crate::mbox::{self, Format};
use crate::progress::{Bars, ItemBar};
use crate::report::{Outcome, Report};
use crate::target::{Contents, Fingerprint, Target};

/// The account a file goes into.
pub struct ImportInto {
    pub mailstore: Arc<Mailstore>,
    pub account: AccountId,
    pub address: String,
    pub dry_run: bool,
}

impl ImportInto {
    fn target(&self) -> Target {
        Target {
            mailstore: self.mailstore.clone(),
            account: self.account,
            address: self.address.clone(),
            dry_run: self.dry_run,
        }
    }
}

/// One message to file.
struct Item {
    id: String,
    raw: Vec<u8>,
    flags: i64,
    keywords: Vec<String>,
    internal_date: i64,
    note: &'static str,
}

/// The folder a name given on the command line means (the Inbox by default).
fn destination(name: Option<&str>) -> Result<Destination, String> {
    match name {
        None => Ok(Destination::Special(model::SpecialUse::Inbox)),
        Some(n) if n.eq_ignore_ascii_case("INBOX") => Ok(Destination::Special(model::SpecialUse::Inbox)),
        Some(n) => crate::folders::our_name(n, Some('/'))
            .map(Destination::Named)
            .ok_or_else(|| format!("nom de dossier invalide {n:?}")),
    }
}

/// Imports one mbox file into `folder` (the Inbox by default).
pub async fn mbox(into: &ImportInto, file: &Path, folder: Option<&str>, format: Format) -> Report {
    let report = Report::new();
    let shown = folder.unwrap_or("INBOX").to_owned();
    let data = match std::fs::read(file) {
        Ok(d) => d,
        Err(e) => {
            report.add(&into.address, &shown, "", Outcome::Failed, format!("lecture de {} : {e}", file.display()));
            return report;
        }
    };
    let messages = match mbox::split(&data, format) {
        Ok(m) => m,
        Err(e) => {
            report.add(&into.address, &shown, "", Outcome::Failed, format!("{} : {e}", file.display()));
            return report;
        }
    };
    drop(data);
    let mut items = Vec::with_capacity(messages.len());
    for m in messages {
        if m.raw.iter().all(|b| b.is_ascii_whitespace()) {
            report.add(&into.address, &shown, m.number, Outcome::Failed, "message vide");
            continue;
        }
        let state = mbox::state(&m.raw);
        if state.expunged {
            report.add(
                &into.address,
                &shown,
                m.number,
                Outcome::Skipped,
                "effacé dans Thunderbird (X-Mozilla-Status), non importé",
            );
            continue;
        }
        let note = if m.truncated { "fichier tronqué : dernier message incomplet, importé tel quel" } else { "" };
        let internal_date = m.from_date.unwrap_or_else(|| date_header(&m.raw).unwrap_or_else(now));
        items.push(Item {
            id: m.number.to_string(),
            raw: m.raw,
            flags: state.flags,
            keywords: state.keywords,
            internal_date,
            note,
        });
    }
    let bars = Bars::new();
    let bar = bars.item(&file.display().to_string());
    match destination(folder) {
        Ok(dest) => file_items(into, &dest, &shown, items, &report, &bar).await,
        Err(e) => report.add(&into.address, &shown, "", Outcome::Failed, e),
    }
    drop(bar);
    bars.finish();
    report
}

/// Imports a Maildir tree, every folder into the folder of the same name.
pub async fn maildir(into: &ImportInto, root: &Path) -> Report {
    let report = Report::new();
    let (found, strays) = match maildir::folders(root) {
        Ok(f) => f,
        Err(e) => {
            report.add(&into.address, "", "", Outcome::Failed, format!("lecture de {} : {e}", root.display()));
            return report;
        }
    };
    for (path, reason) in strays {
        report.add(&into.address, "", path.display(), Outcome::Skipped, format!("ignoré : {reason}"));
    }
    if found.is_empty() {
        report.add(&into.address, "", "", Outcome::Failed, format!("{} n'est pas un dossier Maildir", root.display()));
        return report;
    }
    let bars = Bars::new();
    for folder in found {
        let shown = folder.name.clone().unwrap_or_else(|| "INBOX".into());
        let (files, strays) = match maildir::messages(&folder.path) {
            Ok(m) => m,
            Err(e) => {
                report.add(&into.address, &shown, "", Outcome::Failed, format!("lecture : {e}"));
                continue;
            }
        };
        for (path, reason) in strays {
            report.add(&into.address, &shown, path.display(), Outcome::Skipped, format!("ignoré : {reason}"));
        }
        let mut items = Vec::with_capacity(files.len());
        for f in files {
            let read = std::fs::read(&f.path).and_then(|raw| Ok((raw, std::fs::metadata(&f.path)?.modified()?)));
            match read {
                Ok((raw, modified)) => {
                    let internal_date = modified
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs() as i64)
                        .unwrap_or_else(|_| now());
                    items.push(Item {
                        id: f.file_name,
                        raw,
                        flags: f.flags,
                        keywords: f.keywords,
                        internal_date,
                        note: "",
                    });
                }
                Err(e) => report.add(&into.address, &shown, &f.file_name, Outcome::Failed, format!("lecture : {e}")),
            }
        }
        let dest = match &folder.name {
            None => Destination::Special(model::SpecialUse::Inbox),
            Some(name) => crate::folders::destination(name, Some('/'), &[], &Default::default())
                .unwrap_or(Destination::Named(name.clone())),
        };
        let bar = bars.item(&shown);
        file_items(into, &dest, &shown, items, &report, &bar).await;
    }
    bars.finish();
    report
}

/// Files the items not already in the folder.
async fn file_items(
    into: &ImportInto,
    dest: &Destination,
    shown: &str,
    items: Vec<Item>,
    report: &Report,
    bar: &ItemBar,
) {
    let target = into.target();
    let mailbox: Option<Mailbox> = match target.folder(dest).await {
        Ok(m) => m,
        Err(e) => {
            report.add(&into.address, shown, "", Outcome::Failed, e);
            return;
        }
    };
    if let Some(mb) = &mailbox {
        target.subscribe(&mb.name).await;
    }
    let mut contents: Contents = match target.contents(mailbox.as_ref()).await {
        Ok(c) => c,
        Err(e) => {
            report.add(&into.address, shown, "", Outcome::Failed, e);
            return;
        }
    };
    bar.more(items.len() as u64);
    for item in items {
        let fingerprint = Fingerprint::of(&item.raw, item.internal_date, item.raw.len() as i64);
        match contents.by_fingerprint.entry(fingerprint) {
            Entry::Occupied(_) => {
                report.add(&into.address, shown, &item.id, Outcome::Skipped, "déjà présent (Message-ID, date, taille)");
            }
            Entry::Vacant(slot) => match mailbox.as_ref().filter(|_| !into.dry_run) {
                Some(mb) => match target.deliver(mb, item.raw, item.flags, item.keywords, item.internal_date).await {
                    Ok(uid) => {
                        slot.insert(uid);
                        report.add(&into.address, shown, &item.id, Outcome::Copied, item.note);
                    }
                    Err(e) => report.add(&into.address, shown, &item.id, Outcome::Failed, e),
                },
                None => report.add(&into.address, shown, &item.id, Outcome::WouldCopy, item.note),
            },
        }
        bar.done();
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The `Date:` header as unix seconds, for mbox messages whose `From ` line has no date.
fn date_header(raw: &[u8]) -> Option<i64> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(raw.len());
    let header = String::from_utf8_lossy(&raw[..end]);
    let value = header.split("\r\n").find_map(|l| {
        let (name, v) = l.split_once(':')?;
        name.trim().eq_ignore_ascii_case("date").then(|| v.trim().to_owned())
    })?;
    jiff::fmt::rfc2822::parse(&value).ok().map(|z| z.timestamp().as_second())
}
