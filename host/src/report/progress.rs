//! The progress line: [`ProgressReporter`] draws, on stderr, tasks done out of the total (or
//! done and the rate for a stream of unknown length), failures so far, the mode and workers, the
//! time elapsed and the ETA. The CLI makes one only when stderr is a terminal and `-q` is not
//! given, so nothing changes on a pipe or in a CI log.
//!
//! While the line is drawn, everything else written to the terminal goes around it, so neither
//! tears the other:
//! - lines for stderr (the run's notes, worker and plugin output, `tracing`) go through
//!   [`eprint_line`] or the [`StderrLines`] writer, which print them above the line;
//! - Quack's stdout, when it is a terminal too, is wrapped in [`AroundProgress`], which hides the
//!   line while a buffer of results is written.
//!
//! indicatif limits how often the line is redrawn (20 times a second at most, and a tick every
//! 200 ms keeps the clock moving); a task finishing only updates counters.

use std::{
    io::{self, Write},
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::runner::{Choice, Event, EventKind, Flow, Reporter, Status};
use crate::safe::safe_text;

/// The progress line being drawn, if there is one: every stderr line goes above it.
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// How often the line is redrawn with nothing else happening (the elapsed time moves).
const TICK: Duration = Duration::from_millis(200);

/// Whether a progress line may be on the terminal now; read by [`clear_before_exit`], which
/// cannot take locks.
static DRAWN: AtomicBool = AtomicBool::new(false);

/// Wipes the progress line off the terminal when one is drawn, for a process about to end at
/// once (`_exit` on a second Ctrl-C, or a plugin that called `exit`), which drops the line
/// without clearing it. Takes no lock and allocates nothing: one `write(2)` of a carriage return
/// and an erase-line sequence.
pub fn clear_before_exit() {
    if DRAWN.swap(false, Ordering::SeqCst) {
        const ERASE: &[u8] = b"\r\x1b[2K";
        // SAFETY: write(2) from a valid buffer; the result is deliberately ignored.
        unsafe { libc::write(libc::STDERR_FILENO, ERASE.as_ptr().cast(), ERASE.len()) };
    }
}

fn active() -> Option<ProgressBar> {
    ACTIVE.lock().ok().and_then(|bar| bar.clone())
}

fn set_active(bar: Option<ProgressBar>) {
    DRAWN.store(bar.is_some(), Ordering::SeqCst);
    if let Ok(mut active) = ACTIVE.lock() {
        *active = bar;
    }
}

/// Writes one line to stderr, above the progress line when one is drawn. Errors are dropped: a
/// closed or full stderr never stops the host. The lines carry text from plugins (what they
/// print, their names, their errors), so every character a terminal may act on is escaped here,
/// where every note and diagnostic leaves the host (see [`safe`](crate::safe)).
pub fn eprint_line(line: &str) {
    eprint_line_as_is(&safe_text(line));
}

/// [`eprint_line`] for a line whose escape codes are the host's own (`tracing`'s colours).
fn eprint_line_as_is(line: &str) {
    match active() {
        Some(bar) => bar.println(line),
        None => {
            let mut stderr = io::stderr().lock();
            let _ = stderr.write_all(line.as_bytes());
            let _ = stderr.write_all(b"\n");
        }
    }
}

/// A writer for stderr that passes on each whole line through [`eprint_line`] (a last line
/// without its newline goes when the writer is dropped).
/// Lines are escaped as [`eprint_line`] escapes them, unless the writer is
/// [`StderrLines::styled`].
#[derive(Default)]
pub struct StderrLines {
    pending: Vec<u8>,
    styled: bool,
}

impl StderrLines {
    /// A writer whose escape codes are the host's own colours (`tracing`'s formatter; the text
    /// from plugins in its events is escaped where they are made, in `report::verbose`); its
    /// lines are written as they are.
    pub fn styled() -> Self {
        StderrLines {
            pending: Vec::new(),
            styled: true,
        }
    }

    fn emit(&mut self, end: usize) {
        let line: Vec<u8> = self.pending.drain(..end).collect();
        let text = String::from_utf8_lossy(&line);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        if self.styled {
            eprint_line_as_is(text);
        } else {
            eprint_line(text);
        }
    }
}

impl Write for StderrLines {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        while let Some(newline) = self.pending.iter().position(|byte| *byte == b'\n') {
            self.emit(newline + 1);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for StderrLines {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let end = self.pending.len();
            self.emit(end);
        }
    }
}

/// A writer on a terminal that the progress line shares: each write hides the line, writes and
/// draws it again. Results are buffered in front of it, so this happens once per flush.
pub struct AroundProgress<W: Write> {
    inner: W,
    on_terminal: bool,
}

impl<W: Write> AroundProgress<W> {
    /// `inner`, written around the progress line when `on_terminal` (else written as it is).
    pub fn new(inner: W, on_terminal: bool) -> Self {
        AroundProgress { inner, on_terminal }
    }
}

impl<W: Write> Write for AroundProgress<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match active().filter(|_| self.on_terminal) {
            Some(bar) => bar.suspend(|| {
                let written = self.inner.write(buf);
                self.inner.flush().and(written)
            }),
            None => self.inner.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Draws the progress line of a run on stderr.
#[derive(Default)]
pub struct ProgressReporter {
    bar: Option<ProgressBar>,
    failed: u64,
    choice: Option<Choice>,
}

impl ProgressReporter {
    /// A reporter that draws once the run starts; with `colors`, the bar is coloured.
    pub fn new(colors: bool) -> Self {
        console::set_colors_enabled_stderr(colors);
        ProgressReporter::default()
    }

    fn start(&mut self, choice: &Choice, tasks: Option<usize>) {
        let template = if tasks.is_some() {
            "{spinner:.green} {pos}/{len} tasks [{bar:24.cyan/blue}] {msg} | {elapsed} elapsed{eta_once_known}"
        } else {
            "{spinner:.green} tasks done: {pos} ({rate}) | {msg} | {elapsed} elapsed"
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key(
                "rate",
                |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                    let _ = write!(out, "{:.1}/s", state.per_sec());
                },
            )
            .with_key(
                "eta_once_known",
                |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                    // Before a task has finished there is no rate to estimate from.
                    if state.pos() > 0 {
                        let _ = write!(out, ", ETA {:#}", indicatif::HumanDuration(state.eta()));
                    }
                },
            )
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(
            tasks.map(|count| count as u64),
            ProgressDrawTarget::stderr(),
        )
        .with_style(style);
        self.choice = Some(choice.clone());
        bar.set_message(self.message());
        bar.enable_steady_tick(TICK);
        set_active(Some(bar.clone()));
        self.bar = Some(bar);
    }

    fn message(&self) -> String {
        let Some(choice) = &self.choice else {
            return String::new();
        };
        let workers = if choice.workers == 1 {
            "worker"
        } else {
            "workers"
        };
        format!(
            "{} failed | {}, {} {workers}",
            self.failed,
            choice.mode.as_str(),
            choice.workers
        )
    }

    fn stop(&mut self) {
        set_active(None);
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Reporter for ProgressReporter {
    fn report(&mut self, event: &Event) -> Flow {
        match &event.kind {
            EventKind::RunStarted { choice, tasks, .. } => self.start(choice, *tasks),
            EventKind::TaskFinished(record) => {
                if record.status != Status::Ok {
                    self.failed += 1;
                    let message = self.message();
                    if let Some(bar) = &self.bar {
                        bar.set_message(message);
                    }
                }
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            EventKind::RunFinished { .. } => self.stop(),
            _ => {}
        }
        Flow::Continue
    }
}

impl Drop for ProgressReporter {
    fn drop(&mut self) {
        self.stop();
    }
}
