//! What a `host run` writes: [`Outputs`], every reporter of a Workload's run (the lines on
//! stderr, the table or JSON Lines on stdout, the JSON report on stdout or in its file, the
//! progress line, `-v`, `--joblog`, `--junit`), [`SpeechOutputs`] for an Animal's speech, and
//! [`Look`], how they look.

use std::{
    fs::File,
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
};

use super::args::Format;
use crate::{
    cli::{
        error::HostError,
        stdio,
        verbosity::{self, ui},
    },
    plugin::PluginInfo,
    report::{
        ReportHead, ReportWriter,
        diagnostics::Diagnostics,
        file::ReportFile,
        human::{HumanReporter, TableOptions},
        joblog::JobLog,
        jsonl::JsonlReporter,
        junit::Junit,
        progress::{AroundProgress, ProgressReporter, StderrLines},
        slow::SlowWatch,
        timed::TimedFlush,
        verbose::VerboseReporter,
    },
    runner::{Event, EventKind, Flow, Quit, Reporter, Speech, Status},
};

/// Where `--json` writes the report.
pub enum ReportTarget {
    /// `--json -`: Quack's stdout.
    Stdout,
    /// A file, renamed into place at the end.
    File(ReportFile),
}

/// The JSON report being written to its target.
pub enum ReportOutput {
    Stdout(ReportWriter<QuackOut>),
    File(ReportFile, ReportWriter<BufWriter<File>>),
}

impl ReportOutput {
    /// Starts the report `head` on `target` (`quack_stdout` for `--json -`).
    pub fn new(
        target: ReportTarget,
        head: ReportHead,
        quack_stdout: &File,
        background_flush: bool,
    ) -> Result<Self, HostError> {
        Ok(match target {
            ReportTarget::Stdout => {
                let out = quack_stdout.try_clone().map_err(HostError::Output)?;
                ReportOutput::Stdout(ReportWriter::new(buffered(out, background_flush), head))
            }
            ReportTarget::File(file) => {
                let writer = file.writer()?;
                ReportOutput::File(file, ReportWriter::new(writer, head))
            }
        })
    }

    /// Ends the report: renames the file into place and says so (unless `quietly`: the output
    /// was closed, and the host ends as quietly as a shell tool on SIGPIPE), or reports what
    /// failed.
    pub fn finish(self, quietly: bool) -> Result<(), HostError> {
        match self {
            ReportOutput::Stdout(writer) => match writer.finish() {
                Err(error) if error.kind() != io::ErrorKind::BrokenPipe => {
                    Err(HostError::Output(error))
                }
                _ => Ok(()),
            },
            ReportOutput::File(file, writer) => {
                let path = file.path().to_path_buf();
                let written = writer.finish().map_err(|source| file.failed(source))?;
                file.persist(written)?;
                if !ui().quiet && !quietly {
                    stdio::note(format_args!("report written to {}", path.display()));
                }
                Ok(())
            }
        }
    }
}

impl Reporter for ReportOutput {
    fn report(&mut self, event: &Event) -> Flow {
        match self {
            ReportOutput::Stdout(writer) => writer.report(event),
            ReportOutput::File(_, writer) => writer.report(event),
        }
    }
}

/// The files a run writes for other tools, opened before it starts.
#[derive(Default)]
pub struct LogFiles {
    /// `--joblog`: its path and its file.
    pub joblog: Option<(PathBuf, File)>,
    /// `--junit`.
    pub junit: Option<JunitFile>,
    /// `--slow-after`.
    pub slow_after: Option<std::time::Duration>,
}

/// Where `--junit` writes: a temporary file beside its path, renamed into place at the end, so
/// a CI system never reads half a document.
pub struct JunitFile {
    path: PathBuf,
    temporary: tempfile::NamedTempFile,
}

impl JunitFile {
    /// Makes the temporary file beside `path`, or says why it cannot be.
    pub fn create(path: &Path) -> Result<Self, HostError> {
        let error = |source| HostError::LogFile {
            flag: "--junit",
            path: path.to_path_buf(),
            source,
        };
        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let temporary = tempfile::Builder::new()
            .prefix(".quack-junit-")
            .tempfile_in(&directory)
            .map_err(error)?;
        Ok(JunitFile {
            path: std::path::absolute(path).map_err(error)?,
            temporary,
        })
    }

