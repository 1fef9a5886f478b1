//! Secret keys kept in the data folder (`numen.key`, `totp.key`): 32
//! random bytes written in hex, created with mode 0600 on first use.

use std::io::Write;
use std::path::Path;

use rand::RngCore;

/// Reads `<dir>/<file>`, creating it on first use.
pub(crate) fn load_or_create(dir: &Path, file: &str) -> std::io::Result<[u8; 32]> {
    let path = dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(text) => hex::decode(text.trim()).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{} is not a 32-byte hex key", path.display()))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir)?;
            let mut key = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&path)?;
            file.write_all(hex::encode(key).as_bytes())?;
            file.sync_all()?;
            Ok(key)
        }
        Err(e) => Err(e),
    }
}
