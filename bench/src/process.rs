//! Whole processes: the `host` binary, the rayon peer and the peers in other languages are
//! started, fed on stdin and read on stdout here ([`run`]), optionally through the peak-memory
//! launcher ([`launch_measured`], `quack-bench peak-rss -- PROGRAM ARGS`), and a JSON Lines run's
//! output is checked by [`check_jsonl`].
//!
//! Why a launcher: on Linux a process's `ru_maxrss` starts from its parent's high-water mark
//! (`exec` keeps the larger of the old and the new one, and `posix_spawn`'s old memory *is* the
//! parent's), so a child of a benchmark that has run a thousand threads would report the
//! benchmark's peak, not its own. The launcher is a fresh `quack-bench` process of a few MiB that
//! starts the program, waits for it with `wait4` and prints its peak on stderr; the launcher's own
//! few MiB are the floor, as a shell's are.

use std::{
    ffi::OsString,
    io::{self, BufRead, BufReader, Read, Write},
    mem::MaybeUninit,
    os::unix::process::ExitStatusExt,
    path::Path,
    process::{Child, ChildStdin, Command, ExitStatus, Stdio},
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::error::BenchError;

/// The launcher's stderr line: this, then the program's peak resident memory in KiB.
const PEAK_LINE: &str = "quack-bench: peak-rss-kib ";

/// What a process gets on its standard input.
#[derive(Debug, Clone)]
pub enum Feed {
    /// Nothing (`/dev/null`).
    Nothing,
    /// `line` (which ends with a newline) `count` times, written from a thread while the
    /// process runs.
    Repeat {
        /// One line.
        line: &'static [u8],
        /// How many times.
        count: usize,
    },
    /// These bytes.
    Bytes(Vec<u8>),
}

impl Feed {
    /// `count` lines `1`: the trivial task.
    pub fn ones(count: usize) -> Self {
        Feed::Repeat {
            line: b"1\n",
            count,
        }
    }
}

/// One process to run.
#[derive(Debug, Clone)]
pub struct Spawn<'a> {
    /// What it is, for error messages.
    pub what: String,
    /// The program.
    pub program: &'a Path,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Its standard input.
    pub feed: Feed,
    /// Whether to run it through the launcher and report its peak memory.
    pub peak_memory: bool,
    /// Whether to keep every stdout line (for short outputs that are checked line by line).
    pub keep_output: bool,
}

impl<'a> Spawn<'a> {
    /// `program` with `args`, nothing on stdin, not measured for memory.
    pub fn new(what: impl Into<String>, program: &'a Path, args: &[&str]) -> Self {
        Spawn {
            what: what.into(),
            program,
            args: args.iter().map(OsString::from).collect(),
            feed: Feed::Nothing,
            peak_memory: false,
            keep_output: false,
        }
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets what comes on stdin.
    pub fn feed(mut self, feed: Feed) -> Self {
        self.feed = feed;
        self
    }

    /// Keeps every stdout line in [`Ran::output`].
    pub fn keep_output(mut self) -> Self {
        self.keep_output = true;
        self
    }

    /// Runs it through the launcher, which measures its peak memory.
    pub fn measure_peak_memory(mut self) -> Self {
        self.peak_memory = true;
        self
    }
}

/// What a process did.
#[derive(Debug, Clone)]
pub struct Ran {
    /// From spawning it (or its launcher) to its exit.
    pub wall: Duration,
    /// Its peak resident memory in MiB, when run through the launcher.
    pub peak_mib: Option<f64>,
    /// From spawning it to its first stdout line.
    pub first_line_after: Option<Duration>,
    /// How many lines it wrote on stdout.
    pub lines: usize,
    /// How many of them say `"status":"ok"`.
    pub ok_lines: usize,
    /// Its last stdout line.
    pub last: Vec<u8>,
    /// Every stdout line, when asked for ([`Spawn::keep_output`]).
    pub output: Vec<Vec<u8>>,
}

/// Runs `spawn` to its end, feeding it and reading its stdout; fails when it cannot be started
/// or does not exit with 0.
pub fn run(spawn: Spawn<'_>) -> Result<Ran, BenchError> {
    let what = spawn.what;
    let failed = |source| BenchError::Process {
        what: format!("could not run {what}"),
        source,
    };
    let mut command = if spawn.peak_memory {
        let launcher = std::env::current_exe().map_err(failed)?;
        let mut command = Command::new(launcher);
        command.args(["peak-rss", "--"]).arg(spawn.program);
        command
    } else {
        Command::new(spawn.program)
    };
    command
        .args(&spawn.args)
        .stdin(match spawn.feed {
            Feed::Nothing => Stdio::null(),
            _ => Stdio::piped(),
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().map_err(failed)?;
    let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(failed(io::Error::other("its pipes could not be set up")));
    };
    let stdin = child.stdin.take();
    let feed = spawn.feed;
    let writer = thread::spawn(move || stdin.map_or(Ok(()), |stdin| write_feed(stdin, &feed)));
    let errors = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let read = read_lines(stdout, started, spawn.keep_output);
    if read.is_err() {
        let _ = child.kill();
    }
    let waited = child.wait();
    let wall = started.elapsed();
    let written = writer.join();
    let stderr = errors.join().unwrap_or_default();
    let status = waited.map_err(failed)?;
    if !status.success() {
        let last = stderr
            .lines()
            .rfind(|line| !line.starts_with(PEAK_LINE) && !line.trim().is_empty())
            .unwrap_or_default();
        return Err(BenchError::ChildFailed {
            what,
            status,
            stderr: if last.is_empty() {
                String::new()
            } else {
                format!(": {last}")
            },
        });
    }
    let read = read.map_err(failed)?;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(error)) => return Err(failed(error)),
        Err(_) => return Err(failed(io::Error::other("the thread feeding it panicked"))),
    }
    let peak_mib = if spawn.peak_memory {
        let kib = stderr
            .lines()
            .find_map(|line| line.strip_prefix(PEAK_LINE)?.trim().parse::<f64>().ok())
            .ok_or_else(|| failed(io::Error::other("its launcher reported no peak memory")))?;
        Some(kib / 1024.0)
    } else {
        None
    };
    Ok(Ran {
        wall,
        peak_mib,
        first_line_after: read.first_line_after,
        lines: read.lines,
        ok_lines: read.ok_lines,
        last: read.last,
        output: read.output,
    })
}

