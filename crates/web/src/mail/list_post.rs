//! What the moderation queue (`moderation`) and a list's archive
//! (`list_archive`) share: the lists service or a page saying it is not
//! there, the domain's refusals as the 404 page, and a list post's body as
//! both pages show it (text escaped, HTML only through its sandboxed frame,
//! attachments by name).

use std::sync::Arc;

use mailstore::{Body, MessageView};

use super::sanitize::{shown, shown_part, text_to_html};
use super::{M, not_found, refused};
use crate::App;
use crate::base::WebError;
use crate::base::i18n::Lang;

/// The lists service, or a page with the text of `unavailable` (a key).
pub(super) fn service<'a>(app: &'a App, lang: Lang, unavailable: &str) -> Result<&'a Arc<lists::Lists>, WebError> {
    app.lists.as_ref().ok_or_else(|| refused(lang, M(lang).get(unavailable), "/courrier"))
}

/// The domain's answer as a page: a reader who may not see the post or the
/// list (or nothing there) gets the 404 page; anything else is logged.
pub(super) fn failed(lang: Lang, e: lists::Error) -> WebError {
    match e {
        lists::Error::NotFound(_) => not_found(lang),
        e => WebError::internal(&e),
    }
}

pub(super) fn subject_or_none(subject: &str, m: M) -> String {
    let subject = shown(subject.trim());
    if subject.is_empty() { m.get("mail.nosubject").to_owned() } else { subject }
}

/// A post's body as shown: its text made safe HTML, or the address of the
/// frame its HTML is served in (`frame`), and its attachments' names.
pub(super) struct ShownPost {
    pub text: Option<String>,
    pub frame: Option<String>,
    pub files: Vec<String>,
}

pub(super) fn shown_post(msg: &MessageView, frame: &str) -> ShownPost {
    let (mut text, mut framed) = (None, None);
    match msg.body() {
        Some(Body::Html(_)) => framed = Some(frame.to_owned()),
        Some(Body::Text(t)) => text = Some(text_to_html(shown_part(&t, false).0)),
        None => {}
    }
    let files = msg.files().iter().map(super::attached::file_name).collect();
    ShownPost { text, frame: framed, files }
}
