//! The rule form as posted and as shown: four condition slots, the actions,
//! and their translation to and from [`filter::Rule`]; the one-line summary
//! the list of rules shows.

use filter::{Action, Condition, Field, Op, Rule};
use serde::Deserialize;

use crate::mail::M;

/// Condition slots the form offers (empty ones are ignored).
pub const SLOTS: usize = 4;

/// A field's code in the form, and its text key.
pub const FIELDS: &[(&str, &str)] = &[
    ("de", "rule.f.from"),
    ("destinataire", "rule.f.recipient"),
    ("objet", "rule.f.subject"),
    ("entete", "rule.f.header"),
    ("liste", "rule.f.list"),
    ("taille", "rule.f.size"),
    ("piece-jointe", "rule.f.attachment"),
    ("spam", "rule.f.spam"),
];

/// An operator's code in the form, and its text key.
pub const OPS: &[(&str, &str)] = &[
    ("contient", "rule.op.contains"),
    ("ne-contient-pas", "rule.op.notcontains"),
    ("est", "rule.op.is"),
    ("n-est-pas", "rule.op.isnot"),
    ("plus-de", "rule.op.over"),
    ("moins-de", "rule.op.under"),
];

fn field_of(code: &str) -> Option<Field> {
    Some(match code {
        "de" => Field::From,
        "destinataire" => Field::Recipient,
        "objet" => Field::Subject,
        "entete" => Field::Header,
        "liste" => Field::ListId,
        "taille" => Field::Size,
        "piece-jointe" => Field::Attachment,
        "spam" => Field::SpamScore,
        _ => return None,
    })
}

fn field_code(f: Field) -> &'static str {
    match f {
        Field::From => "de",
        Field::Recipient => "destinataire",
        Field::Subject => "objet",
        Field::Header => "entete",
        Field::ListId => "liste",
        Field::Size => "taille",
        Field::Attachment => "piece-jointe",
        Field::SpamScore => "spam",
    }
}

fn op_of(code: &str) -> Option<Op> {
    Some(match code {
        "contient" => Op::Contains,
        "ne-contient-pas" => Op::NotContains,
        "est" => Op::Is,
        "n-est-pas" => Op::IsNot,
        "plus-de" => Op::Over,
        "moins-de" => Op::Under,
        _ => return None,
    })
}

fn op_code(o: Op) -> &'static str {
    match o {
        Op::Contains => "contient",
        Op::NotContains => "ne-contient-pas",
        Op::Is => "est",
        Op::IsNot => "n-est-pas",
        Op::Over => "plus-de",
        Op::Under => "moins-de",
    }
}

/// One condition slot as the form shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slot {
    pub field: String,
    pub op: String,
    pub header: String,
    pub value: String,
}

/// The rule form, as posted (serde) and as shown.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    pub csrf: String,
    /// The script revision the page was made from.
    #[serde(default)]
    pub rev: i64,
    /// The rule's position, empty for a new rule.
    #[serde(default)]
    pub n: String,
    #[serde(default)]
    pub nom: String,
    pub actif: Option<String>,
    /// `toutes` or `une`.
    #[serde(default)]
    pub selon: String,
    #[serde(default)]
    pub c0_champ: String,
    #[serde(default)]
    pub c0_op: String,
    #[serde(default)]
    pub c0_entete: String,
    #[serde(default)]
    pub c0_valeur: String,
    #[serde(default)]
    pub c1_champ: String,
    #[serde(default)]
    pub c1_op: String,
    #[serde(default)]
    pub c1_entete: String,
    #[serde(default)]
    pub c1_valeur: String,
    #[serde(default)]
    pub c2_champ: String,
    #[serde(default)]
    pub c2_op: String,
    #[serde(default)]
    pub c2_entete: String,
    #[serde(default)]
    pub c2_valeur: String,
    #[serde(default)]
    pub c3_champ: String,
    #[serde(default)]
    pub c3_op: String,
    #[serde(default)]
    pub c3_entete: String,
    #[serde(default)]
    pub c3_valeur: String,
    #[serde(default)]
    pub deplacer: String,
    #[serde(default)]
    pub copier: String,
    pub lu: Option<String>,
    pub drapeau: Option<String>,
    #[serde(default)]
    pub transferer: String,
    #[serde(default)]
    pub refuser: String,
    pub arreter: Option<String>,
    /// `enregistrer` or `essayer`.
    #[serde(default)]
    pub action: String,
    /// The folder a rule is tried on.
    #[serde(default)]
    pub essai: String,
}

