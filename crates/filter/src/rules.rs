//! The webmail's filter rules (Réglages → Filtres), kept as readable Sieve.
//!
//! A list of [`Rule`]s is written ([`render`]) as one Sieve script: each rule
//! becomes a commented `if` block, preceded by a comment line that holds the
//! rule itself as JSON (`# ardoise-regle {...}`). Reading a script back
//! ([`parse`]) takes the rules from those lines and renders them again: only
//! when the result is the script's text (line endings aside) is the script
//! still the builder's. Anything else was edited by hand (over ManageSieve,
//! say) and is never rewritten without the owner asking.
//!
//! Pure: no I/O, no store. The service side (which script is active, saving,
//! trying a rule on existing mail) is in [`crate::builder`].

use serde::{Deserialize, Serialize};

/// The script the webmail writes.
pub const SCRIPT_NAME: &str = "regles-webmail";

/// The comment that starts every rule's line of JSON.
const MARKER: &str = "# ardoise-regle ";

/// Longest rule name and condition value, in characters.
pub const MAX_NAME: usize = 100;
pub const MAX_VALUE: usize = 500;
/// Rules one script may hold.
pub const MAX_RULES: usize = 200;

/// One rule: when its conditions hold, its actions run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    pub enabled: bool,
    /// Every condition must hold (`allof`), or one is enough (`anyof`).
    pub all: bool,
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
    /// No later rule runs for a message this rule matched.
    pub stop: bool,
}

/// What a condition looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Field {
    From,
    /// To or Cc.
    Recipient,
    Subject,
    /// A header named by the condition.
    Header,
    ListId,
    /// Size in kilobytes: `Over`/`Under` only.
    Size,
    /// A part given as an attachment: no operator, no value.
    Attachment,
    /// The spam score (`X-Spam-Score`) is at least the value.
    SpamScore,
}

/// How a text condition compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Op {
    Contains,
    NotContains,
    Is,
    IsNot,
    Over,
    Under,
}

/// One condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub field: Field,
    pub op: Op,
    /// The header's name for [`Field::Header`], else empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub header: String,
    #[serde(default)]
    pub value: String,
}

/// One action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "do", content = "to")]
pub enum Action {
    /// File into this folder instead of the Inbox (made if missing).
    MoveTo(String),
    /// File a copy into this folder as well.
    CopyTo(String),
    MarkRead,
    Flag,
    /// Send a copy on to this address (the message is kept too).
    Forward(String),
    /// Refuse the message with this text (nothing else may be done).
    Reject(String),
}

/// What is wrong with a rule, as a key of the webmail's texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    NoName,
    NameTooLong,
    NoCondition,
    NoAction,
    /// A text condition without its text, or with a line break.
    BadValue,
    /// A header name that is not one (`A-Z a-z 0-9 -`).
    BadHeader,
    /// A size or score that is not a whole number.
    BadNumber,
    /// An operator the field does not take.
    BadOp,
    NoFolder,
    BadAddress,
    /// `Reject` beside another action.
    RejectAlone,
    NoRejectText,
    TooMany,
}

impl Problem {
    /// The key of the webmail's text for this problem.
    pub fn key(self) -> &'static str {
        match self {
            Problem::NoName => "rule.err.name",
            Problem::NameTooLong => "rule.err.namelong",
            Problem::NoCondition => "rule.err.nocondition",
            Problem::NoAction => "rule.err.noaction",
            Problem::BadValue => "rule.err.value",
            Problem::BadHeader => "rule.err.header",
            Problem::BadNumber => "rule.err.number",
            Problem::BadOp => "rule.err.op",
            Problem::NoFolder => "rule.err.folder",
            Problem::BadAddress => "rule.err.address",
            Problem::RejectAlone => "rule.err.rejectalone",
            Problem::NoRejectText => "rule.err.rejecttext",
            Problem::TooMany => "rule.err.toomany",
        }
    }
}

fn one_line(text: &str) -> bool {
    !text.contains(['\r', '\n', '\0'])
}

fn whole_number(text: &str) -> Option<u64> {
    let t = text.trim();
    (!t.is_empty() && t.len() <= 9 && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok()).flatten()
}

