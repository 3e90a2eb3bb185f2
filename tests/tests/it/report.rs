//! The JSON report: written whole, valid against docs/report.schema.json, every task in it.

use quack_tests::{SEED, assert_valid_report, plugin_arg, run, run_with_report};

#[test]
fn the_report_holds_every_seed_task_and_matches_its_schema() {
    let (result, report) = run_with_report(&[
        "run",
        &plugin_arg("factorize"),
        "--mode",
        "thread",
        "--workers",
        "2",
    ]);
    result.expect_code(0);
    assert_valid_report(&report);
    let tasks = report["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 4);
    for (task, (n, divisors)) in tasks.iter().zip(SEED) {
        assert_eq!(task["input"], n);
        assert_eq!(task["status"], "ok");
        assert_eq!(task["output"], serde_json::json!(divisors));
    }
    assert_eq!(report["runner"]["mode"], "thread");
    assert_eq!(report["runner"]["workers"], 2);
    assert!(
        report["runner"]["reason"]
            .as_str()
            .unwrap()
            .contains("--workers 2")
    );
    assert_eq!(report["summary"]["ok"], 4);
    assert_eq!(report["plugin"]["name"], "factorize");
}

#[test]
fn failed_tasks_are_in_the_report_with_their_errors() {
    let (result, report) = run_with_report(&[
        "run",
        &plugin_arg("factorize"),
        "--task",
        "6",
        "--task",
        "0",
    ]);
    result.expect_code(1);
    assert_valid_report(&report);
    let tasks = report["tasks"].as_array().unwrap();
    assert_eq!(tasks[0]["output"], serde_json::json!([1, 2, 3, 6]));
    assert_eq!(tasks[1]["status"], "error");
    assert!(tasks[1]["error"].as_str().unwrap().contains("0"));
    assert_eq!(report["summary"]["error"], 1);
}

#[test]
fn an_animal_run_writes_a_report_too() {
    let (result, report) = run_with_report(&["run", &plugin_arg("duck"), "--set", "name=Donald"]);
    result.expect_code(0);
    assert_valid_report(&report);
    assert_eq!(report["tasks"][0]["output"]["line"], "Donald said Quack!");
}

#[test]
fn a_report_that_cannot_be_written_is_an_error_of_its_own() {
    let result = run(&[
        "run",
        &plugin_arg("duck"),
        "--json",
        "/no/such/dir/report.json",
    ]);
    result.expect_code(22);
}

#[test]
fn a_process_mode_report_with_every_failure_matches_its_schema() {
    // Crashes, a timeout, retries (earlier attempts) and a panic, all from worker processes.
    let (result, report) = run_with_report(&[
        "run",
        &plugin_arg("misbehave"),
        "--mode",
        "process",
        "--workers",
        "2",
        "--timeout",
        "300ms",
        "--retries",
        "1",
        "--task",
        "ok",
        "--task",
        "error",
        "--task",
        "panic",
        "--task",
        "segfault",
        "--task",
        "hang",
        "--task",
        "exit3",
        "--task",
        "ok",
    ]);
    result.expect_code(1);
    assert_valid_report(&report);
    assert_eq!(report["runner"]["mode"], "process");
    let statuses: Vec<&str> = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|task| task["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "ok", "error", "error", "crashed", "timeout", "crashed", "ok"
        ],
        "{report:#}"
    );
    for id in [3, 4, 5] {
        assert_eq!(
            report["tasks"][id]["attempts"].as_array().map(Vec::len),
            Some(1),
            "{report:#}"
        );
    }
}