    /// Writes `junit` and renames it into place.
    fn finish(self, junit: &Junit) -> Result<(), HostError> {
        let error = |source| HostError::LogFile {
            flag: "--junit",
            path: self.path.clone(),
            source,
        };
        junit
            .write_to(BufWriter::new(self.temporary.as_file()))
            .map_err(error)?;
        self.temporary
            .persist(&self.path)
            .map_err(|persist| error(persist.error))?;
        Ok(())
    }
}

/// The job log and JUnit document of a run, as they are written.
struct Logs {
    joblog: Option<JobLog<File>>,
    junit: Option<(JunitFile, Junit)>,
    slow: Option<SlowWatch>,
}

impl Logs {
    fn report(&mut self, event: &Event) {
        if let Some(joblog) = &mut self.joblog {
            let _ = joblog.report(event);
        }
        if let Some((_, junit)) = &mut self.junit {
            let _ = junit.report(event);
        }
        if let Some(slow) = &mut self.slow {
            let _ = slow.report(event);
        }
    }

    /// Writes the JUnit file, then says whether the job log could not be written.
    fn finish(self, joblog_path: Option<&Path>) -> Result<(), HostError> {
        if let Some((file, junit)) = self.junit {
            file.finish(&junit)?;
        }
        match (self.joblog.and_then(JobLog::failure), joblog_path) {
            (Some(source), Some(path)) => Err(HostError::LogFile {
                flag: "--joblog",
                path: path.to_path_buf(),
                source,
            }),
            _ => Ok(()),
        }
    }
}

/// What `--format` prints on stdout.
enum StdoutReporter {
    Human(HumanReporter<QuackOut>),
    Jsonl(JsonlReporter<QuackOut>),
    /// `--format json`: the report itself.
    Report(Box<ReportOutput>),
    /// `--json -` already prints the report on stdout.
    Nothing,
}

/// Every reporter of a `host run`: notes on stderr, the chosen format on stdout, the report.
pub struct Outputs {
    stderr: Diagnostics<StderrLines>,
    stdout: StdoutReporter,
    report: Option<ReportOutput>,
    // The progress line and -v.
    progress: Option<ProgressReporter>,
    verbose: VerboseReporter,
    logs: Logs,
    /// `--joblog`'s path, for its error.
    joblog_path: Option<PathBuf>,
    /// Whether a write to stdout found its reader gone (up to the last one, the summary's).
    pub stdout_closed: bool,
}

/// Quack's stdout, buffered (and flushed within 50 ms whatever the plugin does), written around
/// the progress line when it shares its terminal.
type QuackOut = TimedFlush<AroundProgress<File>>;

/// Quack's stdout (never fd 1, which is the plugin's: see [`PluginStdout`]), buffered; flushed
/// by a thread of its own too when `background_flush` (see [`Look::background_flush`]).
fn buffered(out: File, background_flush: bool) -> QuackOut {
    use std::io::IsTerminal;
    let on_terminal = out.is_terminal();
    let out = AroundProgress::new(out, on_terminal);
    if background_flush {
        TimedFlush::new(out, 1 << 16)
    } else {
        TimedFlush::without_flusher(out, 1 << 16)
    }
}

/// What the command line asked of the table.
#[derive(Debug, Clone, Copy)]
pub struct TableRequest {
    /// `--width`.
    pub width: Option<usize>,
    /// `--keep-order`.
    pub keep_order: bool,
    /// `--retries` (the table shows attempts when above 0).
    pub retries: u32,
}

/// How a run's output looks: the global flags and the table's options.
pub struct Look {
    ui: verbosity::Ui,
    table: TableOptions,
    hint: Option<quack_core::Hint>,
    /// Whether stdout needs a thread that flushes it: when the thread that writes it also runs
    /// plugin code (inline mode; `split` and `merge` of a split run), a finished task's line
    /// would otherwise wait behind a long task. Not for a run of one task: its line is flushed
    /// when the run ends, right after it.
    pub background_flush: bool,
}

