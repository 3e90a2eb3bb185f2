//! Program plugins (docs/program-plugins.md): the shipped Python plugins run through the real
//! `host` and a real `python3` in every mode, show in `host inspect` and `host list`, and a
//! hostile program (one that crashes, hangs, exits at once, prints junk on stdout, writes a
//! malformed line, speaks another major version, or never says hello) costs its task or fails to
//! load in one sentence, and leaves no process behind.

use std::path::PathBuf;

use quack_tests::{
    LiveRun, assert_valid_report, host, processes_mentioning, python3_available, repo_file,
    run_with_report, task_record,
};
use serde_json::Value;

/// A copy of the fixture program `name` (tests/programs/) under a name no other test uses, so
/// that the processes it leaves can be looked for by name. It imports `quack` from the host.
struct Copy {
    _dir: tempfile::TempDir,
    path: PathBuf,
    mark: String,
}

impl Copy {
    fn of(name: &str, test: &str) -> Copy {
        let dir = tempfile::tempdir().unwrap();
        let mark = format!("quack-program-{test}-{}", std::process::id());
        let path = dir.path().join(format!("{mark}.py"));
        std::fs::copy(repo_file(&format!("tests/programs/{name}")), &path).unwrap();
        Copy {
            _dir: dir,
            path,
            mark,
        }
    }

    fn arg(&self) -> &str {
        self.path.to_str().unwrap()
    }

    #[track_caller]
    fn assert_nothing_left(&self) {
        assert_eq!(
            processes_mentioning(&self.mark),
            Vec::<u32>::new(),
            "a program outlived the run"
        );
    }
}

fn python_plugin(name: &str) -> String {
    repo_file(&format!("plugins/python/{name}"))
}

fn outputs(report: &Value) -> Vec<(Value, Value)> {
    let mut tasks: Vec<&Value> = report["tasks"].as_array().unwrap().iter().collect();
    tasks.sort_by_key(|task| task["id"].as_u64());
    tasks
        .iter()
        .map(|task| (task["input"].clone(), task["output"].clone()))
        .collect()
}

#[test]
fn the_python_animals_speak_as_the_rust_ones_do() {
    if !python3_available() {
        return;
    }
    let run: quack_tests::Run = host(&["run", &python_plugin("dog.py")])
        .output()
        .unwrap()
        .into();
    run.expect_code(0);
    assert_eq!(run.stdout, "Rex said Woof!\n", "{run:#?}");
    let run: quack_tests::Run = host(&["run", &python_plugin("duck.py"), "--set", "name=Donald"])
        .output()
        .unwrap()
        .into();
    run.expect_code(0);
    assert_eq!(run.stdout, "Donald said Quack!\n", "{run:#?}");
}

#[test]
fn the_python_factorize_splits_a_large_number_across_worker_processes() {
    if !python3_available() {
        return;
    }
    // The seed's smallest number (the whole seed is seconds of CPython on a busy machine).
    let (run, report) =
        run_with_report(&["run", &python_plugin("factorize.py"), "--task", "5423123"]);
    run.expect_code(0);
    assert_valid_report(&report);
    let reason = report["runner"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("process mode because the plugin is a program"),
        "{reason}"
    );
    assert!(reason.contains("the plugin is Splittable"), "{reason}");
    assert_eq!(report["runner"]["mode"], "process");
    assert_eq!(report["runner"]["workers"], 2);
    assert_eq!(report["plugin"]["abi_version"], "program protocol 1.0");
    let record = task_record(&report, 0);
    assert_eq!(
        record["output"],
        serde_json::json!([1, 5423123]),
        "{record:#}"
    );
    // Cut into parts of at most 10^6 trial divisions, as the Rust factorize cuts it.
    assert_eq!(record["parts"], 6, "{record:#}");
}

