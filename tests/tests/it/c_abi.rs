//! Plugins of the C ABI (sdk/c/quack.h), built from their sources with the system's compilers:
//! the C factorizer, the C++ animal and the Go factorizer of `examples/`, and a hostile C
//! plugin (`tests/native/misbehave.c`). Each runs through the real `host` as a Rust plugin does:
//! every mode, splitting, `--isolate`, launchers and shipping, `inspect` and `list`; its faults
//! cost what a Rust plugin's cost, and everything it hands back is checked.

use std::path::{Path, PathBuf};

use quack_tests::{
    Run, SEED, assert_valid_report, native, run, run_with_report, seed_lines, task_record,
};
use serde_json::Value;

fn arg(path: &Path) -> String {
    path.display().to_string()
}

/// Asserts that `run` printed each of the seed's four lines once.
#[track_caller]
fn assert_seed(run: &Run) {
    for line in seed_lines() {
        assert_eq!(run.stdout.matches(&line).count(), 1, "{line}: {run:#?}");
    }
}

/// The `runner:` line of a run.
fn runner_line(run: &Run) -> &str {
    run.stderr
        .lines()
        .find(|line| line.starts_with("runner: "))
        .unwrap_or_else(|| panic!("no runner line: {run:#?}"))
}

#[test]
fn the_c_factorizer_runs_the_seed_in_every_mode_and_cuts_the_big_number_into_parts() {
    let Some(plugin) = native::c_factorize() else {
        return;
    };
    let plugin = arg(&plugin);
    for mode in ["inline", "thread", "process"] {
        let (run, report) = run_with_report(&["run", &plugin, "--mode", mode]);
        run.expect_code(0);
        assert_seed(&run);
        assert_valid_report(&report);
        assert_eq!(report["runner"]["mode"], mode, "{report:#}");
        assert_eq!(report["plugin"]["abi_version"], "C 1.0", "{report:#}");
        let interfaces = report["plugin"]["interfaces"].as_array().unwrap();
        assert!(
            interfaces.contains(&Value::from("Splittable")),
            "{report:#}"
        );
        if mode != "inline" {
            // 53541233 is cut into parts its split made, spread over the workers.
            let big = task_record(&report, 0);
            assert!(big["parts"].as_u64().unwrap() > 1, "{mode}: {big:#}");
        }
    }
}

#[test]
fn the_c_factorizer_gives_the_rust_plugins_answers_and_sentences_for_bad_tasks() {
    let Some(plugin) = native::c_factorize() else {
        return;
    };
    let plugin = arg(&plugin);
    let run = run(&[
        "run",
        &plugin,
        "--mode",
        "inline",
        "--format",
        "jsonl",
        "--task",
        "12",
        "--task",
        r#"{"n": 53541233, "from": 1, "to": 10000}"#,
        "--task",
        "0",
        "--task",
        "-5",
        "--task",
        r#""abc""#,
        "--task",
        "18446744073709551616",
    ]);
    run.expect_code(1);
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .filter(|line: &Value| line["type"] == "task")
        .collect();
    let by_id = |id: u64| lines.iter().find(|line| line["id"] == id).unwrap();
    assert_eq!(by_id(0)["output"], serde_json::json!([1, 2, 3, 4, 6, 12]));
    assert_eq!(by_id(1)["output"], serde_json::json!([1, 5501, 9733]));
    for (id, fragment) in [
        (2, "the number is 0, which every number divides"),
        (3, "the number is negative"),
        (4, "the number is a string, not a number"),
        (5, "beyond the largest supported number"),
    ] {
        let line = by_id(id);
        assert_eq!(line["status"], "error", "{line:#}");
        assert!(
            line["error"].as_str().unwrap().contains(fragment),
            "{fragment}: {line:#}"
        );
    }
}

#[test]
fn the_guides_complete_example_builds_and_runs_as_the_guide_shows() {
    let guide_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/writing-plugins-c.md");
    let guide = std::fs::read_to_string(&guide_path).unwrap();
    // The first C block of the guide is the whole plugin.
    let start = guide.find("```c\n").expect("the guide has a C block") + "```c\n".len();
    let length = guide[start..].find("```").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("square.c");
    std::fs::write(&source, &guide[start..start + length]).unwrap();
    let Some(plugin) = native::c_file(&source, "libsquare.so") else {
        return;
    };
    let run = run(&[
        "run",
        &arg(&plugin),
        "--mode",
        "inline",
        "--task",
        "12",
        "--task",
        "65536",
        "--task",
        "-1",
    ]);
    run.expect_code(1);
    for line in [
        "12 -> 144",
        "65536 -> 4294967296",
        "-1 -> invalid input: the task is a whole number from 0 to 4294967295",
    ] {
        assert!(run.stdout.contains(line), "{line}: {run:#?}");
        assert!(guide.contains(line), "the guide shows {line}");
    }
}

