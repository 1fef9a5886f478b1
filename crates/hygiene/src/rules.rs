//! The built-in scorer: a pure function of a message's [`Features`] and of
//! what the MX knows ([`Context`]).
//!
//! Header anomalies (missing `Date`/`Message-ID`, HELO, forged `Received:`
//! chain) weigh little: none alone reaches the Indésirables threshold,
//! and mail authenticated as the académie's own (DMARC `pass` for a local
//! domain) is exempt from them and from the phishing rules, so a colleague
//! is never junked for header reasons. Phishing signs (lookalike domains,
//! a display name claiming a colleague or a local address, links whose
//! text names another domain, requests for credentials, bidirectional
//! overrides) weigh more; GTUBE alone reaches Indésirables.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::features::Features;
use crate::lookalike;
use crate::{Context, Reason, Verdict};

/// Every rule: code, points, French and English explanation.
const RULES: &[(&str, f64, &str, &str)] = &[
    // Spam for sure, yet under the default refusal threshold (15): the test
    // string shows the whole way to Indésirables; lower reject_threshold to
    // see it refused.
    ("GTUBE", 10.0, "Message de test anti-spam (GTUBE)", "Anti-spam test message (GTUBE)"),
    (
        "DMARC_QUARANTINE",
        5.0,
        "L'expéditeur n'est pas authentifié et son domaine demande la mise en quarantaine (DMARC)",
        "The sender is not authenticated and its domain asks for quarantine (DMARC)",
    ),
    // DNS blocklists (dnsbl.rs): their points are [hygiene] dnsbl_points
    // (3.0 by default, as here), not read from this table.
    (
        "DNSBL_LISTED",
        3.0,
        "L'adresse du serveur d'envoi figure sur une liste de blocage (DNSBL)",
        "The sending server's address is on a blocklist (DNSBL)",
    ),
    (
        "DBL_LISTED",
        3.0,
        "Le domaine de l'expéditeur figure sur une liste de blocage",
        "The sender's domain is on a blocklist",
    ),
    ("MISSING_DATE", 0.7, "Pas de date (en-tête Date absent)", "No Date header"),
    ("MISSING_MESSAGE_ID", 0.7, "Pas d'identifiant de message (Message-ID absent)", "No Message-ID header"),
    (
        "HELO_NOT_FQDN",
        0.5,
        "Le serveur d'envoi s'est présenté sous un nom incomplet",
        "The sending server introduced itself with an incomplete name",
    ),
    (
        "HELO_IP_MISMATCH",
        1.0,
        "Le serveur d'envoi s'est présenté sous une autre adresse que la sienne",
        "The sending server introduced itself with an address not its own",
    ),
    (
        "HELO_CLAIMS_LOCAL",
        3.0,
        "Le serveur d'envoi, extérieur, s'est présenté sous un nom de l'académie",
        "The outside sending server introduced itself with a name of the académie",
    ),
    (
        "FORGED_RECEIVED",
        2.0,
        "L'historique d'acheminement prétend faussement être passé par nos serveurs",
        "The routing trace falsely claims to have gone through our servers",
    ),
    (
        "FORGED_LOCAL_SENDER",
        4.0,
        "Adresse de l'académie, mais message venu de l'extérieur sans authentification",
        "Address of the académie, but the message came from outside without authentication",
    ),
    (
        "DISPLAY_NAME_COLLEAGUE",
        3.5,
        "Le nom affiché est celui d'un agent de l'académie, mais l'adresse est extérieure",
        "The display name is that of a member of staff, but the address is outside",
    ),
    (
        "DISPLAY_NAME_LOCAL_ADDRESS",
        4.0,
        "Le nom affiché contient une adresse de l'académie qui n'est pas celle de l'expéditeur",
        "The display name holds an address of the académie that is not the sender's",
    ),
    (
        "LOOKALIKE_DOMAIN",
        6.0,
        "Le domaine de l'expéditeur imite celui de l'académie",
        "The sender's domain imitates the académie's",
    ),
    (
        "LOOKALIKE_LINK",
        4.0,
        "Un lien mène à un domaine qui imite celui de l'académie",
        "A link leads to a domain imitating the académie's",
    ),
    (
        "DECEPTIVE_DOMAIN",
        1.5,
        "Un domaine est écrit en punycode ou mélange des alphabets",
        "A domain is written in punycode or mixes scripts",
    ),
    (
        "LINK_MISMATCH",
        2.5,
        "Le texte d'un lien annonce un autre site que celui où il mène",
        "A link's text names another site than the one it leads to",
    ),
    (
        "CREDENTIAL_REQUEST",
        3.0,
        "Le message demande un mot de passe ou des identifiants (la DSI ne les demande jamais par courriel)",
        "The message asks for a password or credentials (the IT department never does by mail)",
    ),
    (
        "ACCOUNT_THREAT",
        1.5,
        "Le message menace de suspendre ou fermer un compte",
        "The message threatens to suspend or close an account",
    ),
    (
        "BIDI_OVERRIDE",
        3.0,
        "Des caractères d'inversion du sens d'écriture masquent le vrai texte",
        "Bidirectional override characters hide the real text",
    ),
    ("EXECUTABLE_ATTACHMENT", 3.0, "Pièce jointe exécutable", "Executable attachment"),
    (
        "DOUBLE_EXTENSION",
        4.0,
        "Pièce jointe exécutable déguisée en document",
        "Executable attachment disguised as a document",
    ),
];

