//! The AUTH exchanges (RFC 4954): PLAIN (RFC 4616) and LOGIN, read from the
//! client into a login and a password. Whether they are right is the role's
//! question, not this module's.

use tokio::io::{AsyncRead, AsyncWrite};

use crate::conn::{Conn, Line};
use crate::reply::{Reply, SmtpError};
use crate::{AuthFailure, SmtpConfig};

/// Runs the exchange of `mechanism`, `initial` being the response given on the
/// AUTH line (empty when none was).
pub(crate) async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
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
