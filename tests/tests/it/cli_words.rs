//! What `host run` says about itself: `-q` keeps only failed tasks and the summary, the runner's
//! line quotes the flags as they were typed and counts in English, a run that cannot start says
//! why once, `-j`/`--jobs` are `--workers`, a refused `--set` number says how to pass text, and a
//! `QUACK_LOG` that means nothing is warned about.

use quack_tests::{host, plugin_arg, run};

/// The `runner:` line of a run's stderr.
fn runner_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|line| line.starts_with("runner: "))
        .unwrap_or_else(|| panic!("no runner line in {stderr}"))
}

#[test]
fn quiet_lists_only_the_failed_tasks_and_the_summary() {
    let factorize = plugin_arg("factorize");
    let result = run(&[
        "run", &factorize, "-q", "--task", "12", "--task", "-5", "--task", "7",
    ]);
    result.expect_code(1);
    assert_eq!(result.stderr, "", "{result:#?}");
    let lines: Vec<&str> = result.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        3,
        "the header, the failed task, the summary: {result:#?}"
    );
    assert!(lines[0].contains("input -> result"), "{result:#?}");
    assert!(
        lines[1].contains("error") && lines[1].contains("-5 -> "),
        "{result:#?}"
    );
    assert!(
        lines[2].starts_with("3 tasks (2 ok, 1 error), 1 failed"),
        "{result:#?}"
    );
    // All well: the summary alone.
    let result = run(&["-q", "run", &factorize, "--task", "12"]);
    result.expect_code(0);
    assert_eq!(result.stdout.lines().count(), 1, "{result:#?}");
    assert!(
        result.stdout.starts_with("1 task (1 ok), 0 failed"),
        "{result:#?}"
    );
    // And the help says exactly that.
    let help = run(&["run", "--help"]);
    assert!(
        help.stdout
            .contains("Print only what failed and the summary: host run lists only the tasks that did not end ok"),
        "{}",
        help.stdout
    );
}

#[test]
fn the_runner_line_quotes_the_workers_flag_as_it_was_typed() {
    let slow = plugin_arg("slow_io");
    for typed in [
        &["-j", "2"][..],
        &["--jobs", "2"],
        &["--jobs=2"],
        &["--workers", "2"],
        &["-j2"],
    ] {
        let mut args = vec![
            "run", &slow, "--task", "0.01", "--task", "0.01", "--task", "0.01", "--mode", "thread",
        ];
        args.extend(typed);
        let result = run(&args);
        result.expect_code(0);
        let quoted = match typed {
            ["--jobs=2"] => "--jobs 2".to_owned(),
            ["-j2"] => "-j 2".to_owned(),
            words => words.join(" "),
        };
        assert_eq!(
            runner_line(&result.stderr),
            format!("runner: thread mode with 2 workers, as asked with --mode thread {quoted}"),
            "{typed:?}"
        );
        assert!(
            result.stdout.contains("mode thread, 2 workers"),
            "{result:#?}"
        );
    }
    // The Animal's refusal names the flag as typed too.
    let result = run(&["run", &plugin_arg("duck"), "-j", "2"]);
    result.expect_code(2);
    assert!(
        result
            .one_error_line()
            .starts_with("error: -j means nothing for an Animal"),
        "{result:#?}"
    );
}

#[test]
fn the_runner_line_counts_in_english_and_promises_no_cut_it_has_not_made() {
    let slow = plugin_arg("slow_io");
    let result = run(&["run", &slow, "--task", "0.01", "--mode", "thread"]);
    result.expect_code(0);
    let line = runner_line(&result.stderr);
    assert!(line.contains("(1 task, at most 1024)"), "{line}");
    // factorize splits 12 into one part: no "cut" is claimed before a split has happened.
    let result = run(&[
        "run",
        &plugin_arg("factorize"),
        "--task",
        "12",
        "--workers",
        "2",
    ]);
    result.expect_code(0);
    let line = runner_line(&result.stderr);
    assert!(!line.contains(" cut "), "{line}");
    assert!(
        line.ends_with("the plugin is Splittable: the task is spread over the workers when its `split` makes several parts"),
        "{line}"
    );
    // --max-fail counts one task as one.
    let result = run(&[
        "run",
        &plugin_arg("factorize"),
        "--task",
        "-1",
        "--task",
        "2",
        "--task",
        "3",
        "--max-fail",
        "1",
        "--mode",
        "inline",
    ]);
    result.expect_code(1);
    assert!(
        result.stderr.contains("the run stopped: 1 task failed, and --max-fail 1 stops the run there; 1 task finished, 2 not run"),
        "{result:#?}"
    );
}

#[test]
fn a_plugin_that_refuses_to_start_is_said_once_and_its_tasks_say_not_run() {
    let factorize = plugin_arg("factorize");
    for mode in ["inline", "thread", "process"] {
        let result = run(&["run", &factorize, "--set", "method=bogus", "--mode", mode]);
        result.expect_code(10);
        let everything = format!("{}{}", result.stdout, result.stderr);
        assert_eq!(
            everything.matches("unknown variant `bogus`").count(),
            1,
            "{mode}: {result:#?}"
        );
        let rows: Vec<&str> = result
            .stdout
            .lines()
            .filter(|line| line.contains("not-run") && line.contains(" -> "))
            .collect();
        assert_eq!(rows.len(), 4, "{mode}: {result:#?}");
        for row in rows {
            assert!(
                row.ends_with("-> not run: the run stopped before it"),
                "{row}"
            );
        }
        assert!(
            result
                .stderr
                .lines()
                .last()
                .unwrap_or_default()
                .starts_with("error: the plugin refused its configuration"),
            "{mode}: {result:#?}"
        );
    }
}

#[test]
fn a_set_number_for_a_text_field_says_how_to_write_the_text() {
    let duck = plugin_arg("duck");
    let result = run(&["run", &duck, "--set", "name=123"]);
    result.expect_code(10);
    let line = result.one_error_line();
    assert!(
        line.contains(
            r#"--set name=123 passes the number 123; for the text, write --set 'name="123"'"#
        ),
        "{line}"
    );
    // Written that way, it is the text.
    let result = run(&["run", &duck, "--set", r#"name="123""#]);
    result.expect_code(0);
    assert_eq!(result.stdout, "123 said Quack!\n");
    // A refusal with no number given as a bare word gets no such advice.
    let result = run(&["run", &plugin_arg("factorize"), "--set", "method=bogus"]);
    result.expect_code(10);
    assert!(!result.stderr.contains("for the text"), "{result:#?}");
}

#[test]
fn a_quack_log_that_means_nothing_gets_one_warning_and_the_run_goes_on() {
    let slow = plugin_arg("slow_io");
    for value in ["dbug", "quack_host=loud", "warn,verbose"] {
        let output = host(&["run", &slow, "--task", "0.01"])
            .env("QUACK_LOG", value)
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{value}: {stderr}");
        let warnings: Vec<&str> = stderr
            .lines()
            .filter(|line| line.starts_with("warning: QUACK_LOG="))
            .collect();
        assert_eq!(warnings.len(), 1, "{value}: {stderr}");
        assert!(warnings[0].contains("is ignored"), "{stderr}");
        assert!(String::from_utf8_lossy(&output.stdout).contains("1 task (1 ok)"));
    }
    // A good one is taken without a word.
    let output = host(&["run", &slow, "--task", "0.01"])
        .env("QUACK_LOG", "warn")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&output.stderr).contains("warning"));
}
