//! The statistical classifier (naive Bayes with Robinson's token
//! probabilities and Fisher's chi-square combining, as SpamBayes and
//! bogofilter), per user and for the whole platform.
//!
//! - [`tokens`]: what is counted in a message, read from the [`Features`]
//!   the MX extracted once; tokens are stored as 64-bit hashes.
//! - [`combine`]: the statistics, pure functions tested on small corpora.
//! - [`learn`]: training from the owners' own filing (into Junk: spam; out
//!   of it, elsewhere than the Trash: good mail; into the reporting
//!   folder: reported as phishing), heard through `mailstore`'s
//!   [`mailstore::FilingHook`] and done by a task of its own.
//!
//! The counts live in the store (`store::bayes`, migration 28): each
//! training adds to the account's model and to the platform's (account 0)
//! in one transaction, so the platform's model is everyone's sum. At SMTP
//! time the platform's model gives the [`Reason`] `BAYES_SPAM` or
//! `BAYES_HAM` (points in proportion to the probability, negative for good
//! mail) that joins the scorer's; at delivery, a recipient whose own model
//! is trained enough has their copy judged by it instead
//! ([`Bayes::judge`]: one query for the models' totals, one batched query
//! for the tokens of every model consulted). A user's model says nothing
//! before [`Tuning::min_trained`] spam and good messages, the platform's
//! before [`BayesSettings::global_min_trained`].

pub mod combine;
pub mod learn;
pub mod tokens;

use std::collections::HashMap;

use model::{AccountId, BlobId};
use store::{GLOBAL_MODEL, Store, Trained};

pub use combine::{Counts, Judgement, Totals, Tuning};
pub use tokens::Tokens;

use crate::{Features, Reason, Verdict};

/// Per-user models consulted for one message at most: a circular to forty
/// thousand people is judged by the platform's model alone beyond this.
pub const MAX_OWN_MODELS: usize = 200;

/// The classifier's settings, from `[hygiene] bayes_*`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BayesSettings {
    pub tuning: Tuning,
    /// Points of a message surely spam (probability 1).
    pub spam_points: f64,
    /// Points taken off a message surely good (probability 0).
    pub ham_points: f64,
    /// The platform's model says nothing before this many spam and good
    /// messages (each): more than a user's own, so that one person's
    /// training (their taste in newsletters) does not decide for everyone.
    pub global_min_trained: i64,
}

impl Default for BayesSettings {
    fn default() -> Self {
        BayesSettings { tuning: Tuning::default(), spam_points: 7.0, ham_points: 3.0, global_min_trained: 200 }
    }
}

impl BayesSettings {
    /// The reason a judgement adds to the score: `BAYES_SPAM` from 0.6 on,
    /// `BAYES_HAM` up to 0.4, nothing in between (thin or mixed evidence).
    pub fn reason(&self, j: &Judgement, tokens: &Tokens) -> Option<Reason> {
        let p = j.probability;
        let (code, points, spammy) = if p >= 0.6 {
            ("BAYES_SPAM", self.spam_points * (p - 0.5) * 2.0, true)
        } else if p <= 0.4 {
            ("BAYES_HAM", -self.ham_points * (0.5 - p) * 2.0, false)
        } else {
            return None;
        };
        let strongest: Vec<&str> = j
            .clues
            .iter()
            .filter(|c| (c.probability > 0.5) == spammy)
            .filter_map(|c| tokens.words.get(c.token))
            .filter(|w| w.is_ascii())
            .take(3)
            .map(String::as_str)
            .collect();
        let detail = format!("{:.0} %: {}", p * 100.0, strongest.join(" "));
        Some(Reason { code, points: (points * 10.0).round() / 10.0, detail: crate::rules::ascii_detail(&detail) })
    }
}

/// What the models think of one message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Opinions {
    /// The platform's model, when trained enough.
    pub global: Option<Judgement>,
    /// The recipients' own models trained enough.
    pub own: Vec<(AccountId, Judgement)>,
}

/// The classifier: judges and learns through the store.
pub struct Bayes {
    store: Store,
    pub settings: BayesSettings,
}

impl Bayes {
    pub fn new(store: Store, settings: BayesSettings) -> Bayes {
        Bayes { store, settings }
    }

    /// Judges `tokens` by the platform's model and by the own models of
    /// `recipients` (the first [`MAX_OWN_MODELS`]).
    pub async fn judge(&self, tokens: &Tokens, recipients: &[AccountId]) -> Result<Opinions, store::Error> {
        let mut models = vec![GLOBAL_MODEL];
        for r in recipients {
            if models.len() > MAX_OWN_MODELS {
                break;
            }
            if *r != GLOBAL_MODEL && !models.contains(r) {
                models.push(*r);
            }
        }
        let tuning_of = |model: AccountId| match model {
            GLOBAL_MODEL => Tuning { min_trained: self.settings.global_min_trained, ..self.settings.tuning },
            _ => self.settings.tuning,
        };
        let trained: HashMap<AccountId, Totals> = self
            .store
            .bayes_totals(&models)
            .await?
            .into_iter()
            .filter(|(a, spam, ham)| *spam >= tuning_of(*a).min_trained && *ham >= tuning_of(*a).min_trained)
            .map(|(a, spam, ham)| (a, Totals { spam, ham }))
            .collect();
        let mut out = Opinions::default();
        if trained.is_empty() || tokens.is_empty() {
            return Ok(out);
        }
        let asked: Vec<AccountId> = models.iter().copied().filter(|m| trained.contains_key(m)).collect();
        let index: HashMap<i64, usize> = tokens.hashes.iter().enumerate().map(|(i, h)| (*h, i)).collect();
        let mut counts: HashMap<AccountId, Vec<Counts>> =
            asked.iter().map(|a| (*a, vec![Counts::default(); tokens.len()])).collect();
        for c in self.store.bayes_tokens(&asked, &tokens.hashes).await? {
            if let (Some(i), Some(v)) = (index.get(&c.token), counts.get_mut(&c.account)) {
                v[*i] = Counts { spam: c.spam, ham: c.ham };
            }
        }
        for model in asked {
            let judged = tuning_of(model).judge(&counts[&model], trained[&model]);
            match judged {
                Some(j) if model == GLOBAL_MODEL => out.global = Some(j),
                Some(j) => out.own.push((model, j)),
                None => {}
            }
        }
        Ok(out)
    }