impl RuleForm {
    /// The four slots, in order.
    pub fn slots(&self) -> [Slot; SLOTS] {
        let s = |f: &str, o: &str, h: &str, v: &str| Slot {
            field: f.to_owned(),
            op: o.to_owned(),
            header: h.to_owned(),
            value: v.to_owned(),
        };
        [
            s(&self.c0_champ, &self.c0_op, &self.c0_entete, &self.c0_valeur),
            s(&self.c1_champ, &self.c1_op, &self.c1_entete, &self.c1_valeur),
            s(&self.c2_champ, &self.c2_op, &self.c2_entete, &self.c2_valeur),
            s(&self.c3_champ, &self.c3_op, &self.c3_entete, &self.c3_valeur),
        ]
    }

    /// The rule typed, or `None` when a slot names an unknown field or
    /// operator (a forged form); the rule's own problems are
    /// [`Rule::problems`].
    pub fn rule(&self) -> Option<Rule> {
        let mut conditions = Vec::new();
        for slot in self.slots() {
            if slot.field.is_empty() {
                continue;
            }
            let field = field_of(&slot.field)?;
            let op = match field {
                Field::Attachment => Op::Contains,
                Field::SpamScore => Op::Over,
                _ => op_of(&slot.op)?,
            };
            let value = if field == Field::Attachment { String::new() } else { slot.value.trim().to_owned() };
            let header = if field == Field::Header { slot.header.trim().to_owned() } else { String::new() };
            conditions.push(Condition { field, op, header, value });
        }
        let mut actions = Vec::new();
        if !self.refuser.trim().is_empty() {
            actions.push(Action::Reject(self.refuser.trim().to_owned()));
        }
        if self.lu.is_some() {
            actions.push(Action::MarkRead);
        }
        if self.drapeau.is_some() {
            actions.push(Action::Flag);
        }
        if !self.copier.trim().is_empty() {
            actions.push(Action::CopyTo(self.copier.trim().to_owned()));
        }
        if !self.transferer.trim().is_empty() {
            actions.push(Action::Forward(self.transferer.trim().to_owned()));
        }
        if !self.deplacer.trim().is_empty() {
            actions.push(Action::MoveTo(self.deplacer.trim().to_owned()));
        }
        Some(Rule {
            name: self.nom.trim().to_owned(),
            enabled: self.actif.is_some(),
            all: self.selon != "une",
            conditions,
            actions,
            stop: self.arreter.is_some(),
        })
    }

    /// The form showing `rule` at position `n`.
    pub fn of(rule: &Rule, n: Option<usize>, rev: i64) -> RuleForm {
        let mut f = RuleForm {
            rev,
            n: n.map(|n| n.to_string()).unwrap_or_default(),
            nom: rule.name.clone(),
            actif: rule.enabled.then(|| "1".into()),
            selon: if rule.all { "toutes" } else { "une" }.into(),
            arreter: rule.stop.then(|| "1".into()),
            ..RuleForm::default()
        };
        let slots: Vec<(String, String, String, String)> = rule
            .conditions
            .iter()
            .map(|c| (field_code(c.field).into(), op_code(c.op).into(), c.header.clone(), c.value.clone()))
            .collect();
        let mut it = slots.into_iter();
        if let Some(s) = it.next() {
            (f.c0_champ, f.c0_op, f.c0_entete, f.c0_valeur) = s;
        }
        if let Some(s) = it.next() {
            (f.c1_champ, f.c1_op, f.c1_entete, f.c1_valeur) = s;
        }
        if let Some(s) = it.next() {
            (f.c2_champ, f.c2_op, f.c2_entete, f.c2_valeur) = s;
        }
        if let Some(s) = it.next() {
            (f.c3_champ, f.c3_op, f.c3_entete, f.c3_valeur) = s;
        }
        for a in &rule.actions {
            match a {
                Action::MoveTo(x) => f.deplacer = x.clone(),
                Action::CopyTo(x) => f.copier = x.clone(),
                Action::MarkRead => f.lu = Some("1".into()),
                Action::Flag => f.drapeau = Some("1".into()),
                Action::Forward(x) => f.transferer = x.clone(),
                Action::Reject(x) => f.refuser = x.clone(),
            }
        }
        f
    }
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max).collect();
    out.push('…');
    out
}

