//! `--isolate` (and a launcher): no plugin code runs in the host process, not even its loading:
//! a probe in a child says what the plugin is, tasks run in workers, and `split`/`merge` run in a
//! worker of their own.

use std::process::Stdio;

use quack_tests::{host, plugin_arg, seed_lines};

#[test]
fn an_isolated_run_never_loads_the_plugin_into_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let loads = dir.path().join("loads");
    for options in [&["--isolate"][..], &["--launcher", "env"]] {
        std::fs::write(&loads, b"").unwrap();
        let output = host(&["run", &plugin_arg("hostile"), "--task", "a", "--task", "b"])
            .args(options)
            .env("HOSTILE_LOADS", &loads)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{options:?}: {output:?}");
        let lines = std::fs::read_to_string(&loads).unwrap();
        assert!(!lines.is_empty(), "the fixture recorded no load at all");
        for line in lines.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            assert!(
                matches!(words.get(1), Some(&"probe") | Some(&"worker")),
                "{options:?}: plugin code ran in `{line}`"
            );
        }
    }
    // Without isolation, the host itself loads it (the fixture's record works).
    std::fs::write(&loads, b"").unwrap();
    let output = host(&["run", &plugin_arg("hostile"), "--task", "a"])
        .env("HOSTILE_LOADS", &loads)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let lines = std::fs::read_to_string(&loads).unwrap();
    assert!(
        lines
            .lines()
            .any(|line| line.split_whitespace().nth(1) == Some("run")),
        "{lines}"
    );
}

#[test]
fn an_isolated_splittable_run_splits_in_a_worker_and_gets_the_seeds_lists() {
    let (run, report) = quack_tests::run_with_report(&[
        "run",
        &plugin_arg("factorize"),
        "--isolate",
        "--workers",
        "2",
    ]);
    run.expect_code(0);
    for line in seed_lines() {
        assert!(run.stdout.contains(&line), "{line}: {run:#?}");
    }
    let parts = report["tasks"][0]["parts"].as_u64().unwrap_or(0);
    assert!(parts > 1, "53541233 was split (in a worker): {report:#}");
}