/// The statistical classifier's reasons (`bayes`), whose points follow its
/// probability (negative for good mail): code, French and English.
const SCALED: &[(&str, &str, &str)] = &[
    (
        "BAYES_SPAM",
        "Ressemble aux messages classés indésirables (classifieur statistique)",
        "Looks like the messages filed as spam (statistical classifier)",
    ),
    (
        "BAYES_HAM",
        "Ressemble au courrier légitime (classifieur statistique)",
        "Looks like good mail (statistical classifier)",
    ),
];

/// The French and English explanation of `code` (the code itself when
/// unknown, e.g. read back from an older message).
pub fn explain(code: &str) -> (&'static str, &'static str) {
    let fixed = RULES.iter().find(|r| r.0 == code).map(|r| (r.2, r.3));
    let scaled = || SCALED.iter().find(|r| r.0 == code).map(|r| (r.1, r.2));
    fixed.or_else(scaled).unwrap_or(("Règle anti-spam", "Anti-spam rule"))
}

/// The code as stored, when it is one of ours.
pub fn known(code: &str) -> Option<&'static str> {
    let fixed = RULES.iter().find(|r| r.0.eq_ignore_ascii_case(code)).map(|r| r.0);
    fixed.or_else(|| SCALED.iter().find(|r| r.0.eq_ignore_ascii_case(code)).map(|r| r.0))
}

fn points(code: &str) -> f64 {
    RULES.iter().find(|r| r.0 == code).map_or(0.0, |r| r.1)
}

struct Scoring(Verdict);

impl Scoring {
    fn hit(&mut self, code: &'static str, detail: impl Into<String>) {
        if self.0.reasons.iter().any(|r| r.code == code) {
            return;
        }
        let points = points(code);
        self.0.score += points;
        self.0.reasons.push(Reason { code, points, detail: ascii_detail(&detail.into()) });
    }
}

