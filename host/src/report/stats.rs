//! The statistics `host compare` judges times with: a [`Sample`]'s median, mean and standard
//! deviation, the two-sided Mann-Whitney U rank test ([`mann_whitney`], exact for small samples
//! without ties, the normal approximation with a tie correction otherwise), the smallest p-value a
//! pair of sample sizes can reach ([`smallest_p`]), and the Benjamini-Hochberg adjustment of many
//! p-values at once ([`benjamini_hochberg`]).

use std::{cell::RefCell, collections::HashMap};

use serde::Serialize;

/// Several measurements of one quantity, summarized.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Every measurement, in the order given.
    pub values: Vec<f64>,
    /// The middle value (the mean of the two middle ones for an even count).
    pub median: f64,
    /// The arithmetic mean.
    pub mean: f64,
    /// The sample standard deviation (`n - 1` in the denominator); 0 for one measurement.
    pub stddev: f64,
}

impl Sample {
    /// The summary of `values`; `None` when there are none.
    pub fn of(values: Vec<f64>) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let count = sorted.len();
        let median = if count % 2 == 1 {
            sorted[count / 2]
        } else {
            (sorted[count / 2 - 1] + sorted[count / 2]) / 2.0
        };
        let mean = sorted.iter().sum::<f64>() / count as f64;
        let stddev = if count > 1 {
            let squares: f64 = sorted.iter().map(|value| (value - mean).powi(2)).sum();
            (squares / (count - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Sample {
            values,
            median,
            mean,
            stddev,
        })
    }

    /// How many measurements.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are none (never, for a sample built by [`Sample::of`]).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The standard deviation relative to the mean (0 when the mean is 0).
    pub fn relative_spread(&self) -> f64 {
        if self.mean > 0.0 {
            self.stddev / self.mean
        } else {
            0.0
        }
    }
}

/// The two-sided p-value of the Mann-Whitney U test that `old` and `new` come from the same
/// distribution: the chance, were they alike, of ranks at least as far apart as these. 1 when
/// either side is empty or every value is the same.
pub fn mann_whitney(old: &[f64], new: &[f64]) -> f64 {
    let (n, m) = (old.len(), new.len());
    if n == 0 || m == 0 {
        return 1.0;
    }
    let mut all: Vec<(f64, bool)> = old
        .iter()
        .map(|&value| (value, true))
        .chain(new.iter().map(|&value| (value, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Ranks from 1, a run of equal values sharing the mean of its ranks.
    let total = all.len();
    let mut old_rank_sum = 0.0;
    let mut tie_term = 0.0;
    let mut start = 0;
    while start < total {
        let mut end = start;
        while end + 1 < total && all[end + 1].0 == all[start].0 {
            end += 1;
        }
        let rank = (start + end) as f64 / 2.0 + 1.0;
        let run = (end - start + 1) as f64;
        tie_term += run * run * run - run;
        old_rank_sum += all[start..=end].iter().filter(|(_, old)| *old).count() as f64 * rank;
        start = end + 1;
    }
    let (nf, mf) = (n as f64, m as f64);
    let u_old = old_rank_sum - nf * (nf + 1.0) / 2.0;
    let u = u_old.min(nf * mf - u_old);
    if tie_term == 0.0 && n <= EXACT_LIMIT && m <= EXACT_LIMIT {
        // `u` is a whole number without ties.
        let lower = exact_lower_tail(n, m, u.round() as usize);
        return (2.0 * lower).min(1.0);
    }
    let count = (n + m) as f64;
    let variance = nf * mf / 12.0 * ((count + 1.0) - tie_term / (count * (count - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let z = ((nf * mf / 2.0 - u) - 0.5).max(0.0) / variance.sqrt();
    (2.0 * normal_upper_tail(z)).min(1.0)
}

/// Sides up to this many values, without ties, get the exact distribution of U.
const EXACT_LIMIT: usize = 40;

/// P(U <= `u`) for sides of `n` and `m` values, all orders equally likely.
fn exact_lower_tail(n: usize, m: usize, u: usize) -> f64 {
    DISTRIBUTIONS.with(|cache| {
        let mut cache = cache.borrow_mut();
        let cumulative = cache
            .entry((n, m))
            .or_insert_with(|| cumulative_distribution(n, m));
        cumulative
            .get(u)
            .or(cumulative.last())
            .copied()
            .unwrap_or(1.0)
    })
}

thread_local! {
    /// The distributions of U computed so far, by sample sizes: every task of a comparison has
    /// the same sizes, so each is computed once.
    static DISTRIBUTIONS: RefCell<HashMap<(usize, usize), Vec<f64>>> = RefCell::new(HashMap::new());
}

/// P(U <= k) for every k from 0 to n * m: the number of arrangements of `n` old and `m` new
/// values with U = k, over all C(n + m, n) of them, counted by the recurrence
/// f(i, j, k) = f(i - 1, j, k - j) + f(i, j - 1, k) (the largest value is old, above all j new
/// ones, or new).
fn cumulative_distribution(n: usize, m: usize) -> Vec<f64> {
    let most = n * m;
    // previous[i][k] = f(i, j - 1, k) while row j is built.
    let mut previous: Vec<Vec<f64>> = (0..=n)
        .map(|_| {
            let mut row = vec![0.0; most + 1];
            row[0] = 1.0;
            row
        })
        .collect();
    for j in 1..=m {
        let mut current: Vec<Vec<f64>> = vec![vec![0.0; most + 1]; n + 1];
        current[0][0] = 1.0;
        for i in 1..=n {
            for k in 0..=most {
                let new_last = previous[i][k];
                let old_last = if k >= j { current[i - 1][k - j] } else { 0.0 };
                current[i][k] = new_last + old_last;
            }
        }
        previous = current;
    }
    let counts = &previous[n];
    let all: f64 = counts.iter().sum();
    let mut running = 0.0;
    counts
        .iter()
        .map(|count| {
            running += count;
            running / all
        })
        .collect()
}

/// The smallest two-sided p-value the rank test can give for sides of `n` and `m` values (every
/// old value below every new one): 2 / C(n + m, n). With fewer values than it takes for this to
/// fall under the significance level, the test can never find a difference.
pub fn smallest_p(n: usize, m: usize) -> f64 {
    if n == 0 || m == 0 {
        return 1.0;
    }
    let (small, large) = (n.min(m), n.max(m));
    let mut ways = 1.0;
    for step in 1..=small {
        ways = ways * (large + step) as f64 / step as f64;
    }
    (2.0 / ways).min(1.0)
}

/// P(Z > `z`) for a standard normal Z.
fn normal_upper_tail(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// The complementary error function, to about 1e-7 (Numerical Recipes' Chebyshev fit).
fn erfc(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let poly = -x * x - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let value = t * poly.exp();
    if x >= 0.0 { value } else { 2.0 - value }
}

/// The Benjamini-Hochberg adjusted p-values of `p_values` (in the same order): a difference whose
/// adjusted value is under the significance level is found with the expected share of false
/// findings among all findings kept under that level, however many tests are made at once.
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let count = p_values.len();
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![1.0; count];
    let mut smallest_after = 1.0_f64;
    for (position, &index) in order.iter().enumerate().rev() {
        let value = (p_values[index] * count as f64 / (position + 1) as f64).min(1.0);
        smallest_after = smallest_after.min(value);
        adjusted[index] = smallest_after;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn a_sample_knows_its_median_mean_and_spread() {
        let sample = Sample::of(vec![3.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!(sample.median, 2.5);
        assert_eq!(sample.mean, 4.0);
        assert!(close(sample.stddev, 4.082_482_9, 1e-6));
        assert_eq!(Sample::of(vec![5.0]).unwrap().stddev, 0.0);
        assert!(Sample::of(Vec::new()).is_none());
    }

    #[test]
    fn completely_separated_samples_get_the_smallest_p() {
        let old = [1.0, 2.0, 3.0, 4.0, 5.0];
        let new = [6.0, 7.0, 8.0, 9.0, 10.0];
        // 2 / C(10, 5) = 2 / 252.
        assert!(close(mann_whitney(&old, &new), 2.0 / 252.0, 1e-12));
        assert!(close(mann_whitney(&new, &old), 2.0 / 252.0, 1e-12));
        assert!(close(smallest_p(5, 5), 2.0 / 252.0, 1e-12));
        assert!(close(smallest_p(1, 1), 1.0, 1e-12));
        assert!(close(smallest_p(4, 4), 2.0 / 70.0, 1e-12));
    }

    #[test]
    fn the_exact_test_matches_published_values() {
        // One swap from complete separation: U = 1, P(U <= 1) = 2 / 252, two-sided 4 / 252.
        let old = [1.0, 2.0, 3.0, 4.0, 6.0];
        let new = [5.0, 7.0, 8.0, 9.0, 10.0];
        assert!(close(mann_whitney(&old, &new), 4.0 / 252.0, 1e-12));
        // Interleaved samples are alike.
        let old = [1.0, 3.0, 5.0, 7.0, 9.0];
        let new = [2.0, 4.0, 6.0, 8.0, 10.0];
        assert!(mann_whitney(&old, &new) > 0.5);
    }

    #[test]
    fn the_normal_approximation_handles_ties_and_large_samples() {
        let old: Vec<f64> = (0..60).map(f64::from).collect();
        let new: Vec<f64> = (30..90).map(f64::from).collect();
        let p = mann_whitney(&old, &new);
        assert!(p < 1e-4, "{p}");
        let same = [1.0, 1.0, 1.0];
        assert_eq!(mann_whitney(&same, &same), 1.0);
        let tied_old = [1.0, 1.0, 2.0, 2.0, 3.0];
        let tied_new = [1.0, 2.0, 2.0, 3.0, 3.0];
        assert!(mann_whitney(&tied_old, &tied_new) > 0.3);
        assert!(close(erfc(0.0), 1.0, 1e-7));
        assert!(close(normal_upper_tail(1.959_964), 0.025, 1e-6));
    }

    #[test]
    fn benjamini_hochberg_keeps_order_and_scales_by_rank() {
        let adjusted = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.5]);
        assert!(close(adjusted[0], 0.04, 1e-12));
        assert!(close(adjusted[1], 0.053_333_333, 1e-6));
        assert!(close(adjusted[2], 0.053_333_333, 1e-6));
        assert!(close(adjusted[3], 0.5, 1e-12));
        assert!(benjamini_hochberg(&[]).is_empty());
    }
}
