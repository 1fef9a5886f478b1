//! The Ardoise side of a copy: folders found or made, the fingerprints of
//! what a folder already holds, flags in our form, and one delivery.

use std::collections::HashMap;
use std::sync::Arc;

use mailstore::{DeliveryTarget, Mailbox, Mailstore, MessageRow};
use model::{AccountId, Flag, Keyword, SpecialUse};

use crate::folders::Destination;

/// imapsync's test of "already there": Message-ID, date and size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    pub message_id: String,
    pub internal_date: i64,
    pub size: i64,
}

impl Fingerprint {
    /// The fingerprint of a message from its header (or whole) bytes.
    pub fn of(header: &[u8], internal_date: i64, size: i64) -> Fingerprint {
        Fingerprint { message_id: message_id(header).unwrap_or_default(), internal_date, size }
    }

    fn of_row(row: &MessageRow) -> Fingerprint {
        Fingerprint {
            message_id: row.msgid_header.clone().unwrap_or_default(),
            internal_date: row.internal_date,
            size: row.size,
        }
    }
}

/// The Message-ID of a message's header, without angle brackets.
pub fn message_id(raw: &[u8]) -> Option<String> {
    let end = find(raw, b"\r\n\r\n").or_else(|| find(raw, b"\n\n")).unwrap_or(raw.len());
    let header = String::from_utf8_lossy(&raw[..end]);
    let mut value: Option<String> = None;
    for line in header.split('\n') {
        let line = line.trim_end_matches('\r');
        if let Some(v) = value.as_mut() {
            if line.starts_with([' ', '\t']) {
                v.push_str(line.trim());
                continue;
            }
            break;
        }
        if let Some((name, rest)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("message-id")
        {
            value = Some(rest.trim().to_owned());
        }
    }
    let v = value?;
    let v = v.trim();
    let inner = match (v.find('<'), v.rfind('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v,
    };
    (!inner.trim().is_empty()).then(|| inner.trim().to_owned())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// IMAP flags in our form: the system flags' bits and the keywords
/// (`\Recent` and unknown system flags are dropped).
pub fn flags_from_imap(flags: &[String]) -> (i64, Vec<String>) {
    let mut bits = 0;
    let mut keywords = Vec::new();
    for f in flags {
        if let Some(flag) = Flag::ALL.into_iter().find(|x| x.imap_name().eq_ignore_ascii_case(f)) {
            bits |= flag.bit();
        } else if let Some(k) = Keyword::new(f) {
            keywords.push(k.as_str().to_owned());
        }
    }
    keywords.sort();
    keywords.dedup();
    (bits, keywords)
}

/// One account's side of a run.
pub struct Target {
    pub mailstore: Arc<Mailstore>,
    pub account: AccountId,
    pub address: String,
    /// Writes nothing.
    pub dry_run: bool,
}

/// A target folder's contents as the run sees them.
#[derive(Default)]
pub struct Contents {
    pub by_uid: HashMap<i64, MessageRow>,
    pub by_fingerprint: HashMap<Fingerprint, i64>,
}

impl Target {
    /// The folder for a destination, made if missing (unless `dry_run`,
    /// where a missing folder is `None`).
    pub async fn folder(&self, dest: &Destination) -> Result<Option<Mailbox>, String> {
        let ms = &self.mailstore;
        let found = match dest {
            Destination::Special(special) => ms.mailbox_with_use(self.account, *special).await,
            Destination::Named(name) => ms.mailbox_named(self.account, name).await,
        }
        .map_err(|e| e.to_string())?;
        if found.is_some() || self.dry_run {
            return Ok(found);
        }
        let made = match dest {
            Destination::Special(SpecialUse::Inbox) => return Err("pas de boîte de réception".into()),
            Destination::Special(special) => {
                ms.create_mailbox(self.account, special.default_name(), Some(*special)).await
            }
            Destination::Named(name) => ms.create_mailbox(self.account, name, None).await,
        };
        made.map(Some).map_err(|e| format!("création du dossier : {e}"))
    }

    /// What a folder holds.
    pub async fn contents(&self, mailbox: Option<&Mailbox>) -> Result<Contents, String> {
        let Some(mailbox) = mailbox else { return Ok(Contents::default()) };
        let rows = self.mailstore.messages(mailbox.id).await.map_err(|e| e.to_string())?;
        let mut c = Contents::default();
        for row in rows {
            c.by_fingerprint.insert(Fingerprint::of_row(&row), row.uid);
            c.by_uid.insert(row.uid, row);
        }
        Ok(c)
    }

    /// Files one message; returns its UID in the folder.
    pub async fn deliver(
        &self,
        mailbox: &Mailbox,
        raw: impl Into<mailstore::Bytes>,
        flags: i64,
        keywords: Vec<String>,
        internal_date: i64,
    ) -> Result<i64, String> {
        let target = DeliveryTarget { account: self.account, mailbox: Some(mailbox.id), flags, keywords };
        let done = self.mailstore.deliver_to_owned(raw, &[target], internal_date).await.map_err(|e| e.to_string())?;
        done.first().map(|d| d.uid).ok_or_else(|| "rien n'a été classé".to_owned())
    }

    /// Subscribes a folder of ours (errors are logged: a subscription is not worth a failure).
    pub async fn subscribe(&self, name: &str) {
        if self.dry_run {
            return;
        }
        if let Err(e) = self.mailstore.add_subscription(self.account, name).await {
            tracing::warn!(name, error = %e, "abonnement impossible");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_read_unfolded_without_brackets() {
        assert_eq!(message_id(b"Subject: x\r\nMessage-ID: <a@b>\r\n\r\nbody").as_deref(), Some("a@b"));
        assert_eq!(message_id(b"message-id:\r\n <folded@b>\r\nX: y\r\n\r\n").as_deref(), Some("folded@b"));
        assert_eq!(message_id(b"Subject: x\n\nMessage-ID: <in-body@b>\n"), None);
        assert_eq!(message_id(b"Message-ID: \r\n\r\n"), None);
    }

    #[test]
    fn flags_become_bits_and_keywords() {
        let flags: Vec<String> = ["\\Seen", "\\recent", "\\Flagged", "$Label1", "Travail", "\\Unknown"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (bits, keywords) = flags_from_imap(&flags);
        assert_eq!(bits, Flag::Seen.bit() | Flag::Flagged.bit());
        assert_eq!(keywords, ["$Label1", "Travail"]);
    }
}
