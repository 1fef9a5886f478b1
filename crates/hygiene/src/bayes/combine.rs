//! The statistics: Robinson's token probabilities combined with Fisher's
//! chi-square method, as SpamBayes and bogofilter do.
//!
//! For a token seen in `s` of the `nspam` spam and `h` of the `nham` good
//! messages trained, `p = (s/nspam) / (s/nspam + h/nham)`, pulled towards
//! 0.5 by the little evidence there is: `f = (S·x + n·p) / (S + n)` with
//! `n = s + h`, strength `S` = 0.45 and `x` = 0.5. Tokens seen fewer than
//! [`Tuning::min_sightings`] times are ignored, as are those with `f` too
//! close to 0.5; of the others the [`Tuning::max_discriminators`] furthest
//! from 0.5 are combined: `H = C⁻¹(-2 Σ ln f, 2n)` and `S = C⁻¹(-2 Σ ln(1-f), 2n)`
//! where `C⁻¹` is the chi-square survival function, and the message's
//! spam probability is `(S - H + 1) / 2`. Near 1: spam, near 0: good mail,
//! near 0.5: the evidence is thin or pulls both ways.

/// Counts of one token: in how many spam and good messages it was seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub spam: i64,
    pub ham: i64,
}

/// What a model was trained on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub spam: i64,
    pub ham: i64,
}

/// The classifier's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tuning {
    /// Robinson's `S`: how much a token's first sightings count.
    pub strength: f64,
    /// Tokens seen fewer times than this (spam + good) say nothing.
    pub min_sightings: i64,
    /// Only tokens with `|f - 0.5|` at least this are combined.
    pub min_deviation: f64,
    pub max_discriminators: usize,
    /// A model says nothing before this many spam and this many good
    /// messages were trained (each).
    pub min_trained: i64,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning { strength: 0.45, min_sightings: 2, min_deviation: 0.1, max_discriminators: 150, min_trained: 20 }
    }
}

/// A token's part in a judgement.
#[derive(Debug, Clone, PartialEq)]
pub struct Clue {
    /// Index of the token in the message's [`super::Tokens`].
    pub token: usize,
    pub probability: f64,
}

/// The classifier's conclusion on one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// 0 surely good ... 1 surely spam.
    pub probability: f64,
    /// The tokens that weighed most, strongest first (at most 150).
    pub clues: Vec<Clue>,
}

impl Tuning {
    /// Robinson's `f(w)` of a token, `None` when it is too rarely seen.
    pub fn token_probability(&self, c: Counts, totals: Totals) -> Option<f64> {
        let n = c.spam.max(0) + c.ham.max(0);
        if n < self.min_sightings || totals.spam <= 0 || totals.ham <= 0 {
            return None;
        }
        let spam_ratio = (c.spam.max(0) as f64 / totals.spam as f64).min(1.0);
        let ham_ratio = (c.ham.max(0) as f64 / totals.ham as f64).min(1.0);
        let p = spam_ratio / (spam_ratio + ham_ratio);
        let n = n as f64;
        Some((self.strength * 0.5 + n * p) / (self.strength + n))
    }

    /// Judges a message from the counts of its tokens (`counts[i]` for the
    /// message's token `i`); `None` while the model is too little trained.
    pub fn judge(&self, counts: &[Counts], totals: Totals) -> Option<Judgement> {
        if totals.spam < self.min_trained || totals.ham < self.min_trained {
            return None;
        }
        let mut clues: Vec<Clue> = counts
            .iter()
            .enumerate()
            .filter_map(|(token, c)| Some(Clue { token, probability: self.token_probability(*c, totals)? }))
            .filter(|c| (c.probability - 0.5).abs() >= self.min_deviation)
            .collect();
        clues.sort_by(|a, b| {
            let (da, db) = ((a.probability - 0.5).abs(), (b.probability - 0.5).abs());
            db.total_cmp(&da).then(a.token.cmp(&b.token))
        });
        clues.truncate(self.max_discriminators);
        Some(Judgement { probability: chi2_combine(clues.iter().map(|c| c.probability)), clues })
    }
}

/// Fisher's combination of token probabilities, both ways (SpamBayes's
/// `chi2_spamprob`); 0.5 for no token.
pub fn chi2_combine(probabilities: impl IntoIterator<Item = f64>) -> f64 {
    let (mut ln_ham, mut ln_spam, mut n) = (0.0_f64, 0.0_f64, 0_u32);
    for p in probabilities {
        // Kept off 0 and 1 so that one token cannot decide alone.
        let p = p.clamp(1e-6, 1.0 - 1e-6);
        ln_ham += p.ln();
        ln_spam += (1.0 - p).ln();
        n += 1;
    }
    if n == 0 {
        return 0.5;
    }
    let spam = 1.0 - chi2_survival(-2.0 * ln_spam, 2 * n);
    let ham = 1.0 - chi2_survival(-2.0 * ln_ham, 2 * n);
    (spam - ham + 1.0) / 2.0
}