#[test]
fn a_program_plugin_gives_the_same_results_in_every_mode() {
    if !python3_available() {
        return;
    }
    let plugin = python_plugin("factorize.py");
    for mode in [
        &["--mode", "inline"][..],
        &["--mode", "thread", "--workers", "2"],
        &["--mode", "process", "--workers", "2"],
        &["--isolate"],
    ] {
        let mut args = vec![
            "run", &plugin, "--task", "12", "--task", "2000003", "--task", "-5",
        ];
        args.extend(mode);
        let (run, report) = run_with_report(&args);
        run.expect_code(1);
        let got = outputs(&report);
        assert_eq!(got[0].1, serde_json::json!([1, 2, 3, 4, 6, 12]), "{mode:?}");
        assert_eq!(got[1].1, serde_json::json!([1, 2000003]), "{mode:?}");
        let bad = task_record(&report, 2);
        assert_eq!(bad["status"], "error", "{mode:?}: {bad:#}");
        assert!(
            bad["error"].as_str().unwrap().contains("which is negative"),
            "{mode:?}: {bad:#}"
        );
    }
}

#[test]
fn the_python_slow_syscall_waits_in_the_kernel_on_a_process_per_task() {
    if !python3_available() {
        return;
    }
    let (run, report) = run_with_report(&["run", &python_plugin("slow_syscall.py")]);
    run.expect_code(0);
    assert_eq!(report["runner"]["workers"], 10, "{:#}", report["runner"]);
    assert_eq!(report["summary"]["ok"], 10);
    for task in report["tasks"].as_array().unwrap() {
        // Each task waited its 0.1 s (a wait that returned at once would be far shorter).
        assert!(
            task["duration_seconds"].as_f64().unwrap() >= 0.1,
            "{task:#}"
        );
    }
}

#[test]
fn inspect_and_list_show_program_plugins_with_their_interfaces() {
    if !python3_available() {
        return;
    }
    let run: quack_tests::Run = host(&["inspect", &python_plugin("factorize.py")])
        .output()
        .unwrap()
        .into();
    run.expect_code(0);
    for line in [
        "factorize 0.1.0",
        "ABI version:   program protocol 1.0",
        "default input: 4 tasks: 53541233, 21235343, 11421443, 5423123",
        "  run(Task) -> [u64]",
        "  split(Task) -> [Task]",
        "  merge([[u64]]) -> [u64]",
        "  Splittable  yes",
        "  run(12) -> [1, 2, 3, 4, 6, 12]",
    ] {
        assert!(run.stdout.contains(line), "{line}: {run:#?}");
    }
    let listed: quack_tests::Run = host(&["list", &repo_file("plugins/python"), "--json"])
        .output()
        .unwrap()
        .into();
    listed.expect_code(0);
    let entries: Value = serde_json::from_str(&listed.stdout).unwrap();
    let found: Vec<(String, Value)> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let file = entry["file"].as_str().unwrap();
            let name = file.rsplit('/').next().unwrap().to_owned();
            (name, entry["interfaces"].clone())
        })
        .collect();
    assert_eq!(
        found,
        [
            ("dog.py".to_owned(), serde_json::json!(["Animal"])),
            ("duck.py".to_owned(), serde_json::json!(["Animal"])),
            (
                "factorize.py".to_owned(),
                serde_json::json!(["Workload", "Splittable"])
            ),
            (
                "slow_syscall.py".to_owned(),
                serde_json::json!(["Workload"])
            ),
        ]
    );
}

#[test]
fn the_protocol_page_s_own_example_is_a_working_plugin() {
    if !python3_available() {
        return;
    }
    // The page's example, character for character, is tests/programs/cow.py.
    let page = std::fs::read_to_string(repo_file("docs/program-plugins.md")).unwrap();
    let cow = std::fs::read_to_string(repo_file("tests/programs/cow.py")).unwrap();
    assert!(
        page.contains(&format!("```python\n{cow}```")),
        "the page's example changed"
    );
    let run: quack_tests::Run = host(&["run", &repo_file("tests/programs/cow.py")])
        .output()
        .unwrap()
        .into();
    run.expect_code(0);
    assert_eq!(run.stdout, "Daisy said Moo!\n", "{run:#?}");
}