impl Condition {
    fn problems(&self, out: &mut Vec<Problem>) {
        let text_op = matches!(self.op, Op::Contains | Op::NotContains | Op::Is | Op::IsNot);
        match self.field {
            Field::Size => {
                if !matches!(self.op, Op::Over | Op::Under) {
                    out.push(Problem::BadOp);
                }
                if whole_number(&self.value).is_none() {
                    out.push(Problem::BadNumber);
                }
            }
            Field::SpamScore => {
                if self.op != Op::Over {
                    out.push(Problem::BadOp);
                }
                if whole_number(&self.value).is_none_or(|n| n > 1000) {
                    out.push(Problem::BadNumber);
                }
            }
            Field::Attachment => {}
            _ => {
                if !text_op {
                    out.push(Problem::BadOp);
                }
                let v = self.value.trim();
                if v.is_empty() || v.chars().count() > MAX_VALUE || !one_line(v) {
                    out.push(Problem::BadValue);
                }
            }
        }
        if self.field == Field::Header
            && (self.header.is_empty()
                || self.header.len() > 76
                || !self.header.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        {
            out.push(Problem::BadHeader);
        }
    }
}

/// Whether `address` looks like one mail address (`local@domain`).
fn plausible_address(address: &str) -> bool {
    model::Address::parse(address.trim()).is_ok()
}

impl Rule {
    /// Every problem of this rule (empty when it can be saved).
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let name = self.name.trim();
        if name.is_empty() {
            out.push(Problem::NoName);
        } else if name.chars().count() > MAX_NAME || !one_line(name) {
            out.push(Problem::NameTooLong);
        }
        if self.conditions.is_empty() {
            out.push(Problem::NoCondition);
        }
        for c in &self.conditions {
            c.problems(&mut out);
        }
        if self.actions.is_empty() {
            out.push(Problem::NoAction);
        }
        for a in &self.actions {
            match a {
                Action::MoveTo(f) | Action::CopyTo(f) => {
                    if f.trim().is_empty() || f.chars().count() > MAX_VALUE || !one_line(f) {
                        out.push(Problem::NoFolder);
                    }
                }
                Action::Forward(to) => {
                    if !plausible_address(to) {
                        out.push(Problem::BadAddress);
                    }
                }
                Action::Reject(text) => {
                    if text.trim().is_empty() || text.chars().count() > MAX_VALUE {
                        out.push(Problem::NoRejectText);
                    }
                    if self.actions.len() > 1 {
                        out.push(Problem::RejectAlone);
                    }
                }
                Action::MarkRead | Action::Flag => {}
            }
        }
        out.dedup();
        out
    }

    /// The addresses this rule forwards to.
    pub fn forwards(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().filter_map(|a| match a {
            Action::Forward(to) => Some(to.trim()),
            _ => None,
        })
    }
}

/// A Sieve string literal of `text` (RFC 5228 section 2.4.2).
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The Sieve test of one condition, and the extensions it needs.
fn test(c: &Condition, needs: &mut Vec<&'static str>) -> String {
    let v = quoted(c.value.trim());
    let text = |headers: &str, address: bool| {
        let (negate, how) = match c.op {
            Op::Contains => (false, ":contains"),
            Op::NotContains => (true, ":contains"),
            Op::Is => (false, ":is"),
            _ => (true, ":is"),
        };
        // `is` compares addresses, not the whole header with its name part.
        let kind = if address && matches!(c.op, Op::Is | Op::IsNot) { "address" } else { "header" };
        let t = format!("{kind} {how} {headers} {v}");
        if negate { format!("not {t}") } else { t }
    };
    match c.field {
        Field::From => text("\"from\"", true),
        Field::Recipient => text("[\"to\", \"cc\"]", true),
        Field::Subject => text("\"subject\"", false),
        Field::ListId => text("\"list-id\"", false),
        Field::Header => text(&quoted(&c.header.to_ascii_lowercase()), false),
        Field::Size => {
            let kb = whole_number(&c.value).unwrap_or(0);
            let how = if c.op == Op::Under { ":under" } else { ":over" };
            format!("size {how} {kb}K")
        }
        Field::Attachment => {
            needs.push("mime");
            "header :mime :anychild :contains \"content-disposition\" \"attachment\"".into()
        }
        Field::SpamScore => {
            needs.extend(["relational", "comparator-i;ascii-numeric"]);
            let n = whole_number(&c.value).unwrap_or(0);
            format!("header :value \"ge\" :comparator \"i;ascii-numeric\" \"x-spam-score\" \"{n}\"")
        }
    }
}

