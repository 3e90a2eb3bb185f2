//! The JSON report: written whole, valid against docs/report.schema.json, every task in it.

use quack_tests::{SEED, plugin_arg, report_schema, run};
use serde_json::Value;

fn run_with_report(args: &[&str]) -> (quack_tests::Run, Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let mut full = args.to_vec();
    let path_arg = path.to_str().unwrap().to_owned();
    full.extend(["--json", &path_arg]);
    let result = run(&full);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    (result, report)
}

fn assert_valid(report: &Value) {
    let schema = report_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "the report breaks its schema: {errors:#?}\n{report:#}"
    );
}

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
    assert_valid(&report);
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
    assert_valid(&report);
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
    assert_valid(&report);
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
    result.expect_code(11);
}
