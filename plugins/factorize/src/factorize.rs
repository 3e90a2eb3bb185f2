//! The factorizer: lists the divisors of a number by the seed's naive trial of every candidate, or
//! in O(sqrt n), and cuts one number's trial range into parts and merges their results.

use serde::Deserialize;

use crate::task::Task;

/// The naive method refuses a task with more trial divisions than this (about 10 s of work).
pub const NAIVE_LIMIT: u64 = 10_000_000_000;

/// `split` cuts a whole naive number into parts of at most this many trial divisions (about 2 ms
/// each): small enough that two workers finish within a part of each other, large enough that a
/// part's messages cost nothing against its work.
pub const PART_SIZE: u64 = 1_000_000;

/// How divisors are found.
#[derive(Deserialize, Debug, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Try every candidate in the range: the seed's deliberately slow CPU workload.
    #[default]
    Naive,
    /// Try candidates up to the square root and pair each divisor with its cofactor.
    Sqrt,
}

/// The configuration: `--set method=sqrt`.
#[derive(Deserialize, Debug, Default, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How divisors are found (default `naive`).
    #[serde(default)]
    pub method: Method,
}

/// One factorizer; the host makes one per worker.
#[derive(Debug, Clone, Copy)]
pub struct Factorizer {
    method: Method,
}

impl Factorizer {
    /// A factorizer configured by `config`.
    pub fn new(config: Config) -> Self {
        Factorizer {
            method: config.method,
        }
    }

    /// The divisors of the task's number in its range, ascending.
    pub fn run(&self, task: Task) -> Result<Vec<u64>, String> {
        let (n, from, to) = task.bounds();
        match self.method {
            Method::Sqrt => Ok(sqrt_divisors(n, from, to)),
            Method::Naive if to.saturating_sub(from) < NAIVE_LIMIT => {
                Ok(naive_divisors(n, from, to))
            }
            Method::Naive => Err(match task {
                Task::Whole(_) => format!(
                    "{n} is too large for the naive method (at most {NAIVE_LIMIT}): \
                     use --set method=sqrt"
                ),
                Task::Part { .. } => format!(
                    "the part from {from} to {to} of {n} is too large for the naive method \
                     (at most {NAIVE_LIMIT} candidates): use --set method=sqrt"
                ),
            }),
        }
    }

    /// Cuts a whole number's naive trial range into near-equal parts of at most [`PART_SIZE`]
    /// candidates. Anything else (a small number, a part, the sqrt method, a number the naive
    /// method refuses) comes back unchanged, as the only part.
    pub fn split(&self, task: Task) -> Vec<Task> {
        let n = match (self.method, task) {
            (Method::Naive, Task::Whole(n)) if n > PART_SIZE && n <= NAIVE_LIMIT => n,
            _ => return vec![task],
        };
        let count = n.div_ceil(PART_SIZE);
        let size = n.div_ceil(count);
        (0..count)
            .map(|index| Task::Part {
                n,
                from: index * size + 1,
                to: ((index + 1) * size).min(n),
            })
            .collect()
    }

    /// Joins the parts' divisor lists into one ascending list without repeats.
    pub fn merge(&self, parts: Vec<Vec<u64>>) -> Vec<u64> {
        let mut divisors = parts.concat();
        divisors.sort_unstable();
        divisors.dedup();
        divisors
    }
}

/// Every `i` in `from..=to` that divides `n`, by trying each one.
pub fn naive_divisors(n: u64, from: u64, to: u64) -> Vec<u64> {
    let mut divisors = Vec::new();
    if from > to {
        return divisors;
    }
    // The hot loop of the benchmark: a half-open range (`from..=to` compiles to a slower loop),
    // then the last candidate on its own, so that `to` may be u64::MAX.
    for i in from..to {
        if n % i == 0 {
            divisors.push(i);
        }
    }
    if n % to == 0 {
        divisors.push(to);
    }
    divisors
}

/// The divisors of `n` in `from..=to`, ascending, found in O(sqrt n).
pub fn sqrt_divisors(n: u64, from: u64, to: u64) -> Vec<u64> {
    let wanted = |d: u64| from <= d && d <= to;
    let (mut small, mut large) = (Vec::new(), Vec::new());
    for i in 1..=n.isqrt() {
        if n % i == 0 {
            if wanted(i) {
                small.push(i);
            }
            let pair = n / i;
            if pair != i && wanted(pair) {
                large.push(pair);
            }
        }
    }
    small.extend(large.into_iter().rev());
    small
}

#[cfg(test)]
mod tests;