#[test]
fn a_program_that_dies_during_a_task_costs_that_task_only_and_retries_hold() {
    if !python3_available() {
        return;
    }
    let program = Copy::of("misbehave.py", "crash");
    let (run, report) = run_with_report(&[
        "run",
        program.arg(),
        "--workers",
        "1",
        "--task",
        "ok",
        "--task",
        "crash",
        "--task",
        "exit",
        "--task",
        "echo:after",
    ]);
    run.expect_code(1);
    assert_eq!(report["runner"]["mode"], "process");
    assert_eq!(task_record(&report, 0)["output"], "ok");
    let crashed = task_record(&report, 1);
    assert_eq!(crashed["status"], "crashed", "{crashed:#}");
    assert!(
        crashed["error"].as_str().unwrap().contains("SIGKILL"),
        "{crashed:#}"
    );
    let exited = task_record(&report, 2);
    assert_eq!(exited["status"], "crashed", "{exited:#}");
    assert!(
        exited["error"].as_str().unwrap().contains("exit code 3"),
        "{exited:#}"
    );
    assert_eq!(task_record(&report, 3)["output"], "after", "{report:#}");
    assert!(
        run.stderr.contains("ended during a task (SIGKILL)"),
        "{run:#?}"
    );

    let (run, report) = run_with_report(&[
        "run",
        program.arg(),
        "--workers",
        "1",
        "--retries",
        "1",
        "--task",
        "crash",
    ]);
    run.expect_code(1);
    let record = task_record(&report, 0);
    assert_eq!(record["status"], "crashed", "{record:#}");
    assert_eq!(
        record["attempts"].as_array().unwrap().len(),
        1,
        "{record:#}"
    );
    program.assert_nothing_left();
}

#[test]
fn in_the_host_s_own_process_a_dead_program_fails_its_task_and_starts_again() {
    if !python3_available() {
        return;
    }
    let program = Copy::of("misbehave.py", "thread-crash");
    let (run, report) = run_with_report(&[
        "run",
        program.arg(),
        "--mode",
        "thread",
        "--workers",
        "1",
        "--task",
        "crash",
        "--task",
        "echo:again",
    ]);
    run.expect_code(1);
    let record = task_record(&report, 0);
    assert_eq!(record["status"], "error", "{record:#}");
    let error = record["error"].as_str().unwrap();
    assert!(error.contains("ended during the call (SIGKILL)"), "{error}");
    assert_eq!(task_record(&report, 1)["output"], "again", "{report:#}");
    program.assert_nothing_left();
}

#[test]
fn a_program_past_its_time_limit_is_stopped_with_its_worker() {
    if !python3_available() {
        return;
    }
    let program = Copy::of("misbehave.py", "timeout");
    let (run, report) = run_with_report(&[
        "run",
        program.arg(),
        "--workers",
        "1",
        "--timeout",
        "500ms",
        "--task",
        "sleep:30",
        "--task",
        "echo:next",
    ]);
    run.expect_code(1);
    assert_eq!(task_record(&report, 0)["status"], "timeout", "{report:#}");
    assert_eq!(task_record(&report, 1)["output"], "next", "{report:#}");
    program.assert_nothing_left();
}

