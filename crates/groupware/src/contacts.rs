//! Personal contacts as the web's « Contacts » page sees them: the cards of
//! the account's default address book (« Contacts », the one CardDAV
//! clients see first), read leniently into a few fields and written back as
//! vCard 4.0.
//!
//! Groups are vCard `CATEGORIES` on each contact, not `KIND:group` cards:
//! a contact carries its groups, so deleting a contact leaves no dangling
//! member reference, a group with no one left simply ends, and the clients
//! in use read them (Thunderbird, DAVx5's « catégories » mode, iOS shows
//! them as text). A card written by another client keeps what it had:
//! the page rewrites only cards it made (`PRODID` ours) and refuses to
//! edit the others, so no property is lost.

use model::AccountId;
use model::vtext::{escape, line};

use crate::{CollectionKind, DEFAULT_ADDRESS_BOOK, Error, Groupware, Precondition, Query, Result};

/// The PRODID of the cards this module writes.
pub const PRODID: &str = "-//Ardoise//Contacts//FR";
/// Most addresses per contact.
pub const MAX_EMAILS: usize = 5;
/// Most groups per contact.
pub const MAX_GROUPS: usize = 20;
/// Longest name, organisation, function, phone or group (characters).
pub const MAX_FIELD: usize = 200;
/// Longest note (characters).
pub const MAX_NOTE: usize = 2000;

/// A contact's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    pub emails: Vec<String>,
    pub phone: String,
    pub org: String,
    pub title: String,
    pub groups: Vec<String>,
    pub note: String,
}

/// A contact of the address book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredContact {
    /// Its object name in the address book (`<uid>.vcf`).
    pub object: String,
    pub etag: String,
    pub contact: Contact,
    /// Whether this page wrote it (and so may rewrite it whole).
    pub ours: bool,
}

impl Contact {
    /// Checks and trims the fields: a name, at most [`MAX_EMAILS`]
    /// addresses (each `x@y`), [`MAX_GROUPS`] groups, no field over its cap.
    pub fn checked(mut self) -> Result<Contact> {
        let clean = |s: &str| s.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned();
        self.name = clean(&self.name);
        self.phone = clean(&self.phone);
        self.org = clean(&self.org);
        self.title = clean(&self.title);
        self.note = self.note.chars().filter(|c| *c == '\n' || !c.is_control()).collect::<String>().trim().to_owned();
        self.emails = self.emails.iter().map(|e| clean(e)).filter(|e| !e.is_empty()).collect();
        self.groups = self.groups.iter().map(|g| clean(g)).filter(|g| !g.is_empty()).collect();
        self.groups.dedup();
        if self.name.is_empty() {
            return Err(Error::Invalid("un contact a besoin d'un nom".into()));
        }
        let long = [&self.name, &self.phone, &self.org, &self.title].iter().any(|f| f.chars().count() > MAX_FIELD)
            || self.groups.iter().any(|g| g.chars().count() > MAX_FIELD)
            || self.note.chars().count() > MAX_NOTE;
        if long {
            return Err(Error::Invalid("champ trop long".into()));
        }
        if self.emails.len() > MAX_EMAILS || self.groups.len() > MAX_GROUPS {
            return Err(Error::Invalid("trop d'adresses ou de groupes".into()));
        }
        let bad = |e: &String| {
            e.len() > 254
                || e.contains(char::is_whitespace)
                || !e.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
        };
        if self.emails.iter().any(bad) {
            return Err(Error::Invalid("adresse électronique invalide".into()));
        }
        Ok(self)
    }

    /// The contact as a vCard 4.0 with this UID.
    pub fn to_vcard(&self, uid: &str) -> String {
        let mut out = String::new();
        line(&mut out, "BEGIN:VCARD");
        line(&mut out, "VERSION:4.0");
        line(&mut out, &format!("PRODID:{PRODID}"));
        line(&mut out, &format!("UID:{}", escape(uid)));
        line(&mut out, &format!("FN:{}", escape(&self.name)));
        line(&mut out, &format!("N:{};;;;", escape(&self.name)));
        for e in &self.emails {
            line(&mut out, &format!("EMAIL:{}", escape(e)));
        }
        if !self.phone.is_empty() {
            line(&mut out, &format!("TEL:{}", escape(&self.phone)));
        }
        if !self.org.is_empty() {
            line(&mut out, &format!("ORG:{}", escape(&self.org)));
        }
        if !self.title.is_empty() {
            line(&mut out, &format!("TITLE:{}", escape(&self.title)));
        }
        if !self.groups.is_empty() {
            let list: Vec<String> = self.groups.iter().map(|g| escape(g)).collect();
            line(&mut out, &format!("CATEGORIES:{}", list.join(",")));
        }
        if !self.note.is_empty() {
            line(&mut out, &format!("NOTE:{}", escape(&self.note)));
        }
        line(&mut out, "END:VCARD");
        out
    }

