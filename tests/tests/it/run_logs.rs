//! The files a run writes for other tools: `--joblog` (a line per finished attempt, GNU
//! parallel's columns first, written as attempts finish) and `--junit` (JUnit XML, checked by
//! parsing it with an XML reader).

use std::time::{Duration, Instant};

use quack_tests::{HANG_GUARD, LiveRun, plugin_arg, run};
use quick_xml::{Reader, XmlVersion, events::Event};

/// What misbehave's `escapes-error` fails with: terminal control sequences, a tab, a newline.
const TERMINAL_ATTACK: &str = "\u{1b}]0;pwned\u{7}\u{1b}]52;c;cHduZWQ=\u{7}\u{1b}]8;;http://evil.example/\u{1b}\\link\u{1b}]8;;\u{1b}\\\u{1b}[2J\u{1b}[Hclear\rover\u{8}\u{8}\u{9b}31mred\u{202e}rtl\u{7f}\ttab\nforged row";

/// The job log's lines (header first), each split into its tab-separated fields.
fn joblog_rows(path: &std::path::Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect()
}

/// Every attempt has its line, with parallel's columns and Quack's; a crash that is retried has
/// a line per attempt with its signal; a plugin's tabs, newlines and terminal escapes stay
/// escaped inside their field.
#[test]
fn the_joblog_has_a_line_per_attempt_in_parallels_columns() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("run.log");
    let result = run(&[
        "run",
        &plugin_arg("misbehave"),
        "--mode",
        "process",
        "--retries",
        "1",
        "--task",
        "ok",
        "--task",
        "error",
        "--task",
        "segfault",
        "--task",
        "escapes-error",
        "--joblog",
        log.to_str().unwrap(),
    ]);
    result.expect_code(1);
    let rows = joblog_rows(&log);
    assert_eq!(
        rows[0].join(" "),
        "Seq Host Starttime JobRuntime Send Receive Exitval Signal Command Task Attempt Worker Status Error"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains('\u{1b}'),
        "no raw escape reaches the log: {text}"
    );
    let attempts = &rows[1..];
    assert_eq!(
        attempts.len(),
        5,
        "ok, error, escapes-error, and segfault twice: {text}"
    );
    for row in attempts {
        assert_eq!(row.len(), 14, "every line has every column: {row:?}");
        let task: u64 = row[9].parse().unwrap();
        assert_eq!(row[0], (task + 1).to_string(), "Seq is the task's id + 1");
        assert!(
            row[2].parse::<f64>().unwrap() > 1.0e9,
            "Starttime is Unix seconds: {row:?}"
        );
    }
    let of = |task: &str| -> Vec<&Vec<String>> {
        attempts.iter().filter(|row| row[9] == task).collect()
    };
    assert_eq!(of("0")[0][6..9], ["0", "0", "\"ok\""]);
    assert_eq!(of("0")[0][5], "4", "Receive is the result's JSON length");
    assert_eq!(of("1")[0][6], "1", "an error's Exitval is 1");
    let crashes = of("2");
    assert_eq!(crashes.len(), 2, "{text}");
    for (number, crash) in crashes.iter().enumerate() {
        assert_eq!(crash[6..8], ["-1", libc::SIGSEGV.to_string().as_str()]);
        assert_eq!(crash[10], (number + 1).to_string(), "its attempt number");
        assert_eq!(crash[12], "crashed");
    }
    let escaped = &of("3")[0][13];
    assert!(
        escaped.contains("\\u{1b}]0;pwned") && escaped.contains("\\ttab\\nforged row"),
        "the plugin's error is one escaped field: {escaped}"
    );
}

