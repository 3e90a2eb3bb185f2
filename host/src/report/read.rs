//! Reading a JSON report back ([`SavedReport::read`]) for `host compare` and `host report`: the
//! current format and every older report of format 1 (before the metadata fields, the summary's
//! `not_run`, and the nodes, parts and workers' times a timeline needs). A file that is not JSON,
//! JSON that is not a Quack report, a report of a newer format, or a file larger than
//! [`MAX_REPORT_BYTES`] is refused with one sentence each ([`ReadReportError`]).

use crate::{
    plugin::PluginInfo,
    runner::{Status, Summary},
};
use std::{
    collections::HashSet,
    io::{self, Read},
    path::{Path, PathBuf},
};

use serde::{Deserialize, de::IgnoredAny};
use serde_json::Value;

use super::FORMAT_VERSION;

/// Why a report cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadReportError {
    /// The file cannot be read.
    #[error(
        "cannot read the report {path} ({source}); give the path of a report written by `host run --json PATH`"
    )]
    Unreadable {
        /// The path given.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// The file is not JSON.
    #[error("{path} is not JSON ({source}); give a report written by `host run --json PATH`")]
    NotJson {
        /// The path given.
        path: PathBuf,
        /// Where the JSON breaks.
        #[source]
        source: serde_json::Error,
    },
    /// The file is JSON but not a Quack report.
    #[error(
        "{path} is JSON but not a Quack report ({reason}); give a report written by `host run --json PATH`"
    )]
    NotAReport {
        /// The path given.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
    /// The report is larger than `host compare` reads.
    #[error(
        "the report {path} is {size} bytes, larger than the {MAX_REPORT_BYTES} bytes (256 MiB) the host reads; give the report of a smaller run"
    )]
    TooLarge {
        /// The path given.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
    },
    /// The report is of a format newer than this host reads.
    #[error(
        "{path} is a report of format version {version}, newer than the version {FORMAT_VERSION} this host reads; compare it with a newer host"
    )]
    FutureFormat {
        /// The path given.
        path: PathBuf,
        /// Its format version.
        version: u64,
    },
}

/// The largest report `host compare` reads: a report is read whole and then into its types, which
/// take a few times its size, so a bound keeps a huge file from taking the machine's memory (or
/// aborting the host when an allocation fails).
pub const MAX_REPORT_BYTES: u64 = 256 << 20;

/// A task's status as a report spells it: the runner's own [`Status`], read back.
pub type SavedStatus = Status;

/// The machine part of a saved report.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SavedMachine {
    /// Logical cores.
    #[serde(default)]
    pub cores: Option<u64>,
    /// The host name (absent in older reports).
    #[serde(default)]
    pub host_name: Option<String>,
}

/// The runner part of a saved report.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedRunner {
    /// `inline`, `thread` or `process`.
    pub mode: String,
    /// How many workers.
    pub workers: u64,
    /// Why that mode and that many workers.
    #[serde(default)]
    pub reason: Option<String>,
}

/// One attempt at a task or at a part of one, as a report keeps it: a failed attempt
/// (`attempts`) or the last run of a part (`part_runs`).
#[derive(Debug, Clone, Deserialize)]
pub struct SavedRun {
    /// How it ended.
    pub status: SavedStatus,
    /// Why it failed, when it did.
    #[serde(default)]
    pub error: Option<String>,
    /// Which part, for a part of a split task (absent in reports of older hosts).
    #[serde(default)]
    pub part: Option<u64>,
    /// The worker that ran it.
    #[serde(default)]
    pub worker: u64,
    /// The node it ran on (absent in reports of older hosts).
    #[serde(default)]
    pub node: Option<String>,
    /// When it started, in seconds since the run started.
    #[serde(default)]
    pub start_seconds: f64,
    /// How long it ran.
    #[serde(default)]
    pub duration_seconds: f64,
}

/// A worker process of a saved report.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedWorker {
    /// Its number.
    pub worker: u64,
    /// The node it ran on.
    pub node: String,
    /// Its process id.
    #[serde(default)]
    pub pid: u64,
    /// When it was ready (absent in reports of older hosts).
    #[serde(default)]
    pub start_seconds: Option<f64>,
}