/// A rule in one sentence: « Si l'objet contient « réunion » : déplacer
/// dans « Réunions », ne pas appliquer les règles suivantes ».
pub fn summary(rule: &Rule, m: M) -> String {
    let quote = |t: &str| format!("« {} »", short(t, 60));
    let conds: Vec<String> = rule
        .conditions
        .iter()
        .map(|c| {
            let field = match c.field {
                Field::Header => format!("{} {}", m.get("rule.f.header.short"), quote(&c.header)),
                f => m.get(FIELDS.iter().find(|(code, _)| *code == field_code(f)).map_or("", |x| x.1)).to_owned(),
            };
            match c.field {
                Field::Attachment => field,
                Field::Size => format!("{field} {} {} Ko", m.get(key_of_op(c.op)), c.value),
                Field::SpamScore => format!("{field} ≥ {}", c.value),
                _ => format!("{field} {} {}", m.get(key_of_op(c.op)), quote(&c.value)),
            }
        })
        .collect();
    let joiner = if rule.all { m.get("rule.and") } else { m.get("rule.or") };
    let acts: Vec<String> = rule
        .actions
        .iter()
        .map(|a| match a {
            Action::MoveTo(x) => format!("{} {}", m.get("rule.a.move"), quote(x)),
            Action::CopyTo(x) => format!("{} {}", m.get("rule.a.copy"), quote(x)),
            Action::MarkRead => m.get("rule.a.read").to_owned(),
            Action::Flag => m.get("rule.a.flag").to_owned(),
            Action::Forward(x) => format!("{} {}", m.get("rule.a.forward"), quote(x)),
            Action::Reject(_) => m.get("rule.a.reject").to_owned(),
        })
        .chain(rule.stop.then(|| m.get("rule.a.stop").to_owned()))
        .collect();
    format!("{} {} : {}", m.get("rule.if"), conds.join(&format!(" {joiner} ")), acts.join(", "))
}

fn key_of_op(op: Op) -> &'static str {
    OPS.iter().find(|(code, _)| *code == op_code(op)).map_or("", |x| x.1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::i18n::Lang;

    fn typed() -> RuleForm {
        RuleForm {
            nom: " Réunions ".into(),
            actif: Some("1".into()),
            selon: "toutes".into(),
            c0_champ: "objet".into(),
            c0_op: "contient".into(),
            c0_valeur: "réunion".into(),
            c2_champ: "piece-jointe".into(),
            deplacer: "Réunions".into(),
            lu: Some("1".into()),
            arreter: Some("1".into()),
            ..RuleForm::default()
        }
    }

    #[test]
    fn the_form_becomes_a_rule_and_back() {
        let rule = typed().rule().unwrap();
        assert_eq!(rule.name, "Réunions");
        assert_eq!(rule.conditions.len(), 2, "the empty slot is skipped");
        assert_eq!(rule.conditions[1].field, Field::Attachment);
        assert_eq!(rule.actions, [Action::MarkRead, Action::MoveTo("Réunions".into())]);
        assert!(rule.problems().is_empty());
        let again = RuleForm::of(&rule, Some(2), 7);
        assert_eq!((again.n.as_str(), again.rev), ("2", 7));
        assert_eq!(again.rule().unwrap(), rule);
    }

    #[test]
    fn forged_codes_are_refused() {
        let forged = RuleForm { c0_champ: "x-evil".into(), ..typed() };
        assert!(forged.rule().is_none());
        let forged = RuleForm { c0_op: "regex".into(), ..typed() };
        assert!(forged.rule().is_none());
    }

    #[test]
    fn a_rule_reads_as_a_sentence() {
        let s = summary(&typed().rule().unwrap(), M(Lang::Fr));
        assert_eq!(
            s,
            "Si l'objet contient « réunion » et il y a une pièce jointe : marquer comme lu, déplacer dans « Réunions », ne pas appliquer les règles suivantes"
        );
        let en = summary(&typed().rule().unwrap(), M(Lang::En));
        assert!(en.starts_with("If the subject contains « réunion » and"), "{en}");
    }
}
