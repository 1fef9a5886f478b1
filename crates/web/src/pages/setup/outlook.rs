//! Outlook's autodiscover for an IMAP account, as Microsoft documents it
//! for "POX" (plain old XML):
//! - `POST /autodiscover/autodiscover.xml` with an `Autodiscover` request
//!   naming `EMailAddress` and `AcceptableResponseSchema` (the Outlook
//!   schema `.../outlook/responseschema/2006a`): the answer gives one
//!   `Protocol` of type IMAP and one of type SMTP, best port first, with
//!   the address as login name;
//! - `GET /autodiscover/autodiscover.json/v1.0/{address}?Protocol=AutodiscoverV1`
//!   (newer Outlook asks this first): where the XML service is.
//!
//! Requests are read by an XML parser (quick-xml), at most [`MAX_REQUEST`]
//! bytes; a request that is not one (malformed, no address, another
//! response schema such as ActiveSync's) gets autodiscover's own error
//! answer, code 600 « Invalid Request », with status 400.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use quick_xml::events::Event;
use serde::Deserialize;
use serde_json::json;

use super::{Endpoint, hosted};
use crate::App;
use crate::base::WebError;
use crate::base::i18n::Lang;

/// The largest request read; Outlook's is about 400 bytes.
pub const MAX_REQUEST: usize = 16 * 1024;
/// The response schema Outlook asks for (and the only one served here).
const OUTLOOK_SCHEMA: &str = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

/// What a POX request asks.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PoxRequest {
    pub address: String,
    pub schema: String,
}

/// Reads an `Autodiscover` request; `None` when it is not one.
pub fn read_request(body: &[u8]) -> Option<PoxRequest> {
    let text = std::str::from_utf8(body).ok()?;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let (mut path, mut asked, mut root_seen) = (Vec::<String>::new(), PoxRequest::default(), false);
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                root_seen |= path.is_empty() && name == "Autodiscover";
                path.push(name);
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(t) => {
                let value = t.unescape().ok()?.trim().to_owned();
                match path.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
                    ["Autodiscover", "Request", "EMailAddress"] => asked.address = value,
                    ["Autodiscover", "Request", "AcceptableResponseSchema"] => asked.schema = value,
                    _ => {}
                }
            }
            Event::Eof => break,
            // Declarations, comments, empty elements: nothing asked there.
            _ => {}
        }
    }
    (root_seen && !asked.address.is_empty()).then_some(asked)
}

#[derive(Template)]
#[template(path = "setup/autodiscover.xml")]
struct Settings<'a> {
    host: &'a str,
    address: &'a str,
    imap: Endpoint,
    smtp: Endpoint,
}

#[derive(Template)]
#[template(path = "setup/autodiscover-error.xml")]
struct ErrorAnswer {
    time: String,
    id: u32,
}

fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

/// Autodiscover's « Invalid Request » (code 600).
fn invalid_request() -> Result<Response, WebError> {
    let now = jiff::Timestamp::now();
    let answer = ErrorAnswer { time: now.strftime("%H:%M:%S").to_string(), id: rand::random() };
    Ok(xml(StatusCode::BAD_REQUEST, answer.render().map_err(|e| WebError::internal(&e))?))
}

pub async fn pox(State(app): State<Arc<App>>, lang: Lang, body: Bytes) -> Result<Response, WebError> {
    let Some(asked) = read_request(&body) else { return invalid_request() };
    if asked.schema != OUTLOOK_SCHEMA {
        return invalid_request();
    }
    let Some(address) = hosted(&app, &asked.address).await else { return Err(WebError::not_found(lang)) };
    let setup = &app.cfg.mail_setup;
    let (Some(imap), Some(smtp)) = (setup.imap.first(), setup.submission.first()) else {
        return Err(WebError::not_found(lang));
    };
    let answer = Settings { host: &setup.host, address: &address.to_string(), imap: *imap, smtp: *smtp };
    Ok(xml(StatusCode::OK, answer.render().map_err(|e| WebError::internal(&e))?))
}

#[derive(Debug, Deserialize)]
pub struct JsonAsked {
    #[serde(rename = "Protocol", alias = "protocol")]
    protocol: Option<String>,
}

/// `autodiscover.json/v1.0/{address}`: the XML service for `AutodiscoverV1`,
/// an error naming the protocols served for anything else (ActiveSync, EWS).
pub async fn json(
    State(app): State<Arc<App>>,
    lang: Lang,
    Path(address): Path<String>,
    Query(asked): Query<JsonAsked>,
) -> Result<Response, WebError> {
    let protocol = asked.protocol.unwrap_or_default();
    if !protocol.eq_ignore_ascii_case("AutodiscoverV1") {
        let answer = json!({
            "ErrorCode": "ProtocolNotSupported",
            "ErrorMessage": format!("The given protocol value '{protocol}' is invalid. Supported values are 'AutodiscoverV1'"),
        });
        return Ok(json_answer(StatusCode::BAD_REQUEST, &answer));
    }
    if hosted(&app, &address).await.is_none() {
        return Err(WebError::not_found(lang));
    }
    let url = format!("{}/autodiscover/autodiscover.xml", app.cfg.public_url);
    Ok(json_answer(StatusCode::OK, &json!({ "Protocol": "AutodiscoverV1", "Url": url })))
}

fn json_answer(status: StatusCode, value: &serde_json::Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], value.to_string()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Outlook's request, as Microsoft's documentation shows it.
    const OUTLOOK: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>claire.martin@ac-demo.fr</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>"#;

    #[test]
    fn outlook_s_request_is_read() {
        let asked = read_request(OUTLOOK.as_bytes()).unwrap();
        assert_eq!(asked.address, "claire.martin@ac-demo.fr");
        assert_eq!(asked.schema, OUTLOOK_SCHEMA);
    }

    #[test]
    fn prefixed_names_and_entities_are_read_too() {
        let body = r#"<a:Autodiscover xmlns:a="x"><a:Request><a:EMailAddress>p&#97;ul@ac-demo.fr</a:EMailAddress></a:Request></a:Autodiscover>"#;
        assert_eq!(read_request(body.as_bytes()).unwrap().address, "paul@ac-demo.fr");
    }

    #[test]
    fn what_is_not_a_request_is_refused() {
        for body in [
            "",
            "pas du XML",
            "<Autodiscover><Request></Request></Autodiscover>",
            "<Other><Request><EMailAddress>a@b.fr</EMailAddress></Request></Other>",
            "<Autodiscover><Request><EMailAddress>a@b.fr</Request></Autodiscover>",
            "<Autodiscover><EMailAddress>a@b.fr</EMailAddress></Autodiscover>",
        ] {
            assert_eq!(read_request(body.as_bytes()), None, "{body}");
        }
        assert_eq!(read_request(b"<Autodiscover>\xff\xfe</Autodiscover>"), None);
    }
}
