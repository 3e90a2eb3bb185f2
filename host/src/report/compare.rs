//! [`Comparison`]: two saved reports side by side, for `host compare`. The summaries with their
//! ratios; tasks matched by id whose status or output changed; tasks whose duration changed by
//! more than a threshold (tasks under a noise floor in both runs are left out of that, and
//! counted); a verdict, and whether anything regressed. It prints for people
//! ([`Comparison::render`], where what the reports say is escaped through
//! [`safe`](super::safe)) or serializes for machines (exactly as the reports say it).

use std::{collections::BTreeMap, fmt::Write as _};

use serde::Serialize;
use serde_json::Value;

use super::{
    human::{compact, duration},
    read::{SavedReport, SavedStatus, SavedTask},
    safe::Safe,
};

/// How durations are judged.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// A change of a task's duration beyond this fraction (0.1 for 10%) counts.
    pub threshold: f64,
    /// Tasks that took less than this many seconds in both runs are not compared for time.
    pub noise_floor_seconds: f64,
}

/// One report's identity, as the comparison shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// The report file.
    pub report: String,
    /// The plugin's name.
    pub plugin: String,
    /// The plugin's version.
    pub plugin_version: String,
    /// The plugin file's SHA-256, when the report has it.
    pub plugin_sha256: Option<String>,
    /// The host's version.
    pub quack_version: String,
    /// The host's commit, when the report has it.
    pub quack_commit: Option<String>,
    /// When the run started, when the report has it.
    pub started_at: Option<String>,
    /// The machine's host name, when the report has it.
    pub host_name: Option<String>,
    /// The runner's mode.
    pub mode: String,
    /// The runner's workers.
    pub workers: u64,
}

impl Side {
    fn of(report: &SavedReport) -> Self {
        Side {
            report: report.file.display().to_string(),
            plugin: report.plugin.name.clone(),
            plugin_version: report.plugin.version.clone(),
            plugin_sha256: report.plugin.sha256.clone(),
            quack_version: report.quack_version.clone(),
            quack_commit: report.quack_commit.clone(),
            started_at: report.started_at.clone(),
            host_name: report.machine.host_name.clone(),
            mode: report.runner.mode.clone(),
            workers: report.runner.workers,
        }
    }
}

/// One line of the summaries side by side.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    /// The summary's field: `wall_seconds`, `cpu_seconds`, `tasks_per_second`, `tasks` or a status.
    pub name: &'static str,
    /// In the old report (a whole number for counts).
    pub old: Value,
    /// In the new report (a whole number for counts).
    pub new: Value,
    /// new / old (`null` when old is zero).
    pub ratio: Option<f64>,
}

impl SummaryRow {
    fn seconds(name: &'static str, old: f64, new: f64) -> Self {
        SummaryRow {
            name,
            old: Value::from(old),
            new: Value::from(new),
            ratio: ratio(old, new),
        }
    }

    fn count(name: &'static str, old: u64, new: u64) -> Self {
        SummaryRow {
            name,
            old: Value::from(old),
            new: Value::from(new),
            ratio: ratio(old as f64, new as f64),
        }
    }
}

/// A task whose status changed.
#[derive(Debug, Clone, Serialize)]
pub struct StatusChange {
    /// The task's id.
    pub id: u64,
    /// Its status in the old report.
    pub old: SavedStatus,
    /// Its status in the new report.
    pub new: SavedStatus,
    /// Its error in the new report, if it failed there.
    pub error: Option<String>,
    /// Whether this is a regression (the new status is not `ok`).
    pub regression: bool,
}

/// A task that ended `ok` in both reports with different outputs.
#[derive(Debug, Clone, Serialize)]
pub struct OutputChange {
    /// The task's id.
    pub id: u64,
    /// Its output in the old report.
    pub old: Value,
    /// Its output in the new report.
    pub new: Value,
}

/// A task whose duration changed beyond the threshold.
#[derive(Debug, Clone, Serialize)]
pub struct TimeChange {
    /// The task's id.
    pub id: u64,
    /// Its duration in the old report, in seconds.
    pub old_seconds: f64,
    /// Its duration in the new report, in seconds.
    pub new_seconds: f64,
    /// new / old (`null` when old is zero).
    pub ratio: Option<f64>,
}

