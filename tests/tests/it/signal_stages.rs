//! Ctrl-C and SIGTERM act at every stage, not only while tasks run: while workers start (a
//! launcher that is slow to bring them up is stopped at once), while `--input -` has not sent
//! its first line (the run ends interrupted, with its report), while `inspect`, `list` or
//! `run --isolate` load a plugin in a probe process (the probe is stopped, not left behind), and
//! after a plugin in thread mode set SIGINT to `SIG_IGN` (the host still hears it); and the
//! processes the host starts (workers, launchers, probes) do not inherit its blocked signals, so
//! the SIGTERM they are stopped with reaches them.

use std::{
    path::{Path, PathBuf},
    thread,
    time::{Duration, Instant},
};

use quack_tests::{
    HANG_GUARD, LiveRun, assert_valid_report, host, plugin, plugin_arg, processes_mentioning,
    read_report, run_within,
};
use serde_json::Value;

/// Waits until the host `pid` has a thread whose name starts with `name` (what it is doing then
/// is known: e.g. waiting for its input), so that a signal sent next finds it there.
fn wait_for_thread(pid: u32, name: &str) {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        let names: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|tasks| {
                tasks
                    .filter_map(Result::ok)
                    .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
                    .collect()
            })
            .unwrap_or_default();
        if names.iter().any(|comm| name.starts_with(comm.trim())) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the host never started its thread {name}: {names:?}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// Waits until the file at `path` holds `needle`.
fn wait_for_text(path: &Path, needle: &str) {
    let deadline = Instant::now() + HANG_GUARD;
    while !std::fs::read_to_string(path).is_ok_and(|text| text.contains(needle)) {
        assert!(
            Instant::now() < deadline,
            "{} never held {needle:?}",
            path.display()
        );
        thread::sleep(Duration::from_millis(5));
    }
}

fn signal_before_the_first_line_of_stdin(signal: libc::c_int, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let plugin = plugin_arg("slow_io");
    let args = [
        "run",
        &plugin,
        "--input",
        "-",
        "--json",
        path.to_str().unwrap(),
    ];
    let live = LiveRun::start_with_input(&args);
    // The host reads its input on this thread: it waits for the first line now.
    wait_for_thread(live.pid(), "quack-input-start");
    live.signal(signal);
    let run = live.finish();
    run.expect_code(code);
    assert!(!run.stderr.contains("error"), "{run:#?}");
    assert!(run.stderr.contains("interrupted"), "{run:#?}");
    let report = read_report(&path, &run);
    assert_valid_report(&report);
    assert_eq!(report["tasks"], Value::Array(Vec::new()), "{report:#}");
}

#[test]
fn ctrl_c_before_the_first_line_of_stdin_ends_the_run_with_its_report() {
    signal_before_the_first_line_of_stdin(libc::SIGINT, 130);
}

#[test]
fn sigterm_before_the_first_line_of_stdin_ends_the_run_with_its_report() {
    signal_before_the_first_line_of_stdin(libc::SIGTERM, 143);
}

/// A copy of the `hostile` fixture under a name of its own (to find its probe among the
/// processes), in a directory of its own (for `list`).
fn hostile_copy(dir: &Path) -> PathBuf {
    let name = format!("libhostile_probe_{}.so", std::process::id());
    let copy = dir.join(name);
    std::fs::copy(plugin("hostile"), &copy).unwrap();
    copy
}

/// Starts `host ARGS` on a plugin whose loading hangs, sends `signal` once its probe has the
/// plugin loaded, and checks that the host ends with `code` and leaves no probe running.
fn signal_while_a_probe_hangs(args: &[&str], copy: &Path, loads: &Path, code: i32) {
    let mut command = host(args);
    command
        .env("HOSTILE_FIXTURE", "init-loop")
        .env("HOSTILE_LOADS", loads);
    let live = LiveRun::start_command(&mut command, HANG_GUARD);
    wait_for_text(loads, "probe");
    live.signal(libc::SIGINT);
    let run = live.finish();
    let needle = copy.to_str().unwrap();
    let left = processes_mentioning(needle);
    for pid in &left {
        // SAFETY: kill has no memory effects; a probe the host left behind is ended.
        unsafe { libc::kill(i32::try_from(*pid).unwrap(), libc::SIGKILL) };
    }
    assert!(
        left.is_empty(),
        "{args:?}: the probe was left running: {run:#?}"
    );
    run.expect_code(code);
    let line = run.one_error_line();
    assert!(line.contains("interrupted by Ctrl-C"), "{line}");
}

#[test]
fn ctrl_c_while_inspect_probes_a_plugin_stops_the_probe() {
    let dir = tempfile::tempdir().unwrap();
    let copy = hostile_copy(dir.path());
    let loads = dir.path().join("loads");
    signal_while_a_probe_hangs(&["inspect", copy.to_str().unwrap()], &copy, &loads, 130);
}

#[test]
fn ctrl_c_while_list_probes_a_plugin_stops_the_probe() {
    let dir = tempfile::tempdir().unwrap();
    let copy = hostile_copy(dir.path());
    let loads = dir.path().join("loads");
    signal_while_a_probe_hangs(&["list", dir.path().to_str().unwrap()], &copy, &loads, 130);
}