    /// Reads the fields of a vCard leniently (unknown properties ignored):
    /// FN, EMAIL, TEL, ORG (components joined by « , »), TITLE, CATEGORIES
    /// and NOTE; `true` with it when the card is one of ours.
    pub fn from_vcard(text: &str) -> (Contact, bool) {
        let unfolded = text.replace("\r\n ", "").replace("\r\n\t", "").replace("\n ", "");
        let mut c = Contact::default();
        let mut ours = false;
        for l in unfolded.lines() {
            let Some((head, value)) = l.split_once(':') else { continue };
            let prop = head.split(';').next().unwrap_or("").rsplit('.').next().unwrap_or("").to_ascii_uppercase();
            match prop.as_str() {
                "FN" => c.name = unescape(value),
                "EMAIL" if c.emails.len() < MAX_EMAILS * 4 => c.emails.push(unescape(value)),
                "TEL" if c.phone.is_empty() => c.phone = unescape(value),
                "ORG" => {
                    c.org = split(value, ';').iter().filter(|s| !s.is_empty()).cloned().collect::<Vec<_>>().join(", ")
                }
                "TITLE" => c.title = unescape(value),
                "CATEGORIES" => c.groups.extend(split(value, ',').into_iter().filter(|g| !g.is_empty())),
                "NOTE" => c.note = unescape(value),
                "PRODID" => ours = value == PRODID,
                _ => {}
            }
        }
        (c, ours)
    }
}

/// Undoes [`escape`].
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Splits a value at unescaped `sep`, each part unescaped.
fn split(value: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for ch in value.chars() {
        if escaped {
            current.push('\\');
            current.push(ch);
            escaped = false;
        } else if ch == '\\' {
            escaped = true;
        } else if ch == sep {
            parts.push(unescape(&std::mem::take(&mut current)).trim().to_owned());
        } else {
            current.push(ch);
        }
    }
    parts.push(unescape(&current).trim().to_owned());
    parts
}

/// Most cards the page reads from one address book.
pub const MAX_CONTACTS: usize = 5000;

impl Groupware {
    /// The contacts of `owner`'s default address book, by name (at most
    /// [`MAX_CONTACTS`]).
    pub async fn contacts(&self, owner: AccountId) -> Result<Vec<StoredContact>> {
        let book = self.collection(owner, CollectionKind::AddressBook, DEFAULT_ADDRESS_BOOK).await?;
        let mut out: Vec<StoredContact> = self
            .query(&book, &Query::default())
            .await?
            .into_iter()
            .take(MAX_CONTACTS)
            .map(|o| {
                let (contact, ours) = Contact::from_vcard(&o.content);
                StoredContact { object: o.name, etag: o.etag, contact, ours }
            })
            .collect();
        out.sort_by_key(|c| c.contact.name.to_lowercase());
        Ok(out)
    }

