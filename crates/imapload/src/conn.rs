//! One IMAP connection: plain TCP or TLS (the benchmarked servers use
//! self-signed certificates, so any certificate is accepted: this is a load
//! generator, not a mail client), tagged commands, literals.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::resp::{self, Response, Status};

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Where and how to connect.
#[derive(Clone)]
pub struct Target {
    pub addr: String,
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

/// No command may take longer than this; past it the session is abandoned.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The responses to one command: untagged ones, then the tagged completion.
#[derive(Debug)]
pub struct Reply {
    pub untagged: Vec<Response>,
    pub status: Status,
    pub code: Option<String>,
    pub text: String,
}

pub struct Conn {
    stream: Box<dyn Stream>,
    buf: Vec<u8>,
    start: usize,
    next_tag: u32,
    pub literal_plus: bool,
}

impl Conn {
    /// Connects and reads the greeting (which must be `* OK`).
    pub async fn connect(target: &Target) -> anyhow::Result<Conn> {
        let tcp = TcpStream::connect(&target.addr).await.with_context(|| format!("connect {}", target.addr))?;
        tcp.set_nodelay(true)?;
        let stream: Box<dyn Stream> = match &target.tls {
            None => Box::new(tcp),
            Some(cfg) => {
                let name = rustls::pki_types::ServerName::try_from("localhost")?;
                Box::new(tokio_rustls::TlsConnector::from(cfg.clone()).connect(name, tcp).await?)
            }
        };
        let mut c = Conn { stream, buf: Vec::with_capacity(16 * 1024), start: 0, next_tag: 1, literal_plus: false };
        match tokio::time::timeout(COMMAND_TIMEOUT, c.read_response()).await?? {
            Response::State { status: Status::Ok, code, .. } => {
                c.literal_plus = code.is_some_and(|c| c.split(' ').any(|w| w.eq_ignore_ascii_case("LITERAL+")));
            }
            other => bail!("unexpected greeting {other:?}"),
        }
        Ok(c)
    }

    /// Sends `line` (without tag) and collects the replies. With `literal`,
    /// `line` must end in the literal's `{n}` marker, added here.
    pub async fn command(&mut self, line: &str, literal: Option<&[u8]>) -> anyhow::Result<Reply> {
        tokio::time::timeout(COMMAND_TIMEOUT, self.command_inner(line, literal))
            .await
            .with_context(|| format!("no answer within {COMMAND_TIMEOUT:?} to {}", short(line)))?
    }

    async fn command_inner(&mut self, line: &str, literal: Option<&[u8]>) -> anyhow::Result<Reply> {
        let tag = format!("a{}", self.next_tag);
        self.next_tag += 1;
        let mut untagged = Vec::new();
        match literal {
            None => self.stream.write_all(format!("{tag} {line}\r\n").as_bytes()).await?,
            Some(data) if self.literal_plus => {
                let mut out = format!("{tag} {line} {{{}+}}\r\n", data.len()).into_bytes();
                out.extend_from_slice(data);
                out.extend_from_slice(b"\r\n");
                self.stream.write_all(&out).await?;
            }
            Some(data) => {
                self.stream.write_all(format!("{tag} {line} {{{}}}\r\n", data.len()).as_bytes()).await?;
                loop {
                    match self.read_response().await? {
                        Response::Continue => break,
                        r @ Response::Tagged { .. } => return finish(&tag, r, untagged),
                        r => untagged.push(r),
                    }
                }
                self.stream.write_all(data).await?;
                self.stream.write_all(b"\r\n").await?;
            }
        }
        loop {
            match self.read_response().await? {
                r @ Response::Tagged { .. } => return finish(&tag, r, untagged),
                Response::Continue => bail!("unexpected continuation request after {}", short(line)),
                r => untagged.push(r),
            }
        }
    }

    /// A fresh tag, for commands written with [`Conn::write`] (pipelining, IDLE).
    pub fn tag(&mut self) -> String {
        let tag = format!("a{}", self.next_tag);
        self.next_tag += 1;
        tag
    }

    /// Writes raw bytes (a whole command, tag included).
    pub async fn write(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.stream.write_all(bytes).await?;
        Ok(())
    }

    /// Reads the next response, whatever it is (no timeout: the caller sets one).
    pub async fn read(&mut self) -> anyhow::Result<Response> {
        self.read_response().await
    }

    /// Reads one complete response.
    async fn read_response(&mut self) -> anyhow::Result<Response> {
        loop {
            if let Some(n) = resp::frame(&self.buf[self.start..]) {
                let r = resp::parse(&self.buf[self.start..self.start + n]);
                self.start += n;
                if self.start == self.buf.len() {
                    self.buf.clear();
                    self.start = 0;
                }
                return Ok(r?);
            }
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                bail!("connection closed by the server");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

fn finish(tag: &str, r: Response, untagged: Vec<Response>) -> anyhow::Result<Reply> {
    let Response::Tagged { tag: got, status, code, text } = r else { unreachable!("finish gets tagged replies") };
    if got != tag {
        bail!("reply tagged {got} while waiting for {tag}");
    }
    Ok(Reply { untagged, status, code, text })
}

/// The first words of a command, for messages (never the LOGIN password).
fn short(line: &str) -> String {
    line.split(' ').take(if line.starts_with("LOGIN") { 2 } else { 3 }).collect::<Vec<_>>().join(" ")
}

/// A TLS configuration that accepts any server certificate.
pub fn insecure_tls() -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
        .with_no_client_auth();
    Arc::new(cfg)
}

#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAny {
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
