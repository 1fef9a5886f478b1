//! Distribution lists: static and dynamic lists, who may post, moderation,
//! and the fan-out of a posting through the delivery pipeline (issue 22).
//!
//! - [`policy`]: what a list is and who may post (a pure decision).
//! - [`expand`]: who a list reaches now, through nested lists, each person
//!   once, bounded in depth and size; dynamic lists query the HR directory
//!   at delivery time (`store::Store::directory_members`: only provisional
//!   and active accounts, so a suspended or moved agent leaves the list
//!   with no one touching it).
//! - [`headers`]: `List-Id`, `List-Post`, `Precedence`, discussion groups'
//!   `Reply-To` and subject tag, and loop detection.
//! - `post`: a posting to lists, decided per list: distributed (local
//!   members in one delivery through their filter rules, so one blob
//!   however many; outside members through the outbound queue with
//!   `<list>-bounces@domain` as envelope sender), held, or dropped.
//! - Bounces: what comes back to `<list>-bounces@` goes to the list's
//!   moderators who may act now, or to the académie's administrators when
//!   it has none ([`Lists::recipient`] for the MX: a remote server's
//!   report), and so do the delivery reports our own queue runner writes
//!   about those copies (`Lists` is the transfer agent's
//!   [`mta::ReportRoute`], installed by the binary): at most one failure
//!   report and one delay warning per posting, naming the list. Lists
//!   never distribute a bounce (the null sender) themselves.
//! - `moderation`: the held posts, their notices, approval, refusal, and
//!   the sweep that refuses holds older than 14 days.
//! - `archive`: what a list distributes, kept for its members and
//!   moderators to read on the web (discussion groups by default), named
//!   by the `List-Archive` field.
//!
//! The MX and submission reach it through the binary (`mx.rs`,
//! `outbound.rs`); the administration CLI is `ardoise admin list`.

mod archive;
pub mod expand;
pub mod headers;
mod moderation;
pub mod policy;
mod post;

use std::sync::Arc;

use mailstore::{Mailstore, RecipientStatus};
use model::{AccountId, Address, ErrorKind, OrgUnitId, Role, Transience};
pub use store::{ArchivedPost, HeldPost, ListRow};

pub use archive::ArchivePage;

pub use expand::{Expansion, Limits};
pub use moderation::HOLD_DAYS;
pub use policy::{Decision, ListKind, PostPolicy};
pub use post::{Outcome, Poster};

