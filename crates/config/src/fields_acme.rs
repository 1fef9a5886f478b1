//! The `[acme]` keys: the server's certificate from an ACME server (issue 24).
//! (The first section kept apart from `fields.rs`, which has grown too long.)

use crate::fields::{Field, duration, optional_path, string, strings};

pub(crate) static ACME: &[Field] = &[
    Field {
        section: "acme",
        key: "directory",
        default: "\"\"",
        doc: "Serveur ACME (RFC 8555) qui délivre le certificat de tous les ports TLS, ex. \"https://acme-v02.api.letsencrypt.org/directory\" ; vide = pas d'ACME (certificat de [tls]). Le port 80 doit joindre une adresse de [web] listen (défi HTTP-01) ou le port 443 une adresse de [web] listen_tls (défi TLS-ALPN-01), voir challenge.\nACME server (RFC 8555) issuing the certificate of every TLS port; empty = no ACME (the [tls] certificate). Port 80 must reach a [web] listen address (HTTP-01 challenge) or port 443 a [web] listen_tls address (TLS-ALPN-01 challenge), see challenge.",
        apply: |c, v| {
            let url = string(v)?.trim().to_owned();
            if !url.is_empty() && !url.starts_with("https://") {
                return Err("adresse https:// attendue / an https:// URL is expected".into());
            }
            c.acme.directory = url;
            Ok(())
        },
    },
    Field {
        section: "acme",
        key: "contact",
        default: "[]",
        doc: "Adresses de contact données au serveur ACME (avis d'expiration), ex. [\"postmaster@ac-exemple.fr\"].\nContact addresses given to the ACME server (expiry notices).",
        apply: |c, v| {
            let contact = strings(v)?;
            if let Some(bad) = contact.iter().find(|a| !a.contains('@') || a.chars().any(char::is_whitespace)) {
                return Err(format!("adresse invalide : {bad}"));
            }
            c.acme.contact = contact;
            Ok(())
        },
    },
    Field {
        section: "acme",
        key: "names",
        default: "[]",
        doc: "Noms couverts par le certificat ; vide = le nom d'hôte de [server].\nNames the certificate covers; empty = the [server] host name.",
        apply: |c, v| {
            let names = strings(v)?;
            for name in &names {
                let ok = name.parse::<std::net::IpAddr>().is_ok()
                    || (!name.is_empty()
                        && name.len() <= 253
                        && name.split('.').all(|l| {
                            !l.is_empty()
                                && !l.starts_with('-')
                                && l.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
                        }));
                if !ok {
                    return Err(format!("nom d'hôte invalide : {name}"));
                }
            }
            c.acme.names = names;
            Ok(())
        },
    },
    Field {
        section: "acme",
        key: "root_certificate",
        default: "\"\"",
        doc: "Certificat racine (PEM) du serveur ACME s'il n'est pas public (AC de l'académie, serveur de test) ; vide = racines du système.\nThe ACME server's root certificate (PEM) when it is not public (the académie's CA, a test server); empty = the system's roots.",
        apply: |c, v| {
            c.acme.root_certificate = optional_path(v)?;
            Ok(())
        },
    },
    Field {
        section: "acme",
        key: "renew_before",
        default: "\"30d\"",
        doc: "Le certificat est renouvelé quand sa fin est aussi proche.\nThe certificate is renewed when its end is this near.",
        apply: |c, v| {
            c.acme.renew_before_secs = duration(v)?;
            Ok(())
        },
    },
    Field {
        section: "acme",
        key: "challenge",
        default: "\"auto\"",
        doc: "Comment le serveur ACME vérifie les noms : \"http-01\" (port 80 vers [web] listen), \"tls-alpn-01\" (RFC 8737, port 443 vers [web] listen_tls, pour un serveur sans port 80), \"auto\" = HTTP-01 s'il y a une adresse [web] listen, sinon (ou si le serveur ACME ne le propose pas) TLS-ALPN-01 s'il y a une adresse [web] listen_tls.\nHow the ACME server checks the names: \"http-01\" (port 80 to [web] listen), \"tls-alpn-01\" (RFC 8737, port 443 to [web] listen_tls, for a server without port 80), \"auto\" = HTTP-01 when there is a [web] listen address, else (or when the ACME server does not offer it) TLS-ALPN-01 when there is a [web] listen_tls address.",
        apply: |c, v| {
            c.acme.challenge = match string(v)?.as_str() {
                "auto" => crate::AcmeChallenge::Auto,
                "http-01" => crate::AcmeChallenge::Http01,
                "tls-alpn-01" => crate::AcmeChallenge::TlsAlpn01,
                other => return Err(format!("« {other} » : \"auto\", \"http-01\" ou \"tls-alpn-01\" attendu")),
            };
            Ok(())
        },
    },
];
