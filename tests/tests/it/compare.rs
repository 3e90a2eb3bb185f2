//! `host compare` on real reports written by running the host (statuses, outputs and inputs, which
//! are deterministic) and on made-up reports with chosen times (so that the judgement of times is
//! deterministic): noise is no change, a slowdown in every sample beyond the threshold regresses,
//! one report a side counts only a change far beyond the noise, a task with another input is a
//! different input, several reports a side, stdin, the JSON and Markdown forms, colour, `-q`,
//! another plugin (refused unless --force), a report of an older host, and the files it refuses.

use std::{
    fs::File,
    path::{Path, PathBuf},
};

use quack_tests::{HANG_GUARD, Run, assert_valid_report, host, plugin_arg, run, run_within};
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
    // One report a side: the times are shown with their ratio but not judged.
    assert!(result.stdout.contains(" times "), "{result:#?}");
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
fn a_task_with_another_input_is_a_different_input_never_a_changed_output() {
    let dir = tempfile::tempdir().unwrap();
    // slow-io returns its input: another input is another output, and another time.
    let fast = report(&dir, "fast.json", "slow_io", &["--task", "0.01"]);
    let slow = report(&dir, "slow.json", "slow_io", &["--task", "0.2"]);
    let result = compare(&fast, &slow, &[]);
    result.expect_code(0);
    assert_eq!(verdict(&result), "no change", "{result:#?}");
    assert!(!result.stdout.contains("output changed"), "{result:#?}");
    assert!(
        result
            .stdout
            .contains("different input (1), judged on status only:\n  task 0  0.01 -> 0.2"),
        "{result:#?}"
    );
    assert!(
        result
            .stdout
            .contains("note: the run's times are not judged: the sides ran different tasks"),
        "{result:#?}"
    );
}

/// A made-up report of factorize: task 0 (input 12, ok) took `task_seconds`, the run `wall`.
fn made_up(task_seconds: f64, wall: f64) -> Value {
    json!({
        "format_version": 1,
        "quack_version": "0.1.0",
        "plugin": {"path": "plugins/libfactorize.so", "name": "factorize", "version": "0.1.0"},
        "runner": {"mode": "thread", "workers": 2},
        "tasks": [
            {"id": 0, "input": 12, "status": "ok", "output": [1, 2, 3, 4, 6, 12],
             "worker": 0, "start_seconds": 0.0, "duration_seconds": task_seconds}
        ],
        "summary": {
            "tasks": 1, "ok": 1, "error": 0, "crashed": 0, "timeout": 0, "cancelled": 0,
            "wall_seconds": wall, "cpu_seconds": task_seconds, "tasks_per_second": 1.0 / wall
        }
    })
}

/// Writes made-up reports `NAME-0.json`... whose times are `seconds` scaled by each factor of
/// `jitter`, and returns their paths.
fn samples(dir: &TempDir, name: &str, seconds: f64, jitter: &[f64]) -> Vec<String> {
    jitter
        .iter()
        .enumerate()
        .map(|(index, factor)| {
            let path = dir.path().join(format!("{name}-{index}.json"));
            let report = made_up(seconds * factor, seconds * factor * 1.2);
            std::fs::write(&path, report.to_string()).unwrap();
            path.display().to_string()
        })
        .collect()
}

/// `host compare --old OLD... --new NEW... EXTRA`.
fn compare_sides(old: &[String], new: &[String], extra: &[&str]) -> Run {
    let mut args = vec!["compare", "--old"];
    args.extend(old.iter().map(String::as_str));
    args.push("--new");
    args.extend(new.iter().map(String::as_str));
    args.extend(extra);
    run(&args)
}

/// Five samples of one run on a noisy machine, and five more.
const NOISE_A: [f64; 5] = [1.0, 1.12, 0.93, 1.05, 0.97];
const NOISE_B: [f64; 5] = [1.03, 0.95, 1.1, 0.91, 1.0];

/// The table row (`wall`, `tasks/s`, ...) of a human comparison.
fn row<'a>(result: &'a Run, label: &str) -> &'a str {
    result
        .stdout
        .lines()
        .find(|line| line.trim_start().starts_with(&format!("{label} ")))
        .unwrap_or_else(|| panic!("no {label} row: {result:#?}"))
}

#[test]
fn samples_that_differ_only_by_noise_are_no_change() {
    let dir = tempfile::tempdir().unwrap();
    let old = samples(&dir, "old", 0.1, &NOISE_A);
    let new = samples(&dir, "new", 0.1, &NOISE_B);
    let result = compare_sides(&old, &new, &[]);
    result.expect_code(0);
    assert_eq!(verdict(&result), "no change", "{result:#?}");
    let wall = row(&result, "wall");
    assert!(wall.contains(" ± "), "{wall}");
    assert!(wall.contains("~ 1.0"), "{wall}");
    assert!(wall.contains("(not significant, p = "), "{wall}");
    assert!(result.stdout.contains("old (5)"), "{result:#?}");
    assert!(result.stdout.contains("old: 5 reports ("), "{result:#?}");
}

