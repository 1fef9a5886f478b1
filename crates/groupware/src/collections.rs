//! One account's calendars and address books.

use model::AccountId;
use store::NewCollection;

use crate::{Collection, CollectionKind, CollectionPatch, Error, Groupware, Result, valid_name};

/// The segment of the calendar every account gets on first use.
pub const DEFAULT_CALENDAR: &str = "agenda";
/// The segment of the address book every account gets on first use.
pub const DEFAULT_ADDRESS_BOOK: &str = "contacts";
/// Calendar segments that name the scheduling inbox and outbox.
pub const RESERVED_CALENDARS: [&str; 2] = ["inbox", "outbox"];
/// Components a calendar takes when its creator does not say.
pub const DEFAULT_COMPONENTS: &str = "VEVENT,VTODO,VJOURNAL";

/// What a new collection is given.
#[derive(Debug, Clone, Default)]
pub struct NewProps {
    pub display_name: Option<String>,
    pub colour: Option<String>,
    pub description: Option<String>,
    /// Calendars: the component types it takes (`VEVENT`...); all three when empty.
    pub components: Vec<String>,
}

impl Groupware {
    /// Every collection of `owner`, the defaults made on first use.
    pub async fn collections(&self, owner: AccountId) -> Result<Vec<Collection>> {
        let found = self.store.collections(owner).await?;
        if !found.is_empty() {
            return Ok(found);
        }
        self.ensure_defaults(owner).await?;
        Ok(self.store.collections(owner).await?)
    }

    /// The collection of `owner` of that kind named `segment`.
    pub async fn collection(&self, owner: AccountId, kind: CollectionKind, segment: &str) -> Result<Collection> {
        if let Some(c) = self.store.collection(owner, kind, segment).await? {
            return Ok(c);
        }
        // A client may go straight to a default collection's URL. Several
        // first requests may race here (a client's 8 parallel PUTs): the one
        // that finds no collection makes the defaults, and every one looks
        // again, since another may have made them between the two reads.
        if self.store.collection_count(owner).await? == 0 {
            self.ensure_defaults(owner).await?;
        }
        self.store.collection(owner, kind, segment).await?.ok_or(Error::NotFound)
    }

    /// Creates a collection of `owner` (MKCALENDAR, extended MKCOL).
    pub async fn create_collection(
        &self,
        owner: AccountId,
        kind: CollectionKind,
        segment: &str,
        props: &NewProps,
    ) -> Result<Collection> {
        // `<address>~<name>` names calendars shared with the account.
        if !valid_name(segment) || crate::sharing::split_key(segment).is_some() {
            return Err(Error::Invalid("nom de collection invalide".into()));
        }
        // The scheduling inbox and outbox live beside the calendars (RFC 6638).
        if kind == CollectionKind::Calendar && RESERVED_CALENDARS.contains(&segment) {
            return Err(Error::Invalid("nom réservé à la boîte des invitations".into()));
        }
        if self.store.collection_count(owner).await? >= self.settings.max_collections {
            return Err(Error::TooManyCollections);
        }
        let components = match kind {
            CollectionKind::AddressBook => String::new(),
            CollectionKind::Calendar if props.components.is_empty() => DEFAULT_COMPONENTS.to_owned(),
            CollectionKind::Calendar => {
                let mut list = Vec::new();
                for c in &props.components {
                    let c = c.to_ascii_uppercase();
                    if !matches!(c.as_str(), "VEVENT" | "VTODO" | "VJOURNAL") {
                        return Err(Error::UnsupportedComponent(c));
                    }
                    if !list.contains(&c) {
                        list.push(c);
                    }
                }
                list.join(",")
            }
        };
        if let Some(colour) = &props.colour {
            check_colour(colour)?;
        }
        let new = NewCollection {
            kind,
            segment,
            display_name: props.display_name.as_deref().unwrap_or(segment),
            colour: props.colour.as_deref().unwrap_or(""),
            description: props.description.as_deref().unwrap_or(""),
            components: &components,
            reminder_minutes: None,
        };
        Ok(self.store.create_collection(owner, &new).await?)
    }

    /// Changes a collection's display name, colour or description.
    pub async fn update_collection(&self, collection: &Collection, patch: &CollectionPatch) -> Result<()> {
        if let Some(colour) = &patch.colour {
            check_colour(colour)?;
        }
        Ok(self.store.update_collection(collection.id, patch).await?)
    }

    /// Deletes a collection and everything in it.
    pub async fn delete_collection(&self, collection: &Collection) -> Result<()> {
        Ok(self.store.delete_collection(collection.id).await?)
    }

    async fn ensure_defaults(&self, owner: AccountId) -> Result<()> {
        let defaults = [
            NewCollection {
                kind: CollectionKind::Calendar,
                segment: DEFAULT_CALENDAR,
                display_name: "Agenda",
                colour: "#000091",
                description: "",
                components: DEFAULT_COMPONENTS,
                reminder_minutes: Some(crate::reminders::DEFAULT_MINUTES),
            },
            NewCollection {
                kind: CollectionKind::AddressBook,
                segment: DEFAULT_ADDRESS_BOOK,
                display_name: "Contacts",
                colour: "",
                description: "",
                components: "",
                reminder_minutes: None,
            },
        ];
        Ok(self.store.ensure_collections(owner, &defaults).await?)
    }
}

/// A colour is `#RRGGBB` or `#RRGGBBAA` (Apple's calendar-color), or empty.
fn check_colour(colour: &str) -> Result<()> {
    let hex = colour.strip_prefix('#').unwrap_or("");
    if colour.is_empty() || ((hex.len() == 6 || hex.len() == 8) && hex.bytes().all(|b| b.is_ascii_hexdigit())) {
        Ok(())
    } else {
        Err(Error::Invalid("couleur attendue sous la forme #RRGGBB".into()))
    }
}
