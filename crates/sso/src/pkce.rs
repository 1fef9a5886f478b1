//! PKCE (RFC 7636), S256 only: `plain` would let a code thief who saw the
//! challenge redeem the code, so it is refused at the authorization.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

/// Whether `s` is a well-formed verifier (RFC 7636 section 4.1: 43 to 128
/// characters of `[A-Za-z0-9-._~]`); a challenge has the same alphabet and,
/// for S256, 43 characters.
pub fn well_formed(s: &str) -> bool {
    (43..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// The S256 challenge of a verifier.
pub fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()))
}

/// Whether `verifier` answers `challenge` (constant time).
pub fn verify(challenge: &str, verifier: &str) -> bool {
    well_formed(verifier) && bool::from(challenge_of(verifier).as_bytes().ct_eq(challenge.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_appendix_b_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(challenge_of(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(verify("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", verifier));
    }

    #[test]
    fn wrong_short_or_plain_verifiers_fail() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = challenge_of(verifier);
        assert!(!verify(&challenge, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj"));
        assert!(!verify(&challenge, "court"));
        // The challenge itself presented as the verifier (a plain downgrade).
        assert!(!verify(&challenge, &challenge));
        assert!(!verify(verifier, verifier), "plain is not S256");
        assert!(!well_formed(&"a".repeat(129)));
        assert!(!well_formed(&format!("{}é", "a".repeat(43))));
    }
}