impl Look {
    /// The look of a run of `plugin` asked for with `table`, printing on `quack_stdout`.
    pub fn new(table: TableRequest, plugin: &PluginInfo, quack_stdout: &File) -> Self {
        use std::io::IsTerminal;
        let ui = ui();
        let on_terminal = quack_stdout.is_terminal();
        Look {
            ui,
            table: TableOptions {
                width: crate::report::human::table_width(table.width, quack_stdout),
                keep_order: table.keep_order,
                retries: table.retries,
                colors: ui.colors(on_terminal),
                only_failed: ui.quiet,
            },
            hint: plugin.description.hint,
            background_flush: true,
        }
    }

    /// The progress line, when stderr is a terminal and `-q` is not given.
    fn progress(&self) -> Option<ProgressReporter> {
        use std::io::IsTerminal;
        (!self.ui.quiet && io::stderr().is_terminal())
            .then(|| ProgressReporter::new(self.ui.stderr_colors()))
    }
}

impl Outputs {
    /// The outputs of a run: the `format` on stdout, the report on `target`, the lines on
    /// stderr. `head` makes a report's head (only called for a report).
    pub fn new(
        format: Format,
        target: Option<ReportTarget>,
        head: impl Fn() -> ReportHead,
        quack_stdout: &File,
        look: Look,
        files: LogFiles,
        plugin_name: &str,
    ) -> Result<Self, HostError> {
        let joblog_path = files.joblog.as_ref().map(|(path, _)| path.clone());
        let joblog = match files.joblog {
            None => None,
            Some((path, file)) => Some(JobLog::new(file).map_err(|source| HostError::LogFile {
                flag: "--joblog",
                path,
                source,
            })?),
        };
        let logs = Logs {
            joblog,
            junit: files.junit.map(|file| (file, Junit::new(plugin_name))),
            slow: files.slow_after.map(SlowWatch::new),
        };
        let report_on_stdout = matches!(target, Some(ReportTarget::Stdout));
        let out = || quack_stdout.try_clone().map_err(HostError::Output);
        let stdout = match format {
            _ if report_on_stdout => StdoutReporter::Nothing,
            Format::Human => StdoutReporter::Human(HumanReporter::with_options(
                buffered(out()?, look.background_flush),
                look.table,
            )),
            Format::Jsonl => {
                StdoutReporter::Jsonl(JsonlReporter::new(buffered(out()?, look.background_flush)))
            }
            Format::Json => StdoutReporter::Report(Box::new(ReportOutput::new(
                ReportTarget::Stdout,
                head(),
                quack_stdout,
                look.background_flush,
            )?)),
        };
        let report = target
            .map(|target| ReportOutput::new(target, head(), quack_stdout, look.background_flush))
            .transpose()?;
        Ok(Outputs {
            stderr: Diagnostics::new(StderrLines::default()).quiet(look.ui.quiet),
            stdout,
            report,
            progress: look.progress(),
            verbose: VerboseReporter::new(look.hint, crate::runner::sys::cores()),
            logs,
            joblog_path,
            stdout_closed: false,
        })
    }

    /// Ends every output; the report's failure first (a lost report is the worst), then
    /// stdout's. A closed pipe on stdout (`host run ... | head`) is not an error; `quietly` (it
    /// stopped the run) leaves out the note that the report was written.
    pub fn finish(self, quietly: bool) -> Result<(), HostError> {
        if let Some(report) = self.report {
            report.finish(quietly)?;
        }
        self.logs.finish(self.joblog_path.as_deref())?;
        let failure = match self.stdout {
            StdoutReporter::Human(human) => human.failure(),
            StdoutReporter::Jsonl(jsonl) => jsonl.failure(),
            StdoutReporter::Report(report) => return report.finish(quietly),
            StdoutReporter::Nothing => None,
        };
        match failure {
            Some(error) if error.kind() != io::ErrorKind::BrokenPipe => {
                Err(HostError::Output(error))
            }
            _ => Ok(()),
        }
    }
}

