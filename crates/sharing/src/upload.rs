//! Uploads in progress: what the tus 1.0 core protocol needs (creation with
//! an announced length, the current offset, appending at that offset,
//! termination), independent of HTTP.
//!
//! The bytes received so far are a temporary file named after the upload;
//! its length is the offset, and every append ends with an fsync before the
//! new offset is returned, so an acknowledged offset survives a crash. A piece
//! that stops midway keeps what arrived (fsync'd too): the client resumes
//! from there. Bytes beyond the announced length are refused and cut off, so
//! the file never holds more than the upload said. The last byte turns the
//! file into a blob (hashed by reading it once, renamed into the store),
//! after the antivirus, when there is one, said it is clean (see the crate's
//! documentation for what happens otherwise).

use std::io::{Seek, SeekFrom, Write};
use std::path::PathBuf;

use blob::Bytes;
use futures_util::{Stream, StreamExt};
use hygiene::clamd::Scan;
use model::AccountId;
use store::{NewShareUpload, ShareUpload};

use crate::{Error, Result, Sharing, random_id};

/// Longest file name kept, in characters.
const MAX_NAME: usize = 200;

/// Where an upload stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadState {
    pub id: String,
    pub offset: u64,
    pub length: u64,
    pub filename: String,
    /// Every byte was received and stored (and found clean by the
    /// antivirus, when there is one).
    pub complete: bool,
    /// Every byte was received but the antivirus could not answer yet: not
    /// usable until it does.
    pub awaiting_scan: bool,
}

/// A file name safe to keep and show: the last path component, without
/// control characters, trimmed, at most 200 characters; `None` if nothing is
/// left.
pub fn clean_filename(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(MAX_NAME).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_owned();
    (!cleaned.is_empty()).then_some(cleaned)
}

/// Marks an upload as being written for as long as it lives.
struct Writing<'a> {
    sharing: &'a Sharing,
    id: String,
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        if let Ok(mut set) = self.sharing.writing.lock() {
            set.remove(&self.id);
        }
    }
}

impl Sharing {
    fn upload_path(&self, id: &str) -> PathBuf {
        self.uploads.join(id)
    }

    /// Checks that `length` more bytes fit the file size limit and the
    /// account's quota.
    async fn check_room(&self, account: AccountId, length: u64) -> Result<()> {
        if length > self.settings.max_file_size {
            return Err(Error::TooLarge { max: self.settings.max_file_size });
        }
        if length > self.settings.largest_file() {
            return Err(Error::TooLargeToScan { max: self.settings.largest_file() });
        }
        let used = u64::try_from(self.store.sharing_usage(account).await?).unwrap_or(0);
        if used.saturating_add(length) > self.settings.quota {
            return Err(Error::OverQuota { used, quota: self.settings.quota });
        }
        Ok(())
    }

