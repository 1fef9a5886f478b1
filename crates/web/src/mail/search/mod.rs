//! Search across every folder: `/courrier/recherche?q=`. The box in the
//! layout sends here; [`query`] parses the operators (errors are shown, not
//! guessed around), [`run`] asks the full-text index and maps its answer
//! to messages with bounded reads. Results are newest first (by the date
//! the message was received, as IMAP's BEFORE/SINCE read it), fifty a page,
//! each linking to the message in its folder.

#[cfg(test)]
mod bench;
pub mod query;
pub mod run;

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query as UrlQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use mailstore::{DateCursor, Mailbox};
use model::{BlobId, Flag};
use serde::Deserialize;

use super::folders::{FolderView, display_name, sidebar};
use super::list::{form_encode, sender_name};
use super::{M, Reader, common};
use crate::App;
use crate::base::i18n::Lang;
use crate::base::{Common, WebError, render};
use query::QueryError;
use run::Failure;

/// Results per page.
pub const PAGE: usize = 50;

/// (key, French, English).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("live.search.label", "Rechercher dans tous les dossiers", "Search all folders"),
    ("live.search.placeholder", "de:claire objet:réunion…", "de:claire objet:réunion…"),
    ("live.search.landmark", "Recherche dans le courrier", "Mail search"),
    ("live.search.title", "Recherche", "Search"),
    ("live.search.results", "Résultats de la recherche", "Search results"),
    ("live.search.folder", "Dossier", "Folder"),
    ("live.search.none", "Aucun message ne correspond.", "No message matches."),
    ("live.search.count", "message(s) trouvé(s)", "message(s) found"),
    ("live.search.about", "Environ {n} message(s) trouvé(s)", "About {n} message(s) found"),
    ("live.search.atmost", "Au plus {n} message(s) trouvé(s)", "At most {n} message(s) found"),
    ("live.search.next", "Résultats suivants", "Next results"),
    ("live.search.first", "Premiers résultats", "First results"),
    (
        "live.search.partial",
        "Les messages les plus anciens n'ont pas encore été parcourus.",
        "The oldest messages were not looked through yet.",
    ),
    ("live.search.goon", "Continuer la recherche", "Keep searching"),
    ("live.search.help", "Comment chercher", "How to search"),
    (
        "live.search.help.intro",
        "Les mots sont cherchés dans tout le message (objet, personnes, texte, noms des pièces jointes), accents et majuscules ignorés ; chaque mot doit y être.",
        "Words are looked for in the whole message (subject, people, text, attachment names), ignoring accents and case; every word must be there.",
    ),
    ("live.search.help.from", "de:claire — envoyé par", "de:claire — sent by"),
    ("live.search.help.to", "à:paul ou a:paul — adressé à (ou en copie)", "à:paul or a:paul — sent to (or copied)"),
    ("live.search.help.subject", "objet:réunion — dans l'objet", "objet:réunion — in the subject"),
    (
        "live.search.help.pj",
        "pj:oui, pj:non — avec ou sans pièce jointe",
        "pj:oui, pj:non — with or without attachment",
    ),
    (
        "live.search.help.dates",
        "avant:2026-11-23, après:01/09/2026 — reçu avant ce jour, ou ce jour et après",
        "avant:2026-11-23, après:01/09/2026 — received before that day, or on that day and after",
    ),
    ("live.search.help.in", "dans:Archives — dans un seul dossier", "dans:Archives — in one folder only"),
    (
        "live.search.help.quotes",
        "\"conseil de classe\" ou de:\"Claire Martin\" — guillemets pour une valeur de plusieurs mots (chacun doit être présent)",
        "\"conseil de classe\" or de:\"Claire Martin\" — quotes for a value of several words (each must be present)",
    ),
    (
        "live.search.err.operator",
        "Opérateur inconnu « {}: ». Opérateurs possibles : de:, à:, objet:, pj:, avant:, après:, dans:.",
        "Unknown operator \"{}:\". Possible operators: de:, à:, objet:, pj:, avant:, après:, dans:.",
    ),
    ("live.search.err.missing", "Il manque une valeur après « {}: ».", "A value is missing after \"{}:\"."),
    ("live.search.err.pj", "« pj: » attend oui ou non, pas « {} ».", "\"pj:\" takes oui or non, not \"{}\"."),
    (
        "live.search.err.date",
        "Date invalide : « {} ». Écrivez AAAA-MM-JJ (2026-11-23) ou JJ/MM/AAAA (23/11/2026).",
        "Invalid date: \"{}\". Write YYYY-MM-DD (2026-11-23) or DD/MM/YYYY (23/11/2026).",
    ),
    (
        "live.search.err.range",
        "La date de « après: » doit précéder celle de « avant: » : aucun message ne peut correspondre.",
        "The \"après:\" date must come before the \"avant:\" date: no message can match.",
    ),
    ("live.search.err.folders", "Un seul « dans: » par recherche.", "Only one \"dans:\" per search."),
    ("live.search.err.nofolder", "Aucun dossier ne s'appelle « {} ».", "No folder is called \"{}\"."),
];

