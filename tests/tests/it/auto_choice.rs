//! How the runner picks the mode and the number of workers, and the one-line reason it gives:
//! on stderr (`runner: ...`) and, the same words, in the report's `runner.reason`. Also the
//! splitting of a Splittable plugin's tasks into parts, and `--no-split`.

use quack_tests::{Run, SEED, plugin_arg, run_with_report, seed_lines};
use serde_json::{Value, json};

/// The reason the runner gave on stderr, checked to be the report's `runner.reason` too.
#[track_caller]
fn stated_reason(run: &Run, report: &Value) -> String {
    let reasons: Vec<&str> = run
        .stderr
        .lines()
        .filter_map(|line| line.strip_prefix("runner: "))
        .collect();
    assert_eq!(reasons.len(), 1, "one reason on stderr: {run:#?}");
    assert_eq!(
        report["runner"]["reason"], reasons[0],
        "the report gives the reason stderr gave"
    );
    reasons[0].to_owned()
}

/// Small factorize tasks and their divisors.
const SMALL: [(u64, &[u64]); 4] = [
    (12, &[1, 2, 3, 4, 6, 12]),
    (28, &[1, 2, 4, 7, 14, 28]),
    (35, &[1, 5, 7, 35]),
    (97, &[1, 97]),
];

/// Runs factorize on [`SMALL`] with `options` and checks every result.
fn factorize_small(options: &[&str]) -> (Run, Value) {
    let plugin = plugin_arg("factorize");
    let tasks: Vec<String> = SMALL.iter().map(|(n, _)| n.to_string()).collect();
    let mut args = vec!["run", &plugin];
    args.extend(options);
    for task in &tasks {
        args.extend(["--task", task]);
    }
    let (run, report) = run_with_report(&args);
    run.expect_code(0);
    for (task, (n, divisors)) in report["tasks"].as_array().unwrap().iter().zip(SMALL) {
        assert_eq!(task["input"], n, "{task:#}");
        assert_eq!(task["output"], json!(divisors), "{task:#}");
    }
    (run, report)
}

