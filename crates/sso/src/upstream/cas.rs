//! The answer of an upstream CAS server's `/p3/serviceValidate` (CAS 3.0
//! protocol, section 2.6): `authenticationSuccess` with the user and its
//! attributes, or `authenticationFailure` with a code. Read with quick-xml,
//! by local names (any namespace prefix), without entities or DTDs.

use std::collections::BTreeMap;

use quick_xml::Reader;
use quick_xml::events::Event;

/// What the server said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validation {
    Success {
        user: String,
        attributes: BTreeMap<String, Vec<String>>,
    },
    /// The failure code (`INVALID_TICKET`, `INVALID_SERVICE`…).
    Failure(String),
}

impl Validation {
    /// The value that names the account: the user for `user`, otherwise
    /// the first value of that attribute.
    pub fn value(&self, claim: &str) -> Option<&str> {
        match self {
            Validation::Success { user, .. } if claim == "user" => Some(user),
            Validation::Success { attributes, .. } => attributes.get(claim)?.first().map(String::as_str),
            Validation::Failure(_) => None,
        }
    }
}

fn failure_code(e: &quick_xml::events::BytesStart<'_>) -> String {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == b"code")
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
        .unwrap_or_default()
}

/// Reads a validation answer; `None` when it is neither a success nor a
/// failure of the CAS protocol.
pub fn parse(xml: &str) -> Option<Validation> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut path: Vec<String> = Vec::new();
    let mut user = None;
    let mut failure = None;
    let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut success = false;
    loop {
        match reader.read_event().ok()? {
            Event::Empty(e) if e.local_name().as_ref() == b"authenticationFailure" => {
                failure = Some(failure_code(&e));
            }
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                match name.as_str() {
                    "authenticationSuccess" => success = true,
                    "authenticationFailure" => failure = Some(failure_code(&e)),
                    _ => {}
                }
                path.push(name);
                if path.len() > 8 {
                    return None;
                }
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(t) => {
                let text = t.unescape().ok()?.into_owned();
                let names: Vec<&str> = path.iter().map(String::as_str).collect();
                match names.as_slice() {
                    [.., "authenticationSuccess", "user"] => user = Some(text),
                    [.., "authenticationSuccess", "attributes", attr] => {
                        attributes.entry((*attr).to_owned()).or_default().push(text);
                    }
                    _ => {}
                }
            }
            Event::DocType(_) => return None,
            Event::Eof => break,
            _ => {}
        }
    }
    match (success, user, failure) {
        (true, Some(user), None) if !user.is_empty() => Some(Validation::Success { user, attributes }),
        (false, _, Some(code)) => Some(Validation::Failure(code)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_success_gives_the_user_and_attributes() {
        let xml = r#"<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
          <cas:authenticationSuccess><cas:user>claire.martin</cas:user>
          <cas:attributes><cas:mail>claire.martin@ac-demo.fr</cas:mail><cas:uai>0541234A</cas:uai>
          </cas:attributes></cas:authenticationSuccess></cas:serviceResponse>"#;
        let v = parse(xml).unwrap();
        assert_eq!(v.value("user"), Some("claire.martin"));
        assert_eq!(v.value("mail"), Some("claire.martin@ac-demo.fr"));
        assert_eq!(v.value("absent"), None);
    }

    #[test]
    fn a_failure_gives_its_code() {
        let xml = r#"<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
          <cas:authenticationFailure code="INVALID_TICKET">Ticket ST-1 not recognized</cas:authenticationFailure>
          </cas:serviceResponse>"#;
        assert_eq!(parse(xml), Some(Validation::Failure("INVALID_TICKET".into())));
    }

    #[test]
    fn anything_else_is_refused() {
        assert_eq!(parse("<html><body>Bienvenue</body></html>"), None);
        assert_eq!(parse(""), None);
        let doctype = r#"<!DOCTYPE x [<!ENTITY e "claire">]><cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
          <cas:authenticationSuccess><cas:user>&e;</cas:user></cas:authenticationSuccess></cas:serviceResponse>"#;
        assert_eq!(parse(doctype), None);
        let both = r#"<r><authenticationSuccess><user>a</user></authenticationSuccess>
          <authenticationFailure code="X"/></r>"#;
        assert_eq!(parse(both), None);
    }
}
