//! The password policy: length, character classes, zxcvbn strength, no name
//! or NUMEN inside, not one of the last N, optional maximum age.

/// A configurable password policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: usize,
    /// How many of lower case, upper case, digits and other characters.
    pub min_classes: usize,
    /// zxcvbn score from 0 (guessable) to 4.
    pub min_score: u8,
    /// Refuse the last `history` passwords (the current one included).
    pub history: usize,
    /// Days after which a password must be changed; `None`: never.
    pub max_age_days: Option<u32>,
}

impl Default for PasswordPolicy {
    /// ANSSI-style defaults: 12 characters, 3 classes, zxcvbn 3, last 5.
    fn default() -> Self {
        PasswordPolicy { min_length: 12, min_classes: 3, min_score: 3, history: 5, max_age_days: None }
    }
}

/// Why a new password is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyViolation {
    TooShort(usize),
    TooLong(usize),
    FewClasses(usize),
    Weak,
    ContainsName,
    ContainsNumen,
    Reused,
    Mismatch,
    ControlCharacters,
}

impl PolicyViolation {
    pub fn message_fr(&self) -> String {
        match self {
            PolicyViolation::TooShort(n) => format!("Le mot de passe doit compter au moins {n} caractères."),
            PolicyViolation::TooLong(n) => format!("Le mot de passe ne doit pas dépasser {n} octets."),
            PolicyViolation::FewClasses(n) => {
                format!("Mélangez au moins {n} types de caractères parmi minuscules, majuscules, chiffres et symboles.")
            }
            PolicyViolation::Weak => "Ce mot de passe est trop facile à deviner : allongez-le ou évitez les mots \
                                      et suites courants."
                .into(),
            PolicyViolation::ContainsName => "Le mot de passe ne doit pas contenir votre nom ou identifiant.".into(),
            PolicyViolation::ContainsNumen => "Le mot de passe ne doit pas contenir votre NUMEN.".into(),
            PolicyViolation::Reused => {
                "Ce mot de passe a déjà été utilisé récemment : choisissez-en un nouveau.".into()
            }
            PolicyViolation::Mismatch => "Les deux saisies du nouveau mot de passe diffèrent.".into(),
            PolicyViolation::ControlCharacters => "Le mot de passe contient des caractères invisibles.".into(),
        }
    }
    pub fn message_en(&self) -> String {
        match self {
            PolicyViolation::TooShort(n) => format!("The password needs at least {n} characters."),
            PolicyViolation::TooLong(n) => format!("The password must not exceed {n} bytes."),
            PolicyViolation::FewClasses(n) => {
                format!("Mix at least {n} kinds of characters among lower case, upper case, digits and symbols.")
            }
            PolicyViolation::Weak => "This password is too easy to guess: make it longer, avoid common words.".into(),
            PolicyViolation::ContainsName => "The password must not contain your name or identifier.".into(),
            PolicyViolation::ContainsNumen => "The password must not contain your NUMEN.".into(),
            PolicyViolation::Reused => "This password was used recently: choose a new one.".into(),
            PolicyViolation::Mismatch => "The two entries of the new password differ.".into(),
            PolicyViolation::ControlCharacters => "The password contains invisible characters.".into(),
        }
    }
}

/// What the policy compares a password with.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    /// Names and identifiers of the person (display name words, login,
    /// local part of the address).
    pub names: Vec<String>,
    /// The NUMEN in clear, when known (at first login it is the provisional
    /// password the person just typed).
    pub numen: Option<&'a str>,
}

impl PasswordPolicy {
    /// Every rule but the history (which needs the stored hashes).
    pub fn check(&self, password: &str, ctx: &Context<'_>) -> Vec<PolicyViolation> {
        let mut out = Vec::new();
        if password.chars().any(char::is_control) {
            out.push(PolicyViolation::ControlCharacters);
        }
        if password.len() > super::hash::MAX_SECRET_LEN {
            out.push(PolicyViolation::TooLong(super::hash::MAX_SECRET_LEN));
            return out;
        }
        if password.chars().count() < self.min_length {
            out.push(PolicyViolation::TooShort(self.min_length));
        }
        let classes = [
            password.chars().any(|c| c.is_lowercase()),
            password.chars().any(|c| c.is_uppercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_alphanumeric()),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if classes < self.min_classes {
            out.push(PolicyViolation::FewClasses(self.min_classes));
        }
        let folded = fold(password);
        if ctx.names.iter().map(|n| fold(n)).any(|n| n.chars().count() >= 3 && folded.contains(&n)) {
            out.push(PolicyViolation::ContainsName);
        }
        if ctx.numen.is_some_and(|n| !n.is_empty() && folded.contains(&fold(n))) {
            out.push(PolicyViolation::ContainsNumen);
        }
        let inputs: Vec<&str> = ctx.names.iter().map(String::as_str).collect();
        let score: u8 = zxcvbn::zxcvbn(password, &inputs).score().into();
        if score < self.min_score {
            out.push(PolicyViolation::Weak);
        }
        out
    }
}

/// Lower case without accents or separators, for containment tests.
fn fold(s: &str) -> String {
    model::translit::slug(s).chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

/// The words worth keeping out of a password: parts of the display name,
/// the login and the address's local part.
pub fn names_of(account: &store::Account) -> Vec<String> {
    let mut names: Vec<String> = account
        .display_name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_owned)
        .collect();
    names.push(account.address.local().to_owned());
    if let Some(l) = &account.login {
        names.push(l.clone());
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context<'static> {
        Context { names: vec!["Hélène".into(), "Lefèvre".into(), "hlefevre".into()], numen: Some("12E3456789DEM") }
    }

    #[test]
    fn a_long_mixed_password_passes() {
        assert_eq!(PasswordPolicy::default().check("Vélo-Rouge-Matin-42!", &ctx()), vec![]);
    }

    #[test]
    fn each_rule_reports_its_violation() {
        let p = PasswordPolicy::default();
        assert!(p.check("Court-1", &ctx()).contains(&PolicyViolation::TooShort(12)));
        assert!(p.check("toutenminusculeslongues", &ctx()).contains(&PolicyViolation::FewClasses(3)));
        assert!(p.check("Password1234!", &ctx()).contains(&PolicyViolation::Weak));
        assert!(p.check("Helene-Velo-Rouge-42!", &ctx()).contains(&PolicyViolation::ContainsName));
        assert!(p.check("x12e3456789demX!a", &ctx()).contains(&PolicyViolation::ContainsNumen));
        assert!(p.check("Vélo-Rouge\u{7}-Matin-42!", &ctx()).contains(&PolicyViolation::ControlCharacters));
        assert_eq!(p.check(&"A1-".repeat(400_000), &ctx()), vec![PolicyViolation::TooLong(256)]);
    }

    #[test]
    fn the_policy_is_configurable() {
        let lax = PasswordPolicy { min_length: 4, min_classes: 1, min_score: 0, history: 0, max_age_days: None };
        assert_eq!(lax.check("abcd", &Context::default()), vec![]);
    }
}
