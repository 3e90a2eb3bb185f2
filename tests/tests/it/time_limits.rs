//! Time limits and retries: `--timeout` stops a task that hangs (process mode kills and replaces
//! its worker; thread mode abandons and replaces its thread) and the run goes on; `--retries` runs
//! a crashed or timed-out task again and the report keeps the earlier attempts.
//!
//! Every run here is guarded against hangs (quack_tests::HANG_GUARD): "it finished" is all the
//! timing a test asserts.

use std::time::Duration;

use quack_tests::{
    assert_valid_report, plugin_arg, read_report, run_with_report, run_within, task_record,
};
use serde_json::Value;

/// Runs misbehave with `tasks` and `options`, within the hang guard, and returns the run and its
/// report.
fn misbehave(options: &[&str], tasks: &[&str]) -> (quack_tests::Run, Value) {
    let plugin = plugin_arg("misbehave");
    let mut args = vec!["run", &plugin];
    args.extend(options);
    for task in tasks {
        args.extend(["--task", task]);
    }
    let (run, report) = run_with_report(&args);
    assert_valid_report(&report);
    (run, report)
}

/// Asserts every task but `failed` ended `ok` with the output its input asks for.
#[track_caller]
fn others_ok(report: &Value, tasks: &[&str], failed: u64) {
    for (id, task) in tasks.iter().enumerate() {
        if id as u64 == failed {
            continue;
        }
        let record = task_record(report, id as u64);
        assert_eq!(record["status"], "ok", "{record:#}");
        let expected = if task.starts_with("sleep:") {
            "slept"
        } else {
            "ok"
        };
        assert_eq!(record["output"], expected, "{record:#}");
    }
}

/// Asserts `record` timed out after the 300 ms limit and has `attempts` earlier attempts.
#[track_caller]
fn timed_out(record: &Value, attempts: usize) {
    assert_eq!(record["status"], "timeout", "{record:#}");
    assert!(
        record["error"]
            .as_str()
            .unwrap()
            .contains("ran past the time limit of 300ms"),
        "{record:#}"
    );
    let earlier = record
        .get("attempts")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    assert_eq!(earlier, attempts, "{record:#}");
}

#[test]
fn a_hanging_task_in_process_mode_times_out_and_its_worker_is_replaced() {
    // Enough work after the hang that the other worker is still busy when the limit passes, so
    // a replacement is needed (with nothing left to run, none is started).
    let tasks = [
        "ok",
        "hang",
        "ok",
        "sleep:50",
        "ok",
        "sleep:200",
        "sleep:200",
        "sleep:200",
    ];
    let (run, report) = misbehave(
        &["--mode", "process", "--workers", "2", "--timeout", "300ms"],
        &tasks,
    );
    run.expect_code(1);
    timed_out(task_record(&report, 1), 0);
    assert!(
        task_record(&report, 1)["error"]
            .as_str()
            .unwrap()
            .contains("was stopped"),
        "{report:#}"
    );
    others_ok(&report, &tasks, 1);
    assert_eq!(report["summary"]["timeout"], 1);
    assert_eq!(report["summary"]["ok"], 7);
    assert!(
        run.stderr
            .contains("replaced: ran past the time limit of 300ms"),
        "{run:#?}"
    );
}

#[test]
fn a_hanging_task_in_thread_mode_times_out_and_the_run_goes_on() {
    let tasks = ["sleep:1", "hang", "sleep:1", "sleep:50", "sleep:1"];
    let (run, report) = misbehave(
        &["--mode", "thread", "--workers", "2", "--timeout", "300ms"],
        &tasks,
    );
    run.expect_code(1);
    timed_out(task_record(&report, 1), 0);
    others_ok(&report, &tasks, 1);
    assert_eq!(report["summary"]["timeout"], 1);
    assert_eq!(report["summary"]["ok"], 4);
    assert!(run.stderr.contains("replaced: "), "{run:#?}");
}

/// A hanging task with `--retries 1` in `mode`: it times out twice, the report keeps the first
/// attempt, and the task counts once.
fn assert_retried_timeout_keeps_its_first_attempt(mode: &str) {
    let tasks = ["ok", "hang", "ok"];
    let (run, report) = misbehave(
        &[
            "--mode",
            mode,
            "--workers",
            "2",
            "--timeout",
            "300ms",
            "--retries",
            "1",
        ],
        &tasks,
    );
    run.expect_code(1);
    let record = task_record(&report, 1);
    timed_out(record, 1);
    assert_eq!(record["attempts"][0]["status"], "timeout", "{record:#}");
    others_ok(&report, &tasks, 1);
    assert_eq!(report["summary"]["tasks"], 3, "a retried task counts once");
    assert_eq!(report["summary"]["timeout"], 1);
}

#[test]
fn a_retried_timeout_in_process_mode_keeps_its_first_attempt() {
    assert_retried_timeout_keeps_its_first_attempt("process");
}

#[test]
fn a_retried_timeout_in_thread_mode_keeps_its_first_attempt() {
    assert_retried_timeout_keeps_its_first_attempt("thread");
}

#[test]
fn a_retried_crash_keeps_its_first_attempt_with_the_signal() {
    let tasks = ["ok", "segfault", "ok"];
    let (run, report) = misbehave(
        &["--mode", "process", "--workers", "2", "--retries", "1"],
        &tasks,
    );
    run.expect_code(1);
    let record = task_record(&report, 1);
    assert_eq!(record["status"], "crashed", "{record:#}");
    assert!(
        record["error"].as_str().unwrap().contains("SIGSEGV"),
        "{record:#}"
    );
    let attempts = record["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{record:#}");
    assert_eq!(attempts[0]["status"], "crashed", "{record:#}");
    assert!(
        attempts[0]["error"].as_str().unwrap().contains("SIGSEGV"),
        "{record:#}"
    );
    others_ok(&report, &tasks, 1);
    assert_eq!(report["summary"]["crashed"], 1);
}

#[test]
fn a_quick_result_is_reported_even_when_its_threads_next_task_times_out() {
    // Five quick tasks, then one that hangs, all on one thread: the thread holds the quick results
    // in its unsent batch when it starts the hanging task, and they must still be reported.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let plugin = plugin_arg("misbehave");
    let mut args = vec![
        "run",
        &plugin,
        "--mode",
        "thread",
        "--workers",
        "1",
        "--timeout",
        "300ms",
        "--json",
        path.to_str().unwrap(),
    ];
    for task in ["ok", "ok", "ok", "ok", "ok", "hang"] {
        args.extend(["--task", task]);
    }
    let run = run_within(&args, Duration::from_secs(10));
    run.expect_code(1);
    let report = read_report(&path, &run);
    for id in 0..5 {
        assert_eq!(task_record(&report, id)["status"], "ok", "{report:#}");
    }
    timed_out(task_record(&report, 5), 0);
}