#[test]
fn inspect_and_list_show_a_c_plugin_as_they_show_a_rust_one() {
    let Some(plugin) = native::c_factorize() else {
        return;
    };
    let shown = run(&["inspect", &arg(&plugin)]);
    shown.expect_code(0);
    for line in [
        "c-factorize 1.0.0",
        "ABI version:   C 1.0",
        "  run(Task) -> [u64]",
        "  split(Task) -> [Task]",
        "  merge([[u64]]) -> [u64]",
        "  Splittable  yes",
        "  run(53541233) -> [1, 5501, 9733, 53541233]",
    ] {
        assert!(
            shown.stdout.lines().any(|shown| shown == line),
            "{line}: {shown:#?}"
        );
    }
    let json = run(&["inspect", &arg(&plugin), "--json"]);
    json.expect_code(0);
    let value: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["abi_version"], "C 1.0", "{value:#}");
    // Its examples are run by inspect's own check, as a Rust plugin's are.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&plugin, dir.path().join("libc_factorize.so")).unwrap();
    let listed = run(&["list", dir.path().to_str().unwrap()]);
    listed.expect_code(0);
    assert!(
        listed
            .stdout
            .contains("c-factorize 1.0.0: Workload, Splittable"),
        "{listed:#?}"
    );
}

#[test]
fn an_isolated_run_and_a_launcher_run_a_c_plugin_in_worker_processes_only() {
    let Some(plugin) = native::c_factorize() else {
        return;
    };
    let plugin = arg(&plugin);
    let isolated = run(&["run", &plugin, "--isolate", "--task", "5423123"]);
    isolated.expect_code(0);
    assert!(
        isolated.stdout.contains("5423123 -> [1, 5423123]"),
        "{isolated:#?}"
    );
    assert!(
        runner_line(&isolated).starts_with("runner: process mode because --isolate was given"),
        "{isolated:#?}"
    );
    let launched = run(&["run", &plugin, "--launcher", "env", "--workers", "2"]);
    launched.expect_code(0);
    assert_seed(&launched);
    assert!(
        runner_line(&launched).contains("workers start through a launcher"),
        "{launched:#?}"
    );
}

