//! Server TLS configuration: PEM loading, self-signed generation, rustls settings.

use std::fs;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::Certificates;

/// File name of the generated certificate inside `<data>/tls/`.
const CERT_FILE: &str = "cert.pem";
/// File name of the generated private key inside `<data>/tls/`.
const KEY_FILE: &str = "key.pem";

/// Why the TLS material could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{0} holds no PEM certificate")]
    NoCertificate(PathBuf),
    #[error("{0} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)")]
    NoPrivateKey(PathBuf),
    #[error("a certificate was given without its key, or a key without its certificate")]
    HalfConfigured,
    #[error("{present} exists but {missing} does not: remove the former to generate a new pair")]
    IncompletePair { present: PathBuf, missing: PathBuf },
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("TLS-ALPN-01: the key authorization's SHA-256 digest has 32 bytes, not {0}")]
    Digest(usize),
    #[error("the certificate and key were rejected by rustls: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Builds the rustls server configuration shared by every TLS listener.
///
/// With `cert` and `key`, both PEM files are loaded as they are. Without them, the
/// pair lives in `data_dir/tls/`: it is generated (self-signed, for `hostname`,
/// `localhost`, `127.0.0.1` and `::1`) on first start and reused afterwards.
pub fn server_tls(
    data_dir: &Path,
    cert: Option<&Path>,
    key: Option<&Path>,
    hostname: &str,
) -> Result<Arc<ServerConfig>, NetError> {
    Ok(replaceable_server_tls(data_dir, cert, key, hostname)?.0)
}

/// [`server_tls`], with the [`Certificates`] through which another pair can
/// be installed while the listeners run (ACME).
pub fn replaceable_server_tls(
    data_dir: &Path,
    cert: Option<&Path>,
    key: Option<&Path>,
    hostname: &str,
) -> Result<(Arc<ServerConfig>, Arc<Certificates>), NetError> {
    let (cert_path, key_path) = match (cert, key) {
        (Some(cert), Some(key)) => (cert.to_path_buf(), key.to_path_buf()),
        (None, None) => {
            let dir = data_dir.join("tls");
            let pair = (dir.join(CERT_FILE), dir.join(KEY_FILE));
            ensure_self_signed(&dir, &pair.0, &pair.1, hostname)?;
            pair
        }
        _ => return Err(NetError::HalfConfigured),
    };
    let certs = load_certs(&cert_path)?;
    let key = load_private_key(&key_path)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certificates = Arc::new(Certificates::new(provider.clone(), certs, key)?);
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(certificates.clone());
    Ok((Arc::new(config), certificates))
}

/// Reads every certificate of a PEM file, leaf first; fails if there is none.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, NetError> {
    let read_err = |source| NetError::Read { path: path.to_path_buf(), source };
    let file = fs::File::open(path).map_err(read_err)?;
    let certs = rustls_pemfile::certs(&mut BufReader::new(file)).collect::<Result<Vec<_>, _>>().map_err(read_err)?;
    if certs.is_empty() {
        return Err(NetError::NoCertificate(path.to_path_buf()));
    }
    Ok(certs)
}

/// Reads the first private key of a PEM file.
pub fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, NetError> {
    let read_err = |source| NetError::Read { path: path.to_path_buf(), source };
    let file = fs::File::open(path).map_err(read_err)?;
    rustls_pemfile::private_key(&mut BufReader::new(file))
        .map_err(read_err)?
        .ok_or_else(|| NetError::NoPrivateKey(path.to_path_buf()))
}

/// How long a generated certificate is valid.
const VALIDITY: time::Duration = time::Duration::days(365);
/// A generated certificate this close to its end is replaced at start.
const RENEW_BEFORE: time::Duration = time::Duration::days(30);

