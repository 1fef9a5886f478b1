//! `ardoise quickstart`: from nothing to a configured server, as an
//! académie's administrator would start. It asks for (or takes) the mail
//! domain and the host name, writes the configuration (never over an
//! existing file), creates the database, the domain and its DKIM key,
//! prints every DNS record to publish, checks what it can from here (the
//! configuration, the data folder, the ports, the host name's address) and
//! says how to start. `--yes` takes the defaults without asking, for scripts.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use model::Domain;

use crate::{dns_cli, outbound, serve};

#[derive(clap::Args)]
pub struct QuickstartArgs {
    /// Domaine de messagerie (ac-exemple.fr) / mail domain.
    #[arg(long)]
    pub domain: Option<String>,
    /// Nom du serveur (par défaut mail.<domaine>) / host name (default mail.<domain>).
    #[arg(long)]
    pub hostname: Option<String>,
    /// Fichier de configuration à écrire / configuration file to write.
    #[arg(long, default_value = "/etc/ardoise/ardoise.toml")]
    pub config: PathBuf,
    /// Dossier des données / data folder.
    #[arg(long, default_value = "/var/lib/ardoise")]
    pub data: PathBuf,
    /// Base PostgreSQL (postgres://…) ; SQLite dans le dossier des données sinon.
    #[arg(long)]
    pub store_url: Option<String>,
    /// Sans question : les valeurs données et par défaut / no questions asked.
    #[arg(long)]
    pub yes: bool,
}

/// The answers, checked.
struct Plan {
    domain: Domain,
    host: String,
    config: PathBuf,
    data: PathBuf,
    store_url: Option<String>,
}

pub async fn run(args: QuickstartArgs) -> anyhow::Result<ExitCode> {
    let plan = ask(args)?;
    if plan.config.exists() {
        bail!(
            "{} existe déjà : quickstart n'écrase rien (vérifiez-le avec `ardoise config check --config {0}`) / \
             already exists: quickstart overwrites nothing",
            plan.config.display()
        );
    }
    let text = configuration(&plan);
    let cfg = config::check(&text).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        anyhow::anyhow!("configuration produite invalide / generated configuration invalid:\n{}", lines.join("\n"))
    })?;
    if let Some(dir) = plan.config.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("création de {}", dir.display()))?;
    }
    write_new(&plan.config, &text)?;
    println!("✓ configuration écrite / written: {}", plan.config.display());

    let opened = serve::open(&cfg).await?;
    if !opened.store.list_domains().await?.iter().any(|d| d == &plan.domain) {
        opened.store.add_domain(&plan.domain).await?;
    }
    println!("✓ base et domaine prêts / database and domain ready: {}", plan.domain);
    outbound::dkim_keys(&cfg, &opened.store).await?;
    println!("✓ clé DKIM créée / DKIM key created ({})", cfg.server.data_dir.join("dkim").display());
    println!(
        "  Le certificat TLS est autosigné au premier démarrage : remplacez-le ([tls] cert, key) / \
         a self-signed TLS certificate is made at first start: replace it ([tls] cert, key)."
    );
    println!();
    dns_cli::run(&cfg).await?;
    println!();
    checks(&plan, &cfg);
    println!();
    println!("Pour démarrer / to start:");
    println!("  ardoise serve --config {}", plan.config.display());
    println!("  ou, avec systemd : packaging/systemd/ardoise.service dans /etc/systemd/system/, puis");
    println!("  systemctl enable --now ardoise");
    println!("Puis créez les comptes / then create accounts:");
    println!(
        "  ardoise admin --config {} account create prenom.nom@{} --name \"Prénom Nom\"",
        plan.config.display(),
        plan.domain
    );
    println!("  (ou importez le fichier RH / or import the HR file: ardoise directory --help)");
    Ok(ExitCode::SUCCESS)
}

/// Fills in what the arguments left out: asked on a terminal, defaults with `--yes`.
fn ask(args: QuickstartArgs) -> anyhow::Result<Plan> {
    let interactive = !args.yes && std::io::stdin().is_terminal();
    let mut input = std::io::stdin().lock();
    let mut question = |label: &str, default: Option<&str>| -> anyhow::Result<String> {
        if !interactive {
            return default.map(str::to_owned).with_context(|| format!("{label} : requis avec --yes / required"));
        }
        match default {
            Some(d) => print!("{label} [{d}] : "),
            None => print!("{label} : "),
        }
        std::io::stdout().flush()?;
        let mut line = String::new();
        input.read_line(&mut line)?;
        let line = line.trim();
        Ok(if line.is_empty() { default.unwrap_or_default().to_owned() } else { line.to_owned() })
    };
    let domain = match args.domain {
        Some(d) => d,
        None => question("Domaine de messagerie / mail domain (ac-exemple.fr)", None)?,
    };
    let domain = Domain::parse(domain.trim()).map_err(|e| anyhow::anyhow!("domaine « {domain} » : {e}"))?;
    let host = match args.hostname {
        Some(h) => h,
        None => question("Nom du serveur / host name", Some(&format!("mail.{domain}")))?,
    };
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    if Domain::parse(&host).is_err() || !host.contains('.') {
        bail!("nom du serveur « {host} » invalide : un nom complet comme mail.{domain} / invalid host name");
    }
    // Absolute, so the configuration works from any directory (systemd starts in /).
    let data = std::path::absolute(&args.data)?;
    let config = std::path::absolute(&args.config)?;
    Ok(Plan { domain, host, config, data, store_url: args.store_url })
}

