//! `host compare` on pairs of real reports written by running the host: no change, a status that
//! got worse (and better), a task slower than the threshold, another plugin (refused unless
//! --force), a report of an older host, the JSON form, and the files it refuses.

use std::path::{Path, PathBuf};

use quack_tests::{HANG_GUARD, Run, assert_valid_report, plugin_arg, run, run_within};
use serde_json::{Value, json};
use tempfile::TempDir;

/// Runs `host run PLUGIN ARGS --json DIR/NAME` and returns the report's path.
fn report(dir: &TempDir, name: &str, plugin: &str, args: &[&str]) -> PathBuf {
    let path = dir.path().join(name);
    let plugin = plugin_arg(plugin);
    let path_arg = path.to_str().unwrap();
    let mut full = vec!["run", plugin.as_str()];
    full.extend(args);
    full.extend(["--json", path_arg]);
    let result = run_within(&full, HANG_GUARD);
    assert!(path.exists(), "no report written: {result:#?}");
    path
}

fn compare(old: &Path, new: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["compare", old.to_str().unwrap(), new.to_str().unwrap()];
    args.extend(extra);
    run(&args)
}

fn verdict(result: &Run) -> &str {
    result
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("verdict: "))
        .unwrap_or_else(|| panic!("no verdict line: {result:#?}"))
}

/// factorize on numbers small enough to take microseconds: their times are under the noise floor.
const SMALL: &[&str] = &["--task", "12", "--task", "30", "--task", "97"];

#[test]
fn the_same_tasks_twice_are_no_change() {
    let dir = tempfile::tempdir().unwrap();
    let old = report(&dir, "old.json", "factorize", SMALL);
    let new = report(&dir, "new.json", "factorize", SMALL);
    let result = compare(&old, &new, &[]);
    result.expect_code(0);
    assert_eq!(verdict(&result), "no change", "{result:#?}");
    // The summaries side by side, with ratios for the times.
    for row in ["wall", "cpu", "tasks/s", "tasks", "ok"] {
        assert!(
            result
                .stdout
                .lines()
                .any(|line| line.trim_start().starts_with(row)),
            "no {row} row: {result:#?}"
        );
    }
    assert!(result.stdout.contains('x'), "{result:#?}");
    // Tiny tasks are not judged on time, and the comparison says so.
    assert!(
        result
            .stdout
            .contains("note: 3 tasks took under 1.0 ms in both runs"),
        "{result:#?}"
    );
    assert!(!result.stderr.contains("warning"), "{result:#?}");
}

#[test]
fn a_task_whose_status_got_worse_is_a_regression_and_the_reverse_an_improvement() {
    let dir = tempfile::tempdir().unwrap();
    let good = report(
        &dir,
        "good.json",
        "misbehave",
        &["--task", "ok", "--task", "ok"],
    );
    let bad = report(
        &dir,
        "bad.json",
        "misbehave",
        &["--task", "ok", "--task", "error"],
    );
    let worse = compare(&good, &bad, &[]);
    worse.expect_code(1);
    assert_eq!(
        verdict(&worse),
        "regressed: 1 task changed status",
        "{worse:#?}"
    );
    assert!(worse.stdout.contains("task 1  ok -> error"), "{worse:#?}");
    // Tasks are matched by id; different inputs are worth a warning.
    assert!(
        worse.stderr.contains(
            "warning: task 1's input differs (\"ok\" in the old report, \"error\" in the new)"
        ),
        "{worse:#?}"
    );

    let better = compare(&bad, &good, &[]);
    better.expect_code(0);
    assert_eq!(verdict(&better), "improved: 1 task now ok", "{better:#?}");
}

#[test]
fn a_bad_input_that_fails_its_task_is_a_regression() {
    let dir = tempfile::tempdir().unwrap();
    let old = report(&dir, "old.json", "factorize", &["--task", "12"]);
    let new = report(&dir, "new.json", "factorize", &["--task", "\"abc\""]);
    let result = compare(&old, &new, &[]);
    result.expect_code(1);
    assert!(verdict(&result).starts_with("regressed: 1 task changed status"));
}

