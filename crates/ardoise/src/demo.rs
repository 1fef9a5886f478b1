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
const MANAGESIEVE_PORT: u16 = 4190;
const METRICS_PORT: u16 = 9464;

/// The demo's établissements: UAI, name, département (index into DSDENS).
const SCHOOLS: &[(&str, &str, usize)] = &[
    ("0541234A", "Collège Jules Ferry, Nancy", 0),
    ("0540042K", "Lycée Henri Poincaré, Nancy", 0),
    ("0570456C", "Lycée Georges de La Tour, Metz", 1),
    ("0571789D", "Collège Paul Verlaine, Thionville", 1),
    ("0880123B", "Collège Louis Pergaud, Épinal", 2),
];
const DSDENS: &[&str] = &["DSDEN de Meurthe-et-Moselle", "DSDEN de la Moselle", "DSDEN des Vosges"];

/// The demo académie's HR file: provisioned by the directory sync like a real one.
const STAFF_CSV: &str = include_str!("../demo/staff.csv");
/// Staff lines (after the named accounts) that stay provisional for the first-login journey.
const PROVISIONAL: usize = 3;

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
    cfg.managesieve.listen = vec![std::net::SocketAddr::from(([127, 0, 0, 1], MANAGESIEVE_PORT))];
    // Prometheus metrics on the loopback, where no token is required.
    cfg.metrics.listen = vec![std::net::SocketAddr::from(([127, 0, 0, 1], METRICS_PORT))];
    // The web on plain HTTP, on the loopback only: the demo has no certificate
    // a browser trusts. Production configures [web] listen_tls.
    cfg.web.listen = vec![std::net::SocketAddr::from(([127, 0, 0, 1], 8080))];
    // The demo contract: the named accounts are never asked to set up 2FA
    // (DESIGN.md); the administrator has it on already (the console needs
    // it, issue 24), and the banner prints its seed.
    cfg.web.require_2fa_for_admins = false;
    cfg.web.public_url = "http://127.0.0.1:8080".into();
    // Mail clients set up from the demo's autoconfig connect on the loopback too.
    cfg.web.mail_host = "127.0.0.1".into();
    cfg.submission.listen = vec![std::net::SocketAddr::from(([127, 0, 0, 1], 2587))];
    cfg.submission.listen_tls = vec![std::net::SocketAddr::from(([127, 0, 0, 1], 2465))];
    // No internet in the demo: mail to outside domains lands in the outbox account.
    cfg.outbound.capture_to = Some(crate::outbox::address(DOMAIN));
    cfg
}

pub async fn run(data: PathBuf) -> anyhow::Result<()> {
    std::fs::create_dir_all(&data).with_context(|| format!("création de {}", data.display()))?;
    let data = data.canonicalize()?;
    let cfg = config(data.clone());
    serve::init_logging("warn", false);
    write_config_file(&cfg)?;
    let (opened, identity) = serve::open_with_identity(&cfg).await?;
    let store = &opened.store;
    let provisional = if store.count_accounts().await? == 0 {
        println!("Préparation de l'académie de démonstration… / seeding the demo académie…");
        seed(store, &opened.mailstore, &data).await.context("préparation de la démo")?
    } else {
        provisional_accounts(store).await?
    };
    crate::outbox::ensure(store, DOMAIN, password::hash(PASSWORD)?).await?;
    let ent = demo_ent(&cfg, store).await.context("application ENT de démonstration")?;
    let admin_totp = admin_totp(store, &identity).await.context("validation en deux étapes de l'administrateur")?;
    serve::run(cfg, opened, identity, |bound| {
        print_banner(&data, bound, &provisional);
        print_ent(&ent);
        print_admin_totp(admin_totp.as_deref());
    })
    .await
}

