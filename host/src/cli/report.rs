//! `host report REPORT --trace OUT --html OUT`: pictures of a run drawn from its saved report
//! alone: a Chrome trace-event file for Perfetto or `chrome://tracing`, and a self-contained HTML
//! page (`report/html.rs`). `-` reads the report from stdin.

use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args};

use super::Outcome;
use crate::{
    cli::{error::HostError, stdio, verbosity::ui},
    report::{file::ReportFile, html, read::SavedReport, trace},
};

const REPORT_EXAMPLES: &str = "\
Examples:
  host run plugins/libfactorize.so --json run.json
  host report run.json --trace run.trace.json     (open it in https://ui.perfetto.dev or
                                                   chrome://tracing)
  host report run.json --html run.html            (open it in any browser; one file, offline)
  host run plugins/libfactorize.so -q --format json | host report - --trace run.trace.json

The trace has a track per worker, named with the node it ran on, and a slice per unit of work:
each attempt at a task, each part of a split task, with its task, part, attempt, input and
status. The run's phases are on a track of their own; workers started and replaced, crashes and
timeouts are instant events. Reports of older hosts, which kept no nodes or parts, give one slice
per task on its worker.

The HTML page is one file that needs no network: the summary and why the mode was chosen, a
timeline of the workers over time (a bar per attempt or part), each worker's busy share, a
histogram of task times with the slow tail named (tasks that took twice the median or more, and
past the 90th percentile when there are ten or more), and the failed tasks with their reasons.
Every text from the plugin or its tasks is escaped.";

/// Draw a run from its report (`host run --json`): a trace for Perfetto or chrome://tracing, an
/// HTML page.
#[derive(Debug, Args)]
#[command(after_help = REPORT_EXAMPLES)]
#[command(group(ArgGroup::new("pictures").required(true).multiple(true).args(["trace", "html"])))]
pub struct ReportArgs {
    /// The report written by `host run --json PATH` (`-` for stdin).
    pub report: PathBuf,

    /// Write the run as a Chrome trace-event file to FILE (JSON; open it in
    /// https://ui.perfetto.dev or chrome://tracing).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,

    /// Write the run as one self-contained HTML page to FILE (no network needed to view it).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

impl ReportArgs {
    pub(super) fn exec(self) -> Result<Outcome, HostError> {
        let report = if self.report.as_os_str() == "-" {
            SavedReport::read_stdin()?
        } else {
            SavedReport::read(&self.report)?
        };
        if let Some(path) = &self.trace {
            write_trace(&report, path)?;
        }
        if let Some(path) = &self.html {
            let file = ReportFile::create_for("--html", path).map_err(HostError::Picture)?;
            html::write(&[&report], None, file).map_err(HostError::Picture)?;
            said("HTML report", path);
        }
        Ok(Outcome::Success)
    }
}

/// Says on stderr that `what` was written to `path` (unless `-q`).
pub(super) fn said(what: &str, path: &Path) {
    if !ui().quiet {
        stdio::note(format_args!("{what} written to {}", path.display()));
    }
}

/// Writes the trace of `report` to `path` and says so.
fn write_trace(report: &SavedReport, path: &Path) -> Result<(), HostError> {
    let file = ReportFile::create_for("--trace", path).map_err(HostError::Picture)?;
    trace::write(report, file).map_err(HostError::Picture)?;
    said("trace", path);
    Ok(())
}
