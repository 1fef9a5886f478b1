//! Shares: a finished upload put behind a link (expiry, optional password,
//! recipients), its versions, the download journal, revocation, and the
//! housekeeping that deletes what expired.

use std::net::IpAddr;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use model::{AccountId, Address};
use store::{NewShare, Share, ShareDownload, ShareVersion, SharesPurged};

use crate::{Error, Result, Sharing, now, random_id};

/// Longest link password, in bytes (checked before argon2).
const MAX_PASSWORD: usize = 256;
/// Most recipients told of one link.
pub const MAX_RECIPIENTS: usize = 50;
/// Uploads left unfinished this long are removed.
const ABANDONED: Duration = Duration::from_secs(2 * 86400);

/// What the owner asks for when sharing a finished upload.
#[derive(Debug, Clone, Default)]
pub struct NewLink {
    pub upload: String,
    /// The link's life; `None`: `[sharing] default_expiry`.
    pub expiry: Option<Duration>,
    /// Empty or `None`: no password.
    pub password: Option<String>,
    pub recipients: Vec<Address>,
}

/// A share in the owner's list.
#[derive(Debug, Clone)]
pub struct ShareSummary {
    pub share: Share,
    pub latest: Option<ShareVersion>,
    pub downloads: usize,
}

/// One share with its history, for its owner.
#[derive(Debug, Clone)]
pub struct ShareDetail {
    pub share: Share,
    pub versions: Vec<ShareVersion>,
    pub downloads: Vec<ShareDownload>,
}

/// A live link, as its visitor sees it.
#[derive(Debug, Clone)]
pub struct Link {
    pub share: Share,
    /// Oldest first; never empty.
    pub versions: Vec<ShareVersion>,
    /// The recipient whose own link this is (their address); `None` for
    /// the share's plain link.
    pub recipient: Option<String>,
}

impl Link {
    pub fn latest(&self) -> &ShareVersion {
        self.versions.last().expect("a share has at least one version")
    }

    pub fn needs_password(&self) -> bool {
        self.share.password.is_some()
    }
}

/// A file to send: the open file and what to call it.
#[derive(Debug)]
pub struct Download {
    pub file: std::fs::File,
    pub version: ShareVersion,
}