    /// Starts an upload of `length` bytes named `filename`; `for_share` makes
    /// it a new version of the account's live share. Returns its id (128
    /// random bits, in hex).
    pub async fn create_upload(
        &self,
        account: AccountId,
        length: u64,
        filename: &str,
        for_share: Option<i64>,
    ) -> Result<String> {
        let filename = clean_filename(filename).ok_or_else(|| Error::Invalid("nom de fichier vide".into()))?;
        if length == 0 {
            return Err(Error::Invalid("fichier vide".into()));
        }
        if let Some(share) = for_share {
            match self.store.share_of_account(account, share).await? {
                Some(s) if s.live_at(crate::now()) => {}
                Some(_) => return Err(Error::Gone),
                None => return Err(Error::NotFound),
            }
        }
        self.check_room(account, length).await?;
        let id = random_id(16);
        let path = self.upload_path(&id);
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            opts.open(&path)?.sync_all()
        })
        .await
        .map_err(std::io::Error::other)??;
        let length = i64::try_from(length).map_err(|_| Error::TooLarge { max: self.settings.max_file_size })?;
        let new = NewShareUpload { id: &id, account_id: account, length, filename: &filename, share_id: for_share };
        if let Err(e) = self.store.create_share_upload(&new).await {
            let _ = tokio::fs::remove_file(self.upload_path(&id)).await;
            return Err(e.into());
        }
        Ok(id)
    }

    /// The account's upload `id`; anyone else's is [`Error::NotFound`].
    async fn own_upload(&self, account: AccountId, id: &str) -> Result<ShareUpload> {
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::NotFound);
        }
        match self.store.share_upload(id).await? {
            Some(u) if u.account_id == account => Ok(u),
            _ => Err(Error::NotFound),
        }
    }

    /// Where the account's upload `id` stands.
    pub async fn upload_state(&self, account: AccountId, id: &str) -> Result<UploadState> {
        let upload = self.own_upload(account, id).await?;
        let length = upload.length as u64;
        let offset = if upload.blob_id.is_some() {
            length
        } else {
            match tokio::fs::metadata(self.upload_path(id)).await {
                Ok(m) => m.len(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Error::NotFound),
                Err(e) => return Err(e.into()),
            }
        };
        let complete = upload.blob_id.is_some();
        let awaiting_scan = !complete && offset == length;
        Ok(UploadState { id: upload.id, offset, length, filename: upload.filename, complete, awaiting_scan })
    }

    /// Appends the pieces of `body` to the account's upload `id`, which must
    /// stand at `offset`. Returns the new state once what was written is on
    /// disk, even if `body` failed midway (the client resumes from the
    /// returned offset). More bytes than announced: [`Error::TooLong`], and
    /// the extra bytes are not kept.
    pub async fn append<S, E>(&self, account: AccountId, id: &str, offset: u64, body: S) -> Result<UploadState>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let _writing = self.claim(id)?;
        let state = self.upload_state(account, id).await?;
        if state.complete || state.offset != offset {
            return Err(Error::BadOffset { expected: state.offset, got: offset });
        }
        if state.awaiting_scan {
            // Every byte is here: an (empty) append at the end asks the
            // antivirus again.
            self.finish(account, id).await?;
            return self.upload_state(account, id).await;
        }
        let path = self.upload_path(id);
        let file = tokio::fs::OpenOptions::new().write(true).open(&path).await?;
        let mut file = file.into_std().await;
        file.seek(SeekFrom::Start(offset))?;
        let mut file = Some(file);
        let mut at = offset;
        let mut too_long = false;
        let mut body = std::pin::pin!(body);
        while let Some(piece) = body.next().await {
            let piece = match piece {
                Ok(p) => p,
                Err(e) => {
                    tracing::info!(upload = id, error = %e, "upload piece ended early; kept what arrived");
                    break;
                }
            };
            let room = state.length - at;
            let take = (piece.len() as u64).min(room) as usize;
            if take < piece.len() {
                too_long = true;
            }
            let mut f = file.take().ok_or_else(|| std::io::Error::other("upload file lost"))?;
            let chunk = piece.slice(..take);
            let back = tokio::task::spawn_blocking(move || f.write_all(&chunk).map(|()| f))
                .await
                .map_err(std::io::Error::other)?;
            file = Some(back?);
            at += take as u64;
            if too_long {
                break;
            }
        }
        let f = file.ok_or_else(|| std::io::Error::other("upload file lost"))?;
        tokio::task::spawn_blocking(move || f.sync_all()).await.map_err(std::io::Error::other)??;
        if at == state.length {
            self.finish(account, id).await?;
        }
        if too_long {
            // The announced bytes were all there: the upload is complete, the extra refused.
            return Err(Error::TooLong { length: state.length });
        }
        self.upload_state(account, id).await
    }

    /// Abandons the account's upload `id` (tus termination).
    pub async fn cancel_upload(&self, account: AccountId, id: &str) -> Result<()> {
        let _writing = self.claim(id)?;
        let upload = self.own_upload(account, id).await?;
        self.store.delete_share_upload(&upload.id).await?;
        match tokio::fs::remove_file(self.upload_path(id)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        if let Some(blob) = upload.blob_id
            && !self.store.share_blob_held(&blob).await?
        {
            self.blobs.delete(&blob).await?;
        }
        Ok(())
    }

    /// Turns the account's upload `id`, every byte of which arrived, into a
    /// file of the store, once the antivirus (if any) found it clean. The
    /// caller holds the upload's claim.
    async fn finish(&self, account: AccountId, id: &str) -> Result<()> {
        let path = self.upload_path(id);
        if let Some(clamd) = &self.settings.antivirus {
            match clamd.scan_file(&path).await {
                Ok(Scan::Clean) => {}
                Ok(Scan::Infected(signature)) => {
                    self.reject_infected(account, id, &signature).await?;
                    return Err(Error::Infected { signature });
                }
                Err(e) => {
                    tracing::warn!(upload = id, account, error = %e, "shared file kept unusable until scanned");
                    return Err(Error::AwaitingScan(e.to_string()));
                }
            }
        }
        let blob = self.blobs.put_file(path).await?;
        self.store.complete_share_upload(id, &blob).await?;
        Ok(())
    }

    /// Deletes an upload the antivirus found infected and writes it to the
    /// audit log (the owner's address, the file's name, the signature).
    async fn reject_infected(&self, account: AccountId, id: &str, signature: &str) -> Result<()> {
        let upload = self.store.share_upload(id).await?;
        self.store.delete_share_upload(id).await?;
        match tokio::fs::remove_file(self.upload_path(id)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        let who = match self.store.account(account).await {
            Ok(Some(a)) => a.address.to_string(),
            _ => format!("compte {account}"),
        };
        let (name, length) = upload.map(|u| (u.filename, u.length)).unwrap_or_default();
        tracing::warn!(upload = id, account, %signature, "virus in a shared file: upload deleted");
        let detail = format!("« {name} » ({length} octets) : {signature}");
        if let Err(e) =
            identity::lifecycle::audit::record(&self.store, &who, "compte", "account.share.virus", &who, &detail).await
        {
            tracing::warn!(error = %e, "audit log write failed");
        }
        Ok(())
    }

    /// Makes sure the account's upload `id` is usable before it is shared:
    /// one received in full but not yet scanned is scanned now. Anything
    /// else is left to the store (which refuses an incomplete upload).
    pub(crate) async fn finish_received(&self, account: AccountId, id: &str) -> Result<()> {
        let state = match self.upload_state(account, id).await {
            Ok(s) => s,
            Err(Error::NotFound) => return Ok(()),
            Err(e) => return Err(e),
        };
        if state.awaiting_scan {
            let _writing = self.claim(id)?;
            if self.upload_state(account, id).await?.awaiting_scan {
                self.finish(account, id).await?;
            }
        }
        Ok(())
    }

    fn claim(&self, id: &str) -> Result<Writing<'_>> {
        let mut set = self.writing.lock().map_err(|_| Error::Busy)?;
        if !set.insert(id.to_owned()) {
            return Err(Error::Busy);
        }
        Ok(Writing { sharing: self, id: id.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::clean_filename;

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(clean_filename("rapport.pdf").as_deref(), Some("rapport.pdf"));
        assert_eq!(clean_filename("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(clean_filename("C:\\Users\\x\\Bilan 2026.xlsx").as_deref(), Some("Bilan 2026.xlsx"));
        assert_eq!(clean_filename("a\r\nb\u{0}.txt").as_deref(), Some("ab.txt"));
        assert_eq!(clean_filename(".htaccess").as_deref(), Some("htaccess"));
        assert_eq!(clean_filename("  / ").as_deref(), None);
        assert_eq!(clean_filename("").as_deref(), None);
        assert_eq!(clean_filename(&"é".repeat(500)).map(|n| n.chars().count()), Some(200));
    }
}
