//! A run that cannot go on (a worker or thread that cannot be replaced) still ends with a final record for every task, writes its report, and says
//! why in one sentence with exit code 12.

use quack_tests::{assert_valid_report, plugin_arg, run_with_report, task_record};
use serde_json::Value;

/// misbehave with a marker file: `task` creates the marker and kills (or hangs) its worker, and
/// the replacement cannot start because the marker exists.
fn replacement_fails(mode: &str, task: &str, extra: &[&str]) -> (quack_tests::Run, Value) {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker");
    let config = format!("marker={}", marker.display());
    let plugin = plugin_arg("misbehave");
    let mut args = vec![
        "run",
        &plugin,
        "--mode",
        mode,
        "--workers",
        "1",
        "--set",
        &config,
        "--task",
        "ok",
        "--task",
        task,
    ];
    args.extend(extra);
    for _ in 0..4 {
        args.extend(["--task", "ok"]);
    }
    run_with_report(&args)
}

#[track_caller]
fn every_task_has_a_final_status(run: &quack_tests::Run, report: &Value, failed: &str) {
    run.expect_code(12);
    assert_valid_report(report);
    let tasks = report["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 6, "every task is in the report: {report:#}");
    assert_eq!(task_record(report, 0)["status"], "ok", "{report:#}");
    assert_eq!(task_record(report, 1)["status"], failed, "{report:#}");
    for id in 2..6 {
        let record = task_record(report, id);
        assert_eq!(record["status"], "not-run", "{record:#}");
        let error = record["error"].as_str().unwrap();
        assert!(error.contains("could not be replaced"), "{record:#}");
        assert!(error.contains("the marker file"), "{record:#}");
    }
    assert_eq!(report["summary"]["not_run"], 4, "{report:#}");
    let last = run.stderr.lines().last().unwrap();
    assert!(
        last.starts_with("error: worker 0 could not be replaced"),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("panicked"), "{run:#?}");
}

#[test]
fn a_process_run_whose_replacement_worker_cannot_start_still_writes_a_complete_report() {
    let (run, report) = replacement_fails("process", "mark-abort", &[]);
    every_task_has_a_final_status(&run, &report, "crashed");
    assert!(
        run.stdout
            .contains("6 tasks (1 ok, 1 crashed, 4 not-run), 5 failed"),
        "{run:#?}"
    );
}

#[test]
fn a_thread_run_whose_replacement_instance_cannot_be_made_still_writes_a_complete_report() {
    let (run, report) = replacement_fails("thread", "mark-hang", &["--timeout", "200ms"]);
    every_task_has_a_final_status(&run, &report, "timeout");
}

#[test]
fn a_constructor_that_fails_or_panics_is_worded_the_same_in_every_mode() {
    let plugin = plugin_arg("misbehave");
    for (how, said) in [
        ("error", "the plugin failed to start: asked to fail in new"),
        (
            "panic",
            "the plugin failed to start: panicked: asked to panic in new",
        ),
    ] {
        for mode in ["inline", "thread", "process"] {
            let set = format!("fail_new={how}");
            let (run, report) = run_with_report(&[
                "run", &plugin, "--mode", mode, "--set", &set, "--task", "ok",
            ]);
            run.expect_code(10);
            let last = run.stderr.lines().last().unwrap();
            assert!(
                last.starts_with(&format!("error: {said}")),
                "{mode}: {run:#?}"
            );
            assert!(!last.contains("check --config"), "{mode}: {last}");
            assert_eq!(task_record(&report, 0)["status"], "not-run", "{report:#}");
        }
    }
}

#[test]
fn max_fail_stops_handing_out_tasks_and_reports_the_rest_not_run() {
    let plugin = plugin_arg("misbehave");
    for mode in ["inline", "thread", "process"] {
        let mut args = vec![
            "run",
            &plugin,
            "--mode",
            mode,
            "--workers",
            "1",
            "--max-fail",
            "2",
        ];
        for task in ["ok", "error", "error", "ok", "ok", "ok"] {
            args.extend(["--task", task]);
        }
        let (run, report) = run_with_report(&args);
        run.expect_code(1);
        assert_valid_report(&report);
        assert_eq!(
            task_record(&report, 0)["status"],
            "ok",
            "{mode}: {report:#}"
        );
        assert_eq!(
            task_record(&report, 2)["status"],
            "error",
            "{mode}: {report:#}"
        );
        let not_run = report["summary"]["not_run"].as_u64().unwrap();
        let cancelled = report["summary"]["cancelled"].as_u64().unwrap();
        // Tasks 3 to 5: never started (or stopped if a worker had already taken one).
        assert_eq!(
            not_run + cancelled + report["summary"]["ok"].as_u64().unwrap(),
            4,
            "{mode}: {report:#}"
        );
        assert!(not_run >= 1, "{mode}: {report:#}");
        assert!(
            run.stderr.contains("--max-fail 2 stops the run there"),
            "{mode}: {run:#?}"
        );
    }
}

#[test]
fn workers_that_crash_at_every_turn_stop_respawning_and_the_rest_is_not_run() {
    let plugin = plugin_arg("misbehave");
    let mut args = vec!["run", &plugin, "--mode", "process", "--workers", "2"];
    for _ in 0..40 {
        args.extend(["--task", "abort"]);
    }
    let (run, report) = run_with_report(&args);
    run.expect_code(12);
    assert_valid_report(&report);
    let summary = &report["summary"];
    assert_eq!(summary["tasks"], 40, "{summary:#}");
    let crashed = summary["crashed"].as_u64().unwrap();
    assert!(
        (8..=10).contains(&crashed),
        "the brake held after about 8 crashes: {summary:#}"
    );
    // The task running on the other worker when the brake trips is stopped (cancelled).
    let stopped = summary["not_run"].as_u64().unwrap() + summary["cancelled"].as_u64().unwrap();
    assert_eq!(stopped + crashed, 40, "{summary:#}");
    let last = run.stderr.lines().last().unwrap();
    assert!(
        last.contains("workers in a row crashed before any task finished"),
        "{run:#?}"
    );
}