#[test]
fn a_worker_that_cannot_see_a_c_plugin_is_sent_it_by_the_host() {
    let Some(plugin) = native::c_factorize() else {
        return;
    };
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.starts_with(b"0\n"));
    if !root {
        eprintln!("skipped: hiding the plugin's directory needs root (unshare --mount)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("libc_factorize.so");
    std::fs::copy(&plugin, &copy).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let launcher = format!(
        "unshare --mount --propagation private sh -c 'mount -t tmpfs none {} && exec \"$@\"' sh",
        dir.path().display()
    );
    let run = quack_tests::host(&[
        "run",
        copy.to_str().unwrap(),
        "--launcher",
        &launcher,
        "--workers",
        "2",
    ])
    .env("XDG_CACHE_HOME", cache.path())
    .output()
    .unwrap();
    let run = Run::from(run);
    run.expect_code(0);
    assert_seed(&run);
    assert!(run.stderr.contains("the host sends the plugin"), "{run:#?}");
}

/// The hostile C plugin's tasks `tasks` in `mode`, with the report.
fn misbehave(mode: &str, extra: &[&str], tasks: &[&str]) -> Option<(Run, Value)> {
    let plugin = arg(&native::c_misbehave(None)?);
    let mut args = vec!["run", plugin.as_str(), "--mode", mode];
    args.extend_from_slice(extra);
    let quoted: Vec<String> = tasks.iter().map(|task| format!("\"{task}\"")).collect();
    for task in &quoted {
        args.extend(["--task", task.as_str()]);
    }
    Some(run_with_report(&args))
}

#[test]
fn a_c_task_that_segfaults_costs_only_its_task_in_process_mode() {
    let Some((run, report)) = misbehave(
        "process",
        &["--workers", "2"],
        &["one", "segfault", "two", "abort", "three"],
    ) else {
        return;
    };
    run.expect_code(1);
    assert_valid_report(&report);
    for (id, status) in [
        (0, "ok"),
        (1, "crashed"),
        (2, "ok"),
        (3, "crashed"),
        (4, "ok"),
    ] {
        assert_eq!(task_record(&report, id)["status"], status, "{report:#}");
    }
    let segfault = task_record(&report, 1)["error"].as_str().unwrap();
    assert!(segfault.contains("SIGSEGV"), "{segfault}");
    assert_eq!(task_record(&report, 4)["output"], "three");
}

#[test]
fn a_c_task_past_its_time_limit_times_out_in_process_and_thread_mode() {
    for mode in ["process", "thread"] {
        let Some((run, report)) = misbehave(
            mode,
            &["--workers", "2", "--timeout", "300ms"],
            &["sleep", "after"],
        ) else {
            return;
        };
        run.expect_code(1);
        let hung = task_record(&report, 0);
        assert_eq!(hung["status"], "timeout", "{mode}: {hung:#}");
        assert_eq!(
            task_record(&report, 1)["output"],
            "after",
            "{mode}: {report:#}"
        );
    }
}

#[test]
fn what_a_c_plugin_hands_back_is_checked_and_every_fault_is_one_sentence() {
    let tasks = [
        "null",
        "garbage",
        "not-utf8",
        "bad-status",
        "error-without-message",
        "fail",
        "fine",
    ];
    let expected = [
        "the plugin's `run` returned QUACK_OK but no result (a null pointer)",
        "the plugin returned invalid JSON: ",
        "the plugin's `run` returned text that is not UTF-8 (byte 0xe9 at offset 4)",
        "the plugin's `run` returned status 42, which quack.h does not define; this is a bug in the plugin",
        "the plugin's `run` failed without a message",
        "the task failed as asked",
    ];
    for mode in ["inline", "process"] {
        let Some((run, report)) = misbehave(mode, &[], &tasks) else {
            return;
        };
        run.expect_code(1);
        assert_valid_report(&report);
        for (id, fragment) in expected.iter().enumerate() {
            let record = task_record(&report, id as u64);
            assert_eq!(record["status"], "error", "{mode}: {record:#}");
            let error = record["error"].as_str().unwrap();
            assert!(error.contains(fragment), "{mode}: {fragment}: {error}");
        }
        assert_eq!(task_record(&report, 6)["output"], "fine", "{report:#}");
        assert!(!run.stderr.contains("panicked at"), "{run:#?}");
    }
}

#[test]
fn a_huge_result_from_a_c_plugin_arrives_whole() {
    let Some((run, report)) = misbehave("process", &[], &["huge"]) else {
        return;
    };
    run.expect_code(0);
    let output = task_record(&report, 0)["output"].as_str().unwrap();
    assert_eq!(output.len(), 16 << 20);
    assert!(output.bytes().all(|byte| byte == b'x'));
}

/// The hostile plugin built with the table fault `variant`.
fn variant(variant: &str) -> Option<PathBuf> {
    native::c_misbehave(Some(variant))
}

#[test]
fn a_c_plugin_of_another_major_is_refused_in_one_sentence_with_exit_code_6() {
    let Some(plugin) = variant("MAJOR_PLUS_ONE") else {
        return;
    };
    let plugin = arg(&plugin);
    for command in ["run", "inspect"] {
        let refused = run(&[command, &plugin]);
        refused.expect_code(6);
        let line = refused.one_error_line();
        assert!(
            line.contains("was built for Quack's C ABI 2.0 but this host speaks C ABI 1.0")
                && line.contains("rebuild the plugin with the quack.h of C ABI 1.0"),
            "{line}"
        );
    }
}

#[test]
fn a_c_plugin_of_a_later_minor_loads_and_runs() {
    let Some(plugin) = variant("MINOR_PLUS_ONE") else {
        return;
    };
    let (run, report) = run_with_report(&["run", &arg(&plugin), "--task", "7"]);
    run.expect_code(0);
    assert_eq!(report["plugin"]["abi_version"], "C 1.1", "{report:#}");
    assert_eq!(task_record(&report, 0)["output"], 7, "{report:#}");
}

#[test]
fn a_broken_table_or_description_is_a_plugin_bug_in_one_sentence_with_exit_code_7() {
    let cases = [
        (
            "NULL_TABLE",
            "its quack_plugin_v1 failed (it returned a null pointer instead of its table)",
        ),
        ("NULL_CALL", "its table failed (`call` is a null pointer"),
        (
            "BAD_DESCRIBE",
            "its describe failed (its JSON is not a description",
        ),
        (
            "NULL_DESCRIBE",
            "`describe` returned QUACK_OK but no text (a null pointer)",
        ),
        ("BAD_METHODS", "its JSON is not a list of signatures"),
    ];
    for (name, fragment) in cases {
        let Some(plugin) = variant(name) else {
            return;
        };
        let refused = run(&["run", &arg(&plugin)]);
        refused.expect_code(7);
        let line = refused.one_error_line();
        assert!(
            line.contains(fragment) && line.ends_with("this is a bug in the plugin"),
            "{name}: {line}"
        );
    }
}

#[test]
fn a_configuration_a_c_plugin_refuses_is_exit_code_10_in_every_mode() {
    let Some(plugin) = variant("REFUSE_CONFIG") else {
        return;
    };
    let plugin = arg(&plugin);
    for mode in ["inline", "thread", "process"] {
        let refused = run(&["run", &plugin, "--mode", mode, "--task", "1"]);
        refused.expect_code(10);
        assert!(
            refused
                .stderr
                .contains("c-misbehave refuses every configuration"),
            "{mode}: {refused:#?}"
        );
    }
}

#[test]
fn the_cpp_animal_speaks_and_its_exceptions_stop_at_the_boundary() {
    let Some(plugin) = native::cpp_animal() else {
        return;
    };
    let plugin = arg(&plugin);
    let spoken = run(&["run", &plugin]);
    spoken.expect_code(0);
    assert_eq!(spoken.stdout, "Tom said Meow!\n", "{spoken:#?}");
    let named = run(&["run", &plugin, "--set", "name=Felix", "--set", "sound=Purr"]);
    named.expect_code(0);
    assert_eq!(named.stdout, "Felix said Purr\n", "{named:#?}");

    // A std::exception thrown by sound() is its error, with its message.
    let (grumpy, report) = run_with_report(&["run", &plugin, "--set", "mood=grumpy"]);
    grumpy.expect_code(1);
    let record = task_record(&report, 0);
    assert_eq!(record["status"], "error", "{record:#}");
    assert!(
        record["error"]
            .as_str()
            .unwrap()
            .contains("Tom is grumpy and will not make a sound"),
        "{record:#}"
    );
    // Something thrown that is no std::exception is caught too, as a panic.
    let feral = run(&["run", &plugin, "--set", "mood=feral"]);
    feral.expect_code(1);
    assert!(
        feral
            .stderr
            .contains("panicked: the animal threw something that is not a std::exception"),
        "{feral:#?}"
    );
    // The constructor's exception is a refused configuration.
    let unknown = run(&["run", &plugin, "--set", "colour=red"]);
    unknown.expect_code(10);
    assert!(
        unknown.stderr.contains("unknown setting \"colour\""),
        "{unknown:#?}"
    );
    assert!(!feral.stderr.contains("terminate called"), "{feral:#?}");
}

#[test]
fn the_go_factorizer_gets_processes_of_its_own_and_says_why() {
    let Some(plugin) = native::go_factorize() else {
        return;
    };
    let plugin = arg(&plugin);
    let (auto, report) = run_with_report(&["run", &plugin]);
    auto.expect_code(0);
    assert_seed(&auto);
    assert_eq!(report["runner"]["mode"], "process", "{report:#}");
    let line = runner_line(&auto);
    assert!(
        line.starts_with("runner: process mode because the plugin starts its own Go ")
            && line.contains(" runtime, which gets a process of its own"),
        "{line}"
    );
    // Asked for, threads in the host run it too.
    let threads = run(&["run", &plugin, "--mode", "thread", "--workers", "2"]);
    threads.expect_code(0);
    assert_seed(&threads);
    let shown = run(&["inspect", &plugin]);
    shown.expect_code(0);
    assert!(shown.stdout.contains("runtime:       Go "), "{shown:#?}");
}

#[test]
fn a_go_panic_is_recovered_at_the_boundary_as_its_tasks_error() {
    let Some(plugin) = native::go_factorize() else {
        return;
    };
    let plugin = arg(&plugin);
    for mode in ["inline", "process"] {
        let (run, report) = run_with_report(&[
            "run",
            &plugin,
            "--mode",
            mode,
            "--task",
            r#"{"n": 12, "from": 0, "to": 3}"#,
            "--task",
            &SEED[3].0.to_string(),
        ]);
        run.expect_code(1);
        let record = task_record(&report, 0);
        assert_eq!(record["status"], "error", "{mode}: {record:#}");
        assert_eq!(
            record["error"], "panicked: runtime error: integer divide by zero",
            "{mode}: {record:#}"
        );
        assert_eq!(
            task_record(&report, 1)["output"],
            serde_json::json!(SEED[3].1),
            "{mode}"
        );
    }
}
