//! The académie directory (« Annuaire »): who a member of staff may find,
//! the one source of the web's Annuaire page, the composer's recipient
//! autocomplete and the read-only CardDAV address book.
//!
//! A reader sees the active staff of their own académie (and new staff not
//! yet logged in, who already receive mail), never students, suspended or
//! closed accounts, nor anyone of another académie; a reader placed in no
//! unit sees the people of their domain placed in no unit. Functional
//! mailboxes and distribution lists are listed as such. The filter is in
//! every store query (`store::annuaire`), so a suspension hides the account
//! from the next query on. A query is words, each of which must match the
//! name (accents ignored: « helene » finds « Hélène »), the address, the
//! unit's name or UAI, or the function; at most [`MAX_MATCHES`] answers.
//! For CardDAV sync, [`Identity::directory_sync`] and
//! [`Identity::directory_changes`] read the store's change feed (written by
//! triggers on accounts, lists and units) for the reader's domains.

pub mod vcard;
mod words;

use model::{AccountId, Address, Role};
use store::{Account, DirectoryPerson, DirectoryScope, DirectoryUnit, DirectoryWord};

use crate::Identity;

pub use words::fold;

/// Most answers of one query, whatever the caller asks.
pub const MAX_MATCHES: usize = 200;
/// Most words of a query read; the rest are ignored.
const MAX_WORDS: usize = 4;
/// Longest query read (characters); the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 100;
/// Most lists of an académie the directory reads per query.
const MAX_LISTS: usize = 2000;

/// What a directory entry stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Person,
    /// A shared functional mailbox (« secrétariat »...).
    Functional,
    /// A distribution list.
    List,
}

/// One card of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    /// Stable for the life of the account or list: `compte-<id>` or `liste-<id>`.
    pub key: String,
    pub name: String,
    pub address: String,
    /// People: their role.
    pub role: Option<Role>,
    /// The unit (établissement, service...) and its UAI.
    pub unit: Option<DirectoryUnit>,
    /// Lists: their description.
    pub description: String,
}

impl Entry {
    fn person(p: DirectoryPerson) -> Entry {
        let role: Option<Role> = p.role.parse().ok();
        let kind = if role == Some(Role::Functional) { EntryKind::Functional } else { EntryKind::Person };
        Entry {
            kind,
            key: format!("compte-{}", p.id),
            name: p.display_name,
            address: p.address,
            role,
            unit: p.unit,
            description: String::new(),
        }
    }

    fn list(l: store::ListRow) -> Entry {
        Entry {
            kind: EntryKind::List,
            key: format!("liste-{}", l.id),
            name: l.name,
            address: l.address.to_string(),
            role: None,
            unit: None,
            description: l.description,
        }
    }

    /// The function shown on the card, in French.
    pub fn function_fr(&self) -> &'static str {
        match (self.kind, self.role) {
            (EntryKind::List, _) => "Liste de diffusion",
            (EntryKind::Functional, _) => "Boîte fonctionnelle",
            (_, Some(role)) => words::role_label_fr(role),
            (_, None) => "",
        }
    }

    /// The function shown on the card, in English.
    pub fn function_en(&self) -> &'static str {
        match (self.kind, self.role) {
            (EntryKind::List, _) => "Distribution list",
            (EntryKind::Functional, _) => "Functional mailbox",
            (_, Some(role)) => words::role_label_en(role),
            (_, None) => "",
        }
    }
}

/// A position in a reader's directory change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncPoint {
    /// The reader's scope: `a<id>` (an académie) or `d<domain>` (unplaced).
    pub scope: String,
    pub counter: i64,
}

/// Changes since a [`SyncPoint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryDelta {
    /// Cards changed that the reader sees now.
    pub changed: Vec<Entry>,
    /// Keys (`compte-<id>`...) the reader no longer sees, or never saw: a
    /// change elsewhere in the same domains; clients ignore an unknown one.
    pub vanished: Vec<String>,
    /// Where these changes bring the reader.
    pub point: SyncPoint,
    /// More changes follow `point`.
    pub more: bool,
}

fn scope_name(scope: &DirectoryScope) -> String {
    match scope {
        DirectoryScope::Academie(id) => format!("a{id}"),
        DirectoryScope::Unplaced(domain) => format!("d{domain}"),
    }
}

/// Which account or list a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Account(AccountId),
    List(i64),
}

