//! `ardoise demo`: the demo contract of DESIGN.md. Fixed ports on 127.0.0.1, the
//! domain `ac-demo.fr`, five named accounts with the password
//! `Ardoise-Demo-2026`, a fictional académie seeded once into a data folder that
//! survives restarts.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Context;
use model::{AccountStatus, Address, Domain, OrgUnitKind, Role, Uai};
use store::{NewAccount, NewOrgUnit, Store};

use crate::{demo_mail, password, serve};

pub const DOMAIN: &str = "ac-demo.fr";
pub const PASSWORD: &str = "Ardoise-Demo-2026";
const SMTP_PORT: u16 = 2525;
const IMAP_PORT: u16 = 2143;
const IMAPS_PORT: u16 = 2993;

/// The demo's établissements: UAI, name, département (index into DSDENS).
const SCHOOLS: &[(&str, &str, usize)] = &[
    ("0541234A", "Collège Jules Ferry, Nancy", 0),
    ("0540042K", "Lycée Henri Poincaré, Nancy", 0),
    ("0570456C", "Lycée Georges de La Tour, Metz", 1),
    ("0571789D", "Collège Paul Verlaine, Thionville", 1),
    ("0880123B", "Collège Louis Pergaud, Épinal", 2),
];
const DSDENS: &[&str] = &["DSDEN de Meurthe-et-Moselle", "DSDEN de la Moselle", "DSDEN des Vosges"];

const FIRST: &[&str] = &[
    "Hélène",
    "Jean-François",
    "Amélie",
    "Théo",
    "Chloé",
    "Étienne",
    "Léa",
    "Raphaël",
    "Inès",
    "Noël",
    "Margaux",
    "Benoît",
    "Zoé",
    "Jérôme",
    "Anaïs",
    "Loïc",
    "Océane",
    "François",
    "Maëlle",
    "Gaël",
];
const LAST: &[&str] = &[
    "Lefèvre-Dupré",
    "Muller",
    "Bernard",
    "Girard",
    "Rousseau",
    "Perrin",
    "Lemaître",
    "Fontaine",
    "Chevalier",
    "Gauthier",
    "Mercier",
    "Boyer",
    "Lambert",
    "Faure",
    "André",
    "Noël",
    "Brun",
    "Roussel",
    "Dupont",
    "Lévêque",
];

/// The named demo accounts: local part, display name, role, établissement (UAI) or none.
const NAMED: &[(&str, &str, Role, Option<&str>)] = &[
    ("claire.martin", "Claire Martin", Role::Teacher, Some("0541234A")),
    ("paul.durand", "Paul Durand", Role::Teacher, Some("0541234A")),
    ("secretariat.0541234a", "Secrétariat — Collège Jules Ferry", Role::Functional, Some("0541234A")),
    ("admin", "Administration de l'académie", Role::Admin, None),
    ("eleve.test", "Élève Test", Role::Student, Some("0541234A")),
];

pub fn config(data: PathBuf) -> config::Config {
    let mut cfg = config::Config::default();
    cfg.server.hostname = format!("mail.{DOMAIN}");
    cfg.server.data_dir = data;
    cfg.smtp.listen = vec![std::net::SocketAddr::from(([127, 0, 0, 1], SMTP_PORT))];
    cfg.imap.listen = vec![std::net::SocketAddr::from(([127, 0, 0, 1], IMAP_PORT))];
    cfg.imap.listen_tls = vec![std::net::SocketAddr::from(([127, 0, 0, 1], IMAPS_PORT))];
    cfg
}

pub async fn run(data: PathBuf) -> anyhow::Result<()> {
    std::fs::create_dir_all(&data).with_context(|| format!("création de {}", data.display()))?;
    let data = data.canonicalize()?;
    let cfg = config(data.clone());
    serve::init_logging("warn");
    write_config_file(&cfg)?;
    let ms = serve::open(&cfg).await?;
    let provisional = if ms.store().count_accounts().await? == 0 {
        println!("Préparation de l'académie de démonstration… / seeding the demo académie…");
        seed(&ms).await.context("préparation de la démo")?
    } else {
        provisional_accounts(ms.store()).await?
    };
    serve::run(cfg, ms, |bound| print_banner(&data, bound, &provisional)).await
}

