//! Password hashing with argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane,
//! the argon2 crate's defaults). The identity crate will take this over.

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};

pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}
