//! `ardoise import ics FILE --to ADDRESS [--calendar NAME]` and `ardoise
//! import vcf FILE --to ADDRESS [--addressbook NAME]`: calendars and contacts
//! exported from another platform as files, put through the groupware domain
//! as a CalDAV or CardDAV client would (`groupware::import`): one object per
//! UID, idempotent, each malformed entry reported on its own line while the
//! rest goes in.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use groupware::{CollectionKind, Groupware, NewProps};

use crate::serve;

/// Which kind of file, and the collection asked for.
pub struct DavImport<'a> {
    pub kind: CollectionKind,
    pub file: &'a Path,
    pub to: &'a str,
    /// A collection's name in URLs or its display name; made when missing.
    pub collection: Option<&'a str>,
}

pub async fn run(cfg: &config::Config, job: DavImport<'_>) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(job.file).with_context(|| format!("lecture de {}", job.file.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let opened = serve::open(cfg).await?;
    let address = model::Address::parse(job.to).map_err(|e| anyhow::anyhow!("adresse invalide {:?} : {e}", job.to))?;
    let account = opened
        .store
        .account_by_address(&address)
        .await?
        .with_context(|| format!("pas de compte {} / no such account", job.to))?;
    let gw = Groupware::new(opened.store.clone(), crate::http::groupware_settings(cfg))?;
    let wanted = job.collection.unwrap_or(match job.kind {
        CollectionKind::Calendar => groupware::DEFAULT_CALENDAR,
        CollectionKind::AddressBook => groupware::DEFAULT_ADDRESS_BOOK,
    });
    let existing = gw.collections(account.id).await?;
    let found = existing
        .iter()
        .find(|c| c.kind == job.kind && c.segment == wanted)
        .or_else(|| existing.iter().find(|c| c.kind == job.kind && c.display_name == wanted));
    let collection = match found {
        Some(c) => c.clone(),
        None => {
            let segment: String =
                wanted.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
            let props = NewProps { display_name: Some(wanted.to_owned()), ..NewProps::default() };
            let made = gw
                .create_collection(account.id, job.kind, &segment, &props)
                .await
                .with_context(|| format!("création de « {wanted} »"))?;
            println!("« {wanted} » créé ({segment})");
            made
        }
    };
    let entries = match job.kind {
        CollectionKind::Calendar => groupware::split_ics(&text),
        CollectionKind::AddressBook => groupware::split_vcf(&text),
    };
    let done = gw.import(&collection, entries).await?;
    for (line, uid, why) in &done.failed {
        eprintln!(
            "{} ligne {line}{} : {why}",
            job.file.display(),
            uid.as_ref().map(|u| format!(" (UID {u})")).unwrap_or_default()
        );
    }
    println!(
        "{} → {} « {} » : {} importé(s), {} déjà présent(s), {} en échec / imported, already there, failed",
        job.file.display(),
        job.to,
        collection.display_name,
        done.created,
        done.already,
        done.failed.len()
    );
    Ok(if done.failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
