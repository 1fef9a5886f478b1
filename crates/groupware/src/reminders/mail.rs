//! The mail a reminder sends to its calendar's owner (French first, then
//! English), dated in the calendar's zone.

use calcard::common::timezone::Tz;
use chrono::{DateTime, Utc};
use store::Reminder;

/// `17/12/2026 à 17:00` in `zone` (the UTC time when it cannot be read).
pub fn local_time(unix: i64, zone: Tz) -> (String, String) {
    let Some(utc) = DateTime::<Utc>::from_timestamp(unix, 0) else { return (unix.to_string(), unix.to_string()) };
    let local = utc.with_timezone(&zone);
    (local.format("%d/%m/%Y à %H:%M").to_string(), local.format("%Y-%m-%d %H:%M").to_string())
}

/// The reminder mail of `r` to `(name, address)`, from `postmaster@domain`.
pub fn reminder_mail(name: &str, address: &str, domain: &str, r: &Reminder, zone: Tz) -> std::io::Result<Vec<u8>> {
    let (fr, en) = local_time(r.starts_at, zone);
    let title = if r.title.trim().is_empty() { "(sans titre)" } else { r.title.trim() };
    let place = if r.location.trim().is_empty() { String::new() } else { format!(" ({})", r.location.trim()) };
    let text = format!(
        "Bonjour {name},\n\n\
         Rappel : « {title} » commence le {fr}{place}.\n\n\
         Ce rappel vient de votre agenda. Vous pouvez changer les rappels d'un agenda dans \
         Agenda → Mes agendas.\n\n\
         ---\n\
         Reminder: \"{title}\" starts on {en}{place}.\n\n\
         -- \nArdoise, messagerie académique (message automatique, ne pas répondre)\n"
    );
    let from = format!("postmaster@{domain}");
    mail_builder::MessageBuilder::new()
        .from(("Agenda Ardoise", from.as_str()))
        .to((name, address))
        .subject(format!("Rappel : {title} — {fr}"))
        .header("Auto-Submitted", mail_builder::headers::raw::Raw::new("auto-generated"))
        .text_body(text)
        .write_to_vec()
}
