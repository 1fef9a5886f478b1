//! Réglages → Filtres (`/courrier/reglages/filtres`): the rule builder.
//!
//! The rules are the `filter` domain's ([`filter::Rule`]), kept as a readable
//! Sieve script that ManageSieve clients see and may edit. While the
//! webmail's own script is in force, the page lists the rules (order, on/off,
//! edit, delete) and edits one at a time, with a trial on the latest messages
//! of a folder. When a script written by hand is in force, the page shows its
//! text for editing with a syntax check, and replaces it by rules only when
//! asked (the hand-written one is kept, turned off). Every save names the
//! revision the page was made from: a change made meanwhile elsewhere is
//! never overwritten.

mod form;
mod texts;

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use filter::{Current, Filters, Rule, Saved};
use mailstore::Account;
use serde::Deserialize;

pub use form::RuleForm;
pub use texts::TEXTS;

use super::folders::{FolderView, sidebar};
use super::{M, Reader, ReaderForm, common, refused};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::session::Visitor;
use crate::base::{Common, WebError, redirect, render};

/// One rule as the list shows it.
pub struct RuleLine {
    pub n: usize,
    pub name: String,
    pub summary: String,
    pub enabled: bool,
}

#[derive(Template)]
#[template(path = "mail/rules.html")]
struct RulesPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    rev: i64,
    lines: Vec<RuleLine>,
    /// The webmail's script exists but no script is active.
    inactive: bool,
    /// The script's text (of the rules, or the hand-written one).
    script: String,
    /// `Some(name)` when a hand-written script is in force.
    written: Option<String>,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "mail/rule.html")]
struct RulePage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    f: RuleForm,
    slots: Vec<(usize, form::Slot)>,
    fields: &'static [(&'static str, &'static str)],
    ops: &'static [(&'static str, &'static str)],
    errors: Vec<String>,
    /// The folders offered for the trial: (id, path, selected).
    trial_folders: Vec<(i64, String, bool)>,
    /// Trial results: (link, subject, from), when tried.
    tried: Option<Vec<(String, String, String)>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RulesQuery {
    pub info: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RuleQuery {
    /// The rule to edit (its position).
    pub n: Option<usize>,
    /// A message to make a rule from: its folder and UID.
    pub dossier: Option<i64>,
    pub uid: Option<i64>,
}

/// A form of the list page.
#[derive(Debug, Default, Deserialize)]
pub struct ListForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub rev: i64,
    /// `monter`, `descendre`, `activer`, `desactiver`, `supprimer`,
    /// `verifier`, `texte` or `remplacer`.
    #[serde(default)]
    pub quoi: String,
    #[serde(default)]
    pub n: usize,
    /// The hand-written script's name and new text.
    #[serde(default)]
    pub script: String,
    #[serde(default)]
    pub texte: String,
}

has_csrf!(ListForm, RuleForm);

fn filters(app: &App, m: M) -> Result<&Arc<Filters>, WebError> {
    app.filters.as_ref().ok_or_else(|| refused(m.0, m.get("rule.err.unavailable"), "/courrier/reglages"))
}

/// `GET /courrier/reglages/filtres`.
pub async fn page(
    State(app): State<Arc<App>>,
    Query(q): Query<RulesQuery>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let info = match q.info.as_deref() {
        Some("enregistre") => Some("rule.saved"),
        Some("texte") => Some("rule.saved.text"),
        _ => None,
    };
    list(&app, &mut v, &account, Vec::new(), info, None).await
}

/// The list page; `typed` keeps a hand-written text being edited.
async fn list(
    app: &App,
    v: &mut Visitor,
    account: &Account,
    errors: Vec<String>,
    info: Option<&str>,
    typed: Option<String>,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let current = filters(app, m)?.current(account.id).await?;
    let folders = sidebar(app, account, None, m).await?;
    let mut c = common(app, v, m.get("rule.title"));
    c.info = info.map(|k| m.get(k).to_owned());
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let page = match current {
        Current::Rules { rules, revision, active } => RulesPage {
            c,
            m,
            folders,
            rev: revision,
            lines: rules
                .iter()
                .enumerate()
                .map(|(n, r)| RuleLine { n, name: r.name.clone(), summary: form::summary(r, m), enabled: r.enabled })
                .collect(),
            inactive: revision != 0 && !active,
            script: filter::rules::render(&rules),
            written: None,
            errors,
        },
        Current::Written { name, text, revision } => RulesPage {
            c,
            m,
            folders,
            rev: revision,
            lines: Vec::new(),
            inactive: false,
            script: typed.unwrap_or(text),
            written: Some(name),
            errors,
        },
    };
    Ok(render(v, status, &page))
}

