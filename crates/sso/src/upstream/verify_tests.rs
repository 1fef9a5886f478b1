//! One test per refusal of [`super::verify::id_token`], with tokens signed
//! by a P-256 key made here (as an upstream provider would), and RS256
//! with a test-only RSA key (testdata/rsa-2048-pkcs1.der, made for these
//! tests with `openssl genrsa 2048`; ring cannot make RSA keys), since most
//! académie providers (LemonLDAP::NG, Keycloak) sign with RS256.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

use super::verify::{Expect, Refused, id_token, names_unknown_key};

const ISS: &str = "https://idp.ac-exemple.fr";
const NOW: i64 = 1_800_000_000;

struct Key {
    pkcs8: Vec<u8>,
    public: Vec<u8>,
}

fn key() -> Key {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap().as_ref().to_vec();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng).unwrap();
    Key { public: pair.public_key().as_ref().to_vec(), pkcs8 }
}

fn jwk(k: &Key, kid: &str) -> Value {
    json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
           "x": URL_SAFE_NO_PAD.encode(&k.public[1..33]), "y": URL_SAFE_NO_PAD.encode(&k.public[33..65])})
}

fn claims() -> Value {
    json!({"iss": ISS, "sub": "abc", "aud": "ardoise-a", "exp": NOW + 300, "iat": NOW, "nonce": "n-123",
           "email": "claire.martin@ac-demo.fr", "amr": ["pwd"]})
}

fn sign(k: &Key, kid: &str, claims: &Value) -> String {
    let mut h = Header::new(Algorithm::ES256);
    h.kid = Some(kid.into());
    jsonwebtoken::encode(&h, claims, &EncodingKey::from_ec_der(&k.pkcs8)).unwrap()
}

fn expect() -> Expect<'static> {
    Expect { issuer: ISS, client_id: "ardoise-a", nonce: "n-123", now: NOW }
}

fn check(token: &str, jwks: &Value) -> Result<(), Refused> {
    id_token(token, jwks, &expect()).map(|_| ())
}

#[test]
fn a_good_token_gives_its_claims() {
    let k = key();
    let jwks = json!({"keys": [jwk(&k, "k1")]});
    let claims = id_token(&sign(&k, "k1", &claims()), &jwks, &expect()).unwrap();
    assert_eq!(claims["email"], "claire.martin@ac-demo.fr");
}

#[test]
fn alg_none_is_refused() {
    let k = key();
    let jwks = json!({"keys": [jwk(&k, "k1")]});
    let head = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"k1"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims().to_string());
    assert_eq!(check(&format!("{head}.{body}."), &jwks), Err(Refused::Algorithm));
}

#[test]
fn hs256_with_the_public_key_as_secret_is_refused() {
    let k = key();
    let jwks = json!({"keys": [jwk(&k, "k1")]});
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some("k1".into());
    let token = jsonwebtoken::encode(&h, &claims(), &EncodingKey::from_secret(&k.public)).unwrap();
    assert_eq!(check(&token, &jwks), Err(Refused::Algorithm));
}

#[test]
fn a_key_of_another_type_than_the_algorithm_is_refused() {
    let k = key();
    let rsa = json!({"kty": "RSA", "kid": "k1", "n": "sXch", "e": "AQAB"});
    let token = sign(&k, "k1", &claims());
    assert_eq!(check(&token, &json!({"keys": [rsa]})), Err(Refused::Algorithm));
}

#[test]
fn another_key_is_refused() {
    let (k, other) = (key(), key());
    let token = sign(&other, "k1", &claims());
    assert_eq!(check(&token, &json!({"keys": [jwk(&k, "k1")]})), Err(Refused::Signature));
    let token = sign(&k, "k9", &claims());
    assert_eq!(check(&token, &json!({"keys": [jwk(&k, "k1")]})), Err(Refused::UnknownKey));
    assert!(names_unknown_key(&token, &json!({"keys": [jwk(&k, "k1")]})));
}

#[test]
fn a_tampered_payload_is_refused() {
    let k = key();
    let jwks = json!({"keys": [jwk(&k, "k1")]});
    let token = sign(&k, "k1", &claims());
    let parts: Vec<&str> = token.split('.').collect();
    let mut c = claims();
    c["email"] = json!("admin@ac-demo.fr");
    let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(c.to_string()), parts[2]);
    assert_eq!(check(&forged, &jwks), Err(Refused::Signature));
}

fn with(field: &str, value: Value) -> Value {
    let mut c = claims();
    c[field] = value;
    c
}