/// The log is written as each attempt finishes: a finished task's line is in the file while
/// another task still runs (it never ends by itself; SIGTERM stops the run).
#[test]
fn the_joblog_holds_a_finished_attempt_while_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("run.log");
    let mut live = LiveRun::start(&[
        "run",
        &plugin_arg("misbehave"),
        "--mode",
        "process",
        "--workers",
        "2",
        "--task",
        "hang",
        "--task",
        "ok",
        "--joblog",
        log.to_str().unwrap(),
    ]);
    let deadline = Instant::now() + HANG_GUARD;
    let finished_ok = loop {
        let rows = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(line) = rows.lines().find(|line| line.contains("\t\"ok\"\t")) {
            break line.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no line for the task that ended: {rows:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!live.has_exited(), "the hanging task still runs");
    assert!(finished_ok.contains("\tok\t"), "{finished_ok}");
    live.signal(libc::SIGTERM);
    let result = live.finish();
    result.expect_code(143);
    let rows = joblog_rows(&log);
    let hang = rows.iter().find(|row| row[8] == "\"hang\"").unwrap();
    assert_eq!(
        hang[12], "cancelled",
        "the stopped attempt has its line too: {rows:?}"
    );
}

/// One test case of a JUnit file.
#[derive(Debug, Default)]
struct TestCase {
    name: String,
    /// `failure`, `error` or `skipped`, when it is one.
    outcome: Option<String>,
    message: String,
}

/// The test cases of the JUnit file at `path`, and the `tests` count of its suite, parsed with
/// an XML reader (which fails on anything that is not well-formed XML).
fn junit_cases(path: &std::path::Path) -> (Vec<TestCase>, String) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut reader = Reader::from_str(&text);
    let mut cases = Vec::new();
    let mut tests = String::new();
    let attribute = |element: &quick_xml::events::BytesStart<'_>, name: &[u8]| {
        element
            .try_get_attribute(name)
            .unwrap()
            .map(|value| {
                value
                    .normalized_value(XmlVersion::Explicit1_0)
                    .unwrap()
                    .into_owned()
            })
            .unwrap_or_default()
    };
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|error| panic!("not XML: {error}\n{text}"))
        {
            Event::Eof => break,
            Event::Start(element) | Event::Empty(element) => match element.name().as_ref() {
                b"testsuite" => tests = attribute(&element, b"tests"),
                b"testcase" => cases.push(TestCase {
                    name: attribute(&element, b"name"),
                    ..TestCase::default()
                }),
                outcome @ (b"failure" | b"error" | b"skipped") => {
                    let case = cases.last_mut().unwrap();
                    case.outcome = Some(String::from_utf8(outcome.to_vec()).unwrap());
                    case.message = attribute(&element, b"message");
                }
                _ => {}
            },
            _ => {}
        }
    }
    (cases, tests)
}

/// A JUnit file a CI system reads: a test case per task, in task order; an error is a failure,
/// a crash an error, and a plugin's hostile message is kept as text in valid XML.
#[test]
fn junit_has_a_test_case_per_task_with_its_failure() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    let result = run(&[
        "run",
        &plugin_arg("misbehave"),
        "--mode",
        "process",
        "--task",
        "ok",
        "--task",
        "error",
        "--task",
        "segfault",
        "--task",
        "escapes-error",
        "--task",
        "<&\"'>",
        "--junit",
        path.to_str().unwrap(),
    ]);
    result.expect_code(1);
    let (cases, tests) = junit_cases(&path);
    assert_eq!(tests, "5");
    let names: Vec<&str> = cases.iter().map(|case| case.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "task 0: \"ok\"",
            "task 1: \"error\"",
            "task 2: \"segfault\"",
            "task 3: \"escapes-error\"",
            "task 4: \"<&\\\"'>\""
        ]
    );
    assert_eq!(cases[0].outcome, None, "ok passes");
    assert_eq!(cases[1].outcome.as_deref(), Some("failure"));
    assert_eq!(cases[1].message, "asked to fail");
    assert_eq!(cases[2].outcome.as_deref(), Some("error"));
    assert!(cases[2].message.contains("SIGSEGV"), "{:?}", cases[2]);
    let expected: String = TERMINAL_ATTACK
        .chars()
        .map(|character| match character {
            '\t' | '\n' | '\r' | '\u{20}'.. => character.to_string(),
            control => format!("\\u{{{:x}}}", u32::from(control)),
        })
        .collect();
    assert_eq!(
        cases[3].message, expected,
        "the message survives, its controls as text"
    );
    assert!(cases[4].message.contains("<&\\\"'>"), "{:?}", cases[4]);
}

/// Tasks a run never reached are skipped test cases.
#[test]
fn junit_skips_the_tasks_that_never_ran() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    let result = run(&[
        "run",
        &plugin_arg("misbehave"),
        "--mode",
        "inline",
        "--max-fail",
        "1",
        "--task",
        "error",
        "--task",
        "ok",
        "--junit",
        path.to_str().unwrap(),
    ]);
    result.expect_code(1);
    let (cases, _) = junit_cases(&path);
    assert_eq!(cases.len(), 2, "{cases:?}");
    assert_eq!(cases[1].outcome.as_deref(), Some("skipped"), "{cases:?}");
    assert!(cases[1].message.starts_with("not-run"), "{cases:?}");
}

/// `--joblog` and `--junit` never overwrite the run's own files, and a place that cannot be
/// written is said before anything runs.
#[test]
fn log_files_are_refused_where_they_would_do_harm() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = plugin_arg("misbehave");
    let result = run(&["run", &plugin, "--task", "ok", "--joblog", &plugin]);
    result.expect_code(2);
    assert!(
        result.one_error_line().contains("is the plugin itself"),
        "{result:#?}"
    );
    let nowhere = dir.path().join("no/such/dir/junit.xml");
    let result = run(&[
        "run",
        &plugin,
        "--task",
        "ok",
        "--junit",
        nowhere.to_str().unwrap(),
    ]);
    result.expect_code(11);
    assert!(
        result
            .one_error_line()
            .contains("could not write the --junit file"),
        "{result:#?}"
    );
}