/// The French (or English) text of a refused save.
fn saved_error(s: &Saved, m: M) -> Option<String> {
    Some(match s {
        Saved::Stored => return None,
        Saved::Changed => m.get("rule.err.changed").to_owned(),
        Saved::WrittenByHand => m.get("rule.err.written").to_owned(),
        Saved::Invalid(e) => format!("{} : {e}", m.get("rule.err.script")),
        Saved::TooBig => m.get("rule.err.toobig").to_owned(),
        Saved::TooMany => m.get("rule.err.toomany").to_owned(),
        Saved::Forbidden(why) => why.clone(),
    })
}

/// `POST /courrier/reglages/filtres`: reorder, switch, delete, or the
/// hand-written script's text.
pub async fn act(
    State(app): State<Arc<App>>,
    ReaderForm { mut v, account, form }: ReaderForm<ListForm>,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let filters = filters(&app, m)?.clone();
    let saved = match form.quoi.as_str() {
        "verifier" => {
            let errors = match filters.check(&form.texte) {
                Ok(()) => match filters.forwarding_refusal(account.id, &form.texte).await? {
                    None => {
                        return list(&app, &mut v, &account, Vec::new(), Some("rule.checked"), Some(form.texte)).await;
                    }
                    Some(why) => vec![why],
                },
                Err(e) => vec![format!("{} : {e}", m.get("rule.err.script"))],
            };
            return list(&app, &mut v, &account, errors, None, Some(form.texte)).await;
        }
        "texte" => {
            let saved = filters.save_text(account.id, &form.script, &form.texte, form.rev).await?;
            if let Some(e) = saved_error(&saved, m) {
                return list(&app, &mut v, &account, vec![e], None, Some(form.texte)).await;
            }
            return Ok(redirect(&v, "/courrier/reglages/filtres?info=texte"));
        }
        "remplacer" => filters.save_rules(account.id, &[], form.rev, true).await?,
        quoi => {
            let Current::Rules { mut rules, .. } = filters.current(account.id).await? else {
                return list(&app, &mut v, &account, vec![m.get("rule.err.written").to_owned()], None, None).await;
            };
            let n = form.n;
            if n >= rules.len() {
                return Err(refused(v.lang, m.get("rule.err.form"), "/courrier/reglages/filtres"));
            }
            match quoi {
                "monter" if n > 0 => rules.swap(n, n - 1),
                "descendre" if n + 1 < rules.len() => rules.swap(n, n + 1),
                "activer" => rules[n].enabled = true,
                "desactiver" => rules[n].enabled = false,
                "supprimer" => {
                    rules.remove(n);
                }
                "monter" | "descendre" => {}
                _ => return Err(refused(v.lang, m.get("rule.err.form"), "/courrier/reglages/filtres")),
            }
            filters.save_rules(account.id, &rules, form.rev, false).await?
        }
    };
    match saved_error(&saved, m) {
        None => Ok(redirect(&v, "/courrier/reglages/filtres?info=enregistre")),
        Some(e) => list(&app, &mut v, &account, vec![e], None, None).await,
    }
}

/// `GET /courrier/reglages/filtres/regle`: a new rule, one to edit (`n`),
/// or one made from a message (`dossier` and `uid`).
pub async fn edit(
    State(app): State<Arc<App>>,
    Query(q): Query<RuleQuery>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let current = filters(&app, m)?.current(account.id).await?;
    let Current::Rules { rules, revision, .. } = current else {
        return Ok(redirect(&v, "/courrier/reglages/filtres"));
    };
    let mut f = match q.n {
        Some(n) => match rules.get(n) {
            Some(rule) => RuleForm::of(rule, Some(n), revision),
            None => return Err(refused(v.lang, m.get("rule.err.form"), "/courrier/reglages/filtres")),
        },
        None => RuleForm {
            rev: revision,
            actif: Some("1".into()),
            selon: "toutes".into(),
            c0_op: "contient".into(),
            arreter: Some("1".into()),
            ..RuleForm::default()
        },
    };
    if let (Some(mailbox), Some(uid)) = (q.dossier, q.uid) {
        from_message(&app, &account, mailbox, uid, &mut f, m).await?;
    }
    show(&app, &mut v, &account, f, Vec::new(), None).await
}

