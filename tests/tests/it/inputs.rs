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
    let result = run_factorize_on_file("[\n  10,\n  15\n]\n");
    result.expect_code(0);
    assert!(result.stdout.contains("10 -> [1, 2, 5, 10]"), "{result:#?}");
    assert!(result.stdout.contains("15 -> [1, 3, 5, 15]"), "{result:#?}");
}

/// JSON Lines whose lines are arrays: each line is one task, a single line too, on standard input
/// as in a file.
#[test]
fn json_lines_of_arrays_are_one_task_a_line() {
    for (lines, inputs) in [
        ("[10, 15]\n", vec![serde_json::json!([10, 15])]),
        ("[10, 15]", vec![serde_json::json!([10, 15])]),
        (
            "\n[6]\n[10, 15]\n28\n",
            vec![
                serde_json::json!([6]),
                serde_json::json!([10, 15]),
                serde_json::json!(28),
            ],
        ),
    ] {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        write!(file, "{lines}").unwrap();
        for input in [file.path().to_str().unwrap(), "-"] {
            let mut command = host(&[]);
            command.args([
                "run",
                &plugin_arg("factorize"),
                "--input",
                input,
                "--format",
                "json",
            ]);
            if input == "-" {
                command.stdin(std::fs::File::open(file.path()).unwrap());
            }
            let result: Run = command.output().unwrap().into();
            let report: serde_json::Value = serde_json::from_str(&result.stdout)
                .unwrap_or_else(|_| panic!("{lines:?}: {result:#?}"));
            let read: Vec<&serde_json::Value> = report["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|task| &task["input"])
                .collect();
            assert_eq!(
                read,
                inputs.iter().collect::<Vec<_>>(),
                "{lines:?} from {input}"
            );
        }
    }
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
    // An empty array over lines is an empty list; `[]` on one line would be one task.
    for content in ["", "  \n", "[\n]", "\n[\n\n]\n"] {
        let result = run_factorize_on_file(content);
        result.expect_code(9);
        assert!(
            result.one_error_line().contains("holds no task"),
            "{content:?}: {result:#?}"
        );
    }
}

/// JSON Lines input, every line its own task in every mode: a line that is not JSON and one
/// nested deeper than JSON readers take (serde_json's 127 levels) are failed tasks of their own;
/// the others run, their input written as given with the spaces between tokens taken out (keys
/// in their order, numbers as spelled); the report reads back, so `host compare` takes it.
#[test]
fn json_lines_keep_their_values_and_refuse_what_a_report_could_not_hold() {
    let too_deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let lines = format!("12\nnot json\n{too_deep}\n{{\"n\": 6, \"from\": 1, \"to\": 6}}\n  28  \n");
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(lines.as_bytes()).unwrap();
    let input = file.path().to_str().unwrap();
    for mode in ["inline", "thread", "process"] {
        let (result, report) = run_with_report(&[
            "run",
            &plugin_arg("factorize"),
            "--input",
            input,
            "--mode",
            mode,
        ]);
        result.expect_code(1);
        assert_valid_report(&report);
        let tasks = report["tasks"].as_array().unwrap();
        assert_eq!(tasks.len(), 5, "{mode}: {report:#}");
        assert_eq!(tasks[0]["output"], serde_json::json!([1, 2, 3, 4, 6, 12]));
        let error = |id: usize| tasks[id]["error"].as_str().unwrap_or_default().to_owned();
        assert!(
            error(1).starts_with("line 2 is not JSON"),
            "{mode}: {}",
            error(1)
        );
        assert!(
            error(2).starts_with("line 3 is not JSON (recursion limit exceeded"),
            "{mode}: {}",
            error(2)
        );
        assert_eq!(
            tasks[3]["input"],
            serde_json::json!({"n": 6, "from": 1, "to": 6})
        );
        assert_eq!(tasks[3]["status"], "ok", "{mode}: {report:#}");
        assert_eq!(tasks[4]["output"], serde_json::json!([1, 2, 4, 7, 14, 28]));

        // The same lines as a JSON Lines stream: each value is written compact, in key order.
        let jsonl = run(&[
            "run",
            &plugin_arg("factorize"),
            "--input",
            input,
            "--mode",
            mode,
            "--format",
            "jsonl",
        ]);
        assert!(
            jsonl
                .stdout
                .contains(r#""input":{"n":6,"from":1,"to":6},"status":"ok""#),
            "{mode}: {jsonl:#?}"
        );
    }
}

/// `find ... | host run P --input - --input-format lines`: each line is one string task, its line
/// ending left out (a CRLF too), blank lines skipped, and a line that is not UTF-8 fails alone.
#[test]
fn lines_from_standard_input_are_string_tasks() {
    let mut child = host(&[
        "run",
        &plugin_arg("misbehave"),
        "--input",
        "-",
        "--input-format",
        "lines",
        "--json",
        "-",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"ok\nerror\r\n\n\xff\xfe\nok\n")
        .unwrap();
    let result: Run = child.wait_with_output().unwrap().into();
    result.expect_code(1);
    let report: serde_json::Value = serde_json::from_str(&result.stdout).unwrap();
    assert_valid_report(&report);
    let tasks = report["tasks"].as_array().unwrap();
    let seen: Vec<(&serde_json::Value, &serde_json::Value)> = tasks
        .iter()
        .map(|task| (&task["input"], &task["status"]))
        .collect();
    assert_eq!(seen.len(), 4, "{report:#}");
    assert_eq!(seen[0], (&"ok".into(), &"ok".into()));
    assert_eq!(seen[1], (&"error".into(), &"error".into()), "no \\r kept");
    assert_eq!(seen[3], (&"ok".into(), &"ok".into()));
    assert!(
        tasks[2]["error"]
            .as_str()
            .unwrap()
            .starts_with("line 4 is not UTF-8 text"),
        "{report:#}"
    );
}

/// A CSV file (picked by its name with the default `auto`) gives one object per row, named by
/// the header; a row with the wrong number of fields is a failed task of its own.
#[test]
fn csv_rows_are_object_tasks_named_by_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tasks.csv");
    std::fs::write(&path, "n,from,to\n12,1,12\n\"28\",1,28\n5,1\n").unwrap();
    let (result, report) = run_with_report(&[
        "run",
        &plugin_arg("factorize"),
        "--no-split",
        "--input",
        path.to_str().unwrap(),
    ]);
    result.expect_code(1);
    let tasks = report["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 3, "{report:#}");
    assert_eq!(
        tasks[0]["input"],
        serde_json::json!({"n": 12, "from": 1, "to": 12})
    );
    assert_eq!(tasks[0]["status"], "ok", "{report:#}");
    assert_eq!(tasks[1]["status"], "ok", "{report:#}");
    assert!(
        tasks[2]["error"]
            .as_str()
            .unwrap()
            .starts_with("row 4 has 2 fields where the header has 3"),
        "{report:#}"
    );
}

/// A CSV header that cannot name fields stops the run before it starts, with a sentence.
#[test]
fn a_csv_header_with_a_name_twice_is_refused() {
    let mut file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    write!(file, "n,n\n1,2\n").unwrap();
    let result = run(&[
        "run",
        &plugin_arg("factorize"),
        "--input",
        file.path().to_str().unwrap(),
    ]);
    result.expect_code(9);
    assert!(
        result
            .one_error_line()
            .contains("the name \"n\" is given to two columns"),
        "{result:#?}"
    );
}

/// `--task` beside `--input`: the given tasks run first, with the first ids.
#[test]
fn tasks_given_beside_an_input_run_first() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(file, "10\n15\n").unwrap();
    let (result, report) = run_with_report(&[
        "run",
        &plugin_arg("factorize"),
        "--task",
        "7",
        "--input",
        file.path().to_str().unwrap(),
    ]);
    result.expect_code(0);
    let inputs: Vec<(u64, i64)> = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|task| {
            (
                task["id"].as_u64().unwrap(),
                task["input"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut sorted = inputs.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![(0, 7), (1, 10), (2, 15)], "{report:#}");
}
