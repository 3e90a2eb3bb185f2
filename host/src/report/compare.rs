//! [`Comparison`]: saved reports of two sides (old and new, one report or several samples each)
//! judged for `host compare`. Tasks are matched by id: a status that got worse, an output that
//! changed for the same input, or a task gone missing is a regression; a task whose input differs
//! is listed as such and judged on nothing but its status. Times (the run's wall time and tasks
//! per second, and each task's duration) are judged by [`Rules`]: a change counts only when the
//! Mann-Whitney rank test finds it significant (per-task p-values adjusted for their number) and
//! it is larger than the threshold; with too few samples for the test, only the run's times count,
//! and only beyond a large factor. One quantity is judged in [`judge`]; what a comparison holds is
//! in [`found`]; the text forms are in [`super::compare_text`].

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

mod found;
mod judge;

pub use found::{CountRow, Group, InputChange, Metric, OutputChange, Side, StatusChange, TaskTime};
pub(crate) use judge::format_percent;
pub use judge::{Better, Change, Judged, Rules};

use judge::Judge;

use super::{
    human::compact,
    read::{SavedReport, SavedStatus, SavedTask},
    stats::{Sample, benjamini_hochberg, mann_whitney, smallest_p},
};

/// The overall judgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Nothing changed significantly beyond the threshold.
    NoChange,
    /// Something got better and nothing worse.
    Improved,
    /// Something got worse: a status, an output, a time, or a task went missing.
    Regressed,
}

/// The reports of two sides compared.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The old side (the baseline).
    pub old: Group,
    /// The new side.
    pub new: Group,
    /// The threshold for times, in percent.
    pub threshold_percent: f64,
    /// The rank test's significance level.
    pub alpha: f64,
    /// Task times under this on both sides are not judged.
    pub noise_floor_seconds: f64,
    /// Run times under this on both sides are not judged.
    pub run_noise_floor_seconds: f64,
    /// With too few samples for the test, run times count only beyond this factor.
    pub few_samples_factor: f64,
    /// Whether the rank test can find a difference with this many samples a side at `alpha`.
    pub enough_samples: bool,
    /// The run's wall time, tasks per second and CPU time.
    pub metrics: Vec<Metric>,
    /// Why the run-level times were not judged, when they were not.
    pub metrics_not_judged: Option<String>,
    /// The summaries' counts, report by report.
    pub counts: Vec<CountRow>,
    /// Tasks whose status changed.
    pub status_changed: Vec<StatusChange>,
    /// Tasks whose output changed for the same input.
    pub output_changed: Vec<OutputChange>,
    /// Tasks whose input differs.
    pub different_input: Vec<InputChange>,
    /// Tasks slower, significantly and beyond the threshold.
    pub slower: Vec<TaskTime>,
    /// Tasks faster, significantly and beyond the threshold.
    pub faster: Vec<TaskTime>,
    /// How many tasks were judged on time and found the same.
    pub same_time: u64,
    /// Ids of tasks in no new report (a regression: they went missing).
    pub only_in_old: Vec<u64>,
    /// Ids of tasks in no old report.
    pub only_in_new: Vec<u64>,
    /// How many tasks, `ok` throughout with the same input, took under the noise floor on both
    /// sides.
    pub under_noise_floor: u64,
    /// How many tasks, `ok` throughout with the same input, were not judged on time because
    /// there are too few samples for the rank test.
    pub too_few_samples: u64,
    /// What makes the comparison less telling (different machines, runners, plugins).
    pub warnings: Vec<String>,
    /// The judgement.
    pub verdict: Verdict,
    /// The verdict as a sentence: "no change", "regressed: ...", "improved: ...".
    pub message: String,
}

/// `count` of `noun`, with an `s` unless it is one.
pub(super) fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// A JSON value on one line, cut to `limit` characters.
pub(super) fn short(value: &Value, limit: usize) -> String {
    let text = compact(value);
    if text.chars().count() <= limit {
        text
    } else {
        let cut: String = text.chars().take(limit.saturating_sub(3)).collect();
        format!("{cut}...")
    }
}

/// The distinct statuses of `records`, in report order.
fn statuses(records: &[&SavedTask]) -> Vec<SavedStatus> {
    SavedStatus::ALL
        .into_iter()
        .filter(|status| records.iter().any(|record| record.status == *status))
        .collect()
}

/// A run-level quantity to compare: its name, which way is better, its words for worse and
/// better, how to read it from a report, and whether it is judged.
struct MetricSpec {
    name: &'static str,
    better: Better,
    words: (&'static str, &'static str),
    of: fn(&SavedReport) -> f64,
    judged: bool,
}

