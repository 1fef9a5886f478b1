//! « Stockage » (`/admin/stockage`, read only): usage per unit of the
//! administrator's sight, the largest mailboxes, and what deduplication
//! saves, as `identity::admin`'s storage service computes them.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::pages::{Nav, common, err, nav};
use super::{A, gate};
use crate::App;
use crate::base::{Common, SignedIn, render};

pub struct UnitLine {
    name: String,
    depth: usize,
    accounts: i64,
    used: String,
}

pub struct Unplaced {
    accounts: i64,
    used: String,
}

pub struct Large {
    id: i64,
    address: String,
    unit: String,
    used: String,
    quota: String,
}

#[derive(Template)]
#[template(path = "admin/storage.html")]
struct StoragePage {
    c: Common,
    a: A,
    nav: Nav,
    units: Vec<UnitLine>,
    unplaced: Option<Unplaced>,
    largest: Vec<Large>,
    messages: i64,
    logical: String,
    physical: String,
    /// « 2,4 » (copies per stored content), or none without messages.
    ratio: Option<String>,
    saved: String,
}

/// Bytes for people, in the unit that fits (octets, Ko, Mo, Go, To).
pub(super) fn bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["o", "Ko", "Mo", "Go", "To"];
    let mut value = n.max(0) as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} o") } else { format!("{value:.1} {}", UNITS[unit]).replace('.', ",") }
}

pub async fn page(State(app): State<Arc<App>>, SignedIn { mut v, account }: SignedIn) -> Result<Response, Response> {
    let who = gate(&app, &v, &account).await?;
    let view = app.identity.admin_storage(&who).await.map_err(|e| err(&v, e))?;
    let a = A(v.lang);
    let d = view.dedup;
    let page = StoragePage {
        a,
        nav: nav(&who),
        units: view
            .units
            .into_iter()
            .map(|u| UnitLine {
                name: match u.uai {
                    Some(uai) => format!("{} ({uai})", u.name),
                    None => u.name,
                },
                depth: u.depth.min(6),
                accounts: u.accounts,
                used: bytes(u.used),
            })
            .collect(),
        unplaced: view.unplaced.map(|(accounts, used)| Unplaced { accounts, used: bytes(used) }),
        largest: view
            .largest
            .into_iter()
            .map(|l| Large {
                id: l.id,
                address: l.address,
                unit: l.unit.unwrap_or_else(|| "—".into()),
                used: bytes(l.used),
                quota: l.quota.map_or_else(|| a.get("adm.unlimited").to_owned(), bytes),
            })
            .collect(),
        messages: d.messages,
        logical: bytes(d.logical),
        physical: bytes(d.physical),
        ratio: (d.physical > 0).then(|| format!("{:.2}", d.logical as f64 / d.physical as f64).replace('.', ",")),
        saved: bytes(d.logical - d.physical),
        c: common(&app, &mut v, a, "adm.storage"),
    };
    Ok(render(&v, StatusCode::OK, &page))
}

#[cfg(test)]
mod tests {
    #[test]
    fn bytes_for_people() {
        assert_eq!(super::bytes(0), "0 o");
        assert_eq!(super::bytes(1023), "1023 o");
        assert_eq!(super::bytes(1536), "1,5 Ko");
        assert_eq!(super::bytes(3 << 30), "3,0 Go");
        assert_eq!(super::bytes(-5), "-5 o");
    }
}