    /// `(name, address)` of the contacts of `owner`'s default address book
    /// whose name or one of whose addresses contains `query` (ignoring
    /// case and accents), by name, at most `limit`: the composer's
    /// autocomplete.
    pub async fn contact_addresses_matching(
        &self,
        owner: AccountId,
        query: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>> {
        // Accents and case do not matter: « lea » finds « Léa ».
        let fold = |text: &str| model::translit::ascii(text).to_lowercase();
        let needle = fold(query.trim());
        if needle.is_empty() {
            return Ok(Vec::new());
        }
        let book = self.collection(owner, CollectionKind::AddressBook, DEFAULT_ADDRESS_BOOK).await?;
        let mut out = Vec::new();
        // Only the cards whose text holds the words at all are read.
        for o in self.query(&book, &Query::default()).await?.into_iter().take(MAX_CONTACTS) {
            if !fold(&o.content).contains(&needle) {
                continue;
            }
            let (c, _) = Contact::from_vcard(&o.content);
            let named = fold(&c.name).contains(&needle);
            for email in &c.emails {
                if named || fold(email).contains(&needle) {
                    out.push((c.name.clone(), email.to_lowercase()));
                }
            }
        }
        out.sort_by_key(|(name, address)| (name.to_lowercase(), address.clone()));
        out.truncate(limit);
        Ok(out)
    }

    /// One contact of `owner`'s default address book.
    pub async fn contact(&self, owner: AccountId, object: &str) -> Result<StoredContact> {
        let book = self.collection(owner, CollectionKind::AddressBook, DEFAULT_ADDRESS_BOOK).await?;
        let o = self.get(&book, object).await?;
        let (contact, ours) = Contact::from_vcard(&o.content);
        Ok(StoredContact { object: o.name, etag: o.etag, contact, ours })
    }

    /// Writes a contact: a new one (`object` `None`, a new UID) or one of
    /// ours replaced, only if unchanged since `etag` was read. Returns its
    /// object name.
    pub async fn save_contact(
        &self,
        owner: AccountId,
        object: Option<(&str, &str)>,
        contact: Contact,
    ) -> Result<String> {
        let contact = contact.checked()?;
        let book = self.collection(owner, CollectionKind::AddressBook, DEFAULT_ADDRESS_BOOK).await?;
        match object {
            None => {
                let uid = format!("urn:uuid:{}", new_uuid());
                let name = format!("{}.vcf", uid.trim_start_matches("urn:uuid:"));
                self.put(&book, &name, &contact.to_vcard(&uid), Precondition::Absent).await?;
                Ok(name)
            }
            Some((name, etag)) => {
                let current = self.get(&book, name).await?;
                if !Contact::from_vcard(&current.content).1 {
                    return Err(Error::Invalid("contact créé par un autre logiciel : à modifier dans celui-ci".into()));
                }
                let uid = current.uid.clone();
                self.put(&book, name, &contact.to_vcard(&uid), Precondition::Matches(etag)).await?;
                Ok(name.to_owned())
            }
        }
    }

    /// Puts a ready card (a directory entry's) in `owner`'s default address
    /// book under `object`, replacing what that name held.
    pub async fn put_card(&self, owner: AccountId, object: &str, card: &str) -> Result<()> {
        let book = self.collection(owner, CollectionKind::AddressBook, DEFAULT_ADDRESS_BOOK).await?;
        self.put(&book, object, card, Precondition::Any).await?;
        Ok(())
    }

    /// Deletes a contact of `owner`'s default address book.
    pub async fn delete_contact(&self, owner: AccountId, object: &str) -> Result<()> {
        let book = self.collection(owner, CollectionKind::AddressBook, DEFAULT_ADDRESS_BOOK).await?;
        self.delete(&book, object, None).await
    }
}

/// A random (version 4) UUID.
fn new_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_reads_back_what_was_written() {
        let c = Contact {
            name: "Durand, Paul; \\ <b>".into(),
            emails: vec!["paul.durand@ac-demo.fr".into(), "paul@example.org".into()],
            phone: "03 83 00 00 00".into(),
            org: "Collège A".into(),
            title: "Professeur".into(),
            groups: vec!["Conseil, pédagogique".into(), "Sortie".into()],
            note: "ligne 1\nligne 2".into(),
        };
        let text = c.to_vcard("urn:uuid:1");
        assert!(text.contains("\r\nCATEGORIES:Conseil\\, pédagogique,Sortie\r\n"), "{text}");
        assert_eq!(crate::vcard::read(&text).unwrap(), "urn:uuid:1");
        assert_eq!(Contact::from_vcard(&text), (c, true));
    }

    #[test]
    fn other_clients_cards_are_read_leniently() {
        let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:Anne\r\n  Martin\r\nitem1.EMAIL;TYPE=INTERNET:a@b.fr\r\n\
                    ORG:Rectorat;DSI\r\nX-FOO:bar\r\nEND:VCARD\r\n";
        let (c, ours) = Contact::from_vcard(text);
        assert!(!ours);
        assert_eq!(
            (c.name.as_str(), c.emails.as_slice(), c.org.as_str()),
            ("Anne Martin", &["a@b.fr".to_owned()][..], "Rectorat, DSI")
        );
    }

    #[test]
    fn bad_fields_are_refused() {
        let ok = Contact { name: "A".into(), ..Contact::default() };
        assert!(ok.clone().checked().is_ok());
        let cases = [
            Contact { name: " \t".into(), ..Contact::default() },
            Contact { emails: vec!["pas une adresse".into()], ..ok.clone() },
            Contact { emails: vec!["a@b".into()], ..ok.clone() },
            Contact { emails: vec!["a@b.fr".into(); MAX_EMAILS + 1], ..ok.clone() },
            Contact { name: "x".repeat(MAX_FIELD + 1), ..Contact::default() },
            Contact { note: "x".repeat(MAX_NOTE + 1), ..ok.clone() },
        ];
        for c in cases {
            assert!(c.clone().checked().is_err(), "{c:?}");
        }
        let c = Contact { name: "A\r\nEND:VCARD".into(), ..Contact::default() }.checked().unwrap();
        assert_eq!(c.to_vcard("u").matches("\r\nEND:VCARD\r\n").count(), 1);
    }
}
