//! Text from plugins and reports cannot drive the terminal: the table's results and errors, what a
//! plugin prints (relayed as `[plugin NAME]` or `[worker N]`), an animal's speech, a plugin's
//! name, summary, methods and examples in `host inspect` and `host list`, and what `host compare`
//! quotes from a report all show their control characters escaped (`\u{1b}`, `\r`, `\n`, ...),
//! so no window title, clipboard write, hyperlink, screen clear, CR or BS reaches the terminal,
//! and a newline cannot forge a line. JSON output keeps the text exactly.

use std::path::Path;

use quack_tests::{HANG_GUARD, Run, host, plugin, plugin_arg, run_within};
use serde_json::Value;

/// What the misbehave fixture answers, fails with or prints for its `escapes-*` tasks.
const ATTACK: &str = "\u{1b}]0;pwned\u{7}\u{1b}]52;c;cHduZWQ=\u{7}\u{1b}]8;;http://evil.example/\u{1b}\\link\u{1b}]8;;\u{1b}\\\u{1b}[2J\u{1b}[Hclear\rover\u{8}\u{8}\u{9b}31mred\u{202e}rtl\u{7f}\ttab\nforged row";

/// How the host shows the start of [`ATTACK`].
const ATTACK_SHOWN: &str = "\\u{1b}]0;pwned\\u{7}\\u{1b}]52;c;cHduZWQ=\\u{7}";

/// Characters a terminal acts on (ESC, BEL, CR, BS, C1 CSI, RLO, DEL, tab).
const ACTED_ON: &[char] = &[
    '\u{1b}', '\u{7}', '\r', '\u{8}', '\u{9b}', '\u{202e}', '\u{7f}', '\t',
];

/// Asserts that nothing in `text` drives a terminal and that no line was forged.
#[track_caller]
fn assert_harmless(what: &str, text: &str, run: &Run) {
    if let Some(raw) = text.chars().find(|c| ACTED_ON.contains(c)) {
        panic!("{what} holds {raw:?} raw: {run:#?}");
    }
    assert!(
        !text.lines().any(|line| line.starts_with("forged")),
        "{what} has a forged line: {run:#?}"
    );
}

#[track_caller]
fn assert_all_harmless(run: &Run) {
    assert_harmless("stdout", &run.stdout, run);
    assert_harmless("stderr", &run.stderr, run);
}

#[test]
fn results_and_errors_in_the_table_are_escaped_in_every_mode() {
    let misbehave = plugin_arg("misbehave");
    for mode in ["inline", "thread", "process"] {
        let result = run_within(
            &[
                "run",
                &misbehave,
                "--task",
                "escapes-result",
                "--task",
                "escapes-error",
                "--mode",
                mode,
                "--workers",
                "1",
            ],
            HANG_GUARD,
        );
        result.expect_code(1);
        assert_all_harmless(&result);
        let rows: Vec<&str> = result
            .stdout
            .lines()
            .filter(|line| line.contains(ATTACK_SHOWN))
            .collect();
        assert_eq!(rows.len(), 2, "{mode}: one row per task: {result:#?}");
        assert!(
            rows.iter().all(|row| row.contains("\\ttab\\nforged row")),
            "{mode}: {result:#?}"
        );
    }
}

#[test]
fn json_output_keeps_the_text_exactly() {
    let misbehave = plugin_arg("misbehave");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let result = run_within(
        &[
            "run",
            &misbehave,
            "--task",
            "escapes-result",
            "--task",
            "escapes-error",
            // One at a time, so the lines come in task order.
            "--mode",
            "inline",
            "--format",
            "jsonl",
            "--json",
            report.to_str().unwrap(),
        ],
        HANG_GUARD,
    );
    result.expect_code(1);
    let lines: Vec<Value> = result
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .filter(|line: &Value| line["type"] == "task")
        .collect();
    assert_eq!(lines[0]["output"], ATTACK, "{result:#?}");
    assert_eq!(lines[1]["error"], ATTACK, "{result:#?}");
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(report["tasks"][0]["output"], ATTACK);
    assert_eq!(report["tasks"][1]["error"], ATTACK);
}

#[test]
fn what_a_plugin_prints_is_relayed_escaped() {
    let misbehave = plugin_arg("misbehave");
    for (mode, marker) in [
        ("inline", "[plugin misbehave] "),
        ("process", "[worker 0] "),
    ] {
        let result = run_within(
            &[
                "run",
                &misbehave,
                "--task",
                "escapes-print",
                "--mode",
                mode,
                "--workers",
                "1",
            ],
            HANG_GUARD,
        );
        result.expect_code(0);
        assert_all_harmless(&result);
        assert!(
            result
                .stderr
                .lines()
                .any(|line| line.starts_with(marker) && line.contains(ATTACK_SHOWN)),
            "{mode}: {result:#?}"
        );
    }
}

#[test]
fn an_animals_speech_is_escaped() {
    let duck = plugin_arg("duck");
    let name = "Donald\u{1b}]0;pwned\u{7}\r\u{1b}[2J";
    let result = run_within(
        &["run", &duck, "--set", &format!("name={name}")],
        HANG_GUARD,
    );
    result.expect_code(0);
    assert_all_harmless(&result);
    assert_eq!(
        result.stdout, "Donald\\u{1b}]0;pwned\\u{7}\\r\\u{1b}[2J said Quack!\n",
        "{result:#?}"
    );
}