/// The Sieve commands of a rule's actions (flags first, then filings, then
/// `stop`), and the extensions they need.
fn commands(rule: &Rule, needs: &mut Vec<&'static str>) -> Vec<String> {
    let mut out = Vec::new();
    for a in &rule.actions {
        match a {
            Action::MarkRead => {
                needs.push("imap4flags");
                out.push("addflag \"\\\\Seen\";".to_owned());
            }
            Action::Flag => {
                needs.push("imap4flags");
                out.push("addflag \"\\\\Flagged\";".to_owned());
            }
            _ => {}
        }
    }
    for a in &rule.actions {
        match a {
            Action::Reject(text) => {
                needs.push("reject");
                out.push(format!("reject {};", quoted(text.trim())));
            }
            Action::CopyTo(f) => {
                needs.extend(["fileinto", "mailbox", "copy"]);
                out.push(format!("fileinto :copy :create {};", quoted(f.trim())));
            }
            Action::Forward(to) => {
                needs.push("copy");
                out.push(format!("redirect :copy {};", quoted(to.trim())));
            }
            _ => {}
        }
    }
    for a in &rule.actions {
        if let Action::MoveTo(f) = a {
            needs.extend(["fileinto", "mailbox"]);
            out.push(format!("fileinto :create {};", quoted(f.trim())));
        }
    }
    if rule.stop {
        out.push("stop;".to_owned());
    }
    out
}

/// The order extensions are required in (stable, so a script renders the
/// same twice).
const REQUIRE_ORDER: &[&str] =
    &["fileinto", "mailbox", "copy", "imap4flags", "reject", "relational", "comparator-i;ascii-numeric", "mime"];

/// The Sieve script of `rules`, with CRLF line endings.
pub fn render(rules: &[Rule]) -> String {
    let mut needs = Vec::new();
    let mut body = String::new();
    for (n, rule) in rules.iter().enumerate() {
        let json = serde_json::to_string(rule).expect("a rule always serialises");
        body.push_str(&format!("\r\n# Règle {} : {}\r\n{MARKER}{json}\r\n", n + 1, one_line_name(&rule.name)));
        if !rule.enabled {
            body.push_str("# (désactivée)\r\n");
            continue;
        }
        let tests: Vec<String> = rule.conditions.iter().map(|c| test(c, &mut needs)).collect();
        let head = match tests.len() {
            1 => tests[0].clone(),
            _ => format!("{} ({})", if rule.all { "allof" } else { "anyof" }, tests.join(", ")),
        };
        body.push_str(&format!("if {head} {{\r\n"));
        for cmd in commands(rule, &mut needs) {
            body.push_str(&format!("    {cmd}\r\n"));
        }
        body.push_str("}\r\n");
    }
    let mut out = String::from(
        "# Règles de filtrage écrites par le webmail (Réglages → Filtres).\r\n\
         # Modifié à la main, ce script n'est plus réécrit par le webmail.\r\n\
         # Filter rules written by the webmail; once edited by hand, it is left as it is.\r\n",
    );
    let required: Vec<String> = REQUIRE_ORDER.iter().filter(|r| needs.contains(r)).map(|r| quoted(r)).collect();
    if !required.is_empty() {
        out.push_str(&format!("require [{}];\r\n", required.join(", ")));
    }
    out.push_str(&body);
    out
}

