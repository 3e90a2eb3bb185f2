//! `host run --dry-run`: the plan is shown (mode and why, workers and how they start, splitting,
//! the first tasks) and nothing runs: a task that would make a directory makes none, in every
//! mode and through a launcher.

use std::io::Write;
use std::process::Stdio;

use quack_tests::{Run, host, plugin_arg, run};

/// In every mode, through a launcher too, the plan names the mode, how workers start and the
/// task; the task (which would make a directory) does not run and no worker starts.
#[test]
fn a_dry_run_shows_the_plan_and_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let launcher_ran = dir.path().join("launcher-ran");
    let launcher = format!("sh -c 'touch {} && exec \"$@\"' sh", launcher_ran.display());
    for (mode, extra, start) in [
        ("inline", vec![], "the host's main thread"),
        ("thread", vec![], "threads of the host"),
        (
            "process",
            vec![],
            "processes on this machine, each started as:",
        ),
        (
            "process",
            vec!["--launcher", launcher.as_str()],
            "processes started through the launcher, each as: sh -c",
        ),
    ] {
        let made = dir.path().join(format!("made-{mode}-{}", extra.len()));
        let task = format!("mkdir:{}", made.display());
        let mut args = vec!["run", "--mode", mode, "--task", task.as_str(), "--dry-run"];
        args.extend(extra.iter().copied());
        let plugin = plugin_arg("misbehave");
        args.insert(1, &plugin);
        let result = run(&args);
        result.expect_code(0);
        assert!(
            result.stdout.starts_with("dry run of misbehave ("),
            "{mode}: {result:#?}"
        );
        assert!(
            result.stdout.contains(&format!("mode:    {mode}")),
            "{mode}: {result:#?}"
        );
        assert!(
            result.stdout.contains(&format!("workers: {start}")),
            "{mode}: {result:#?}"
        );
        assert!(
            result
                .stdout
                .contains(&format!("tasks:   1, the first 1:\n     0  \"{task}\"")),
            "{mode}: {result:#?}"
        );
        assert!(!made.exists(), "{mode}: the task ran: {result:#?}");
        assert!(!launcher_ran.exists(), "{mode}: a worker was started");
    }
}

/// A Splittable plugin says its tasks would be cut; `--no-split` says they would not.
#[test]
fn a_dry_run_says_whether_tasks_are_split() {
    let factorize = plugin_arg("factorize");
    let split = run(&["run", &factorize, "--dry-run", "--mode", "thread"]);
    split.expect_code(0);
    assert!(split.stdout.contains("split:   yes"), "{split:#?}");
    let whole = run(&["run", &factorize, "--dry-run", "--no-split"]);
    whole.expect_code(0);
    assert!(whole.stdout.contains("split:   no"), "{whole:#?}");
}

/// A stream is read only as far as the tasks shown.
#[test]
fn a_dry_run_of_a_stream_shows_its_first_tasks() {
    let mut child = host(&["run", &plugin_arg("factorize"), "--input", "-", "--dry-run"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"1\n2\n3\n4\n5\n6\n7\n")
        .unwrap();
    let result: Run = child.wait_with_output().unwrap().into();
    result.expect_code(0);
    assert!(
        result.stdout.contains("tasks:   more than shown"),
        "{result:#?}"
    );
    assert!(result.stdout.contains("     4  5\n"), "{result:#?}");
    assert!(!result.stdout.contains("     5  6"), "{result:#?}");
}

/// `--dry-run` writes no files, so it refuses the options that would.
#[test]
fn a_dry_run_refuses_report_files() {
    let result = run(&[
        "run",
        &plugin_arg("factorize"),
        "--dry-run",
        "--json",
        "r.json",
    ]);
    result.expect_code(2);
}
