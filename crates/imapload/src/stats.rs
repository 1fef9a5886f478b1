//! Counters and latencies, kept per client and merged at the end into the
//! JSON report.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// At most this many error messages are kept (counts are always exact).
const KEEP_ERRORS: usize = 30;

#[derive(Default)]
pub struct Stats {
    /// Latencies in microseconds, by command kind.
    latencies: BTreeMap<&'static str, Vec<u32>>,
    pub protocol_errors: u64,
    pub consistency_errors: u64,
    /// NO answers that concurrent expunges explain (not errors).
    pub tolerated_no: u64,
    pub sessions: u64,
    pub aborted_sessions: u64,
    pub messages: Vec<String>,
    /// Errors by kind: the message with its numbers replaced by `N`.
    pub by_kind: BTreeMap<String, u64>,
}

impl Stats {
    pub fn record(&mut self, kind: &'static str, took: Duration) {
        let us = u32::try_from(took.as_micros()).unwrap_or(u32::MAX);
        self.latencies.entry(kind).or_default().push(us);
    }

    pub fn protocol(&mut self, msg: String) {
        self.protocol_errors += 1;
        self.keep(format!("protocol: {msg}"));
    }

    pub fn consistency(&mut self, msg: String) {
        self.consistency_errors += 1;
        self.keep(format!("consistency: {msg}"));
    }

    pub fn aborted(&mut self, msg: String) {
        self.aborted_sessions += 1;
        self.keep(format!("session aborted: {msg}"));
    }

    fn keep(&mut self, msg: String) {
        *self.by_kind.entry(kind_of(&msg)).or_default() += 1;
        if self.messages.len() < KEEP_ERRORS {
            self.messages.push(msg);
        }
    }

    pub fn merge(&mut self, other: Stats) {
        for (k, mut v) in other.latencies {
            self.latencies.entry(k).or_default().append(&mut v);
        }
        self.protocol_errors += other.protocol_errors;
        self.consistency_errors += other.consistency_errors;
        self.tolerated_no += other.tolerated_no;
        self.sessions += other.sessions;
        self.aborted_sessions += other.aborted_sessions;
        for m in other.messages {
            if self.messages.len() < KEEP_ERRORS {
                self.messages.push(m);
            }
        }
        for (k, n) in other.by_kind {
            *self.by_kind.entry(k).or_default() += n;
        }
    }

    pub fn report(mut self, seconds: f64) -> Report {
        let mut by_command = BTreeMap::new();
        let mut total = 0;
        for (k, v) in &mut self.latencies {
            v.sort_unstable();
            total += v.len() as u64;
            by_command.insert(k.to_string(), Kind::of(v, seconds));
        }
        Report {
            seconds,
            commands: total,
            commands_per_second: total as f64 / seconds,
            by_command,
            protocol_errors: self.protocol_errors,
            consistency_errors: self.consistency_errors,
            tolerated_no: self.tolerated_no,
            sessions: self.sessions,
            aborted_sessions: self.aborted_sessions,
            errors: self.messages,
            errors_by_kind: self.by_kind,
        }
    }
}

#[derive(Serialize)]
pub struct Report {
    pub seconds: f64,
    pub commands: u64,
    pub commands_per_second: f64,
    pub by_command: BTreeMap<String, Kind>,
    pub protocol_errors: u64,
    pub consistency_errors: u64,
    pub tolerated_no: u64,
    pub sessions: u64,
    pub aborted_sessions: u64,
    pub errors: Vec<String>,
    pub errors_by_kind: BTreeMap<String, u64>,
}

/// `FETCH 7 with 5 messages` -> `FETCH N with N messages`; logins are kept
/// (accounts differ), and text after a reply's status is cut at 60 bytes.
fn kind_of(msg: &str) -> String {
    let mut out = String::new();
    for c in msg.chars().take(100) {
        if c.is_ascii_digit() {
            if !out.ends_with('N') {
                out.push('N');
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[derive(Serialize, Debug, PartialEq)]
pub struct Kind {
    pub count: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Kind {
    /// Percentiles (nearest rank) of sorted microsecond latencies.
    fn of(sorted: &[u32], seconds: f64) -> Kind {
        let pct = |p: f64| {
            let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
            f64::from(sorted[rank - 1]) / 1000.0
        };
        Kind {
            count: sorted.len() as u64,
            per_second: sorted.len() as f64 / seconds,
            p50_ms: pct(0.50),
            p90_ms: pct(0.90),
            p99_ms: pct(0.99),
            max_ms: pct(1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_rates_and_merge() {
        let mut a = Stats::default();
        for ms in 1..=100 {
            a.record("FETCH", Duration::from_millis(ms));
        }
        let mut b = Stats::default();
        b.record("LOGIN", Duration::from_micros(2500));
        b.protocol("FETCH replied BAD".into());
        a.merge(b);
        let r = a.report(10.0);
        assert_eq!(r.commands, 101);
        assert!((r.commands_per_second - 10.1).abs() < 1e-9);
        let f = &r.by_command["FETCH"];
        assert_eq!((f.p50_ms, f.p90_ms, f.p99_ms, f.max_ms), (50.0, 90.0, 99.0, 100.0));
        assert_eq!(r.by_command["LOGIN"].p99_ms, 2.5);
        assert_eq!(r.protocol_errors, 1);
        assert_eq!(r.errors, vec!["protocol: FETCH replied BAD".to_owned()]);
        let mut c = Stats::default();
        c.consistency("FETCH 7 with 5 messages".into());
        c.consistency("FETCH 12 with 9 messages".into());
        assert_eq!(c.report(1.0).errors_by_kind["consistency: FETCH N with N messages"], 2);
    }
}
