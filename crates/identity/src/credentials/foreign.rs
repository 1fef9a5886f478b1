//! Password hashes carried over from another server (`ardoise directory
//! import-passwords`), in Dovecot's `{SCHEME}hash` form: the user logs in
//! once with the old password, which is checked against that hash and then
//! replaced by an argon2id hash of ours (`login::password_ok`). Until then
//! the account's `password_hash` holds the foreign hash with its scheme.
//!
//! Schemes: `{SHA512-CRYPT}` and `{SHA256-CRYPT}` (glibc's `$6$`/`$5$`, the
//! sha-crypt crate), `{BLF-CRYPT}` (bcrypt `$2y$`/`$2b$`/`$2a$`, the bcrypt
//! crate), `{SSHA}` and `{SSHA512}` (salted SHA-1/SHA-512, base64 of digest
//! then salt), `{ARGON2ID}` (a PHC string, checked with its own parameters).

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::Sha1;
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

use super::hash::MAX_SECRET_LEN;

/// A scheme we can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Sha512Crypt,
    Sha256Crypt,
    BlfCrypt,
    Ssha,
    Ssha512,
    Argon2id,
}

impl Scheme {
    pub const ALL: [Scheme; 6] =
        [Scheme::Sha512Crypt, Scheme::Sha256Crypt, Scheme::BlfCrypt, Scheme::Ssha, Scheme::Ssha512, Scheme::Argon2id];

    /// Dovecot's name, as between the braces.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Sha512Crypt => "SHA512-CRYPT",
            Scheme::Sha256Crypt => "SHA256-CRYPT",
            Scheme::BlfCrypt => "BLF-CRYPT",
            Scheme::Ssha => "SSHA",
            Scheme::Ssha512 => "SSHA512",
            Scheme::Argon2id => "ARGON2ID",
        }
    }
}

/// Whether a stored hash is a foreign one (ours are PHC strings, `$argon2id$…`).
pub fn is_foreign(stored: &str) -> bool {
    stored.starts_with('{')
}

/// Splits `{SCHEME}hash`; the scheme's name is read without regard to case.
fn split(stored: &str) -> Result<(Scheme, &str), String> {
    let rest = stored.strip_prefix('{').ok_or("le hachage doit commencer par {SCHÉMA}")?;
    let (name, hash) = rest.split_once('}').ok_or("accolade fermante manquante après le schéma")?;
    let scheme = Scheme::ALL
        .into_iter()
        .find(|s| s.name().eq_ignore_ascii_case(name))
        .ok_or_else(|| format!("schéma {{{name}}} non pris en charge (acceptés : {})", accepted()))?;
    Ok((scheme, hash))
}

fn accepted() -> String {
    Scheme::ALL.iter().map(|s| format!("{{{}}}", s.name())).collect::<Vec<_>>().join(", ")
}

/// Checks an imported hash's form and returns it as stored
/// (`{SCHEME}hash`, the scheme's name in capitals), or says what is wrong.
pub fn normalise(text: &str) -> Result<String, String> {
    let (scheme, hash) = split(text.trim())?;
    let ok = match scheme {
        Scheme::Sha512Crypt => crypt_shape(hash, "$6$", 86, 4),
        Scheme::Sha256Crypt => crypt_shape(hash, "$5$", 43, 16),
        Scheme::BlfCrypt => {
            ["$2y$", "$2b$", "$2a$"].iter().any(|p| hash.starts_with(p)) && hash.len() == 60 && hash.is_ascii()
        }
        Scheme::Ssha => salted(hash, 20).is_some(),
        Scheme::Ssha512 => salted(hash, 64).is_some(),
        Scheme::Argon2id => PasswordHash::new(hash).map(|h| h.algorithm.as_str() == "argon2id").unwrap_or(false),
    };
    if !ok {
        return Err(format!("hachage {{{}}} mal formé", scheme.name()));
    }
    Ok(format!("{{{}}}{hash}", scheme.name()))
}

/// Runs sha-crypt's check, which panics (0.5.0) on a digest that is not
/// valid crypt base64 instead of returning an error: `None` then.
fn verify_crypt(scheme: Scheme, password: &str, hash: &str) -> Option<bool> {
    std::panic::catch_unwind(|| match scheme {
        Scheme::Sha512Crypt => sha_crypt::sha512_check(password, hash).is_ok(),
        _ => sha_crypt::sha256_check(password, hash).is_ok(),
    })
    .ok()
}