/// The user-facing sentence for a query error.
pub fn explain(e: &QueryError, m: M) -> String {
    let (key, value) = match e {
        QueryError::UnknownOperator(n) => ("live.search.err.operator", n.as_str()),
        QueryError::MissingValue(n) => ("live.search.err.missing", n.as_str()),
        QueryError::BadAttachment(v) => ("live.search.err.pj", v.as_str()),
        QueryError::BadDate { value, .. } => ("live.search.err.date", value.as_str()),
        QueryError::EmptyRange => ("live.search.err.range", ""),
        QueryError::TwoFolders => ("live.search.err.folders", ""),
    };
    m.get(key).replace("{}", value)
}

/// The account's folder called `name` (its own name, its last part, or its
/// shown name in either language; accents and case ignored).
pub fn resolve_folder(name: &str, boxes: &[Mailbox]) -> Option<i64> {
    let wanted = mailstore::fold(name);
    boxes
        .iter()
        .find(|b| {
            let last = b.name.rsplit('/').next().unwrap_or(&b.name);
            [b.name.clone(), last.to_owned(), display_name(b, M(Lang::Fr)), display_name(b, M(Lang::En))]
                .iter()
                .any(|n| mailstore::fold(n) == wanted)
        })
        .map(|b| b.id)
}

/// `date.id` of a cursor in a link, and back.
fn cursor_text(c: DateCursor) -> String {
    format!("{}.{}", c.date, c.id)
}

fn parse_cursor(s: &str) -> Option<DateCursor> {
    let (d, i) = s.split_once('.')?;
    Some(DateCursor { date: d.parse().ok()?, id: i.parse().ok()? })
}

/// One result line.
pub struct ResultRow {
    pub href: String,
    pub folder: String,
    pub from: String,
    pub subject: String,
    pub date: String,
    /// The date to the second with its UTC offset, shown on hover.
    pub exact: String,
    pub unread: bool,
    pub attachment: bool,
}

#[derive(Template)]
#[template(path = "mail/search.html")]
struct SearchPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    query: String,
    searched: bool,
    rows: Vec<ResultRow>,
    total: Option<usize>,
    /// « Environ N » / « Au plus N » when there is no exact total.
    estimate: Option<String>,
    next: Option<String>,
    first: Option<String>,
    partial: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    pub q: Option<String>,
    /// Where the page starts (`date.id`, from a "next" link).
    pub suite: Option<String>,
}