/// Generates the self-signed pair unless both files already exist and the
/// certificate is still good for a while; a generated certificate near its
/// end (or one from before validity was bounded: "rcgen self signed cert",
/// 1975 to 4096) is replaced.
fn ensure_self_signed(dir: &Path, cert: &Path, key: &Path, hostname: &str) -> Result<(), NetError> {
    let exists = |path: &Path| path.try_exists().map_err(|source| NetError::Read { path: path.to_path_buf(), source });
    match (exists(cert)?, exists(key)?) {
        (true, true) => {
            let pem = fs::read_to_string(cert).map_err(|source| NetError::Read { path: cert.to_path_buf(), source })?;
            if !needs_renewal(&pem, hostname, time::OffsetDateTime::now_utc()) {
                return Ok(());
            }
            tracing::info!(path = %cert.display(), %hostname, "renewing the generated TLS certificate");
        }
        (false, false) => {}
        (true, false) => {
            return Err(NetError::IncompletePair { present: cert.to_path_buf(), missing: key.to_path_buf() });
        }
        (false, true) => {
            return Err(NetError::IncompletePair { present: key.to_path_buf(), missing: cert.to_path_buf() });
        }
    }

    let (cert_pem, key_pem) = self_signed(hostname, time::OffsetDateTime::now_utc())?;
    create_private_dir(dir)?;
    // The key is renamed into place before the certificate, so that a crash between the
    // two leaves a state that is reported (IncompletePair) or a certificate that does
    // not match its key (refused by rustls at start, with a clear error), never a
    // certificate whose key is lost.
    write_atomically(key, key_pem.as_bytes(), true)?;
    write_atomically(cert, cert_pem.as_bytes(), false)?;
    tracing::info!(path = %cert.display(), %hostname, "generated a self-signed TLS certificate");
    Ok(())
}

/// A certificate for `hostname` (its common name and first alternative
/// name), `localhost`, `127.0.0.1` and `::1`, valid for a year from `now`.
fn self_signed(hostname: &str, now: time::OffsetDateTime) -> Result<(String, String), NetError> {
    let mut names = vec![hostname.to_owned()];
    for extra in ["localhost", "127.0.0.1", "::1"] {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(extra)) {
            names.push(extra.to_owned());
        }
    }
    let mut params = rcgen::CertificateParams::new(names)?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, hostname);
    dn.push(rcgen::DnType::OrganizationName, "Ardoise (certificat auto-signé / self-signed)");
    params.distinguished_name = dn;
    // A little slack for clients whose clock is behind.
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + VALIDITY;
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Whether the generated certificate must be made again: unreadable, near
/// its end, longer-lived than we generate (older versions), or for another
/// host name.
fn needs_renewal(pem: &str, hostname: &str, now: time::OffsetDateTime) -> bool {
    match certificate_facts(pem) {
        Ok(c) => {
            c.not_after - now < RENEW_BEFORE
                || c.not_after - c.not_before > VALIDITY * 2
                || !c.names.iter().any(|n| n.eq_ignore_ascii_case(hostname))
                || !c.common_name.is_some_and(|cn| cn.eq_ignore_ascii_case(hostname))
        }
        Err(_) => true,
    }
}

/// What a certificate says of itself: its subject's common name, the names
/// it is valid for (DNS names, then IP addresses as text) and its dates.
/// The generated certificate's renewal and the ACME keeper read it.
#[derive(Debug, Clone)]
pub struct CertificateFacts {
    pub common_name: Option<String>,
    pub names: Vec<String>,
    pub not_before: time::OffsetDateTime,
    pub not_after: time::OffsetDateTime,
}

/// The facts of the first certificate of a PEM text, or why it cannot be read.
pub fn certificate_facts(pem: &str) -> Result<CertificateFacts, String> {
    use x509_parser::extensions::GeneralName;
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
    let cert = pem.parse_x509().map_err(|e| e.to_string())?;
    let common_name = cert.subject().iter_common_name().next().and_then(|cn| cn.as_str().ok()).map(str::to_owned);
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => names.push((*d).to_owned()),
                GeneralName::IPAddress(bytes) => {
                    if let Ok(v4) = <[u8; 4]>::try_from(*bytes) {
                        names.push(std::net::IpAddr::from(v4).to_string());
                    } else if let Ok(v6) = <[u8; 16]>::try_from(*bytes) {
                        names.push(std::net::IpAddr::from(v6).to_string());
                    }
                }
                _ => {}
            }
        }
    }
    let validity = cert.validity();
    Ok(CertificateFacts {
        common_name,
        names,
        not_before: validity.not_before.to_datetime(),
        not_after: validity.not_after.to_datetime(),
    })
}