/// `host ARGS` with the hostile fixture's names full of escapes.
fn with_escaping_names(args: &[&str]) -> Run {
    host(args)
        .env("HOSTILE_FIXTURE", "escapes")
        .output()
        .unwrap()
        .into()
}

#[test]
fn inspect_shows_what_the_plugin_says_about_itself_escaped() {
    let hostile = plugin_arg("hostile");
    let result = with_escaping_names(&["inspect", &hostile]);
    result.expect_code(0);
    assert_all_harmless(&result);
    for shown in [
        "hostile\\u{1b}]0;pwned\\u{7} 0.1.0\\u{1b}[2J\\u{1b}[H",
        "  a summary\\rover\\u{8}\\u{9b}31m\\u{202e}\\nforged line",
        "  wipe\\u{1b}[2J\\u{1b}[3J(string) -> string",
        "a\\u{1b}]52;c;cHduZWQ=\\u{7}",
        "\\u{1b}]8;;http://evil.example/\\u{1b}\\x",
    ] {
        assert!(result.stdout.contains(shown), "{shown}: {result:#?}");
    }
    // The JSON says exactly what the plugin said.
    let json = with_escaping_names(&["inspect", &hostile, "--json"]);
    json.expect_code(0);
    let inspection: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(inspection["name"], "hostile\u{1b}]0;pwned\u{7}");
    assert_eq!(
        inspection["summary"],
        "a summary\rover\u{8}\u{9b}31m\u{202e}\nforged line"
    );
}

#[test]
fn list_shows_names_and_file_names_escaped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(plugin("hostile"), dir.path().join("libhostile.so")).unwrap();
    // A file name can hold control characters too.
    std::fs::write(
        dir.path().join("lib\u{1b}]0;file\u{7}.so"),
        b"not a library",
    )
    .unwrap();
    let result = with_escaping_names(&["list", dir.path().to_str().unwrap()]);
    assert_all_harmless(&result);
    assert!(
        result
            .stdout
            .contains("hostile\\u{1b}]0;pwned\\u{7} 0.1.0\\u{1b}[2J\\u{1b}[H: Workload"),
        "{result:#?}"
    );
    assert!(
        result.stdout.contains("lib\\u{1b}]0;file\\u{7}.so"),
        "{result:#?}"
    );
}

#[test]
fn a_run_and_its_errors_quote_the_plugin_escaped() {
    let hostile = plugin_arg("hostile");
    // The plugin takes no configuration: the refusal names the plugin.
    let result = with_escaping_names(&["run", &hostile, "--set", "x=1"]);
    assert_ne!(result.code, Some(0), "{result:#?}");
    assert_all_harmless(&result);
    let result = with_escaping_names(&["run", &hostile]);
    result.expect_code(0);
    assert_all_harmless(&result);
    assert!(
        result.stdout.contains("a\\u{1b}]52;c;cHduZWQ=\\u{7}"),
        "{result:#?}"
    );
}

/// A report of the misbehave fixture's `tasks`, at `dir/name`.
fn report(dir: &Path, name: &str, tasks: &[&str]) -> std::path::PathBuf {
    let path = dir.join(name);
    let misbehave = plugin_arg("misbehave");
    let mut args = vec!["run", misbehave.as_str(), "--json", path.to_str().unwrap()];
    for task in tasks {
        args.extend(["--task", task]);
    }
    run_within(&args, HANG_GUARD);
    assert!(path.exists());
    path
}

#[test]
fn compare_quotes_reports_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let old = report(dir.path(), "old.json", &["ok", "escapes-result"]);
    let new = report(dir.path(), "new.json", &["escapes-error", "escapes-result"]);
    // A report is a file anyone can write: its host name says what it likes.
    let mut edited: Value = serde_json::from_slice(&std::fs::read(&new).unwrap()).unwrap();
    edited["machine"]["host_name"] = Value::from(ATTACK);
    edited["tasks"][1]["output"] = Value::from(format!("{ATTACK}, again"));
    std::fs::write(&new, serde_json::to_vec(&edited).unwrap()).unwrap();
    let result = run_within(
        &[
            "compare",
            old.to_str().unwrap(),
            new.to_str().unwrap(),
            "--force",
        ],
        HANG_GUARD,
    );
    result.expect_code(1);
    assert_all_harmless(&result);
    // The error of the changed status, the changed output and the new report's host name.
    assert!(
        result
            .stdout
            .lines()
            .any(|line| line.starts_with("  task 0  ok -> error: ") && line.contains(ATTACK_SHOWN)),
        "{result:#?}"
    );
    assert!(
        result
            .stdout
            .lines()
            .any(|line| line.starts_with("  task 1  ") && line.contains("]0;pwned")),
        "{result:#?}"
    );
    assert!(
        result.stderr.lines().any(|line| line
            .starts_with("warning: the runs were on different machines")
            && line.contains(ATTACK_SHOWN)),
        "{result:#?}"
    );
    // The JSON comparison keeps the text as the reports say it.
    let json = run_within(
        &[
            "compare",
            old.to_str().unwrap(),
            new.to_str().unwrap(),
            "--format",
            "json",
        ],
        HANG_GUARD,
    );
    let comparison: Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(
        comparison.to_string().contains("\\u001b]0;pwned"),
        "{json:#?}"
    );
}