/// A worker replaced during the run, in a saved report.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedReplacement {
    /// Its number.
    pub worker: u64,
    /// When the old one was found gone.
    pub at_seconds: f64,
    /// Why it went away.
    #[serde(default)]
    pub reason: String,
}

/// One task of a saved report.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedTask {
    /// Its id.
    pub id: u64,
    /// Its input.
    #[serde(default)]
    pub input: Value,
    /// How it ended.
    pub status: SavedStatus,
    /// Its result, when `ok`.
    #[serde(default)]
    pub output: Option<Value>,
    /// Its error, when not `ok`.
    #[serde(default)]
    pub error: Option<String>,
    /// The worker that ran it (for a split task, its last part's).
    #[serde(default)]
    pub worker: u64,
    /// The node that worker ran on (absent for a task that never started, and in reports of
    /// older hosts).
    #[serde(default)]
    pub node: Option<String>,
    /// When it started, in seconds since the run started.
    #[serde(default)]
    pub start_seconds: f64,
    /// How long it took.
    pub duration_seconds: f64,
    /// How many parts it was split into, when it was.
    #[serde(default)]
    pub parts: Option<u64>,
    /// The last run of each part, when it was split (absent in reports of older hosts).
    #[serde(default)]
    pub part_runs: Vec<SavedRun>,
    /// Earlier attempts that crashed or timed out.
    #[serde(default)]
    pub attempts: Vec<SavedRun>,
}

/// The summary of a saved report: the runner's own [`Summary`], read back (older reports have
/// no `not_run`, which reads as 0).
pub type SavedSummary = Summary;

/// A report read back from a file: what `host compare` needs of it.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedReport {
    /// The file it was read from (not in the JSON).
    #[serde(skip)]
    pub file: PathBuf,
    /// Its format version.
    pub format_version: u64,
    /// The version of the host that wrote it.
    pub quack_version: String,
    /// The commit that host was built from (absent in older reports, or when not from a checkout).
    #[serde(default)]
    pub quack_commit: Option<String>,
    /// When the run started (absent in older reports).
    #[serde(default)]
    pub started_at: Option<String>,
    /// The command line (absent in older reports).
    #[serde(default)]
    pub command_line: Option<Vec<String>>,
    /// The plugin, as far as the report says it.
    #[serde(deserialize_with = "super::plugin::read")]
    pub plugin: PluginInfo,
    /// How it ran.
    pub runner: SavedRunner,
    /// Where it ran.
    #[serde(default)]
    pub machine: SavedMachine,
    /// Every task.
    pub tasks: Vec<SavedTask>,
    /// Every worker process that started (process mode).
    #[serde(default)]
    pub workers: Vec<SavedWorker>,
    /// Every worker that was replaced.
    #[serde(default)]
    pub replacements: Vec<SavedReplacement>,
    /// The summary.
    pub summary: SavedSummary,
}

impl SavedReport {
    /// Reads and checks the report at `path`.
    pub fn read(path: &Path) -> Result<Self, ReadReportError> {
        // Only a regular file: a FIFO would block, a device never end.
        if let Ok(metadata) = std::fs::metadata(path) {
            if !metadata.is_file() && !metadata.is_dir() {
                return Err(ReadReportError::Unreadable {
                    path: path.to_path_buf(),
                    source: std::io::Error::other("it is not a regular file"),
                });
            }
        }
        let unreadable = |source| ReadReportError::Unreadable {
            path: path.to_path_buf(),
            source,
        };
        let too_large = |size| ReadReportError::TooLarge {
            path: path.to_path_buf(),
            size,
        };
        let file = std::fs::File::open(path).map_err(unreadable)?;
        let size = file.metadata().map_err(unreadable)?.len();
        if size > MAX_REPORT_BYTES {
            return Err(too_large(size));
        }
        // A file that grows while it is read is cut at the bound, and refused.
        let mut text = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        file.take(MAX_REPORT_BYTES + 1)
            .read_to_end(&mut text)
            .map_err(unreadable)?;
        if text.len() as u64 > MAX_REPORT_BYTES {
            return Err(too_large(text.len() as u64));
        }
        Self::parse(path, &text)
    }

