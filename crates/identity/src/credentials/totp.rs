//! TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30 s) and its QR code, rendered on
//! the server as SVG so the page needs neither script nor external service.

use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds per step.
pub const STEP: u64 = 30;

/// A new random seed (160 bits, as RFC 4226 recommends), base32.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    match Secret::Raw(bytes.to_vec()).to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => unreachable!("to_encoded gives an encoded secret"),
    }
}

fn totp(secret_b32: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_owned()).to_bytes().ok()?;
    Some(TOTP::new_unchecked(Algorithm::SHA1, 6, 1, STEP, bytes))
}

/// The code of a step (for tests and for checking).
pub fn code_at(secret_b32: &str, unix: u64) -> Option<String> {
    totp(secret_b32).map(|t| t.generate(unix))
}

/// The step whose code `code` is, among the current one and one on either
/// side (clock drift). Constant-time comparison of each candidate.
pub fn matching_step(secret_b32: &str, code: &str, unix: u64) -> Option<i64> {
    use subtle::ConstantTimeEq;
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_b32)?;
    let now_step = unix / STEP;
    let mut found = None;
    for step in [now_step.saturating_sub(1), now_step, now_step + 1] {
        let expected = t.generate(step * STEP);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step as i64);
        }
    }
    found
}

/// The `otpauth://` URL authenticator apps read from the QR code.
pub fn otpauth_url(secret_b32: &str, issuer: &str, account: &str) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits=6&period={STEP}",
        urlencode(issuer),
        urlencode(account),
        urlencode(issuer)
    )
}

/// The QR code of `text` as a standalone SVG document (black on white).
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build(),
    )
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 (the seed "12345678901234567890"), 6 digits.
    #[test]
    fn rfc6238_vectors() {
        let seed = match Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            Secret::Encoded(s) => s,
            Secret::Raw(_) => unreachable!(),
        };
        assert_eq!(code_at(&seed, 59).unwrap(), "287082");
        assert_eq!(code_at(&seed, 1_111_111_109).unwrap(), "081804");
        assert_eq!(code_at(&seed, 1_234_567_890).unwrap(), "005924");
    }

    #[test]
    fn codes_match_their_step_with_one_step_of_drift() {
        let s = new_secret();
        let now = 1_700_000_000;
        let code = code_at(&s, now).unwrap();
        assert_eq!(matching_step(&s, &code, now), Some((now / STEP) as i64));
        assert_eq!(matching_step(&s, &code, now + STEP), Some((now / STEP) as i64));
        assert_eq!(matching_step(&s, &code, now + 3 * STEP), None);
        assert_eq!(matching_step(&s, "12345", now), None);
        assert_eq!(matching_step(&s, "abcdef", now), None);
    }

    #[test]
    fn qr_code_is_svg_and_url_is_escaped() {
        let url = otpauth_url("JBSWY3DPEHPK3PXP", "Ardoise ac-demo.fr", "claire.martin@ac-demo.fr");
        assert!(
            url.starts_with("otpauth://totp/Ardoise%20ac-demo.fr:claire.martin@ac-demo.fr?secret=JBSWY3DPEHPK3PXP")
        );
        let svg = qr_svg(&url).unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }
}
