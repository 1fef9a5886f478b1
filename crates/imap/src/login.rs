//! LOGIN and AUTHENTICATE (PLAIN, and OAUTHBEARER and XOAUTH2 with an
//! access token of our OpenID Connect provider): the identity service
//! decides, this file speaks IMAP around it (cleartext policy, SASL,
//! the RFC 7628 error challenge, refusals as French-then-English ASCII
//! text).

use identity::credentials::Refusal;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::reply::Done;
use crate::session::Conn;
use crate::state::{Authed, State};

/// How a login attempt ended.
pub(crate) enum Attempt {
    In(Box<Authed>),
    Refused(Done),
    /// The connection was lost while AUTHENTICATE waited for the client.
    Lost(Done),
}

/// The answer to LOGIN when the connection is in clear text.
const PRIVACY_REQUIRED: &str = "[PRIVACYREQUIRED] Use STARTTLS or port 993 first / Utilisez STARTTLS ou le port 993";

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Conn<'_, S> {
    /// Moves `state` on after an attempt and gives the command's completion.
    pub fn settle(&mut self, state: &mut State, attempt: Attempt) -> Done {
        match attempt {
            Attempt::In(authed) => {
                state.log_in(*authed);
                Done::ok(&format!("[CAPABILITY {}] Logged in", self.capabilities(state)))
            }
            Attempt::Refused(done) => done,
            Attempt::Lost(done) => {
                *state = State::Logout;
                done
            }
        }
    }

    /// LOGIN (and the end of AUTHENTICATE).
    pub async fn login(&mut self, user: &str, password: &str) -> Attempt {
        if !self.login_allowed {
            return Attempt::Refused(Done::no(PRIVACY_REQUIRED));
        }
        let attempt = identity::credentials::Login {
            login: user,
            secret: password,
            protocol: identity::credentials::Protocol::Imap,
            peer: self.peer.unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
            client: None,
            device: None,
        };
        match self.identity.login(&attempt).await {
            Err(refusal) => {
                tracing::info!(?refusal, "login refused");
                if refusal == Refusal::BadCredentials {
                    tokio::time::sleep(self.cfg.auth_failure_delay).await;
                }
                Attempt::Refused(refused(refusal))
            }
            Ok(principal) => {
                let proof = principal.proof();
                self.admit(principal.account, proof).await
            }
        }
    }

    /// Opens the session of a proven login: a connection slot of the
    /// account, its events, the login notices.
    async fn admit(&mut self, account: identity::Account, proof: model::Proof) -> Attempt {
        let Some(slot) = self.cfg.admission.for_user(account.id) else {
            return Attempt::Refused(Done::no(
                "[LIMIT] Trop de connexions pour ce compte / Too many connections for this account",
            ));
        };
        let events = self.mailstore.watch(account.id);
        tracing::info!(account = account.id, "logged in");
        // RFC 9051 section 7.1: ALERT text "MUST be presented to the user"; in
        // ASCII, which every IMAP4rev1 client can show.
        for notice in self.mailstore.login_notices().await {
            let text = match notice.text_en.is_empty() {
                true => model::translit::ascii(&notice.text_fr),
                false => {
                    format!("{} / {}", model::translit::ascii(&notice.text_fr), model::translit::ascii(&notice.text_en))
                }
            };
            self.untagged(&format!("OK [ALERT] {text}"));
        }
        self.reader.set_authenticated(true);
        Attempt::In(Box::new(Authed::new(account, proof, events, slot)))
    }

    /// Sends a continuation request and reads the client's answer line.
    async fn continuation(&mut self, challenge: &str) -> Result<Vec<u8>, Attempt> {
        self.out.extend_from_slice(format!("+ {challenge}\r\n").as_bytes());
        if self.flush().await.is_err() {
            return Err(Attempt::Refused(Done::bad("Connection lost")));
        }
        loop {
            match self.reader.next_line() {
                Some(Ok(line)) => return Ok(line),
                Some(Err(())) => return Err(Attempt::Refused(Done::bad("SASL response too long"))),
                None => {
                    if let Err(stop) = self.read_more(None, false).await {
                        self.say_goodbye(stop).await;
                        return Err(Attempt::Lost(Done::bad("Connection lost")));
                    }
                }
            }
        }
    }

    /// OAUTHBEARER or XOAUTH2: the token goes to the identity service; a
    /// refusal sends the JSON error challenge first (RFC 7628 section
    /// 3.2.2), whatever the client answers to it.
    async fn authenticate_bearer(&mut self, mechanism: sasl::BearerMechanism, decoded: &[u8]) -> Attempt {
        let response = match sasl::parse(mechanism, decoded) {
            Ok(r) => r,
            Err(e) => return Attempt::Refused(Done::bad(&format!("Malformed {} response: {e}", mechanism.name()))),
        };
        let attempt = identity::credentials::BearerLogin {
            user: response.user.as_deref(),
            token: &response.token,
            protocol: identity::credentials::Protocol::Imap,
            peer: self.peer.unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
            client: None,
        };
        match self.identity.login_bearer(&attempt).await {
            Ok(principal) => {
                let proof = principal.proof();
                self.admit(principal.account, proof).await
            }
            Err(refusal) => {
                tracing::info!(?refusal, mechanism = mechanism.name(), "login refused");
                if refusal == Refusal::BadCredentials {
                    tokio::time::sleep(self.cfg.auth_failure_delay).await;
                }
                let challenge = crate::base64::encode(self.identity.bearer_challenge(mechanism).as_bytes());
                if let Err(lost) = self.continuation(&challenge).await {
                    return lost;
                }
                Attempt::Refused(refused(refusal))
            }
        }
    }

    /// AUTHENTICATE PLAIN, OAUTHBEARER or XOAUTH2, with an initial response
    /// (SASL-IR) or after a continuation request.
    pub async fn authenticate(&mut self, mechanism: &str, initial: Option<Vec<u8>>) -> Attempt {
        use Attempt::Refused;
        let bearer = sasl::BearerMechanism::from_name(mechanism);
        if !mechanism.eq_ignore_ascii_case("PLAIN") && bearer.is_none() {
            return Refused(Done::no("[CANNOT] Only AUTHENTICATE PLAIN, OAUTHBEARER and XOAUTH2 are supported"));
        }
        if !self.login_allowed {
            return Refused(Done::no(PRIVACY_REQUIRED));
        }
        let response = match initial {
            Some(r) if r == b"=" => Vec::new(),
            Some(r) => r,
            None => match self.continuation("").await {
                Ok(line) => line,
                Err(attempt) => return attempt,
            },
        };
        if response == b"*" {
            return Refused(Done::bad("AUTHENTICATE cancelled"));
        }
        let Some(decoded) = crate::base64::decode(&response) else {
            return Refused(Done::bad("Invalid base64 in SASL response"));
        };
        if let Some(mechanism) = bearer {
            return self.authenticate_bearer(mechanism, &decoded).await;
        }
        let mut fields = decoded.split(|&b| b == 0);
        let (Some(authz), Some(authc), Some(password), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Refused(Done::bad("Malformed PLAIN response"));
        };
        let (Ok(authz), Ok(authc), Ok(password)) =
            (std::str::from_utf8(authz), std::str::from_utf8(authc), std::str::from_utf8(password))
        else {
            return Refused(Done::bad("PLAIN credentials must be UTF-8"));
        };
        if !authz.is_empty() && !authz.eq_ignore_ascii_case(authc) {
            return Refused(Done::no("[AUTHORIZATIONFAILED] Acting as another user is not allowed"));
        }
        self.login(authc, password).await
    }
}

