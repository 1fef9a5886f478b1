//! The commands of the authenticated state (RFC 5804 sections 2.3 to 2.13):
//! arguments checked here, the work done by the filter service, its
//! outcomes turned into responses here and nowhere else.

use filter::scripts::{Put, Space, valid_name};
use filter::{Filters, ScriptChange};
use model::AccountId;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::reader::Token;
use crate::reply::{Reply, quote};
use crate::session::Session;

/// Commands that need a login first.
pub fn needs_login(name: &str) -> bool {
    matches!(
        name,
        "HAVESPACE"
            | "PUTSCRIPT"
            | "LISTSCRIPTS"
            | "SETACTIVE"
            | "GETSCRIPT"
            | "DELETESCRIPT"
            | "RENAMESCRIPT"
            | "CHECKSCRIPT"
            | "UNAUTHENTICATE"
    )
}

fn bad_arguments() -> Reply {
    Reply::no("Arguments invalides / Bad arguments")
}

fn nonexistent() -> Reply {
    Reply::no("Ce script n'existe pas / No such script").with_code("NONEXISTENT".into())
}

fn unavailable(e: &filter::Error) -> Reply {
    tracing::warn!(error = %e, "ManageSieve command failed");
    Reply::no("Service momentanément indisponible / Try again later").with_code("TRYLATER".into())
}

fn too_big() -> Reply {
    Reply::no("Script trop grand / Script too large").with_code("QUOTA/MAXSIZE".into())
}

fn too_many() -> Reply {
    Reply::no("Nombre maximal de scripts atteint / Too many scripts").with_code("QUOTA/MAXSCRIPTS".into())
}

fn invalid(e: &filter::ScriptError) -> Reply {
    // One line: the French message, never a line break.
    let text: String = e.to_string().chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    Reply::no(&text)
}

/// A script name argument: a string, valid per RFC 5804 section 1.6.
fn name_of(token: &Token) -> Result<&str, Reply> {
    match token {
        Token::Str(bytes) => match std::str::from_utf8(bytes) {
            Ok(name) if valid_name(name) => Ok(name),
            _ => Err(Reply::no("Nom de script invalide / Invalid script name")),
        },
        Token::Atom(_) => Err(bad_arguments()),
    }
}