impl Reporter for Outputs {
    fn report(&mut self, event: &Event) -> Flow {
        // The progress line goes away before the last lines, and starts after the first.
        let last = matches!(event.kind, EventKind::RunFinished { .. });
        if let Some(progress) = self.progress.as_mut().filter(|_| last) {
            let _ = progress.report(event);
        }
        let _ = self.stderr.report(event);
        let _ = self.verbose.report(event);
        self.logs.report(event);
        let flow = match &mut self.stdout {
            StdoutReporter::Human(human) => human.report(event),
            StdoutReporter::Jsonl(jsonl) => jsonl.report(event),
            StdoutReporter::Report(report) => report.report(event),
            StdoutReporter::Nothing => Flow::Continue,
        };
        // The report stops the run only on stdout (`--json -`): a full disk is reported at the
        // end.
        let flow = match &mut self.report {
            Some(report) => flow.and(report.report(event)),
            None => flow,
        };
        self.stdout_closed |= flow == Flow::Stop(Quit::OutputClosed);
        if let Some(progress) = self.progress.as_mut().filter(|_| !last) {
            let _ = progress.report(event);
        }
        flow
    }

    /// Only `-vvv` and `--slow-after` look at tasks as they start.
    fn wants_task_started(&self) -> bool {
        self.verbose.wants_task_started() || self.logs.slow.is_some()
    }
}

/// The outputs of an Animal's speech: its line on stdout ("Donald said Quack!", or a `speech`
/// object with `--format jsonl`), a failure's sentence on stderr, and the report.
pub struct SpeechOutputs {
    /// What stdout shows; `None` when the report is printed there.
    format: Option<Format>,
    out: File,
    /// The plugin's name, for a failure's sentence.
    name: String,
    report: Option<ReportOutput>,
    /// Why stdout could not be written, when it could not (a reader gone is no failure).
    failure: Option<io::Error>,
}

impl SpeechOutputs {
    /// The outputs of a speech of the plugin `name`: `format` on `quack_stdout`, the report on
    /// `target` (and on stdout for `--format json`).
    pub fn new(
        format: Format,
        target: Option<ReportTarget>,
        head: ReportHead,
        name: &str,
        quack_stdout: &File,
    ) -> Result<Self, HostError> {
        let target = match (target, format) {
            (None, Format::Json) => Some(ReportTarget::Stdout),
            (target, _) => target,
        };
        let on_stdout = matches!(target, Some(ReportTarget::Stdout));
        // The animal speaks once: nothing runs between writing the report and flushing it.
        let report = target
            .map(|target| ReportOutput::new(target, head, quack_stdout, false))
            .transpose()?;
        Ok(SpeechOutputs {
            format: (!on_stdout).then_some(format),
            out: quack_stdout.try_clone().map_err(HostError::Output)?,
            name: name.to_owned(),
            report,
            failure: None,
        })
    }

    /// Prints what was said; a reader that went away is no error.
    fn say(&mut self, speech: &Speech) -> io::Result<()> {
        let printed = match self.format {
            // The plugin's name and sound, shown and never obeyed by the terminal.
            Some(Format::Human) => format!("{}\n", crate::safe::Safe(&speech.line)),
            Some(Format::Jsonl) => format!("{}\n", speech.to_json_line()),
            Some(Format::Json) | None => return Ok(()),
        };
        stdio::ignore_closed(
            self.out
                .write_all(printed.as_bytes())
                .and_then(|()| self.out.flush()),
        )
    }

    /// Ends the report (see [`ReportOutput::finish`]), then says whether stdout could not be
    /// written.
    pub fn finish(self) -> Result<(), HostError> {
        if let Some(report) = self.report {
            report.finish(false)?;
        }
        match self.failure {
            Some(error) => Err(HostError::Output(error)),
            None => Ok(()),
        }
    }
}

impl Reporter for SpeechOutputs {
    fn report(&mut self, event: &Event) -> Flow {
        if let EventKind::TaskFinished(record) = &event.kind {
            if let Some(speech) = Speech::of(record) {
                self.failure = self.say(&speech).err();
            } else if record.status == Status::Error {
                // A speech that failed; a run that could not start says why when it ends.
                let error = record.error.as_deref().unwrap_or_default();
                stdio::note(format_args!("{}: {error}", self.name));
            }
        }
        match &mut self.report {
            Some(report) => report.report(event),
            None => Flow::Continue,
        }
    }

    fn wants_task_started(&self) -> bool {
        false
    }
}
