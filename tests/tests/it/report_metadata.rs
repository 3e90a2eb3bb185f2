//! What makes reports comparable: when the run started, the command line, the host name, the
//! host's version and commit, and the plugin file's size and SHA-256, all valid against the schema.

use std::time::{Duration, SystemTime};

use quack_tests::{assert_valid_report, plugin, plugin_arg, run, run_with_report};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Asserts every metadata field of `report`, a run of `plugin_name` started around `before`.
#[track_caller]
fn assert_metadata(report: &Value, plugin_name: &str, before: SystemTime) {
    assert_valid_report(report);
    let started = report["started_at"]
        .as_str()
        .expect("started_at is a string");
    let started = humantime::parse_rfc3339_weak(started)
        .unwrap_or_else(|error| panic!("started_at {started} is not RFC 3339: {error}"));
    let slack = Duration::from_secs(2);
    assert!(
        started + slack >= before && started <= SystemTime::now() + slack,
        "started_at is not when the run started: {report:#}"
    );
    assert!(report["started_at"].as_str().unwrap().ends_with('Z'));

    let path = plugin(plugin_name);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(report["plugin"]["size"], bytes.len() as u64);
    let sha256: String = Sha256::digest(&bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert_eq!(report["plugin"]["sha256"], sha256);

    let host_name = report["machine"]["host_name"].as_str().unwrap();
    assert!(!host_name.is_empty());
    assert_eq!(report["quack_version"], env!("CARGO_PKG_VERSION"));
    // Tests run from a checkout, but a source tarball has no commit to record.
    if let Some(commit) = report.get("quack_commit") {
        let commit = commit.as_str().unwrap();
        let hash = commit.strip_suffix("-dirty").unwrap_or(commit);
        assert!(
            hash.len() >= 4 && hash.chars().all(|c| c.is_ascii_hexdigit()),
            "{commit}"
        );
    }
}

#[test]
fn a_report_records_when_where_and_what_ran() {
    let before = SystemTime::now();
    let (result, report) = run_with_report(&["run", &plugin_arg("factorize"), "--task", "12"]);
    result.expect_code(0);
    assert_metadata(&report, "factorize", before);
    let words: Vec<&str> = report["command_line"]
        .as_array()
        .unwrap()
        .iter()
        .map(|word| word.as_str().unwrap())
        .collect();
    assert!(words[0].ends_with("host"), "{words:?}");
    assert_eq!(
        words[1..5],
        ["run", &plugin_arg("factorize"), "--task", "12"]
    );
    assert_eq!(words[5], "--json");
}

#[test]
fn the_report_on_stdout_and_an_animal_report_have_the_metadata_too() {
    let before = SystemTime::now();
    let result = run(&[
        "run",
        &plugin_arg("factorize"),
        "--task",
        "30",
        "--format",
        "json",
    ]);
    result.expect_code(0);
    let report: Value = serde_json::from_str(&result.stdout).unwrap();
    assert_metadata(&report, "factorize", before);

    let (result, report) = run_with_report(&["run", &plugin_arg("duck")]);
    result.expect_code(0);
    assert_metadata(&report, "duck", before);
}