/// Reads `compte-<id>` or `liste-<id>` (with an optional `.vcf`).
pub fn parse_key(text: &str) -> Option<Key> {
    let text = text.strip_suffix(".vcf").unwrap_or(text);
    let id = |s: Option<&str>| -> Option<i64> {
        let s = s?;
        (!s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
    };
    if let Some(n) = id(text.strip_prefix("compte-")) {
        return Some(Key::Account(n));
    }
    id(text.strip_prefix("liste-")).map(Key::List)
}

impl Identity {
    /// The directory scope of `viewer`.
    async fn scope(&self, viewer: &Account) -> Result<DirectoryScope, store::Error> {
        self.store.scope_of(viewer).await
    }

    /// Up to `limit` (at most [`MAX_MATCHES`]) entries of `viewer`'s
    /// directory matching every word of `query`: lists first, then people
    /// by name. An empty query finds nothing.
    pub async fn directory_search(
        &self,
        viewer: &Account,
        query: &str,
        limit: usize,
    ) -> Result<Vec<Entry>, store::Error> {
        let limit = limit.min(MAX_MATCHES);
        let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
        let raw: Vec<&str> = query.split_whitespace().take(MAX_WORDS).collect();
        if raw.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let scope = self.scope(viewer).await?;
        let units = match &scope {
            DirectoryScope::Academie(id) => self.store.directory_units(*id).await?,
            DirectoryScope::Unplaced(_) => Vec::new(),
        };
        let words: Vec<DirectoryWord> = raw.iter().map(|w| words::word(w, &units)).collect();
        let folded: Vec<String> = raw.iter().map(|w| fold(w)).collect();
        let mut out: Vec<Entry> = self
            .store
            .directory_lists(&scope, MAX_LISTS)
            .await?
            .into_iter()
            .filter(|l| {
                let text = fold(&format!("{} {} {}", l.name, l.address, l.description));
                folded.iter().all(|w| text.contains(w.as_str()))
            })
            .take(limit)
            .map(Entry::list)
            .collect();
        let left = limit - out.len();
        if left > 0 {
            out.extend(self.store.directory_search(&scope, &words, left).await?.into_iter().map(Entry::person));
        }
        Ok(out)
    }

    /// The next `limit` people of `viewer`'s directory after the account
    /// `after` (0 to start), by account id: the pages of a full listing.
    pub async fn directory_page(
        &self,
        viewer: &Account,
        after: AccountId,
        limit: usize,
    ) -> Result<Vec<Entry>, store::Error> {
        let scope = self.scope(viewer).await?;
        let people = self.store.directory_page(&scope, after, limit.min(MAX_MATCHES * 5)).await?;
        Ok(people.into_iter().map(Entry::person).collect())
    }

    /// Every list of `viewer`'s directory.
    pub async fn directory_lists(&self, viewer: &Account) -> Result<Vec<Entry>, store::Error> {
        let scope = self.scope(viewer).await?;
        Ok(self.store.directory_lists(&scope, MAX_LISTS).await?.into_iter().map(Entry::list).collect())
    }

    /// The entries these keys name, those `viewer` may see (at most 1,000
    /// keys read), in the keys' order.
    pub async fn directory_entries(&self, viewer: &Account, keys: &[Key]) -> Result<Vec<Entry>, store::Error> {
        let keys = &keys[..keys.len().min(1000)];
        let scope = self.scope(viewer).await?;
        let ids: Vec<AccountId> =
            keys.iter().filter_map(|k| if let Key::Account(id) = k { Some(*id) } else { None }).collect();
        let people = self.store.directory_people_by_id(&scope, &ids).await?;
        let lists = if keys.iter().any(|k| matches!(k, Key::List(_))) {
            self.store.directory_lists(&scope, MAX_LISTS).await?
        } else {
            Vec::new()
        };
        let mut out = Vec::new();
        for key in keys {
            match key {
                Key::Account(id) => {
                    if let Some(p) = people.iter().find(|p| p.id == *id) {
                        out.push(Entry::person(p.clone()));
                    }
                }
                Key::List(id) => {
                    if let Some(l) = lists.iter().find(|l| l.id == *id) {
                        out.push(Entry::list(l.clone()));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Where `viewer`'s directory stands in the change feed: the scope's
    /// name (a token is only good for the scope it was made in: a reader who
    /// moves to another académie reads everything again) and the counter.
    pub async fn directory_sync(&self, viewer: &Account) -> Result<SyncPoint, store::Error> {
        let scope = self.scope(viewer).await?;
        let domains = self.store.directory_domains(&scope).await?;
        let state = self.store.directory_sync_state(&domains).await?;
        Ok(SyncPoint { scope: scope_name(&scope), counter: state.newest })
    }

    /// What changed in `viewer`'s directory after `since` (a [`SyncPoint`]
    /// of the same scope): the cards to read again and the keys of those
    /// gone from the reader's view (suspended, closed, moved away, removed).
    /// At most `limit` changes (and at most 1,000) are read; `None` when the
    /// point is not one of this scope's or was pruned: read everything again.
    pub async fn directory_changes(
        &self,
        viewer: &Account,
        since: &SyncPoint,
        limit: usize,
    ) -> Result<Option<DirectoryDelta>, store::Error> {
        let scope = self.scope(viewer).await?;
        if since.scope != scope_name(&scope) {
            return Ok(None);
        }
        let domains = self.store.directory_domains(&scope).await?;
        let Some(found) = self.store.directory_changes_since(&domains, since.counter, limit.min(1000)).await? else {
            return Ok(None);
        };
        let keys: Vec<Key> = found.items.iter().filter_map(|i| parse_key(i)).collect();
        let changed = self.directory_entries(viewer, &keys).await?;
        let vanished = found.items.into_iter().filter(|i| !changed.iter().any(|e| &e.key == i)).collect();
        Ok(Some(DirectoryDelta {
            changed,
            vanished,
            point: SyncPoint { scope: since.scope.clone(), counter: found.token },
            more: found.more,
        }))
    }

    /// Whether `address` (one of our domains') is someone or a list that
    /// `viewer`'s directory shows: the autocomplete offers no other local
    /// address from the user's history.
    pub async fn directory_shows(&self, viewer: &Account, address: &Address) -> Result<bool, store::Error> {
        let scope = self.scope(viewer).await?;
        if let Some(account) = self.store.account_by_address(address).await? {
            return Ok(!self.store.directory_people_by_id(&scope, &[account.id]).await?.is_empty());
        }
        let Some(list) = self.store.list_by_address(address).await? else { return Ok(false) };
        Ok(self.store.directory_lists(&scope, MAX_LISTS).await?.iter().any(|l| l.id == list.id))
    }
}

#[cfg(test)]
mod tests;
