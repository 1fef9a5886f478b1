//! vCards: what an address book accepts (one VCARD with a UID; RFC 6352
//! section 5.1).

use calcard::vcard::VCard;
use calcard::{Entry, Parser};

use crate::ical::entry_error;

/// Reads `text` as one address object resource; `Ok` gives its UID, `Err`
/// a short reason in French.
pub fn read(text: &str) -> Result<String, String> {
    let mut parser = Parser::new(text);
    let card: VCard = match parser.entry() {
        Entry::VCard(_) if !crate::ical::ends_with_line(text, "END:VCARD") => {
            return Err("BEGIN:VCARD sans END".into());
        }
        Entry::VCard(card) => card,
        Entry::ICalendar(_) => return Err("iCalendar reçu là où une vCard est attendue".into()),
        other => return Err(entry_error(other)),
    };
    if !matches!(parser.entry(), Entry::Eof) {
        return Err("une seule vCard par objet".into());
    }
    let Some(uid) = card.uid().filter(|u| !u.is_empty()) else {
        return Err("vCard sans UID".into());
    };
    if uid.len() > 255 {
        return Err("UID de plus de 255 octets".into());
    }
    Ok(uid.to_owned())
}

#[cfg(test)]
mod tests {
    use super::read;

    #[test]
    fn a_card_needs_one_uid_and_nothing_after_it() {
        let card = "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:1\r\nFN:Paul Durand\r\nEND:VCARD\r\n";
        assert_eq!(read(card).unwrap(), "urn:uuid:1");
        assert_eq!(read("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Sans UID\r\nEND:VCARD\r\n").unwrap_err(), "vCard sans UID");
        assert!(read(&format!("{card}{card}")).unwrap_err().contains("une seule"));
        assert!(read("BEGIN:VCARD\r\nUID:x\r\nFN:x\r\n").unwrap_err().contains("sans END"), "missing END");
        assert!(read("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n").is_err());
        assert!(read("").is_err());
        assert!(read("n'importe quoi").is_err());
    }
}
