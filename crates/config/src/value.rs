//! Walks the TOML document with spans, applying every [`fields`] entry and
//! collecting problems instead of stopping at the first.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::fields::fields;
use crate::{Config, Problem};

/// A TOML value reduced to what the fields need.
#[derive(Debug)]
pub enum Val {
    Str(String),
    Int(i64),
    Bool(bool),
    Float(f64),
    List(Vec<Val>),
    Other(&'static str),
}

impl Val {
    fn from_de(v: &DeValue<'_>) -> Val {
        match v {
            DeValue::String(s) => Val::Str(s.to_string()),
            DeValue::Integer(i) => {
                let digits: String = i.as_str().chars().filter(|c| *c != '_').collect();
                match i64::from_str_radix(&digits, i.radix()) {
                    Ok(n) => Val::Int(n),
                    Err(_) => Val::Other("un entier hors limites"),
                }
            }
            DeValue::Boolean(b) => Val::Bool(*b),
            DeValue::Array(items) => Val::List(items.iter().map(|i| Val::from_de(i.get_ref())).collect()),
            DeValue::Float(f) => match f.as_str().replace('_', "").parse::<f64>() {
                Ok(x) if x.is_finite() => Val::Float(x),
                _ => Val::Other("un nombre décimal non fini"),
            },
            DeValue::Datetime(_) => Val::Other("une date"),
            DeValue::Table(_) => Val::Other("une table"),
        }
    }
}

pub fn check(text: &str) -> Result<Config, Vec<Problem>> {
    let line_of = |offset: usize| Some(text[..offset.min(text.len())].matches('\n').count() + 1);
    let (root, syntax_errors) = DeTable::parse_recoverable(text);
    let mut problems: Vec<Problem> = syntax_errors
        .iter()
        .map(|e| Problem {
            line: e.span().and_then(|s| line_of(s.start)),
            message: format!("syntaxe TOML : {}", e.message().trim()),
        })
        .collect();
    let mut config = Config::default();
    for (section_key, section_val) in root.get_ref().iter() {
        let section = section_key.get_ref().as_ref();
        let DeValue::Table(table) = section_val.get_ref() else {
            problems.push(Problem {
                line: line_of(section_key.span().start),
                message: format!("« {section} » doit être une section [{section}]"),
            });
            continue;
        };
        if !fields().any(|f| f.section == section) {
            problems.push(Problem {
                line: line_of(section_key.span().start),
                message: format!("section inconnue [{section}]"),
            });
            continue;
        }
        check_section(section, table, &mut config, &mut problems, &line_of);
    }
    cross_checks(&config, &mut problems);
    if problems.is_empty() {
        Ok(config)
    } else {
        problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
        Err(problems)
    }
}

fn check_section(
    section: &str,
    table: &DeTable<'_>,
    config: &mut Config,
    problems: &mut Vec<Problem>,
    line_of: &dyn Fn(usize) -> Option<usize>,
) {
    for (key, value) in table.iter() {
        let name = key.get_ref().as_ref();
        let line = line_of(key.span().start);
        let Some(field) = fields().find(|f| f.section == section && f.key == name) else {
            let known: Vec<&str> = fields().filter(|f| f.section == section).map(|f| f.key).collect();
            problems.push(Problem {
                line,
                message: format!("clé inconnue « {name} » dans [{section}] (clés connues : {})", known.join(", ")),
            });
            continue;
        };
        let value: &Spanned<DeValue<'_>> = value;
        if let Err(message) = (field.apply)(config, &Val::from_de(value.get_ref())) {
            problems.push(Problem { line, message: format!("{section}.{name} : {message}") });
        }
    }
}

/// `[acme] challenge` needs the web listener its method is fetched from.
fn acme_cross_check(config: &Config, problems: &mut Vec<Problem>) {
    if config.acme.directory.is_empty() {
        return;
    }
    let (plain, tls) = (!config.web.listen.is_empty(), !config.web.listen_tls.is_empty());
    let missing = match config.acme.challenge {
        crate::AcmeChallenge::Auto if !plain && !tls => {
            "une adresse web.listen ou web.listen_tls / a web.listen or web.listen_tls address"
        }
        crate::AcmeChallenge::Http01 if !plain => "une adresse web.listen (port 80) / a web.listen address (port 80)",
        crate::AcmeChallenge::TlsAlpn01 if !tls => {
            "une adresse web.listen_tls (port 443) / a web.listen_tls address (port 443)"
        }
        _ => return,
    };
    problems.push(Problem { line: None, message: format!("acme.challenge : il faut {missing}") });
}

fn cross_checks(config: &Config, problems: &mut Vec<Problem>) {
    if config.metrics.token_file.is_none() && config.metrics.listen.iter().any(|a| !a.ip().is_loopback()) {
        problems.push(Problem {
            line: None,
            message:
                "metrics.listen hors de 127.0.0.1 : donnez metrics.token_file (les métriques disent qui se connecte et \
                      combien) / a metrics listener off the loopback needs metrics.token_file"
                    .into(),
        });
    }
    acme_cross_check(config, problems);
    if config.tls.cert.is_some() != config.tls.key.is_some() {
        problems.push(Problem {
            line: None,
            message: "tls.cert et tls.key vont ensemble : donnez les deux ou aucun".into(),
        });
    }
    if let Some(url) = &config.store.url
        && !(url.starts_with("sqlite://") || url.starts_with("postgres://") || url.starts_with("postgresql://"))
    {
        problems
            .push(Problem {
                line: None, message: format!("store.url « {url} » : sqlite://… ou postgres://… attendu")
            });
    }
}