#[test]
fn a_slowdown_in_every_sample_beyond_the_threshold_regresses() {
    let dir = tempfile::tempdir().unwrap();
    let old = samples(&dir, "old", 0.1, &NOISE_A);
    let new = samples(&dir, "new", 0.2, &NOISE_B);
    let result = compare_sides(&old, &new, &[]);
    result.expect_code(1);
    let said = verdict(&result);
    assert!(
        said.starts_with("regressed: wall time 2.00 ± 0.21 times slower"),
        "{said}"
    );
    assert!(
        said.contains(", tasks per second 2.00 ± 0.20 times lower, "),
        "{said}"
    );
    assert!(said.ends_with("1 task slower by more than 5%"), "{said}");
    // 5 a side, every new sample slower: the smallest p the test can give, 2/252.
    assert!(
        row(&result, "wall").contains("times slower (p = 0.00794)"),
        "{result:#?}"
    );
    assert!(
        result
            .stdout
            .contains("slower by more than 5% (1):\n  task 0  "),
        "{result:#?}"
    );
    // The other way round it improved.
    let back = compare_sides(&new, &old, &[]);
    back.expect_code(0);
    assert!(
        verdict(&back).starts_with("improved: wall time 2.00 ± 0.21 times faster"),
        "{back:#?}"
    );
    // Beyond a threshold the change does not reach, it is no change, though significant.
    let within = compare_sides(&old, &new, &["--threshold", "150%"]);
    within.expect_code(0);
    assert_eq!(verdict(&within), "no change", "{within:#?}");
    assert!(row(&within, "wall").contains("within 150%"), "{within:#?}");
}

#[test]
fn four_samples_a_side_are_enough_at_the_default_level_but_not_at_a_stricter_one() {
    let dir = tempfile::tempdir().unwrap();
    let old = samples(&dir, "old", 0.1, &NOISE_A[..4]);
    let new = samples(&dir, "new", 0.3, &NOISE_B[..4]);
    // At 0.01 the rank test cannot tell 4 from 4 (its smallest p is 2/70); a 3x change is not
    // beyond the few-samples factor, so nothing is judged.
    let strict = compare_sides(&old, &new, &["--alpha", "0.01"]);
    strict.expect_code(0);
    assert!(
        strict
            .stdout
            .contains("the rank test cannot reach p < 0.01"),
        "{strict:#?}"
    );
    assert!(
        strict.stdout.contains("(give 5 reports a side)"),
        "{strict:#?}"
    );
    let loose = compare_sides(&old, &new, &[]);
    loose.expect_code(1);
    assert!(
        verdict(&loose).starts_with("regressed: wall time"),
        "{loose:#?}"
    );
}

#[test]
fn one_report_a_side_counts_only_a_change_far_beyond_the_noise() {
    let dir = tempfile::tempdir().unwrap();
    let old = samples(&dir, "old", 0.1, &[1.0]);
    let twice = samples(&dir, "twice", 0.2, &[1.0]);
    let result = compare(Path::new(&old[0]), Path::new(&twice[0]), &[]);
    result.expect_code(0);
    assert_eq!(verdict(&result), "no change", "{result:#?}");
    assert!(
        row(&result, "wall").contains("2.00 times slower (not judged: too few samples, within 3x)"),
        "{result:#?}"
    );
    let far = samples(&dir, "far", 0.93, &[1.0]);
    let result = compare(Path::new(&old[0]), Path::new(&far[0]), &[]);
    result.expect_code(1);
    assert!(
        verdict(&result).starts_with("regressed: wall time 9.30 times slower"),
        "{result:#?}"
    );
    assert!(
        row(&result, "wall").contains("(beyond 3x with few samples)"),
        "{result:#?}"
    );
    // The factor is the user's to set.
    compare(
        Path::new(&old[0]),
        Path::new(&twice[0]),
        &["--few-samples-factor", "1.5"],
    )
    .expect_code(1);
}

#[test]
fn a_report_is_read_from_stdin_as_dash() {
    let dir = tempfile::tempdir().unwrap();
    let old = samples(&dir, "old", 0.1, &[1.0]);
    let far = samples(&dir, "far", 0.93, &[1.0]);
    let output = host(&["compare", &old[0], "-"])
        .stdin(File::open(&far[0]).unwrap())
        .output()
        .unwrap();
    let result = Run::from(output);
    result.expect_code(1);
    assert!(
        result.stdout.contains("new: - (stdin): factorize 0.1.0"),
        "{result:#?}"
    );
    // stdin is one report only.
    let twice = run(&["compare", "-", "-"]);
    twice.expect_code(2);
    assert!(
        twice
            .one_error_line()
            .contains("- (stdin) can stand for one report only"),
        "{twice:#?}"
    );
    // Not a report on stdin: its own code, naming stdin.
    let empty = run(&["compare", &old[0], "-"]);
    empty.expect_code(17);
    assert!(
        empty.one_error_line().contains("- (stdin) is not JSON"),
        "{empty:#?}"
    );
}

