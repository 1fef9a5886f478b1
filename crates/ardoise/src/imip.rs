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
    if !CALENDAR.is_match(message) {
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
        if !REPLY.is_match(text.as_bytes()) {
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

/// `needle` in any ASCII case. Every delivered message is searched for a
/// calendar: a prefiltered automaton, not a comparison at every offset.
fn ignoring_case(needle: &str) -> aho_corasick::AhoCorasick {
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build([needle])
        .unwrap_or_else(|e| unreachable!("a fixed needle: {e}"))
}

static CALENDAR: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| ignoring_case("text/calendar"));
static REPLY: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| ignoring_case("METHOD:REPLY"));

#[cfg(test)]
mod tests {
    #[test]
    fn the_calendar_is_looked_for_in_any_case() {
        assert!(super::CALENDAR.is_match(b"Content-Type: TEXT/Calendar; method=REPLY".as_slice()));
        assert!(!super::CALENDAR.is_match(b"Content-Type: text/plain".as_slice()));
        assert!(super::REPLY.is_match(b"BEGIN:VCALENDAR\r\nmethod:reply\r\n".as_slice()));
    }
}
