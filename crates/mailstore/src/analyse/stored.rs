//! The analysis as stored with each content (`blobs.meta_json`): written at
//! delivery, read back by IMAP (BODYSTRUCTURE, sections, SEARCH) and the
//! webmail (autocomplete) through these two functions only, so that its
//! shape is a Rust type ([`Analysis`]) and never a string path in a caller.
//! `v` says which shape a row has; rows written before it existed have the
//! shape of version 1.

use super::Analysis;

/// The shape written now.
pub const VERSION: u64 = 1;

/// The stored form of an analysis: everything but the full-text `text`,
/// which goes to the search index, not into every copy's metadata.
pub fn to_stored(a: &Analysis) -> String {
    let mut value = serde_json::to_value(a).unwrap_or(serde_json::Value::Null);
    if let Some(obj) = value.as_object_mut() {
        obj.remove("text");
        obj.insert("v".into(), VERSION.into());
    }
    value.to_string()
}

/// Reads a stored analysis back (its `text` empty); `None` when it does not
/// parse or was written in a shape this build does not know.
pub fn from_stored(json: &str) -> Option<Analysis> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    match value.get("v") {
        None => {}
        Some(v) if v.as_u64() == Some(VERSION) => {}
        Some(_) => return None,
    }
    serde_json::from_value(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_without_the_text_and_knows_its_versions() {
        let a = crate::analyse::analyse(b"Subject: Conseil\r\nTo: Paul <paul@ac-test.fr>\r\n\r\nOrdre du jour\r\n");
        let stored = to_stored(&a);
        let value: serde_json::Value = serde_json::from_str(&stored).unwrap();
        assert!(value.get("text").is_none() && value.get("v") == Some(&VERSION.into()), "{stored}");
        let back = from_stored(&stored).unwrap();
        assert_eq!(back, Analysis { text: String::new(), ..a.clone() });
        // Rows written before the version field: the same shape.
        let mut legacy: serde_json::Value = serde_json::from_str(&stored).unwrap();
        legacy.as_object_mut().unwrap().remove("v");
        assert_eq!(from_stored(&legacy.to_string()).unwrap(), back);
        // A shape from a newer build is not guessed at.
        legacy.as_object_mut().unwrap().insert("v".into(), 99.into());
        assert_eq!(from_stored(&legacy.to_string()), None);
        assert_eq!(from_stored("pas du json"), None);
    }
}