/// Creates the folder holding the generated pair, readable by the owner only.
fn create_private_dir(dir: &Path) -> Result<(), NetError> {
    let write_err = |source| NetError::Write { path: dir.to_path_buf(), source };
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(write_err)
}

/// Writes `bytes` to a temporary sibling, syncs it and renames it over
/// `path` (readable by the owner only when `secret`); creates the folder,
/// private, when missing.
pub fn write_atomically(path: &Path, bytes: &[u8], secret: bool) -> Result<(), NetError> {
    let tmp = path.with_extension("pem.tmp");
    let write_err = |source| NetError::Write { path: path.to_path_buf(), source };
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    if let Some(parent) = path.parent()
        && !parent.exists()
    {
        create_private_dir(parent)?;
    }
    let mut file = options.open(&tmp).map_err(write_err)?;
    file.write_all(bytes).map_err(write_err)?;
    file.sync_all().map_err(write_err)?;
    drop(file);
    fs::rename(&tmp, path).map_err(write_err)?;
    if let Some(parent) = path.parent() {
        // Syncing the folder makes the rename itself durable; failing to open it for
        // that purpose (on some platforms) is not worth refusing to start.
        if let Ok(dir) = fs::File::open(parent) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_once_then_reuses_the_same_pair() {
        let data = tempfile::tempdir().unwrap();
        server_tls(data.path(), None, None, "mx.ac-demo.fr").unwrap();
        let cert_path = data.path().join("tls").join(CERT_FILE);
        let key_path = data.path().join("tls").join(KEY_FILE);
        let cert = fs::read(&cert_path).unwrap();
        let key = fs::read(&key_path).unwrap();
        assert!(String::from_utf8_lossy(&cert).contains("BEGIN CERTIFICATE"));

        server_tls(data.path(), None, None, "mx.ac-demo.fr").unwrap();
        assert_eq!(fs::read(&cert_path).unwrap(), cert);
        assert_eq!(fs::read(&key_path).unwrap(), key);
    }

    #[cfg(unix)]
    /// Issue 25, item 23: the generated certificate was named « rcgen self
    /// signed cert » and valid from 1975 to 4096.
    #[test]
    fn generated_certificate_names_the_host_and_lasts_a_year() {
        let data = tempfile::tempdir().unwrap();
        server_tls(data.path(), None, None, "mail.ac-demo.fr").unwrap();
        let pem = fs::read_to_string(data.path().join("tls").join(CERT_FILE)).unwrap();
        let generated = certificate_facts(&pem).unwrap();
        assert_eq!(generated.common_name.as_deref(), Some("mail.ac-demo.fr"));
        let days = (generated.not_after - generated.not_before).whole_days();
        assert!((365..=367).contains(&days), "{days}");
        assert_eq!(generated.names, ["mail.ac-demo.fr", "localhost", "127.0.0.1", "::1"]);
    }

    /// A generated certificate near its end, from an older version, or for
    /// another host name is replaced at start; a fresh one is kept.
    #[test]
    fn generated_certificates_are_renewed() {
        let now = time::OffsetDateTime::now_utc();
        let (fresh, _) = self_signed("mail.ac-demo.fr", now).unwrap();
        assert!(!needs_renewal(&fresh, "mail.ac-demo.fr", now));
        assert!(needs_renewal(&fresh, "autre.ac-demo.fr", now));
        assert!(needs_renewal(&fresh, "mail.ac-demo.fr", now + time::Duration::days(340)));
        let old_style = rcgen::generate_simple_self_signed(vec!["mail.ac-demo.fr".to_owned()]).unwrap();
        assert!(needs_renewal(&old_style.cert.pem(), "mail.ac-demo.fr", now));

        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join("tls");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(CERT_FILE), old_style.cert.pem()).unwrap();
        fs::write(dir.join(KEY_FILE), old_style.signing_key.serialize_pem()).unwrap();
        server_tls(data.path(), None, None, "mail.ac-demo.fr").unwrap();
        let renewed = fs::read_to_string(dir.join(CERT_FILE)).unwrap();
        assert_ne!(renewed, old_style.cert.pem());
        assert!(!needs_renewal(&renewed, "mail.ac-demo.fr", now));
    }

    #[test]
    fn generated_key_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let data = tempfile::tempdir().unwrap();
        server_tls(data.path(), None, None, "localhost").unwrap();
        let mode = fs::metadata(data.path().join("tls").join(KEY_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn loads_explicit_pem_files() {
        let data = tempfile::tempdir().unwrap();
        let generated = rcgen::generate_simple_self_signed(vec!["mail.example.fr".to_owned()]).unwrap();
        let cert = data.path().join("my-cert.pem");
        let key = data.path().join("my-key.pem");
        fs::write(&cert, generated.cert.pem()).unwrap();
        fs::write(&key, generated.signing_key.serialize_pem()).unwrap();

        server_tls(data.path(), Some(&cert), Some(&key), "ignored").unwrap();
        assert_eq!(load_certs(&cert).unwrap()[0].as_ref(), generated.cert.der().as_ref());
        // Explicit files must not trigger generation in the data folder.
        assert!(!data.path().join("tls").exists());
    }

    #[test]
    fn missing_file_is_a_clear_error() {
        let data = tempfile::tempdir().unwrap();
        let cert = data.path().join("absent-cert.pem");
        let key = data.path().join("absent-key.pem");
        let err = server_tls(data.path(), Some(&cert), Some(&key), "x").unwrap_err();
        assert!(matches!(&err, NetError::Read { path, .. } if path == &cert), "{err}");
        assert!(err.to_string().contains("absent-cert.pem"));
    }

    #[test]
    fn garbage_files_are_clear_errors() {
        let data = tempfile::tempdir().unwrap();
        let cert = data.path().join("cert.pem");
        let key = data.path().join("key.pem");
        fs::write(&cert, "this is not PEM\n").unwrap();
        fs::write(&key, "neither is this\n").unwrap();
        let err = server_tls(data.path(), Some(&cert), Some(&key), "x").unwrap_err();
        assert!(matches!(err, NetError::NoCertificate(ref p) if p == &cert), "{err}");

        let generated = rcgen::generate_simple_self_signed(vec!["a.fr".to_owned()]).unwrap();
        fs::write(&cert, generated.cert.pem()).unwrap();
        let err = server_tls(data.path(), Some(&cert), Some(&key), "x").unwrap_err();
        assert!(matches!(err, NetError::NoPrivateKey(ref p) if p == &key), "{err}");
    }

    #[test]
    fn mismatched_key_is_refused() {
        let data = tempfile::tempdir().unwrap();
        let one = rcgen::generate_simple_self_signed(vec!["a.fr".to_owned()]).unwrap();
        let two = rcgen::generate_simple_self_signed(vec!["b.fr".to_owned()]).unwrap();
        let cert = data.path().join("cert.pem");
        let key = data.path().join("key.pem");
        fs::write(&cert, one.cert.pem()).unwrap();
        fs::write(&key, two.signing_key.serialize_pem()).unwrap();
        let err = server_tls(data.path(), Some(&cert), Some(&key), "x").unwrap_err();
        assert!(matches!(err, NetError::Rustls(_)), "{err}");
    }

    #[test]
    fn half_configuration_is_refused() {
        let data = tempfile::tempdir().unwrap();
        let cert = data.path().join("cert.pem");
        assert!(matches!(server_tls(data.path(), Some(&cert), None, "x"), Err(NetError::HalfConfigured)));
    }

    #[test]
    fn lone_generated_file_is_reported() {
        let data = tempfile::tempdir().unwrap();
        server_tls(data.path(), None, None, "localhost").unwrap();
        fs::remove_file(data.path().join("tls").join(CERT_FILE)).unwrap();
        let err = server_tls(data.path(), None, None, "localhost").unwrap_err();
        assert!(matches!(err, NetError::IncompletePair { .. }), "{err}");
    }
}