/// Checks a JSON Lines run of `count` tasks (of `host run --format jsonl` or the rayon peer):
/// one line per task, each `ok`, and a summary line that says `count` tasks, all ok.
pub fn check_jsonl(scenario: &'static str, count: usize, ran: &Ran) -> Result<(), BenchError> {
    let wrong = |detail| BenchError::WrongResult { scenario, detail };
    if ran.lines != count + 1 || ran.ok_lines != count {
        return Err(wrong(format!(
            "{} lines came out for {count} tasks ({} of them ok), not {}",
            ran.lines,
            ran.ok_lines,
            count + 1
        )));
    }
    let summary: Value = serde_json::from_slice(&ran.last)
        .map_err(|error| wrong(format!("the last line is not JSON: {error}")))?;
    let field = |name: &str| summary.get(name).and_then(Value::as_u64);
    let expected = count as u64;
    if summary.get("type").and_then(Value::as_str) != Some("summary")
        || field("tasks") != Some(expected)
        || field("ok") != Some(expected)
    {
        return Err(wrong(format!(
            "the summary line does not say {count} tasks, all ok: {summary}"
        )));
    }
    Ok(())
}

/// The runner a JSON Lines run's summary line names, e.g. `thread, 256 workers`.
pub fn runner_of(ran: &Ran) -> Option<String> {
    let summary: Value = serde_json::from_slice(&ran.last).ok()?;
    let mode = summary.pointer("/runner/mode")?.as_str()?.to_owned();
    let workers = summary.pointer("/runner/workers")?.as_u64()?;
    Some(format!("{mode}, {workers} workers"))
}

/// `quack-bench peak-rss -- PROGRAM ARGS`: runs PROGRAM with ARGS on this process's standard
/// streams, waits for it with `wait4`, prints its peak resident memory on stderr and returns its
/// exit code (128 + the signal, if one ended it).
pub fn launch_measured(command: &[OsString]) -> u8 {
    let Some((program, args)) = command.split_first() else {
        eprintln!("quack-bench peak-rss: no program given after --");
        return 2;
    };
    let child = match Command::new(program).args(args).spawn() {
        Ok(child) => child,
        Err(error) => {
            eprintln!(
                "quack-bench peak-rss: could not start {}: {error}",
                Path::new(program).display()
            );
            return 12;
        }
    };
    match wait_with_usage(&child) {
        Ok((status, peak_kib)) => {
            eprintln!("{PEAK_LINE}{peak_kib}");
            match (status.code(), status.signal()) {
                (Some(code), _) => u8::try_from(code).unwrap_or(1),
                (None, Some(signal)) => u8::try_from(128 + signal).unwrap_or(1),
                (None, None) => 1,
            }
        }
        Err(error) => {
            eprintln!("quack-bench peak-rss: could not wait for the program: {error}");
            12
        }
    }
}

