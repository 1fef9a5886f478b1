//! The vacation reply as a Sieve script (issue 20): the reply set in Réglages
//! or by `ardoise vacation` and the Sieve `vacation` action are one thing.
//!
//! The setting (`store::vacation`, what the Réglages form shows) is written
//! ([`render`]) as the account's script [`SCRIPT_NAME`], visible and
//! editable over ManageSieve: the dates become `currentdate` tests, the
//! interval `:days`, subject and text the action's. A text put back over
//! ManageSieve under that name is read ([`parse`]) the way the rule
//! builder's is: the setting is taken from its `# ardoise-absence` line and
//! rendered again, and only the same text is accepted (then Réglages shows
//! it); anything else belongs in a script of another name.
//!
//! At delivery the script runs before the account's active script (see
//! [`crate::admin`]'s wrapper), through sieve-rs's `vacation`: one engine
//! for every vacation reply, RFC 5230's rules (not to lists, robots,
//! automatic mail, not when the user is not addressed), once per sender and
//! interval in the same memory as before.

use model::AccountId;
use serde::{Deserialize, Serialize};
use store::{ScriptChange, Vacation};

use crate::Error;
use crate::rules::quoted;

/// The name of the vacation reply's script.
pub const SCRIPT_NAME: &str = "reponse-automatique";

const MARKER: &str = "# ardoise-absence ";

/// The setting as the script's JSON line holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Setting {
    subject: String,
    body: String,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    interval_days: i64,
}