#[test]
fn a_task_slower_than_the_threshold_is_a_regression() {
    let dir = tempfile::tempdir().unwrap();
    let fast = report(&dir, "fast.json", "slow_io", &["--task", "0.01"]);
    let slow = report(&dir, "slow.json", "slow_io", &["--task", "0.2"]);
    let result = compare(&fast, &slow, &["--threshold", "10%"]);
    result.expect_code(1);
    let said = verdict(&result);
    assert!(said.starts_with("regressed: "), "{result:#?}");
    assert!(
        said.contains("1 task slower by more than 10%"),
        "{result:#?}"
    );
    assert!(
        result.stdout.contains("slower by more than 10% (1):"),
        "{result:#?}"
    );

    // The other way round it is faster; the output (slow-io returns its input) still changed.
    let back = compare(&slow, &fast, &["--threshold", "10%"]);
    back.expect_code(1);
    assert!(
        verdict(&back).contains("improved: 1 task faster by more than 10%"),
        "{back:#?}"
    );
}

#[test]
fn reports_of_another_plugin_are_refused_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let factorize = report(&dir, "f.json", "factorize", &["--task", "12"]);
    let slow_io = report(&dir, "s.json", "slow_io", &["--task", "0.001"]);
    let refused = compare(&factorize, &slow_io, &[]);
    refused.expect_code(20);
    let line = refused.one_error_line();
    assert!(
        line.contains("factorize") && line.contains("slow-io") && line.contains("--force"),
        "{line}"
    );

    let forced = compare(&factorize, &slow_io, &["--force"]);
    assert_ne!(forced.code, Some(20), "{forced:#?}");
    assert!(
        forced
            .stderr
            .contains("warning: the reports are of different plugins (factorize and slow-io)"),
        "{forced:#?}"
    );
    verdict(&forced);
}

/// A report as hosts before the metadata wrote it: no started_at, command_line, quack_commit,
/// plugin size or sha256, host name, or not_run in the summary.
fn old_format_report() -> Value {
    json!({
        "format_version": 1,
        "quack_version": "0.1.0",
        "plugin": {
            "path": "plugins/libfactorize.so",
            "name": "factorize",
            "version": "0.1.0",
            "abi_version": "1.0.0",
            "hint": "cpu",
            "methods": [{"name": "run", "params": ["Task"], "result": "[u64]"}],
            "interfaces": ["Workload", "Splittable"]
        },
        "config": {},
        "runner": {"mode": "inline", "workers": 1, "reason": "inline: few tasks"},
        "machine": {"cores": 2, "os": "linux", "arch": "x86_64"},
        "tasks": [
            {"id": 0, "input": 12, "status": "ok", "output": [1, 2, 3, 4, 6, 12],
             "worker": 0, "start_seconds": 0.0, "duration_seconds": 0.00002},
            {"id": 1, "input": 30, "status": "ok", "output": [1, 2, 3, 5, 6, 10, 15, 30],
             "worker": 0, "start_seconds": 0.00003, "duration_seconds": 0.00002},
            {"id": 2, "input": 97, "status": "ok", "output": [1, 97],
             "worker": 0, "start_seconds": 0.00006, "duration_seconds": 0.00002}
        ],
        "summary": {
            "tasks": 3, "ok": 3, "error": 0, "crashed": 0, "timeout": 0, "cancelled": 0,
            "wall_seconds": 0.0001, "cpu_seconds": 0.0001, "tasks_per_second": 30000.0
        }
    })
}

#[test]
fn a_report_of_an_older_host_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let old_report = old_format_report();
    // Old reports are still valid against the schema.
    assert_valid_report(&old_report);
    let old = dir.path().join("old.json");
    std::fs::write(&old, serde_json::to_string_pretty(&old_report).unwrap()).unwrap();
    let new = report(&dir, "new.json", "factorize", SMALL);
    let result = compare(&old, &new, &[]);
    result.expect_code(0);
    assert_eq!(verdict(&result), "no change", "{result:#?}");
    // Both ways round.
    compare(&new, &old, &[]).expect_code(0);
}

