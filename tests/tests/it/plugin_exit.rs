//! A plugin that calls `exit()` inside the host's process (a task in inline or thread mode, its
//! `describe`, its constructor) never passes for a finished run: the host exits with code 13 and
//! a sentence naming the plugin, whatever code the plugin gave. In process mode only the task
//! that exited fails.

use quack_tests::{HANG_GUARD, Run, host, plugin_arg, run_within};

/// The host stopped with exit code 13 and a sentence naming `plugin`.
#[track_caller]
fn ended_by_the_plugin(result: &Run, plugin: &str) {
    result.expect_code(13);
    let line = result
        .stderr
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {result:#?}"));
    assert!(line.contains(&format!("the plugin {plugin}")), "{line}");
    assert!(line.contains("called exit"), "{line}");
    assert!(!result.stderr.contains("panicked"), "{result:#?}");
}

fn misbehave(mode: &str, tasks: &[&str]) -> Run {
    let plugin = plugin_arg("misbehave");
    let mut args = vec!["run", &plugin, "--mode", mode, "--format", "jsonl"];
    for task in tasks {
        args.extend(["--task", task]);
    }
    run_within(&args, HANG_GUARD)
}

#[test]
fn exit_0_in_a_task_in_inline_mode_is_not_success() {
    ended_by_the_plugin(&misbehave("inline", &["ok", "exit0", "ok"]), "misbehave");
}

#[test]
fn exit_0_in_a_task_in_thread_mode_is_not_success() {
    ended_by_the_plugin(&misbehave("thread", &["exit0", "ok"]), "misbehave");
}

#[test]
fn exit_3_in_a_task_in_thread_mode_is_the_hosts_own_code() {
    ended_by_the_plugin(&misbehave("thread", &["exit3"]), "misbehave");
}

#[test]
fn exit_in_a_task_in_process_mode_fails_only_that_task() {
    let result = misbehave("process", &["exit0", "ok"]);
    result.expect_code(1);
    let lines: Vec<serde_json::Value> = result
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let status = |id: u64| {
        lines
            .iter()
            .find(|line| line["type"] == "task" && line["id"] == id)
            .map(|line| line["status"].clone())
    };
    assert_eq!(status(0), Some("crashed".into()), "{result:#?}");
    assert_eq!(status(1), Some("ok".into()), "{result:#?}");
}

/// Runs the hostile fixture with `HOSTILE_FIXTURE=behaviour`.
fn hostile(behaviour: &str, args: &[&str]) -> Run {
    let plugin = plugin_arg("hostile");
    let mut full = vec!["run", &plugin];
    full.extend(args);
    host(&full)
        .env("HOSTILE_FIXTURE", behaviour)
        .output()
        .unwrap()
        .into()
}

#[test]
fn exit_in_describe_is_not_success() {
    let result = hostile("describe-exit", &["--mode", "thread"]);
    // Its name is not known yet: the sentence names its file.
    ended_by_the_plugin(&result, &plugin_arg("hostile"));
}

#[test]
fn exit_in_the_constructor_is_not_success_in_inline_or_thread_mode() {
    for mode in ["inline", "thread"] {
        ended_by_the_plugin(&hostile("new-exit", &["--mode", mode]), "hostile");
    }
}

#[test]
fn exit_in_the_library_constructor_is_not_success() {
    ended_by_the_plugin(&hostile("init-exit", &[]), &plugin_arg("hostile"));
}

#[test]
fn a_well_behaved_run_still_exits_0() {
    hostile("", &["--mode", "thread"]).expect_code(0);
}

#[test]
fn a_plugin_that_exits_leaves_no_half_written_report_behind() {
    let misbehave = plugin_arg("misbehave");
    let hostile = plugin_arg("hostile");
    // An exit while the library loads (before any task), and one in a task.
    let cases: [(&str, &[&str]); 2] = [
        ("init-exit", &["run", &hostile]),
        (
            "",
            &["run", &misbehave, "--mode", "inline", "--task", "exit0"],
        ),
    ];
    for (behaviour, args) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        let output = host(args)
            .args(["--json", path.to_str().unwrap()])
            .env("HOSTILE_FIXTURE", behaviour)
            .output()
            .unwrap();
        let result = Run::from(output);
        result.expect_code(13);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(
            left.is_empty(),
            "{args:?}: left behind {left:?}; {result:#?}"
        );
    }
}
