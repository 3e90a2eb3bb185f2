//! Output that streams: with `--format jsonl` each task's line is on stdout as soon as the task
//! finishes, while the run goes on, and every line is one JSON object, the last the summary.

use quack_tests::{LiveRun, plugin_arg};
use serde_json::Value;

/// Three slow-io tasks of very different lengths on three workers: the quick one's line must be
/// out long before the long one ends.
fn jsonl_streams_while_the_run_goes_on(mode: &str) {
    let plugin = plugin_arg("slow_io");
    let mut live = LiveRun::start(&[
        "run",
        &plugin,
        "--mode",
        mode,
        "--workers",
        "3",
        "--format",
        "jsonl",
        "--task",
        "1.0",
        "--task",
        "0.5",
        "--task",
        "0.05",
    ]);
    let first = live.stdout_line().expect("a first line");
    assert!(
        !live.has_exited(),
        "the first line came only when the run was over: {first}"
    );
    // Output held back to the end arrives in one piece, the summary with the first line.
    assert!(
        !live.stdout.unread().contains("\"summary\""),
        "the first line came with the summary: {first}\n{}",
        live.stdout.unread()
    );
    let first: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["type"], "task", "{first:#}");

    let run = live.finish();
    run.expect_code(0);
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    assert_eq!(lines.len(), 4, "{run:#?}");
    let (summary, tasks) = lines.split_last().unwrap();
    let mut ids: Vec<u64> = tasks
        .iter()
        .map(|task| {
            assert_eq!(task["type"], "task", "{task:#}");
            assert_eq!(task["status"], "ok", "{task:#}");
            assert_eq!(task["output"], task["input"], "{task:#}");
            task["id"].as_u64().unwrap()
        })
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [0, 1, 2]);
    assert_eq!(summary["type"], "summary", "{summary:#}");
    assert_eq!(summary["tasks"], 3, "{summary:#}");
    assert_eq!(summary["ok"], 3, "{summary:#}");
    assert_eq!(summary["runner"]["mode"], mode, "{summary:#}");
}

#[test]
fn jsonl_streams_each_task_as_it_finishes_in_thread_mode() {
    jsonl_streams_while_the_run_goes_on("thread");
}

#[test]
fn jsonl_streams_each_task_as_it_finishes_in_process_mode() {
    jsonl_streams_while_the_run_goes_on("process");
}

/// Tasks piped in one at a time: the first task's result must come out while the input pauses,
/// before the next task is even written.
fn results_stream_while_the_input_pauses(mode: &str) {
    use std::io::Write;
    let plugin = plugin_arg("factorize");
    let mut live = LiveRun::start_with_input(&[
        "run", &plugin, "--input", "-", "--format", "jsonl", "--mode", mode,
    ]);
    let mut stdin = live.stdin.take().unwrap();
    stdin.write_all(b"6\n").unwrap();
    stdin.flush().unwrap();
    let first: Value = serde_json::from_str(&live.stdout_line().expect("a first line")).unwrap();
    assert_eq!(first["type"], "task", "{first:#}");
    assert_eq!(
        first["output"],
        serde_json::json!([1, 2, 3, 6]),
        "{first:#}"
    );
    assert!(!live.has_exited(), "the host waits for more input");
    stdin.write_all(b"28\n").unwrap();
    drop(stdin);
    let second: Value = serde_json::from_str(&live.stdout_line().expect("a second line")).unwrap();
    assert_eq!(
        second["output"],
        serde_json::json!([1, 2, 4, 7, 14, 28]),
        "{second:#}"
    );
    let summary: Value = serde_json::from_str(&live.stdout_line().expect("a summary")).unwrap();
    assert_eq!(
        (summary["type"].clone(), summary["ok"].clone()),
        ("summary".into(), 2.into())
    );
    live.finish().expect_code(0);
}

#[test]
fn results_stream_while_the_input_pauses_inline() {
    results_stream_while_the_input_pauses("inline");
}

#[test]
fn results_stream_while_the_input_pauses_on_threads() {
    results_stream_while_the_input_pauses("thread");
}

#[test]
fn results_stream_while_the_input_pauses_in_processes() {
    results_stream_while_the_input_pauses("process");
}

#[test]
fn inline_jsonl_puts_a_finished_task_out_while_the_next_one_runs() {
    let plugin = plugin_arg("misbehave");
    let mut live = LiveRun::start(&[
        "run",
        &plugin,
        "--mode",
        "inline",
        "--format",
        "jsonl",
        "--task",
        "ok",
        "--task",
        "sleep:3000",
    ]);
    let first: Value = serde_json::from_str(&live.stdout_line().expect("a first line")).unwrap();
    assert_eq!(first["id"], 0, "{first:#}");
    assert!(
        !live.has_exited(),
        "the first task's line came only when the second task ended"
    );
}