#[test]
fn the_json_form_parses_and_says_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let old = report(
        &dir,
        "old.json",
        "misbehave",
        &["--task", "ok", "--task", "ok"],
    );
    let new = report(
        &dir,
        "new.json",
        "misbehave",
        &["--task", "ok", "--task", "error"],
    );
    let result = compare(&old, &new, &["--format", "json"]);
    result.expect_code(1);
    let comparison: Value = serde_json::from_str(&result.stdout)
        .unwrap_or_else(|error| panic!("not JSON ({error}): {result:#?}"));
    assert_eq!(comparison["verdict"], "regressed");
    assert_eq!(comparison["message"], "regressed: 1 task changed status");
    assert_eq!(comparison["status_changed"][0]["id"], 1);
    assert_eq!(comparison["status_changed"][0]["old"], "ok");
    assert_eq!(comparison["status_changed"][0]["new"], "error");
    assert_eq!(comparison["old"]["plugin"], "misbehave");
    assert_eq!(comparison["threshold_percent"], 10.0);
    let summary = comparison["summary"].as_array().unwrap();
    let ok = summary.iter().find(|row| row["name"] == "ok").unwrap();
    assert_eq!((ok["old"].as_u64(), ok["new"].as_u64()), (Some(2), Some(1)));
    let wall = summary
        .iter()
        .find(|row| row["name"] == "wall_seconds")
        .unwrap();
    assert!(wall["ratio"].is_number(), "{comparison:#}");
}

#[test]
fn files_that_are_not_reports_are_refused_each_with_its_own_code() {
    let dir = tempfile::tempdir().unwrap();
    let good = report(&dir, "good.json", "factorize", &["--task", "12"]);
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let not_json = write("not.json", "{\"format_version\": 1,");
    let not_a_report = write("other.json", "{\"name\": \"package.json\"}");
    let mut future =
        serde_json::from_str::<Value>(&std::fs::read_to_string(&good).unwrap()).unwrap();
    future["format_version"] = json!(2);
    let future = write("future.json", &future.to_string());
    let missing = dir.path().join("missing.json");
    for (path, code, words) in [
        (&missing, 16, "cannot read the report"),
        (&not_json, 17, "is not JSON"),
        (&not_a_report, 18, "is JSON but not a Quack report"),
        (&future, 19, "format version 2, newer than"),
    ] {
        for (old, new) in [(path, &good), (&good, path)] {
            let result = compare(old, new, &[]);
            result.expect_code(code);
            let line = result.one_error_line();
            assert!(line.contains(words), "{line}");
            assert!(line.contains(path.to_str().unwrap()), "{line}");
        }
    }
}

#[test]
fn a_fifo_or_a_device_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("old.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for path in [fifo.to_str().unwrap(), "/dev/zero"] {
        let result = quack_tests::run_within(&["compare", path, path], quack_tests::HANG_GUARD);
        result.expect_code(16);
        assert!(
            result.stderr.contains("it is not a regular file"),
            "{result:#?}"
        );
    }
}

#[test]
fn a_report_with_a_task_id_twice_is_refused() {
    // A crashed task whose id appears again as ok would otherwise hide behind its twin.
    let dir = tempfile::tempdir().unwrap();
    let good = report(&dir, "good.json", "factorize", SMALL);
    let mut doubled: Value = serde_json::from_slice(&std::fs::read(&good).unwrap()).unwrap();
    let tasks = doubled["tasks"].as_array_mut().unwrap();
    let mut twin = tasks[0].clone();
    twin["status"] = json!("crashed");
    twin["error"] = json!("worker 0 died of SIGSEGV");
    twin.as_object_mut().unwrap().remove("output");
    tasks.push(twin);
    let doubled_path = dir.path().join("doubled.json");
    std::fs::write(&doubled_path, serde_json::to_vec(&doubled).unwrap()).unwrap();
    for (old, new) in [(&good, &doubled_path), (&doubled_path, &good)] {
        let result = compare(old, new, &[]);
        result.expect_code(18);
        assert!(
            result.stderr.contains("doubled.json")
                && result.stderr.contains("task id 0 appears more than once"),
            "{result:#?}"
        );
        assert!(result.stdout.is_empty(), "{result:#?}");
    }
}

#[test]
fn a_report_of_a_gigabyte_is_refused_before_it_is_read() {
    // A sparse file: a gibibyte long, and no disk or memory spent on it unless it is read.
    let dir = tempfile::tempdir().unwrap();
    let good = report(&dir, "good.json", "factorize", SMALL);
    let huge = dir.path().join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    for (old, new) in [(&huge, &good), (&good, &huge)] {
        let result = compare(old, new, &[]);
        result.expect_code(23);
        let line = result.one_error_line();
        assert!(
            line.contains("huge.json is 1073741824 bytes, larger than the 268435456 bytes"),
            "{result:#?}"
        );
        assert!(result.stdout.is_empty(), "{result:#?}");
    }
}
