//! Every configuration key: its section, default (as TOML), documentation and
//! how it is validated. Adding a key means adding one entry here.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::value::Val;
use crate::{Config, parse_duration_secs, parse_size};

/// One key of the configuration file.
pub struct Field {
    pub section: &'static str,
    pub key: &'static str,
    /// The default, written as it would appear in the file.
    pub default: &'static str,
    /// One or more comment lines, French first then English.
    pub doc: &'static str,
    pub(crate) apply: fn(&mut Config, &Val) -> Result<(), String>,
}

pub(crate) fn string(v: &Val) -> Result<String, String> {
    match v {
        Val::Str(s) => Ok(s.clone()),
        other => Err(format!("texte attendu, trouvé {}", describe(other))),
    }
}

fn non_empty(v: &Val) -> Result<String, String> {
    let s = string(v)?;
    if s.trim().is_empty() { Err("ne doit pas être vide".into()) } else { Ok(s) }
}

pub(crate) fn optional_path(v: &Val) -> Result<Option<PathBuf>, String> {
    let s = string(v)?;
    Ok((!s.is_empty()).then(|| PathBuf::from(s)))
}

fn count(v: &Val, min: i64, max: i64) -> Result<u64, String> {
    match v {
        Val::Int(n) if (min..=max).contains(n) => Ok(*n as u64),
        Val::Int(n) => Err(format!("{n} hors de l'intervalle {min}..={max}")),
        other => Err(format!("entier attendu, trouvé {}", describe(other))),
    }
}

pub(crate) fn size(v: &Val) -> Result<u64, String> {
    match v {
        Val::Int(n) if *n > 0 => Ok(*n as u64),
        Val::Str(s) => {
            parse_size(s).filter(|n| *n > 0).ok_or_else(|| format!("taille invalide « {s} » (ex. \"20M\", \"2G\")"))
        }
        other => Err(format!("taille attendue (ex. \"20M\"), trouvé {}", describe(other))),
    }
}

pub(crate) fn duration(v: &Val) -> Result<u64, String> {
    match v {
        Val::Int(n) if *n > 0 => Ok(*n as u64),
        Val::Str(s) => parse_duration_secs(s)
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("durée invalide « {s} » (ex. \"300s\", \"5m\")")),
        other => Err(format!("durée attendue (ex. \"5m\"), trouvé {}", describe(other))),
    }
}

fn addresses(v: &Val) -> Result<Vec<SocketAddr>, String> {
    let Val::List(items) = v else {
        return Err(format!("liste d'adresses attendue (ex. [\"0.0.0.0:25\"]), trouvé {}", describe(v)));
    };
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for item in items {
        match item {
            Val::Str(s) => match s.parse::<SocketAddr>() {
                Ok(a) => out.push(a),
                Err(_) => bad.push(format!("« {s} »")),
            },
            other => bad.push(describe(other).to_owned()),
        }
    }
    if bad.is_empty() { Ok(out) } else { Err(format!("adresse:port invalide : {}", bad.join(", "))) }
}

/// A spam score: a number between 0 and 10,000.
fn score(v: &Val) -> Result<f64, String> {
    let x = match v {
        Val::Float(x) => *x,
        Val::Int(n) => *n as f64,
        other => return Err(format!("un nombre attendu, pas {}", describe(other))),
    };
    if !(0.0..=10_000.0).contains(&x) {
        return Err("entre 0 et 10000 attendu".into());
    }
    Ok(x)
}

pub(crate) fn boolean(v: &Val) -> Result<bool, String> {
    match v {
        Val::Bool(b) => Ok(*b),
        other => Err(format!("true ou false attendu, trouvé {}", describe(other))),
    }
}

fn describe(v: &Val) -> &'static str {
    match v {
        Val::Str(_) => "du texte",
        Val::Int(_) => "un entier",
        Val::Bool(_) => "un booléen",
        Val::Float(_) => "un nombre décimal",
        Val::List(_) => "une liste",
        Val::Other(what) => what,
    }
}

fn day_counts(v: &Val) -> Result<Vec<u64>, String> {
    let Val::List(items) = v else {
        return Err(format!("liste de nombres de jours attendue (ex. [14, 3]), trouvé {}", describe(v)));
    };
    items.iter().map(|i| count(i, 1, 365)).collect()
}

/// A duration where 0 (or "0s") means "off".
fn duration_or_off(v: &Val) -> Result<u64, String> {
    match v {
        Val::Int(0) => Ok(0),
        Val::Str(s) if parse_duration_secs(s) == Some(0) => Ok(0),
        other => duration(other),
    }
}

/// Networks as `address/prefix` (a bare address is one host), checked here
/// so that a typo stops the server at start rather than trusting nothing.
fn networks(v: &Val) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for s in strings(v)? {
        let s = s.trim().to_owned();
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s.as_str(), None),
        };
        let ip: std::net::IpAddr = addr.parse().map_err(|_| format!("réseau invalide : {s}"))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        match prefix {
            None => out.push(format!("{ip}/{max}")),
            Some(p) if p.parse::<u8>().is_ok_and(|p| p <= max) => out.push(s.clone()),
            Some(_) => return Err(format!("réseau invalide : {s}")),
        }
    }
    Ok(out)
}

/// DNS zones (blocklists): names of letters, digits, `-` and dots.
fn zones(v: &Val) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for zone in strings(v)? {
        let zone = zone.trim().trim_end_matches('.').to_ascii_lowercase();
        let ok = zone.contains('.')
            && zone.len() <= 200
            && zone.split('.').all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        if !ok {
            return Err(format!("zone DNS invalide : {zone}"));
        }
        out.push(zone);
    }
    Ok(out)
}

pub(crate) fn strings(v: &Val) -> Result<Vec<String>, String> {
    let Val::List(items) = v else {
        return Err(format!("liste de textes attendue, trouvé {}", describe(v)));
    };
    items.iter().map(string).collect()
}

/// Every key, in the order of the sample file.
pub fn fields() -> impl Iterator<Item = &'static Field> {
    FIELDS
        .iter()
        .chain(crate::fields_acme::ACME)
        .chain(crate::fields_sharing::SHARING)
        .chain(crate::fields_cluster::CLUSTER)
        .chain(crate::fields_blob::BLOB)
        .chain(crate::fields_upstream::UPSTREAM)
}

