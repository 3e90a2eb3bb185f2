//! Plugins that fail, panic, abort, crash, exit or print in the middle of a task: process mode
//! contains each fault to the task that caused it (and replaces the dead worker), and a panic on a
//! thread or inline is a task error, never a dead host.

use std::sync::OnceLock;

use quack_tests::{Run, assert_valid_report, plugin_arg, run_with_report, task_record};
use serde_json::Value;

/// The tasks of the process-mode fault run, in order; the task id is the index.
const FAULTS: [&str; 13] = [
    "ok", "panic", "ok", "abort", "ok", "segfault", "ok", "overflow", "ok", "stdout", "stderr",
    "exit3", "ok",
];

/// The tasks whose `run` returns "ok".
fn succeeds(task: &str) -> bool {
    matches!(task, "ok" | "stdout" | "stderr")
}

/// The id of the first task named `name` in [`FAULTS`].
fn id_of(name: &str) -> u64 {
    FAULTS.iter().position(|task| *task == name).unwrap() as u64
}

/// One process-mode run of every fault, shared by the tests below (each checks one behaviour).
fn fault_run() -> &'static (Run, Value) {
    static RUN: OnceLock<(Run, Value)> = OnceLock::new();
    RUN.get_or_init(|| {
        let plugin = plugin_arg("misbehave");
        let mut args = vec!["run", &plugin, "--mode", "process", "--workers", "2"];
        for task in FAULTS {
            args.extend(["--task", task]);
        }
        run_with_report(&args)
    })
}

#[test]
fn a_process_run_outlives_every_fault_and_reports_every_task() {
    let (run, report) = fault_run();
    run.expect_code(1);
    assert_valid_report(report);
    assert_eq!(report["runner"]["mode"], "process");
    assert_eq!(
        report["tasks"].as_array().unwrap().len(),
        FAULTS.len(),
        "{report:#}"
    );
    for (id, task) in FAULTS.iter().enumerate() {
        let record = task_record(report, id as u64);
        assert_eq!(record["input"], *task, "{record:#}");
        if succeeds(task) {
            assert_eq!(record["status"], "ok", "{task}: {record:#}");
            assert_eq!(record["output"], "ok", "{task}: {record:#}");
        }
    }
    let summary = &report["summary"];
    assert_eq!(
        (&summary["ok"], &summary["error"], &summary["crashed"]),
        (&Value::from(8), &Value::from(1), &Value::from(4)),
        "{summary:#}"
    );
    assert!(
        run.stdout
            .contains("13 tasks (8 ok, 1 error, 4 crashed), 5 failed"),
        "{run:#?}"
    );
    // Only workers' lines (marked) may show a fault; the host itself never panics.
    assert!(
        !run.stderr.lines().any(|line| line.starts_with("thread '")),
        "{run:#?}"
    );
}

#[test]
fn a_panic_in_a_worker_process_is_a_task_error_with_its_message() {
    let (_, report) = fault_run();
    let record = task_record(report, id_of("panic"));
    assert_eq!(record["status"], "error", "{record:#}");
    assert!(
        record["error"].as_str().unwrap().contains("asked to panic"),
        "{record:#}"
    );
    assert!(record.get("output").is_none(), "{record:#}");
}

#[test]
fn a_segfault_crashes_only_its_task_and_names_sigsegv() {
    let (_, report) = fault_run();
    let id = id_of("segfault");
    let record = task_record(report, id);
    assert_eq!(record["status"], "crashed", "{record:#}");
    assert!(
        record["error"].as_str().unwrap().contains("SIGSEGV"),
        "{record:#}"
    );
    for neighbour in [id - 1, id + 1] {
        assert_eq!(task_record(report, neighbour)["status"], "ok", "{report:#}");
    }
}

#[test]
fn abort_and_stack_overflow_crash_their_tasks_with_sigabrt() {
    let (_, report) = fault_run();
    for task in ["abort", "overflow"] {
        let record = task_record(report, id_of(task));
        assert_eq!(record["status"], "crashed", "{task}: {record:#}");
        assert!(
            record["error"].as_str().unwrap().contains("SIGABRT"),
            "{task}: {record:#}"
        );
    }
}

#[test]
fn a_worker_that_exits_mid_task_crashes_that_task_with_its_exit_code() {
    let (_, report) = fault_run();
    let record = task_record(report, id_of("exit3"));
    assert_eq!(record["status"], "crashed", "{record:#}");
    assert!(
        record["error"].as_str().unwrap().contains("exit code 3"),
        "{record:#}"
    );
}

