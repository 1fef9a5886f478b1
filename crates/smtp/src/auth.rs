//! The AUTH exchanges (RFC 4954): PLAIN (RFC 4616) and LOGIN, read from the
//! client into a login and a password, and OAUTHBEARER (RFC 7628) and
//! XOAUTH2 into a bearer token (parsed by the shared `sasl` crate). Whether
//! they are right is the role's question, not this module's.

use tokio::io::{AsyncRead, AsyncWrite};

use crate::conn::{Conn, Line};
use crate::reply::{Reply, SmtpError};
use crate::{AuthFailure, SmtpConfig};

/// What a client proved it holds.
pub enum Proof {
    Password { login: String, password: String },
    Bearer { mechanism: sasl::BearerMechanism, response: sasl::BearerResponse },
}

/// Runs the exchange of `mechanism`, `initial` being the response given on the
/// AUTH line (empty when none was); the bearer mechanisms only if `bearer`.
pub(crate) async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    cfg: &SmtpConfig,
    mechanism: u64,
    initial: &str,
    bearer: bool,
) -> Result<Proof, SmtpError> {
    let bearer_mechanism = match mechanism {
        smtp_proto::AUTH_OAUTHBEARER if bearer => Some(sasl::BearerMechanism::OAuthBearer),
        smtp_proto::AUTH_XOAUTH2 if bearer => Some(sasl::BearerMechanism::XOAuth2),
        _ => None,
    };
    if let Some(mechanism) = bearer_mechanism {
        let response =
            if initial.is_empty() || initial == "=" { challenge(conn, cfg, "").await? } else { initial.to_owned() };
        let response = sasl::parse(mechanism, &decode(&response)?).map_err(|_| SmtpError::MalformedAuth)?;
        return Ok(Proof::Bearer { mechanism, response });
    }
    let (login, password) = plain_or_login(conn, cfg, mechanism, initial).await?;
    Ok(Proof::Password { login, password })
}

/// After a refused token, the JSON error as a 334 challenge (RFC 7628
/// section 3.2.2); the client's answer (`AQ==`, empty or `*`) is read and
/// the failure follows whatever it is.
pub(crate) async fn error_challenge<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    cfg: &SmtpConfig,
    json: &str,
) -> Result<(), SmtpError> {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(json);
    match challenge(conn, cfg, &encoded).await {
        Ok(_) | Err(SmtpError::AuthCancelled) => Ok(()),
        Err(e) => Err(e),
    }
}

async fn plain_or_login<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    cfg: &SmtpConfig,
    mechanism: u64,
    initial: &str,
) -> Result<(String, String), SmtpError> {
    if mechanism == smtp_proto::AUTH_PLAIN {
        let response = if initial.is_empty() { challenge(conn, cfg, "").await? } else { initial.to_owned() };
        let decoded = decode(&response)?;
        let mut parts = decoded.split(|&b| b == 0);
        let (Some(authz), Some(authc), Some(pass), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SmtpError::BadBase64);
        };
        if !authz.is_empty() && authz != authc {
            return Err(SmtpError::Auth(AuthFailure::BadCredentials));
        }
        Ok((String::from_utf8_lossy(authc).into_owned(), String::from_utf8_lossy(pass).into_owned()))
    } else if mechanism == smtp_proto::AUTH_LOGIN {
        let user = if initial.is_empty() { challenge(conn, cfg, "VXNlcm5hbWU6").await? } else { initial.to_owned() };
        let user = decode(&user)?;
        let pass = decode(&challenge(conn, cfg, "UGFzc3dvcmQ6").await?)?;
        Ok((String::from_utf8_lossy(&user).into_owned(), String::from_utf8_lossy(&pass).into_owned()))
    } else {
        Err(SmtpError::UnsupportedMechanism)
    }
}

/// Sends a 334 challenge and reads the client's answer ("*" cancels).
async fn challenge<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    cfg: &SmtpConfig,
    text: &str,
) -> Result<String, SmtpError> {
    conn.queue(&Reply::plain(334, vec![text.to_owned()]));
    let line = match conn.read_line(cfg.max_line_length).await? {
        Line::Complete(line) => line,
        Line::TooLong => return Err(SmtpError::LineTooLong),
    };
    let text = String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_owned();
    if text == "*" {
        return Err(SmtpError::AuthCancelled);
    }
    Ok(text)
}

fn decode(text: &str) -> Result<Vec<u8>, SmtpError> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|_| SmtpError::BadBase64)
}
