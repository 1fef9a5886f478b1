//! The ceremony checks against a software authenticator made here (ES256
//! keys from ring), each refusal named after the attack it stops.

use ciborium::Value;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use sha2::{Digest, Sha256};

use super::*;

const RP: &str = "webmail.ac-test.fr";
const ORIGIN: &str = "https://webmail.ac-test.fr";

fn cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).unwrap();
    out
}

fn i(n: i64) -> Value {
    Value::Integer(n.into())
}

/// A software authenticator with one ES256 key.
struct Authenticator {
    key: EcdsaKeyPair,
    id: Vec<u8>,
}

impl Authenticator {
    fn new() -> Authenticator {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        Authenticator { key, id: vec![7; 16] }
    }

    fn cose(&self) -> Vec<u8> {
        let point = self.key.public_key().as_ref();
        cbor(&Value::Map(vec![
            (i(1), i(2)),
            (i(3), i(-7)),
            (i(-1), i(1)),
            (i(-2), Value::Bytes(point[1..33].to_vec())),
            (i(-3), Value::Bytes(point[33..].to_vec())),
        ]))
    }

    fn auth_data(&self, rp: &str, flags: u8, count: u32, attested: bool) -> Vec<u8> {
        let mut out = Sha256::digest(rp.as_bytes()).to_vec();
        out.push(flags | if attested { FLAG_AT } else { 0 });
        out.extend_from_slice(&count.to_be_bytes());
        if attested {
            out.extend_from_slice(&[0; 16]);
            out.extend_from_slice(&(self.id.len() as u16).to_be_bytes());
            out.extend_from_slice(&self.id);
            out.extend_from_slice(&self.cose());
        }
        out
    }

    fn sign(&self, auth_data: &[u8], client_data: &[u8]) -> Vec<u8> {
        let mut signed = auth_data.to_vec();
        signed.extend_from_slice(&Sha256::digest(client_data));
        self.key.sign(&SystemRandom::new(), &signed).unwrap().as_ref().to_vec()
    }
}

