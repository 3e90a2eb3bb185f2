//! The judgement of one quantity measured on both sides of a comparison (a run's wall time, its
//! tasks per second, a task's duration): [`Rules`], and [`Judge::judge`], which turns the sides'
//! samples and the rank test's p-value into a [`Judged`]: the ratio of the medians in words
//! ("1.32 ± 0.05 times slower"), and whether it is worse, better, the same ("~") or not judged,
//! with the reason.

use serde::Serialize;

use crate::report::stats::Sample;

/// How times are judged.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// A change of a time must be larger than this fraction (0.05 for 5%) to count.
    pub threshold: f64,
    /// The significance level of the rank test (0.05: a difference that chance would give 1 time
    /// in 20 between samples of one distribution).
    pub alpha: f64,
    /// Tasks whose median time is under this many seconds on both sides are not judged on time.
    pub noise_floor_seconds: f64,
    /// Runs whose median wall time is under this many seconds on both sides are not judged on
    /// time: starting the workers takes much of such a run, and varies more than the work.
    pub run_noise_floor_seconds: f64,
    /// With too few samples for the rank test, a run's time counts only when it changed by more
    /// than this factor.
    pub few_samples_factor: f64,
}

/// Which way a quantity gets better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Better {
    /// A time: less is better.
    Lower,
    /// A throughput: more is better.
    Higher,
}

/// What the judgement of one time found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// Worse, significantly and beyond the threshold.
    Worse,
    /// Better, significantly and beyond the threshold.
    Better,
    /// No significant change beyond the threshold (benchstat's "~").
    Same,
    /// Not judged (too few samples, under the noise floor, or shown only); `reason` says why.
    NotJudged,
}

/// One time (or throughput) on both sides, and its judgement.
#[derive(Debug, Clone, Serialize)]
pub struct Judged {
    /// The old side's measurements.
    pub old: Sample,
    /// The new side's measurements.
    pub new: Sample,
    /// The new median over the old (`null` when the old one is 0).
    pub ratio: Option<f64>,
    /// How many times worse the new side is (below 1: better), from the medians.
    pub factor: Option<f64>,
    /// The spread of `factor`: the sides' relative standard deviations, combined.
    pub spread: f64,
    /// The rank test's p-value (for tasks, adjusted for the number of tasks tested), when tested.
    pub p_value: Option<f64>,
    /// What was found.
    pub change: Change,
    /// Why, in a few words: "p = 0.008", "not significant (p = 0.31)", "within 5%", ...
    pub reason: String,
    /// The change in words, as "1.32 ± 0.05 times slower".
    pub words: String,
}

/// A number of the kind p-values are, to two significant figures ("0.0079", "0.31").
pub(crate) fn p_text(p: f64) -> String {
    if p >= 0.1 {
        format!("{p:.2}")
    } else if p >= 0.01 {
        format!("{p:.3}")
    } else {
        format!("{p:.2e}")
            .parse::<f64>()
            .map_or_else(|_| format!("{p:.4}"), |value| format!("{value}"))
    }
}

/// What the rank test and the rules make of one quantity.
pub(crate) struct Judge<'a> {
    pub(crate) rules: &'a Rules,
    pub(crate) better: Better,
    /// "slower"/"faster" for times, "lower"/"higher" for throughput.
    pub(crate) words: (&'static str, &'static str),
}

impl Judge<'_> {
    /// The quantity measured as `old` and `new`; `p_value` is the rank test's (adjusted) when the
    /// quantity is tested, `few_samples_factor` whether a change beyond that factor counts without
    /// the test, and `not_judged` a reason it is not judged at all.
    pub(crate) fn judge(
        &self,
        old: Sample,
        new: Sample,
        p_value: Option<f64>,
        few_samples_rule: bool,
        not_judged: Option<String>,
    ) -> Judged {
        let ratio = (old.median > 0.0).then(|| new.median / old.median);
        let factor = match self.better {
            Better::Lower => ratio,
            Better::Higher => (new.median > 0.0).then(|| old.median / new.median),
        };
        let relative = (old.relative_spread().powi(2) + new.relative_spread().powi(2)).sqrt();
        let (worse_word, better_word) = self.words;
        let (words, spread) = match factor {
            Some(factor) if factor >= 1.0 => (
                Self::in_words(factor, factor * relative, worse_word),
                factor * relative,
            ),
            Some(factor) => (
                Self::in_words(1.0 / factor, relative / factor, better_word),
                factor * relative,
            ),
            None => ("not comparable (a median of 0)".to_owned(), 0.0),
        };
        let threshold = self.rules.threshold;
        let beyond = |factor: f64| {
            if factor > 1.0 + threshold {
                Change::Worse
            } else if factor < 1.0 / (1.0 + threshold) {
                Change::Better
            } else {
                Change::Same
            }
        };
        let (change, reason) = match (not_judged, factor) {
            (Some(reason), _) => (Change::NotJudged, reason),
            (None, None) => (Change::NotJudged, "not judged: a median of 0".to_owned()),
            (None, Some(factor)) => match p_value {
                Some(p) if p >= self.rules.alpha => {
                    (Change::Same, format!("not significant, p = {}", p_text(p)))
                }
                Some(p) => match beyond(factor) {
                    Change::Same => (
                        Change::Same,
                        format!(
                            "p = {}, within {}%",
                            p_text(p),
                            format_percent(threshold * 100.0)
                        ),
                    ),
                    change => (change, format!("p = {}", p_text(p))),
                },
                None if few_samples_rule => {
                    let far = self.rules.few_samples_factor;
                    if factor > far {
                        (Change::Worse, format!("beyond {far}x with few samples"))
                    } else if factor < 1.0 / far {
                        (Change::Better, format!("beyond {far}x with few samples"))
                    } else {
                        (
                            Change::NotJudged,
                            format!("not judged: too few samples, within {far}x"),
                        )
                    }
                }
                None => (Change::NotJudged, "not judged: too few samples".to_owned()),
            },
        };
        Judged {
            old,
            new,
            ratio,
            factor,
            spread,
            p_value,
            change,
            reason,
            words,
        }
    }

    /// "1.32 ± 0.05 times slower", the spread left out when it is 0.
    fn in_words(factor: f64, spread: f64, word: &str) -> String {
        if spread > 0.0 {
            format!("{factor:.2} ± {spread:.2} times {word}")
        } else {
            format!("{factor:.2} times {word}")
        }
    }
}

/// `5` or `2.5`, without a trailing `.0`.
pub(crate) fn format_percent(percent: f64) -> String {
    let text = format!("{percent:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}