/// The keys of the sections not yet in a file of their own.
pub static FIELDS: &[Field] = &[
    Field {
        section: "server",
        key: "hostname",
        default: "\"localhost\"",
        doc: "Nom de cette machine dans les bannières et les en-têtes Received:.\nHost name used in greetings and Received: headers.",
        apply: |c, v| {
            c.server.hostname = non_empty(v)?;
            Ok(())
        },
    },
    Field {
        section: "server",
        key: "data_dir",
        default: "\"ardoise-data\"",
        doc: "Dossier des données (base, messages, certificats).\nData folder (database, messages, certificates).",
        apply: |c, v| {
            c.server.data_dir = PathBuf::from(non_empty(v)?);
            Ok(())
        },
    },
    Field {
        section: "store",
        key: "url",
        default: "\"\"",
        doc: "Base de métadonnées : vide = SQLite dans data_dir ; sinon sqlite://chemin ou postgres://….\nMetadata store: empty = SQLite in data_dir; else sqlite://path or postgres://….",
        apply: |c, v| {
            c.store.url = Some(string(v)?).filter(|s| !s.is_empty());
            Ok(())
        },
    },
    Field {
        section: "tls",
        key: "cert",
        default: "\"\"",
        doc: "Certificat PEM ; vide = certificat auto-signé créé au premier démarrage.\nPEM certificate chain; empty = self-signed certificate made on first start.",
        apply: |c, v| {
            c.tls.cert = optional_path(v)?;
            Ok(())
        },
    },
    Field {
        section: "tls",
        key: "key",
        default: "\"\"",
        doc: "Clé privée PEM du certificat.\nPEM private key of the certificate.",
        apply: |c, v| {
            c.tls.key = optional_path(v)?;
            Ok(())
        },
    },
    Field {
        section: "smtp",
        key: "listen",
        default: "[\"0.0.0.0:25\"]",
        doc: "Adresses d'écoute SMTP entrant (rôle MX) ; port 0 = port libre choisi au démarrage.\nIncoming SMTP (MX) listen addresses; port 0 = any free port.",
        apply: |c, v| {
            c.smtp.listen = addresses(v)?;
            Ok(())
        },
    },
    Field {
        section: "smtp",
        key: "max_message_size",
        default: "\"20M\"",
        doc: "Taille maximale d'un message.\nLargest accepted message.",
        apply: |c, v| {
            c.smtp.max_message_size = size(v)?;
            Ok(())
        },
    },
    Field {
        section: "smtp",
        key: "max_recipients",
        default: "1000",
        doc: "Destinataires au plus par message.\nMost recipients per message.",
        apply: |c, v| {
            c.smtp.max_recipients = count(v, 1, 100_000)?;
            Ok(())
        },
    },
    Field {
        section: "smtp",
        key: "max_line_length",
        default: "4096",
        doc: "Longueur maximale d'une ligne de commande.\nLongest command line.",
        apply: |c, v| {
            c.smtp.max_line_length = count(v, 512, 1 << 20)?;
            Ok(())
        },
    },
    Field {
        section: "smtp",
        key: "max_commands",
        default: "1000",
        doc: "Commandes au plus entre deux messages acceptés.\nMost commands between two accepted messages.",
        apply: |c, v| {
            c.smtp.max_commands = count(v, 10, 1_000_000)?;
            Ok(())
        },
    },
    Field {
        section: "smtp",
        key: "max_errors",
        default: "10",
        doc: "Erreurs tolérées avant de fermer la session.\nErrors tolerated before the session is closed.",
        apply: |c, v| {
            c.smtp.max_errors = count(v, 1, 1000)?;
            Ok(())
        },
    },
    Field {
        section: "smtp",
        key: "idle_timeout",
        default: "\"5m\"",
        doc: "Inactivité maximale d'un client.\nLongest a client may stay silent.",
        apply: |c, v| {
            c.smtp.idle_timeout_secs = duration(v)?;
            Ok(())
        },
    },
    Field {
        section: "smtp",
        key: "max_connections",
        default: "2000",
        doc: "Connexions SMTP simultanées au plus.\nMost simultaneous SMTP connections.",
        apply: |c, v| {
            c.smtp.max_connections = count(v, 1, 1_000_000)?;
            Ok(())
        },
    },
    Field {
        section: "smtp",
        key: "max_connections_per_ip",
        default: "20",
        doc: "Connexions simultanées au plus depuis une même adresse (un /64 en IPv6), pour le MX comme pour la soumission.\nMost simultaneous connections from one address (an IPv6 /64), for the MX and for submission.",
        apply: |c, v| {
            c.smtp.max_connections_per_ip = count(v, 1, 1_000_000)?;
            Ok(())
        },
    },
    Field {
        section: "smtp",
        key: "command_timeout",
        default: "\"5m\"",
        doc: "Durée maximale pour recevoir une commande entière, même si le client envoie un octet de temps en temps.\nLongest time to receive one whole command, even from a client that trickles bytes.",
        apply: |c, v| {
            c.smtp.command_timeout_secs = duration(v)?;
            Ok(())
        },
    },
    Field {
        section: "smtp",
        key: "transaction_timeout",
        default: "\"30m\"",
        doc: "Durée maximale d'une transaction, de MAIL FROM à la fin du message.\nLongest time for one transaction, from MAIL FROM to the end of the message.",
        apply: |c, v| {
            c.smtp.transaction_timeout_secs = duration(v)?;
            Ok(())
        },
    },
    Field {
        section: "smtp",
        key: "data_min_rate",
        default: "\"1K\"",
        doc: "Débit moyen minimal (octets par seconde) d'un message après une minute ; en dessous, la connexion est coupée.\nLowest average rate (bytes per second) of a message after one minute; a slower sender is cut off.",
        apply: |c, v| {
            c.smtp.data_min_rate = size(v)?;
            Ok(())
        },
    },
    Field {
        section: "smtp",
        key: "body_memory",
        default: "\"128M\"",
        doc: "Mémoire au plus pour les messages en cours de réception (au-delà de 256 Kio, un message va dans un fichier temporaire) ; épuisée, la réponse est 452.\nMost memory for messages being received (past 256 KiB a message goes to a temporary file); when spent, the reply is 452.",
        apply: |c, v| {
            c.smtp.body_memory = size(v)?;
            Ok(())
        },
    },
    Field {
        section: "imap",
        key: "listen",
        default: "[\"0.0.0.0:143\"]",
        doc: "Adresses d'écoute IMAP en clair avec STARTTLS ; [] pour aucune.\nIMAP listen addresses (cleartext, STARTTLS); [] for none.",
        apply: |c, v| {
            c.imap.listen = addresses(v)?;
            Ok(())
        },
    },
    Field {
        section: "imap",
        key: "listen_tls",
        default: "[\"0.0.0.0:993\"]",
        doc: "Adresses d'écoute IMAP avec TLS implicite.\nIMAP listen addresses with implicit TLS.",
        apply: |c, v| {
            c.imap.listen_tls = addresses(v)?;
            Ok(())
        },
    },
    Field {
        section: "imap",
        key: "allow_plaintext_loopback",
        default: "false",
        doc: "Autoriser la connexion sans TLS depuis 127.0.0.1 (proxy local, tests).\nAllow logins without TLS from the loopback address (local proxy, tests).",
        apply: |c, v| {
            c.imap.allow_plaintext_loopback = boolean(v)?;
            Ok(())
        },
    },
    Field {
        section: "imap",
        key: "max_line_length",
        default: "65536",
        doc: "Longueur maximale d'une ligne de commande (hors littéraux).\nLongest command line (literals excluded).",
        apply: |c, v| {
            c.imap.max_line_length = count(v, 1024, 1 << 24)?;
            Ok(())
        },
    },
    Field {
        section: "imap",
        key: "max_message_size",
        default: "\"64M\"",
        doc: "Taille maximale d'un message déposé par APPEND (et d'un littéral).\nLargest message accepted by APPEND (and largest literal).",
        apply: |c, v| {
            c.imap.max_message_size = size(v)?;
            Ok(())
        },
    },
    Field {
        section: "imap",
        key: "idle_timeout",
        default: "\"30m\"",
        doc: "Inactivité maximale d'un client connecté (au moins 30 minutes selon la RFC).\nLongest an authenticated client may stay silent (the RFC asks for at least 30 minutes).",
        apply: |c, v| {
            c.imap.idle_timeout_secs = duration(v)?;
            Ok(())
        },
    },
    Field {
        section: "imap",
        key: "max_connections",
        default: "10000",
        doc: "Connexions IMAP simultanées au plus, par adresse d'écoute.\nMost simultaneous IMAP connections, per listen address.",
        apply: |c, v| {
            c.imap.max_connections = count(v, 1, 1_000_000)?;
            Ok(())
        },
    },
    Field {
        section: "imap",
        key: "max_connections_per_ip",
        default: "100",
        doc: "Connexions IMAP simultanées au plus depuis une même adresse.\nMost simultaneous IMAP connections from one address.",
        apply: |c, v| {
            c.imap.max_connections_per_ip = count(v, 1, 1_000_000)?;
            Ok(())
        },
    },
    Field {
        section: "imap",
        key: "max_connections_per_user",
        default: "30",
        doc: "Sessions IMAP simultanées au plus pour un même compte.\nMost simultaneous IMAP sessions of one account.",
        apply: |c, v| {
            c.imap.max_connections_per_user = count(v, 1, 100_000)?;
            Ok(())
        },
    },
    Field {
        section: "managesieve",
        key: "listen",
        default: "[]",
        doc: "Adresses d'écoute ManageSieve (filtres Sieve, STARTTLS), par exemple [\"0.0.0.0:4190\"] ; aucune par défaut.\nManageSieve listen addresses (Sieve filters, STARTTLS), for example [\"0.0.0.0:4190\"]; none by default.",
        apply: |c, v| {
            c.managesieve.listen = addresses(v)?;
            Ok(())
        },
    },
    Field {
        section: "managesieve",
        key: "allow_plaintext_loopback",
        default: "false",
        doc: "Autoriser l'authentification sans TLS depuis 127.0.0.1 (proxy local, tests).\nAllow authentication without TLS from the loopback address (local proxy, tests).",
        apply: |c, v| {
            c.managesieve.allow_plaintext_loopback = boolean(v)?;
            Ok(())
        },
    },
    Field {
        section: "managesieve",
        key: "max_script_size",
        default: "\"64K\"",
        doc: "Taille maximale d'un script Sieve.\nLargest Sieve script.",
        apply: |c, v| {
            let bytes = size(v)?;
            if !(1024..=1024 * 1024).contains(&bytes) {
                return Err("entre 1K et 1M attendu".into());
            }
            c.managesieve.max_script_size = bytes;
            Ok(())
        },
    },
    Field {
        section: "managesieve",
        key: "max_scripts",
        default: "20",
        doc: "Nombre maximal de scripts Sieve par compte.\nMost Sieve scripts per account.",
        apply: |c, v| {
            c.managesieve.max_scripts = count(v, 1, 1000)?;
            Ok(())
        },
    },
    Field {
        section: "managesieve",
        key: "idle_timeout",
        default: "\"10m\"",
        doc: "Inactivité maximale d'un client ManageSieve.\nLongest a ManageSieve client may stay silent.",
        apply: |c, v| {
            c.managesieve.idle_timeout_secs = duration(v)?;
            Ok(())
        },
    },
    Field {
        section: "forwarding",
        key: "policy",
        default: "\"internal\"",
        doc: "Transfert automatique (règles Sieve, webmail) hors des domaines de l'installation : \"internal\" (jamais), \"domains\" (vers les domaines listés) ou \"anywhere\".\nAutomatic forwarding outside the installation's domains: \"internal\" (never), \"domains\" (to the listed domains) or \"anywhere\".",
        apply: |c, v| {
            c.forwarding.policy = match string(v)?.as_str() {
                "internal" => crate::ForwardingPolicy::Internal,
                "domains" => crate::ForwardingPolicy::Domains,
                "anywhere" => crate::ForwardingPolicy::Anywhere,
                other => return Err(format!("« {other} » : \"internal\", \"domains\" ou \"anywhere\" attendu")),
            };
            Ok(())
        },
    },
    Field {
        section: "forwarding",
        key: "domains",
        default: "[]",
        doc: "Avec policy = \"domains\" : domaines vers lesquels le transfert est permis (sous-domaines compris).\nWith policy = \"domains\": where forwarding may go (subdomains included).",
        apply: |c, v| {
            c.forwarding.domains = strings(v)?
                .iter()
                .map(|d| model::Domain::parse(d).map_err(|_| format!("domaine invalide : {d}")))
                .collect::<Result<_, _>>()?;
            Ok(())
        },
    },
    Field {
        section: "quota",
        key: "default",
        default: "\"2G\"",
        doc: "Quota des nouveaux comptes ; \"0\" = illimité.\nQuota of new accounts; \"0\" = unlimited.",
        apply: |c, v| {
            c.quota.default_bytes = match v {
                Val::Str(s) if s.trim() == "0" => None,
                Val::Int(0) => None,
                other => Some(size(other)?),
            };
            Ok(())
        },
    },
    Field {
        section: "mail",
        key: "undelete_days",
        default: "30",
        doc: "Jours pendant lesquels un message supprimé définitivement reste restaurable (« Messages supprimés\n\
              récemment », ardoise admin message deleted) ; 0 = purgé au prochain ménage.\n\
              Days a deleted message stays restorable; 0 = purged at the next housekeeping.",
        apply: |c, v| {
            c.mail.undelete_days = count(v, 0, 3650)?;
            Ok(())
        },
    },
    Field {
        section: "mail",
        key: "trash_days",
        default: "30",
        doc: "Jours après lesquels un message placé dans la Corbeille est supprimé (restaurable ensuite\n\
              undelete_days jours) ; 0 = jamais.\n\
              Days after which a message put in the Trash is deleted (then restorable); 0 = never.",
        apply: |c, v| {
            c.mail.trash_days = count(v, 0, 3650)?;
            Ok(())
        },
    },
    Field {
        section: "mail",
        key: "junk_days",
        default: "30",
        doc: "Jours après lesquels un message des Indésirables est supprimé ; 0 = jamais.\n\
              Days after which a message in Junk is deleted; 0 = never.",
        apply: |c, v| {
            c.mail.junk_days = count(v, 0, 3650)?;
            Ok(())
        },
    },
    Field {
        section: "mail",
        key: "archive_days",
        default: "0",
        doc: "Archivage automatique par défaut : les messages de la boîte de réception plus anciens que ce\n\
              nombre de jours vont dans Archives/AAAA ; chacun peut choisir dans Réglages ; 0 = jamais.\n\
              Default automatic archiving: Inbox messages older than this go to Archives/YYYY; 0 = never.",
        apply: |c, v| {
            c.mail.archive_days = count(v, 0, 36500)?;
            Ok(())
        },
    },
    Field {
        section: "mail",
        key: "housekeeping_interval",
        default: "\"1h\"",
        doc: "Intervalle du ménage (purge, corbeille, archivage, alertes de quota) ; aussi\n\
              `ardoise admin housekeeping run`.\n\
              How often housekeeping runs; `ardoise admin housekeeping run` runs it now.",
        apply: |c, v| {
            c.mail.housekeeping_interval_secs = duration(v)?;
            Ok(())
        },
    },
    Field {
        section: "export",
        key: "max_size",
        default: "\"4G\"",
        doc: "Taille maximale d'un export demandé dans le webmail (Réglages → Exporter mes données) ; au-delà,\n\
              l'utilisateur est invité à s'adresser à l'assistance ; \"0\" = sans limite.\n\
              Largest export a user may build from the webmail; \"0\" = no cap.",
        apply: |c, v| {
            c.export.max_bytes = match v {
                Val::Str(s) if s.trim() == "0" => None,
                Val::Int(0) => None,
                other => Some(size(other)?),
            };
            Ok(())
        },
    },
    Field {
        section: "export",
        key: "keep",
        default: "\"24h\"",
        doc: "Durée pendant laquelle un export prêt attend son unique téléchargement, puis est effacé.\n\
              How long a finished export waits for its one download before it is deleted.",
        apply: |c, v| {
            c.export.keep_secs = duration(v)?;
            Ok(())
        },
    },
    Field {
        section: "log",
        key: "level",
        default: "\"info\"",
        doc: "Filtre des journaux (ex. \"info\", \"ardoise=debug,info\").\nLog filter.",
        apply: |c, v| {
            c.log.level = non_empty(v)?;
            Ok(())
        },
    },
    Field {
        section: "log",
        key: "json",
        default: "false",
        doc: "Journaux en JSON, un objet par ligne (pour un collecteur de journaux).\nLogs as JSON, one object per line (for a log collector).",
        apply: |c, v| {
            c.log.json = boolean(v)?;
            Ok(())
        },
    },
    Field {
        section: "metrics",
        key: "listen",
        default: "[]",
        doc: "Adresses d'écoute de /metrics (Prometheus, HTTP simple), par exemple [\"127.0.0.1:9464\"] ; aucune par défaut.\nWhere /metrics is served (Prometheus, plain HTTP), for example [\"127.0.0.1:9464\"]; none by default.",
        apply: |c, v| {
            c.metrics.listen = addresses(v)?;
            Ok(())
        },
    },
    Field {
        section: "metrics",
        key: "token_file",
        default: "\"\"",
        doc: "Fichier contenant le jeton que Prometheus présente (Authorization: Bearer) ; obligatoire hors de 127.0.0.1.\nFile holding the token Prometheus presents (Authorization: Bearer); required off the loopback.",
        apply: |c, v| {
            c.metrics.token_file = optional_path(v)?;
            Ok(())
        },
    },
    Field {
        section: "submission",
        key: "listen",
        default: "[\"0.0.0.0:587\"]",
        doc: "Adresses d'écoute de la soumission (STARTTLS obligatoire avant AUTH) ; [] pour aucune.\nSubmission listen addresses (STARTTLS required before AUTH); [] for none.",
        apply: |c, v| {
            c.submission.listen = addresses(v)?;
            Ok(())
        },
    },
    Field {
        section: "submission",
        key: "listen_tls",
        default: "[\"0.0.0.0:465\"]",
        doc: "Adresses d'écoute de la soumission avec TLS implicite.\nSubmission listen addresses with implicit TLS.",
        apply: |c, v| {
            c.submission.listen_tls = addresses(v)?;
            Ok(())
        },
    },
    Field {
        section: "submission",
        key: "max_messages_per_hour",
        default: "200",
        doc: "Messages envoyés au plus par heure et par utilisateur (au-delà : 450 4.7.1).\nMost messages a user may send per hour (then 450 4.7.1).",
        apply: |c, v| {
            c.submission.max_messages_per_hour = count(v, 1, 10_000_000)?;
            Ok(())
        },
    },
    Field {
        section: "submission",
        key: "max_recipients_per_hour",
        default: "2000",
        doc: "Destinataires au plus par heure et par utilisateur.\nMost recipients a user may send to per hour.",
        apply: |c, v| {
            c.submission.max_recipients_per_hour = count(v, 1, 100_000_000)?;
            Ok(())
        },
    },
    Field {
        section: "submission",
        key: "role_limits",
        default: "[]",
        doc: "Limites par rôle, « rôle=messages/destinataires » (ex. \"direction=1000/20000\").\nPer-role limits, \"role=messages/recipients\".",
        apply: |c, v| {
            c.submission.role_limits = strings(v)?;
            Ok(())
        },
    },
    Field {
        section: "outbound",
        key: "mx_override",
        default: "[]",
        doc: "Routes statiques « domaine=ip:port » utilisées au lieu des MX (« * » pour tous).\nStatic routes \"domain=ip:port\" used instead of MX records (\"*\" for all).",
        apply: |c, v| {
            c.outbound.mx_override = strings(v)?;
            Ok(())
        },
    },
    Field {
        section: "outbound",
        key: "dns_override_file",
        default: "\"\"",
        doc: "Table DNS statique (lignes « nom TXT valeur ») pour SPF/DKIM/DMARC ; vide = DNS réel.\nStatic DNS table (\"name TXT value\" lines) for SPF/DKIM/DMARC; empty = real DNS.",
        apply: |c, v| {
            c.outbound.dns_override_file = optional_path(v)?;
            Ok(())
        },
    },
    Field {
        section: "outbound",
        key: "retry_first",
        default: "\"5m\"",
        doc: "Attente avant le premier nouvel essai (doublée à chaque échec).\nWait before the first retry (doubled after each failure).",
        apply: |c, v| {
            c.outbound.retry_first_secs = duration(v)?;
            Ok(())
        },
    },
    Field {
        section: "outbound",
        key: "retry_max",
        default: "\"4h\"",
        doc: "Attente maximale entre deux essais.\nLongest wait between two attempts.",
        apply: |c, v| {
            c.outbound.retry_max_secs = duration(v)?;
            Ok(())
        },
    },
    Field {
        section: "outbound",
        key: "give_up_after",
        default: "\"5d\"",
        doc: "Durée des essais avant l'avis de non-remise.\nHow long delivery is retried before a bounce.",
        apply: |c, v| {
            c.outbound.give_up_after_secs = duration(v)?;
            Ok(())
        },
    },
    Field {
        section: "outbound",
        key: "delay_warning",
        default: "\"4h\"",
        doc: "Après ce délai, l'expéditeur est averti du retard.\nAfter this long the sender is told the message is delayed.",
        apply: |c, v| {
            c.outbound.delay_warning_secs = duration(v)?;
            Ok(())
        },
    },
    Field {
        section: "outbound",
        key: "poll_interval",
        default: "\"5s\"",
        doc: "Fréquence de consultation de la file d'envoi.\nHow often the outbound queue is looked at.",
        apply: |c, v| {
            c.outbound.poll_interval_secs = duration(v)?;
            Ok(())
        },
    },
    Field {
        section: "outbound",
        key: "timeout",
        default: "\"2m\"",
        doc: "Délai de connexion et de réponse des serveurs distants.\nConnection and reply deadline for remote servers.",
        apply: |c, v| {
            c.outbound.timeout_secs = duration(v)?;
            Ok(())
        },
    },
    Field {
        section: "outbound",
        key: "remote_port",
        default: "25",
        doc: "Port SMTP des serveurs distants trouvés par MX.\nSMTP port of remote servers found through MX records.",
        apply: |c, v| {
            c.outbound.remote_port = count(v, 1, 65535)?;
            Ok(())
        },
    },
    Field {
        section: "outbound",
        key: "dkim_selector",
        default: "\"ardoise\"",
        doc: "Sélecteur DKIM (clé publiée sous <sélecteur>._domainkey.<domaine>).\nDKIM selector (key published at <selector>._domainkey.<domain>).",
        apply: |c, v| {
            c.outbound.dkim_selector = non_empty(v)?;
            Ok(())
        },
    },
    Field {
        section: "outbound",
        key: "capture_to",
        default: "\"\"",
        doc: "Boîte locale recevant tout le courrier sortant au lieu de l'envoyer (démo) ; vide = envoi réel.\nLocal address that receives all outgoing mail instead of sending it (demo); empty = real sending.",
        apply: |c, v| {
            c.outbound.capture_to = Some(string(v)?).filter(|s| !s.is_empty());
            Ok(())
        },
    },
    Field {
        section: "outbound",
        key: "verify_inbound",
        default: "false",
        doc: "Vérifier SPF, DKIM et DMARC du courrier entrant (à activer en production, DNS requis).\nCheck SPF, DKIM and DMARC of incoming mail (enable in production; needs DNS).",
        apply: |c, v| {
            c.outbound.verify_inbound = boolean(v)?;
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "enabled",
        default: "true",
        doc: "Analyse anti-spam et anti-hameçonnage intégrée du courrier reçu (MX).\nBuilt-in spam and phishing scoring of mail received by the MX.",
        apply: |c, v| {
            c.hygiene.enabled = boolean(v)?;
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "junk_threshold",
        default: "5.0",
        doc: "Score à partir duquel un message va dans Indésirables.\nScore from which a message is filed in the Junk folder.",
        apply: |c, v| {
            c.hygiene.junk_threshold = score(v)?;
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "reject_threshold",
        default: "15.0",
        doc: "Score à partir duquel un message est refusé dès SMTP (550 5.7.1) ; supérieur à junk_threshold.\nScore from which a message is refused at SMTP time (550 5.7.1); above junk_threshold.",
        apply: |c, v| {
            c.hygiene.reject_threshold = score(v)?;
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "subject_tag",
        default: "\"\"",
        doc: "Préfixe ajouté au sujet du courrier venu de l'extérieur, pour les utilisateurs IMAP (par exemple \"[EXTERNE]\") ; vide = aucun.\nPrefix added to the subject of mail from outside, for IMAP users (for example \"[EXTERNE]\"); empty = none.",
        apply: |c, v| {
            let tag = string(v)?;
            if tag.len() > 40 || tag.chars().any(|ch| ch.is_control() || !ch.is_ascii()) {
                return Err("40 caractères ASCII au plus, sans caractère de contrôle".into());
            }
            c.hygiene.subject_tag = tag.trim().to_owned();
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "clamd",
        default: "\"\"",
        doc: "Antivirus ClamAV (clamd) : \"tcp:127.0.0.1:3310\" ou le chemin de sa socket Unix ; vide = pas d'analyse antivirus.\nClamAV's daemon: \"tcp:127.0.0.1:3310\" or its Unix socket path; empty = no virus scanning.",
        apply: |c, v| {
            let text = string(v)?;
            let text = text.trim();
            if !text.is_empty() && !text.starts_with("tcp:") && !text.starts_with("unix:") && !text.starts_with('/') {
                return Err("attendu tcp:hôte:port ou un chemin absolu".into());
            }
            c.hygiene.clamd = Some(text.to_owned()).filter(|t| !t.is_empty());
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "clamd_timeout",
        default: "\"30s\"",
        doc: "Délai maximal d'une analyse par clamd.\nLongest time one clamd scan may take.",
        apply: |c, v| {
            c.hygiene.clamd_timeout_secs = duration(v)?.max(1);
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "clamd_max_size",
        default: "\"25M\"",
        doc: "Taille maximale envoyée à clamd : au plus son StreamMaxLength (et ses MaxFileSize et MaxScanSize, pour qu'il lise tout). Un fichier partagé plus gros est refusé tant que clamd est configuré.\nLargest stream sent to clamd: at most its StreamMaxLength (and its MaxFileSize and MaxScanSize, so it reads it all). A larger shared file is refused while clamd is configured.",
        apply: |c, v| {
            c.hygiene.clamd_max_size = size(v)?.max(1);
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "accept_unscanned",
        default: "false",
        doc: "Si clamd ne répond pas : false = refus temporaire (451 4.7.1), true = message accepté et marqué X-Virus-Status: unknown.\nWhen clamd fails: false = temporary refusal (451 4.7.1), true = accept and mark X-Virus-Status: unknown.",
        apply: |c, v| {
            c.hygiene.accept_unscanned = boolean(v)?;
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "quarantine_days",
        default: "30",
        doc: "Jours de conservation des messages refusés (virus, indésirables) pour les administrateurs (ardoise admin quarantine) ; 0 = aucune.\nDays refused messages (viruses, spam) are kept for the administrators (ardoise admin quarantine); 0 = none.",
        apply: |c, v| {
            c.hygiene.quarantine_days = count(v, 0, 3650)?;
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "security_address",
        default: "\"\"",
        doc: "Adresse de la sécurité (RSSI) à qui le bouton « Signaler un hameçonnage » du webmail transfère le message ; vide = pas de bouton.\nSecurity team address the webmail's \"report phishing\" button forwards the message to; empty = no button.",
        apply: |c, v| {
            let text = string(v)?;
            let text = text.trim();
            if !text.is_empty() && model::Address::parse(text).is_err() {
                return Err(format!("adresse invalide : {text}"));
            }
            c.hygiene.security_address = text.to_owned();
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "bayes",
        default: "true",
        doc: "Classifieur statistique (bayésien) : appris en déplaçant les messages vers Indésirables et hors d'Indésirables (IMAP, webmail), global et par utilisateur.\nStatistical (Bayesian) classifier: learns from messages moved into and out of Junk (IMAP, webmail), for everyone and per user.",
        apply: |c, v| {
            c.hygiene.bayes = boolean(v)?;
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "bayes_points",
        default: "7.0",
        doc: "Points d'un message que le classifieur juge sûrement indésirable (proportionnels à sa probabilité).\nPoints of a message the classifier finds surely spam (in proportion to its probability).",
        apply: |c, v| {
            c.hygiene.bayes_points = score(v)?;
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "bayes_ham_points",
        default: "3.0",
        doc: "Points retirés à un message que le classifieur juge sûrement légitime.\nPoints taken off a message the classifier finds surely good.",
        apply: |c, v| {
            c.hygiene.bayes_ham_points = score(v)?;
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "bayes_min_trained",
        default: "20",
        doc: "Messages indésirables et légitimes (chacun) qu'un modèle doit avoir appris avant de donner son avis.\nSpam and good messages (each) a model must have learnt before it gives an opinion.",
        apply: |c, v| {
            c.hygiene.bayes_min_trained = count(v, 1, 100_000)?;
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "bayes_global_min_trained",
        default: "200",
        doc: "La même chose pour le modèle commun à toute la plateforme (somme des apprentissages de chacun).\nThe same for the platform's shared model (everyone's training summed).",
        apply: |c, v| {
            c.hygiene.bayes_global_min_trained = count(v, 1, 10_000_000)?;
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "bayes_prune_days",
        default: "90",
        doc: "Jours après lesquels la maintenance oublie les mots vus une seule fois.\nDays after which the housekeeping forgets tokens seen only once.",
        apply: |c, v| {
            c.hygiene.bayes_prune_days = count(v, 1, 3650)?;
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "report_folder",
        default: "\"\"",
        doc: "Dossier IMAP de signalement (par exemple « Signaler hameçonnage ») : un message qu'on y dépose est transféré à security_address, appris comme indésirable et rangé dans Indésirables ; vide = aucun.\nIMAP reporting folder (for example \"Signaler hameçonnage\"): a message put there is forwarded to security_address, learnt as spam and moved to Junk; empty = none.",
        apply: |c, v| {
            let text = string(v)?;
            let text = text.trim();
            if text.len() > 200 || text.chars().any(char::is_control) || text.eq_ignore_ascii_case("inbox") {
                return Err("nom de dossier invalide".into());
            }
            c.hygiene.report_folder = text.to_owned();
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "rspamd_url",
        default: "\"\"",
        doc: "Adresse HTTP d'un rspamd (par exemple \"http://127.0.0.1:11333\") à qui confier l'analyse anti-spam ; vide = analyse intégrée seule. S'il ne répond pas, l'analyse intégrée prend le relais.\nHTTP address of an rspamd (for example \"http://127.0.0.1:11333\") to hand the spam analysis to; empty = built-in analysis only. When it fails, the built-in analysis stands in.",
        apply: |c, v| {
            let text = string(v)?;
            let text = text.trim();
            if !text.is_empty() && !text.starts_with("http://") {
                return Err("attendu http://hôte:port".into());
            }
            c.hygiene.rspamd_url = Some(text.to_owned()).filter(|t| !t.is_empty());
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "rspamd_mode",
        default: "\"replace\"",
        doc: "\"replace\" : le verdict de rspamd décide (reject = refus 550, add header ou rewrite subject = Indésirables, soft reject = 451, greylist = distribué) ; \"add\" : son score et ses symboles s'ajoutent à ceux de l'analyse intégrée et nos seuils décident.\n\"replace\": rspamd's verdict decides (reject = 550 refusal, add header or rewrite subject = Junk, soft reject = 451, greylist = delivered); \"add\": its score and symbols add to the built-in analysis' and our thresholds decide.",
        apply: |c, v| {
            c.hygiene.rspamd_replace = match string(v)?.trim() {
                "replace" => true,
                "add" => false,
                other => return Err(format!("« {other} » : attendu \"replace\" ou \"add\"")),
            };
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "rspamd_timeout",
        default: "\"10s\"",
        doc: "Délai maximal d'une analyse par rspamd.\nLongest time one rspamd analysis may take.",
        apply: |c, v| {
            c.hygiene.rspamd_timeout_secs = duration(v)?.max(1);
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "rspamd_max_size",
        default: "\"10M\"",
        doc: "Les messages plus gros ne sont pas confiés à rspamd (analyse intégrée seule).\nLarger messages are not handed to rspamd (built-in analysis only).",
        apply: |c, v| {
            c.hygiene.rspamd_max_size = size(v)?;
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "dnsbl",
        default: "[]",
        doc: "Listes de blocage DNS interrogées sur l'adresse du serveur d'envoi (par exemple [\"zen.spamhaus.org\"]) ; [] = aucune.\nDNS blocklists asked about the sending server's address (for example [\"zen.spamhaus.org\"]); [] = none.",
        apply: |c, v| {
            c.hygiene.dnsbl = zones(v)?;
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "dnsbl_domains",
        default: "[]",
        doc: "Listes de blocage DNS de domaines interrogées sur le domaine de l'expéditeur (From), par exemple [\"dbl.spamhaus.org\"] ; [] = aucune.\nDomain blocklists asked about the sender's (From) domain, for example [\"dbl.spamhaus.org\"]; [] = none.",
        apply: |c, v| {
            c.hygiene.dnsbl_domains = zones(v)?;
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "dnsbl_points",
        default: "3.0",
        doc: "Points ajoutés au score par chaque liste de blocage où figure le message.\nPoints each blocklist listing the message adds to its score.",
        apply: |c, v| {
            c.hygiene.dnsbl_points = score(v)?;
            Ok(())
        },
    },
    Field {
        section: "hygiene",
        key: "dnsbl_timeout",
        default: "\"2s\"",
        doc: "Délai maximal des interrogations des listes de blocage d'un message ; une liste plus lente est ignorée.\nLongest time the blocklist look-ups of one message may take; a slower list is skipped.",
        apply: |c, v| {
            c.hygiene.dnsbl_timeout_secs = duration(v)?.max(1);
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "listen",
        default: "[]",
        doc: "Adresses d'écoute HTTP en clair (derrière un mandataire TLS, ou la démo sur 127.0.0.1) ; [] pour aucune.\nPlain HTTP listen addresses (behind a TLS proxy, or the demo on 127.0.0.1); [] for none.",
        apply: |c, v| {
            c.web.listen = addresses(v)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "listen_tls",
        default: "[]",
        doc: "Adresses d'écoute HTTPS (certificat de la section [tls]), en production [\"0.0.0.0:443\"].\nHTTPS listen addresses (certificate from the [tls] section); in production [\"0.0.0.0:443\"].",
        apply: |c, v| {
            c.web.listen_tls = addresses(v)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "require_2fa_for_admins",
        default: "true",
        doc: "Exiger la validation en deux étapes (TOTP) des administrateurs.\nRequire two-step verification (TOTP) from administrators.",
        apply: |c, v| {
            c.web.require_2fa_for_admins = boolean(v)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "require_2fa_for_all",
        default: "false",
        doc: "Exiger la validation en deux étapes de tous les comptes.\nRequire two-step verification from every account.",
        apply: |c, v| {
            c.web.require_2fa_for_all = boolean(v)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "password_min_length",
        default: "12",
        doc: "Longueur minimale des mots de passe.\nMinimum password length.",
        apply: |c, v| {
            c.web.password_min_length = count(v, 8, 128)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "password_min_classes",
        default: "3",
        doc: "Types de caractères exigés parmi minuscules, majuscules, chiffres, symboles.\nCharacter classes required among lower case, upper case, digits, symbols.",
        apply: |c, v| {
            c.web.password_min_classes = count(v, 1, 4)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "password_min_strength",
        default: "3",
        doc: "Robustesse zxcvbn minimale (0 à 4).\nMinimum zxcvbn strength (0 to 4).",
        apply: |c, v| {
            c.web.password_min_strength = count(v, 0, 4)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "password_history",
        default: "5",
        doc: "Nombre d'anciens mots de passe refusés.\nHow many previous passwords are refused.",
        apply: |c, v| {
            c.web.password_history = count(v, 0, 50)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "password_max_age_days",
        default: "0",
        doc: "Durée de validité d'un mot de passe en jours ; 0 = illimitée.\nPassword lifetime in days; 0 = unlimited.",
        apply: |c, v| {
            c.web.password_max_age_days = count(v, 0, 3650)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "password_reminder_days",
        default: "[14, 3]",
        doc: "Avec une durée de validité : rappels envoyés par courriel ce nombre de jours avant l'expiration (un par seuil).\nWith a password lifetime: reminder mails sent this many days before expiry (one per threshold).",
        apply: |c, v| {
            c.web.password_reminder_days = day_counts(v)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "credential_cache",
        default: "\"5m\"",
        doc: "Durée pendant laquelle une vérification de mot de passe réussie est mémorisée (jamais le mot de passe) ; 0 = désactivé.\nHow long a successful password check is remembered (never the password); 0 = off.",
        apply: |c, v| {
            c.web.credential_cache_secs = duration_or_off(v)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "session_ttl",
        default: "\"2h\"",
        doc: "Durée d'inactivité au bout de laquelle une session web expire (chaque page vue la prolonge).\nHow long a web session lives without being used (each page view extends it).",
        apply: |c, v| {
            c.web.session_ttl_secs = duration(v)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "session_max_age",
        default: "\"12h\"",
        doc: "Durée de vie maximale d'une session web depuis la connexion, même utilisée sans interruption.\nLongest life of a web session after login, however busy.",
        apply: |c, v| {
            c.web.session_max_age_secs = duration(v)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "undo_send_delay",
        default: "\"10s\"",
        doc: "Délai pendant lequel un message envoyé depuis le webmail peut encore être annulé (« Annuler l'envoi ») ; \"0s\" = envoi immédiat ; 10 minutes au plus. Chaque utilisateur peut choisir le sien dans Réglages.\nHow long a message sent from the webmail can still be cancelled (\"Annuler l'envoi\"); \"0s\" = sent at once; 10 minutes at most. Each user may choose their own in Réglages.",
        apply: |c, v| {
            let secs = duration_or_off(v)?;
            if secs > 600 {
                return Err(format!("délai d'annulation trop long : {secs} s (600 s au plus)"));
            }
            c.web.undo_send_delay_secs = secs;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "max_connections",
        default: "4096",
        doc: "Connexions HTTP simultanées au plus par écoute (réduit d'office sous une limite de descripteurs basse).\nMost simultaneous HTTP connections per listener (lowered automatically under a low descriptor limit).",
        apply: |c, v| {
            c.web.max_connections = count(v, 1, 1_000_000)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "max_connections_per_ip",
        default: "256",
        doc: "Connexions HTTP simultanées au plus depuis une même adresse (un /64 en IPv6).\nMost simultaneous HTTP connections from one address (a /64 in IPv6).",
        apply: |c, v| {
            c.web.max_connections_per_ip = count(v, 1, 1_000_000)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "public_url",
        default: "\"\"",
        doc: "Adresse publique du web, pour les liens envoyés par courriel ; vide = https://<hostname>.\nPublic address of the web, for links sent by mail; empty = https://<hostname>.",
        apply: |c, v| {
            c.web.public_url = string(v)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "time_zone",
        default: "\"Europe/Paris\"",
        doc: "Fuseau horaire des dates affichées (nom IANA : America/Martinique, Indian/Reunion, Pacific/Noumea...).\nTime zone of the dates shown (IANA name).",
        apply: |c, v| {
            let name = string(v)?;
            jiff::tz::TimeZone::get(name.trim()).map_err(|_| format!("fuseau horaire inconnu : {name}"))?;
            c.web.time_zone = name.trim().to_owned();
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "dav_max_object_size",
        default: "\"1M\"",
        doc: "Taille maximale d'un événement ou d'une fiche de contact déposé en CalDAV/CardDAV (PUT).\nLargest calendar object or vCard a CalDAV/CardDAV PUT may store.",
        apply: |c, v| {
            c.web.dav_max_object_size = size(v)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "trusted_proxies",
        default: "[]",
        doc: "Relais inverses (réseaux « adresse/préfixe ») dont on croit Forwarded, X-Forwarded-For et X-Forwarded-Proto ; de toute autre adresse, ces en-têtes sont ignorés.\nReverse proxies (\"address/prefix\" networks) whose Forwarded, X-Forwarded-For and X-Forwarded-Proto are believed; from any other address these headers are ignored.",
        apply: |c, v| {
            c.web.trusted_proxies = networks(v)?;
            Ok(())
        },
    },
    Field {
        section: "web",
        key: "mail_host",
        default: "\"\"",
        doc: "Nom d'hôte que les logiciels de messagerie utilisent pour IMAP et l'envoi (configuration automatique) ; vide = hostname.\nHost name mail clients use for IMAP and submission (automatic configuration); empty = hostname.",
        apply: |c, v| {
            let host = string(v)?;
            let host = host.trim();
            if !host.is_empty() && !host.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-' | ':')) {
                return Err(format!("nom d'hôte invalide : {host}"));
            }
            c.web.mail_host = host.to_owned();
            Ok(())
        },
    },
];

/// The commented sample file: every key with its default, commented out.
pub fn sample() -> String {
    let mut out = String::from(
        "# Configuration d'Ardoise / Ardoise configuration.\n\
         # Chaque clé est montrée avec sa valeur par défaut ; décommentez pour changer.\n\
         # Every key is shown with its default; uncomment to change it.\n\
         # Vérifier / check: ardoise config check --config ardoise.toml\n",
    );
    let mut section = "";
    for f in fields() {
        if f.section != section {
            section = f.section;
            out.push_str(&format!("\n[{section}]\n"));
        }
        for line in f.doc.lines() {
            out.push_str(&format!("# {line}\n"));
        }
        out.push_str(&format!("# {} = {}\n", f.key, f.default));
    }
    out
}