/// The overall judgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Nothing changed beyond the threshold.
    NoChange,
    /// Something got better and nothing worse.
    Improved,
    /// Something got worse: a status, an output, a duration, or a task went missing.
    Regressed,
}

/// Two reports compared.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The old report.
    pub old: Side,
    /// The new report.
    pub new: Side,
    /// The threshold for durations, in percent.
    pub threshold_percent: f64,
    /// Tasks under this in both runs are not compared for time.
    pub noise_floor_seconds: f64,
    /// The summaries side by side.
    pub summary: Vec<SummaryRow>,
    /// Tasks whose status changed.
    pub status_changed: Vec<StatusChange>,
    /// Tasks whose output changed.
    pub output_changed: Vec<OutputChange>,
    /// Tasks slower beyond the threshold.
    pub slower: Vec<TimeChange>,
    /// Tasks faster beyond the threshold.
    pub faster: Vec<TimeChange>,
    /// Ids of tasks only in the old report (a regression: they went missing).
    pub only_in_old: Vec<u64>,
    /// Ids of tasks only in the new report.
    pub only_in_new: Vec<u64>,
    /// How many tasks, in both reports with the same status, took under the noise floor in both.
    pub under_noise_floor: u64,
    /// What makes the comparison less telling (different inputs, machines, runners, plugins).
    pub warnings: Vec<String>,
    /// The judgement.
    pub verdict: Verdict,
    /// The verdict as a sentence: "no change", "regressed: ...", "improved: ...".
    pub message: String,
}

/// `count` of `noun`, with an `s` unless it is one.
fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

fn ratio(old: f64, new: f64) -> Option<f64> {
    (old > 0.0).then(|| new / old)
}

/// A JSON value on one line, cut to `limit` characters.
fn short(value: &Value, limit: usize) -> String {
    let text = compact(value);
    if text.chars().count() <= limit {
        text
    } else {
        let cut: String = text.chars().take(limit.saturating_sub(3)).collect();
        format!("{cut}...")
    }
}

/// How many per-task lines of one kind a warning lists before it counts the rest.
const LISTED: usize = 5;

impl Comparison {
    /// Compares `old` with `new` (refusing reports of different plugins is the caller's part).
    pub fn new(old: &SavedReport, new: &SavedReport, thresholds: Thresholds) -> Self {
        let mut warnings = Vec::new();
        if old.plugin.name != new.plugin.name {
            warnings.push(format!(
                "the reports are of different plugins ({} and {}); compared as --force asks",
                old.plugin.name, new.plugin.name
            ));
        }
        if let (Some(a), Some(b)) = (&old.machine.host_name, &new.machine.host_name) {
            if a != b {
                warnings.push(format!(
                    "the runs were on different machines ({a} and {b}); their times may not compare"
                ));
            }
        }
        if old.runner.mode != new.runner.mode || old.runner.workers != new.runner.workers {
            warnings.push(format!(
                "the runs used different runners ({} with {} and {} with {}); their times may not compare",
                old.runner.mode,
                plural(old.runner.workers as usize, "worker"),
                new.runner.mode,
                plural(new.runner.workers as usize, "worker"),
            ));
        }

        let mut summary = vec![
            SummaryRow::seconds(
                "wall_seconds",
                old.summary.wall_seconds,
                new.summary.wall_seconds,
            ),
            SummaryRow::seconds(
                "cpu_seconds",
                old.summary.cpu_seconds,
                new.summary.cpu_seconds,
            ),
            SummaryRow::seconds(
                "tasks_per_second",
                old.summary.tasks_per_second,
                new.summary.tasks_per_second,
            ),
            SummaryRow::count("tasks", old.summary.tasks, new.summary.tasks),
        ];
        for status in SavedStatus::ALL {
            summary.push(SummaryRow::count(
                status.as_str(),
                old.summary.of(status),
                new.summary.of(status),
            ));
        }

        let old_tasks: BTreeMap<u64, &SavedTask> =
            old.tasks.iter().map(|task| (task.id, task)).collect();
        let new_tasks: BTreeMap<u64, &SavedTask> =
            new.tasks.iter().map(|task| (task.id, task)).collect();
        let only_in_old = old_tasks
            .keys()
            .filter(|id| !new_tasks.contains_key(id))
            .copied()
            .collect();
        let only_in_new = new_tasks
            .keys()
            .filter(|id| !old_tasks.contains_key(id))
            .copied()
            .collect();

        let mut comparison = Comparison {
            old: Side::of(old),
            new: Side::of(new),
            threshold_percent: thresholds.threshold * 100.0,
            noise_floor_seconds: thresholds.noise_floor_seconds,
            summary,
            status_changed: Vec::new(),
            output_changed: Vec::new(),
            slower: Vec::new(),
            faster: Vec::new(),
            only_in_old,
            only_in_new,
            under_noise_floor: 0,
            warnings,
            verdict: Verdict::NoChange,
            message: String::new(),
        };
        let mut inputs_differ = Vec::new();
        for (id, before) in &old_tasks {
            let Some(after) = new_tasks.get(id) else {
                continue;
            };
            if before.input != after.input {
                inputs_differ.push(format!(
                    "task {id}'s input differs ({} in the old report, {} in the new)",
                    short(&before.input, 40),
                    short(&after.input, 40)
                ));
            }
            comparison.task(before, after, thresholds);
        }
        let unlisted = inputs_differ.len().saturating_sub(LISTED);
        comparison
            .warnings
            .extend(inputs_differ.into_iter().take(LISTED));
        if unlisted > 0 {
            comparison.warnings.push(format!(
                "and {} more with different inputs",
                plural(unlisted, "task")
            ));
        }
        comparison.judge();
        comparison
    }