/// The administrator's TOTP seed (issue 24: the console wants 2FA): enrolled
/// at the first start, then read back (decrypted with the data folder's
/// key) at every start so that the banner can print it: demo only, so that a
/// tester can compute codes. `None` once someone turned it off.
async fn admin_totp(store: &store::Store, identity: &identity::Identity) -> anyhow::Result<Option<String>> {
    let address = Address::parse(&format!("admin@{DOMAIN}"))?;
    let Some(admin) = store.account_by_address(&address).await? else { return Ok(None) };
    let state = store.credential_state(admin.id).await?;
    match (state.totp_enabled_at, state.totp_secret) {
        (Some(_), Some(stored)) => Ok(identity.totp_key().open(admin.id, &stored)),
        (Some(_), None) => Ok(None),
        (None, _) if store.audit_log().await?.iter().any(|e| e.action == "account.reset-2fa") => Ok(None),
        (None, _) => {
            let enrolment = identity.begin_totp(&admin, &format!("Ardoise mail.{DOMAIN}")).await?;
            store.enable_totp(admin.id).await?;
            Ok(Some(enrolment.secret))
        }
    }
}

fn print_admin_totp(secret: Option<&str>) {
    let Some(secret) = secret else { return };
    println!();
    println!("  Console d'administration / admin console: http://127.0.0.1:8080/admin");
    println!("    admin@{DOMAIN} : validation en deux étapes activée / two-step verification on");
    println!("    secret TOTP (démo uniquement / demo only) : {secret}");
    println!("    code du moment / current code : oathtool --totp -b {secret}");
}

/// The demo's sample « ENT »: an OpenID Connect client and a CAS service
/// registered at the first start. Its credentials are kept in
/// `<data>/ent-demo.json` (mode 0600, demo only) so that every start can
/// print them; a real installation sees a client secret once.
#[derive(serde::Serialize, serde::Deserialize)]
struct DemoEnt {
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    cas_service: String,
    /// The public client of mail programs (OAUTHBEARER, XOAUTH2), added
    /// to data folders made before it existed.
    #[serde(default)]
    mail_client_id: String,
}

/// Where the demo's mail client receives its code (a native application's
/// loopback address, RFC 8252 section 7.3).
const MAIL_CLIENT_REDIRECT: &str = "http://127.0.0.1:8765/";

async fn demo_ent(cfg: &config::Config, store: &store::Store) -> anyhow::Result<DemoEnt> {
    let path = cfg.server.data_dir.join("ent-demo.json");
    let sso = sso::Sso::open(store.clone(), &cfg.server.data_dir, &cfg.web.public_url)?;
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(mut ent) = serde_json::from_str::<DemoEnt>(&text)
    {
        if ent.mail_client_id.is_empty() {
            ent.mail_client_id = demo_mail_client(&sso).await?;
            save_ent(&path, &ent)?;
        }
        return Ok(ent);
    }
    let redirect_uri = "http://127.0.0.1:8000/oidc/retour".to_owned();
    let new = sso::NewClient {
        name: "ENT de démonstration".into(),
        redirect_uris: vec![redirect_uri.clone()],
        academie_app: true,
        ..Default::default()
    };
    let (client, secret) = sso.add_client(new).await?;
    let cas_service = "http://127.0.0.1:8000/".to_owned();
    sso.add_cas_service(&cas_service, "ENT de démonstration (CAS)").await?;
    let ent = DemoEnt {
        client_id: client.id,
        client_secret: secret.context("a confidential client has a secret")?,
        redirect_uri,
        cas_service,
        mail_client_id: demo_mail_client(&sso).await?,
    };
    save_ent(&path, &ent)?;
    Ok(ent)
}

/// A public client for mail programs (Thunderbird-style native
/// applications: PKCE, loopback redirect), allowed the `mail` scope.
async fn demo_mail_client(sso: &sso::Sso) -> anyhow::Result<String> {
    let new = sso::NewClient {
        name: "Logiciel de messagerie (démo)".into(),
        redirect_uris: vec![MAIL_CLIENT_REDIRECT.to_owned()],
        public: true,
        scopes: vec!["profile".into(), "email".into(), sso::access::MAIL_SCOPE.into()],
        ..Default::default()
    };
    Ok(sso.add_client(new).await?.0.id)
}