/// `P(X ≥ x2)` for a chi-square variable with an even number `v` of
/// degrees of freedom (the series of the Poisson tail).
pub fn chi2_survival(x2: f64, v: u32) -> f64 {
    debug_assert!(v.is_multiple_of(2));
    let m = x2 / 2.0;
    let mut term = (-m).exp();
    let mut sum = term;
    for i in 1..v / 2 {
        term *= m / f64::from(i);
        sum += term;
    }
    sum.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn chi_square_tail_matches_known_values() {
        // v = 2: e^(-x/2).
        assert!(close(chi2_survival(2.0, 2), (-1.0_f64).exp()));
        // v = 4, x = 4: e^-2 (1 + 2).
        assert!(close(chi2_survival(4.0, 4), 3.0 * (-2.0_f64).exp()));
        // Tables: P(X >= 18.307 | 10 dof) = 0.05.
        assert!((chi2_survival(18.307, 10) - 0.05).abs() < 1e-4);
        assert_eq!(chi2_survival(0.0, 6), 1.0);
    }

    #[test]
    fn combining_is_symmetric_and_goes_both_ways() {
        assert_eq!(chi2_combine([]), 0.5);
        assert!(close(chi2_combine([0.5, 0.5, 0.5]), 0.5));
        let spammy = chi2_combine([0.99, 0.95, 0.9, 0.8]);
        let hammy = chi2_combine([0.01, 0.05, 0.1, 0.2]);
        assert!(spammy > 0.95, "{spammy}");
        assert!(hammy < 0.05, "{hammy}");
        assert!(close(spammy, 1.0 - hammy), "mirror images: {spammy} {hammy}");
        // Strong evidence both ways is uncertainty, not a verdict.
        let torn = chi2_combine([0.99, 0.99, 0.01, 0.01]);
        assert!((torn - 0.5).abs() < 0.05, "{torn}");
    }

    #[test]
    fn robinson_pulls_rare_tokens_to_the_middle() {
        let t = Tuning::default();
        let totals = Totals { spam: 100, ham: 100 };
        // Seen once: ignored.
        assert_eq!(t.token_probability(Counts { spam: 1, ham: 0 }, totals), None);
        // Twice in spam only: (0.45·0.5 + 2·1) / 2.45.
        let f = t.token_probability(Counts { spam: 2, ham: 0 }, totals).unwrap();
        assert!(close(f, (0.225 + 2.0) / 2.45), "{f}");
        // Forty times: much nearer 1.
        assert!(t.token_probability(Counts { spam: 40, ham: 0 }, totals).unwrap() > 0.98);
        // Equal rates: 0.5 whatever the counts.
        let even = t.token_probability(Counts { spam: 10, ham: 10 }, totals).unwrap();
        assert!(close(even, 0.5));
        // Rates, not counts: 10 of 100 spam against 10 of 1000 good is spammy.
        let skewed = t.token_probability(Counts { spam: 10, ham: 10 }, Totals { spam: 100, ham: 1000 }).unwrap();
        assert!(skewed > 0.85, "{skewed}");
    }

    /// A small known corpus: counts as a model trained on 20 spam and 20
    /// good messages would hold them.
    #[test]
    fn a_trained_model_judges_both_ways_and_names_its_clues() {
        let t = Tuning::default();
        let totals = Totals { spam: 20, ham: 20 };
        // viagra, gratuit, cliquez: spam; reunion, conseil, eleves: good;
        // bonjour: both; inconnu: never seen.
        let viagra = Counts { spam: 18, ham: 0 };
        let gratuit = Counts { spam: 15, ham: 1 };
        let cliquez = Counts { spam: 12, ham: 2 };
        let reunion = Counts { spam: 0, ham: 17 };
        let conseil = Counts { spam: 1, ham: 14 };
        let eleves = Counts { spam: 0, ham: 12 };
        let bonjour = Counts { spam: 15, ham: 15 };
        let unseen = Counts::default();

        let spam = t.judge(&[bonjour, viagra, unseen, gratuit, cliquez], totals).unwrap();
        assert!(spam.probability > 0.99, "{spam:?}");
        assert_eq!(spam.clues.len(), 3, "bonjour is neutral, the unseen token ignored");
        assert_eq!(spam.clues[0].token, 1, "viagra weighs most");

        let ham = t.judge(&[reunion, bonjour, conseil, eleves], totals).unwrap();
        assert!(ham.probability < 0.01, "{ham:?}");

        let mixed = t.judge(&[viagra, reunion], totals).unwrap();
        assert!((mixed.probability - 0.5).abs() < 0.1, "{mixed:?}");

        let nothing = t.judge(&[unseen, bonjour], totals).unwrap();
        assert_eq!(nothing.probability, 0.5);
        assert!(nothing.clues.is_empty());

        // Too little training: no opinion at all.
        assert_eq!(t.judge(&[viagra], Totals { spam: 19, ham: 200 }), None);
    }
}