/// Errors of the lists domain.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("liste inconnue : {0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("la liste {list} imbrique plus de {limit} niveaux de listes / nesting deeper than {limit} levels")]
    TooDeep { list: String, limit: usize },
    #[error("la liste {list} atteint plus de {limit} destinataires / more than {limit} recipients")]
    TooLarge { list: String, limit: usize },
    #[error("donnée stockée illisible : {0}")]
    Corrupt(String),
    #[error("store: {0}")]
    Store(store::Error),
    #[error("mail store: {0}")]
    Mailstore(#[from] mailstore::Error),
    #[error("transfer: {0}")]
    Mta(#[from] mta::Error),
    #[error("blob storage: {0}")]
    Blob(#[from] std::io::Error),
}

impl From<store::Error> for Error {
    fn from(e: store::Error) -> Error {
        match e {
            store::Error::Conflict(what) => Error::Conflict(what),
            store::Error::Invalid(what) => Error::Invalid(what),
            other => Error::Store(other),
        }
    }
}

impl ErrorKind for Error {
    fn transience(&self) -> Transience {
        match self {
            Error::Store(e) => e.transience(),
            Error::Mailstore(e) => e.transience(),
            Error::Mta(e) => e.transience(),
            Error::Blob(_) => Transience::Temporary,
            _ => Transience::Permanent,
        }
    }
}

/// Who a dynamic list reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The org unit whose subtree is reached (an établissement, a DSDEN, the académie).
    pub unit: OrgUnitId,
    /// Only this role; `None` is every member of staff (students and
    /// functional mailboxes never).
    pub role: Option<Role>,
}

/// A list to create.
#[derive(Debug, Clone)]
pub struct NewList {
    pub address: Address,
    pub name: String,
    pub description: String,
    /// `None` for a static list.
    pub query: Option<Query>,
    pub discussion: bool,
    pub tag: Option<String>,
}

/// Everything `ardoise admin list show` prints.
#[derive(Debug, Clone)]
pub struct Report {
    pub list: ListRow,
    pub members: Vec<String>,
    pub senders: Vec<String>,
    /// Addresses, with whether the account may moderate now (active).
    pub moderators: Vec<(Address, bool)>,
    /// Who it reaches now, or why it cannot be expanded.
    pub expansion: Result<Expansion, String>,
    /// Each cycle among nested lists, as addresses.
    pub cycles: Vec<Vec<Address>>,
    pub held: usize,
    /// How many posts its archive holds (`list.archive` says whether it keeps more).
    pub archived: i64,
}

/// The lists service: one per process, built by the binary.
pub struct Lists {
    store: store::Store,
    blobs: blob::BlobStore,
    mailstore: Arc<Mailstore>,
    mta: Arc<mta::Mta>,
    limits: Limits,
    /// The web's public address (`https://HOST`), where archives are read;
    /// `None` when the web is not served (no `List-Archive` then).
    archive_base: Option<String>,
}

/// The suffix of a list's bounce address (`<list>-bounces@domain`).
pub const BOUNCES_SUFFIX: &str = "-bounces";

/// The envelope sender of what a list sends out.
pub fn bounce_address(list: &Address) -> Address {
    Address::parse(&format!("{}{BOUNCES_SUFFIX}@{}", list.local(), list.domain())).unwrap_or_else(|_| list.clone())
}

/// What an address on a local domain means to the lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListAddress {
    /// Mail to the list itself: expanded at delivery.
    List(Box<ListRow>),
    /// `<list>-bounces@`: reports about what the list sent, for its moderators
    /// (or the académie's administrators when it has none).
    Bounces(Vec<AccountId>),
}

impl Lists {
    /// `store` and `blobs` are the ones `mta`'s mail store was built on;
    /// `archive_base` is the web's public address (`https://HOST`), named by
    /// the `List-Archive` field of lists that keep an archive (`None`: the
    /// web is not served, the field is left out, archives are still kept).
    pub fn new(
        store: store::Store,
        blobs: blob::BlobStore,
        mta: Arc<mta::Mta>,
        limits: Limits,
        archive_base: Option<String>,
    ) -> Arc<Lists> {
        let mailstore = mta.mailstore().clone();
        Arc::new(Lists { store, blobs, mailstore, mta, limits, archive_base })
    }

    /// Whether `address` is a list or a list's bounce address.
    pub async fn recipient(&self, address: &Address) -> Result<Option<ListAddress>, Error> {
        if let Some(list) = self.store.list_by_address(address).await? {
            return Ok(Some(ListAddress::List(Box::new(list))));
        }
        let Some(list) = self.bounces_of(address).await? else {
            return Ok(None);
        };
        Ok(Some(ListAddress::Bounces(self.responsible(&list).await?)))
    }

    /// The list whose bounce address `address` is.
    async fn bounces_of(&self, address: &Address) -> Result<Option<ListRow>, Error> {
        let Some(local) = address.local().strip_suffix(BOUNCES_SUFFIX) else {
            return Ok(None);
        };
        let Ok(list_address) = Address::parse(&format!("{local}@{}", address.domain())) else {
            return Ok(None);
        };
        Ok(self.store.list_by_address(&list_address).await?)
    }

    /// The list at `address`.
    pub async fn get(&self, address: &Address) -> Result<ListRow, Error> {
        self.store.list_by_address(address).await?.ok_or_else(|| Error::NotFound(address.to_string()))
    }

    pub async fn all(&self) -> Result<Vec<ListRow>, Error> {
        Ok(self.store.all_lists().await?)
    }