/// Each task id of `side`'s reports, with its record in every report that has it.
fn by_id(side: &[SavedReport]) -> BTreeMap<u64, Vec<&SavedTask>> {
    let mut tasks: BTreeMap<u64, Vec<&SavedTask>> = BTreeMap::new();
    for report in side {
        for task in &report.tasks {
            tasks.entry(task.id).or_default().push(task);
        }
    }
    tasks
}

/// How many tasks of one kind a warning lists before it counts the rest.
const LISTED: usize = 5;

impl Comparison {
    /// Compares the `old` reports with the `new` ones (both sides non-empty; refusing reports of
    /// different plugins is the caller's part).
    pub fn new(old: &[SavedReport], new: &[SavedReport], rules: Rules) -> Self {
        let enough_samples = smallest_p(old.len(), new.len()) < rules.alpha;
        let mut comparison = Comparison {
            old: Group::of(old),
            new: Group::of(new),
            threshold_percent: rules.threshold * 100.0,
            alpha: rules.alpha,
            noise_floor_seconds: rules.noise_floor_seconds,
            run_noise_floor_seconds: rules.run_noise_floor_seconds,
            few_samples_factor: rules.few_samples_factor,
            enough_samples,
            metrics: Vec::new(),
            metrics_not_judged: None,
            counts: Self::counts(old, new),
            status_changed: Vec::new(),
            output_changed: Vec::new(),
            different_input: Vec::new(),
            slower: Vec::new(),
            faster: Vec::new(),
            same_time: 0,
            only_in_old: Vec::new(),
            only_in_new: Vec::new(),
            under_noise_floor: 0,
            too_few_samples: 0,
            warnings: Self::warnings(old, new),
            verdict: Verdict::NoChange,
            message: String::new(),
        };
        comparison.tasks(old, new, &rules);
        let inputs = comparison.input_warnings();
        comparison.warnings.extend(inputs);
        comparison.metrics(old, new, &rules);
        comparison.judge();
        comparison
    }

    /// What makes the sides' times less telling.
    fn warnings(old: &[SavedReport], new: &[SavedReport]) -> Vec<String> {
        let mut warnings = Vec::new();
        let (Some(first_old), Some(first_new)) = (old.first(), new.first()) else {
            return warnings;
        };
        let plugins: BTreeSet<&str> = old
            .iter()
            .chain(new)
            .map(|report| report.plugin.description.name.as_str())
            .collect();
        if plugins.len() > 1 {
            let names: Vec<&str> = plugins.into_iter().collect();
            warnings.push(format!(
                "the reports are of different plugins ({}); compared as --force asks",
                names.join(" and ")
            ));
        }
        let machines: BTreeSet<&str> = old
            .iter()
            .chain(new)
            .filter_map(|report| report.machine.host_name.as_deref())
            .collect();
        if machines.len() > 1 {
            let names: Vec<&str> = machines.into_iter().collect();
            warnings.push(format!(
                "the runs were on different machines ({}); their times may not compare",
                names.join(" and ")
            ));
        }
        let runner = |report: &SavedReport| {
            format!(
                "{} with {}",
                report.runner.mode,
                plural(report.runner.workers as usize, "worker")
            )
        };
        for (which, side) in [("old", old), ("new", new)] {
            if side.iter().any(|report| runner(report) != runner(&side[0])) {
                warnings.push(format!(
                    "the {which} reports used different runners; their times may not compare"
                ));
            }
        }
        if runner(first_old) != runner(first_new) {
            warnings.push(format!(
                "the runs used different runners ({} and {}); their times may not compare",
                runner(first_old),
                runner(first_new)
            ));
        }
        warnings
    }