    /// Learns `raw` (the message `blob` of `account`) as spam or good mail.
    pub async fn learn(
        &self,
        account: AccountId,
        blob: &BlobId,
        raw: &[u8],
        spam: bool,
    ) -> Result<Trained, store::Error> {
        let tokens = Tokens::of(&Features::extract(raw));
        let outcome = self.store.bayes_train(account, blob, spam, &tokens.hashes).await?;
        let label = if spam { "spam" } else { "ham" };
        metrics::counter!("ardoise_bayes_trained_total", "as" => label).increment(1);
        Ok(outcome)
    }

    /// Forgets tokens seen once and not trained since `before`.
    pub async fn prune(&self, before: i64) -> Result<u64, store::Error> {
        self.store.bayes_prune(before).await
    }

    pub async fn stats(&self) -> Result<store::BayesStats, store::Error> {
        self.store.bayes_stats().await
    }
}

/// `verdict` with its classifier reason replaced by `own` (or removed):
/// the score a recipient's own model gives their copy.
pub fn with_reason(verdict: &Verdict, own: Option<Reason>) -> Verdict {
    let mut v = verdict.clone();
    if let Some(i) = v.reasons.iter().position(|r| r.code.starts_with("BAYES_")) {
        let old = v.reasons.remove(i);
        v.score -= old.points;
    }
    if let Some(r) = own {
        v.score += r.points;
        v.reasons.push(r);
    }
    v.score = (v.score * 10.0).round() / 10.0;
    v
}

/// The verdicts of the recipients whose own model judged the message:
/// `verdict` (the platform's, its classifier reason included) with that
/// reason replaced by their model's.
pub fn per_recipient(
    settings: &BayesSettings,
    verdict: &Verdict,
    tokens: &Tokens,
    opinions: &Opinions,
) -> Vec<(AccountId, Verdict)> {
    opinions.own.iter().map(|(account, j)| (*account, with_reason(verdict, settings.reason(j, tokens)))).collect()
}

/// Adds the platform's classifier reason to `verdict`.
pub fn add_reason(verdict: &mut Verdict, reason: Reason) {
    *verdict = with_reason(verdict, Some(reason));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judgement(p: f64) -> Judgement {
        Judgement {
            probability: p,
            clues: vec![
                combine::Clue { token: 0, probability: 0.99 },
                combine::Clue { token: 1, probability: 0.02 },
                combine::Clue { token: 2, probability: 0.95 },
            ],
        }
    }

    #[test]
    fn reasons_scale_with_the_probability_both_ways() {
        let bayes = BayesSettings::default();
        let tokens = Tokens::from_words(["s:gagnez", "reunion", "a:réunion"]);
        let spam = bayes.reason(&judgement(1.0), &tokens).unwrap();
        assert_eq!((spam.code, spam.points), ("BAYES_SPAM", 7.0));
        assert_eq!(spam.detail, "100 %: s:gagnez", "the spammy clues, ASCII only");
        let ham = bayes.reason(&judgement(0.0), &tokens).unwrap();
        assert_eq!((ham.code, ham.points, ham.detail.as_str()), ("BAYES_HAM", -3.0, "0 %: reunion"));
        assert_eq!(bayes.reason(&judgement(0.75), &tokens).unwrap().points, 3.5);
        assert_eq!(bayes.reason(&judgement(0.5), &tokens), None);
        // Explained in both languages, read back from a stored message.
        assert_eq!(crate::rules::known("bayes_spam"), Some("BAYES_SPAM"));
        assert!(ham.text(false).starts_with("Ressemble au courrier légitime"), "{}", ham.text(false));
        assert!(spam.text(true).starts_with("Looks like the messages filed as spam"));
        assert_eq!(bayes.reason(&judgement(0.59), &tokens), None);
    }

    #[test]
    fn an_own_reason_replaces_the_platforms() {
        let mut v = Verdict { score: 1.4, ..Verdict::default() };
        add_reason(&mut v, Reason { code: "BAYES_SPAM", points: 6.0, detail: String::new() });
        assert_eq!(v.score, 7.4);
        let own = with_reason(&v, Some(Reason { code: "BAYES_HAM", points: -2.5, detail: String::new() }));
        assert_eq!(own.score, -1.1);
        assert_eq!(own.codes().collect::<Vec<_>>(), ["BAYES_HAM"]);
        assert_eq!(with_reason(&v, None).score, 1.4);
    }
}
