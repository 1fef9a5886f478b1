//! The checks of an upstream provider's ID token (OpenID Connect Core
//! 3.1.3.7), pure so that each refusal is tested alone: the algorithm is
//! RS256 or ES256 and the key of the provider's JWKS named by `kid` has
//! the matching type (so `alg: none`, HS256 signed with a public key, or an
//! RSA key offered for ES256 are refused before any signature is looked
//! at); the signature; `iss` exactly the discovered issuer; our client id
//! in `aud` (and `azp` when there are several audiences); `exp` in the
//! future and `iat` not in the future (a minute of clock skew, and not
//! older than ten minutes); the `nonce` we sent, compared in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

/// Clock skew allowed between the provider and us, in seconds.
const LEEWAY: i64 = 60;
/// Oldest `iat` accepted: a token is used right after it is issued.
const MAX_AGE: i64 = 600;

/// What the token must say.
pub struct Expect<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub now: i64,
}

/// Why a token was refused (the journal's and the log's word).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Malformed,
    Algorithm,
    UnknownKey,
    Signature,
    Issuer,
    Audience,
    Expired,
    Future,
    Nonce,
}

impl Refused {
    pub fn as_str(self) -> &'static str {
        match self {
            Refused::Malformed => "id-token-malformed",
            Refused::Algorithm => "id-token-algorithm",
            Refused::UnknownKey => "id-token-unknown-key",
            Refused::Signature => "id-token-signature",
            Refused::Issuer => "id-token-issuer",
            Refused::Audience => "id-token-audience",
            Refused::Expired => "id-token-expired",
            Refused::Future => "id-token-future",
            Refused::Nonce => "id-token-nonce",
        }
    }
}

/// The header's algorithm and key id, read without trusting anything.
fn header(token: &str) -> Result<(String, Option<String>), Refused> {
    let first = token.split('.').next().ok_or(Refused::Malformed)?;
    let bytes = URL_SAFE_NO_PAD.decode(first).map_err(|_| Refused::Malformed)?;
    let h: Value = serde_json::from_slice(&bytes).map_err(|_| Refused::Malformed)?;
    let alg = h.get("alg").and_then(Value::as_str).ok_or(Refused::Malformed)?.to_owned();
    let kid = h.get("kid").and_then(Value::as_str).map(str::to_owned);
    Ok((alg, kid))
}

/// The key of `jwks` for `alg`: the one named by `kid`, or the only key of
/// the right type when the token names none.
fn key(jwks: &Value, alg: Algorithm, kid: Option<&str>) -> Result<DecodingKey, Refused> {
    let keys = jwks.get("keys").and_then(Value::as_array).ok_or(Refused::UnknownKey)?;
    let (kty, crv) = match alg {
        Algorithm::RS256 => ("RSA", None),
        _ => ("EC", Some("P-256")),
    };
    let fits = |k: &&Value| {
        let s = |name: &str| k.get(name).and_then(Value::as_str);
        s("kty") == Some(kty)
            && (crv.is_none() || s("crv") == crv)
            && s("use").is_none_or(|u| u == "sig")
            && s("alg").is_none_or(|a| a == if alg == Algorithm::RS256 { "RS256" } else { "ES256" })
    };
    let candidates: Vec<&Value> = match kid {
        Some(kid) => keys.iter().filter(|k| k.get("kid").and_then(Value::as_str) == Some(kid)).collect(),
        None => keys.iter().filter(fits).collect(),
    };
    let [k] = candidates.as_slice() else { return Err(Refused::UnknownKey) };
    if !fits(k) {
        // The named key is of another type than the algorithm claims.
        return Err(Refused::Algorithm);
    }
    let s = |name: &str| k.get(name).and_then(Value::as_str).ok_or(Refused::UnknownKey);
    let decoded = match alg {
        Algorithm::RS256 => DecodingKey::from_rsa_components(s("n")?, s("e")?),
        _ => DecodingKey::from_ec_components(s("x")?, s("y")?),
    };
    decoded.map_err(|_| Refused::UnknownKey)
}

/// Whether the token names a key `jwks` lacks (the key set is then fetched
/// again once: the provider may have rotated its keys).
pub fn names_unknown_key(token: &str, jwks: &Value) -> bool {
    let Ok((_, Some(kid))) = header(token) else { return false };
    let keys = jwks.get("keys").and_then(Value::as_array);
    !keys.is_some_and(|ks| ks.iter().any(|k| k.get("kid").and_then(Value::as_str) == Some(kid.as_str())))
}

/// Checks `token` against the provider's key set and `expect`; the claims
/// when it holds.
pub fn id_token(token: &str, jwks: &Value, expect: &Expect<'_>) -> Result<Map<String, Value>, Refused> {
    let (alg, kid) = header(token)?;
    let alg = match alg.as_str() {
        "RS256" => Algorithm::RS256,
        "ES256" => Algorithm::ES256,
        _ => return Err(Refused::Algorithm),
    };
    let key = key(jwks, alg, kid.as_deref())?;
    let mut v = Validation::new(alg);
    // Time and audience are checked below, with our own words for each.
    v.validate_exp = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &v).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidSignature => Refused::Signature,
        jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => Refused::Algorithm,
        _ => Refused::Malformed,
    })?;
    let claims = data.claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(expect.issuer) {
        return Err(Refused::Issuer);
    }
    if text("sub").is_none_or(str::is_empty) {
        return Err(Refused::Malformed);
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !audiences.contains(&expect.client_id) {
        return Err(Refused::Audience);
    }
    if audiences.len() > 1 && text("azp") != Some(expect.client_id) {
        return Err(Refused::Audience);
    }
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    let (Some(exp), Some(iat)) = (number("exp"), number("iat")) else { return Err(Refused::Malformed) };
    if exp + LEEWAY <= expect.now || iat < expect.now - MAX_AGE {
        return Err(Refused::Expired);
    }
    if iat > expect.now + LEEWAY {
        return Err(Refused::Future);
    }
    let nonce = text("nonce").unwrap_or("");
    if nonce.len() != expect.nonce.len() || !bool::from(nonce.as_bytes().ct_eq(expect.nonce.as_bytes())) {
        return Err(Refused::Nonce);
    }
    Ok(claims)
}