#[test]
fn in_thread_mode_a_program_past_its_time_limit_is_killed_not_left_running() {
    if !python3_available() {
        return;
    }
    let program = Copy::of("misbehave.py", "thread-timeout");
    let witness_dir = tempfile::tempdir().unwrap();
    let witness = witness_dir.path().join("written-after-the-time-limit");
    let late = format!("write-after:2:{}", witness.display());
    // The first task would write its witness 2 s in; the others keep the host running well past
    // that, so a program left running would have written it before the run ends.
    let mut args = vec![
        "run",
        program.arg(),
        "--mode",
        "thread",
        "--workers",
        "1",
        "--timeout",
        "500ms",
        "--task",
        &late,
    ];
    for _ in 0..8 {
        args.extend(["--task", "sleep:0.4"]);
    }
    let (run, report) = run_with_report(&args);
    run.expect_code(1);
    let first = task_record(&report, 0);
    assert_eq!(first["status"], "timeout", "{report:#}");
    assert!(
        first["error"]
            .as_str()
            .unwrap()
            .contains("its program was killed"),
        "{report:#}"
    );
    for id in 1..9 {
        assert_eq!(task_record(&report, id)["output"], "slept", "{report:#}");
    }
    assert!(
        !witness.exists(),
        "the program of the task past its time limit went on running"
    );
    program.assert_nothing_left();
}

#[test]
fn a_malformed_or_forged_answer_fails_its_task_and_the_next_task_runs() {
    if !python3_available() {
        return;
    }
    let program = Copy::of("misbehave.py", "malformed");
    let (run, report) = run_with_report(&[
        "run",
        program.arg(),
        "--workers",
        "1",
        "--task",
        "malformed",
        "--task",
        "echo:one",
        "--task",
        "wrong-id",
        "--task",
        "echo:two",
    ]);
    run.expect_code(1);
    for (id, detail) in [(0, "not a JSON object"), (2, "has the id 12345")] {
        let record = task_record(&report, id);
        assert_eq!(record["status"], "error", "{record:#}");
        let error = record["error"].as_str().unwrap();
        assert!(error.contains("broke the program protocol"), "{error}");
        assert!(error.contains(detail), "{error}");
    }
    assert_eq!(task_record(&report, 1)["output"], "one", "{report:#}");
    assert_eq!(task_record(&report, 3)["output"], "two", "{report:#}");
    program.assert_nothing_left();
}

#[test]
fn what_a_program_prints_never_reaches_the_protocol_or_stdout() {
    if !python3_available() {
        return;
    }
    let program = Copy::of("misbehave.py", "junk");
    for mode in ["process", "thread"] {
        let run: quack_tests::Run = host(&[
            "run",
            program.arg(),
            "--mode",
            mode,
            "--workers",
            "1",
            "--format",
            "jsonl",
            "--task",
            "junk",
            "--task",
            "echo:clean",
        ])
        .output()
        .unwrap()
        .into();
        run.expect_code(0);
        let lines: Vec<Value> = run
            .stdout
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("{mode}: {line}")))
            .collect();
        assert_eq!(lines.len(), 3, "{mode}: {run:#?}");
        assert_eq!(lines[0]["output"], "printed", "{mode}: {run:#?}");
        assert_eq!(lines[1]["output"], "clean", "{mode}: {run:#?}");
        // The forged answers are shown on stderr as what the plugin printed.
        assert!(
            run.stderr.contains("\"ok\":\"forged\"}"),
            "{mode}: {run:#?}"
        );
        assert!(run.stderr.contains("a line on stderr"), "{mode}: {run:#?}");
    }
}

#[test]
fn what_a_program_writes_reaches_the_terminal_escaped_in_every_mode() {
    if !python3_available() {
        return;
    }
    let program = Copy::of("misbehave.py", "escapes");
    for mode in ["process", "thread", "inline"] {
        let run: quack_tests::Run = host(&[
            "run",
            program.arg(),
            "--mode",
            mode,
            "--format",
            "jsonl",
            "--task",
            "escapes",
        ])
        .output()
        .unwrap()
        .into();
        run.expect_code(0);
        for stream in ["stdout", "stderr"] {
            let line = run
                .stderr
                .lines()
                .find(|line| line.contains(&format!("{stream} ")) && line.contains("pwned"))
                .unwrap_or_else(|| {
                    panic!("{mode}: the program's {stream} line is not shown: {run:#?}")
                });
            // Marked as the plugin's (in the host) or its worker's (in a worker process).
            let marked = if mode == "process" {
                "[worker 0]"
            } else {
                "[plugin misbehave-program]"
            };
            assert!(line.starts_with(marked), "{mode}: {line}");
        }
        assert!(
            !run.stderr.contains('\u{1b}') && !run.stderr.contains('\u{202e}'),
            "{mode}: a control character reached the terminal: {run:#?}"
        );
        assert!(!run.stdout.contains("pwned"), "{mode}: {run:#?}");
    }
    program.assert_nothing_left();
}