fn one_line_name(name: &str) -> String {
    name.trim().chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The rules of a script the webmail wrote and nobody edited since; `None`
/// for any other text.
pub fn parse(script: &str) -> Option<Vec<Rule>> {
    let mut rules = Vec::new();
    for line in script.lines() {
        if let Some(json) = line.strip_prefix(MARKER) {
            rules.push(serde_json::from_str::<Rule>(json.trim_end_matches('\r')).ok()?);
        }
    }
    let normal = |s: &str| s.replace("\r\n", "\n");
    (normal(&render(&rules)) == normal(script)).then_some(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reunions() -> Rule {
        Rule {
            name: "Réunions".into(),
            enabled: true,
            all: true,
            conditions: vec![Condition {
                field: Field::Subject,
                op: Op::Contains,
                header: String::new(),
                value: "réunion".into(),
            }],
            actions: vec![Action::MoveTo("Réunions".into())],
            stop: true,
        }
    }

    #[test]
    fn a_rule_reads_as_sieve() {
        let script = render(&[reunions()]);
        let expected = "require [\"fileinto\", \"mailbox\"];\r\n\r\n# Règle 1 : Réunions\r\n";
        assert!(script.contains(expected), "{script}");
        assert!(script.contains("if header :contains \"subject\" \"réunion\" {\r\n    fileinto :create \"Réunions\";\r\n    stop;\r\n}\r\n"), "{script}");
        crate::compile::check(&script, 64 * 1024).expect("the builder writes scripts that compile");
    }

    #[test]
    fn rules_round_trip_and_edits_are_seen() {
        let mut other = reunions();
        other.name = "Liste \"profs\" \\ tout".into();
        other.all = false;
        other.stop = false;
        other.conditions = vec![
            Condition { field: Field::ListId, op: Op::Contains, header: String::new(), value: "profs".into() },
            Condition { field: Field::From, op: Op::IsNot, header: String::new(), value: "a@b.fr".into() },
            Condition { field: Field::Header, op: Op::Is, header: "X-Priority".into(), value: "1".into() },
            Condition { field: Field::Size, op: Op::Over, header: String::new(), value: "2048".into() },
            Condition { field: Field::Attachment, op: Op::Contains, header: String::new(), value: String::new() },
            Condition { field: Field::SpamScore, op: Op::Over, header: String::new(), value: "5".into() },
        ];
        other.actions = vec![
            Action::Forward("paul.durand@ac-demo.fr".into()),
            Action::CopyTo("Archives/Listes".into()),
            Action::MarkRead,
            Action::Flag,
        ];
        let mut off = reunions();
        off.enabled = false;
        let rules = vec![reunions(), other, off];
        let script = render(&rules);
        crate::compile::check(&script, 64 * 1024).unwrap_or_else(|e| panic!("{e}\n{script}"));
        assert_eq!(parse(&script), Some(rules.clone()));
        assert_eq!(parse(&script.replace("\r\n", "\n")), Some(rules.clone()), "line endings do not count");
        let edited = script.replace("stop;", "discard;");
        assert_eq!(parse(&edited), None, "an edit by hand is seen");
        assert_eq!(parse("require \"fileinto\";\r\nfileinto \"x\";\r\n"), None);
        assert_eq!(parse(&render(&[])), Some(vec![]));
    }

    #[test]
    fn bad_rules_say_why() {
        let mut r = reunions();
        r.name = " ".into();
        r.conditions[0].value = "a\nb".into();
        r.actions.push(Action::Reject(String::new()));
        r.actions.push(Action::Forward("pas une adresse".into()));
        let p = r.problems();
        for want in
            [Problem::NoName, Problem::BadValue, Problem::NoRejectText, Problem::RejectAlone, Problem::BadAddress]
        {
            assert!(p.contains(&want), "{want:?} in {p:?}");
        }
        let mut size = reunions();
        size.conditions =
            vec![Condition { field: Field::Size, op: Op::Contains, header: String::new(), value: "-1".into() }];
        assert_eq!(size.problems(), [Problem::BadOp, Problem::BadNumber]);
        let mut header = reunions();
        header.conditions[0].field = Field::Header;
        header.conditions[0].header = "X-Bad: injected".into();
        assert_eq!(header.problems(), [Problem::BadHeader]);
        assert!(reunions().problems().is_empty());
    }

    #[test]
    fn quoting_keeps_scripts_whole() {
        assert_eq!(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
        let mut r = reunions();
        r.conditions[0].value = "\" { discard; } if true { \"".into();
        let script = render(&[r.clone()]);
        crate::compile::check(&script, 64 * 1024).unwrap();
        assert!(!script.contains("\r\ndiscard"));
        assert_eq!(parse(&script), Some(vec![r]));
    }
}
