//! Identities and signatures: `/courrier/reglages/identites` lists, adds,
//! changes and deletes the names and addresses a user writes with, each
//! with a signature, one of them the default; the composer's "De" selector
//! offers them.
//!
//! An identity's address must be the account's own or one of its aliases:
//! checked when saved, checked again when sending (an alias may have been
//! removed since), and once more by the submission pipeline.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use mailstore::{Account, MailIdentity};
use model::{Address, SendRights};
use serde::Deserialize;

use super::folders::{FolderView, sidebar};
use super::{M, Reader, ReaderForm, common};
use crate::App;
use crate::base::extract::has_csrf;
use crate::base::session::Visitor;
use crate::base::{Common, WebError, redirect, render};

/// Most identities per account.
const MAX_IDENTITIES: usize = 20;
/// Longest signature kept.
const MAX_SIGNATURE: usize = 2000;

/// Who a message is from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub name: String,
    pub address: String,
    pub signature: String,
    /// Sent « de la part de » another account (issue 22): the user's own
    /// name and address, written in `Sender:` (RFC 5322 section 3.6.2).
    pub on_behalf: Option<(String, String)>,
}

impl Sender {
    pub fn of_account(account: &Account) -> Sender {
        Sender {
            name: account.display_name.clone(),
            address: account.address.to_string(),
            signature: String::new(),
            on_behalf: None,
        }
    }

    fn of(i: &MailIdentity) -> Sender {
        Sender { name: i.name.clone(), address: i.address.clone(), signature: i.signature.clone(), on_behalf: None }
    }
}

/// The `de` value of sending as another account (`comme:<address>`) or on
/// its behalf (`pour:<address>`).
const AS: &str = "comme:";
const FOR: &str = "pour:";

/// The addresses of other accounts `account` may send from: the owner's
/// address, name and sending rights, from the account-wide grants it holds.
pub async fn delegated(app: &App, account: &Account) -> Result<Vec<(String, String, SendRights)>, WebError> {
    let mut out = Vec::new();
    for g in app.ms.grants_held(account.id).await? {
        if g.mailbox_id.is_some() || !(g.send_as || g.on_behalf) {
            continue;
        }
        let Some(owner) = app.identity.account(g.owner_id).await? else { continue };
        if owner.status != model::AccountStatus::Active {
            continue;
        }
        let rights = SendRights { send_as: g.send_as, on_behalf: g.on_behalf };
        out.push((owner.address.to_string(), owner.display_name.clone(), rights));
    }
    Ok(out)
}

/// The sender a `comme:` or `pour:` value names, when the domain says the
/// account holds that right on that address now (`None`: not such a value;
/// `Some(Err(address))`: a right it does not hold).
async fn delegated_sender(app: &App, account: &Account, de: &str) -> Result<Option<Result<Sender, String>>, WebError> {
    let (wanted, on_behalf) = match (de.strip_prefix(AS), de.strip_prefix(FOR)) {
        (Some(a), _) => (a, false),
        (_, Some(a)) => (a, true),
        _ => return Ok(None),
    };
    let Ok(address) = Address::parse(wanted.trim()) else { return Ok(Some(Err(wanted.to_owned()))) };
    let rights = app.ms.send_rights(account.id, &address).await?.map(|(_, r)| r).unwrap_or_default();
    if !(if on_behalf { rights.on_behalf } else { rights.send_as }) {
        return Ok(Some(Err(address.to_string())));
    }
    let name = match app.ms.local_sender(&address).await? {
        Some(owner) => owner.display_name,
        None => String::new(),
    };
    Ok(Some(Ok(Sender {
        name,
        address: address.to_string(),
        signature: String::new(),
        on_behalf: on_behalf.then(|| (account.display_name.clone(), account.address.to_string())),
    })))
}