/// Scores one message.
pub fn score(f: &Features, ctx: &Context<'_>) -> Verdict {
    let mut s = Scoring(Verdict::default());
    if f.gtube {
        s.hit("GTUBE", "");
    }
    if ctx.auth.is_some_and(|a| a.dmarc_quarantine) {
        s.hit("DMARC_QUARANTINE", f.from_domain.clone().unwrap_or_default());
        s.0.force_junk = true;
    }
    let is_local = |d: &str| {
        let d = lookalike::unicode(d);
        ctx.local_domains.iter().any(|l| d == *l || d.ends_with(&format!(".{l}")))
    };
    let local_sender = f.from_domain.as_deref().is_some_and(is_local);
    let authenticated_local = local_sender && ctx.auth.is_some_and(|a| a.dmarc == "pass");
    s.0.external = !authenticated_local;

    if !authenticated_local {
        header_rules(&mut s, f, ctx, &is_local);
        if local_sender && ctx.auth.is_some_and(|a| a.dmarc != "pass" && a.dkim != "pass") {
            s.hit("FORGED_LOCAL_SENDER", f.from_domain.clone().unwrap_or_default());
        }
        phishing_rules(&mut s, f, ctx, local_sender);
    }
    content_rules(&mut s, f);
    s.0.score = (s.0.score * 10.0).round() / 10.0;
    s.0
}

fn header_rules(s: &mut Scoring, f: &Features, ctx: &Context<'_>, is_local: &dyn Fn(&str) -> bool) {
    if !f.parsed {
        return;
    }
    if !f.has_date {
        s.hit("MISSING_DATE", "");
    }
    if !f.has_message_id {
        s.hit("MISSING_MESSAGE_ID", "");
    }
    let helo = ctx.helo.trim().trim_end_matches('.').to_ascii_lowercase();
    if let Some(literal) = helo.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let literal = literal.strip_prefix("ipv6:").unwrap_or(literal);
        if literal.parse::<std::net::IpAddr>().ok() != Some(ctx.remote_ip) {
            s.hit("HELO_IP_MISMATCH", helo.clone());
        }
    } else if helo == ctx.hostname.to_ascii_lowercase() || is_local(&helo) {
        s.hit("HELO_CLAIMS_LOCAL", helo.clone());
    } else if !helo.contains('.') || helo.parse::<std::net::IpAddr>().is_ok() {
        s.hit("HELO_NOT_FQDN", helo.clone());
    }
    // The topmost Received: is our own; below it, only the sender wrote.
    let hostname = ctx.hostname.to_ascii_lowercase();
    for received in f.received.iter().skip(1) {
        let lower = received.to_ascii_lowercase();
        let by = lower.split(" by ").nth(1).and_then(|b| b.split_whitespace().next());
        let by = by.map(|b| b.trim_end_matches([';', ')', '(']));
        if let Some(by) = by.filter(|b| *b == hostname || is_local(b)) {
            s.hit("FORGED_RECEIVED", by.to_owned());
            break;
        }
    }
}

fn phishing_rules(s: &mut Scoring, f: &Features, ctx: &Context<'_>, local_sender: bool) {
    if ctx.display_name_is_colleague && !local_sender {
        s.hit("DISPLAY_NAME_COLLEAGUE", f.display_name.clone().unwrap_or_default());
    }
    if let Some(name) = &f.display_name {
        let lower = name.to_lowercase();
        let named = ctx.local_domains.iter().find(|l| {
            lower.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '(' | ')')).any(|w| {
                w.rsplit_once('@').is_some_and(|(_, d)| d == l.as_str()) && Some(w) != f.from_address.as_deref()
            })
        });
        if let Some(l) = named {
            s.hit("DISPLAY_NAME_LOCAL_ADDRESS", l.clone());
        }
    }
    let sender_domains = f.from_domain.iter().chain(&f.reply_to_domains);
    for d in sender_domains {
        if lookalike::imitated(d, ctx.local_domains).is_some() {
            s.hit("LOOKALIKE_DOMAIN", d.clone());
        } else if lookalike::is_deceptive_script(d) {
            s.hit("DECEPTIVE_DOMAIN", d.clone());
        }
    }
    for host in &f.url_hosts {
        if lookalike::imitated(host, ctx.local_domains).is_some() {
            s.hit("LOOKALIKE_LINK", host.clone());
        } else if lookalike::is_deceptive_script(host) {
            s.hit("DECEPTIVE_DOMAIN", host.clone());
        }
    }
    for link in &f.links {
        if link.host.is_empty() {
            continue;
        }
        if let Some(named) = named_domain(&link.text)
            && !related(&named, &link.host)
        {
            s.hit("LINK_MISMATCH", format!("{named} -> {}", link.host));
        }
    }
    let text = fold(&format!("{}\n{}", f.subject, f.text));
    let found = phrases_in(&text);
    if found.credential_request {
        s.hit("CREDENTIAL_REQUEST", "");
    }
    if found.account_threat {
        s.hit("ACCOUNT_THREAT", "");
    }
}

