//! Scenario 5: the peak memory of a long JSON Lines stream. The host binary itself runs
//! `host run <factorize> --input - --format jsonl --mode thread --workers 2`, fed `1` lines on its
//! stdin from a thread while its stdout lines are counted and its summary line checked; its peak
//! resident memory comes from `wait4`'s rusage. It is set against the same command with a
//! hundredth of the tasks (flat memory: the two are alike) and `host --version` (the floor). Also
//! the run's tasks per second, end to end.
//!
//! The child is not started from the benchmark process directly: on Linux a process's `ru_maxrss`
//! starts from its parent's high-water mark (`exec` keeps the larger of the old and the new one,
//! and `posix_spawn`'s old memory *is* the parent's), so a child of a benchmark that has run a
//! thousand threads reports the benchmark's peak, not its own. So a small launcher, `host bench
//! --peak-rss -- ARGS` ([`launch_measured`]), starts the host, waits for it with `wait4` and
//! prints the peak on its stderr; the launcher's own few MiB are the floor, as a shell's are.

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

use super::{
    BenchError, Plan, Setup, summarize,
    table::{Comparison, Row, Section, Target, Unit, thousands},
};

const SCENARIO: &str = "memory of a JSON Lines stream";
/// The launcher's last stderr line: this, then the host's peak resident memory in KiB.
const PEAK_LINE: &str = "quack-bench: peak-rss-kib ";

pub(super) fn measure(setup: &Setup, plan: Plan) -> Result<Section, BenchError> {
    let plugin = &setup.factorize.path;
    let count = plan.memory_tasks;
    let small = (count / 100).max(1);
    let (mut peaks, mut rates, mut small_peaks, mut floors) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..plan.memory_repetitions {
        let (peak, elapsed) = stream(plugin, count)?;
        peaks.push(peak);
        rates.push(count as f64 / elapsed.max(Duration::from_nanos(1)).as_secs_f64());
        small_peaks.push(stream(plugin, small)?.0);
        floors.push(version_peak()?);
    }
    let (small_peaks, floors) = (summarize(small_peaks), summarize(floors));
    let mut section = Section::new(format!(
        "5. host run --input - --format jsonl --mode thread --workers 2, {} tasks run(1)",
        thousands(count as u64)
    ));
    section.push(
        Row::new("peak resident memory", Unit::Mebibytes, summarize(peaks))
            .target(Target::at_most(64.0))
            .against(Comparison::here(
                format!("same with {} tasks", thousands(small as u64)),
                small_peaks.median,
                Unit::Mebibytes,
            ))
            .against(Comparison::here(
                "host --version",
                floors.median,
                Unit::Mebibytes,
            )),
    );
    section.push(Row::new(
        "tasks per second, spawn to exit",
        Unit::TasksPerSecond,
        summarize(rates),
    ));
    section.note(
        "peak RSS of the host process from wait4's rusage (ru_maxrss), taken by a small launcher \
         so that the benchmark's own peak does not leak into it; stdout lines counted and the \
         summary line checked",
    );
    Ok(section)
}

/// Streams `count` tasks `1` through `host run`, checks what comes out; its peak resident
/// memory in MiB and the time from spawning it to its exit.
fn stream(plugin: &Path, count: usize) -> Result<(f64, Duration), BenchError> {
    let mut args: Vec<OsString> = vec!["run".into(), plugin.into()];
    args.extend(
        [
            "--input",
            "-",
            "--format",
            "jsonl",
            "--mode",
            "thread",
            "--workers",
            "2",
        ]
        .map(OsString::from),
    );
    let what = format!("host run {} --format jsonl", plugin.display());
    let started = Instant::now();
    let ran = measured_host(&what, &args, Some(count))?;
    let elapsed = started.elapsed();
    check(count, ran.lines, &ran.last)?;
    Ok((ran.peak_kib / 1024.0, elapsed))
}

/// The peak resident memory of `host --version`, in MiB: the floor of the measurement.
fn version_peak() -> Result<f64, BenchError> {
    let ran = measured_host("host --version", &["--version".into()], None)?;
    Ok(ran.peak_kib / 1024.0)
}

