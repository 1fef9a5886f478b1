//! The `[blob]` keys: message contents in a local folder or in an
//! S3-compatible bucket (issue 28, docs/cluster.md).

use crate::fields::{Field, optional_path, string};

pub(crate) static BLOB: &[Field] = &[
    Field {
        section: "blob",
        key: "path",
        default: "\"\"",
        doc: "Dossier des contenus de messages : vide = data_dir/blobs (sans effet quand url est donnée).\nMessage content folder: empty = data_dir/blobs (unused when url is set).",
        apply: |c, v| {
            c.blob.path = optional_path(v)?;
            Ok(())
        },
    },
    Field {
        section: "blob",
        key: "url",
        default: "\"\"",
        doc: "Contenus dans un seau S3 (partagé par plusieurs nœuds) : s3://seau[/préfixe]?endpoint=https://hôte&region=NOM. Vide : fichiers locaux (path).\nContents in an S3 bucket (shared by several nodes): s3://bucket[/prefix]?endpoint=https://host&region=NAME. Empty: local files (path).",
        apply: |c, v| {
            let url = string(v)?;
            let url = url.trim();
            if !url.is_empty() {
                check_url(url)?;
            }
            c.blob.url = Some(url.to_owned()).filter(|u| !u.is_empty());
            Ok(())
        },
    },
    Field {
        section: "blob",
        key: "credentials",
        default: "\"\"",
        doc: "Fichier de la clé du seau (lignes access_key_id = … et secret_access_key = …, lisible par ardoise seul). Vide : variables AWS_ACCESS_KEY_ID et AWS_SECRET_ACCESS_KEY.\nFile with the bucket's key (lines access_key_id = … and secret_access_key = …, readable by ardoise only). Empty: the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY variables.",
        apply: |c, v| {
            c.blob.credentials = optional_path(v)?;
            Ok(())
        },
    },
];

/// The same rules as `blob::Remote::parse` (config depends on no crate of
/// ours), so that `ardoise config check` names a bad URL with its line.
fn check_url(url: &str) -> Result<(), String> {
    let rest = url.strip_prefix("s3://").ok_or("adresse s3://seau[/préfixe][?endpoint=URL&region=NOM] attendue")?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let bucket = path.split('/').next().unwrap_or_default();
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !bucket.starts_with(['-', '.'])
        && !bucket.ends_with(['-', '.']);
    if !valid_bucket {
        return Err(format!("nom de seau « {bucket} » invalide (3 à 63 minuscules, chiffres, « - », « . »)"));
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=').unwrap_or((pair, "")) {
            ("endpoint", value) => {
                let host = value.strip_prefix("http://").or_else(|| value.strip_prefix("https://"));
                if !host.is_some_and(|h| !h.is_empty() && !h.contains(['?', '#', '@'])) {
                    return Err(format!("endpoint « {value} » : http(s)://hôte[:port] attendu"));
                }
            }
            ("region", value) if !value.is_empty() => {}
            (key, _) => {
                return Err(format!(
                    "paramètre « {key} » inconnu (endpoint, region) ; la clé va dans credentials ou l'environnement"
                ));
            }
        }
    }
    Ok(())
}