/// Asserts each seed result is on stdout exactly once, and in the report.
#[track_caller]
fn assert_seed_results(run: &Run, report: &Value) {
    for line in seed_lines() {
        assert_eq!(
            run.stdout.matches(&line).count(),
            1,
            "{line} once: {run:#?}"
        );
    }
    let tasks = report["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), SEED.len());
    for (task, (n, divisors)) in tasks.iter().zip(SEED) {
        assert_eq!(task["input"], n, "{task:#}");
        assert_eq!(task["status"], "ok", "{task:#}");
        assert_eq!(task["output"], json!(divisors), "{task:#}");
    }
    assert!(run.stdout.contains("4 tasks (4 ok), 0 failed"), "{run:#?}");
}

#[test]
fn a_cpu_bound_plugin_gets_a_thread_per_core_and_says_why() {
    let (run, report) = factorize_small(&[]);
    let reason = stated_reason(&run, &report);
    // One thread per core, never more than there are tasks; a single core runs inline.
    let cores = report["machine"]["cores"].as_u64().unwrap();
    let workers = cores.min(SMALL.len() as u64);
    if workers > 1 {
        assert!(
            reason.starts_with(&format!(
                "thread mode with {workers} workers because the plugin is CPU-bound"
            )),
            "{reason}"
        );
        assert_eq!(report["runner"]["mode"], "thread");
    } else {
        assert!(reason.contains("the plugin is CPU-bound"), "{reason}");
        assert_eq!(report["runner"]["mode"], "inline");
    }
    assert_eq!(report["runner"]["workers"], workers);
}

#[test]
fn an_io_bound_plugin_gets_a_thread_per_task_and_says_why() {
    let plugin = plugin_arg("slow_io");
    let (run, report) = run_with_report(&[
        "run", &plugin, "--task", "0.01", "--task", "0.02", "--task", "0.03",
    ]);
    run.expect_code(0);
    let reason = stated_reason(&run, &report);
    assert!(
        reason.starts_with("thread mode with 3 workers because the plugin is I/O-bound"),
        "{reason}"
    );
    assert_eq!(report["runner"]["mode"], "thread");
    assert_eq!(report["runner"]["workers"], 3);
    assert_eq!(report["summary"]["ok"], 3);
}

#[test]
fn isolate_picks_process_mode_and_says_why() {
    let (run, report) = factorize_small(&["--isolate"]);
    let reason = stated_reason(&run, &report);
    assert!(
        reason.starts_with("process mode because --isolate was given"),
        "{reason}"
    );
    assert_eq!(report["runner"]["mode"], "process");
    assert!(run.stdout.contains("| mode process, "), "{run:#?}");
}

#[test]
fn mode_process_gives_the_seed_results_and_names_its_mode() {
    let plugin = plugin_arg("factorize");
    let (run, report) = run_with_report(&["run", &plugin, "--mode", "process"]);
    run.expect_code(0);
    assert_seed_results(&run, &report);
    assert!(run.stdout.contains("| mode process, "), "{run:#?}");
    let reason = stated_reason(&run, &report);
    assert!(
        reason.starts_with("process mode, as asked with --mode process"),
        "{reason}"
    );
    assert_eq!(report["runner"]["mode"], "process");
}

#[test]
fn a_splittable_plugin_on_two_workers_is_cut_into_parts_with_exact_results() {
    let plugin = plugin_arg("factorize");
    let (run, report) = run_with_report(&["run", &plugin, "--workers", "2"]);
    run.expect_code(0);
    assert_seed_results(&run, &report);
    let reason = stated_reason(&run, &report);
    assert!(
        reason.contains("spread over the workers when its `split` makes several parts"),
        "{reason}"
    );
    assert!(reason.contains("Splittable"), "{reason}");
    assert!(
        report["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|task| task["parts"].as_u64().is_some_and(|parts| parts > 1)),
        "some task ran as several parts: {report:#}"
    );
}

#[test]
fn no_split_keeps_tasks_whole_and_does_not_say_cut() {
    let plugin = plugin_arg("factorize");
    let (run, report) = run_with_report(&["run", &plugin, "--workers", "2", "--no-split"]);
    run.expect_code(0);
    assert_seed_results(&run, &report);
    let reason = stated_reason(&run, &report);
    assert!(
        !reason.contains("spread over the workers when its `split` makes several parts"),
        "{reason}"
    );
    assert!(
        report["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|task| task.get("parts").is_none()),
        "no task was split: {report:#}"
    );
}

#[test]
fn one_large_task_of_a_splittable_plugin_is_cut_for_every_core_in_auto_mode() {
    let plugin = plugin_arg("factorize");
    let (run, report) = run_with_report(&["run", &plugin, "--task", "53541233"]);
    run.expect_code(0);
    let reason = stated_reason(&run, &report);
    assert!(
        reason.contains("spread over the workers when its `split` makes several parts"),
        "{reason}"
    );
    let task = &report["tasks"][0];
    assert_eq!(task["output"], json!([1, 5501, 9733, 53541233]), "{task:#}");
    assert!(task["parts"].as_u64().unwrap() > 1, "{task:#}");
    // The machine's cores are the workers, not the one task.
    let cores = report["machine"]["cores"].as_u64().unwrap();
    if cores > 1 {
        assert_eq!(report["runner"]["workers"], cores, "{reason}");
        assert_eq!(report["runner"]["mode"], "thread", "{reason}");
    }
}

#[test]
fn one_large_task_is_cut_for_the_workers_asked_for() {
    let plugin = plugin_arg("factorize");
    let (run, report) = run_with_report(&[
        "run",
        &plugin,
        "--task",
        "53541233",
        "--mode",
        "thread",
        "--workers",
        "2",
    ]);
    run.expect_code(0);
    let reason = stated_reason(&run, &report);
    assert!(!reason.contains("no more than"), "{reason}");
    assert_eq!(report["runner"]["workers"], 2, "{reason}");
    assert!(
        report["tasks"][0]["parts"].as_u64().unwrap() > 1,
        "{report:#}"
    );
}

#[test]
fn json_lines_input_splits_as_an_array_does() {
    let dir = tempfile::tempdir().unwrap();
    let lines = dir.path().join("seed.jsonl");
    let numbers: String = SEED.iter().map(|(n, _)| format!("{n}\n")).collect();
    std::fs::write(&lines, numbers).unwrap();
    let plugin = plugin_arg("factorize");
    let (run, report) = run_with_report(&[
        "run",
        &plugin,
        "--input",
        lines.to_str().unwrap(),
        "--mode",
        "thread",
        "--workers",
        "2",
    ]);
    run.expect_code(0);
    let reason = stated_reason(&run, &report);
    assert!(
        reason.contains("spread over the workers when its `split` makes several parts"),
        "{reason}"
    );
    let largest = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|task| task["input"] == json!(53541233))
        .expect("the seed's largest number");
    assert!(largest["parts"].as_u64().unwrap() > 1, "{largest:#}");
}

#[test]
fn a_plugin_whose_merge_does_not_fit_says_why_its_tasks_are_not_cut() {
    let plugin = plugin_arg("bad_merge");
    let (run, report) = run_with_report(&[
        "run",
        &plugin,
        "--task",
        "10",
        "--task",
        "20",
        "--mode",
        "thread",
        "--workers",
        "2",
    ]);
    run.expect_code(0);
    let reason = stated_reason(&run, &report);
    assert!(
        reason.contains(
            "tasks are not cut into parts: the plugin has `split` and `merge`, but Splittable needs"
        ),
        "{reason}"
    );
    assert!(reason.contains("(it has `merge(u64) -> u64`)"), "{reason}");
    assert_eq!(report["tasks"][0]["output"], 20, "{report:#}");
}
