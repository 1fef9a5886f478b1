//! Réglages → « Délégations » (`/courrier/reglages/delegations`, issue 22):
//! the grants the reader gave (on their whole mailbox or on one folder:
//! read, read and write, send as, send on behalf) with a button to revoke
//! each, the grants they received, a form to give one to a colleague by
//! address, and the journal of what delegates did in their mailbox.
//! « Partager ce dossier » on a folder opens the same page with the form
//! scoped to that folder (`?dossier=ID`).
//!
//! Every change goes through the domain: [`mailstore::Mailstore::grantee_for`]
//! says who may receive a delegation (an active staff account of the
//! installation, not the reader), [`mailstore::Mailstore::set_account_rights`]
//! and [`mailstore::Mailstore::set_folder_rights`] write it. Each form is a
//! POST with the session's CSRF token; a refusal comes back as the page with
//! the reason said and what was typed kept.

mod texts;

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use mailstore::{Account, GranteeRefusal};
use model::{Address, Rights, SendRights};
use serde::Deserialize;

use super::folders::{FolderView, display_name, sidebar};
use super::{M, Reader, ReaderForm, common, not_found};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::session::Visitor;
use crate::base::{Common, WebError, redirect, render};
pub use texts::TEXTS;

const PAGE: &str = "/courrier/reglages/delegations";
/// Journal lines shown.
const JOURNAL_SHOWN: usize = 30;

/// What the reader's rights on a folder amount to, in words.
pub fn rights_label(m: M, rights: Rights) -> String {
    if rights.contains(Rights::READ_WRITE) {
        m.get("deleg.rights.write").to_owned()
    } else if rights.contains(Rights::READ) {
        m.get("deleg.rights.read").to_owned()
    } else if rights.contains(Rights::LOOKUP) {
        m.get("deleg.rights.lookup").to_owned()
    } else if rights.is_empty() {
        m.get("deleg.rights.none").to_owned()
    } else {
        m.get("deleg.rights.other").replace("{letters}", &rights.to_string())
    }
}