fn save_ent(path: &std::path::Path, ent: &DemoEnt) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    std::io::Write::write_all(&mut opts.open(path)?, serde_json::to_string_pretty(ent)?.as_bytes())?;
    Ok(())
}

fn print_ent(ent: &DemoEnt) {
    println!();
    println!("  Authentification unique / single sign-on (ENT de démonstration) :");
    println!("    OpenID Connect  http://127.0.0.1:8080/.well-known/openid-configuration");
    println!("      client_id     {}", ent.client_id);
    println!("      client_secret {}", ent.client_secret);
    println!("      redirect_uri  {}", ent.redirect_uri);
    println!("    CAS             http://127.0.0.1:8080/cas/login?service={}", ent.cas_service);
    println!("  Logiciels de messagerie / mail clients (OAUTHBEARER, XOAUTH2, portée / scope « openid mail ») :");
    println!("      client_id     {} (public, PKCE)", ent.mail_client_id);
    println!("      redirect_uri  {MAIL_CLIENT_REDIRECT}");
}

fn write_config_file(cfg: &config::Config) -> anyhow::Result<()> {
    let path = cfg.server.data_dir.join("ardoise.toml");
    if !path.exists() {
        let text = format!(
            "# Configuration de la démo (écrite par `ardoise demo`).\n[server]\nhostname = \"{}\"\ndata_dir = \"{}\"\n\n[smtp]\nlisten = [\"127.0.0.1:{SMTP_PORT}\"]\n\n[imap]\nlisten = [\"127.0.0.1:{IMAP_PORT}\"]\nlisten_tls = [\"127.0.0.1:{IMAPS_PORT}\"]\n\n[managesieve]\nlisten = [\"127.0.0.1:{MANAGESIEVE_PORT}\"]\n\n[metrics]\nlisten = [\"127.0.0.1:{METRICS_PORT}\"]\n",
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
    pub login: String,
    pub numen: String,
}

async fn seed(
    store: &store::Store,
    ms: &mailstore::Mailstore,
    data: &std::path::Path,
) -> anyhow::Result<Vec<Provisional>> {
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
    // Functional mailboxes and the administrator are not in HR files.
    for (local, name, role, uai) in NAMED.iter().filter(|n| matches!(n.2, Role::Functional | Role::Admin)) {
        let acc = store
            .create_account(&NewAccount {
                address: Address::parse(&format!("{local}@{DOMAIN}"))?,
                login: None,
                display_name: (*name).into(),
                role: *role,
                status: AccountStatus::Active,
                quota_bytes: Some(1 << 30),
                org_unit: Some(uai.map(|u| schools[u]).unwrap_or(root)),
                password_hash: Some(password::hash(PASSWORD)?),
            })
            .await?;
        if *role == Role::Admin {
            store.grant_role(acc.id, identity::lifecycle::AdminRole::Academie.as_str(), root).await?;
        }
    }
    // Everybody else comes from the HR file, through the directory sync.
    let key = identity::lifecycle::NumenKey::load_or_create(data)?;
    let opts = identity::lifecycle::SyncOptions {
        domain: domain.clone(),
        retention_days: 90,
        transfer_alias_days: 365,
        quota_bytes: Some(1 << 30),
        dry_run: false,
        actor: "démo".into(),
        scope: "superutilisateur (CLI)".into(),
        within: None,
        expect: None,
    };
    let report = identity::lifecycle::sync(store, &key, STAFF_CSV.as_bytes(), &opts, &|_, _, _| {})
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("  annuaire RH : {} / HR directory synced", report.summary());
    // The demo completes the first login of everyone but a few staff.
    let keep = provisional_addresses();
    let numens = demo_numens()?;
    let mut provisional = Vec::new();
    let mut staff = Vec::new();
    for acc in store.list_accounts().await? {
        let address = acc.address.to_string();
        if keep.contains(&address) {
            let login = acc.login.clone().unwrap_or_default();
            provisional.push(Provisional { numen: numens.get(&address).cloned().unwrap_or_default(), address, login });
        } else if acc.status == AccountStatus::Provisional {
            store.set_password_hash(acc.id, &password::hash(PASSWORD)?).await?;
            store.set_account_status(acc.id, AccountStatus::Active).await?;
        }
        if acc.role != Role::Student {
            staff.push((acc.address.to_string(), acc.display_name.clone()));
        }
    }
    deliver_demo_mail(store, ms, &staff).await?;
    seed_lists(store, schools["0541234A"]).await?;
    seed_scheduling(store, schools["0541234A"], &staff).await?;
    let today = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64 / 86_400;
    crate::demo_agenda::seed(store, today).await.context("agendas et contacts de démonstration")?;
    seed_delegation(store, ms).await?;
    Ok(provisional)
}

/// The secretariat's functional mailbox is run by Claire and Paul: both read
/// and write it (`Partages/secretariat.0541234a/` in IMAP) and may send from
/// it, as it or on its behalf.
async fn seed_delegation(store: &store::Store, ms: &mailstore::Mailstore) -> anyhow::Result<()> {
    let account = |local: &str| {
        let address = format!("{local}@{DOMAIN}");
        async move {
            store
                .account_by_address(&Address::parse(&address)?)
                .await?
                .with_context(|| format!("the account {address}"))
        }
    };
    let secretariat = account("secretariat.0541234a").await?;
    let send = model::SendRights { send_as: true, on_behalf: true };
    for member in ["claire.martin", "paul.durand"] {
        let member = account(member).await?;
        ms.set_account_rights(secretariat.id, member.id, model::Rights::READ_WRITE, send).await?;
    }
    Ok(())
}

/// The collège's room (a resource: it never logs in, its calendar answers
/// invitations by itself) and the convocation to the conseil pédagogique in
/// the secretariat's calendar, scheduled like any event: Claire and Paul get
/// it to answer (also from the mail), the room accepts it.
async fn seed_scheduling(
    store: &store::Store,
    college: model::OrgUnitId,
    staff: &[(String, String)],
) -> anyhow::Result<()> {
    let room = NewAccount {
        address: Address::parse(&format!("{}@{DOMAIN}", demo_mail::ROOM))?,
        login: None,
        display_name: "Salle du conseil".into(),
        role: Role::Functional,
        status: AccountStatus::Active,
        quota_bytes: None,
        org_unit: Some(college),
        password_hash: None,
    };
    store.create_resource(&room, "salle").await?;
    let Some(event) = demo_mail::board_event(DOMAIN, staff) else { return Ok(()) };
    let secretariat = store
        .account_by_address(&Address::parse(&format!("secretariat.0541234a@{DOMAIN}"))?)
        .await?
        .context("the secretariat's account")?;
    let gw =
        groupware::Groupware::new(store.clone(), groupware::Settings::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let agenda = gw
        .collection(secretariat.id, groupware::CollectionKind::Calendar, groupware::DEFAULT_CALENDAR)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let who = groupware::scheduling::Principal {
        id: secretariat.id,
        address: secretariat.address.clone(),
        display_name: secretariat.display_name.clone(),
    };
    let name = groupware::scheduling::object_name(&demo_mail::board_uid(DOMAIN));
    gw.put_scheduled(&who, &agenda, &name, &event, groupware::Precondition::Absent)
        .await
        .map_err(|e| anyhow::anyhow!("la convocation de démonstration : {e}"))?;
    Ok(())
}

async fn deliver_demo_mail(
    store: &store::Store,
    ms: &mailstore::Mailstore,
    staff: &[(String, String)],
) -> anyhow::Result<()> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for mail in demo_mail::demo_mails(DOMAIN, staff) {
        let mut targets = Vec::new();
        for to in &mail.to {
            if let Some(acc) = store.account_by_address(&Address::parse(to)?).await? {
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
    let numens = demo_numens()?;
    let mut out = Vec::new();
    for a in store.list_accounts().await? {
        if a.status == AccountStatus::Provisional {
            let address = a.address.to_string();
            let login = a.login.clone().unwrap_or_default();
            out.push(Provisional { numen: numens.get(&address).cloned().unwrap_or_default(), address, login });
        }
    }
    Ok(out)
}

/// The demo NUMEN of each person of the demo HR file, by address (demo only:
/// a real NUMEN is never kept in clear).
fn demo_numens() -> anyhow::Result<HashMap<String, String>> {
    let rows = identity::lifecycle::format::parse(STAFF_CSV.as_bytes())
        .map_err(|e| anyhow::anyhow!("demo/staff.csv: {}", e.first().map(ToString::to_string).unwrap_or_default()))?;
    Ok(rows
        .into_iter()
        .map(|r| (format!("{}@{DOMAIN}", model::translit::local_part(&r.prenom, &r.nom)), r.numen))
        .collect())
}

/// The staff that the demo leaves provisional: the first lines after the named accounts.
fn provisional_addresses() -> Vec<String> {
    let named: Vec<String> = NAMED.iter().map(|n| format!("{}@{DOMAIN}", n.0)).collect();
    STAFF_CSV
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(';').collect();
            (f.len() > 4 && f[4] != "élève").then(|| format!("{}@{DOMAIN}", model::translit::local_part(f[3], f[2])))
        })
        .filter(|a| !named.contains(a))
        .take(PROVISIONAL)
        .collect()
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
            "http" => "Web (HTTP sans TLS, démo locale / plain HTTP, local demo)",
            "submission" => "Soumission / submission (STARTTLS)",
            "submissions" => "Soumission / submission (TLS implicite)",
            "managesieve" => "ManageSieve (filtres / filters, STARTTLS)",
            "metrics" => "Métriques Prometheus / metrics (/metrics)",
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
            println!("    {:<36} identifiant {:<14} NUMEN (démo) : {}", p.address, p.login, p.numen);
        }
    }
    println!();
    println!(
        "  Essayer / try:  python3 -c \"import smtplib; smtplib.SMTP('127.0.0.1', {SMTP_PORT}).sendmail('parent@example.org', ['claire.martin@{DOMAIN}'], 'Subject: Bonjour\\n\\nCoucou')\""
    );
    println!(
        "  Courrier vers l'extérieur / outgoing mail: capturé dans / captured in {} (IMAP, même mot de passe)",
        crate::outbox::address(DOMAIN)
    );
    println!("  Administration: ardoise admin --config {}/ardoise.toml account list", data.display());
    println!("  Arrêter / stop: Ctrl-C");
}

/// Two distribution lists of the collège: every teacher, computed from the
/// directory at each posting (local staff post freely), and a moderated
/// discussion group (members post; Claire moderates the rest).
async fn seed_lists(store: &store::Store, college: model::OrgUnitId) -> anyhow::Result<()> {
    let list = |local: &str, name: &str, kind: lists::ListKind, policy: lists::PostPolicy| store::NewList {
        address: Address::parse(&format!("{local}@{DOMAIN}")).expect("demo address"),
        name: name.into(),
        description: String::new(),
        kind: kind.as_str().into(),
        unit: (kind == lists::ListKind::Dynamic).then_some(college),
        role: (kind == lists::ListKind::Dynamic).then(|| Role::Teacher.as_str().into()),
        post_policy: policy.as_str().into(),
        discussion: kind == lists::ListKind::Static,
        tag: (kind == lists::ListKind::Static).then(|| "Conseil".into()),
    };
    use lists::{ListKind, PostPolicy};
    store
        .create_list(&list(
            "enseignants.0541234a",
            "Enseignants du collège Jules Ferry",
            ListKind::Dynamic,
            PostPolicy::Local,
        ))
        .await?;
    let conseil = store
        .create_list(&list("conseil.0541234a", "Conseil pédagogique", ListKind::Static, PostPolicy::Members))
        .await?;
    for member in ["claire.martin", "paul.durand"] {
        store.add_list_member(conseil.id, &format!("{member}@{DOMAIN}")).await?;
    }
    if let Some(claire) = store.account_by_address(&Address::parse(&format!("claire.martin@{DOMAIN}"))?).await? {
        store.set_list_moderator(conseil.id, claire.id, true).await?;
    }
    Ok(())
}
