//! Liveness of worker processes: a worker says it is alive from a thread of its own, so one
//! whose process stops (as when its node dies silently or is cut off) is lost after
//! `--heartbeat-timeout`: stopped, its task crashed and run again with `--retries`, the run goes
//! on; a worker busy with a long task is never taken for lost.

use quack_tests::{assert_valid_report, plugin_arg, run, run_with_report, task_record};
use serde_json::Value;

/// Runs misbehave in process mode on two workers with `options` and `tasks`, within the hang
/// guard.
fn in_workers(options: &[&str], tasks: &[&str]) -> (quack_tests::Run, Value) {
    let plugin = plugin_arg("misbehave");
    let mut args = vec!["run", &plugin, "--mode", "process", "--workers", "2"];
    args.extend(options);
    for task in tasks {
        args.extend(["--task", task]);
    }
    let (run, report) = run_with_report(&args);
    assert_valid_report(&report);
    (run, report)
}

#[test]
fn a_worker_that_goes_silent_is_lost_its_task_crashed_and_run_again() {
    let tasks = ["ok", "freeze", "ok", "ok"];
    let (run, report) = in_workers(&["--heartbeat-timeout", "1s", "--retries", "1"], &tasks);
    run.expect_code(1);
    let frozen = task_record(&report, 1);
    assert_eq!(frozen["status"], "crashed", "{frozen:#}");
    let error = frozen["error"].as_str().unwrap();
    assert!(
        error.contains("went silent for 1s") && error.contains("was stopped"),
        "{error}"
    );
    // Its retry froze too, and was lost the same way.
    let attempts = frozen["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{frozen:#}");
    assert_eq!(attempts[0]["status"], "crashed", "{frozen:#}");
    for id in [0, 2, 3] {
        assert_eq!(task_record(&report, id)["status"], "ok", "{report:#}");
    }
}

#[test]
fn a_worker_busy_with_a_long_task_is_not_lost() {
    // The task takes five times the silence allowed: only the heartbeat keeps its worker.
    let (run, report) = in_workers(&["--heartbeat-timeout", "300ms"], &["sleep:1500", "ok"]);
    run.expect_code(0);
    assert_eq!(task_record(&report, 0)["output"], "slept", "{report:#}");
}

#[test]
fn a_heartbeat_timeout_too_short_to_keep_is_refused() {
    let plugin = plugin_arg("misbehave");
    let result = run(&[
        "run",
        &plugin,
        "--heartbeat-timeout",
        "10ms",
        "--task",
        "ok",
    ]);
    result.expect_code(2);
    assert!(
        result
            .stderr
            .contains("too short for workers to say they are alive"),
        "{result:#?}"
    );
}
