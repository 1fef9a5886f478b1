//! A small IMAP client over any stream: greeting, STARTTLS, LOGIN, and
//! commands whose untagged responses are read one by one (so a FETCH of many
//! messages is handled as it arrives, never held whole).

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::proto::{self, Framed};

/// How the source is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (port 993).
    Tls,
    /// Plain text, then STARTTLS before the login (port 143).
    StartTls,
    /// Plain text throughout: for tests and trusted networks only.
    Plain,
}

/// Errors talking to a source server.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    #[error("connexion à la source : {0}")]
    Io(#[from] std::io::Error),
    #[error("TLS avec la source : {0}")]
    Tls(String),
    #[error("la source a répondu {0}")]
    Refused(String),
    #[error("réponse illisible de la source : {0}")]
    Protocol(String),
    #[error("la source a fermé la connexion")]
    Closed,
    #[error("message trop gros ({0} octets annoncés)")]
    TooBig(usize),
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// What a command's next response was.
#[derive(Debug)]
pub enum Response {
    /// Untagged data (`* ...`), framed with its literals.
    Data(Vec<u8>),
    /// The command's end; the tagged OK.
    Done,
}

/// One connection to a source server.
pub struct Client {
    stream: Box<dyn Stream>,
    buf: Vec<u8>,
    next_tag: u32,
    current: Option<String>,
}

/// A rustls client configuration: the system's authorities, or (tests only)
/// any certificate.
pub fn tls_config(accept_any_certificate: bool) -> Result<Arc<rustls::ClientConfig>, ImapError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ImapError::Tls(e.to_string()))?;
    let config = if accept_any_certificate {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyCertificate(provider))).with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Arc::new(config))
}

