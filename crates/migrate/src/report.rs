//! The run's report: one entry per message (and per folder or account that
//! failed as a whole), written as CSV and JSON, and the counts that decide
//! the exit code.

use std::io::Write;
use std::sync::Mutex;

use serde::Serialize;

/// What happened to one message (or folder, or account).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Copied,
    Skipped,
    Failed,
    /// `--dry-run`: would be copied.
    WouldCopy,
    /// `--verify`: the folder's counts and flags agree.
    Verified,
    /// `--verify`: a difference between the two sides.
    Different,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Copied => "copied",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
            Outcome::WouldCopy => "would-copy",
            Outcome::Verified => "verified",
            Outcome::Different => "different",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// The target address.
    pub account: String,
    /// The source folder as decoded (empty for the account as a whole).
    pub folder: String,
    /// The source UID, or the message's number in an mbox file, or the file's
    /// name in a Maildir (empty for a folder or an account).
    pub source_uid: String,
    pub outcome: Outcome,
    pub reason: String,
}

/// Totals by outcome.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Totals {
    pub copied: u64,
    pub skipped: u64,
    pub failed: u64,
    pub would_copy: u64,
    pub verified: u64,
    pub different: u64,
}

/// Entries gathered by every task of a run.
#[derive(Debug, Default)]
pub struct Report {
    entries: Mutex<Vec<Entry>>,
}

impl Report {
    pub fn new() -> Report {
        Report::default()
    }

    pub fn add(
        &self,
        account: &str,
        folder: &str,
        source_uid: impl ToString,
        outcome: Outcome,
        reason: impl Into<String>,
    ) {
        let entry = Entry {
            account: account.to_owned(),
            folder: folder.to_owned(),
            source_uid: source_uid.to_string(),
            outcome,
            reason: reason.into(),
        };
        if outcome == Outcome::Failed || outcome == Outcome::Different {
            tracing::warn!(account, folder, uid = %entry.source_uid, reason = %entry.reason, "{}", outcome.as_str());
        }
        self.entries.lock().expect("report lock").push(entry);
    }

    pub fn entries(&self) -> Vec<Entry> {
        self.entries.lock().expect("report lock").clone()
    }

    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for e in self.entries.lock().expect("report lock").iter() {
            match e.outcome {
                Outcome::Copied => t.copied += 1,
                Outcome::Skipped => t.skipped += 1,
                Outcome::Failed => t.failed += 1,
                Outcome::WouldCopy => t.would_copy += 1,
                Outcome::Verified => t.verified += 1,
                Outcome::Different => t.different += 1,
            }
        }
        t
    }

    /// Whether anything failed or differed (the exit code is then non-zero).
    pub fn has_problems(&self) -> bool {
        let t = self.totals();
        t.failed > 0 || t.different > 0
    }

    /// The report as CSV: `account,folder,source_uid,outcome,reason`.
    pub fn write_csv(&self, out: impl Write) -> std::io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(["account", "folder", "source_uid", "outcome", "reason"])?;
        for e in self.entries() {
            w.write_record([
                e.account.as_str(),
                e.folder.as_str(),
                e.source_uid.as_str(),
                e.outcome.as_str(),
                e.reason.as_str(),
            ])?;
        }
        w.flush()
    }

    /// The report as JSON: `{"totals": {...}, "entries": [...]}`.
    pub fn write_json(&self, out: impl Write) -> std::io::Result<()> {
        #[derive(Serialize)]
        struct Whole {
            totals: Totals,
            entries: Vec<Entry>,
        }
        serde_json::to_writer_pretty(out, &Whole { totals: self.totals(), entries: self.entries() })
            .map_err(std::io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_csv_and_json_with_totals() {
        let r = Report::new();
        r.add("a@x.fr", "Réunions", 4, Outcome::Copied, "");
        r.add("a@x.fr", "Réunions", 5, Outcome::Failed, "connexion perdue, \"vraiment\"");
        assert!(r.has_problems());
        let mut csv = Vec::new();
        r.write_csv(&mut csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.starts_with("account,folder,source_uid,outcome,reason\n"));
        assert!(csv.contains("a@x.fr,Réunions,5,failed,\"connexion perdue, \"\"vraiment\"\"\""));
        let mut json = Vec::new();
        r.write_json(&mut json).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["totals"]["copied"], 1);
        assert_eq!(v["entries"][1]["outcome"], "failed");
    }
}