/// `GET /courrier/recherche`.
pub async fn page(
    State(app): State<Arc<App>>,
    UrlQuery(p): UrlQuery<SearchParams>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let text: String = p.q.as_deref().unwrap_or("").trim().chars().take(query::MAX_QUERY).collect();
    let below = p.suite.as_deref().and_then(parse_cursor).unwrap_or(DateCursor::TOP);
    let folders = sidebar(&app, &account, None, m).await?;
    let boxes = app.ms.mailboxes(account.id).await?;
    let mut error = None;
    let mut outcome = run::Outcome::default();
    let parsed = query::parse(&text);
    let searched = matches!(&parsed, Ok(q) if !q.is_empty());
    match parsed {
        Err(e) => error = Some(explain(&e, m)),
        Ok(q) if q.is_empty() => {}
        Ok(mut q) => {
            // The days of `avant:`/`après:` are the reader's days.
            q.before = q.before.map(|d| v.chrome.clock.day_start(d));
            q.since = q.since.map(|d| v.chrome.clock.day_start(d));
            let folder = match q.folder.as_deref().map(|n| (n, resolve_folder(n, &boxes))) {
                Some((n, None)) => {
                    error = Some(m.get("live.search.err.nofolder").replace("{}", n));
                    None
                }
                Some((_, Some(id))) => Some(id),
                None => None,
            };
            if error.is_none() {
                match run::run(&app.ms, account.id, &q, folder, below, PAGE).await {
                    Ok(o) => outcome = o,
                    Err(Failure::Unavailable) => error = Some(m.get("mail.search.unavailable").to_owned()),
                    Err(Failure::Store(e)) => return Err(e.into()),
                }
            }
        }
    }
    let ids: Vec<BlobId> = outcome.rows.iter().map(|r| r.blob_hash.clone()).collect();
    let metas = app.ms.summaries(&ids).await?.into_iter().map(|b| (b.id.clone(), b)).collect::<HashMap<_, _>>();
    let names: HashMap<i64, String> = boxes.iter().map(|b| (b.id, display_name(b, m))).collect();
    let now = crate::base::session::unix_now();
    let rows = outcome
        .rows
        .iter()
        .map(|r| {
            let meta = metas.get(&r.blob_hash);
            let subject = meta.map(|b| b.subject.trim().to_owned()).filter(|s| !s.is_empty());
            ResultRow {
                href: format!("/courrier/{}/{}", r.mailbox_id, r.uid),
                folder: names.get(&r.mailbox_id).cloned().unwrap_or_default(),
                from: meta.map(|b| sender_name(&b.from_addr)).unwrap_or_default(),
                subject: crate::mail::sanitize::shown(&subject.unwrap_or_else(|| m.get("mail.nosubject").to_owned())),
                date: v.chrome.clock.short(r.internal_date, now, m.0),
                exact: v.chrome.clock.exact(r.internal_date),
                unread: r.flags & Flag::Seen.bit() == 0,
                attachment: r.has_attachment,
            }
        })
        .collect();
    let base = format!("/courrier/recherche?q={}", form_encode(&text));
    let next = outcome.next.map(|c| format!("{base}&suite={}", cursor_text(c)));
    let first = p.suite.is_some().then(|| base.clone());
    let mut c = common(&app, &mut v, m.get("live.search.title"));
    c.error = error;
    let page = SearchPage {
        c,
        m,
        folders,
        query: text,
        searched,
        rows,
        total: outcome.total,
        estimate: outcome.estimate.map(|e| estimate_text(e, m)),
        next,
        first,
        partial: outcome.partial,
    };
    Ok(render(&v, StatusCode::OK, &page))
}

/// The sentence of an estimated count.
fn estimate_text(e: run::Estimate, m: M) -> String {
    let (key, n) = match e {
        run::Estimate::About(n) => ("live.search.about", n),
        run::Estimate::AtMost(n) => ("live.search.atmost", n),
    };
    m.get(key).replace("{n}", &n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = DateCursor { date: 1_700_000_000, id: 42 };
        assert_eq!(parse_cursor(&cursor_text(c)), Some(c));
        assert_eq!(parse_cursor("x.1"), None);
        assert_eq!(parse_cursor("12"), None);
    }

    #[test]
    fn errors_name_what_was_typed() {
        let m = M(Lang::Fr);
        let e = query::parse("expediteur:x").unwrap_err();
        assert!(explain(&e, m).contains("« expediteur: »"), "{}", explain(&e, m));
        let e = query::parse("avant:31/02/2026").unwrap_err();
        assert!(explain(&e, m).contains("31/02/2026"));
        assert!(explain(&e, M(Lang::En)).starts_with("Invalid date"));
    }
}
