//! Incoming iMIP (RFC 6047) at the MX: a REPLY mail from an outside
//! attendee, once delivered, updates the organiser's copy of the event
//! through `groupware::Groupware::receive_imip`, which believes it only when
//! the attendee it speaks for is its sender and its UID and SEQUENCE match.
//! Here the sender must be both the envelope's and the `From:` address.
//! Requests from outside are left in the mail, answered by a click
//! (the webmail's invitation buttons).

use groupware::Groupware;
use groupware::scheduling::ImipOutcome;
use model::Address;

/// Applies the iMIP replies of `message`, delivered to `accounts`.
pub async fn after_delivery(gw: &Groupware, mail_from: Option<&Address>, message: &[u8], accounts: &[i64]) {
    // Cheap first: most mail holds no calendar at all.
    if !contains_ignore_case(message, b"text/calendar") {
        return;
    }
    let Some(envelope_sender) = mail_from.map(|a| a.to_string().to_ascii_lowercase()) else {
        tracing::debug!("iMIP: no envelope sender, calendar parts left in the mail");
        return;
    };
    let view = mailstore::MessageView::new(message.to_vec(), None);
    let Some(from) = view.sender().map(|s| s.to_ascii_lowercase()) else { return };
    if from != envelope_sender {
        tracing::info!("iMIP: From is not the envelope sender, calendar parts left in the mail");
        return;
    }
    for text in view.calendars(5) {
        if !contains_ignore_case(text.as_bytes(), b"METHOD:REPLY") {
            continue;
        }
        for account in accounts {
            match gw.receive_imip_for(*account, &from, &text).await {
                Ok(ImipOutcome::Applied) => tracing::info!(account, "iMIP reply applied to the organiser's copy"),
                Ok(ImipOutcome::Ignored(why)) => tracing::info!(account, why, "iMIP reply not applied"),
                Err(e) => tracing::warn!(account, error = %e, "iMIP reply not applied"),
            }
        }
    }
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_calendar_is_looked_for_in_any_case() {
        assert!(super::contains_ignore_case(b"Content-Type: TEXT/Calendar; method=REPLY", b"text/calendar"));
        assert!(!super::contains_ignore_case(b"Content-Type: text/plain", b"text/calendar"));
    }
}