    /// Creates a list; its address must be free (no account, alias or list).
    pub async fn create(&self, new: NewList) -> Result<ListRow, Error> {
        if new.address.local().ends_with(BOUNCES_SUFFIX) {
            return Err(Error::Invalid(format!(
                "une adresse de liste ne peut pas finir par « {BOUNCES_SUFFIX} » (réservé aux retours)"
            )));
        }
        if let Some(tag) = &new.tag
            && (tag.trim().is_empty() || tag.chars().any(|c| c.is_control() || c == '[' || c == ']') || tag.len() > 40)
        {
            return Err(Error::Invalid("étiquette invalide (1 à 40 caractères, sans crochets)".into()));
        }
        let name = if new.name.trim().is_empty() { new.address.local().to_owned() } else { new.name.trim().into() };
        let row = store::NewList {
            address: new.address,
            name,
            description: new.description,
            kind: if new.query.is_some() { ListKind::Dynamic } else { ListKind::Static }.as_str().into(),
            unit: new.query.as_ref().map(|q| q.unit),
            role: new.query.as_ref().and_then(|q| q.role).map(|r| r.as_str().to_owned()),
            post_policy: PostPolicy::Anyone.as_str().into(),
            discussion: new.discussion,
            tag: new.tag.map(|t| t.trim().to_owned()),
        };
        Ok(self.store.create_list(&row).await?)
    }

    pub async fn delete(&self, address: &Address) -> Result<(), Error> {
        let list = self.get(address).await?;
        self.store.delete_list(list.id).await?;
        Ok(())
    }

    /// Adds a member to a static list: a local account or alias, another
    /// list (itself included: expansion ends anyway), or an outside address.
    /// A local address that reaches nobody is refused, and so is another
    /// académie's account (`store::tenants`; mail to it is mail, but a list
    /// of one académie does not enrol another's staff).
    pub async fn add_member(&self, address: &Address, member: &Address) -> Result<bool, Error> {
        let list = self.static_list(address).await?;
        if self.store.list_by_address(member).await?.is_none()
            && self.mailstore.check_recipient(member, None).await? == RecipientStatus::Unknown
        {
            return Err(Error::Invalid(format!("{member} : aucune boîte ni liste à cette adresse")));
        }
        if let Some(account) = self.store.account_by_address(member).await?
            && !self.store.in_scope(&account, &self.store.list_scope(&list).await?).await?
        {
            return Err(Error::Invalid(format!("{member} : compte d'une autre académie / another académie's account")));
        }
        Ok(self.store.add_list_member(list.id, &member.to_string()).await?)
    }

    pub async fn remove_member(&self, address: &Address, member: &Address) -> Result<bool, Error> {
        let list = self.static_list(address).await?;
        Ok(self.store.remove_list_member(list.id, &member.to_string()).await?)
    }

    async fn static_list(&self, address: &Address) -> Result<ListRow, Error> {
        let list = self.get(address).await?;
        if list.kind != ListKind::Static.as_str() {
            return Err(Error::Invalid(format!(
                "{address} est une liste dynamique : ses membres viennent de l'annuaire / a dynamic list's members come from the directory"
            )));
        }
        Ok(list)
    }

    /// Sets who may post; `senders` only with [`PostPolicy::Senders`], which needs one.
    pub async fn set_policy(&self, address: &Address, policy: PostPolicy, senders: &[Address]) -> Result<(), Error> {
        let list = self.get(address).await?;
        match (policy, senders.is_empty()) {
            (PostPolicy::Senders, true) => {
                return Err(Error::Invalid("nommez au moins un expéditeur (--sender)".into()));
            }
            (PostPolicy::Senders, false) | (_, true) => {}
            (_, false) => return Err(Error::Invalid("--sender ne va qu'avec la politique « senders »".into())),
        }
        let senders: Vec<String> = senders.iter().map(Address::to_string).collect();
        Ok(self.store.set_list_policy(list.id, policy.as_str(), &senders).await?)
    }

    /// Adds or removes a moderator (a local account).
    pub async fn set_moderator(&self, address: &Address, account: &Address, add: bool) -> Result<bool, Error> {
        let list = self.get(address).await?;
        let acc = self
            .store
            .account_by_address(account)
            .await?
            .ok_or_else(|| Error::Invalid(format!("{account} : compte inconnu")))?;
        Ok(self.store.set_list_moderator(list.id, acc.id, add).await?)
    }

    /// Who `list` reaches now.
    pub async fn expand(&self, list: &ListRow) -> Result<Expansion, Error> {
        expand::expand(&StoreSource(self), list, self.limits).await
    }

