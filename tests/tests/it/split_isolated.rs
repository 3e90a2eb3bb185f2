//! `split` and `merge` of an isolated run run in a worker process of their own: they obey
//! `--timeout` and Ctrl-C like a task does, and a crash there costs one task, not the run (the
//! worker is started again for the next call).

use quack_tests::{LiveRun, plugin_arg, read_report, run_with_report, task_record};

/// Runs the `shaky-split` tasks `words` isolated on two workers (so they split).
fn isolated(words: &[&str], extra: &[&str]) -> (quack_tests::Run, serde_json::Value) {
    let plugin = plugin_arg("shaky_split");
    let mut args = vec![
        "run",
        plugin.as_str(),
        "--isolate",
        "--mode",
        "process",
        "--workers",
        "2",
    ];
    for word in words {
        args.extend(["--task", word]);
    }
    args.extend(extra);
    run_with_report(&args)
}

#[test]
fn words_are_split_and_merged_in_an_isolated_run() {
    let (run, report) = isolated(&["quack", "duck"], &[]);
    run.expect_code(0);
    assert_eq!(task_record(&report, 0)["output"], "QUACK", "{report:#}");
    assert_eq!(task_record(&report, 0)["parts"], 5, "{report:#}");
    assert_eq!(task_record(&report, 1)["output"], "DUCK", "{report:#}");
}

#[test]
fn a_split_that_hangs_runs_out_of_the_time_limit_and_the_next_task_still_splits() {
    let (run, report) = isolated(&["split-hang", "quack"], &["--timeout", "1s"]);
    run.expect_code(1);
    let hung = task_record(&report, 0);
    assert_eq!(hung["status"], "timeout", "{hung:#}");
    let error = hung["error"].as_str().unwrap();
    assert!(
        error.contains("split ran past the time limit of 1s"),
        "{error}"
    );
    let next = task_record(&report, 1);
    assert_eq!(next["status"], "ok", "{report:#}");
    assert_eq!(next["output"], "QUACK", "{report:#}");
    assert_eq!(next["parts"], 5, "{report:#}");
}

#[test]
fn a_split_that_crashes_costs_its_task_and_the_worker_is_started_again() {
    let (run, report) = isolated(&["split-crash", "quack", "duck"], &[]);
    run.expect_code(1);
    let crashed = task_record(&report, 0);
    assert_eq!(crashed["status"], "crashed", "{crashed:#}");
    let error = crashed["error"].as_str().unwrap();
    assert!(error.contains("SIGABRT"), "{error}");
    for (id, word) in [(1, "QUACK"), (2, "DUCK")] {
        let record = task_record(&report, id);
        assert_eq!(record["status"], "ok", "task {id}: {report:#}");
        assert_eq!(record["output"], word, "task {id}: {report:#}");
    }
}

#[test]
fn a_merge_that_hangs_or_crashes_costs_its_task_only() {
    let (run, report) = isolated(
        &["merge-hang", "merge-crash", "quack"],
        &["--timeout", "1s"],
    );
    run.expect_code(1);
    let hung = task_record(&report, 0);
    assert_eq!(hung["status"], "timeout", "{hung:#}");
    assert!(
        hung["error"]
            .as_str()
            .unwrap()
            .contains("merge ran past the time limit of 1s"),
        "{hung:#}"
    );
    let crashed = task_record(&report, 1);
    assert_eq!(crashed["status"], "crashed", "{crashed:#}");
    assert!(
        crashed["error"].as_str().unwrap().contains("SIGABRT"),
        "{crashed:#}"
    );
    let last = task_record(&report, 2);
    assert_eq!(last["output"], "QUACK", "{report:#}");
}

#[test]
fn ctrl_c_while_split_hangs_in_an_isolated_run_ends_the_run_with_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let plugin = plugin_arg("shaky_split");
    let mut live = LiveRun::start(&[
        "run",
        plugin.as_str(),
        "--isolate",
        "--mode",
        "process",
        "--workers",
        "2",
        "--task",
        "split-hang",
        "--task",
        "quack",
        "--json",
        path.to_str().unwrap(),
    ]);
    live.stderr_line_containing("split hangs");
    live.signal(libc::SIGINT);
    let run = live.finish();
    run.expect_code(130);
    let report = read_report(&path, &run);
    for id in [0, 1] {
        assert_eq!(
            task_record(&report, id)["status"],
            "cancelled",
            "{report:#}"
        );
    }
}

#[test]
fn what_split_prints_in_an_isolated_run_is_marked_and_escaped() {
    let (run, report) = isolated(&["split-says"], &[]);
    run.expect_code(0);
    assert_eq!(
        task_record(&report, 0)["output"],
        "SPLIT-SAYS",
        "{report:#}"
    );
    let line = run
        .stderr
        .lines()
        .find(|line| line.contains("split says"))
        .unwrap_or_else(|| panic!("the split's line is relayed: {run:#?}"));
    assert!(line.starts_with("[split worker] "), "{line}");
    assert!(line.contains("\\u{1b}]0;owned"), "{line}");
    assert!(
        !run.stderr.contains(['\u{1b}', '\u{7}', '\r']),
        "no control character reaches the terminal raw: {run:#?}"
    );
}