/// A token is 40 hex digits (160 random bits); anything else is no link.
fn token_shape(token: &str) -> bool {
    token.len() == 40 && token.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Sharing {
    /// Shares the account's finished upload behind a new link.
    pub async fn create_link(&self, account: AccountId, new: NewLink) -> Result<Share> {
        let expiry = new.expiry.unwrap_or(self.settings.default_expiry);
        if expiry.is_zero() || expiry > self.settings.max_expiry {
            return Err(Error::Invalid(format!(
                "durée de validité entre 1 seconde et {} jours",
                self.settings.max_expiry.as_secs() / 86400
            )));
        }
        if new.recipients.len() > MAX_RECIPIENTS {
            return Err(Error::Invalid(format!("au plus {MAX_RECIPIENTS} destinataires")));
        }
        let password = match new.password.filter(|p| !p.is_empty()) {
            Some(p) => Some(self.hash_password(p).await?),
            None => None,
        };
        self.finish_received(account, &new.upload).await?;
        let recipients = new.recipients.iter().map(|a| a.to_string()).collect::<Vec<_>>().join("\n");
        let token = random_id(20);
        let mut links: Vec<(String, String)> = Vec::new();
        for address in &new.recipients {
            let address = address.to_string();
            if !links.iter().any(|(a, _)| *a == address) {
                links.push((address, random_id(20)));
            }
        }
        let share = NewShare {
            account_id: account,
            upload: &new.upload,
            token: &token,
            password: password.as_deref(),
            recipients: &recipients,
            expires_at: now() + expiry.as_secs() as i64,
            recipient_links: &links,
        };
        match self.store.create_share(&share).await {
            Ok(s) => Ok(s),
            Err(store::Error::NotFound(_)) => Err(Error::NotFound),
            Err(store::Error::Invalid(e)) => Err(Error::Invalid(e)),
            Err(e) => Err(e.into()),
        }
    }

    /// Adds the account's finished upload (created for this share) as the
    /// share's next version; returns its number.
    pub async fn add_version(&self, account: AccountId, share: i64, upload: &str) -> Result<i64> {
        self.finish_received(account, upload).await?;
        match self.store.add_share_version(account, share, upload).await {
            Ok(v) => Ok(v),
            Err(store::Error::NotFound(_)) => Err(Error::NotFound),
            Err(store::Error::Invalid(e)) => Err(Error::Invalid(e)),
            Err(e) => Err(e.into()),
        }
    }

    /// The account's shares, the newest first.
    pub async fn shares(&self, account: AccountId) -> Result<Vec<ShareSummary>> {
        let mut out = Vec::new();
        for share in self.store.shares_of(account).await? {
            let latest = self.store.share_versions(share.id).await?.pop();
            let downloads = self.store.share_downloads(share.id).await?.len();
            out.push(ShareSummary { share, latest, downloads });
        }
        Ok(out)
    }

    /// The account's share `id` with its versions and journal.
    pub async fn detail(&self, account: AccountId, id: i64) -> Result<ShareDetail> {
        let share = self.store.share_of_account(account, id).await?.ok_or(Error::NotFound)?;
        let versions = self.store.share_versions(id).await?;
        let downloads = self.store.share_downloads(id).await?;
        Ok(ShareDetail { share, versions, downloads })
    }

    /// Each named recipient's own link of the account's share `id`:
    /// (address, token), in the order they were named.
    pub async fn recipient_links(&self, account: AccountId, id: i64) -> Result<Vec<(String, String)>> {
        self.store.share_of_account(account, id).await?.ok_or(Error::NotFound)?;
        Ok(self.store.share_recipient_links(id).await?)
    }

    /// Ends the account's share `id` at once; its files go at the next housekeeping.
    pub async fn revoke(&self, account: AccountId, id: i64) -> Result<()> {
        if self.store.revoke_share(account, id).await? { Ok(()) } else { Err(Error::NotFound) }
    }

    /// The share behind `token`, looked up for a visitor from `ip`: the
    /// share's plain link, or a recipient's own (then [`Link::recipient`]
    /// names them). Unknown links count as failures for [`crate::Throttle`].
    /// A revoked or expired link is [`Error::Gone`].
    pub async fn open_link(&self, token: &str, ip: IpAddr) -> Result<Link> {
        if !self.throttle.allowed(ip) {
            return Err(Error::Throttled);
        }
        let (mut share, mut recipient) = (None, None);
        if token_shape(token) {
            share = self.store.share_by_token(token).await?;
            if share.is_none()
                && let Some((s, address)) = self.store.share_by_recipient_token(token).await?
            {
                (share, recipient) = (Some(s), Some(address));
            }
        }
        let Some(share) = share else {
            self.throttle.failed(ip);
            return Err(Error::NotFound);
        };
        if !share.live_at(now()) {
            return Err(Error::Gone);
        }
        let versions = self.store.share_versions(share.id).await?;
        if versions.is_empty() {
            return Err(Error::Gone);
        }
        Ok(Link { share, versions, recipient })
    }

    /// Checks a link's password (slowed down per address).
    pub async fn check_password(&self, link: &Link, given: &str, ip: IpAddr) -> Result<()> {
        let Some(hash) = link.share.password.clone() else { return Ok(()) };
        if !self.throttle.allowed(ip) {
            return Err(Error::Throttled);
        }
        if given.is_empty() || given.len() > MAX_PASSWORD {
            self.throttle.failed(ip);
            return Err(Error::Password);
        }
        let given = given.to_owned();
        let _turn = self.argon.acquire().await.map_err(|_| Error::Busy)?;
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .is_ok_and(|parsed| argon2::Argon2::default().verify_password(given.as_bytes(), &parsed).is_ok())
        })
        .await
        .map_err(std::io::Error::other)?;
        if ok {
            Ok(())
        } else {
            self.throttle.failed(ip);
            Err(Error::Password)
        }
    }

    async fn hash_password(&self, password: String) -> Result<String> {
        if password.len() > MAX_PASSWORD {
            return Err(Error::Invalid(format!("mot de passe de {MAX_PASSWORD} octets au plus")));
        }
        let _turn = self.argon.acquire().await.map_err(|_| Error::Busy)?;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
            argon2::Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| Error::Invalid(format!("hachage : {e}")))
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Opens version `version` of a link's document (`None`: the latest).
    pub async fn open_version(&self, link: &Link, version: Option<i64>) -> Result<Download> {
        let v = match version {
            None => link.latest().clone(),
            Some(n) => link.versions.iter().find(|v| v.version == n).cloned().ok_or(Error::NotFound)?,
        };
        let file = self.blobs.open_object(&v.blob_id).await?;
        Ok(Download { file, version: v })
    }

    /// Writes a download in the journal, naming the recipient when the link
    /// is theirs; returns whether it is the share's first (its owner is then
    /// told, once).
    pub async fn record_download(&self, link: &Link, version: i64, ip: IpAddr) -> Result<bool> {
        let who = link.recipient.as_deref().unwrap_or("");
        Ok(self.store.record_share_download(link.share.id, version, &ip.to_string(), who).await?)
    }

    /// The periodic housekeeping: shares expired or revoked are removed with
    /// the files nothing else names, and uploads abandoned two days ago.
    pub async fn housekeeping(&self, at: i64) -> Result<SharesPurged> {
        let purged = self.store.purge_shares(at).await?;
        for blob in &purged.unreferenced {
            self.blobs.delete(blob).await?;
        }
        for upload in self.store.share_uploads_before(at - ABANDONED.as_secs() as i64).await? {
            self.store.delete_share_upload(&upload.id).await?;
            match tokio::fs::remove_file(self.uploads.join(&upload.id)).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
            if let Some(blob) = upload.blob_id
                && !self.store.share_blob_held(&blob).await?
            {
                self.blobs.delete(&blob).await?;
            }
        }
        if purged.shares > 0 {
            tracing::info!(shares = purged.shares, files = purged.unreferenced.len(), "expired shares removed");
        }
        Ok(purged)
    }
}
