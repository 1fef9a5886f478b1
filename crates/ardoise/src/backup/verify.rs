//! `ardoise backup verify DEST`: every hash of every snapshot checked.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

use super::files::hash_file;
use super::manifest::{Layout, Manifest};

/// The problems of one snapshot, each a sentence naming the file.
pub fn check_snapshot(layout: &Layout, dir: &Path, seen: &mut HashMap<String, Result<(), String>>) -> Vec<String> {
    let manifest = match Manifest::read(dir) {
        Ok(m) => m,
        Err(e) => return vec![format!("{e:#}")],
    };
    let mut problems = Vec::new();
    for file in std::iter::once(&manifest.metadata).chain(&manifest.files) {
        match hash_file(&dir.join(&file.path)) {
            Ok((hash, size)) if hash == file.blake3 && size == file.size => {}
            Ok(_) => problems.push(format!("{} : contenu modifié (empreinte différente) / damaged", file.path)),
            Err(e) => problems.push(format!("{} : illisible / unreadable ({e})", file.path)),
        }
    }
    for id in &manifest.missing {
        problems.push(format!("message {id} : absent dès la sauvegarde / missing since the backup"));
    }
    for blob in &manifest.blobs {
        let verdict = seen.entry(blob.id.clone()).or_insert_with(|| check_blob(layout, &blob.id, blob.size));
        if let Err(e) = verdict {
            problems.push(e.clone());
        }
    }
    problems
}

fn check_blob(layout: &Layout, id: &str, size: u64) -> Result<(), String> {
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("message {id} : nom invalide dans le manifeste"));
    }
    let path = layout.blob(id);
    match hash_file(&path) {
        Ok((hash, n)) if hash == id && n == size => Ok(()),
        Ok(_) => Err(format!("message {} : contenu abîmé (empreinte différente) / damaged", path.display())),
        Err(e) => Err(format!("message {} : illisible / unreadable ({e})", path.display())),
    }
}

pub fn verify(dest: &Path, only: Option<&str>) -> anyhow::Result<ExitCode> {
    let layout = Layout::new(dest);
    let names = match only {
        Some(n) => vec![layout.pick(Some(n))?.0],
        None => layout.snapshot_names()?,
    };
    if names.is_empty() {
        eprintln!("aucun instantané dans {} / no snapshot", dest.display());
        return Ok(ExitCode::FAILURE);
    }
    let mut seen = HashMap::new();
    let mut damaged = 0;
    for name in &names {
        let dir = layout.snapshots().join(name);
        let problems = check_snapshot(&layout, &dir, &mut seen);
        if problems.is_empty() {
            println!("{name} : intact / OK");
        } else {
            damaged += 1;
            println!("{name} : ABÎMÉ / DAMAGED ({} problème(s))", problems.len());
            for p in &problems {
                println!("  - {p}");
            }
        }
    }
    let checked = seen.len();
    if damaged > 0 {
        println!("{damaged} instantané(s) abîmé(s) sur {} ; {checked} fichier(s) de message vérifié(s)", names.len());
        return Ok(ExitCode::FAILURE);
    }
    println!("{} instantané(s) intact(s) ; {checked} fichier(s) de message vérifié(s) / all intact", names.len());
    Ok(ExitCode::SUCCESS)
}