/// The form's `droits`: `lecture` (`lrs`), `ecriture` (`lrswipte`) or
/// `aucun` (sending rights only).
fn parse_rights(text: &str) -> Option<Rights> {
    match text {
        "lecture" => Some(Rights::READER),
        "ecriture" => Some(Rights::READ_WRITE),
        "aucun" => Some(Rights::NONE),
        _ => None,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DelegationQuery {
    /// « Partager ce dossier »: the form scoped to this folder of the reader.
    pub dossier: Option<i64>,
    /// `donnee` or `retiree`.
    pub info: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct DelegationForm {
    #[serde(default)]
    pub csrf: String,
    /// `donner` or `retirer`.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub adresse: String,
    /// Empty: the whole mailbox; otherwise one of the reader's folders.
    #[serde(default)]
    pub portee: String,
    #[serde(default)]
    pub droits: String,
    pub comme: Option<String>,
    pub pour: Option<String>,
    /// `retirer`: the grantee's account.
    pub compte: Option<i64>,
}

has_csrf!(DelegationForm);

/// One grant as the page lists it.
struct GrantView {
    who: String,
    scope: String,
    rights: String,
    sending: String,
    /// The revoke form's values and its button's label (grants given only).
    grantee: i64,
    revoke_label: String,
    portee: String,
}

struct ScopeChoice {
    id: i64,
    path: String,
    selected: bool,
}

struct JournalLine {
    when: String,
    who: String,
    action: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "mail/delegations.html")]
struct DelegationsPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    /// The reader's own folders, for the scope menu.
    scopes: Vec<ScopeChoice>,
    heading: String,
    form: DelegationForm,
    /// A folder's « Partager ce dossier »: no scope menu, no sending rights.
    scoped: Option<i64>,
    given: Vec<GrantView>,
    received: Vec<GrantView>,
    journal: Vec<JournalLine>,
}

/// `GET /courrier/reglages/delegations`.
pub async fn page(
    State(app): State<Arc<App>>,
    Query(q): Query<DelegationQuery>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let info = match q.info.as_deref() {
        Some("donnee") => Some("deleg.done.given"),
        Some("retiree") => Some("deleg.done.revoked"),
        _ => None,
    };
    let form = DelegationForm {
        portee: q.dossier.map(|d| d.to_string()).unwrap_or_default(),
        droits: "lecture".into(),
        ..DelegationForm::default()
    };
    show(&app, &mut v, &account, form, q.dossier, None, info).await
}

async fn show(
    app: &App,
    v: &mut Visitor,
    account: &Account,
    form: DelegationForm,
    scoped: Option<i64>,
    error: Option<&str>,
    info: Option<&str>,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let ms = &app.ms;
    let folders = sidebar(app, account, None, m).await?;
    let own: Vec<FolderView> = folders.iter().filter(|f| !f.shared).cloned().collect();
    let heading = match scoped {
        Some(id) => {
            let mailbox = ms.mailbox(account.id, id).await?.ok_or_else(|| not_found(v.lang))?;
            m.get("deleg.share.title").replace("{folder}", &display_name(&mailbox, m))
        }
        None => m.get("deleg.title").to_owned(),
    };
    let names: HashMap<i64, String> = own.iter().map(|f| (f.id, f.path.clone())).collect();
    let sending = |as_: bool, for_: bool| match (as_, for_) {
        (true, true) => format!("{}, {}", m.get("deleg.sending.as"), m.get("deleg.sending.for")),
        (true, false) => m.get("deleg.sending.as").to_owned(),
        (false, true) => m.get("deleg.sending.for").to_owned(),
        (false, false) => m.get("deleg.sending.no").to_owned(),
    };
    let scope_of = |id: Option<i64>, names: &HashMap<i64, String>| match id {
        None => m.get("deleg.scope.all").to_owned(),
        Some(id) => names.get(&id).cloned().unwrap_or_else(|| format!("#{id}")),
    };
    let given = ms
        .grants_given(account.id)
        .await?
        .into_iter()
        .map(|g| GrantView {
            revoke_label: m
                .get("deleg.revoke.label")
                .replace("{who}", &g.grantee_address)
                .replace("{scope}", &scope_of(g.mailbox_id, &names)),
            who: g.grantee_address.clone(),
            scope: scope_of(g.mailbox_id, &names),
            rights: rights_label(m, Rights::parse(&g.rights).unwrap_or_default()),
            sending: sending(g.send_as, g.on_behalf),
            grantee: g.grantee_id,
            portee: g.mailbox_id.map(|i| i.to_string()).unwrap_or_default(),
        })
        .collect();
    let mut received = Vec::new();
    for g in ms.grants_held(account.id).await? {
        let scope = match g.mailbox_id {
            None => m.get("deleg.scope.all").to_owned(),
            Some(id) => match ms.reach(account.id, id).await? {
                Some(at) => display_name(&at.mailbox, m),
                None => continue,
            },
        };
        received.push(GrantView {
            who: g.owner_address.clone(),
            scope,
            rights: rights_label(m, Rights::parse(&g.rights).unwrap_or_default()),
            sending: sending(g.send_as, g.on_behalf),
            grantee: g.grantee_id,
            revoke_label: String::new(),
            portee: String::new(),
        });
    }
    let now = crate::base::session::unix_now();
    let journal = ms
        .delegation_journal(account.id)
        .await?
        .into_iter()
        .take(JOURNAL_SHOWN)
        .map(|e| JournalLine {
            when: v.chrome.clock.short(e.at, now, v.lang),
            who: e.actor_address,
            action: e.action,
            detail: e.detail,
        })
        .collect();
    let mut c = common(app, v, &heading);
    c.error = error.map(|k| m.get(k).to_owned());
    c.info = info.map(|k| m.get(k).to_owned());
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let chosen = form.portee.parse::<i64>().ok();
    let scopes =
        own.iter().map(|f| ScopeChoice { id: f.id, path: f.path.clone(), selected: chosen == Some(f.id) }).collect();
    let page = DelegationsPage { c, m, folders, scopes, heading, form, scoped, given, received, journal };
    Ok(render(v, status, &page))
}

/// `POST /courrier/reglages/delegations`: give or revoke.
pub async fn save(
    State(app): State<Arc<App>>,
    ReaderForm { mut v, account, form }: ReaderForm<DelegationForm>,
) -> Result<Response, WebError> {
    let scope: Option<i64> = match form.portee.trim() {
        "" => None,
        id => Some(id.parse().map_err(|_| not_found(v.lang))?),
    };
    // The folder must be the reader's own: another's is answered as missing.
    let mailbox = match scope {
        Some(id) => Some(app.ms.mailbox(account.id, id).await?.ok_or_else(|| not_found(v.lang))?),
        None => None,
    };
    let back = |info: &str| match scope {
        Some(id) => format!("{PAGE}?dossier={id}&info={info}"),
        None => format!("{PAGE}?info={info}"),
    };
    if form.action == "retirer" {
        let Some(grantee) = form.compte else { return Err(not_found(v.lang)) };
        let grants = app.ms.grants_given(account.id).await?;
        let Some(g) = grants.iter().find(|g| g.grantee_id == grantee && g.mailbox_id == scope) else {
            return Err(not_found(v.lang));
        };
        match &mailbox {
            Some(mb) => {
                let address = Address::parse(&g.grantee_address).map_err(|_| WebError::Internal)?;
                app.ms.set_folder_rights(account.id, mb, &address, Rights::NONE).await?;
            }
            None => app.ms.set_account_rights(account.id, grantee, Rights::NONE, SendRights::default()).await?,
        }
        tracing::info!(owner = account.id, grantee, "delegation revoked from the webmail");
        return Ok(redirect(&v, &back("retiree")));
    }
    let (rights, send, grantee) = match check(&app, &account, &form, mailbox.is_some()).await? {
        Ok(ok) => ok,
        Err(key) => return show(&app, &mut v, &account, form, scope, Some(key), None).await,
    };
    match &mailbox {
        Some(mb) => app.ms.set_folder_rights(account.id, mb, &grantee.1, rights).await?,
        None => app.ms.set_account_rights(account.id, grantee.0, rights, send).await?,
    }
    tracing::info!(owner = account.id, grantee = grantee.0, rights = %rights, "delegation given from the webmail");
    Ok(redirect(&v, &back("donnee")))
}

/// The grant the form asks for, or the text key of what is wrong with it.
async fn check(
    app: &App,
    account: &Account,
    form: &DelegationForm,
    on_folder: bool,
) -> Result<Result<(Rights, SendRights, (i64, Address)), &'static str>, WebError> {
    let Ok(address) = Address::parse(form.adresse.trim()) else { return Ok(Err("deleg.err.address")) };
    let Some(rights) = parse_rights(form.droits.trim()) else { return Ok(Err("deleg.err.rights")) };
    let send = SendRights { send_as: form.comme.is_some(), on_behalf: form.pour.is_some() };
    if on_folder && (send.send_as || send.on_behalf) {
        return Ok(Err("deleg.err.sendfolder"));
    }
    if rights.is_empty() && !send.send_as && !send.on_behalf {
        return Ok(Err("deleg.err.nothing"));
    }
    Ok(match app.ms.grantee_for(account.id, &address).await? {
        Ok(id) => Ok((rights, send, (id, address))),
        Err(GranteeRefusal::Own) => Err("deleg.err.own"),
        Err(GranteeRefusal::Outside) => Err("deleg.err.outside"),
        Err(GranteeRefusal::Unknown) => Err("deleg.err.unknown"),
        Err(GranteeRefusal::Student) => Err("deleg.err.student"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::i18n::Lang;

    #[test]
    fn rights_read_as_words() {
        let fr = M(Lang::Fr);
        assert_eq!(rights_label(fr, Rights::READ_WRITE), "lecture et écriture (marquer, déplacer, supprimer)");
        assert_eq!(rights_label(fr, Rights::READER), "lecture seule");
        assert_eq!(rights_label(M(Lang::En), Rights::parse("lr").unwrap()), "read only");
        assert_eq!(rights_label(fr, Rights::parse("l").unwrap()), "voir le dossier seulement");
        assert_eq!(rights_label(fr, Rights::parse("a").unwrap()), "droits IMAP « a »");
        assert_eq!(parse_rights("ecriture"), Some(Rights::READ_WRITE));
        assert_eq!(parse_rights("tout"), None);
    }
}