#[test]
fn plugin_output_in_a_worker_reaches_stderr_marked_and_leaves_the_protocol_intact() {
    let (run, report) = fault_run();
    let record = task_record(report, id_of("stdout"));
    assert_eq!(record["status"], "ok", "{record:#}");
    assert_eq!(record["output"], "ok", "{record:#}");
    let worker = &record["worker"];
    let junk = format!("[worker {worker}] misbehave junk on stdout, line ");
    assert_eq!(
        run.stderr
            .lines()
            .filter(|line| line.starts_with(&junk))
            .count(),
        1000,
        "every line the plugin printed reaches stderr, marked with its worker: {run:#?}"
    );
    assert!(!run.stdout.contains("junk"), "{run:#?}");

    let record = task_record(report, id_of("stderr"));
    assert_eq!(record["status"], "ok", "{record:#}");
    let line = format!("[worker {}] misbehave: a line on stderr", record["worker"]);
    assert!(run.stderr.lines().any(|l| l == line), "{line}: {run:#?}");
}

#[test]
fn crashed_workers_are_replaced_and_the_reason_is_shown() {
    let (run, _) = fault_run();
    let replaced: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with("worker ") && line.contains(" replaced: "))
        .collect();
    // Four crashes on two workers: every crash but each worker's last one is followed by a
    // replacement, and the tasks after it still ran.
    assert!(replaced.len() >= 2, "{run:#?}");
    for line in replaced {
        assert!(line.contains(" died: "), "{line}");
    }
}

#[test]
fn a_panic_on_a_thread_or_inline_is_a_task_error_not_a_dead_host() {
    let plugin = plugin_arg("misbehave");
    for mode in ["thread", "inline"] {
        let (run, report) = run_with_report(&[
            "run", &plugin, "--mode", mode, "--task", "ok", "--task", "panic", "--task", "ok",
            "--task", "error", "--task", "ok",
        ]);
        run.expect_code(1);
        assert_valid_report(&report);
        assert_eq!(report["runner"]["mode"], mode);
        for id in [0, 2, 4] {
            let record = task_record(&report, id);
            assert_eq!(record["status"], "ok", "{mode}: {record:#}");
            assert_eq!(record["output"], "ok", "{mode}: {record:#}");
        }
        let panicked = task_record(&report, 1);
        assert_eq!(panicked["status"], "error", "{mode}: {panicked:#}");
        assert!(
            panicked["error"]
                .as_str()
                .unwrap()
                .contains("asked to panic"),
            "{mode}: {panicked:#}"
        );
        let failed = task_record(&report, 3);
        assert_eq!(failed["status"], "error", "{mode}: {failed:#}");
        assert!(
            failed["error"].as_str().unwrap().contains("asked to fail"),
            "{mode}: {failed:#}"
        );
        assert!(
            run.stdout.contains("5 tasks (3 ok, 2 error), 2 failed"),
            "{mode}: {run:#?}"
        );
        assert!(
            !run.stderr
                .contains("Attempted to panic across the ffi boundary"),
            "{mode}: {run:#?}"
        );
    }
}

/// A result one byte over the bound a task may return (what a worker's answer frame can carry)
/// fails that task with the same sentence in every mode, instead of killing the worker; the
/// next task runs.
#[test]
fn a_result_too_large_for_a_frame_fails_its_task_alike_in_every_mode() {
    let limit = (1usize << 30) - 1024;
    let too_large = format!("json-bytes:{}", limit + 1);
    let misbehave = plugin_arg("misbehave");
    for mode in ["inline", "thread", "process"] {
        let (result, report) = run_with_report(&[
            "run",
            &misbehave,
            "--task",
            &too_large,
            "--task",
            "ok",
            "--mode",
            mode,
            "--workers",
            "1",
        ]);
        result.expect_code(1);
        let tasks = report["tasks"].as_array().unwrap();
        assert_eq!(tasks[0]["status"], "error", "{mode}: {report:#}");
        assert_eq!(
            tasks[0]["error"],
            format!(
                "the result is too large: {} bytes of JSON, over the limit of {limit} a task may \
                 return; return less, or write it to a file and return its path",
                limit + 1
            ),
            "{mode}"
        );
        assert_eq!(tasks[1]["status"], "ok", "{mode}: {report:#}");
        assert!(!result.stderr.contains("replaced"), "{mode}: {result:#?}");
    }
}
