//! Mails to the account's owner about their credentials: every change, and
//! a login from a device not seen before. Delivered into their own Inbox
//! (the secondary address gets only reset links).

use mailstore::Mailstore;
use store::Account;

use super::Protocol;

/// The sender of security notices.
fn sender(account: &Account) -> String {
    format!("securite@{}", account.address.domain())
}

/// Delivers a French notice (with an English summary) about a change into
/// the account's Inbox, with the advice to react if the owner did not make
/// it. A failure is logged, never fatal: the change itself is done.
pub async fn notify(ms: &Mailstore, account: &Account, subject: &str, body: &str) {
    let body = format!(
        "{body}\n\nSi vous n'êtes pas à l'origine de cette action, changez votre mot de passe \
         et contactez l'assistance de votre académie."
    );
    notice(ms, account, subject, &body).await;
}

/// Delivers a French notice (with an English summary) into the account's
/// Inbox (reminders: no "if this was not you" advice). A failure is logged.
pub async fn notice(ms: &Mailstore, account: &Account, subject: &str, body: &str) {
    let text = format!(
        "Bonjour {},\n\n{body}\n\n-- \nArdoise, messagerie académique \
         (message automatique, ne pas répondre)\n",
        account.display_name
    );
    let raw = mail_builder::MessageBuilder::new()
        .from(("Sécurité Ardoise", sender(account).as_str()))
        .to((account.display_name.as_str(), account.address.to_string().as_str()))
        .subject(subject)
        .text_body(text)
        .write_to_vec();
    let raw = match raw {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "security notice: building failed");
            return;
        }
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if let Err(e) = ms.deliver(&raw, &[account.id], now).await {
        tracing::warn!(error = %e, account = account.id, "security notice: delivery failed");
    }
}

/// "New login from a device not seen before".
pub async fn new_device(ms: &Mailstore, account: &Account, protocol: Protocol, ip: &str, client: Option<&str>) {
    let client = client.map(|c| c.chars().filter(|c| !c.is_control()).take(120).collect::<String>());
    let body = format!(
        "Une connexion à votre compte vient d'avoir lieu depuis un appareil ou une adresse jamais vus \
         auparavant.\n\n  Protocole : {}\n  Adresse : {ip}\n  Client : {}\n\nVous pouvez consulter le \
         journal des connexions et fermer les sessions ouvertes sur la page « Sécurité ».\n\n\
         (A login from a new device or address just happened.)",
        protocol.as_str().to_uppercase(),
        client.as_deref().unwrap_or("inconnu")
    );
    notify(ms, account, "Nouvelle connexion à votre compte", &body).await;
}