/// `AAAA-MM-JJ` of a unix time, in UTC (the setting's days are UTC days).
fn day(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// A Sieve multi-line string (RFC 5228 section 2.4.2): `text:`, the lines
/// (a leading dot doubled), then a line with a single dot.
fn multiline(text: &str) -> String {
    let mut out = String::from("text:\r\n");
    for line in text.replace("\r\n", "\n").split('\n') {
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(".\r\n");
    out
}

/// The script of an enabled setting (a disabled one has no script).
pub fn render(v: &Vacation) -> String {
    let setting = Setting {
        subject: v.subject.clone(),
        body: v.body.clone(),
        starts_at: v.starts_at,
        ends_at: v.ends_at,
        interval_days: v.interval_days.clamp(1, 365),
    };
    let json = serde_json::to_string(&setting).expect("a setting always serialises");
    let mut s = String::from(
        "# Réponse automatique d'absence, écrite par Ardoise (Réglages → Réponse automatique,\r\n\
         # ou `ardoise vacation`). Modifiable ici : le texte doit garder cette forme.\r\n",
    );
    s.push_str(&format!("{MARKER}{json}\r\n"));
    s.push_str("require [\"vacation\", \"date\", \"relational\"];\r\n");
    let mut tests = Vec::new();
    if let Some(start) = setting.starts_at {
        tests.push(format!("currentdate :zone \"+0000\" :value \"ge\" \"date\" \"{}\"", day(start)));
    }
    if let Some(end) = setting.ends_at {
        tests.push(format!("currentdate :zone \"+0000\" :value \"lt\" \"date\" \"{}\"", day(end)));
    }
    let mut action = format!("vacation :days {}", setting.interval_days);
    if !setting.subject.trim().is_empty() {
        action.push_str(&format!(" :subject {}", quoted(setting.subject.trim())));
    }
    action.push(' ');
    action.push_str(&multiline(&setting.body));
    action.push_str(";\r\n");
    match tests.len() {
        0 => s.push_str(&action),
        1 => s.push_str(&format!("if {} {{\r\n{action}}}\r\n", tests[0])),
        _ => s.push_str(&format!("if allof ({}) {{\r\n{action}}}\r\n", tests.join(",\r\n          "))),
    }
    s
}

/// The setting of a script written by [`render`] (line endings and the
/// final ones aside: clients trim them); `None` for any other text.
pub fn parse(script: &str) -> Option<Vacation> {
    let json = script.lines().find_map(|l| l.strip_prefix(MARKER))?;
    let s: Setting = serde_json::from_str(json.trim_end_matches('\r')).ok()?;
    let v = Vacation {
        enabled: true,
        subject: s.subject,
        body: s.body,
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        interval_days: s.interval_days,
    };
    let normal = |t: &str| t.replace("\r\n", "\n").trim_end().to_owned();
    (normal(&render(&v)) == normal(script)).then_some(v)
}

impl crate::Filters {
    /// Sets the account's vacation reply: the setting Réglages shows, and
    /// its script (made, replaced, or deleted when the reply is off).
    pub async fn set_vacation(&self, account: AccountId, v: &Vacation) -> Result<(), Error> {
        self.mail.set_vacation(account, v).await?;
        self.write_vacation_script(account, v).await
    }

    async fn write_vacation_script(&self, account: AccountId, v: &Vacation) -> Result<(), Error> {
        if v.enabled {
            // Its own slot: the reply never takes one of the owner's scripts.
            let max = self.settings.max_scripts + 1;
            self.store.put_sieve_script(account, SCRIPT_NAME, &render(v), max).await?;
        } else if self.store.delete_sieve_script(account, SCRIPT_NAME).await? == ScriptChange::Active {
            self.store.activate_sieve_script(account, None).await?;
            self.store.delete_sieve_script(account, SCRIPT_NAME).await?;
        }
        self.forget(account);
        Ok(())
    }

    /// Turns the reply off in the setting (its script was deleted or
    /// renamed over ManageSieve).
    pub(crate) async fn vacation_script_gone(&self, account: AccountId) -> Result<(), Error> {
        if let Some(mut v) = self.mail.vacation(account).await?.filter(|v| v.enabled) {
            v.enabled = false;
            self.mail.set_vacation(account, &v).await?;
        }
        Ok(())
    }

    /// The name of the account's active script when it is not the reply's
    /// own and has a `vacation` of its own (its `require` names it).
    pub async fn vacation_in_active_script(&self, account: AccountId) -> Result<Option<String>, Error> {
        let scripts = self.store.sieve_scripts(account).await?;
        let Some(active) = scripts.into_iter().find(|s| s.active && s.name != SCRIPT_NAME) else {
            return Ok(None);
        };
        let text = self.store.sieve_script(account, &active.name).await?.map(|s| s.source).unwrap_or_default();
        Ok(text.contains("\"vacation\"").then_some(active.name))
    }

    /// Writes the script of every reply switched on before replies were
    /// scripts (run once at start; idempotent). Returns how many.
    pub async fn script_older_vacations(&self) -> Result<usize, Error> {
        let missing = self.store.vacations_without_script(SCRIPT_NAME).await?;
        for &account in &missing {
            if let Some(v) = self.mail.vacation(account).await? {
                self.write_vacation_script(account, &v).await?;
            }
        }
        Ok(missing.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn away() -> Vacation {
        Vacation {
            enabled: true,
            subject: "Absente \"jusqu'au\" 4 janvier".into(),
            body: "Bonjour,\n\n.Je suis absente.\nClaire\\".into(),
            starts_at: Some(1_766_534_400), // 2025-12-24
            ends_at: Some(1_767_484_800),   // 2026-01-04
            interval_days: 3,
        }
    }

    #[test]
    fn a_setting_becomes_a_script_that_compiles_and_reads_back() {
        let text = render(&away());
        assert!(text.contains("currentdate :zone \"+0000\" :value \"ge\" \"date\" \"2025-12-24\""), "{text}");
        assert!(text.contains("\"lt\" \"date\" \"2026-01-04\""), "{text}");
        assert!(text.contains("vacation :days 3 :subject \"Absente \\\"jusqu'au\\\" 4 janvier\" text:\r\n"), "{text}");
        assert!(text.contains("\r\n..Je suis absente.\r\n"), "a leading dot is doubled: {text}");
        crate::compile::check(&text, 64 * 1024).expect("the rendered script compiles");
        assert_eq!(parse(&text), Some(away()));
        assert_eq!(parse(&text.replace("\r\n", "\n")), Some(away()), "line endings aside");
        assert_eq!(parse(text.trim_end()), Some(away()), "the last line ending aside");
    }

    #[test]
    fn without_dates_or_subject_and_hand_edits() {
        let v = Vacation { subject: String::new(), starts_at: None, ends_at: None, ..away() };
        let text = render(&v);
        assert!(!text.contains("currentdate") && !text.contains(":subject"), "{text}");
        crate::compile::check(&text, 64 * 1024).expect("compiles");
        assert_eq!(parse(&text), Some(v));
        let only_start = Vacation { ends_at: None, ..away() };
        crate::compile::check(&render(&only_start), 64 * 1024).expect("compiles");
        assert_eq!(parse(&text.replace(":days 3", ":days 5")), None, "edited by hand");
        assert_eq!(parse("keep;"), None);
    }
}
