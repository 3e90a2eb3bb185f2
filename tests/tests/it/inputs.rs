//! Where tasks and configuration come from: --task, --input FILE, standard input, and what
//! happens when they are not usable.

use std::io::Write;
use std::process::Stdio;

use quack_tests::{Run, assert_valid_report, host, plugin_arg, run, run_with_report};

/// `host run` of factorize on an input file holding `content`.
fn run_factorize_on_file(content: &str) -> Run {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(file, "{content}").unwrap();
    run(&[
        "run",
        &plugin_arg("factorize"),
        "--input",
        file.path().to_str().unwrap(),
    ])
}

#[test]
fn tasks_stream_from_standard_input_as_json_lines() {
    let mut child = host(&[
        "run",
        &plugin_arg("factorize"),
        "--input",
        "-",
        "--mode",
        "inline",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child.stdin.take().unwrap().write_all(b"6\n28\n").unwrap();
    let result: Run = child.wait_with_output().unwrap().into();
    result.expect_code(0);
    assert!(result.stdout.contains("6 -> [1, 2, 3, 6]"), "{result:#?}");
    assert!(
        result.stdout.contains("28 -> [1, 2, 4, 7, 14, 28]"),
        "{result:#?}"
    );
}

#[test]
fn an_input_file_holds_a_json_array_of_tasks() {
    let result = run_factorize_on_file("[10, 15]");
    result.expect_code(0);
    assert!(result.stdout.contains("15 -> [1, 3, 5, 15]"), "{result:#?}");
}

#[test]
fn invalid_json_input_is_refused_with_its_line() {
    let result = run_factorize_on_file("[10, oops]");
    result.expect_code(9);
    assert!(
        result.one_error_line().contains("is not valid JSON"),
        "{result:#?}"
    );
}

#[test]
fn a_missing_input_file_is_refused() {
    let result = run(&[
        "run",
        &plugin_arg("factorize"),
        "--input",
        "/no/such/tasks.json",
    ]);
    result.expect_code(9);
    assert!(
        result
            .one_error_line()
            .contains("could not read the input /no/such/tasks.json"),
        "{result:#?}"
    );
}

#[test]
fn a_config_that_is_not_an_object_is_refused() {
    let result = run(&["run", &plugin_arg("factorize"), "--config", "[1]"]);
    result.expect_code(9);
    assert!(
        result
            .one_error_line()
            .contains("--config must be a JSON object"),
        "{result:#?}"
    );
}

#[test]
fn an_unknown_factorize_method_is_refused_before_any_task_runs() {
    for mode in ["inline", "thread", "process"] {
        let (result, report) = run_with_report(&[
            "run",
            &plugin_arg("factorize"),
            "--set",
            "method=guess",
            "--mode",
            mode,
        ]);
        result.expect_code(10);
        let last = result.stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with(
                "error: the plugin refused its configuration: unknown variant `guess`"
            ),
            "{mode}: {result:#?}"
        );
        assert_valid_report(&report);
        for task in report["tasks"].as_array().unwrap() {
            assert_eq!(task["status"], "not-run", "{mode}: {task:#}");
        }
        assert_eq!(report["summary"]["not_run"], 4, "{mode}: {report:#}");
    }
}

#[test]
fn a_bad_command_line_exits_with_2() {
    run(&["run", &plugin_arg("factorize"), "--mode", "fast"]).expect_code(2);
    run(&["run", &plugin_arg("factorize"), "--workers", "0"]).expect_code(2);
}

#[test]
fn an_empty_input_file_is_refused_as_empty() {
    for content in ["", "  \n", "[]"] {
        let result = run_factorize_on_file(content);
        result.expect_code(9);
        assert!(
            result.one_error_line().contains("holds no task"),
            "{content:?}: {result:#?}"
        );
    }
}