/// The configuration file: the production ports, everything else default
/// (`ardoise config sample` lists every key).
fn configuration(plan: &Plan) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let store = match &plan.store_url {
        Some(url) => format!("\n[store]\nurl = {}\n", quote(url)),
        None => String::new(),
    };
    format!(
        "# Écrit par `ardoise quickstart` / written by `ardoise quickstart`.\n\
         # Toutes les clés, commentées / every key, commented: `ardoise config sample`.\n\
         \n[server]\nhostname = {host}\ndata_dir = {data}\n{store}\
         \n[smtp]\nlisten = [\"0.0.0.0:25\"]\n\
         \n[submission]\nlisten = [\"0.0.0.0:587\"]\nlisten_tls = [\"0.0.0.0:465\"]\n\
         \n[imap]\nlisten = [\"0.0.0.0:143\"]\nlisten_tls = [\"0.0.0.0:993\"]\n\
         \n[managesieve]\nlisten = [\"0.0.0.0:4190\"]\n\
         \n[web]\nlisten_tls = [\"0.0.0.0:443\"]\npublic_url = {url}\n\
         \n# Prometheus, sur la boucle locale seulement / on the loopback only.\n\
         [metrics]\nlisten = [\"127.0.0.1:9464\"]\n\
         \n[log]\nlevel = \"info\"\n",
        host = quote(&plan.host),
        data = quote(&plan.data.to_string_lossy()),
        url = quote(&format!("https://{}", plan.host)),
    )
}

fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("écriture de {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// What can be checked from here, each with what to do about it.
fn checks(plan: &Plan, cfg: &config::Config) {
    println!("Vérifications / checks:");
    let probe = cfg.server.data_dir.join(".quickstart-probe");
    match std::fs::write(&probe, b"ok").and_then(|()| std::fs::remove_file(&probe)) {
        Ok(()) => println!("  ✓ dossier des données accessible en écriture / data folder writable"),
        Err(e) => println!("  ✗ {} : {e}", cfg.server.data_dir.display()),
    }
    let ports = [
        (25, "SMTP"),
        (465, "submission TLS"),
        (587, "submission"),
        (143, "IMAP"),
        (993, "IMAPS"),
        (4190, "ManageSieve"),
        (443, "HTTPS"),
    ];
    for (port, name) in ports {
        match std::net::TcpListener::bind(("0.0.0.0", port)) {
            Ok(_) => println!("  ✓ port {port} ({name}) libre / free"),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => println!(
                "  ! port {port} ({name}) : il faut CAP_NET_BIND_SERVICE (l'unité systemd le donne) / needs CAP_NET_BIND_SERVICE"
            ),
            Err(e) => println!("  ✗ port {port} ({name}) : {e} (un autre serveur ? / another server?)"),
        }
    }
    use std::net::ToSocketAddrs;
    match (plan.host.as_str(), 25).to_socket_addrs() {
        Ok(mut addrs) => match addrs.next() {
            Some(a) => println!("  ✓ {} → {}", plan.host, a.ip()),
            None => println!("  ! {} n'a pas d'adresse : publiez A/AAAA / has no address: publish A/AAAA", plan.host),
        },
        Err(_) => println!("  ! {} ne se résout pas encore : publiez A/AAAA / does not resolve yet", plan.host),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_configuration_is_valid_and_production_ready() {
        let plan = Plan {
            domain: Domain::parse("ac-exemple.fr").unwrap(),
            host: "mail.ac-exemple.fr".into(),
            config: "/etc/ardoise/ardoise.toml".into(),
            data: "/var/lib/ardoise".into(),
            store_url: Some("postgres://ardoise@127.0.0.1/ardoise".into()),
        };
        let cfg = config::check(&configuration(&plan)).unwrap();
        assert_eq!(cfg.server.hostname, "mail.ac-exemple.fr");
        assert_eq!(cfg.web.public_url, "https://mail.ac-exemple.fr");
        assert_eq!(cfg.store_url(), "postgres://ardoise@127.0.0.1/ardoise");
        assert_eq!(cfg.imap.listen_tls.len(), 1);
    }
}
