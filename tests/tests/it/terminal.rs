//! What people see: the progress line in a pseudo-terminal (and none on pipes), the table cut to
//! a width with its optional columns, `--keep-order`, `-q`, `-v`/`-vv` and `--color`.

use std::{
    fs::File,
    io::Read,
    os::fd::{FromRawFd, OwnedFd},
    process::Stdio,
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use quack_tests::{HANG_GUARD, host, plugin_arg, run, task_record};

/// Runs `host` with stdout and stderr on one pseudo-terminal of 120 columns; returns its exit
/// code and everything it wrote there.
fn run_in_terminal(args: &[&str]) -> (Option<i32>, String) {
    run_in_terminal_with(args, |_| {}, |_, _| {})
}

/// [`run_in_terminal`], with `setup` changing the command first (its environment, or stdout to a
/// pipe) and `watch` called with everything written so far and the host's pid while it runs
/// (to signal it at the right moment).
fn run_in_terminal_with(
    args: &[&str],
    setup: impl FnOnce(&mut std::process::Command),
    mut watch: impl FnMut(&str, u32),
) -> (Option<i32>, String) {
    let (mut master, mut slave) = (0, 0);
    let size = libc::winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors, owned below exactly once each.
    let opened = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and nothing else owns them.
    let (master, slave) = unsafe {
        libc::fcntl(master, libc::F_SETFD, libc::FD_CLOEXEC);
        libc::fcntl(slave, libc::F_SETFD, libc::FD_CLOEXEC);
        (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave))
    };
    let mut command = host(args);
    command
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("COLUMNS")
        .env_remove("QUACK_LOG")
        .env_remove("RUST_LOG")
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    setup(&mut command);
    let mut child = command.spawn().expect("the host binary starts");
    // The command holds the terminal's other end open until it goes.
    drop(command);
    let (sender, chunks) = mpsc::channel();
    let mut reader = File::from(master);
    thread::spawn(move || {
        let mut buffer = vec![0; 1 << 16];
        // Reading ends with EIO once every copy of the other end is closed.
        while let Ok(n @ 1..) = reader.read(&mut buffer) {
            if sender.send(buffer[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + HANG_GUARD;
    let mut output = Vec::new();
    let status = loop {
        while let Ok(chunk) = chunks.try_recv() {
            output.extend(chunk);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        watch(&String::from_utf8_lossy(&output), child.id());
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "host hung in a terminal; it wrote {}",
                String::from_utf8_lossy(&output)
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    // What the host wrote last may still be on its way.
    while let Ok(chunk) = chunks.recv_timeout(Duration::from_millis(300)) {
        output.extend(chunk);
    }
    (status.code(), String::from_utf8_lossy(&output).into_owned())
}

fn six_slow_tasks(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec!["run".into(), plugin_arg("slow_io")];
    for _ in 0..6 {
        args.extend(["--task".into(), "0.3".into()]);
    }
    args.extend(["--mode", "thread", "--workers", "2"].map(String::from));
    args.extend(extra.iter().map(|arg| arg.to_string()));
    args
}

#[test]
fn a_terminal_shows_the_progress_line_and_the_results_whole() {
    let args = six_slow_tasks(&[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, output) = run_in_terminal(&args);
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("/6 tasks"), "the progress line: {output}");
    assert!(output.contains("thread, 2 workers"), "{output}");
    assert!(output.contains("ETA"), "{output}");
    // The results and the notes are whole lines, never torn by the progress line.
    assert!(
        output.contains("runner: thread mode with 2 workers"),
        "{output}"
    );
    let finished = output.lines().filter(|line| line.contains("0.3 -> 0.3"));
    assert_eq!(finished.count(), 6, "{output}");
    assert!(
        output.contains("6 tasks (6 ok), 0 failed | mode thread, 2 workers"),
        "{output}"
    );
}

#[test]
fn quiet_in_a_terminal_draws_no_progress_line() {
    let args = six_slow_tasks(&["-q"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, output) = run_in_terminal(&args);
    assert_eq!(code, Some(0), "{output}");
    assert!(!output.contains("/6 tasks"), "{output}");
    assert!(!output.contains("runner:"), "{output}");
    assert!(output.contains("6 tasks (6 ok), 0 failed"), "{output}");
}

#[test]
fn pipes_get_no_progress_line_and_no_colour() {
    let args = six_slow_tasks(&[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = run(&args);
    result.expect_code(0);
    for text in [&result.stdout, &result.stderr] {
        assert!(!text.contains('\r'), "{result:#?}");
        assert!(!text.contains('\u{1b}'), "{result:#?}");
        assert!(!text.contains("/6 tasks"), "{result:#?}");
    }
    assert!(result.stderr.starts_with("runner: "), "{result:#?}");
}

/// The table's lines with the time column (columns 18 to 28 of a task line) replaced.
fn redact_times(table: &str) -> Vec<String> {
    table
        .lines()
        .map(|line| {
            let is_task = line
                .get(..6)
                .is_some_and(|id| id.trim().parse::<u64>().is_ok());
            match (is_task, line.get(..18), line.get(28..)) {
                (true, Some(head), Some(tail)) => format!("{head}      TIME{tail}"),
                _ => line.to_owned(),
            }
        })
        .collect()
}

#[test]
fn the_table_is_cut_to_the_width_with_an_ellipsis() {
    let plugin = plugin_arg("factorize");
    let long = "\"a very long string input that will not fit in sixty columns\"";
    let result = run(&[
        "run", &plugin, "--task", "12", "--task", "13195", "--task", long, "--task", "[1, 2]",
        "--mode", "inline", "--width", "60",
    ]);
    result.expect_code(1);
    let lines = redact_times(&result.stdout);
    let expected = [
        "  task  status          time  input -> result",
        "     0  ok              TIME  12 -> [1, 2, 3, 4, 6, 12]",
        "     1  ok              TIME  13195 -> [1, 5, 7, 13, 29, 35…",
        "     2  error           TIME  \"a very long… -> invalid inpu…",
        "     3  error           TIME  [1, 2] -> invalid input: expe…",
    ];
    assert_eq!(lines[..5], expected, "{result:#?}");
    assert!(
        lines[5].starts_with("4 tasks (2 ok, 2 error), 2 failed | mode inline, 1 worker |"),
        "{result:#?}"
    );
    for line in &lines[..5] {
        assert!(line.chars().count() <= 60, "{line:?}");
    }
}

#[test]
fn on_a_pipe_nothing_is_cut_and_the_json_report_keeps_everything() {
    let plugin = plugin_arg("factorize");
    let result = run(&["run", &plugin, "--task", "13195", "--mode", "inline"]);
    result.expect_code(0);
    assert!(
        result.stdout.contains(
            "13195 -> [1, 5, 7, 13, 29, 35, 65, 91, 145, 203, 377, 455, 1015, 1885, 2639, 13195]"
        ),
        "{result:#?}"
    );
}

fn header(args: &[&str]) -> String {
    let result = run(args);
    result.expect_code(0);
    result.stdout.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn columns_appear_when_they_carry_information() {
    let factorize = plugin_arg("factorize");
    let slow = plugin_arg("slow_io");
    let task = ["--task", "0.01", "--task", "0.01"];
    // One worker, no split, no retries: the plain table.
    assert_eq!(
        header(&["run", &slow, task[0], task[1], "--mode", "inline"]),
        "  task  status          time  input -> result"
    );
    // Two workers: who ran what.
    let mut args = vec!["run", &slow, "--mode", "thread", "--workers", "2"];
    args.extend(task);
    assert_eq!(
        header(&args),
        "  task  status          time worker  input -> result"
    );
    // Retries: how many attempts.
    args.extend(["--retries", "1"]);
    assert_eq!(
        header(&args),
        "  task  status          time worker attempts  input -> result"
    );
    // A Splittable plugin: how many parts.
    assert_eq!(
        header(&["run", &factorize, "--mode", "thread", "--workers", "2"]),
        "  task  status          time worker parts  input -> result"
    );
}

#[test]
fn keep_order_prints_tasks_in_input_order_though_they_finish_out_of_order() {
    let slow = plugin_arg("slow_io");
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("report.json");
    let report_arg = report_path.display().to_string();
    let args = [
        "run",
        &slow,
        "--task",
        "0.3",
        "--task",
        "0.01",
        "--task",
        "0.2",
        "--mode",
        "thread",
        "--workers",
        "3",
        "--keep-order",
        "--json",
        &report_arg,
    ];
    let result = run(&args);
    result.expect_code(0);
    let ids: Vec<&str> = result
        .stdout
        .lines()
        .skip(1)
        .take(3)
        .map(|line| line.split_whitespace().next().unwrap_or_default())
        .collect();
    assert_eq!(ids, ["0", "1", "2"], "{result:#?}");
    // They did finish out of order.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    let end = |id| {
        let task = task_record(&report, id);
        task["start_seconds"].as_f64().unwrap() + task["duration_seconds"].as_f64().unwrap()
    };
    assert!(end(1) < end(2) && end(2) < end(0), "{report:#}");

    // Without --keep-order, lines come as tasks finish.
    let result = run(&args[..12]);
    result.expect_code(0);
    let first = result.stdout.lines().nth(1).unwrap_or_default();
    assert!(first.trim_start().starts_with("1 "), "{result:#?}");
}

#[test]
fn quiet_drops_the_runner_line_before_or_after_the_subcommand() {
    let slow = plugin_arg("slow_io");
    for args in [
        ["-q", "run", &slow, "--task", "0.01"],
        ["run", &slow, "--task", "0.01", "--quiet"],
    ] {
        let result = run(&args);
        result.expect_code(0);
        assert_eq!(result.stderr, "", "{result:#?}");
        assert!(
            result
                .stdout
                .contains("1 task (1 ok), 0 failed | mode inline, 1 worker"),
            "{result:#?}"
        );
    }
    // Nor does it say where the report went.
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json").display().to_string();
    let result = run(&["-q", "run", &slow, "--task", "0.01", "--json", &report]);
    result.expect_code(0);
    assert_eq!(result.stderr, "", "{result:#?}");
    assert!(std::path::Path::new(&report).exists());
    // Errors stay.
    let result = run(&["-q", "run", "no/such/plugin.so"]);
    assert!(result.stderr.starts_with("error: "), "{result:#?}");
}

#[test]
fn verbose_says_when_workers_start_and_very_verbose_why_the_mode() {
    let slow = plugin_arg("slow_io");
    let args = [
        "run",
        &slow,
        "--task",
        "0.01",
        "--task",
        "0.01",
        "--mode",
        "process",
        "--workers",
        "2",
    ];
    let plain = run(&args);
    plain.expect_code(0);
    assert!(!plain.stderr.contains("started (pid"), "{plain:#?}");

    let mut verbose = vec!["-v"];
    verbose.extend(args);
    let result = run(&verbose);
    result.expect_code(0);
    for worker in 0..2 {
        assert!(
            result
                .stderr
                .contains(&format!("worker {worker} started (pid ")),
            "{result:#?}"
        );
    }
    assert!(!result.stderr.contains("choice inputs"), "{result:#?}");

    let mut very = vec!["-vv"];
    very.extend(args);
    let result = run(&very);
    result.expect_code(0);
    assert!(
        result
            .stderr
            .contains("choice inputs: hint io, tasks 2, cores "),
        "{result:#?}"
    );
    assert!(result.stderr.contains("phase run: "), "{result:#?}");
    assert!(!result.stderr.contains("task 0 started"), "{result:#?}");

    // -vvv tells every task as it is handed out (the run makes those events only then), in
    // every mode.
    for mode in ["inline", "thread", "process"] {
        let result = run(&[
            "-vvv", "run", &slow, "--task", "0", "--task", "0", "--mode", mode,
        ]);
        result.expect_code(0);
        for task in 0..2 {
            assert!(
                result.stderr.contains(&format!("task {task} started")),
                "{mode}: {result:#?}"
            );
        }
    }

    // -v also tells failed attempts, and whether they run again.
    let result = run(&[
        "-v",
        "run",
        &slow,
        "--task",
        "5",
        "--timeout",
        "200ms",
        "--retries",
        "1",
        "--mode",
        "process",
        "--workers",
        "1",
    ]);
    result.expect_code(1);
    assert!(
        result
            .stderr
            .contains("task 0: attempt timeout on worker 0 after "),
        "{result:#?}"
    );
    assert!(result.stderr.contains("; it runs again"), "{result:#?}");
    assert!(result.stderr.contains("; no retries left"), "{result:#?}");

    // QUACK_LOG picks the same lines without a flag: a level, or target=level directives.
    for directives in ["info", "quack_host=info", "quack_host=debug,warn"] {
        let output = host(&args).env("QUACK_LOG", directives).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("worker 1 started (pid "),
            "{directives}: {stderr}"
        );
    }
    let output = host(&args)
        .env("QUACK_LOG", "other_crate=trace")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("started (pid "), "{stderr}");
}

#[test]
fn colour_always_colours_statuses_and_no_color_turns_auto_off() {
    let slow = plugin_arg("slow_io");
    let args = ["run", &slow, "--task", "0.01", "--task", "-1"];
    let coloured = |extra: &[&str], no_color: bool| {
        let mut all = args.to_vec();
        all.extend(extra);
        let mut command = host(&all);
        command.env_remove("CLICOLOR_FORCE");
        if no_color {
            command.env("NO_COLOR", "1");
        } else {
            command.env_remove("NO_COLOR");
        }
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(1));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let always = coloured(&["--color", "always"], false);
    assert!(always.contains("\u{1b}[32mok\u{1b}[0m"), "{always}");
    assert!(always.contains("\u{1b}[31merror\u{1b}[0m"), "{always}");
    assert!(always.contains("1 failed\u{1b}[0m"), "{always}");
    // An explicit choice beats NO_COLOR.
    assert!(coloured(&["--color", "always"], true).contains('\u{1b}'));
    for (extra, no_color) in [
        (&["--color", "auto"][..], true),
        (&["--color", "never"][..], false),
        (&[][..], false),
    ] {
        let text = coloured(extra, no_color);
        assert!(!text.contains('\u{1b}'), "{extra:?}: {text}");
    }
}

#[test]
fn a_stream_of_unknown_length_shows_done_and_the_rate() {
    let dir = tempfile::tempdir().unwrap();
    let tasks = dir.path().join("tasks.jsonl");
    std::fs::write(&tasks, "0.3\n0.3\n0.3\n0.3\n").unwrap();
    let slow = plugin_arg("slow_io");
    let input = tasks.display().to_string();
    let (code, output) = run_in_terminal(&[
        "run",
        &slow,
        "--input",
        &input,
        "--mode",
        "thread",
        "--workers",
        "2",
    ]);
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("tasks done: "), "{output}");
    assert!(
        output.contains("/s) | 0 failed | thread, 2 workers"),
        "{output}"
    );
    assert!(output.contains("4 tasks (4 ok), 0 failed"), "{output}");
}

/// The pieces of a terminal's output between carriage returns: each redraw of the progress line
/// starts with one.
fn frames(output: &str) -> impl Iterator<Item = &str> {
    output.split('\r')
}

#[test]
fn the_eta_waits_until_a_task_has_finished() {
    let slow = plugin_arg("slow_io");
    let args = [
        "run", &slow, "--task", "0.3", "--task", "1.2", "--mode", "thread", "-j", "2",
    ];
    let (code, output) = run_in_terminal(&args);
    assert_eq!(code, Some(0), "{output}");
    let before: Vec<&str> = frames(&output)
        .filter(|frame| frame.contains(" 0/2 tasks"))
        .collect();
    assert!(
        !before.is_empty(),
        "no progress line before the first task: {output}"
    );
    for frame in before {
        assert!(
            !frame.contains("ETA"),
            "an ETA before any task finished: {frame:?}"
        );
    }
    assert!(
        frames(&output).any(|frame| frame.contains(" 1/2 tasks") && frame.contains("ETA")),
        "no ETA once a task finished: {output}"
    );
}

#[test]
fn a_second_ctrl_c_leaves_no_progress_line_on_the_terminal() {
    let slow = plugin_arg("slow_io");
    let args = [
        "run", &slow, "--task", "5", "--task", "5", "--mode", "inline",
    ];
    let mut signals = 0;
    let (code, output) = run_in_terminal_with(
        &args,
        |_| {},
        |output, pid| {
            // The first when the line is drawn, the second once the host says it is stopping.
            let due = match signals {
                0 => output.contains(" 0/2 tasks"),
                1 => output.contains("stopping: "),
                _ => false,
            };
            if due {
                // SAFETY: kill(2) of the child this test started.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGINT) };
                signals += 1;
            }
        },
    );
    assert_eq!(code, Some(130), "{output}");
    let last_line = output.rfind("tasks [").expect("a progress line was drawn");
    assert!(
        output[last_line..].contains("\r\u{1b}[2K"),
        "the progress line stays after the host ended: {output:?}"
    );
}

#[test]
fn clicolor_0_turns_colour_off_in_a_terminal_and_clicolor_force_turns_it_on_in_a_pipe() {
    let args = six_slow_tasks(&["--task", "-1"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, output) = run_in_terminal_with(
        &args,
        |command| {
            command.env("CLICOLOR", "0");
        },
        |_, _| {},
    );
    assert_eq!(code, Some(1), "{output}");
    assert!(output.contains("/7 tasks"), "the progress line: {output}");
    assert!(
        !output.contains("\u{1b}[3"),
        "colour with CLICOLOR=0: {output:?}"
    );
    let (_, coloured) = run_in_terminal(&args);
    assert!(
        coloured.contains("\u{1b}[32m"),
        "no colour by default: {coloured:?}"
    );
    // On a pipe, CLICOLOR_FORCE colours the table; NO_COLOR wins over it.
    let slow = plugin_arg("slow_io");
    let piped = |env: &[(&str, &str)]| {
        let mut command = host(&["run", &slow, "--task", "0.01", "--task", "-1"]);
        command
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR")
            .env_remove("CLICOLOR_FORCE");
        command.envs(env.iter().copied());
        String::from_utf8_lossy(&command.output().unwrap().stdout).into_owned()
    };
    assert!(piped(&[("CLICOLOR_FORCE", "1")]).contains("\u{1b}[31merror"));
    assert!(!piped(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\u{1b}'));
    assert!(!piped(&[]).contains('\u{1b}'));
}