/// The addresses `account` may send as: its own, then its aliases.
pub async fn own_addresses(app: &App, account: &Account) -> Result<Vec<String>, mailstore::Error> {
    let mut out = vec![account.address.to_string()];
    out.extend(app.ms.aliases(account.id).await?.iter().map(|a| a.to_string()));
    Ok(out)
}

/// The default identity, or the account itself when it has none.
pub async fn default_identity(app: &App, account: &Account) -> Result<Sender, mailstore::Error> {
    let list = app.ms.identities(account.id).await?;
    Ok(list.iter().find(|i| i.is_default).map(Sender::of).unwrap_or_else(|| Sender::of_account(account)))
}

/// The sender for the identity `de` (its id; empty for the default).
/// `Ok(Err(address))` when that identity's address is no longer the user's;
/// an unknown id (another user's, say) is the default.
pub async fn sender(app: &App, account: &Account, de: &str) -> Result<Result<Sender, String>, WebError> {
    if let Some(delegated) = delegated_sender(app, account, de.trim()).await? {
        return Ok(delegated);
    }
    let list = app.ms.identities(account.id).await?;
    let chosen = match de.trim().parse::<i64>() {
        Ok(id) => list.iter().find(|i| i.id == id),
        Err(_) => list.iter().find(|i| i.is_default),
    };
    let Some(identity) = chosen else { return Ok(Ok(Sender::of_account(account))) };
    if own_addresses(app, account).await?.contains(&identity.address) {
        Ok(Ok(Sender::of(identity)))
    } else {
        Ok(Err(identity.address.clone()))
    }
}

/// One entry of the composer's "De" selector.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub signature: String,
    pub selected: bool,
}

/// The composer's choices: the identities (none when the user has none
/// and no delegation: the account's own address is then the only sender),
/// then each address the user may send as or on behalf of (issue 22).
pub async fn choices(app: &App, account: &Account, de: &str, m: M) -> Result<Vec<Choice>, WebError> {
    let list = app.ms.identities(account.id).await?;
    let de = de.trim();
    let wanted = de.parse::<i64>().ok();
    let others = delegated(app, account).await?;
    let any_wanted = wanted.is_some_and(|w| list.iter().any(|i| i.id == w))
        || others.iter().any(|(a, _, _)| de == format!("{AS}{a}") || de == format!("{FOR}{a}"));
    let mut out: Vec<Choice> = list
        .iter()
        .map(|i| Choice {
            value: i.id.to_string(),
            label: format!("{} <{}>", i.name, i.address),
            signature: mime_signature(&i.signature),
            selected: if any_wanted { wanted == Some(i.id) } else { i.is_default },
        })
        .collect();
    if others.is_empty() {
        return Ok(out);
    }
    if out.is_empty() {
        let own = Sender::of_account(account);
        out.push(Choice {
            value: String::new(),
            label: format!("{} <{}>", own.name, own.address),
            signature: String::new(),
            selected: !any_wanted,
        });
    }
    for (address, name, rights) in others {
        for (on, prefix, key) in [(rights.send_as, AS, "deleg.from.as"), (rights.on_behalf, FOR, "deleg.from.for")] {
            if on {
                let value = format!("{prefix}{address}");
                out.push(Choice {
                    label: m.get(key).replace("{name}", &name).replace("{address}", &address),
                    selected: de == value,
                    value,
                    signature: String::new(),
                });
            }
        }
    }
    Ok(out)
}

fn mime_signature(s: &str) -> String {
    super::mime::signature_block(s)
}

/// One identity on the settings page.
pub struct IdentityView {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub signature: String,
    pub is_default: bool,
}

