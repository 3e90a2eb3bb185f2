//! A task that starts processes of its own: `--timeout` still stops it, no process it started
//! outlives the run (a daemon in a session of its own neither, in every mode), and a worker
//! that dies while its child holds its pipes counts as dead at once.

use quack_tests::{plugin_arg, processes_mentioning, run_with_report, task_record};

/// A marker no other test uses.
fn marker(name: &str) -> String {
    format!("quack-child-{name}-{}", std::process::id())
}

#[test]
fn a_task_whose_child_hangs_is_stopped_by_the_timeout_and_leaves_no_process() {
    let mark = marker("hang");
    let task = format!("child-hang:{mark}");
    let (run, report) = run_with_report(&[
        "run",
        &plugin_arg("misbehave"),
        "--mode",
        "process",
        "--workers",
        "1",
        "--timeout",
        "300ms",
        "--task",
        &task,
        "--task",
        "ok",
    ]);
    run.expect_code(1);
    assert_eq!(task_record(&report, 0)["status"], "timeout", "{report:#}");
    assert_eq!(task_record(&report, 1)["status"], "ok", "{report:#}");
    assert_eq!(
        processes_mentioning(&mark),
        Vec::<u32>::new(),
        "a child outlived the run"
    );
}

#[test]
fn a_worker_that_exits_while_its_child_holds_its_pipes_is_dead_at_once() {
    // Without reaping the worker itself, the run would wait for the child (60 s), far past the
    // hang guard of run_with_report.
    let mark = marker("exit");
    let task = format!("child-exit:{mark}");
    let (run, report) = run_with_report(&[
        "run",
        &plugin_arg("misbehave"),
        "--mode",
        "process",
        "--workers",
        "1",
        "--task",
        &task,
        "--task",
        "ok",
    ]);
    run.expect_code(1);
    let record = task_record(&report, 0);
    assert_eq!(record["status"], "crashed", "{record:#}");
    assert!(
        record["error"].as_str().unwrap().contains("exit code 3"),
        "{record:#}"
    );
    assert_eq!(task_record(&report, 1)["status"], "ok", "{report:#}");
    assert_eq!(
        processes_mentioning(&mark),
        Vec::<u32>::new(),
        "a child outlived the run"
    );
}

#[test]
fn a_daemon_a_task_leaves_behind_does_not_outlive_the_run_in_any_mode() {
    for mode in ["inline", "thread", "process"] {
        let mark = marker(&format!("daemon-{mode}"));
        let task = format!("daemon:{mark}");
        let (run, report) = run_with_report(&[
            "run",
            &plugin_arg("misbehave"),
            "--mode",
            mode,
            "--task",
            &task,
        ]);
        run.expect_code(0);
        let record = task_record(&report, 0);
        assert_eq!(record["status"], "ok", "{mode}: {record:#}");
        assert_eq!(
            processes_mentioning(&format!("{mark}-daemon")),
            Vec::<u32>::new(),
            "{mode}: a daemon outlived the run"
        );
    }
}

#[test]
fn a_task_stopped_by_its_time_limit_takes_its_daemon_with_it() {
    // The second task, on the same worker after the first times out, succeeds only once the
    // daemon is gone: it must go with its task, while the run goes on, not at the run's end.
    let mark = marker("daemon-timeout");
    let (run, report) = run_with_report(&[
        "run",
        &plugin_arg("misbehave"),
        "--mode",
        "process",
        "--workers",
        "1",
        "--timeout",
        "500ms",
        "--task",
        &format!("daemon-hang:{mark}"),
        "--task",
        &format!("await-gone:{mark}"),
    ]);
    run.expect_code(1);
    assert_eq!(task_record(&report, 0)["status"], "timeout", "{report:#}");
    assert_eq!(task_record(&report, 1)["status"], "ok", "{report:#}");
    assert_eq!(
        processes_mentioning(&format!("{mark}-daemon")),
        Vec::<u32>::new(),
        "a daemon outlived the run"
    );
}
