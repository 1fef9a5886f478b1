//! For a signed-in visitor: the page with the account's exact settings and
//! short guides for Thunderbird, Outlook, iPhone/iPad and Android
//! (`/aide/configuration`), and an Apple configuration profile that sets up
//! Mail on an iPhone, iPad or Mac in one tap
//! (`/aide/configuration/ardoise.mobileconfig`).
//!
//! The profile carries no password (the device asks for it) and is not
//! signed, so iOS shows it as « non vérifié »; its identifiers are derived
//! from the host and the account, so installing it again replaces it.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Endpoint;
use crate::App;
use crate::base::{Common, SignedIn, WebError, render};
use crate::pages::totp_on;

#[derive(Template)]
#[template(path = "setup/guide.html")]
struct GuidePage {
    c: Common,
    address: String,
    host: String,
    imap: Vec<Endpoint>,
    submission: Vec<Endpoint>,
    /// With 2FA on, mail clients need an app password.
    app_password: bool,
}

pub async fn guide(State(app): State<Arc<App>>, SignedIn { mut v, account }: SignedIn) -> Result<Response, WebError> {
    let setup = &app.cfg.mail_setup;
    let page = GuidePage {
        c: Common::new(&app, &mut v, "setup.title"),
        address: account.address.to_string(),
        host: setup.host.clone(),
        imap: setup.imap.clone(),
        submission: setup.submission.clone(),
        app_password: totp_on(&app, &account).await?,
    };
    Ok(render(&v, StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "setup/apple.mobileconfig", escape = "html")]
struct AppleProfile<'a> {
    address: &'a str,
    name: &'a str,
    host: &'a str,
    imap: Endpoint,
    smtp: Endpoint,
    identifier: String,
    profile_uuid: String,
    mail_uuid: String,
}

/// A UUID (version 8, RFC 9562 §5.8: "custom") from a hash of `parts`, so
/// that the same account on the same host always gets the same one.
fn stable_uuid(parts: &[&str]) -> String {
    let mut hasher = blake3::Hasher::new();
    for p in parts {
        hasher.update(p.as_bytes());
        hasher.update(&[0]);
    }
    let mut b = [0u8; 16];
    b.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode_upper(b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// The reverse-DNS identifier Apple asks for, from the host name.
fn reverse_dns(host: &str) -> String {
    let labels: Vec<&str> =
        host.split('.').filter(|l| l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')).collect();
    if labels.is_empty() || host.parse::<std::net::IpAddr>().is_ok() {
        return "fr.ardoise".to_owned();
    }
    labels.into_iter().rev().collect::<Vec<_>>().join(".")
}

pub async fn apple_profile(
    State(app): State<Arc<App>>,
    SignedIn { v: _, account }: SignedIn,
) -> Result<Response, WebError> {
    let setup = &app.cfg.mail_setup;
    let (Some(imap), Some(smtp)) = (setup.imap.first(), setup.submission.first()) else {
        return Err(WebError::internal(&"no IMAP or submission listener to announce"));
    };
    let address = account.address.to_string();
    let base = reverse_dns(&setup.host);
    let profile = AppleProfile {
        address: &address,
        name: &account.display_name,
        host: &setup.host,
        imap: *imap,
        smtp: *smtp,
        identifier: format!("{base}.ardoise.{}", account.id),
        profile_uuid: stable_uuid(&["profile", &setup.host, &address]),
        mail_uuid: stable_uuid(&["mail", &setup.host, &address]),
    };
    let body = profile.render().map_err(|e| WebError::internal(&e))?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/x-apple-aspen-config"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"ardoise.mobileconfig\""),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_well_formed_and_distinct() {
        let a = stable_uuid(&["mail", "mail.ac-demo.fr", "claire.martin@ac-demo.fr"]);
        assert_eq!(a, stable_uuid(&["mail", "mail.ac-demo.fr", "claire.martin@ac-demo.fr"]));
        assert_ne!(a, stable_uuid(&["mail", "mail.ac-demo.fr", "paul.durand@ac-demo.fr"]));
        // Parts are separated: ("ab", "c") is not ("a", "bc").
        assert_ne!(stable_uuid(&["ab", "c"]), stable_uuid(&["a", "bc"]));
        let groups: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{a}");
        assert_eq!(&a[14..15], "8", "version 8: {a}");
        assert!(matches!(&a[19..20], "8" | "9" | "A" | "B"), "RFC 9562 variant: {a}");
    }

    #[test]
    fn identifiers_are_reverse_dns() {
        assert_eq!(reverse_dns("mail.ac-demo.fr"), "fr.ac-demo.mail");
        assert_eq!(reverse_dns("127.0.0.1"), "fr.ardoise");
    }
}
