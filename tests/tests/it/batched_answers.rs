//! Process mode's workers on this machine send their answers in batches (several tasks per
//! frame each way): a crash or a time limit in the middle of a batch is the running task's alone.
//! The tasks the worker finished but had not answered yet, and those queued behind the running
//! one, run again on its replacement, unblamed: every task ends with one record, once.

use quack_tests::{assert_valid_report, plugin_arg, run_with_report, task_record};
use serde_json::Value;

/// Trivial tasks on each side of the faulty one: enough for the window to grow to many tasks in
/// flight, so that the fault lands in the middle of a batch.
const AROUND: usize = 400;

/// Runs `fault` between [`AROUND`] trivial tasks on either side on one worker process, with
/// `options`, and checks the report: the fault's record is `status`, every other task is `ok`
/// exactly once.
fn fault_in_a_batch(fault: &str, options: &[&str], status: &str) -> Value {
    let plugin = plugin_arg("misbehave");
    let mut args = vec!["run", &plugin, "--mode", "process", "--workers", "1"];
    args.extend(options);
    let tasks: Vec<&str> = std::iter::repeat_n("ok", AROUND)
        .chain([fault])
        .chain(std::iter::repeat_n("ok", AROUND))
        .collect();
    for task in &tasks {
        args.extend(["--task", task]);
    }
    let (run, report) = run_with_report(&args);
    run.expect_code(1);
    assert_valid_report(&report);
    let records = report["tasks"].as_array().unwrap();
    assert_eq!(records.len(), tasks.len(), "one record per task: {run:#?}");
    for id in 0..tasks.len() as u64 {
        let record = task_record(&report, id);
        if id == AROUND as u64 {
            assert_eq!(record["status"], status, "{record:#}");
        } else {
            assert_eq!(record["status"], "ok", "{record:#}");
            assert_eq!(record["output"], "ok", "{record:#}");
            assert!(record.get("attempts").is_none(), "{record:#}");
        }
    }
    let summary = &report["summary"];
    assert_eq!(summary["ok"], Value::from(2 * AROUND), "{summary:#}");
    report
}

#[test]
fn a_crash_in_the_middle_of_a_batch_is_the_running_tasks_alone() {
    let report = fault_in_a_batch("segfault", &[], "crashed");
    let record = task_record(&report, AROUND as u64);
    assert!(
        record["error"].as_str().unwrap().contains("SIGSEGV"),
        "{record:#}"
    );
    assert_eq!(report["summary"]["crashed"], 1, "{:#}", report["summary"]);
}

#[test]
fn a_worker_that_exits_in_the_middle_of_a_batch_costs_only_its_running_task() {
    let report = fault_in_a_batch("exit0", &[], "crashed");
    assert_eq!(report["summary"]["crashed"], 1, "{:#}", report["summary"]);
}

#[test]
fn a_time_limit_in_the_middle_of_a_batch_stops_the_task_that_ran_past_it_alone() {
    let report = fault_in_a_batch("hang", &["--timeout", "300ms"], "timeout");
    let record = task_record(&report, AROUND as u64);
    assert!(
        record["error"]
            .as_str()
            .unwrap()
            .contains("ran past the time limit of 300ms"),
        "{record:#}"
    );
    assert_eq!(report["summary"]["timeout"], 1, "{:#}", report["summary"]);
}

/// Runs an error between [`AROUND`] trivial tasks on either side on one worker process with
/// `--max-fail most`, and returns the run's report.
fn error_in_a_batch(most: &str) -> Value {
    let plugin = plugin_arg("misbehave");
    let mut args = vec![
        "run",
        &plugin,
        "--mode",
        "process",
        "--workers",
        "1",
        "--max-fail",
        most,
    ];
    let tasks: Vec<&str> = std::iter::repeat_n("ok", AROUND)
        .chain(["error"])
        .chain(std::iter::repeat_n("ok", AROUND))
        .collect();
    for task in &tasks {
        args.extend(["--task", task]);
    }
    let (run, report) = run_with_report(&args);
    run.expect_code(1);
    assert_valid_report(&report);
    assert_eq!(task_record(&report, AROUND as u64)["status"], "error");
    report
}

#[test]
fn with_max_fail_no_task_queued_behind_the_failure_that_stops_the_run_starts() {
    let report = error_in_a_batch("1");
    for id in 0..AROUND as u64 {
        assert_eq!(task_record(&report, id)["status"], "ok");
    }
    for id in AROUND as u64 + 1..2 * AROUND as u64 + 1 {
        let record = task_record(&report, id);
        let status = record["status"].as_str().unwrap();
        assert!(
            status == "not-run" || status == "cancelled",
            "nothing after the failure ran: {record:#}"
        );
        assert!(record.get("output").is_none(), "{record:#}");
    }
    assert_eq!(
        report["summary"]["ok"], AROUND as u64,
        "{:#}",
        report["summary"]
    );
}

#[test]
fn with_max_fail_above_the_failures_the_worker_goes_on_after_each() {
    let report = error_in_a_batch("2");
    assert_eq!(
        report["summary"]["ok"],
        2 * AROUND as u64,
        "{:#}",
        report["summary"]
    );
}
