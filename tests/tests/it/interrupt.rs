//! Ctrl-C (SIGINT) in the middle of a run: the host stops handing out tasks and stops its
//! workers, reports every task (those that finished `ok`, the rest `cancelled`), still writes the
//! report, and exits with code 130.

use std::{path::Path, thread, time::Duration};

use quack_tests::{LiveRun, assert_valid_report, plugin_arg, read_report, task_record};
use serde_json::Value;

/// The slow-io tasks of an interrupted run: 8 waits of half a second on 2 workers, so that the run
/// is far from over when the first result arrives.
const TASKS: usize = 8;
const SECONDS: &str = "0.5";

/// Sends SIGINT to the host, as Ctrl-C in a terminal would.
fn interrupt(live: &LiveRun) {
    live.signal(libc::SIGINT);
}

fn ctrl_c_after_the_first_result(mode: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let path_arg = path.to_str().unwrap();
    let plugin = plugin_arg("slow_io");
    let mut args = vec![
        "run",
        &plugin,
        "--mode",
        mode,
        "--workers",
        "2",
        "--format",
        "jsonl",
        "--json",
        path_arg,
    ];
    for _ in 0..TASKS {
        args.extend(["--task", SECONDS]);
    }
    let mut live = LiveRun::start(&args);
    let first: Value = serde_json::from_str(&live.stdout_line().expect("a first result")).unwrap();
    assert_eq!(first["type"], "task", "{first:#}");
    assert_eq!(first["status"], "ok", "{first:#}");
    interrupt(&live);
    let run = live.finish();
    run.expect_code(130);

    let report = read_report(Path::new(&path), &run);
    assert_valid_report(&report);
    let tasks = report["tasks"].as_array().unwrap();
    assert_eq!(
        tasks.len(),
        TASKS,
        "every task is in the report: {report:#}"
    );
    let (mut ok, mut cancelled) = (0, 0);
    for task in tasks {
        match task["status"].as_str().unwrap() {
            "ok" => {
                ok += 1;
                assert_eq!(task["output"], 0.5, "{task:#}");
            }
            "cancelled" => {
                cancelled += 1;
                assert!(
                    task["error"].as_str().unwrap().contains("interrupted"),
                    "{task:#}"
                );
            }
            _ => panic!("a task neither finished nor cancelled: {task:#}"),
        }
    }
    assert_eq!(ok + cancelled, TASKS);
    assert_eq!(
        task_record(&report, first["id"].as_u64().unwrap())["status"],
        "ok"
    );
    assert!(
        cancelled >= 1,
        "the interrupt came long before the last task could finish: {report:#}"
    );
    assert_eq!(report["summary"]["ok"], ok);
    assert_eq!(report["summary"]["cancelled"], cancelled);
    assert_eq!(report["summary"]["tasks"], TASKS);

    // The stream has a line for every task, then the summary.
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), TASKS + 1, "{run:#?}");
    assert!(lines[..TASKS].iter().all(|line| line["type"] == "task"));
    assert_eq!(lines[TASKS]["type"], "summary");
    assert_eq!(lines[TASKS]["cancelled"], cancelled);
    assert!(
        run.stderr.contains(&format!(
            "interrupted: {ok} {} finished, {cancelled} cancelled",
            if ok == 1 { "task" } else { "tasks" }
        )),
        "{run:#?}"
    );
}

#[test]
fn ctrl_c_in_process_mode_reports_finished_tasks_and_cancels_the_rest() {
    ctrl_c_after_the_first_result("process");
}

#[test]
fn ctrl_c_in_thread_mode_reports_finished_tasks_and_cancels_the_rest() {
    ctrl_c_after_the_first_result("thread");
}

#[test]
fn ctrl_c_in_thread_mode_keeps_results_a_thread_had_not_sent_yet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let plugin = plugin_arg("misbehave");
    let mut args = vec![
        "run",
        &plugin,
        "--mode",
        "thread",
        "--workers",
        "1",
        "--json",
        path.to_str().unwrap(),
    ];
    // Quick tasks, the last of which writes a line to stderr, then one that hangs and one more:
    // the thread goes from task to task without sending its batch while the queue is not empty,
    // which it almost never is here.
    let tasks = ["ok", "ok", "ok", "ok", "ok", "stderr", "hang", "ok"];
    for task in tasks {
        args.extend(["--task", task]);
    }
    let mut live = LiveRun::start(&args);
    // The pause only makes sure the thread is in the hanging task when the interrupt comes; it
    // asserts nothing.
    live.stderr_line_containing("misbehave: a line on stderr");
    thread::sleep(Duration::from_millis(200));
    interrupt(&live);
    let run = live.finish();
    run.expect_code(130);
    let report = read_report(&path, &run);
    assert_eq!(
        report["tasks"].as_array().unwrap().len(),
        tasks.len(),
        "every task is in the report: {report:#}"
    );
    for id in 0..6 {
        assert_eq!(task_record(&report, id)["status"], "ok", "{report:#}");
    }
    for id in 6..8 {
        assert_eq!(
            task_record(&report, id)["status"],
            "cancelled",
            "{report:#}"
        );
    }
}
