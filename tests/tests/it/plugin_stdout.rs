//! Whatever a plugin writes to its stdout (`println!`, or `write(1, ...)` itself) never reaches
//! the host's stdout, in any mode: `--format json` and `jsonl` stay parseable, and the plugin's
//! lines go to stderr marked as the plugin's (`[plugin NAME]` in the host's process, `[worker N]`
//! in a worker), none lost.

use quack_tests::{HANG_GUARD, Run, plugin_arg, run_within};
use serde_json::Value;

fn misbehave(mode: &str, format: &str, task: &str) -> Run {
    let plugin = plugin_arg("misbehave");
    run_within(
        &[
            "run", &plugin, "--mode", mode, "--format", format, "--task", task, "--task", "ok",
        ],
        HANG_GUARD,
    )
}

/// Stdout holds only Quack's output, and stderr every line the plugin printed.
#[track_caller]
fn stdout_is_quacks_alone(mode: &str, format: &str, task: &str, lines: usize, marker: &str) {
    let result = misbehave(mode, format, task);
    result.expect_code(0);
    match format {
        "json" => {
            let report: Value = serde_json::from_str(&result.stdout)
                .unwrap_or_else(|error| panic!("stdout is not JSON ({error}): {result:#?}"));
            assert_eq!(report["summary"]["ok"], 2, "{report:#}");
        }
        _ => {
            let parsed: Vec<Value> = result
                .stdout
                .lines()
                .map(|line| {
                    serde_json::from_str(line)
                        .unwrap_or_else(|error| panic!("{line:?} is not JSON ({error})"))
                })
                .collect();
            assert_eq!(parsed.len(), 3, "two tasks and a summary: {result:#?}");
        }
    }
    assert!(
        !result.stdout.contains("misbehave junk") && !result.stdout.contains("misbehave raw"),
        "{result:#?}"
    );
    let relayed = result
        .stderr
        .lines()
        .filter(|line| line.starts_with(marker) && line.contains("misbehave"))
        .count();
    assert_eq!(
        relayed, lines,
        "every line the plugin printed, marked: {}",
        result.stderr
    );
}

#[test]
fn println_in_a_plugin_stays_off_stdout_in_inline_mode() {
    for format in ["jsonl", "json"] {
        stdout_is_quacks_alone("inline", format, "stdout", 1000, "[plugin misbehave] ");
    }
}

#[test]
fn println_in_a_plugin_stays_off_stdout_in_thread_mode() {
    for format in ["jsonl", "json"] {
        stdout_is_quacks_alone("thread", format, "stdout", 1000, "[plugin misbehave] ");
    }
}

#[test]
fn println_in_a_plugin_stays_off_stdout_in_process_mode() {
    for format in ["jsonl", "json"] {
        stdout_is_quacks_alone("process", format, "stdout", 1000, "[worker ");
    }
}

/// `write1`: 100 lines, one that is not UTF-8 and one without its newline.
#[test]
fn raw_writes_to_fd_1_stay_off_stdout_in_every_mode() {
    for format in ["jsonl", "json"] {
        stdout_is_quacks_alone("inline", format, "write1", 102, "[plugin misbehave] ");
        stdout_is_quacks_alone("thread", format, "write1", 102, "[plugin misbehave] ");
        stdout_is_quacks_alone("process", format, "write1", 102, "[worker ");
    }
}

#[test]
fn a_line_that_is_not_utf8_is_relayed_and_the_relay_goes_on() {
    let result = misbehave("inline", "jsonl", "write1");
    result.expect_code(0);
    assert!(
        result
            .stderr
            .contains("[plugin misbehave] misbehave bytes \u{fffd}\u{fffd} not UTF-8"),
        "{}",
        result.stderr
    );
    assert!(
        result
            .stderr
            .contains("[plugin misbehave] misbehave unfinished line"),
        "{}",
        result.stderr
    );
}

#[test]
fn a_plugin_reads_dev_null_on_stdin_not_the_hosts_stdin() {
    let plugin = plugin_arg("misbehave");
    for mode in ["inline", "thread", "process"] {
        let mut live = quack_tests::LiveRun::start_with_input(&[
            "run",
            &plugin,
            "--mode",
            mode,
            "--format",
            "jsonl",
            "--task",
            "read-stdin",
        ]);
        // Whatever the host's stdin holds is not the plugin's.
        {
            use std::io::Write;
            let mut stdin = live.stdin.take().unwrap();
            let _ = stdin.write_all(b"the host's own stdin\n");
        }
        let result = live.finish();
        result.expect_code(0);
        let line: Value = serde_json::from_str(result.stdout.lines().next().unwrap()).unwrap();
        assert_eq!(
            line["output"], "read 0 bytes from stdin",
            "{mode}: {result:#?}"
        );
    }
}
