//! Reading the composer's multipart form: the fields of the draft, the
//! button used, the uploads (capped in total at [`MAX_UPLOAD`]) with their
//! names and content types cleaned.

use axum::extract::Multipart;
use axum::http::StatusCode;

use super::MAX_UPLOAD;
use super::compose::Draft;
use super::sanitize::clean_filename;

/// One uploaded file.
pub struct Upload {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The form as posted: the draft, the uploads, the button used and
/// whether it is the script's automatic save.
pub struct Posted {
    pub csrf: String,
    pub d: Draft,
    pub files: Vec<Upload>,
    pub action: String,
    pub auto: bool,
}

/// Reads the multipart form; `Err` is a text key of the error.
pub async fn read_form(mut mp: Multipart) -> Result<Posted, &'static str> {
    let mut p =
        Posted { csrf: String::new(), d: Draft::default(), files: Vec::new(), action: String::new(), auto: false };
    let mut total = 0usize;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                tracing::info!(error = %e, "compose form unreadable");
                return Err(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    "mail.err.toobig"
                } else {
                    "mail.err.form"
                });
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        if name == "pj" {
            let file_name = field.file_name().unwrap_or("").to_owned();
            let content_type = field.content_type().unwrap_or("application/octet-stream").to_owned();
            let bytes = field.bytes().await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE { "mail.err.toobig" } else { "mail.err.form" }
            })?;
            if file_name.is_empty() && bytes.is_empty() {
                continue; // no file chosen
            }
            total += bytes.len();
            if total > MAX_UPLOAD {
                return Err("mail.err.toobig");
            }
            p.files.push(Upload {
                name: clean_filename(&file_name),
                content_type: clean_type(&content_type),
                bytes: bytes.to_vec(),
            });
            continue;
        }
        let text = field.text().await.map_err(|_| "mail.err.form")?;
        total += text.len();
        if total > MAX_UPLOAD {
            return Err("mail.err.toobig");
        }
        let d = &mut p.d;
        match name.as_str() {
            "csrf" => p.csrf = text,
            "action" => p.action = text,
            "auto" => p.auto = text == "1",
            "to" => d.to = text,
            "cc" => d.cc = text,
            "cci" => d.bcc = text,
            "subject" => d.subject = text,
            "body" => d.body = text,
            "in_reply_to" => d.in_reply_to = text,
            "references" => d.references = text,
            "origin" => d.origin = text,
            "brouillon" => d.brouillon = text,
            "source" => d.source = text,
            "garder" => d.garder.extend(text.trim().parse::<usize>().ok().filter(|n| *n < 1000)),
            "joindre" => d.joindre = text,
            "de" => d.de = text,
            "html" => d.html = text,
            "riche" => d.riche = text == "1",
            _ => {}
        }
    }
    Ok(p)
}

/// A declared content type if it looks like one, else octet-stream.
fn clean_type(t: &str) -> String {
    let t = t.trim().to_ascii_lowercase();
    let ok = t.len() <= 100
        && t.split_once('/').is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && t.bytes().all(|c| c.is_ascii_alphanumeric() || b"/.+-".contains(&c))
        });
    if ok { t } else { "application/octet-stream".to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_cleaned() {
        assert_eq!(clean_type("image/PNG"), "image/png");
        assert_eq!(clean_type("text/html\r\nX: y"), "application/octet-stream");
    }
}