/// Writes the feed and closes the pipe.
fn write_feed(stdin: ChildStdin, feed: &Feed) -> io::Result<()> {
    const LINES_PER_WRITE: usize = 32 * 1024;
    let mut stdin = stdin;
    match feed {
        Feed::Nothing => {}
        Feed::Bytes(bytes) => stdin.write_all(bytes)?,
        Feed::Repeat { line, count } => {
            let chunk = line.repeat(LINES_PER_WRITE);
            let mut left = *count;
            while left > 0 {
                let lines = left.min(LINES_PER_WRITE);
                stdin.write_all(&chunk[..lines * line.len()])?;
                left -= lines;
            }
        }
    }
    stdin.flush()
}

/// What came out on stdout.
struct Lines {
    first_line_after: Option<Duration>,
    lines: usize,
    ok_lines: usize,
    last: Vec<u8>,
    output: Vec<Vec<u8>>,
}

/// Reads `stdout` until it closes, counting lines (and keeping them, when `keep`); `started` is
/// when the process was spawned.
fn read_lines(stdout: impl Read, started: Instant, keep: bool) -> io::Result<Lines> {
    const OK: &[u8] = b"\"status\":\"ok\"";
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut line = Vec::new();
    let mut seen = Lines {
        first_line_after: None,
        lines: 0,
        ok_lines: 0,
        last: Vec::new(),
        output: Vec::new(),
    };
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(seen);
        }
        if line.ends_with(b"\n") {
            line.pop();
        }
        seen.lines += 1;
        if line.windows(OK.len()).any(|window| window == OK) {
            seen.ok_lines += 1;
        }
        if seen.lines == 1 {
            seen.first_line_after = Some(started.elapsed());
        }
        if keep {
            seen.output.push(line.clone());
        }
        std::mem::swap(&mut line, &mut seen.last);
    }
}

/// Waits for `child` with `wait4` (not `Child::wait`, which drops the rusage); returns how it
/// ended and its peak resident memory in KiB.
fn wait_with_usage(child: &Child) -> io::Result<(ExitStatus, f64)> {
    let pid = libc::pid_t::try_from(child.id()).map_err(io::Error::other)?;
    let mut status = 0;
    let mut usage = MaybeUninit::<libc::rusage>::zeroed();
    loop {
        // SAFETY: status and usage are valid for writes; pid is our own child, not yet reaped
        // (nothing else waits for it: the Child is never waited for).
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, usage.as_mut_ptr()) };
        if reaped == pid {
            break;
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
    // SAFETY: wait4 succeeded, so it filled the struct (which started zeroed anyway).
    let usage = unsafe { usage.assume_init() };
    // Linux counts ru_maxrss in KiB; macOS in bytes.
    let peak_kib = if cfg!(target_os = "macos") {
        usage.ru_maxrss as f64 / 1024.0
    } else {
        usage.ru_maxrss as f64
    };
    Ok((ExitStatus::from_raw(status), peak_kib))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_and_the_last_kept() {
        let text = b"{\"status\":\"ok\"}\n{\"status\":\"error\"}\n{\"type\":\"summary\"}\n";
        let seen = read_lines(&text[..], Instant::now(), true).unwrap();
        assert_eq!(seen.output.len(), 3);
        assert!(seen.first_line_after.is_some());
        assert_eq!((seen.lines, seen.ok_lines), (3, 1));
        assert_eq!(seen.last, b"{\"type\":\"summary\"}");
    }

    #[test]
    fn a_jsonl_run_is_checked() {
        let ran = |lines, ok_lines, last: &str| Ran {
            wall: Duration::ZERO,
            peak_mib: None,
            first_line_after: None,
            lines,
            ok_lines,
            last: last.as_bytes().to_vec(),
            output: Vec::new(),
        };
        let summary = r#"{"type":"summary","tasks":2,"ok":2}"#;
        assert!(check_jsonl("test", 2, &ran(3, 2, summary)).is_ok());
        assert!(check_jsonl("test", 2, &ran(2, 2, summary)).is_err());
        assert!(check_jsonl("test", 2, &ran(3, 1, summary)).is_err());
        let named = r#"{"type":"summary","runner":{"mode":"thread","workers":2}}"#;
        assert_eq!(
            runner_of(&ran(1, 0, named)).as_deref(),
            Some("thread, 2 workers")
        );
        let short = r#"{"type":"summary","tasks":2,"ok":1}"#;
        assert!(check_jsonl("test", 2, &ran(3, 2, short)).is_err());
    }
}