fn write_config_file(cfg: &config::Config) -> anyhow::Result<()> {
    let path = cfg.server.data_dir.join("ardoise.toml");
    if !path.exists() {
        let text = format!(
            "# Configuration de la démo (écrite par `ardoise demo`).\n[server]\nhostname = \"{}\"\ndata_dir = \"{}\"\n\n[smtp]\nlisten = [\"127.0.0.1:{SMTP_PORT}\"]\n\n[imap]\nlisten = [\"127.0.0.1:{IMAP_PORT}\"]\nlisten_tls = [\"127.0.0.1:{IMAPS_PORT}\"]\n",
            cfg.server.hostname,
            cfg.server.data_dir.display()
        );
        std::fs::write(&path, text)?;
    }
    Ok(())
}

/// A provisional account's identifier and demo NUMEN, printed for the first-login journey.
pub struct Provisional {
    pub address: String,
    pub numen: String,
}

/// A demo NUMEN derived from the address, so restarts can print it again
/// without storing it in clear (the real NUMEN is never stored in clear).
fn demo_numen(address: &str) -> String {
    let h = address.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{:02}E{:07}DEM", 10 + h % 90, (h >> 8) % 10_000_000)
}

async fn seed(ms: &mailstore::Mailstore) -> anyhow::Result<Vec<Provisional>> {
    let store = ms.store();
    let domain = Domain::parse(DOMAIN)?;
    store.add_domain(&domain).await?;
    let root = store
        .create_org_unit(&NewOrgUnit {
            parent: None,
            kind: OrgUnitKind::Academie,
            name: "Académie de démonstration".into(),
            uai: None,
        })
        .await?;
    let mut dsden_ids = Vec::new();
    for name in DSDENS {
        dsden_ids.push(
            store
                .create_org_unit(&NewOrgUnit {
                    parent: Some(root),
                    kind: OrgUnitKind::Dsden,
                    name: (*name).into(),
                    uai: None,
                })
                .await?,
        );
    }
    let mut schools = HashMap::new();
    for (uai, name, dep) in SCHOOLS {
        let id = store
            .create_org_unit(&NewOrgUnit {
                parent: Some(dsden_ids[*dep]),
                kind: OrgUnitKind::Etablissement,
                name: (*name).into(),
                uai: Some(Uai::parse(uai)?),
            })
            .await?;
        schools.insert(*uai, id);
    }
    let hash = |pw: &str| password::hash(pw);
    let mut staff = Vec::new();
    for (local, name, role, uai) in NAMED {
        let acc = store
            .create_account(&NewAccount {
                address: Address::parse(&format!("{local}@{DOMAIN}"))?,
                login: None,
                display_name: (*name).into(),
                role: *role,
                status: AccountStatus::Active,
                quota_bytes: Some(1 << 30),
                org_unit: Some(uai.map(|u| schools[u]).unwrap_or(root)),
                password_hash: Some(hash(PASSWORD)?),
            })
            .await?;
        if *role != Role::Student {
            staff.push((acc.address.to_string(), acc.display_name.clone()));
        }
    }
    let mut provisional = Vec::new();
    for i in 0..42 {
        let (first, last) = (FIRST[i % FIRST.len()], LAST[(i * 7 + i / FIRST.len()) % LAST.len()]);
        let (uai, _, _) = SCHOOLS[i % SCHOOLS.len()];
        let role = match i % 10 {
            0 => Role::Direction,
            3 | 7 => Role::Administrative,
            _ => Role::Teacher,
        };
        let local = model::translit::local_part(first, last);
        let is_provisional = i < 3;
        let numen = demo_numen(&format!("{local}@{DOMAIN}"));
        let secret = if is_provisional { numen.clone() } else { PASSWORD.to_owned() };
        let acc = store
            .create_account(&NewAccount {
                address: Address::parse(&format!("{local}@{DOMAIN}"))?,
                login: None,
                display_name: format!("{first} {last}"),
                role,
                status: if is_provisional { AccountStatus::Provisional } else { AccountStatus::Active },
                quota_bytes: Some(1 << 30),
                org_unit: Some(schools[uai]),
                password_hash: Some(hash(&secret)?),
            })
            .await?;
        if is_provisional {
            provisional.push(Provisional { address: acc.address.to_string(), numen });
        }
        staff.push((acc.address.to_string(), acc.display_name.clone()));
    }
    for (i, (first, last)) in [("Lucas", "Petit"), ("Emma", "Moreau"), ("Nathan", "Laurent")].iter().enumerate() {
        store
            .create_account(&NewAccount {
                address: Address::parse(&format!("{}@{DOMAIN}", model::translit::local_part(first, last)))?,
                login: None,
                display_name: format!("{first} {last}"),
                role: Role::Student,
                status: AccountStatus::Active,
                quota_bytes: Some(100 << 20),
                org_unit: Some(schools[SCHOOLS[i].0]),
                password_hash: None,
            })
            .await?;
    }
    deliver_demo_mail(ms, &staff).await?;
    Ok(provisional)
}

