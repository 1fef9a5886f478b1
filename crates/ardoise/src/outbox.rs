//! The demo outbox: `ardoise demo` has no internet, so mail to outside domains
//! is captured into a local mailbox, `boite-sortante@ac-demo.fr`, instead of
//! being dropped. It is an ordinary account (demo password), so any IMAP
//! client, the webmail or `ardoise admin message list` can read it.

use model::{AccountStatus, Address, Role};
use store::NewAccount;

/// The local part of the demo outbox account.
pub const LOCAL_PART: &str = "boite-sortante";

/// The outbox address in `domain`.
pub fn address(domain: &str) -> String {
    format!("{LOCAL_PART}@{domain}")
}

/// Creates the outbox account if it does not exist yet.
pub async fn ensure(store: &store::Store, domain: &str, password_hash: String) -> anyhow::Result<()> {
    let address = Address::parse(&address(domain)).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    if store.account_by_address(&address).await?.is_some() {
        return Ok(());
    }
    store
        .create_account(&NewAccount {
            address,
            login: None,
            display_name: "Boîte d'envoi de la démo (courrier vers l'extérieur)".into(),
            role: Role::Functional,
            status: AccountStatus::Active,
            quota_bytes: None,
            org_unit: None,
            password_hash: Some(password_hash),
        })
        .await?;
    Ok(())
}
