//! A reader of stdout that goes away (`host run ... | head -1`) stops the run: no more tasks are
//! handed out, the workers are stopped, and the host ends as a shell tool ends on SIGPIPE: quietly,
//! exit code 141 (128 + SIGPIPE). A `--json` file is still written, the tasks that did not finish
//! `cancelled`, saying why. The same holds for a reporter of the library's `Run` that says stop.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Child, Stdio},
    thread,
    time::{Duration, Instant},
};

use quack_host::{
    plugin::LoadedPlugin,
    runner::{Event, EventKind, Flow, Mode, Quit, Run, RunEnd, Status, Task},
};
use quack_tests::{
    HANG_GUARD, Run as Finished, assert_valid_report, host, plugin_arg, read_report,
};
use serde_json::{Value, json};

/// Tasks of half a second on two workers: a run to the end finishes every one of them, a stopped
/// run at most the first few.
const TASKS: usize = 8;

/// Runs `host run slow_io` in `mode` with `format` on stdout and a `--json` file, reads `lines`
/// lines of stdout as `head -n` does and closes the pipe; returns how the host ended and its
/// report.
fn head(lines: usize, mode: &str, format: &str) -> (Finished, Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let plugin = plugin_arg("slow_io");
    let mut args = vec![
        "run",
        &plugin,
        "--mode",
        mode,
        "--workers",
        "2",
        "--format",
        format,
        "--json",
        path.to_str().unwrap(),
    ];
    for _ in 0..TASKS {
        args.extend(["--task", "0.5"]);
    }
    let mut child = host(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let stderr = thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    for _ in 0..lines {
        assert_ne!(stdout.read_line(&mut first).unwrap(), 0, "a line on stdout");
    }
    // `head` leaves: the read end of the pipe closes.
    drop(stdout);
    let code = wait(&mut child);
    let run = Finished {
        code,
        stdout: first,
        stderr: stderr.join().unwrap(),
    };
    let report = read_report(&path, &run);
    (run, report)
}

/// Waits for `child` to exit (killing it and failing past the hang guard).
fn wait(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the host did not end after its reader went away");
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// The run stopped quietly with exit code 141, and the report has every task, not all of them
/// run: those that did not finish are `cancelled` because the output was closed.
fn assert_stopped_quietly(lines: usize, mode: &str, format: &str) {
    let (run, report) = head(lines, mode, format);
    run.expect_code(141);
    let stderr: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| !line.starts_with("runner: "))
        .collect();
    assert!(
        stderr.is_empty(),
        "{mode} {format}: nothing on stderr: {run:#?}"
    );
    assert_valid_report(&report);
    let tasks = report["tasks"].as_array().unwrap();
    assert_eq!(
        tasks.len(),
        TASKS,
        "every task is in the report: {report:#}"
    );
    let ok = tasks.iter().filter(|task| task["status"] == "ok").count();
    let cancelled: Vec<&Value> = tasks
        .iter()
        .filter(|task| task["status"] == "cancelled")
        .collect();
    assert_eq!(ok + cancelled.len(), TASKS, "{report:#}");
    assert!(
        ok >= lines.min(1) && ok < TASKS / 2,
        "{mode} {format}: the run stopped, not ran to the end: {ok} ok: {report:#}"
    );
    for task in cancelled {
        let error = task["error"].as_str().unwrap();
        assert!(
            error.contains("output was closed"),
            "{mode} {format}: the report says why: {task:#}"
        );
    }
}

#[test]
fn head_one_on_json_lines_stops_an_inline_run_with_exit_code_141() {
    assert_stopped_quietly(1, "inline", "jsonl");
}

#[test]
fn head_one_on_json_lines_stops_a_thread_run_with_exit_code_141() {
    assert_stopped_quietly(1, "thread", "jsonl");
}

#[test]
fn head_one_on_json_lines_stops_a_process_run_with_exit_code_141() {
    assert_stopped_quietly(1, "process", "jsonl");
}

#[test]
fn head_one_on_the_table_stops_the_run_in_every_mode() {
    for mode in ["inline", "thread", "process"] {
        assert_stopped_quietly(1, mode, "human");
    }
}

/// `--format json` writes the report whole at the end (in thread mode): a reader that leaves
/// before it (`| head -c0`) stops the run too.
#[test]
fn a_reader_of_the_json_report_that_leaves_stops_the_run() {
    assert_stopped_quietly(0, "thread", "json");
}

/// Without `-q` the host says nothing more than when the run starts: no error, no "report
/// written", no "stopping".
#[test]
fn a_closed_stdout_adds_nothing_to_stderr() {
    let (run, _) = head(1, "process", "jsonl");
    run.expect_code(141);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{run:#?}");
    assert!(lines[0].starts_with("runner: "), "{run:#?}");
}

/// A reporter of the library's `Run` that says stop after the first result ends the run there:
/// `RunEnd::Stopped`, the tasks not finished `cancelled`.
#[test]
fn a_reporter_that_says_stop_ends_the_run() {
    let plugin = LoadedPlugin::load(&quack_tests::plugin("slow_io")).unwrap();
    for mode in [Mode::Inline, Mode::Thread] {
        let run = Run::new(plugin.clone()).mode(Some(mode)).workers(Some(2));
        let mut tasks = (0..TASKS as u64).map(|id| Task::new(id, json!(0.2)));
        let mut records = Vec::new();
        let outcome = run.execute(&mut tasks, &mut |event: &Event| match &event.kind {
            EventKind::TaskFinished(record) => {
                records.push(record.status);
                Flow::Stop(Quit::OutputClosed)
            }
            _ => Flow::Continue,
        });
        assert_eq!(outcome.end, RunEnd::Stopped(Quit::OutputClosed), "{mode:?}");
        assert_eq!(
            records.len(),
            TASKS,
            "every task has its record: {records:?}"
        );
        let ok = records.iter().filter(|s| **s == Status::Ok).count();
        assert!((1..TASKS / 2).contains(&ok), "{mode:?}: {records:?}");
        assert_eq!(outcome.summary.cancelled as usize, TASKS - ok, "{mode:?}");
    }
}