#[test]
fn claims_out_of_place_are_refused() {
    let k = key();
    let jwks = json!({"keys": [jwk(&k, "k1")]});
    let cases = [
        (with("iss", json!("https://idp.ac-exemple.fr.evil.example")), Refused::Issuer),
        (with("aud", json!("another-client")), Refused::Audience),
        (with("aud", json!(["ardoise-a", "another-client"])), Refused::Audience),
        (with("exp", json!(NOW - 120)), Refused::Expired),
        (with("iat", json!(NOW - 3600)), Refused::Expired),
        (with("iat", json!(NOW + 3600)), Refused::Future),
        (with("nonce", json!("n-124")), Refused::Nonce),
        (with("sub", json!("")), Refused::Malformed),
    ];
    for (c, refusal) in cases {
        assert_eq!(check(&sign(&k, "k1", &c), &jwks), Err(refusal), "{c}");
    }
    let mut no_nonce = claims();
    no_nonce.as_object_mut().unwrap().remove("nonce");
    assert_eq!(check(&sign(&k, "k1", &no_nonce), &jwks), Err(Refused::Nonce));
    let mut several = with("aud", json!(["ardoise-a", "another-client"]));
    several["azp"] = json!("ardoise-a");
    assert_eq!(check(&sign(&k, "k1", &several), &jwks), Ok(()));
}

#[test]
fn garbage_is_malformed() {
    let jwks = json!({"keys": []});
    assert_eq!(check("", &jwks), Err(Refused::Malformed));
    assert_eq!(check("a.b.c", &jwks), Err(Refused::Malformed));
}

/// The test RSA key's modulus (base64url), read off the key with
/// `openssl rsa -modulus` when it was made.
const RSA_N: &str = "ngbmLBJEqj_n44h9XNA-xX3ySd0nplZFaxBXkDFG6gmXPKsIhLPbCCdgF2-G1mVPrSmEArCALU8a_yf0vI9_btIgTvy-mivJFMmVk6vLyhG1ca4M8tg6mrIrRSPz0fNTi3Ux_Re3lclu6z8kXqMFUoWdiiaXmi8P4Db5EpGyJoREjtHRn1Dy_7uJJ5Wy6i7SCZcDB-IQkOu4chwG0Lo2mAEzTbZOiiqL-jYwcDHTsR-GYReNog66Ev1CL5VglBa44AHkQTN3lG6ZQ8Ht2PSCz7bTcTFhc5cN7StwTo16MMKuObLptJuQbej-3bThBzTBuAE0ny3SWbbHLXmw-DBgRw";

fn sign_rs256(kid: &str, claims: &Value) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some(kid.into());
    let key = EncodingKey::from_rsa_der(include_bytes!("testdata/rsa-2048-pkcs1.der"));
    jsonwebtoken::encode(&h, claims, &key).unwrap()
}

fn rsa_jwk(kid: &str) -> Value {
    json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": RSA_N, "e": "AQAB"})
}

#[test]
fn an_rs256_token_gives_its_claims_and_its_refusals_hold() {
    let jwks = json!({"keys": [rsa_jwk("r1")]});
    let got = id_token(&sign_rs256("r1", &claims()), &jwks, &expect()).unwrap();
    assert_eq!(got["email"], "claire.martin@ac-demo.fr");
    // The same key under an ES256 header, or an EC key named by an RS256 token: algorithm confusion.
    let ec = key();
    let token = sign(&ec, "r1", &claims());
    assert_eq!(check(&token, &jwks), Err(Refused::Algorithm));
    assert_eq!(check(&sign_rs256("k1", &claims()), &json!({"keys": [jwk(&ec, "k1")]})), Err(Refused::Algorithm));
    // HS256 with the RSA modulus as the secret.
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some("r1".into());
    let forged = jsonwebtoken::encode(&h, &claims(), &EncodingKey::from_secret(RSA_N.as_bytes())).unwrap();
    assert_eq!(check(&forged, &jwks), Err(Refused::Algorithm));
    // Another modulus: the signature does not verify.
    let mut other = rsa_jwk("r1");
    let mut n = RSA_N.to_owned();
    n.replace_range(10..11, if &RSA_N[10..11] == "A" { "B" } else { "A" });
    other["n"] = json!(n);
    assert_eq!(check(&sign_rs256("r1", &claims()), &json!({"keys": [other]})), Err(Refused::Signature));
    // A tampered payload.
    let token = sign_rs256("r1", &claims());
    let parts: Vec<&str> = token.split('.').collect();
    let forged =
        format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(with("sub", json!("root")).to_string()), parts[2]);
    assert_eq!(check(&forged, &jwks), Err(Refused::Signature));
    // Out-of-place claims are refused the same way as with ES256.
    assert_eq!(check(&sign_rs256("r1", &with("aud", json!("another-client"))), &jwks), Err(Refused::Audience));
}
