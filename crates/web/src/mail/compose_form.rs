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
    /// The text key of what went wrong reading the form (files too large,
    /// a broken upload). What was read before stays in `d`: the fields come
    /// before the files in the form, so what the user typed is kept.
    pub error: Option<&'static str>,
}

/// Reads the multipart form, as far as it can be read.
pub async fn read_form(mut mp: Multipart) -> Posted {
    let mut p = Posted {
        csrf: String::new(),
        d: Draft::default(),
        files: Vec::new(),
        action: String::new(),
        auto: false,
        error: None,
    };
    let mut total = 0usize;
    let too_large =
        |status: StatusCode| if status == StatusCode::PAYLOAD_TOO_LARGE { "mail.err.toobig" } else { "mail.err.form" };
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                tracing::info!(error = %e, "compose form unreadable");
                p.error = Some(too_large(e.status()));
                break;
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        if name == "pj" {
            let file_name = field.file_name().unwrap_or("").to_owned();
            let content_type = field.content_type().unwrap_or("application/octet-stream").to_owned();
            let bytes = match field.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    p.error = Some(too_large(e.status()));
                    break;
                }
            };
            if file_name.is_empty() && bytes.is_empty() {
                continue; // no file chosen
            }
            total += bytes.len();
            if total > MAX_UPLOAD {
                // Dropped, and the rest of the form still read.
                p.error = Some("mail.err.toobig");
                continue;
            }
            p.files.push(Upload {
                name: clean_filename(&file_name),
                content_type: clean_type(&content_type),
                bytes: bytes.to_vec(),
            });
            continue;
        }
        let Ok(text) = field.text().await else {
            p.error = Some("mail.err.form");
            break;
        };
        total += text.len();
        if total > MAX_UPLOAD {
            p.error = Some("mail.err.toobig");
            break;
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
    p
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
