//! What a comparison is made of, apart from its judgements: each side's reports ([`Group`] of
//! [`Side`]s), the run-level quantities ([`Metric`]) and counts ([`CountRow`]), and the tasks found
//! changed ([`StatusChange`], [`OutputChange`], [`InputChange`], [`TaskTime`]).

use serde::Serialize;
use serde_json::Value;

use super::judge::{Better, Judged};
use crate::report::read::{SavedReport, SavedStatus};

/// One report's identity, as the comparison shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// The report file (`-` for stdin).
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
    pub(super) fn of(report: &SavedReport) -> Self {
        Side {
            report: report.file.display().to_string(),
            plugin: report.plugin.description.name.clone(),
            plugin_version: report.plugin.description.version.clone(),
            plugin_sha256: report
                .plugin
                .known_content()
                .map(|content| content.sha256.clone()),
            quack_version: report.quack_version.clone(),
            quack_commit: report.quack_commit.clone(),
            started_at: report.started_at.clone(),
            host_name: report.machine.host_name.clone(),
            mode: report.runner.mode.clone(),
            workers: report.runner.workers,
        }
    }
}

/// One side of the comparison: its reports (samples of the same runs).
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// The plugin's name (of the first report).
    pub plugin: String,
    /// How many reports.
    pub samples: usize,
    /// Each report.
    pub reports: Vec<Side>,
}

impl Group {
    pub(super) fn of(reports: &[SavedReport]) -> Self {
        let reports: Vec<Side> = reports.iter().map(Side::of).collect();
        Group {
            plugin: reports
                .first()
                .map(|side| side.plugin.clone())
                .unwrap_or_default(),
            samples: reports.len(),
            reports,
        }
    }
}

/// A run-level quantity: `wall_seconds`, `tasks_per_second` (both judged) or `cpu_seconds`
/// (shown).
#[derive(Debug, Clone, Serialize)]
pub struct Metric {
    /// The summary's field.
    pub name: &'static str,
    /// Which way it gets better.
    pub better: Better,
    /// Both sides and the judgement.
    #[serde(flatten)]
    pub judged: Judged,
}

/// A count of the summaries (`tasks` or a status) in each report of each side.
#[derive(Debug, Clone, Serialize)]
pub struct CountRow {
    /// The summary's field.
    pub name: &'static str,
    /// In each old report.
    pub old: Vec<u64>,
    /// In each new report.
    pub new: Vec<u64>,
}

/// A task whose status changed.
#[derive(Debug, Clone, Serialize)]
pub struct StatusChange {
    /// The task's id.
    pub id: u64,
    /// Its statuses in the old reports (each once).
    pub old: Vec<SavedStatus>,
    /// Its statuses in the new reports (each once).
    pub new: Vec<SavedStatus>,
    /// Its first error in the new reports, if it failed there.
    pub error: Option<String>,
    /// Whether this is a regression (a status other than `ok` that the old reports did not have).
    pub regression: bool,
}

/// A task that ended `ok` on both sides, for the same input, with different outputs.
#[derive(Debug, Clone, Serialize)]
pub struct OutputChange {
    /// The task's id.
    pub id: u64,
    /// Its output in the old reports.
    pub old: Value,
    /// Its first output in the new reports that no old report has.
    pub new: Value,
}

/// A task whose input differs between the sides (or between the reports of one side): a
/// different task under the same id, judged on its status only.
#[derive(Debug, Clone, Serialize)]
pub struct InputChange {
    /// The task's id.
    pub id: u64,
    /// Its input in the first old report.
    pub old: Value,
    /// Its first input that differs from that.
    pub new: Value,
}

/// A task's duration on both sides, judged.
#[derive(Debug, Clone, Serialize)]
pub struct TaskTime {
    /// The task's id.
    pub id: u64,
    /// Its durations and the judgement.
    #[serde(flatten)]
    pub judged: Judged,
}