/// crypt's base64 alphabet.
const CRYPT_B64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `$6$[rounds=N$]salt$digest`, the digest `digest_len` characters of
/// crypt base64 whose last one carries only the bits left (its value below
/// `last_below`: SHA-512's last group is one byte, whose second character
/// holds 2 bits; SHA-256's is two bytes, whose third character holds 4).
fn crypt_shape(hash: &str, prefix: &str, digest_len: usize, last_below: usize) -> bool {
    let Some(rest) = hash.strip_prefix(prefix) else { return false };
    let parts: Vec<&str> = rest.split('$').collect();
    let (salt, digest) = match parts.as_slice() {
        [rounds, salt, digest] if rounds.starts_with("rounds=") => (*salt, *digest),
        [salt, digest] => (*salt, *digest),
        _ => return false,
    };
    let value = |b: u8| CRYPT_B64.iter().position(|&c| c == b);
    !salt.is_empty()
        && digest.len() == digest_len
        && digest.bytes().all(|b| value(b).is_some())
        && digest.bytes().last().and_then(value).is_some_and(|v| v < last_below)
}

/// Digest and salt of `{SSHA}`/`{SSHA512}`: base64 of the digest followed by the salt.
fn salted(hash: &str, digest_len: usize) -> Option<(Vec<u8>, Vec<u8>)> {
    let raw = STANDARD.decode(hash.trim()).ok()?;
    (raw.len() > digest_len).then(|| (raw[..digest_len].to_vec(), raw[digest_len..].to_vec()))
}

/// Whether `password` matches a foreign hash (`false` for anything
/// malformed). CPU-bound: call it on a blocking thread.
pub fn verify(stored: &str, password: &str) -> bool {
    if password.len() > MAX_SECRET_LEN {
        return false;
    }
    let Ok((scheme, hash)) = split(stored) else { return false };
    match scheme {
        Scheme::Sha512Crypt | Scheme::Sha256Crypt => verify_crypt(scheme, password, hash).unwrap_or(false),
        Scheme::BlfCrypt => bcrypt::verify(password, hash).unwrap_or(false),
        Scheme::Ssha => salted(hash, 20).is_some_and(|(digest, salt)| {
            let mut h = Sha1::new();
            h.update(password.as_bytes());
            h.update(&salt);
            bool::from(h.finalize().as_slice().ct_eq(&digest))
        }),
        Scheme::Ssha512 => salted(hash, 64).is_some_and(|(digest, salt)| {
            let mut h = Sha512::new();
            h.update(password.as_bytes());
            h.update(&salt);
            bool::from(h.finalize().as_slice().ct_eq(&digest))
        }),
        Scheme::Argon2id => match PasswordHash::new(hash) {
            Ok(parsed) => argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        },
    }
}

/// One usable line of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLine {
    /// 1-based.
    pub line: usize,
    /// The login or address, as written.
    pub user: String,
    /// As stored: `{SCHEME}hash`.
    pub hash: String,
}