async fn deliver_demo_mail(ms: &mailstore::Mailstore, staff: &[(String, String)]) -> anyhow::Result<()> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for mail in demo_mail::demo_mails(DOMAIN, staff) {
        let mut targets = Vec::new();
        for to in &mail.to {
            if let Some(acc) = ms.store().account_by_address(&Address::parse(to)?).await? {
                let mut flags = 0;
                if mail.seen {
                    flags |= model::Flag::Seen.bit();
                }
                if mail.flagged {
                    flags |= model::Flag::Flagged.bit();
                }
                targets.push(mailstore::DeliveryTarget { account: acc.id, mailbox: None, flags, keywords: Vec::new() });
            }
        }
        if !targets.is_empty() {
            ms.deliver_to(&mail.raw, &targets, now - i64::from(mail.days_ago) * 86_400).await?;
        }
    }
    Ok(())
}

async fn provisional_accounts(store: &Store) -> anyhow::Result<Vec<Provisional>> {
    let mut out = Vec::new();
    for a in store.list_accounts().await? {
        if a.status == AccountStatus::Provisional {
            let address = a.address.to_string();
            out.push(Provisional { numen: demo_numen(&address), address });
        }
    }
    Ok(out)
}

fn print_banner(data: &std::path::Path, bound: &[(String, std::net::SocketAddr)], provisional: &[Provisional]) {
    println!();
    println!("Ardoise — démo prête / demo ready   (données / data: {})", data.display());
    println!();
    for (service, addr) in bound {
        let label = match service.as_str() {
            "smtp" => "SMTP entrant (MX) / incoming SMTP",
            "imap" => "IMAP (STARTTLS)",
            "imaps" => "IMAP (TLS implicite / implicit TLS)",
            other => other,
        };
        println!("  {label:<40} {addr}");
    }
    println!();
    println!("  Comptes (mot de passe / password: {PASSWORD}) :");
    for (local, name, role, _) in NAMED {
        let note = if *role == Role::Student {
            "  (élève : toute connexion refusée / student: every login refused)"
        } else {
            ""
        };
        println!("    {:<36} {name}{note}", format!("{local}@{DOMAIN}"));
    }
    if !provisional.is_empty() {
        println!();
        println!("  Comptes provisoires (première connexion) / provisional accounts (first login):");
        for p in provisional {
            println!("    {:<36} NUMEN (démo) : {}", p.address, p.numen);
        }
    }
    println!();
    println!(
        "  Essayer / try:  python3 -c \"import smtplib; smtplib.SMTP('127.0.0.1', {SMTP_PORT}).sendmail('parent@example.org', ['claire.martin@{DOMAIN}'], 'Subject: Bonjour\\n\\nCoucou')\""
    );
    println!("  Administration: ardoise admin --config {}/ardoise.toml account list", data.display());
    println!("  Arrêter / stop: Ctrl-C");
}