/// Fills `f` from a message: its mailing list when it came through one,
/// else its sender.
async fn from_message(
    app: &App,
    account: &Account,
    mailbox: i64,
    uid: i64,
    f: &mut RuleForm,
    m: M,
) -> Result<(), WebError> {
    let mb = super::owned(app, account, mailbox, m.0).await?;
    let Some(row) = app.ms.message_by_uid(mb.id, uid).await? else {
        return Err(super::not_found(m.0));
    };
    let view = app.ms.view(&row.blob_hash).await?;
    let list = view.header_raw("List-Id").map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
    let sender = view.from().first().map(|a| format!("{}@{}", a.mailbox, a.host)).unwrap_or_default();
    match list {
        Some(id) => {
            let id = id.rsplit('<').next().unwrap_or(&id).trim_end_matches('>').to_owned();
            f.nom = format!("{} {id}", m.get("rule.from.name"));
            (f.c0_champ, f.c0_op, f.c0_valeur) = ("liste".into(), "contient".into(), id);
        }
        None => {
            f.nom = format!("{} {sender}", m.get("rule.from.name"));
            (f.c0_champ, f.c0_op, f.c0_valeur) = ("de".into(), "contient".into(), sender);
        }
    }
    f.essai = mb.id.to_string();
    Ok(())
}

async fn show(
    app: &App,
    v: &mut Visitor,
    account: &Account,
    f: RuleForm,
    errors: Vec<String>,
    tried: Option<Vec<(String, String, String)>>,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let folders = sidebar(app, account, None, m).await?;
    let chosen: Option<i64> = f.essai.parse().ok();
    let inbox = folders.first().map(|x| x.id);
    let trial_folders = folders.iter().map(|x| (x.id, x.path.clone(), Some(x.id) == chosen.or(inbox))).collect();
    let title = if f.n.is_empty() { m.get("rule.new") } else { m.get("rule.edit") };
    let c = common(app, v, title);
    let slots = f.slots().into_iter().enumerate().collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let page = RulePage { c, m, folders, f, slots, fields: form::FIELDS, ops: form::OPS, errors, trial_folders, tried };
    Ok(render(v, status, &page))
}

/// `POST /courrier/reglages/filtres/regle`: save the rule, or try it.
pub async fn save(
    State(app): State<Arc<App>>,
    ReaderForm { mut v, account, form }: ReaderForm<RuleForm>,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let filters = filters(&app, m)?.clone();
    let Some(rule) = form.rule() else {
        return Err(refused(v.lang, m.get("rule.err.form"), "/courrier/reglages/filtres"));
    };
    if form.action == "essayer" {
        return try_rule(&app, &mut v, &account, &filters, rule, form).await;
    }
    let problems: Vec<String> = rule.problems().iter().map(|p| m.get(p.key()).to_owned()).collect();
    if !problems.is_empty() {
        return show(&app, &mut v, &account, form, problems, None).await;
    }
    let Current::Rules { mut rules, .. } = filters.current(account.id).await? else {
        return show(&app, &mut v, &account, form, vec![m.get("rule.err.written").to_owned()], None).await;
    };
    match form.n.parse::<usize>() {
        Ok(n) if n < rules.len() => rules[n] = rule,
        Ok(_) => return show(&app, &mut v, &account, form, vec![m.get("rule.err.changed").to_owned()], None).await,
        Err(_) => rules.push(rule),
    }
    let saved = filters.save_rules(account.id, &rules, form.rev, false).await?;
    match saved_error(&saved, m) {
        None => Ok(redirect(&v, "/courrier/reglages/filtres?info=enregistre")),
        Some(e) => show(&app, &mut v, &account, form, vec![e], None).await,
    }
}

/// Shows the form again with the messages the rule would have handled.
async fn try_rule(
    app: &App,
    v: &mut Visitor,
    account: &Account,
    filters: &Filters,
    rule: Rule,
    form: RuleForm,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    // Only the conditions matter for a trial.
    let mut problems: Vec<String> = rule
        .problems()
        .into_iter()
        .filter(|p| !matches!(p, filter::rules::Problem::NoAction | filter::rules::Problem::NoName))
        .map(|p| m.get(p.key()).to_owned())
        .collect();
    problems.dedup();
    if !problems.is_empty() {
        return show(app, v, account, form, problems, None).await;
    }
    let mailbox = match form.essai.parse::<i64>() {
        Ok(id) => super::owned(app, account, id, v.lang).await?,
        Err(_) => match app.ms.mailbox_with_use(account.id, model::SpecialUse::Inbox).await? {
            Some(inbox) => inbox,
            None => return Err(super::not_found(v.lang)),
        },
    };
    let uids = filters.try_rule(account.id, &rule, mailbox.id).await?;
    let mut tried = Vec::new();
    for uid in uids.into_iter().take(50) {
        if let Some(row) = app.ms.message_by_uid(mailbox.id, uid).await?
            && let Some(s) = app.ms.summary(&row.blob_hash).await?
        {
            tried.push((format!("/courrier/{}/{uid}", mailbox.id), s.subject, s.from_addr));
        }
    }
    show(app, v, account, RuleForm { essai: mailbox.id.to_string(), ..form }, Vec::new(), Some(tried)).await
}