impl Client {
    /// Connects, reads the greeting and, for STARTTLS, upgrades.
    pub async fn connect(
        host: &str,
        port: u16,
        security: Security,
        tls: Arc<rustls::ClientConfig>,
    ) -> Result<Client, ImapError> {
        let tcp = TcpStream::connect((host, port)).await?;
        let _ = tcp.set_nodelay(true);
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| ImapError::Tls(format!("nom de serveur {host:?} : {e}")))?;
        let connector = tokio_rustls::TlsConnector::from(tls);
        let stream: Box<dyn Stream> = match security {
            Security::Tls => {
                Box::new(connector.connect(name.clone(), tcp).await.map_err(|e| ImapError::Tls(e.to_string()))?)
            }
            _ => Box::new(tcp),
        };
        let mut client = Client::over(stream);
        client.greeting().await?;
        if security == Security::StartTls {
            client.run("STARTTLS").await?;
            if !client.buf.is_empty() {
                return Err(ImapError::Protocol("données reçues avant TLS".into()));
            }
            let plain = std::mem::replace(&mut client.stream, Box::new(tokio::io::duplex(1).0));
            let tls = connector.connect(name, plain).await.map_err(|e| ImapError::Tls(e.to_string()))?;
            client.stream = Box::new(tls);
        }
        Ok(client)
    }

    fn over(stream: Box<dyn Stream>) -> Client {
        Client { stream, buf: Vec::with_capacity(64 * 1024), next_tag: 1, current: None }
    }

    /// A client over an already open stream (tests), greeting read.
    pub async fn over_stream<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
        stream: S,
    ) -> Result<Client, ImapError> {
        let mut client = Client::over(Box::new(stream));
        client.greeting().await?;
        Ok(client)
    }

    async fn greeting(&mut self) -> Result<(), ImapError> {
        let line = self.read_framed().await?;
        if line.starts_with(b"* OK") || line.starts_with(b"* PREAUTH") {
            Ok(())
        } else {
            Err(ImapError::Refused(String::from_utf8_lossy(&line).trim().to_owned()))
        }
    }

    /// Logs in; `login` may be `user*master` for Dovecot's master users.
    pub async fn login(&mut self, login: &str, password: &str) -> Result<(), ImapError> {
        let tag = self.tag();
        let mut parts: Vec<Vec<u8>> = vec![format!("{tag} LOGIN ").into_bytes()];
        for (i, word) in [login, password].into_iter().enumerate() {
            if i > 0 {
                parts.last_mut().expect("one part").push(b' ');
            }
            if word.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                let quoted = word.replace('\\', "\\\\").replace('"', "\\\"");
                parts.last_mut().expect("one part").extend_from_slice(format!("\"{quoted}\"").as_bytes());
            } else {
                // A synchronising literal: the server says `+` before the bytes.
                parts.last_mut().expect("one part").extend_from_slice(format!("{{{}}}\r\n", word.len()).as_bytes());
                parts.push(word.as_bytes().to_vec());
            }
        }
        parts.last_mut().expect("one part").extend_from_slice(b"\r\n");
        let count = parts.len();
        for (i, part) in parts.into_iter().enumerate() {
            self.stream.write_all(&part).await?;
            self.stream.flush().await?;
            if i + 1 < count {
                let cont = self.read_framed().await?;
                if !cont.starts_with(b"+") {
                    return Err(ImapError::Refused(String::from_utf8_lossy(&cont).trim().to_owned()));
                }
            }
        }
        self.current = Some(tag);
        while let Response::Data(_) = self.next().await? {}
        Ok(())
    }

    fn tag(&mut self) -> String {
        let tag = format!("m{}", self.next_tag);
        self.next_tag += 1;
        tag
    }

    /// Sends a command whose responses [`Client::next`] then reads.
    pub async fn start(&mut self, command: &str) -> Result<(), ImapError> {
        let tag = self.tag();
        self.stream.write_all(format!("{tag} {command}\r\n").as_bytes()).await?;
        self.stream.flush().await?;
        self.current = Some(tag);
        Ok(())
    }

    /// The current command's next response; `Done` after its tagged OK, an
    /// error after NO or BAD.
    pub async fn next(&mut self) -> Result<Response, ImapError> {
        let tag = self.current.clone().ok_or_else(|| ImapError::Protocol("aucune commande en cours".into()))?;
        let resp = self.read_framed().await?;
        if resp.starts_with(b"* BYE") {
            return Err(ImapError::Refused(String::from_utf8_lossy(&resp).trim().to_owned()));
        }
        if let Some((word, text)) = proto::tagged(&resp, &tag) {
            self.current = None;
            return if word == "OK" { Ok(Response::Done) } else { Err(ImapError::Refused(format!("{word} {text}"))) };
        }
        Ok(Response::Data(resp))
    }

    /// Runs a command to its end; returns its untagged responses.
    pub async fn run(&mut self, command: &str) -> Result<Vec<Vec<u8>>, ImapError> {
        self.start(command).await?;
        let mut data = Vec::new();
        while let Response::Data(d) = self.next().await? {
            data.push(d);
        }
        Ok(data)
    }

    /// Says goodbye; errors are of no interest any more.
    pub async fn logout(mut self) {
        let _ = self.run("LOGOUT").await;
    }

    async fn read_framed(&mut self) -> Result<Vec<u8>, ImapError> {
        loop {
            match proto::frame(&self.buf) {
                Framed::Complete(n) => return Ok(self.buf.drain(..n).collect()),
                Framed::TooBig(n) => return Err(ImapError::TooBig(n)),
                Framed::Partial => {}
            }
            let before = self.buf.len();
            self.buf.resize(before + 64 * 1024, 0);
            let n = self.stream.read(&mut self.buf[before..]).await?;
            self.buf.truncate(before + n);
            if n == 0 {
                return Err(ImapError::Closed);
            }
        }
    }
}

/// Quotes a mailbox name for a command (a literal is never needed: names
/// are sent as the server listed them, modified UTF-7 or its own UTF-8 as a
/// quoted string).
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
