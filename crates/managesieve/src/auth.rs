//! AUTHENTICATE "PLAIN" (RFC 5804 section 2.1, RFC 4616), and "OAUTHBEARER"
//! (RFC 7628) and "XOAUTH2" with an access token of our OpenID Connect
//! provider, with the initial response or after an empty challenge; the
//! identity service's logins decide (the `sieve` app-password scope for
//! PLAIN), and a refused token gets the JSON error challenge first.

use base64::Engine;
use identity::credentials::{BearerLogin, Login, Principal, Protocol, Refusal};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::reader::Token;
use crate::reply::Reply;
use crate::session::{Next, Session};

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<'_, S> {
    /// Runs AUTHENTICATE; `Err` when the connection was lost meanwhile.
    pub(crate) async fn authenticate(&mut self, args: &[Token]) -> Result<Reply, ()> {
        if self.account.is_some() {
            return Ok(Reply::no("Déjà authentifié / Already authenticated"));
        }
        let (mechanism, initial) = match args {
            [Token::Str(m)] => (m, None),
            [Token::Str(m), Token::Str(r)] => (m, Some(r.clone())),
            _ => return Ok(Reply::no("Arguments invalides / Bad arguments")),
        };
        let bearer = std::str::from_utf8(mechanism).ok().and_then(sasl::BearerMechanism::from_name);
        if !mechanism.eq_ignore_ascii_case(b"PLAIN") && bearer.is_none() {
            return Ok(Reply::no(
                "Mécanismes proposés : PLAIN, OAUTHBEARER, XOAUTH2 / Supported: PLAIN, OAUTHBEARER, XOAUTH2",
            ));
        }
        if !self.login_allowed() {
            return Ok(Reply::no("Utilisez STARTTLS d'abord / Use STARTTLS first").with_code("ENCRYPT-NEEDED".into()));
        }
        let response = match initial {
            Some(r) => r,
            None => match self.challenge("").await? {
                Ok(r) => r,
                Err(reply) => return Ok(reply),
            },
        };
        if response == b"*" {
            return Ok(Reply::no("Authentification abandonnée / Authentication cancelled"));
        }
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(&response) else {
            return Ok(Reply::no("Base64 invalide / Invalid base64"));
        };
        if let Some(mechanism) = bearer {
            return self.authenticate_bearer(mechanism, &decoded).await;
        }
        let mut fields = decoded.split(|&b| b == 0);
        let (Some(authz), Some(authc), Some(password), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Ok(Reply::no("Réponse PLAIN mal formée / Malformed PLAIN response"));
        };
        let (Ok(authz), Ok(authc), Ok(password)) =
            (std::str::from_utf8(authz), std::str::from_utf8(authc), std::str::from_utf8(password))
        else {
            return Ok(Reply::no("Identifiants non UTF-8 / Credentials must be UTF-8"));
        };
        if !authz.is_empty() && !authz.eq_ignore_ascii_case(authc) {
            return Ok(Reply::no("Agir pour un autre compte est interdit / Acting as another user is not allowed"));
        }
        let attempt = Login {
            login: authc,
            secret: password,
            protocol: Protocol::Sieve,
            peer: self.peer,
            client: None,
            device: None,
        };
        match self.services.identity.login(&attempt).await {
            Ok(proven) => Ok(self.admit(proven)),
            Err(refusal) => {
                tracing::info!(?refusal, "ManageSieve login refused");
                if refusal == Refusal::BadCredentials {
                    tokio::time::sleep(self.failure_delay()).await;
                }
                Ok(refused(refusal))
            }
        }
    }

    /// OAUTHBEARER or XOAUTH2: a refusal sends the JSON error challenge
    /// (RFC 7628 section 3.2.2) and reads the client's answer first.
    async fn authenticate_bearer(&mut self, mechanism: sasl::BearerMechanism, decoded: &[u8]) -> Result<Reply, ()> {
        let Ok(response) = sasl::parse(mechanism, decoded) else {
            return Ok(Reply::no("Réponse SASL mal formée / Malformed SASL response"));
        };
        let attempt = BearerLogin {
            user: response.user.as_deref(),
            token: &response.token,
            protocol: Protocol::Sieve,
            peer: self.peer,
            client: None,
        };
        match self.services.identity.login_bearer(&attempt).await {
            Ok(proven) => Ok(self.admit(proven)),
            Err(refusal) => {
                tracing::info!(?refusal, mechanism = mechanism.name(), "ManageSieve login refused");
                if refusal == Refusal::BadCredentials {
                    tokio::time::sleep(self.failure_delay()).await;
                }
                let json = self.services.identity.bearer_challenge(mechanism);
                let encoded = base64::engine::general_purpose::STANDARD.encode(json);
                if let Err(reply) = self.challenge(&encoded).await? {
                    return Ok(reply);
                }
                Ok(refused(refusal))
            }
        }
    }

    /// Opens the session of a proven login.
    fn admit(&mut self, proven: Principal) -> Reply {
        tracing::info!(account = proven.account.id, "ManageSieve: logged in");
        self.account = Some(proven.account.id);
        let events = self.services.filters.watch(proven.account.id);
        self.revocations = Some((events, proven.proof()));
        Reply::ok("Authentifié / Logged in")
    }

    /// Sends a SASL challenge (a quoted string) and reads the client's
    /// answer (a string); `Ok(Err(reply))` ends the exchange, `Err` when
    /// the connection was lost.
    async fn challenge(&mut self, text: &str) -> Result<Result<Vec<u8>, Reply>, ()> {
        self.say(format!("\"{text}\"\r\n").as_bytes());
        if self.flush().await.is_err() {
            return Err(());
        }
        match self.next_line().await {
            Next::Line(tokens) => match tokens.as_slice() {
                [Token::Str(r)] => Ok(Ok(r.clone())),
                _ => Ok(Err(Reply::no("Réponse SASL invalide / Bad SASL response"))),
            },
            Next::Answered(reply) => Ok(Err(reply)),
            Next::End(_) => Err(()),
        }
    }
}

/// The answer to a refused login, French then English.
fn refused(refusal: Refusal) -> Reply {
    let text = match refusal {
        Refusal::BadCredentials => "Identifiant ou mot de passe incorrect / Invalid user name or password",
        Refusal::AppPasswordRequired => {
            "Validation en deux étapes active : utilisez un mot de passe d'application / \
             Two-step verification is on: use an app password"
        }
        Refusal::Throttled { .. } => {
            "Connexion ralentie après des tentatives infructueuses, réessayez dans quelques minutes / \
             Logins slowed down after failed attempts, try again in a few minutes"
        }
        Refusal::Unavailable => "Service momentanément indisponible / Try again later",
        Refusal::Provisional => {
            "Compte pas encore activé : terminez la première connexion sur le webmail / \
             Account not activated yet: complete the first login on the webmail"
        }
        Refusal::Suspended | Refusal::Closed => {
            "Compte suspendu ou fermé : contactez votre administrateur / \
             Account suspended or closed: contact your administrator"
        }
        Refusal::Student => "Les filtres ne sont pas ouverts aux élèves / Not available to student accounts",
        Refusal::PasswordExpired => {
            "Mot de passe expiré : changez-le sur la messagerie web / Password expired: change it on the webmail"
        }
    };
    match refusal {
        Refusal::Throttled { .. } | Refusal::Unavailable => Reply::no(text).with_code("TRYLATER".into()),
        _ => Reply::no(text),
    }
}
