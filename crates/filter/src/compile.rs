//! Compiling scripts: sieve-rs's compiler with our limits, the extensions we
//! run (and only those), and errors told in French with their line.

use sieve::compiler::grammar::{Capability, Comparator};
use sieve::compiler::{CompileError, ErrorType};
use sieve::runtime::RuntimeError;
use sieve::{Compiler, Input, Runtime, Sieve};

/// The extensions a script may `require` here (RFC 5228 section 3.2), in the
/// order ManageSieve announces them. Those that need something this server
/// does not have yet (spam and virus verdicts, notifications, header
/// editing, duplicate tracking, mailbox ids and metadata) are left out, so a
/// script asking for them is refused at upload rather than failing at
/// delivery.
pub const EXTENSIONS: &[Capability] = &[
    Capability::FileInto,
    Capability::Reject,
    Capability::Ereject,
    Capability::Envelope,
    Capability::EncodedCharacter,
    Capability::Imap4Flags,
    Capability::Copy,
    Capability::Body,
    Capability::Relational,
    Capability::SubAddress,
    Capability::Date,
    Capability::Index,
    Capability::Variables,
    Capability::Regex,
    Capability::Vacation,
    Capability::VacationSeconds,
    Capability::Mailbox,
    Capability::Include,
    Capability::Environment,
    Capability::Ihave,
    Capability::Mime,
    // Answered from the MX's hygiene verdicts (issue 20).
    Capability::SpamTest,
    Capability::SpamTestPlus,
    Capability::VirusTest,
    Capability::Comparator(Comparator::Octet),
    Capability::Comparator(Comparator::AsciiCaseMap),
    Capability::Comparator(Comparator::AsciiNumeric),
];

/// The `SIEVE` capability string of ManageSieve: the extensions, space
/// separated (comparators are implied by `comparator-` names).
pub fn extension_list() -> String {
    EXTENSIONS.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(" ")
}

/// A script that does not compile, or asks for an extension we do not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ligne {line} : {message}")]
pub struct ScriptError {
    /// 1-based; 0 when the error is not tied to a line.
    pub line: usize,
    /// French, one line.
    pub message: String,
}

/// The compiler with the limits of this server. `max_size` caps the text.
pub(crate) fn compiler(max_size: usize) -> Compiler {
    Compiler::new()
        .with_max_script_size(max_size)
        .with_max_string_size(4096)
        .with_max_nested_blocks(15)
        .with_max_nested_tests(15)
        .with_max_includes(6)
}

/// A runtime that allows only [`EXTENSIONS`], with the execution bounds.
pub(crate) fn runtime(limits: &crate::RunLimits, hostname: &str) -> Runtime {
    let mut runtime = Runtime::new()
        .without_capabilities(Capability::all().iter().cloned())
        .with_cpu_limit(limits.instructions)
        .with_max_nested_includes(limits.nested_includes)
        .with_max_redirects(limits.redirects)
        .with_max_out_messages(limits.redirects + 1)
        .with_max_variable_size(4096)
        .with_max_header_size(1024)
        .with_vacation_default_subject("Réponse automatique")
        .with_vacation_subject_prefix("Réponse automatique : ")
        .with_local_hostname(hostname.to_owned());
    for c in EXTENSIONS {
        runtime.set_capability(c.clone());
    }
    runtime
}

/// Compiles `source`, then checks that every extension it requires is one
/// we run: sieve-rs accepts any `require` and refuses unknown ones only when
/// the script runs, which would be at the first delivery.
pub fn check(source: &str, max_size: usize) -> Result<Sieve, ScriptError> {
    let script = compiler(max_size).compile(source.as_bytes()).map_err(|e| compile_error(&e))?;
    let runtime = runtime(&crate::RunLimits::default(), "localhost");
    let mut dry = runtime.filter(b"");
    // `require` is the script's first instruction: the first step either
    // passes it or names the extension refused.
    if let Some(Err(e)) = dry.run(Input::script("check", script.clone())) {
        let name = match e {
            RuntimeError::CapabilityNotAllowed(c) => c.to_string(),
            RuntimeError::CapabilityNotSupported(c) => c,
            _ => return Ok(script),
        };
        return Err(ScriptError {
            line: line_of(source, &format!("\"{name}\"")),
            message: format!("extension « {name} » non prise en charge par ce serveur"),
        });
    }
    Ok(script)
}

/// The line of the first occurrence of `needle` (1 when absent).
fn line_of(source: &str, needle: &str) -> usize {
    match source.find(needle) {
        Some(at) => source[..at].bytes().filter(|&b| b == b'\n').count() + 1,
        None => 1,
    }
}

fn compile_error(e: &CompileError) -> ScriptError {
    ScriptError { line: e.line_num(), message: french(e.error_type()) }
}