#[test]
fn a_program_that_cannot_start_fails_to_load_in_one_sentence() {
    if !python3_available() {
        return;
    }
    let cases: [(&str, i32, &str); 4] = [
        (
            "exits-at-once",
            7,
            "it ended (exit code 3) before it answered hello",
        ),
        (
            "wrong-major.py",
            6,
            "it speaks program protocol 2.0, where this host speaks 1.0",
        ),
        (
            "bad-hello.py",
            7,
            "broke the program protocol when asked hello",
        ),
        (
            "silent",
            7,
            "it did not answer hello within 1s and was stopped",
        ),
    ];
    for (name, code, fragment) in cases {
        let program = Copy::of(name, &format!("start-{}", name.replace('.', "-")));
        // The silent one is given a short start limit; the others have the default.
        let limit = if name == "silent" { "1" } else { "10" };
        let run: quack_tests::Run = host(&["run", program.arg(), "--task", "1"])
            .env("QUACK_PROGRAM_START_TIMEOUT", limit)
            .output()
            .unwrap()
            .into();
        run.expect_code(code);
        let line = run
            .stderr
            .lines()
            .find(|line| line.starts_with("error: "))
            .unwrap_or_else(|| panic!("{name}: {run:#?}"));
        assert!(line.contains("is a program plugin"), "{name}: {line}");
        assert!(line.contains(fragment), "{name}: {line}");
        assert_eq!(run.stdout, "", "{name}");
        program.assert_nothing_left();
    }
    // An interpreter that does not exist: not a Quack plugin (exit code 5).
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing-interpreter.py");
    std::fs::write(&missing, "#!/nonexistent/python3\n").unwrap();
    let run: quack_tests::Run = host(&["run", missing.to_str().unwrap()])
        .output()
        .unwrap()
        .into();
    run.expect_code(5);
    assert!(
        run.one_error_line()
            .contains("its interpreter /nonexistent/python3 cannot be started"),
        "{run:#?}"
    );
}

#[test]
fn a_configuration_the_program_refuses_is_exit_code_10() {
    if !python3_available() {
        return;
    }
    for mode in ["inline", "process"] {
        let run: quack_tests::Run = host(&[
            "run",
            &python_plugin("factorize.py"),
            "--mode",
            mode,
            "--task",
            "12",
            "--set",
            "colour=blue",
        ])
        .output()
        .unwrap()
        .into();
        run.expect_code(10);
        assert!(run.stderr.contains("colour"), "{mode}: {run:#?}");
    }
}

#[test]
fn sigterm_stops_the_run_and_every_program() {
    if !python3_available() {
        return;
    }
    let program = Copy::of("misbehave.py", "sigterm");
    let live = LiveRun::start(&[
        "run",
        program.arg(),
        "--workers",
        "2",
        "--task",
        "sleep:30",
        "--task",
        "sleep:30",
        "--task",
        "sleep:30",
    ]);
    // Both workers' programs run their tasks once three processes name the program: the host
    // (its command line) and the two programs.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while processes_mentioning(&program.mark).len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    live.signal(libc::SIGTERM);
    let run = live.finish();
    run.expect_code(143);
    program.assert_nothing_left();
}
