//! `host report REPORT --trace OUT --html OUT`: pictures of a run drawn from its saved report
//! alone: a Chrome trace-event file for Perfetto or `chrome://tracing`, and a self-contained HTML
//! page. `-` reads the report from stdin.

use std::path::{Path, PathBuf};

use clap::Args;

use super::Outcome;
use crate::{
    cli::{error::HostError, stdio, verbosity::ui},
    report::{file::ReportFile, read::SavedReport, trace},
};

const REPORT_EXAMPLES: &str = "\
Examples:
  host run plugins/libfactorize.so --json run.json
  host report run.json --trace run.trace.json     (open it in https://ui.perfetto.dev or
                                                   chrome://tracing)
  host run plugins/libfactorize.so -q --format json | host report - --trace run.trace.json

The trace has a track per worker, named with the node it ran on, and a slice per unit of work:
each attempt at a task, each part of a split task, with its task, part, attempt, input and
status. The run's phases are on a track of their own; workers started and replaced, crashes and
timeouts are instant events. Reports of older hosts, which kept no nodes or parts, give one slice
per task on its worker.";

/// Draw a run from its report (`host run --json`): a trace for Perfetto or chrome://tracing.
#[derive(Debug, Args)]
#[command(after_help = REPORT_EXAMPLES)]
pub struct ReportArgs {
    /// The report written by `host run --json PATH` (`-` for stdin).
    pub report: PathBuf,

    /// Write the run as a Chrome trace-event file to FILE (JSON; open it in
    /// https://ui.perfetto.dev or chrome://tracing).
    #[arg(long, value_name = "FILE", required = true)]
    pub trace: Option<PathBuf>,
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
        Ok(Outcome::Success)
    }
}

/// Writes the trace of `report` to `path` and says so.
fn write_trace(report: &SavedReport, path: &Path) -> Result<(), HostError> {
    let file = ReportFile::create_for("--trace", path).map_err(HostError::Picture)?;
    trace::write(report, file).map_err(HostError::Picture)?;
    if !ui().quiet {
        stdio::note(format_args!("trace written to {}", path.display()));
    }
    Ok(())
}