fn content_rules(s: &mut Scoring, f: &Features) {
    let fields = [Some(&f.subject), f.display_name.as_ref(), f.from_address.as_ref()];
    if let Some(field) = fields.into_iter().flatten().chain(&f.attachment_names).find(|t| has_bidi_override(t)) {
        s.hit("BIDI_OVERRIDE", field.chars().filter(|c| !is_bidi_control(*c)).collect::<String>());
    }
    for name in &f.attachment_names {
        let visible: String = name.chars().filter(|c| !is_bidi_control(*c)).collect::<String>().to_lowercase();
        let parts: Vec<&str> = visible.trim().trim_end_matches('.').split('.').collect();
        let Some(ext) = parts.last().filter(|_| parts.len() > 1) else { continue };
        if EXECUTABLE.contains(ext) {
            let disguised = parts.len() > 2 && DOCUMENT.contains(&parts[parts.len() - 2]);
            s.hit(if disguised { "DOUBLE_EXTENSION" } else { "EXECUTABLE_ATTACHMENT" }, visible.clone());
        } else if has_bidi_override(name) {
            // "facture\u{202E}fdp.exe" shows as "facture exe.pdf".
            s.hit("DOUBLE_EXTENSION", visible.clone());
        }
    }
}

const EXECUTABLE: &[&str] = &[
    "exe", "scr", "com", "pif", "bat", "cmd", "js", "jse", "vbs", "vbe", "wsf", "hta", "msi", "jar", "ps1", "lnk",
    "cpl",
];
const DOCUMENT: &[&str] = &["pdf", "doc", "docx", "odt", "xls", "xlsx", "ods", "jpg", "jpeg", "png", "txt", "zip"];

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Overrides and isolates (RLO, LRO, RLI...) change what is shown; plain
/// right-to-left text (Arabic, Hebrew) does not need them.
pub fn has_bidi_override(text: &str) -> bool {
    text.chars().any(is_bidi_control)
}

/// The domain a link's text names, if it names one.
fn named_domain(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    for word in lower.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '(' | ')' | ',')) {
        let word = word.trim_matches(|c: char| matches!(c, '.' | ':' | ';' | '!' | '?'));
        let host = if word.contains("://") { crate::features::url_host(word) } else { word.to_owned() };
        let host = host.split(['/', '?', '#']).next().unwrap_or("");
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        let labels: Vec<&str> = host.split('.').collect();
        let tld_ok = labels.last().is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_alphabetic()));
        let labels_ok = labels.iter().all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'));
        if labels.len() >= 2 && tld_ok && labels_ok {
            return Some(host.to_owned());
        }
    }
    None
}

/// Same site: equal, or one below the other (`www.` and the like).
fn related(a: &str, b: &str) -> bool {
    let a = lookalike::unicode(a);
    let b = lookalike::unicode(b);
    let a = a.strip_prefix("www.").unwrap_or(&a);
    let b = b.strip_prefix("www.").unwrap_or(&b);
    a == b || a.ends_with(&format!(".{b}")) || b.ends_with(&format!(".{a}"))
}

/// Lower-case without French accents, apostrophes made plain.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        // Most mail is mostly ASCII: each run of it is copied and
        // lower-cased whole (no backquote in it, which becomes `'`).
        let run = rest.bytes().position(|b| !b.is_ascii() || b == b'`').unwrap_or(rest.len());
        let start = out.len();
        out.push_str(&rest[..run]);
        out[start..].make_ascii_lowercase();
        rest = &rest[run..];
        let Some(c) = rest.chars().next() else { break };
        rest = &rest[c.len_utf8()..];
        if c == '`' {
            out.push('\'');
            continue;
        }
        out.extend(c.to_lowercase().map(|c| match c {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            'ÿ' => 'y',
            '\u{2019}' | '\u{2018}' => '\'',
            '\u{a0}' | '\u{202f}' => ' ',
            c => c,
        }));
    }
    out
}