fn script_of(token: &Token) -> Result<&str, Reply> {
    match token {
        Token::Str(bytes) => {
            std::str::from_utf8(bytes).map_err(|_| Reply::no("Le script doit être en UTF-8 / Scripts must be UTF-8"))
        }
        Token::Atom(_) => Err(bad_arguments()),
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<'_, S> {
    /// One command of the authenticated state.
    pub(crate) async fn command(&mut self, account: AccountId, name: &str, args: &[Token]) -> Reply {
        let filters = self.services.filters.clone();
        let result = match (name, args) {
            ("HAVESPACE", [n, Token::Atom(size)]) => have_space(&filters, account, n, size).await,
            ("PUTSCRIPT", [n, s]) => put(&filters, account, n, s).await,
            ("CHECKSCRIPT", [s]) => check(&filters, account, s).await,
            ("LISTSCRIPTS", []) => match filters.list(account).await {
                Ok(scripts) => {
                    for s in scripts {
                        let line = format!("{}{}\r\n", quote(s.name.as_bytes()), if s.active { " ACTIVE" } else { "" });
                        self.say(line.as_bytes());
                    }
                    Ok(Reply::ok("Fait / Done"))
                }
                Err(e) => Err(unavailable(&e)),
            },
            ("GETSCRIPT", [n]) => match name_of(n) {
                Ok(n) => match filters.get(account, n).await {
                    Ok(Some(source)) => {
                        self.say(format!("{{{}}}\r\n{source}\r\n", source.len()).as_bytes());
                        Ok(Reply::ok("Fait / Done"))
                    }
                    Ok(None) => Err(nonexistent()),
                    Err(e) => Err(unavailable(&e)),
                },
                Err(r) => Err(r),
            },
            ("SETACTIVE", [Token::Str(n)]) if n.is_empty() => changed(filters.activate(account, None).await),
            ("SETACTIVE", [n]) => match name_of(n) {
                Ok(n) => changed(filters.activate(account, Some(n)).await),
                Err(r) => Err(r),
            },
            ("DELETESCRIPT", [n]) => match name_of(n) {
                Ok(n) => changed(filters.delete(account, n).await),
                Err(r) => Err(r),
            },
            ("RENAMESCRIPT", [old, new]) => match (name_of(old), name_of(new)) {
                (Ok(old), Ok(new)) => changed(filters.rename(account, old, new).await),
                (Err(r), _) | (_, Err(r)) => Err(r),
            },
            ("UNAUTHENTICATE", []) => {
                self.account = None;
                self.revocations = None;
                tracing::info!(account, "ManageSieve: unauthenticated");
                Ok(Reply::ok("Déconnecté / Unauthenticated"))
            }
            _ if needs_login(name) => Err(bad_arguments()),
            _ => Err(Reply::no("Commande inconnue / Unknown command")),
        };
        result.unwrap_or_else(|r| r)
    }
}

async fn have_space(filters: &Filters, account: AccountId, name: &Token, size: &str) -> Result<Reply, Reply> {
    let name = name_of(name)?;
    let size: usize = match size.parse::<u64>() {
        Ok(n) => usize::try_from(n).unwrap_or(usize::MAX),
        Err(_) => return Err(bad_arguments()),
    };
    match filters.have_space(account, name, size).await {
        Ok(Space::Fits) => Ok(Reply::ok("Place disponible / Putscript would succeed")),
        Ok(Space::TooBig) => Err(too_big()),
        Ok(Space::TooMany) => Err(too_many()),
        Err(e) => Err(unavailable(&e)),
    }
}

async fn put(filters: &Filters, account: AccountId, name: &Token, script: &Token) -> Result<Reply, Reply> {
    let name = name_of(name)?;
    let source = script_of(script)?;
    match filters.put(account, name, source).await {
        Ok(Put::Stored) => {
            tracing::info!(account, size = source.len(), "Sieve script stored");
            Ok(Reply::ok("Script enregistré / Script stored"))
        }
        Ok(Put::Invalid(e)) => Err(invalid(&e)),
        Ok(Put::TooBig) => Err(too_big()),
        Ok(Put::TooMany) => Err(too_many()),
        Ok(Put::Forbidden(why)) => Err(forbidden(&why)),
        Err(e) => Err(unavailable(&e)),
    }
}

/// A script the forwarding policy refuses: its French reason on one line.
fn forbidden(why: &str) -> Reply {
    let text: String = why.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    Reply::no(&text)
}

async fn check(filters: &Filters, account: AccountId, script: &Token) -> Result<Reply, Reply> {
    let source = script_of(script)?;
    if source.len() > filters.settings().max_script_size {
        return Err(too_big());
    }
    if let Err(e) = filters.check(source) {
        return Err(invalid(&e));
    }
    match filters.forwarding_refusal(account, source).await {
        Ok(None) => Ok(Reply::ok("Script valide / Script is valid")),
        Ok(Some(why)) => Err(forbidden(&why)),
        Err(e) => Err(unavailable(&e)),
    }
}

fn changed(outcome: Result<ScriptChange, filter::Error>) -> Result<Reply, Reply> {
    match outcome {
        Ok(ScriptChange::Done) => Ok(Reply::ok("Fait / Done")),
        Ok(ScriptChange::NotFound) => Err(nonexistent()),
        Ok(ScriptChange::Active) => {
            Err(Reply::no("Le script actif ne peut être supprimé / Cannot delete the active script")
                .with_code("ACTIVE".into()))
        }
        Ok(ScriptChange::Exists) => {
            Err(Reply::no("Un script porte déjà ce nom / A script of that name exists")
                .with_code("ALREADYEXISTS".into()))
        }
        Err(e) => Err(unavailable(&e)),
    }
}