    /// Reads and checks a report from stdin (`host compare ... -`); it is named `- (stdin)` in
    /// messages.
    pub fn read_stdin() -> Result<Self, ReadReportError> {
        let path = Path::new("- (stdin)");
        let mut text = Vec::new();
        io::stdin()
            .lock()
            .take(MAX_REPORT_BYTES + 1)
            .read_to_end(&mut text)
            .map_err(|source| ReadReportError::Unreadable {
                path: path.to_path_buf(),
                source,
            })?;
        if text.len() as u64 > MAX_REPORT_BYTES {
            return Err(ReadReportError::TooLarge {
                path: path.to_path_buf(),
                size: text.len() as u64,
            });
        }
        Self::parse(path, &text)
    }

    /// Checks and reads the report `text`, which came from `path`.
    ///
    /// The text is deserialized straight into the report's types (no intermediate tree of
    /// values, which takes several times the file's size), in one pass when it is a report this
    /// host reads; only text that is not is read again, to say what it is instead.
    pub fn parse(path: &Path, text: &[u8]) -> Result<Self, ReadReportError> {
        let mut report: SavedReport =
            serde_json::from_slice(text).map_err(|error| why_not_a_report(path, text, &error))?;
        if report.format_version > u64::from(FORMAT_VERSION) {
            return Err(ReadReportError::FutureFormat {
                path: path.to_path_buf(),
                version: report.format_version,
            });
        }
        // Tasks are matched by id: a second task of the same id would hide the first.
        let mut seen = HashSet::with_capacity(report.tasks.len());
        if let Some(task) = report.tasks.iter().find(|task| !seen.insert(task.id)) {
            return Err(ReadReportError::NotAReport {
                path: path.to_path_buf(),
                reason: format!("task id {} appears more than once", task.id),
            });
        }
        report.file = path.to_path_buf();
        Ok(report)
    }
}

/// What `text`, which did not read as a report (`error`), is instead: not JSON, JSON without a
/// usable `format_version`, a report of a newer format, or a broken report.
fn why_not_a_report(path: &Path, text: &[u8], error: &serde_json::Error) -> ReadReportError {
    let not_a_report = |reason: String| ReadReportError::NotAReport {
        path: path.to_path_buf(),
        reason,
    };
    // A scan that keeps nothing.
    if let Err(source) = serde_json::from_slice::<IgnoredAny>(text) {
        return ReadReportError::NotJson {
            path: path.to_path_buf(),
            source,
        };
    }
    let Ok(field) = serde_json::from_slice::<VersionField>(text) else {
        return not_a_report("it is not a JSON object".to_owned());
    };
    match field.format_version {
        None => not_a_report("it has no format_version".to_owned()),
        Some(version) => match version.as_u64() {
            None => not_a_report(format!(
                "its format_version is {version}, not a whole number"
            )),
            Some(version) if version > u64::from(FORMAT_VERSION) => ReadReportError::FutureFormat {
                path: path.to_path_buf(),
                version,
            },
            Some(_) => not_a_report(error.to_string()),
        },
    }
}

/// The one field read again from text that is not a report this host reads, to tell a report
/// of a newer format from a broken one.
#[derive(Deserialize)]
struct VersionField {
    #[serde(default)]
    format_version: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SavedReport, ReadReportError> {
        SavedReport::parse(Path::new("r.json"), text.as_bytes())
    }

    #[test]
    fn each_kind_of_bad_file_has_its_own_error() {
        assert!(matches!(parse("{"), Err(ReadReportError::NotJson { .. })));
        assert!(matches!(
            parse("[1]"),
            Err(ReadReportError::NotAReport { .. })
        ));
        assert!(matches!(
            parse(r#"{"name": "x"}"#),
            Err(ReadReportError::NotAReport { .. })
        ));
        assert!(matches!(
            parse(r#"{"format_version": 1}"#),
            Err(ReadReportError::NotAReport { .. })
        ));
        assert!(matches!(
            parse(r#"{"format_version": 2}"#),
            Err(ReadReportError::FutureFormat { version: 2, .. })
        ));
        assert!(matches!(
            parse(r#"{"format_version": "one"}"#),
            Err(ReadReportError::NotAReport { .. })
        ));
    }
}