fn client(kind: &str, challenge: &[u8], origin: &str) -> Vec<u8> {
    format!(r#"{{"type":"{kind}","challenge":"{}","origin":"{origin}","crossOrigin":false}}"#, b64url(challenge))
        .into_bytes()
}

#[test]
fn a_registration_gives_the_credential_and_its_key() {
    let a = Authenticator::new();
    let auth = a.auth_data(RP, FLAG_UP | FLAG_UV, 0, true);
    let object = cbor(&Value::Map(vec![
        (Value::Text("fmt".into()), Value::Text("none".into())),
        (Value::Text("attStmt".into()), Value::Map(vec![])),
        (Value::Text("authData".into()), Value::Bytes(auth.clone())),
    ]));
    assert_eq!(attestation_auth_data(&object).unwrap(), auth);
    let parsed = AuthData::parse(&auth).unwrap();
    parsed.check(RP, true).unwrap();
    let attested = parsed.attested.unwrap();
    assert_eq!(attested.credential_id, a.id);
    assert_eq!(attested.public_key, a.cose());
    assert!(matches!(PublicKey::from_cose(&attested.public_key).unwrap(), PublicKey::Es256(p) if p.len() == 65));
    let json = client("webauthn.create", b"0123456789abcdef", ORIGIN);
    assert_eq!(client_data(&json, Ceremony::Create, ORIGIN).unwrap(), b"0123456789abcdef");
}

#[test]
fn extensions_after_the_key_are_read_and_nothing_else_may_follow() {
    let a = Authenticator::new();
    let mut auth = a.auth_data(RP, FLAG_UP | FLAG_ED, 0, true);
    auth.extend_from_slice(&cbor(&Value::Map(vec![(Value::Text("credProtect".into()), i(2))])));
    let parsed = AuthData::parse(&auth).unwrap();
    assert_eq!(parsed.attested.unwrap().public_key, a.cose(), "the key ends where its CBOR ends");
    auth.push(0);
    assert_eq!(AuthData::parse(&auth), Err(Check::Malformed));
    let mut short = a.auth_data(RP, FLAG_UP, 0, true);
    short.truncate(60);
    assert_eq!(AuthData::parse(&short), Err(Check::Malformed));
}

#[test]
fn an_assertion_verifies_with_the_registered_key() {
    let a = Authenticator::new();
    let key = PublicKey::from_cose(&a.cose()).unwrap();
    let auth = a.auth_data(RP, FLAG_UP | FLAG_UV, 5, false);
    let json = client("webauthn.get", b"challenge-bytes!", ORIGIN);
    let signature = a.sign(&auth, &json);
    key.verify(&auth, &json, &signature).unwrap();
    // Another client data (another challenge) under the same signature.
    let other = client("webauthn.get", b"another-challenge", ORIGIN);
    assert_eq!(key.verify(&auth, &other, &signature), Err(Check::BadSignature));
    // Another key.
    let b = Authenticator::new();
    let wrong = PublicKey::from_cose(&b.cose()).unwrap();
    assert_eq!(wrong.verify(&auth, &json, &signature), Err(Check::BadSignature));
    assert_eq!(key.verify(&auth, &json, b"\x30\x00"), Err(Check::BadSignature));
}

#[test]
fn ed25519_keys_verify_too() {
    let rng = SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let cose = cbor(&Value::Map(vec![
        (i(1), i(1)),
        (i(3), i(-8)),
        (i(-1), i(6)),
        (i(-2), Value::Bytes(pair.public_key().as_ref().to_vec())),
    ]));
    let key = PublicKey::from_cose(&cose).unwrap();
    let auth = Authenticator::new().auth_data(RP, FLAG_UP, 1, false);
    let json = client("webauthn.get", b"c", ORIGIN);
    let mut signed = auth.clone();
    signed.extend_from_slice(&Sha256::digest(&json));
    key.verify(&auth, &json, pair.sign(&signed).as_ref()).unwrap();
}

#[test]
fn a_page_of_another_origin_is_refused() {
    // A phishing site relaying our challenge: the browser writes its own origin.
    let json = client("webauthn.get", b"c", "https://webmail.ac-test.fr.evil.example");
    assert_eq!(client_data(&json, Ceremony::Get, ORIGIN), Err(Check::WrongOrigin));
    let json = client("webauthn.get", b"c", "http://webmail.ac-test.fr");
    assert_eq!(client_data(&json, Ceremony::Get, ORIGIN), Err(Check::WrongOrigin));
    // Our page framed by another site.
    let framed = format!(r#"{{"type":"webauthn.get","challenge":"YQ","origin":"{ORIGIN}","crossOrigin":true}}"#);
    assert_eq!(client_data(framed.as_bytes(), Ceremony::Get, ORIGIN), Err(Check::WrongOrigin));
}

#[test]
fn a_registration_answer_is_not_a_login() {
    let json = client("webauthn.create", b"c", ORIGIN);
    assert_eq!(client_data(&json, Ceremony::Get, ORIGIN), Err(Check::WrongType));
    for bad in
        [&b"not json"[..], br#"{"type":"webauthn.get"}"#, br#"{"type":"webauthn.get","challenge":"!!","origin":"x"}"#]
    {
        assert!(client_data(bad, Ceremony::Get, "x").is_err());
    }
}

#[test]
fn a_credential_of_another_relying_party_is_refused() {
    let a = Authenticator::new();
    let auth = AuthData::parse(&a.auth_data("evil.example", FLAG_UP | FLAG_UV, 1, false)).unwrap();
    assert_eq!(auth.check(RP, true), Err(Check::WrongRelyingParty));
}

#[test]
fn user_verification_is_required_when_asked() {
    let a = Authenticator::new();
    let present = AuthData::parse(&a.auth_data(RP, FLAG_UP, 1, false)).unwrap();
    assert_eq!(present.check(RP, true), Err(Check::NoUserVerification));
    present.check(RP, false).unwrap();
    let absent = AuthData::parse(&a.auth_data(RP, FLAG_UV, 1, false)).unwrap();
    assert_eq!(absent.check(RP, false), Err(Check::NoUserPresence));
}

#[test]
fn a_counter_going_back_is_a_cloned_authenticator() {
    counter_moves_on(0, 0).unwrap();
    counter_moves_on(0, 1).unwrap();
    counter_moves_on(41, 42).unwrap();
    assert_eq!(counter_moves_on(42, 42), Err(Check::CounterRegressed));
    assert_eq!(counter_moves_on(42, 7), Err(Check::CounterRegressed));
    assert_eq!(counter_moves_on(42, 0), Err(Check::CounterRegressed));
}

#[test]
fn keys_we_do_not_verify_are_refused() {
    let p384 = cbor(&Value::Map(vec![(i(1), i(2)), (i(3), i(-35)), (i(-1), i(2))]));
    assert_eq!(PublicKey::from_cose(&p384), Err(Check::UnsupportedKey));
    let short = cbor(&Value::Map(vec![
        (i(1), i(2)),
        (i(3), i(-7)),
        (i(-1), i(1)),
        (i(-2), Value::Bytes(vec![1; 31])),
        (i(-3), Value::Bytes(vec![1; 32])),
    ]));
    assert_eq!(PublicKey::from_cose(&short), Err(Check::UnsupportedKey));
    assert_eq!(PublicKey::from_cose(b"\xff"), Err(Check::Malformed));
}