/// Reads a Dovecot passwd-file (`user:{SCHEME}hash[:uid:gid:…]`, `#`
/// comments and blank lines skipped): the usable lines, and a sentence for
/// each other one, with its line number.
pub fn parse_passwd_file(text: &str) -> (Vec<ImportLine>, Vec<String>) {
    let (mut lines, mut errors) = (Vec::new(), Vec::new());
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let trimmed = raw.trim_end_matches('\r').trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut fields = trimmed.splitn(3, ':');
        let user = fields.next().unwrap_or_default().trim();
        let hash = fields.next().unwrap_or_default().trim();
        if user.is_empty() || user.chars().any(char::is_whitespace) {
            errors.push(format!(
                "ligne {line} : identifiant manquant ou invalide (attendu « utilisateur:{{SCHÉMA}}hachage »)"
            ));
            continue;
        }
        if hash.is_empty() {
            errors.push(format!("ligne {line} : {user} : pas de hachage"));
            continue;
        }
        match normalise(hash) {
            Ok(hash) => lines.push(ImportLine { line, user: user.to_owned(), hash }),
            Err(e) => errors.push(format!("ligne {line} : {user} : {e}")),
        }
    }
    (lines, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ssha(password: &str, salt: &[u8]) -> String {
        let mut h = Sha1::new();
        h.update(password.as_bytes());
        h.update(salt);
        let mut raw = h.finalize().to_vec();
        raw.extend_from_slice(salt);
        format!("{{SSHA}}{}", STANDARD.encode(raw))
    }

    #[test]
    fn known_hashes_verify_and_wrong_passwords_do_not() {
        // Made by Dovecot's `doveadm pw -s SHA512-CRYPT` (glibc's crypt), and SHA256-CRYPT.
        let sha512 = "{SHA512-CRYPT}$6$e7S8lnvQ6oWPqiJf$9BZNr1UoQvSsySvnIG6GDznOCi3qt2ycFopv5jR6ONh/2i4DewmAenxOsy9zPPUrt18zuRwgHlIheq3xRk1H31";
        assert_eq!(normalise(sha512).unwrap(), sha512);
        assert!(verify(sha512, "Hello world!"));
        assert!(!verify(sha512, "Hello world"));
        let sha256 = "{SHA256-CRYPT}$5$AM/P7lHNg19lUNeg$qV0.KUfL7n6vR3WEzIgz4P4Rl6I0XKaHCPIWQBpxEhD";
        assert!(verify(sha256, "Hello world!"));
        assert!(!verify(sha256, "hello world!"));
        let made = ssha("Ancien-Mot-2024", b"sel!");
        assert!(verify(&made, "Ancien-Mot-2024"));
        assert!(!verify(&made, "ancien-mot-2024"));
        let bcrypt = bcrypt::hash_with_result("motdepasse", 4).unwrap().format_for_version(bcrypt::Version::TwoY);
        let stored = format!("{{BLF-CRYPT}}{bcrypt}");
        assert_eq!(normalise(&stored).unwrap(), stored);
        assert!(verify(&stored, "motdepasse"));
        assert!(!verify(&stored, "motdepass"));
        let ours = crate::credentials::hash::hash_password("Argon-Ancien").unwrap();
        assert!(verify(&format!("{{ARGON2ID}}{ours}"), "Argon-Ancien"));
        assert!(!verify(&format!("{{ARGON2ID}}{ours}"), "argon-ancien"));
    }

    #[test]
    fn passwd_file_lines_are_read_with_their_numbers() {
        let good = ssha("x", b"sel");
        let text = format!(
            "# comptes\r\nclaire@ac-test.fr:{good}:1000:1000::/home/claire::\r\n\n\
             paul:{{MD5}}abc\nsans-hachage:\n:{good}\nlea {good}\n"
        );
        let (lines, errors) = parse_passwd_file(&text);
        assert_eq!(lines, [ImportLine { line: 2, user: "claire@ac-test.fr".into(), hash: good.clone() }]);
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].starts_with("ligne 4 : paul : schéma {MD5} non pris en charge"), "{errors:?}");
        assert!(errors[1].starts_with("ligne 5 : sans-hachage : pas de hachage"));
        assert!(errors[2].starts_with("ligne 6 : identifiant manquant"));
        assert!(errors[3].starts_with("ligne 7 : identifiant manquant"));
    }

    #[test]
    fn malformed_hashes_are_refused_with_a_reason() {
        assert!(normalise("{MD5}abc").unwrap_err().contains("non pris en charge"));
        assert!(normalise("SSHA}abc").is_err());
        assert!(normalise("{SSHA}pas du base64").unwrap_err().contains("mal formé"));
        assert!(normalise("{SHA512-CRYPT}$5$sel$abc").unwrap_err().contains("mal formé"));
        assert!(normalise("{BLF-CRYPT}$2y$10$court").is_err());
        assert_eq!(normalise(" {ssha512}").unwrap_err(), "hachage {SSHA512} mal formé");
        assert!(!verify("{SSHA}", ""));
        // sha-crypt 0.5.0 panics on a digest that is not crypt base64: caught, refused.
        let bad = "{SHA256-CRYPT}$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZF9CHeb9o";
        assert!(normalise(bad).is_err());
        assert!(!verify(bad, "Hello world!"));
        assert!(!verify("$argon2id$pas-étranger", "x"));
    }
}