#[test]
fn markdown_is_a_table_for_a_pull_request() {
    let dir = tempfile::tempdir().unwrap();
    let old = samples(&dir, "old", 0.1, &NOISE_A);
    let new = samples(&dir, "new", 0.2, &NOISE_B);
    let result = compare_sides(&old, &new, &["--format", "markdown"]);
    result.expect_code(1);
    let markdown = &result.stdout;
    assert!(
        markdown.starts_with("**❌ host compare: regressed: wall time 2.00 ± 0.21 times slower"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| | old (5) | new (5) | change |\n|:--|--:|--:|:--|\n| wall | "),
        "{markdown}"
    );
    assert!(
        markdown.contains("times slower (p = 0.00794)** |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("**Slower by more than 5% (1)**\n\n- task 0: "),
        "{markdown}"
    );
    assert!(!markdown.contains('\x1b'), "{markdown}");
}

#[test]
fn colour_only_on_a_terminal_or_when_forced_and_never_with_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let old = samples(&dir, "old", 0.1, &NOISE_A);
    let new = samples(&dir, "new", 0.2, &NOISE_B);
    let mut args = vec!["compare".to_owned(), "--old".to_owned()];
    args.extend(old.iter().cloned());
    args.push("--new".to_owned());
    args.extend(new.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let with = |env: &[(&str, &str)], extra: &[&str]| {
        let mut all = args.clone();
        all.extend(extra);
        let mut command = host(&all);
        command.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
        for (name, value) in env {
            command.env(name, value);
        }
        Run::from(command.output().unwrap())
    };
    // Piped: plain.
    let piped = with(&[], &[]);
    assert!(!piped.stdout.contains('\x1b'), "{piped:#?}");
    let forced = with(&[("CLICOLOR_FORCE", "1")], &[]);
    assert!(
        forced.stdout.contains("verdict: \x1b[31mregressed"),
        "{forced:#?}"
    );
    let always = with(&[], &["--color", "always"]);
    assert!(always.stdout.contains("\x1b[31m"), "{always:#?}");
    let no_color = with(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")], &[]);
    assert!(!no_color.stdout.contains('\x1b'), "{no_color:#?}");
    // Machines get no colour, even when asked.
    let json = with(&[], &["--color", "always", "--format", "json"]);
    assert!(!json.stdout.contains('\x1b'), "{json:#?}");
}

#[test]
fn quiet_keeps_the_table_what_regressed_and_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let old = samples(&dir, "old", 0.1, &NOISE_A);
    let new = samples(&dir, "new", 0.2, &NOISE_B);
    let loud = compare_sides(&old, &new, &[]);
    assert!(loud.stdout.contains("old: 5 reports"), "{loud:#?}");
    let quiet = compare_sides(&old, &new, &["-q"]);
    quiet.expect_code(1);
    assert!(!quiet.stdout.contains("old: 5 reports"), "{quiet:#?}");
    assert!(row(&quiet, "wall").contains("times slower"), "{quiet:#?}");
    assert!(
        quiet.stdout.contains("slower by more than 5% (1):"),
        "{quiet:#?}"
    );
    assert_eq!(verdict(&quiet), verdict(&loud));
}

#[test]
fn several_reports_a_side_are_of_one_plugin_and_both_sides_are_needed() {
    let dir = tempfile::tempdir().unwrap();
    let old = samples(&dir, "old", 0.1, &NOISE_A);
    let slow_io = report(&dir, "s.json", "slow_io", &["--task", "0.001"]);
    let mut new = samples(&dir, "new", 0.1, &NOISE_B);
    new.push(slow_io.display().to_string());
    let refused = compare_sides(&old, &new, &[]);
    refused.expect_code(20);
    assert!(refused.one_error_line().contains("s.json"), "{refused:#?}");
    let alone = run(&["compare", "--old", &old[0]]);
    alone.expect_code(2);
    let one = run(&["compare", &old[0]]);
    one.expect_code(2);
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
    assert_eq!(comparison["status_changed"][0]["old"], json!(["ok"]));
    assert_eq!(comparison["status_changed"][0]["new"], json!(["error"]));
    assert_eq!(comparison["old"]["plugin"], "misbehave");
    assert_eq!(comparison["old"]["samples"], 1);
    assert_eq!(comparison["threshold_percent"], 5.0);
    assert_eq!(comparison["alpha"], 0.05);
    let counts = comparison["counts"].as_array().unwrap();
    let ok = counts.iter().find(|row| row["name"] == "ok").unwrap();
    assert_eq!((&ok["old"], &ok["new"]), (&json!([2]), &json!([1])));
    let metrics = comparison["metrics"].as_array().unwrap();
    let wall = metrics
        .iter()
        .find(|row| row["name"] == "wall_seconds")
        .unwrap();
    assert!(wall["ratio"].is_number(), "{comparison:#}");
    assert!(wall["old"]["median"].is_number(), "{comparison:#}");
    assert_eq!(wall["change"], "not-judged", "{comparison:#}");
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