/// The French text of a compiler error.
fn french(e: &ErrorType) -> String {
    match e {
        ErrorType::InvalidCharacter(c) => format!("caractère inattendu {:?}", char::from(*c)),
        ErrorType::InvalidNumber(n) => format!("nombre invalide {n:?}"),
        ErrorType::InvalidMatchVariable(n) => format!("variable de correspondance ${{{n}}} hors limites"),
        ErrorType::InvalidUnicodeSequence(n) => format!("séquence Unicode invalide {n:04x}"),
        ErrorType::InvalidNamespace(n) => format!("espace de noms invalide {n:?}"),
        ErrorType::InvalidRegex(r) => format!("expression régulière invalide {r:?}"),
        ErrorType::InvalidExpression(x) => format!("expression invalide {x}"),
        ErrorType::InvalidUtf8String => "texte qui n'est pas de l'UTF-8".into(),
        ErrorType::InvalidHeaderName => "nom d'en-tête invalide".into(),
        ErrorType::InvalidArguments => "arguments invalides".into(),
        ErrorType::InvalidAddress => "adresse invalide".into(),
        ErrorType::InvalidURI => "URI invalide".into(),
        ErrorType::InvalidEnvelope(x) => format!("partie d'enveloppe inconnue {x:?}"),
        ErrorType::UnterminatedString => "chaîne non terminée (guillemet manquant)".into(),
        ErrorType::UnterminatedComment => "commentaire non terminé".into(),
        ErrorType::UnterminatedMultiline => "texte multiligne non terminé (ligne « . » manquante)".into(),
        ErrorType::UnterminatedBlock => "bloc non fermé (« } » manquante)".into(),
        ErrorType::ScriptTooLong => "script trop long".into(),
        ErrorType::StringTooLong => "chaîne trop longue".into(),
        ErrorType::VariableTooLong => "nom de variable trop long".into(),
        ErrorType::VariableIsLocal(v) => format!("la variable {v:?} est déjà locale"),
        ErrorType::HeaderTooLong => "valeur d'en-tête trop longue".into(),
        ErrorType::ExpectedConstantString => "une chaîne constante est attendue".into(),
        ErrorType::UnexpectedToken { expected, found } => {
            format!("{} attendu, « {found} » trouvé", expected_fr(expected))
        }
        ErrorType::UnexpectedEOF => "fin du script inattendue".into(),
        ErrorType::TooManyNestedBlocks => "trop de blocs imbriqués".into(),
        ErrorType::TooManyNestedTests => "trop de tests imbriqués".into(),
        ErrorType::TooManyNestedForEveryParts => "trop de boucles foreverypart imbriquées".into(),
        ErrorType::TooManyIncludes => "trop d'inclusions".into(),
        ErrorType::LabelAlreadyDefined(l) => format!("étiquette {l:?} déjà définie"),
        ErrorType::LabelUndefined(l) => format!("étiquette {l:?} inconnue"),
        ErrorType::BreakOutsideLoop => "break hors d'une boucle".into(),
        ErrorType::ContinueOutsideLoop => "continue hors d'une boucle".into(),
        ErrorType::UnsupportedComparator(c) => format!("comparateur {c:?} non pris en charge"),
        ErrorType::DuplicatedParameter => "argument en double".into(),
        ErrorType::UndeclaredCapability(c) => format!("extension « {c} » utilisée sans « require »"),
        ErrorType::MissingTag(t) => format!("étiquette {t} manquante"),
    }
}

/// sieve-rs names what it expected in English; the common ones in French.
fn expected_fr(expected: &str) -> String {
    match expected {
        "';'" => "« ; »".into(),
        "'{'" => "« { »".into(),
        "string" => "une chaîne".into(),
        "number" => "un nombre".into(),
        "command" => "une commande".into(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 64 * 1024;

    #[test]
    fn a_good_script_compiles() {
        let ok = "require [\"fileinto\", \"mailbox\"];\r\nif header :contains \"subject\" \"réunion\" {\r\n  fileinto :create \"Réunions\";\r\n}\r\n";
        assert!(check(ok, MAX).is_ok());
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let bad = "require \"fileinto\";\nif header :contains \"subject\" \"x\" {\n  fileinto \"A\"\n}\n";
        let e = check(bad, MAX).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.to_string().starts_with("ligne 4 : "), "{e}");
    }

    #[test]
    fn an_unterminated_string_is_told_in_french() {
        let e = check("require \"fileinto\";\r\nfileinto \"Réunions;\r\n", MAX).unwrap_err();
        assert!(e.message.contains("non terminé"), "{e}");
    }

    #[test]
    fn extensions_we_do_not_run_are_refused_at_upload() {
        let e = check("keep;\n\nrequire \"editheader\";\naddheader \"X\" \"y\";\n", MAX);
        // sieve-rs wants require first; either way the script is refused.
        assert!(e.is_err());
        let e = check("require [\"fileinto\",\n \"vnd.stalwart.while\"];\nkeep;\n", MAX).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("vnd.stalwart.while"), "{e}");
        let e = check("require \"x-inconnue\";\nkeep;\n", MAX).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("x-inconnue"));
    }

    #[test]
    fn the_size_cap_holds() {
        let big = format!("# {}\r\nkeep;\r\n", "x".repeat(2_000));
        assert!(check(&big, 1_000).is_err());
    }

    #[test]
    fn the_announced_list_has_the_extensions_we_promise() {
        let list = extension_list();
        for ext in ["fileinto", "reject", "ereject", "envelope", "imap4flags", "copy", "body", "relational"] {
            assert!(list.split(' ').any(|e| e == ext), "{ext} in {list}");
        }
        for ext in ["subaddress", "date", "index", "variables", "regex", "vacation", "vacation-seconds"] {
            assert!(list.split(' ').any(|e| e == ext), "{ext} in {list}");
        }
        assert!(list.contains("mailbox") && list.contains("include"));
        assert!(!list.contains("vnd.stalwart"), "{list}");
    }
}