/// The answer to a refused login, French then English, in ASCII.
fn refused(refusal: Refusal) -> Done {
    match refusal {
        Refusal::BadCredentials => {
            Done::no("[AUTHENTICATIONFAILED] Identifiant ou mot de passe incorrect / Invalid user name or password")
        }
        Refusal::AppPasswordRequired => Done::no(
            "[AUTHENTICATIONFAILED] Validation en deux etapes active : utilisez un mot de passe d'application / \
             Two-step verification is on: use an app password",
        ),
        Refusal::Throttled { .. } => Done::no(
            "[UNAVAILABLE] Connexion ralentie apres des tentatives infructueuses, reessayez dans quelques minutes / \
             Logins slowed down after failed attempts, try again in a few minutes",
        ),
        Refusal::Unavailable => Done::no("[UNAVAILABLE] Service momentanement indisponible / Try again later"),
        Refusal::Provisional => Done::no(
            "[CONTACTADMIN] Compte pas encore active : terminez la premiere connexion sur le webmail / \
             Account not activated yet: complete the first login on the webmail",
        ),
        Refusal::Suspended | Refusal::Closed => Done::no(
            "[AUTHORIZATIONFAILED] Compte suspendu ou ferme : contactez votre administrateur / \
             Account suspended or closed: contact your administrator",
        ),
        Refusal::Student => Done::no(
            "[AUTHORIZATIONFAILED] La messagerie IMAP n'est pas ouverte aux eleves / \
             IMAP access is not available to student accounts",
        ),
        Refusal::PasswordExpired => Done::no(
            "[EXPIRED] Mot de passe expire : changez-le sur la messagerie web / \
             Password expired: change it on the webmail",
        ),
    }
}