/// What a measured host process did.
struct Ran {
    /// Its peak resident memory, in KiB.
    peak_kib: f64,
    /// How many lines it wrote on stdout.
    lines: usize,
    /// Its last stdout line.
    last: Vec<u8>,
}

/// Runs the host with `args` through the launcher, feeding it `feed` lines `1` (or nothing), and
/// counts its stdout lines.
fn measured_host(what: &str, args: &[OsString], feed: Option<usize>) -> Result<Ran, BenchError> {
    let failed = |source| BenchError::Process {
        what: format!("could not run {what}"),
        source,
    };
    let exe = std::env::current_exe().map_err(failed)?;
    let mut child = Command::new(exe)
        .args(["bench", "--peak-rss", "--"])
        .args(args)
        .stdin(if feed.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(failed)?;
    let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(failed(io::Error::other("its pipes could not be set up")));
    };
    let stdin = child.stdin.take();
    let count = feed.unwrap_or(0);
    let writer = thread::spawn(move || stdin.map_or(Ok(()), |stdin| feed_ones(stdin, count)));
    let errors = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let read = count_lines(stdout);
    if read.is_err() {
        let _ = child.kill();
    }
    let waited = child.wait();
    let written = writer.join();
    let stderr = errors.join().unwrap_or_default();
    let status = waited.map_err(failed)?;
    if !status.success() {
        let last = stderr
            .lines()
            .rfind(|line| !line.starts_with(PEAK_LINE))
            .unwrap_or_default();
        return Err(BenchError::ChildFailed {
            what: what.to_owned(),
            status,
            stderr: if last.is_empty() {
                String::new()
            } else {
                format!(": {last}")
            },
        });
    }
    let (lines, last) = read.map_err(failed)?;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(error)) => return Err(failed(error)),
        Err(_) => return Err(failed(io::Error::other("the thread feeding it panicked"))),
    }
    let peak_kib = stderr
        .lines()
        .find_map(|line| line.strip_prefix(PEAK_LINE)?.trim().parse::<f64>().ok())
        .ok_or_else(|| failed(io::Error::other("its launcher reported no peak memory")))?;
    Ok(Ran {
        peak_kib,
        lines,
        last,
    })
}

/// `host bench --peak-rss -- ARGS`: runs the host with ARGS on this process's standard streams,
/// waits for it with `wait4`, prints its peak resident memory on stderr ([`PEAK_LINE`]) and
/// returns its exit code (128 + the signal, if one ended it).
pub fn launch_measured(args: &[OsString]) -> u8 {
    let spawned = std::env::current_exe().and_then(|exe| Command::new(exe).args(args).spawn());
    let child = match spawned {
        Ok(child) => child,
        Err(error) => {
            eprintln!("host bench --peak-rss: could not start the host: {error}");
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
            eprintln!("host bench --peak-rss: could not wait for the host: {error}");
            12
        }
    }
}

/// Writes `count` lines `1` and closes the pipe.
fn feed_ones(stdin: ChildStdin, count: usize) -> io::Result<()> {
    const LINES_PER_WRITE: usize = 32 * 1024;
    let chunk = b"1\n".repeat(LINES_PER_WRITE);
    let mut stdin = stdin;
    let mut left = count;
    while left > 0 {
        let lines = left.min(LINES_PER_WRITE);
        stdin.write_all(&chunk[..lines * 2])?;
        left -= lines;
    }
    stdin.flush()
}

/// Counts the lines of `stdout` until it closes; returns the count and the last line.
fn count_lines(stdout: impl Read) -> io::Result<(usize, Vec<u8>)> {
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut line = Vec::new();
    let mut last = Vec::new();
    let mut lines = 0;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok((lines, last));
        }
        lines += 1;
        std::mem::swap(&mut line, &mut last);
    }
}

/// One line per task and a summary line saying every task ended ok.
fn check(count: usize, lines: usize, last: &[u8]) -> Result<(), BenchError> {
    let wrong = |detail| BenchError::WrongResult {
        scenario: SCENARIO,
        detail,
    };
    if lines != count + 1 {
        return Err(wrong(format!(
            "{lines} lines came out for {count} tasks, not {}",
            count + 1
        )));
    }
    let summary: Value = serde_json::from_slice(last)
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