    /// A list's definition, members, moderators, reach and cycles.
    pub async fn report(&self, address: &Address) -> Result<Report, Error> {
        let list = self.get(address).await?;
        let members = self.store.list_members(list.id).await?;
        let senders = self.store.list_senders(list.id).await?;
        let mut moderators = Vec::new();
        for id in self.store.list_moderators(list.id).await? {
            if let Some(acc) = self.store.account(id).await? {
                moderators.push((acc.address.clone(), may_moderate(&acc)));
            }
        }
        let (expansion, cycles) = match self.expand(&list).await {
            Ok(e) => {
                let mut named = Vec::new();
                for cycle in expand::cycles(&e.nested, list.id) {
                    let mut path = Vec::new();
                    for id in cycle {
                        if let Some(l) = self.store.list_by_id(id).await? {
                            path.push(l.address);
                        }
                    }
                    named.push(path);
                }
                (Ok(e), named)
            }
            Err(e @ (Error::TooDeep { .. } | Error::TooLarge { .. })) => (Err(e.to_string()), Vec::new()),
            Err(e) => return Err(e),
        };
        let held = self.store.held_posts(list.id).await?.len();
        let archived = self.store.archived_count(list.id).await?;
        Ok(Report { list, members, senders, moderators, expansion, cycles, held, archived })
    }

    /// The accounts that answer for a list: its moderators who may act now,
    /// else the académie's administrators.
    async fn responsible(&self, list: &ListRow) -> Result<Vec<AccountId>, Error> {
        let mut ids = Vec::new();
        for id in self.store.list_moderators(list.id).await? {
            if let Some(acc) = self.store.account(id).await?
                && may_moderate(&acc)
            {
                ids.push(acc.id);
            }
        }
        if ids.is_empty() {
            ids = self.mailstore.administrators(list.address.domain()).await?;
        }
        Ok(ids)
    }
}

/// The reports our own transfer agent writes about a list's outside copies
/// (queued from `<list>-bounces@`, with no account) go where a report sent
/// back later by a remote server goes (`recipient`): to the list's
/// moderators who may act now, else the académie's administrators. The
/// binary installs it with [`mta::Mta::set_report_route`].
impl mta::ReportRoute for Lists {
    fn report_to<'a>(&'a self, sender: &'a Address) -> mta::reports::RouteFuture<'a> {
        Box::pin(async move {
            let Some(list) = self.bounces_of(sender).await.map_err(|e| e.to_string())? else {
                return Ok(None);
            };
            let accounts = self.responsible(&list).await.map_err(|e| e.to_string())?;
            Ok(Some(mta::ReportTo { accounts, list: Some(list.address) }))
        })
    }
}

/// A suspended (or closed) moderator is skipped.
fn may_moderate(account: &store::Account) -> bool {
    matches!(account.status, model::AccountStatus::Active | model::AccountStatus::Provisional)
}

/// The store and mail store as an expansion reads them.
struct StoreSource<'a>(&'a Lists);

impl expand::Source for StoreSource<'_> {
    async fn resolve(&self, address: &Address) -> Result<expand::Resolved, Error> {
        use expand::Resolved;
        if let Some(list) = self.0.store.list_by_address(address).await? {
            return Ok(Resolved::List(list));
        }
        Ok(match self.0.mailstore.check_recipient(address, None).await? {
            RecipientStatus::Local(id) | RecipientStatus::OverQuota(id) => Resolved::Accounts(vec![id]),
            RecipientStatus::Administrators(ids) => Resolved::Accounts(ids),
            RecipientStatus::Unknown => Resolved::Unknown,
            RecipientStatus::NotLocal => Resolved::Outside(address.clone()),
        })
    }

    async fn static_members(&self, list: i64) -> Result<Vec<String>, Error> {
        Ok(self.0.store.list_members(list).await?)
    }

    async fn directory_members(&self, unit: OrgUnitId, role: Option<&str>) -> Result<Vec<AccountId>, Error> {
        Ok(self.0.store.directory_members(unit, role).await?.into_iter().map(|(id, _)| id).collect())
    }
}