#[test]
fn ctrl_c_while_an_isolated_run_probes_its_plugin_stops_the_probe() {
    let dir = tempfile::tempdir().unwrap();
    let copy = hostile_copy(dir.path());
    let loads = dir.path().join("loads");
    signal_while_a_probe_hangs(
        &["run", copy.to_str().unwrap(), "--isolate", "--task", "1"],
        &copy,
        &loads,
        130,
    );
}

/// A plugin that sets SIGINT, SIGTERM and SIGHUP to `SIG_IGN` in thread mode does not take them
/// from the host: Ctrl-C still stops the run.
#[test]
fn a_plugin_that_ignores_ctrl_c_in_thread_mode_does_not_take_it_away() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let plugin = plugin_arg("misbehave");
    let mut args = vec![
        "run",
        &plugin,
        "--mode",
        "thread",
        "--workers",
        "1",
        "--format",
        "jsonl",
        "--json",
        path.to_str().unwrap(),
        "--task",
        "ignore-signals",
    ];
    const SLEEPS: usize = 6;
    for _ in 0..SLEEPS {
        args.extend(["--task", "sleep:500"]);
    }
    let mut live = LiveRun::start(&args);
    let first: Value = serde_json::from_str(&live.stdout_line().expect("a first result")).unwrap();
    assert_eq!(first["output"], "ignoring", "{first:#}");
    live.signal(libc::SIGINT);
    let run = live.finish();
    run.expect_code(130);
    let report = read_report(&path, &run);
    let cancelled = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|task| task["status"] == "cancelled")
        .count();
    assert!(cancelled >= 1, "the run stopped: {report:#}");
}

#[test]
fn workers_start_with_no_signal_blocked_so_sigterm_reaches_them() {
    // The host blocks its stopping signals to take them on one thread; a worker that inherited
    // that mask would ignore the SIGTERM of a time limit or of the end of the run, and a launcher
    // such as srun could not cancel its job on it.
    let misbehave = plugin_arg("misbehave");
    for extra in [&["--mode", "process"][..], &["--isolate"][..]] {
        let mut args = vec![
            "run",
            misbehave.as_str(),
            "--task",
            "\"blocked-signals\"",
            "--format",
            "jsonl",
        ];
        args.extend(extra);
        let result = run_within(&args, HANG_GUARD);
        result.expect_code(0);
        let task: Value = serde_json::from_str(result.stdout.lines().next().unwrap()).unwrap();
        assert_eq!(task["output"], "0000000000000000", "{extra:?}: {result:#?}");
    }
}

#[test]
fn a_launcher_starts_with_no_signal_blocked_so_sigterm_reaches_it() {
    // A launcher is another program (srun cancels its job on the SIGTERM that stops it): it must
    // not inherit the host's blocked stopping signals.
    let dir = tempfile::tempdir().unwrap();
    let mask = dir.path().join("launcher-mask");
    // Perl, since a shell clears its mask when it starts; it keeps what it inherited.
    let launcher = format!(
        "perl -e 'open my $in, \"<\", \"/proc/self/status\"; open my $out, \">\", \"{}\"; print $out grep {{ /^SigBlk/ }} <$in>; close $out; exec @ARGV or die'",
        mask.display()
    );
    let misbehave = plugin_arg("misbehave");
    let result = run_within(
        &[
            "run",
            misbehave.as_str(),
            "--launcher",
            &launcher,
            "--task",
            "\"ok\"",
        ],
        HANG_GUARD,
    );
    result.expect_code(0);
    let seen = std::fs::read_to_string(&mask).unwrap();
    assert_eq!(seen.trim(), "SigBlk:\t0000000000000000", "{result:#?}");
}

/// Starts a run whose launcher never brings a worker up, sends `signal` once the launcher runs,
/// and checks the run ends with `code` at once (not after the start limit), with its report, and
/// leaves no launcher behind.
fn signal_while_workers_start(signal: libc::c_int, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let up = dir.path().join("up");
    let path = dir.path().join("report.json");
    let mark = format!("quack-slow-launcher-{}-{signal}", std::process::id());
    let launcher = format!("sh -c 'echo up > {}; sleep 60; : {mark}'", up.display());
    let misbehave = plugin_arg("misbehave");
    let live = LiveRun::start(&[
        "run",
        misbehave.as_str(),
        "--launcher",
        &launcher,
        "--task",
        "ok",
        "--json",
        path.to_str().unwrap(),
    ]);
    wait_for_text(&up, "up");
    live.signal(signal);
    let run = live.finish();
    run.expect_code(code);
    let report = read_report(&path, &run);
    assert_eq!(report["tasks"][0]["status"], "cancelled", "{report:#}");
    assert_eq!(
        processes_mentioning(&mark),
        Vec::<u32>::new(),
        "the launcher was left running"
    );
}

#[test]
fn ctrl_c_while_workers_start_ends_the_run_at_once() {
    signal_while_workers_start(libc::SIGINT, 130);
}

#[test]
fn sigterm_while_workers_start_ends_the_run_at_once() {
    signal_while_workers_start(libc::SIGTERM, 143);
}