#[derive(Template)]
#[template(path = "mail/identities.html")]
struct IdentitiesPage {
    c: Common,
    m: M,
    folders: Vec<FolderView>,
    identities: Vec<IdentityView>,
    addresses: Vec<String>,
    account_name: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct IdentitiesQuery {
    pub info: Option<String>,
}

/// `GET /courrier/reglages/identites`.
pub async fn page(
    State(app): State<Arc<App>>,
    Query(q): Query<IdentitiesQuery>,
    Reader { mut v, account }: Reader,
) -> Result<Response, WebError> {
    let info = match q.info.as_deref() {
        Some("enregistree") => Some("mail.identity.saved"),
        Some("supprimee") => Some("mail.identity.deleted"),
        _ => None,
    };
    show(&app, &mut v, &account, None, info).await
}

async fn show(
    app: &App,
    v: &mut Visitor,
    account: &Account,
    error: Option<String>,
    info: Option<&str>,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let folders = sidebar(app, account, None, m).await?;
    let (list, addresses) = (app.ms.identities(account.id).await?, own_addresses(app, account).await?);
    let identities = list
        .into_iter()
        .map(|i| IdentityView {
            id: i.id,
            name: i.name,
            address: i.address,
            signature: i.signature,
            is_default: i.is_default,
        })
        .collect();
    let mut c = common(app, v, m.get("mail.identities"));
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    c.error = error;
    c.info = info.map(|k| m.get(k).to_owned());
    let page = IdentitiesPage { c, m, folders, identities, addresses, account_name: account.display_name.clone() };
    Ok(render(v, status, &page))
}

#[derive(Debug, Default, Deserialize)]
pub struct IdentityForm {
    #[serde(default)]
    pub csrf: String,
    /// `enregistrer` or `supprimer`.
    #[serde(default)]
    pub action: String,
    /// The identity changed or deleted; none for a new one.
    pub id: Option<i64>,
    #[serde(default)]
    pub nom: String,
    #[serde(default)]
    pub adresse: String,
    #[serde(default)]
    pub signature: String,
    /// `1` makes it the default.
    pub defaut: Option<String>,
}

has_csrf!(IdentityForm);

/// `POST /courrier/reglages/identites`.
pub async fn save(
    State(app): State<Arc<App>>,
    ReaderForm { mut v, account, form }: ReaderForm<IdentityForm>,
) -> Result<Response, WebError> {
    let m = M(v.lang);
    let ms = &app.ms;
    if form.action == "supprimer" {
        return match ms.delete_identity(account.id, form.id.unwrap_or(0)).await? {
            true => Ok(redirect(&v, "/courrier/reglages/identites?info=supprimee")),
            false => Err(super::not_found(v.lang)),
        };
    }
    let name = super::compose::one_line(&form.nom).chars().take(100).collect::<String>();
    let address = Address::parse(form.adresse.trim()).map(|a| a.to_string()).unwrap_or_default();
    let own = own_addresses(&app, &account).await?;
    if name.is_empty() {
        return show(&app, &mut v, &account, Some(m.get("mail.identity.err.name").to_owned()), None).await;
    }
    if !own.contains(&address) {
        let text = format!("{} {}", m.get("mail.err.forged"), one_line_short(&form.adresse));
        return show(&app, &mut v, &account, Some(text), None).await;
    }
    let signature: String = form.signature.replace("\r\n", "\n").chars().take(MAX_SIGNATURE).collect();
    let existing = ms.identities(account.id).await?;
    if form.id.is_none() && existing.len() >= MAX_IDENTITIES {
        return show(&app, &mut v, &account, Some(m.get("mail.identity.err.many").to_owned()), None).await;
    }
    // The first identity is the default whatever the box says.
    let is_default = form.defaut.as_deref() == Some("1") || existing.iter().all(|i| Some(i.id) == form.id);
    match ms.save_identity(account.id, form.id, &name, &address, &signature, is_default).await {
        Ok(_) => Ok(redirect(&v, "/courrier/reglages/identites?info=enregistree")),
        Err(mailstore::Error::NotFound(_)) => Err(super::not_found(v.lang)),
        Err(e) => Err(e.into()),
    }
}

fn one_line_short(s: &str) -> String {
    super::compose::one_line(s).chars().take(200).collect()
}