    /// Compares one task present in both reports.
    fn task(&mut self, before: &SavedTask, after: &SavedTask, thresholds: Thresholds) {
        let id = before.id;
        if before.status != after.status {
            self.status_changed.push(StatusChange {
                id,
                old: before.status,
                new: after.status,
                error: after.error.clone(),
                regression: after.status != SavedStatus::Ok,
            });
            return;
        }
        if let (SavedStatus::Ok, Some(old), Some(new)) =
            (before.status, &before.output, &after.output)
        {
            if old != new {
                self.output_changed.push(OutputChange {
                    id,
                    old: old.clone(),
                    new: new.clone(),
                });
            }
        }
        let (old, new) = (before.duration_seconds, after.duration_seconds);
        if old < thresholds.noise_floor_seconds && new < thresholds.noise_floor_seconds {
            self.under_noise_floor += 1;
            return;
        }
        let change = TimeChange {
            id,
            old_seconds: old,
            new_seconds: new,
            ratio: ratio(old, new),
        };
        if new > old * (1.0 + thresholds.threshold) {
            self.slower.push(change);
        } else if new < old * (1.0 - thresholds.threshold) {
            self.faster.push(change);
        }
    }

    /// Sets the verdict and its sentence.
    fn judge(&mut self) {
        let worse = self.status_changed.iter().filter(|c| c.regression).count();
        let better = self.status_changed.len() - worse;
        let threshold = self.threshold_percent;
        let mut regressed = Vec::new();
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
        let mut improved = Vec::new();
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

    /// The comparison for people: who is compared, the summaries side by side, the tasks that
    /// changed, the note on the noise floor, and the verdict last. Warnings are not in it (they go
    /// to stderr).
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (label, side) in [("old", &self.old), ("new", &self.new)] {
            let _ = writeln!(out, "{label}: {}", Safe(Self::describe(side)));
        }
        if let (Some(a), Some(b)) = (&self.old.plugin_sha256, &self.new.plugin_sha256) {
            if a != b {
                let _ = writeln!(
                    out,
                    "the plugin file changed: sha256 {} -> {}",
                    abbreviate(a),
                    abbreviate(b)
                );
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "  {:<10} {:>12} {:>12} {:>8}",
            "", "old", "new", "ratio"
        );
        for row in &self.summary {
            let old = row.old.as_f64().unwrap_or(0.0);
            let new = row.new.as_f64().unwrap_or(0.0);
            let (label, old, new) = match row.name {
                "wall_seconds" => ("wall", duration(old), duration(new)),
                "cpu_seconds" => ("cpu", duration(old), duration(new)),
                "tasks_per_second" => ("tasks/s", format!("{old:.1}"), format!("{new:.1}")),
                "tasks" | "ok" => (row.name, row.old.to_string(), row.new.to_string()),
                // Statuses nobody had would only make the table longer.
                _ if old == 0.0 && new == 0.0 => continue,
                name => (name, row.old.to_string(), row.new.to_string()),
            };
            let ratio = match row.ratio {
                Some(ratio) if row.name.ends_with("seconds") || row.name.ends_with("second") => {
                    format!("{ratio:.2}x")
                }
                _ => String::new(),
            };
            let line = format!("  {label:<10} {old:>12} {new:>12} {ratio:>8}");
            let _ = writeln!(out, "{}", line.trim_end());
        }
        if !self.status_changed.is_empty() {
            let _ = writeln!(out, "\nstatus changed ({}):", self.status_changed.len());
            for change in &self.status_changed {
                let error = change
                    .error
                    .as_deref()
                    .map(|error| format!(": {}", Safe(error)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  task {}  {} -> {}{error}",
                    change.id,
                    change.old.as_str(),
                    change.new.as_str()
                );
            }
        }
        if !self.output_changed.is_empty() {
            let _ = writeln!(out, "\noutput changed ({}):", self.output_changed.len());
            for change in &self.output_changed {
                let _ = writeln!(
                    out,
                    "  task {}  {} -> {}",
                    change.id,
                    Safe(short(&change.old, 60)),
                    Safe(short(&change.new, 60))
                );
            }
        }
        for (word, changes) in [("slower", &self.slower), ("faster", &self.faster)] {
            if changes.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "\n{word} by more than {}% ({}):",
                self.threshold_percent,
                changes.len()
            );
            for change in changes {
                let ratio = change
                    .ratio
                    .map(|ratio| format!("  ({ratio:.2}x)"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  task {}  {} -> {}{ratio}",
                    change.id,
                    duration(change.old_seconds),
                    duration(change.new_seconds)
                );
            }
        }
        for (which, ids) in [("old", &self.only_in_old), ("new", &self.only_in_new)] {
            if !ids.is_empty() {
                let listed: Vec<String> = ids.iter().take(20).map(u64::to_string).collect();
                let more = if ids.len() > 20 { ", ..." } else { "" };
                let _ = writeln!(
                    out,
                    "\nonly in the {which} report: {} ({}{more})",
                    plural(ids.len(), "task"),
                    listed.join(", ")
                );
            }
        }
        let _ = writeln!(out);
        if self.under_noise_floor > 0 {
            let _ = writeln!(
                out,
                "note: {} took under {} in both runs; their times are not compared (--noise-floor)",
                plural(self.under_noise_floor as usize, "task"),
                duration(self.noise_floor_seconds)
            );
        }
        let _ = writeln!(out, "verdict: {}", self.message);
        out
    }

    /// `report.json: factorize 0.1.0 (sha256 1a2b3c4d5e6f), started ... on box, host 0.1.0 (abc1234), thread with 2 workers`.
    fn describe(side: &Side) -> String {
        let mut text = format!("{}: {} {}", side.report, side.plugin, side.plugin_version);
        if let Some(sha) = &side.plugin_sha256 {
            let _ = write!(text, " (sha256 {})", abbreviate(sha));
        }
        if let Some(started) = &side.started_at {
            let _ = write!(text, ", started {started}");
        }
        if let Some(host_name) = &side.host_name {
            let _ = write!(text, " on {host_name}");
        }
        let _ = write!(text, ", host {}", side.quack_version);
        if let Some(commit) = &side.quack_commit {
            let _ = write!(text, " ({commit})");
        }
        let _ = write!(
            text,
            ", {} with {}",
            side.mode,
            plural(side.workers as usize, "worker")
        );
        text
    }
}

/// The first 12 characters of a hash.
fn abbreviate(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;

    /// A report of `plugin` whose tasks are `(id, status, output, seconds)`.
    fn saved(plugin: &str, tasks: &[(u64, &str, Value, f64)]) -> SavedReport {
        let tasks: Vec<Value> = tasks
            .iter()
            .map(|(id, status, output, seconds)| {
                let mut task = json!({
                    "id": id, "input": id, "status": status, "worker": 0,
                    "start_seconds": 0.0, "duration_seconds": seconds,
                });
                if *status == "ok" {
                    task["output"] = output.clone();
                } else {
                    task["error"] = json!("failed");
                }
                task
            })
            .collect();
        let report = json!({
            "format_version": 1, "quack_version": "0.1.0",
            "plugin": {"path": "p.so", "name": plugin, "version": "0.1.0"},
            "runner": {"mode": "inline", "workers": 1},
            "tasks": tasks,
            "summary": {"tasks": 0, "ok": 0, "error": 0, "crashed": 0, "timeout": 0,
                        "cancelled": 0, "wall_seconds": 1.0, "cpu_seconds": 1.0,
                        "tasks_per_second": 1.0},
        });
        SavedReport::parse(Path::new("r.json"), report.to_string().as_bytes())
            .expect("a valid report")
    }

    const TEN_PERCENT: Thresholds = Thresholds {
        threshold: 0.1,
        noise_floor_seconds: 0.001,
    };

    #[test]
    fn tiny_tasks_are_not_judged_on_time_but_counted() {
        let old = saved(
            "p",
            &[(0, "ok", json!(1), 0.0001), (1, "ok", json!(1), 0.5)],
        );
        let new = saved(
            "p",
            &[(0, "ok", json!(1), 0.0009), (1, "ok", json!(1), 0.52)],
        );
        let comparison = Comparison::new(&old, &new, TEN_PERCENT);
        assert_eq!(comparison.under_noise_floor, 1);
        assert_eq!(comparison.verdict, Verdict::NoChange);
        assert_eq!(comparison.message, "no change");
        assert!(
            comparison
                .render()
                .contains("note: 1 task took under 1.0 ms")
        );
    }

    #[test]
    fn a_task_that_grows_past_the_floor_is_judged() {
        let old = saved("p", &[(0, "ok", json!(1), 0.0005)]);
        let new = saved("p", &[(0, "ok", json!(1), 0.05)]);
        let comparison = Comparison::new(&old, &new, TEN_PERCENT);
        assert_eq!(comparison.slower.len(), 1);
        assert_eq!(
            comparison.message,
            "regressed: 1 task slower by more than 10%"
        );
    }

    #[test]
    fn faster_tasks_improve_and_missing_tasks_regress() {
        let old = saved(
            "p",
            &[
                (0, "ok", json!(1), 0.2),
                (1, "ok", json!(1), 0.2),
                (2, "ok", json!(1), 0.2),
            ],
        );
        let new = saved("p", &[(0, "ok", json!(1), 0.1), (1, "ok", json!(1), 0.1)]);
        let comparison = Comparison::new(&old, &new, TEN_PERCENT);
        assert_eq!(comparison.only_in_old, [2]);
        assert_eq!(
            comparison.message,
            "regressed: 1 task missing from the new report; improved: 2 tasks faster by more than 10%"
        );
        assert!(comparison.regressed());

        let back = Comparison::new(&new, &old, TEN_PERCENT);
        assert_eq!(back.only_in_new, [2]);
        assert_eq!(back.message, "regressed: 2 tasks slower by more than 10%");
    }

    #[test]
    fn any_change_to_a_failing_status_is_a_regression_and_to_ok_an_improvement() {
        let old = saved(
            "p",
            &[(0, "error", Value::Null, 0.1), (1, "ok", json!([1]), 0.1)],
        );
        let new = saved(
            "p",
            &[(0, "crashed", Value::Null, 0.1), (1, "ok", json!([2]), 0.1)],
        );
        let comparison = Comparison::new(&old, &new, TEN_PERCENT);
        assert_eq!(
            comparison.message,
            "regressed: 1 task changed status, 1 task's output changed"
        );
        let fixed = saved("p", &[(0, "ok", json!(0), 0.1), (1, "ok", json!([1]), 0.1)]);
        assert_eq!(
            Comparison::new(&old, &fixed, TEN_PERCENT).message,
            "improved: 1 task now ok"
        );
    }

    #[test]
    fn warnings_name_what_makes_times_incomparable() {
        let old = saved("p", &[(0, "ok", json!(1), 0.1)]);
        let mut new = saved("q", &[(0, "ok", json!(1), 0.1)]);
        new.runner.mode = "thread".to_owned();
        new.tasks[0].input = json!("other");
        let comparison = Comparison::new(&old, &new, TEN_PERCENT);
        let warnings = comparison.warnings.join("\n");
        assert!(
            warnings.contains("different plugins (p and q)"),
            "{warnings}"
        );
        assert!(warnings.contains("different runners"), "{warnings}");
        assert!(warnings.contains("task 0's input differs"), "{warnings}");
    }
}