const CREDENTIALS: &[&str] = &[
    "mot de passe",
    "mots de passe",
    "identifiant",
    "code d'acces",
    "numen",
    "password",
    "credentials",
    "login details",
    "username and",
];
const ASKING: &[&str] = &[
    "confirm",
    "verifi",
    "valider",
    "validez",
    "saisi",
    "communiqu",
    "transmett",
    "envoyez",
    "renseign",
    "mettre a jour",
    "mise a jour",
    "cliquez",
    "cliquer",
    "reactiv",
    "connectez",
    "verify",
    "validate",
    "update",
    "re-enter",
    "click",
    "provide",
    "reply with",
    "log in",
    "sign in",
];
const THREATS: &[&str] = &[
    "sera suspendu",
    "sera desactive",
    "sera supprime",
    "sera bloque",
    "sera ferme",
    "seront supprimes",
    "boite aux lettres est pleine",
    "boite de reception est pleine",
    "quota de messagerie",
    "will be suspended",
    "will be deactivated",
    "will be closed",
    "will be deleted",
    "mailbox is full",
    "mailbox quota",
];

fn phrases(list: &[&str]) -> AhoCorasick {
    AhoCorasick::builder()
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(list)
        .unwrap_or_else(|e| unreachable!("fixed phrases: {e}"))
}

/// The credentials and the threats in one automaton, so that the whole
/// text is read once: pattern ids below `CREDENTIALS.len()` are
/// credentials, the others threats.
static NAMED_AC: LazyLock<AhoCorasick> = LazyLock::new(|| phrases(&[CREDENTIALS, THREATS].concat()));
/// Asked for only in the sentences that name credentials.
static ASKING_AC: LazyLock<AhoCorasick> = LazyLock::new(|| phrases(ASKING));

/// What [`phrases_in`] found.
#[derive(Debug, Default, PartialEq, Eq)]
struct Phrases {
    /// A sentence (up to `.`, `!`, `?` or a line end) that names
    /// credentials and asks for something about them.
    credential_request: bool,
    /// A threat to the account (« sera suspendu », « mailbox is full »).
    account_threat: bool,
}

/// One pass over `folded` (overlapping matches, so no phrase hides
/// another); stops once both are found. No phrase holds a sentence end, so
/// each credential found lies in one sentence, the only one looked at for
/// an asking verb.
fn phrases_in(folded: &str) -> Phrases {
    let end = |c: char| matches!(c, '.' | '!' | '?' | '\n');
    let mut found = Phrases::default();
    let mut checked = None;
    for m in NAMED_AC.find_overlapping_iter(folded) {
        if m.pattern().as_usize() >= CREDENTIALS.len() {
            found.account_threat = true;
        } else if !found.credential_request {
            let start = folded[..m.start()].rfind(end).map_or(0, |i| i + 1);
            if checked != Some(start) {
                checked = Some(start);
                let stop = folded[m.end()..].find(end).map_or(folded.len(), |i| m.end() + i);
                found.credential_request = ASKING_AC.is_match(&folded[start..stop]);
            }
        }
        if found.credential_request && found.account_threat {
            break;
        }
    }
    found
}

/// Details go into a header: ASCII only (punycode for domains).
pub(crate) fn ascii_detail(detail: &str) -> String {
    let detail = if detail.is_ascii() {
        detail.to_owned()
    } else if let Ok(a) = idna::domain_to_ascii(detail) {
        a
    } else {
        detail.chars().map(|c| if c.is_ascii() { c } else { '?' }).collect()
    };
    detail.chars().filter(|c| !c.is_ascii_control() && !matches!(c, ',' | ';' | '=')).take(120).collect()
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