    /// The counts of each report's summary.
    fn counts(old: &[SavedReport], new: &[SavedReport]) -> Vec<CountRow> {
        let row = |name: &'static str, of: &dyn Fn(&SavedReport) -> u64| CountRow {
            name,
            old: old.iter().map(of).collect(),
            new: new.iter().map(of).collect(),
        };
        let mut counts = vec![row("tasks", &|report| report.summary.tasks)];
        for status in SavedStatus::ALL {
            counts.push(row(status.as_str(), &|report| report.summary.of(status)));
        }
        counts
    }

    /// Matches the tasks by id and judges each.
    fn tasks(&mut self, old: &[SavedReport], new: &[SavedReport], rules: &Rules) {
        let (old_tasks, new_tasks) = (by_id(old), by_id(new));
        for (which, side, tasks) in [("old", old, &old_tasks), ("new", new, &new_tasks)] {
            let partial = tasks
                .values()
                .filter(|records| records.len() != side.len())
                .count();
            if partial > 0 {
                self.warnings.push(format!(
                    "{} in some of the {which} reports but not all",
                    if partial == 1 {
                        "1 task is".to_owned()
                    } else {
                        format!("{partial} tasks are")
                    }
                ));
            }
        }
        self.only_in_old = old_tasks
            .keys()
            .filter(|id| !new_tasks.contains_key(id))
            .copied()
            .collect();
        self.only_in_new = new_tasks
            .keys()
            .filter(|id| !old_tasks.contains_key(id))
            .copied()
            .collect();
        let tested_samples = smallest_p(old.len(), new.len()) < rules.alpha;
        let mut timed: Vec<(u64, Sample, Sample, f64)> = Vec::new();
        for (id, before) in &old_tasks {
            let Some(after) = new_tasks.get(id) else {
                continue;
            };
            self.status(*id, before, after);
            let input = &before[0].input;
            if let Some(other) = before
                .iter()
                .chain(after.iter())
                .map(|record| &record.input)
                .find(|other| *other != input)
            {
                self.different_input.push(InputChange {
                    id: *id,
                    old: input.clone(),
                    new: other.clone(),
                });
                continue;
            }
            self.output(*id, before, after);
            let all_ok = before
                .iter()
                .chain(after.iter())
                .all(|record| record.status == SavedStatus::Ok);
            if !all_ok {
                continue;
            }
            let seconds = |records: &[&SavedTask]| {
                Sample::of(records.iter().map(|r| r.duration_seconds).collect())
            };
            let (Some(old_time), Some(new_time)) = (seconds(before), seconds(after)) else {
                continue;
            };
            if old_time.median < rules.noise_floor_seconds
                && new_time.median < rules.noise_floor_seconds
            {
                self.under_noise_floor += 1;
            } else if !tested_samples {
                self.too_few_samples += 1;
            } else {
                let p = mann_whitney(&old_time.values, &new_time.values);
                timed.push((*id, old_time, new_time, p));
            }
        }
        let p_values: Vec<f64> = timed.iter().map(|(.., p)| *p).collect();
        let adjusted = benjamini_hochberg(&p_values);
        let judge = Judge {
            rules,
            better: Better::Lower,
            words: ("slower", "faster"),
        };
        for ((id, old_time, new_time, _), p) in timed.into_iter().zip(adjusted) {
            let judged = judge.judge(old_time, new_time, Some(p), false, None);
            let time = TaskTime { id, judged };
            match time.judged.change {
                Change::Worse => self.slower.push(time),
                Change::Better => self.faster.push(time),
                Change::Same | Change::NotJudged => self.same_time += 1,
            }
        }
    }

    /// Judges one task's statuses.
    fn status(&mut self, id: u64, before: &[&SavedTask], after: &[&SavedTask]) {
        let (old, new) = (statuses(before), statuses(after));
        if old == new {
            return;
        }
        let regression = new
            .iter()
            .any(|status| *status != SavedStatus::Ok && !old.contains(status));
        let error = after.iter().find_map(|record| record.error.clone());
        self.status_changed.push(StatusChange {
            id,
            old,
            new,
            error,
            regression,
        });
    }

    /// Judges one task's outputs, its input being the same throughout.
    fn output(&mut self, id: u64, before: &[&SavedTask], after: &[&SavedTask]) {
        let ok_outputs = |records: &[&SavedTask]| -> Vec<Value> {
            records
                .iter()
                .filter(|record| record.status == SavedStatus::Ok)
                .filter_map(|record| record.output.clone())
                .collect()
        };
        let (old, new) = (ok_outputs(before), ok_outputs(after));
        let Some(first_old) = old.first() else {
            return;
        };
        if let Some(changed) = new.iter().find(|output| !old.contains(output)) {
            self.output_changed.push(OutputChange {
                id,
                old: first_old.clone(),
                new: changed.clone(),
            });
        }
    }

    /// Judges the run-level times.
    fn metrics(&mut self, old: &[SavedReport], new: &[SavedReport], rules: &Rules) {
        let same_work = self.only_in_old.is_empty()
            && self.only_in_new.is_empty()
            && self.different_input.is_empty();
        let sample = |side: &[SavedReport], of: fn(&SavedReport) -> f64| {
            Sample::of(side.iter().map(of).collect())
        };
        let wall = |report: &SavedReport| report.summary.wall_seconds;
        let (Some(old_wall), Some(new_wall)) = (sample(old, wall), sample(new, wall)) else {
            return;
        };
        let run_floor = rules.run_noise_floor_seconds;
        let under_floor = old_wall.median < run_floor && new_wall.median < run_floor;
        self.metrics_not_judged = if !same_work {
            Some("the sides ran different tasks".to_owned())
        } else if under_floor {
            Some(format!(
                "the runs took under {} (--run-noise-floor)",
                super::human::duration(run_floor)
            ))
        } else {
            None
        };
        let enough = self.enough_samples;
        let entries = [
            MetricSpec {
                name: "wall_seconds",
                better: Better::Lower,
                words: ("slower", "faster"),
                of: wall,
                judged: true,
            },
            MetricSpec {
                name: "tasks_per_second",
                better: Better::Higher,
                words: ("lower", "higher"),
                of: |report| report.summary.tasks_per_second,
                judged: true,
            },
            MetricSpec {
                name: "cpu_seconds",
                better: Better::Lower,
                words: ("more", "less"),
                of: |report| report.summary.cpu_seconds,
                judged: false,
            },
        ];
        for MetricSpec {
            name,
            better,
            words,
            of,
            judged,
        } in entries
        {
            let (Some(old_values), Some(new_values)) = (sample(old, of), sample(new, of)) else {
                continue;
            };
            let not_judged = if judged {
                self.metrics_not_judged
                    .as_ref()
                    .map(|reason| format!("not judged: {reason}"))
            } else {
                Some("CPU time is not judged".to_owned())
            };
            let p_value = (enough && not_judged.is_none())
                .then(|| mann_whitney(&old_values.values, &new_values.values));
            let judge = Judge {
                rules,
                better,
                words,
            };
            self.metrics.push(Metric {
                name,
                better,
                judged: judge.judge(old_values, new_values, p_value, true, not_judged),
            });
        }
    }

    /// The metric named `name`, if it was measured.
    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics.iter().find(|metric| metric.name == name)
    }

    /// Sets the verdict and its sentence.
    fn judge(&mut self) {
        let worse = self.status_changed.iter().filter(|c| c.regression).count();
        let better = self
            .status_changed
            .iter()
            .filter(|c| !c.regression && c.new == [SavedStatus::Ok])
            .count();
        let threshold = format_percent(self.threshold_percent);
        let mut regressed = Vec::new();
        let mut improved = Vec::new();
        for metric in &self.metrics {
            let label = match metric.name {
                "wall_seconds" => "wall time",
                "tasks_per_second" => "tasks per second",
                _ => continue,
            };
            let said = format!("{label} {}", metric.judged.words);
            match metric.judged.change {
                Change::Worse => regressed.push(said),
                Change::Better => improved.push(said),
                Change::Same | Change::NotJudged => {}
            }
        }
        if worse > 0 {
            regressed.push(format!("{} changed status", plural(worse, "task")));
        }
        if !self.output_changed.is_empty() {
            let count = self.output_changed.len();
            regressed.push(if count == 1 {
                "1 task's output changed".to_owned()
            } else {
                format!("{count} tasks' outputs changed")
            });
        }
        if !self.slower.is_empty() {
            regressed.push(format!(
                "{} slower by more than {threshold}%",
                plural(self.slower.len(), "task")
            ));
        }
        if !self.only_in_old.is_empty() {
            regressed.push(format!(
                "{} missing from the new report",
                plural(self.only_in_old.len(), "task")
            ));
        }
        if better > 0 {
            improved.push(format!("{} now ok", plural(better, "task")));
        }
        if !self.faster.is_empty() {
            improved.push(format!(
                "{} faster by more than {threshold}%",
                plural(self.faster.len(), "task")
            ));
        }
        (self.verdict, self.message) = match (regressed.is_empty(), improved.is_empty()) {
            (true, true) => (Verdict::NoChange, "no change".to_owned()),
            (true, false) => (
                Verdict::Improved,
                format!("improved: {}", improved.join(", ")),
            ),
            (false, true) => (
                Verdict::Regressed,
                format!("regressed: {}", regressed.join(", ")),
            ),
            (false, false) => (
                Verdict::Regressed,
                format!(
                    "regressed: {}; improved: {}",
                    regressed.join(", "),
                    improved.join(", ")
                ),
            ),
        };
    }

    /// Whether anything regressed (the exit code's question).
    pub fn regressed(&self) -> bool {
        self.verdict == Verdict::Regressed
    }

    /// The tasks whose input differs, for a warning: the first few, then a count.
    fn input_warnings(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .different_input
            .iter()
            .take(LISTED)
            .map(|change| {
                format!(
                    "task {}'s input differs ({} in the old report, {} in the new); it is judged on its status only",
                    change.id,
                    short(&change.old, 40),
                    short(&change.new, 40)
                )
            })
            .collect();
        let unlisted = self.different_input.len().saturating_sub(LISTED);
        if unlisted > 0 {
            lines.push(format!(
                "and {} more with different inputs",
                plural(unlisted, "task")
            ));
        }
        lines
    }
}

#[cfg(test)]
mod tests;
