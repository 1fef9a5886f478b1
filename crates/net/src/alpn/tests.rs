use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, ServerConnection, SignatureScheme};

use super::*;
use crate::Certificates;

const NAME: &str = "mx.ac-test.fr";

/// Takes any certificate and signature: the tests look at which certificate
/// was presented (webpki, which rustls checks signatures with, refuses the
/// validation certificate's critical extension; the ACME server's client
/// accepts it).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The certificate in service (for every port) and the web's configuration
/// answering TLS-ALPN-01 from `challenges`.
fn web_config(challenges: Arc<AlpnChallenges>) -> (Arc<ServerConfig>, CertificateDer<'static>) {
    let made = rcgen::generate_simple_self_signed(vec![NAME.to_owned()]).unwrap();
    let certs = Arc::new(Certificates::from_pem(&made.cert.pem(), &made.signing_key.serialize_pem()).unwrap());
    let shared = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(certs.clone());
    (with_tls_alpn(&shared, challenges), certs.leaf())
}

/// A handshake in memory: the leaf presented and the protocol negotiated,
/// or the error.
fn handshake(
    server: &Arc<ServerConfig>,
    sni: &str,
    alpn: &[&[u8]],
) -> Result<(CertificateDer<'static>, Option<Vec<u8>>), rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut client = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    client.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let mut client = ClientConnection::new(Arc::new(client), ServerName::try_from(sni.to_owned()).unwrap()).unwrap();
    let mut server = ServerConnection::new(server.clone()).unwrap();
    for _ in 0..10 {
        if !client.is_handshaking() && !server.is_handshaking() {
            break;
        }
        let mut buf = Vec::new();
        client.write_tls(&mut buf).unwrap();
        server.read_tls(&mut buf.as_slice()).unwrap();
        server.process_new_packets()?;
        let mut buf = Vec::new();
        server.write_tls(&mut buf).unwrap();
        client.read_tls(&mut buf.as_slice()).unwrap();
        client.process_new_packets()?;
    }
    assert_eq!(client.alpn_protocol(), server.alpn_protocol());
    let leaf = client.peer_certificates().unwrap()[0].clone().into_owned();
    Ok((leaf, server.alpn_protocol().map(<[u8]>::to_vec)))
}

fn digest(byte: u8) -> [u8; 32] {
    [byte; 32]
}

#[test]
fn an_acme_tls_hello_gets_the_validation_certificate_of_its_name() {
    let challenges = Arc::new(AlpnChallenges::default());
    let (config, usual) = web_config(challenges.clone());
    assert_eq!(challenges.put("MX.ac-test.fr", &digest(7)).unwrap(), NAME);
    challenges.put("autre.ac-test.fr", &digest(9)).unwrap();

    let (leaf, negotiated) = handshake(&config, NAME, &[ACME_TLS_ALPN]).unwrap();
    assert_ne!(leaf, usual);
    assert_eq!(acme_identifier(&leaf), Some((true, [&[0x04, 0x20][..], &digest(7)].concat())));
    assert!(is_acme_tls(negotiated.as_deref()), "{negotiated:?}");
    let (other, _) = handshake(&config, "autre.ac-test.fr", &[ACME_TLS_ALPN]).unwrap();
    assert_eq!(acme_identifier(&other).unwrap().1[2..], digest(9));

    // A name no order waits for, or one forgotten: no certificate at all.
    assert!(handshake(&config, "inconnu.ac-test.fr", &[ACME_TLS_ALPN]).is_err());
    challenges.forget(&[NAME.to_owned()]);
    assert!(handshake(&config, NAME, &[ACME_TLS_ALPN]).is_err());
}

#[test]
fn every_other_hello_gets_the_certificate_in_service() {
    let challenges = Arc::new(AlpnChallenges::default());
    let (config, usual) = web_config(challenges.clone());
    challenges.put(NAME, &digest(7)).unwrap();
    // No ALPN (mail clients, scripts), a browser's, and acme-tls/1 among others.
    let offers: [&[&[u8]]; 3] = [&[], &[b"h2", b"http/1.1"], &[ACME_TLS_ALPN, b"http/1.1"]];
    for alpn in offers {
        let (leaf, negotiated) = handshake(&config, NAME, alpn).unwrap();
        assert_eq!(leaf, usual, "{alpn:?}");
        assert!(!is_acme_tls(negotiated.as_deref()));
        assert_eq!(negotiated.is_some(), !alpn.is_empty(), "{alpn:?}");
    }
}

/// RFC 8737 section 3: self-signed, the name as its one subjectAltName,
/// id-pe-acmeIdentifier (1.3.6.1.5.5.7.1.31) critical, its value the DER
/// OCTET STRING of the 32-byte digest.
#[test]
fn the_validation_certificate_is_as_rfc_8737_says() {
    let digest: Vec<u8> = (0..32).collect();
    let certified = validation_certificate(NAME, &digest).unwrap();
    let der = &certified.cert[0];
    assert_eq!(certified.cert.len(), 1);
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    assert_eq!(cert.issuer().as_raw(), cert.subject().as_raw(), "self-signed");
    let san = cert.subject_alternative_name().unwrap().unwrap();
    assert!(matches!(san.value.general_names[..], [x509_parser::extensions::GeneralName::DNSName(NAME)]));
    let mut expected = vec![0x04, 0x20];
    expected.extend_from_slice(&digest);
    assert_eq!(acme_identifier(der), Some((true, expected)));

    assert!(matches!(validation_certificate(NAME, &digest[..31]), Err(NetError::Digest(31))));
}

#[test]
fn an_ip_address_is_answered_under_its_reverse_name_with_an_ip_certificate() {
    let challenges = Arc::new(AlpnChallenges::default());
    let (config, _) = web_config(challenges.clone());
    assert_eq!(challenges.put("192.0.2.10", &digest(1)).unwrap(), "10.2.0.192.in-addr.arpa");
    assert_eq!(sni_name("2001:db8::1"), "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
    let (leaf, _) = handshake(&config, "10.2.0.192.in-addr.arpa", &[ACME_TLS_ALPN]).unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&leaf).unwrap();
    let san = cert.subject_alternative_name().unwrap().unwrap();
    assert!(matches!(san.value.general_names[..], [x509_parser::extensions::GeneralName::IPAddress([192, 0, 2, 10])]));
}

/// The acmeIdentifier extension of a certificate: critical, raw value.
fn acme_identifier(der: &[u8]) -> Option<(bool, Vec<u8>)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    let acme_identifier =
        |e: &&x509_parser::extensions::X509Extension<'_>| e.oid.to_id_string() == "1.3.6.1.5.5.7.1.31";
    cert.extensions().iter().find(acme_identifier).map(|e| (e.critical, e.value.to_vec()))
}
