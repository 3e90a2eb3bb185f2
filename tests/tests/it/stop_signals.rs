//! SIGTERM (what `timeout`, `docker stop`, CI cancellation and Slurm send) and SIGHUP are handled
//! like Ctrl-C: running tasks stopped, every task reported (finished ones `ok`, the rest
//! `cancelled`), the report still written, and the exit code 128 + the signal's number.

use quack_tests::{LiveRun, assert_valid_report, plugin_arg, read_report};
use serde_json::Value;

const TASKS: usize = 8;

fn stopped_after_the_first_result(mode: &str, signal: libc::c_int, code: i32) {
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
        "jsonl",
        "--json",
        path.to_str().unwrap(),
    ];
    for _ in 0..TASKS {
        args.extend(["--task", "0.5"]);
    }
    let mut live = LiveRun::start(&args);
    let first: Value = serde_json::from_str(&live.stdout_line().expect("a first result")).unwrap();
    assert_eq!(first["status"], "ok", "{first:#}");
    live.signal(signal);
    let run = live.finish();
    run.expect_code(code);
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
    let report = read_report(&path, &run);
    assert_valid_report(&report);
    let tasks = report["tasks"].as_array().unwrap();
    assert_eq!(
        tasks.len(),
        TASKS,
        "every task is in the report: {report:#}"
    );
    let cancelled = tasks.iter().filter(|t| t["status"] == "cancelled").count();
    let ok = tasks.iter().filter(|t| t["status"] == "ok").count();
    assert_eq!(ok + cancelled, TASKS, "{report:#}");
    assert!(cancelled >= 1, "{report:#}");
    let lines = run.stdout.lines().count();
    assert_eq!(
        lines,
        TASKS + 1,
        "a line per task and the summary: {run:#?}"
    );
    assert!(
        run.stderr.contains(&format!(
            "interrupted: {ok} {} finished, {cancelled} cancelled",
            if ok == 1 { "task" } else { "tasks" }
        )),
        "{run:#?}"
    );
}

#[test]
fn sigterm_in_thread_mode_stops_the_run_with_exit_code_143() {
    stopped_after_the_first_result("thread", libc::SIGTERM, 143);
}

#[test]
fn sigterm_in_process_mode_stops_the_run_with_exit_code_143() {
    stopped_after_the_first_result("process", libc::SIGTERM, 143);
}

#[test]
fn sighup_in_thread_mode_stops_the_run_with_exit_code_129() {
    stopped_after_the_first_result("thread", libc::SIGHUP, 129);
}

#[test]
fn sighup_in_process_mode_stops_the_run_with_exit_code_129() {
    stopped_after_the_first_result("process", libc::SIGHUP, 129);
}
