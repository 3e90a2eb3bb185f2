//! `host run --sandbox`: each attack of the `misbehave` fixture (`attacks.rs` there) is refused or
//! contained in a sandboxed worker (its task fails with a sentence, the other tasks finish, the
//! host and the files live), and does what it does today without `--sandbox`. Twins left out
//! unsandboxed, because they would harm the machine: allocating 20 GiB, forking 10,000 times
//! (a bounded 3 forks stands in for it).

use std::{
    net::{TcpListener, UdpSocket},
    os::unix::process::{CommandExt as _, ExitStatusExt as _},
    path::Path,
    process::{Command, Stdio},
};

use quack_tests::{Run, host, plugin_arg, python3_available, repo_file, task_record};
use serde_json::Value;

/// Runs misbehave's `tasks` (one worker, so they run in order) with `flags`, `HOME` set to
/// `home` when given, and returns the run and its report (printed with `--format json`).
fn misbehave(flags: &[&str], tasks: &[&str], home: Option<&Path>) -> (Run, Value) {
    let plugin = plugin_arg("misbehave");
    let mut args = vec!["run", plugin.as_str(), "--format", "json", "-j", "1"];
    args.extend_from_slice(flags);
    for task in tasks {
        args.extend(["--task", task]);
    }
    let mut command = host(&args);
    if let Some(home) = home {
        command.env("HOME", home);
    }
    let run: Run = command.output().unwrap().into();
    let report = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("no report on stdout ({error}): {run:#?}"));
    (run, report)
}

/// Task `id`'s status and its output or error, as text.
fn outcome(report: &Value, id: u64) -> (String, String) {
    let task = task_record(report, id);
    let said = if task["status"] == "ok" {
        task["output"].as_str().unwrap_or_default().to_owned()
    } else {
        task["error"].as_str().unwrap_or_default().to_owned()
    };
    (task["status"].as_str().unwrap().to_owned(), said)
}

/// Asserts task `id` failed with an error containing `words`.
#[track_caller]
fn refused(report: &Value, id: u64, words: &str) {
    let (status, said) = outcome(report, id);
    assert_eq!(status, "error", "task {id}: {said}");
    assert!(said.contains(words), "task {id}: {said}");
}

/// Asserts task `id` ended ok with an output containing `words`.
#[track_caller]
fn allowed(report: &Value, id: u64, words: &str) {
    let (status, said) = outcome(report, id);
    assert_eq!(status, "ok", "task {id}: {said}");
    assert!(said.contains(words), "task {id}: {said}");
}

/// A home directory with a planted secret key; the key's path.
fn planted_home() -> (tempfile::TempDir, String) {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".ssh")).unwrap();
    let key = home.path().join(".ssh/id_ed25519");
    std::fs::write(&key, "PRIVATE KEY OF THE USER\n").unwrap();
    (home, key.display().to_string())
}

#[test]
fn a_secret_in_home_is_not_readable_unless_granted() {
    let (home, key) = planted_home();
    let read = format!("read:{key}");
    let (run, report) = misbehave(&["--sandbox"], &[&read, "ok"], Some(home.path()));
    run.expect_code(1);
    refused(&report, 0, "Permission denied");
    allowed(&report, 1, "ok");
    assert!(!run.stdout.contains("PRIVATE KEY"), "{run:#?}");
    // The report says what was in force.
    let reason = report["runner"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("process mode because --sandbox was given"),
        "{reason}"
    );
    assert!(reason.contains("each worker is sandboxed: files: read the system's libraries and the plugin, write only a private scratch directory (Landlock)"), "{reason}");

    let granted = home.path().join(".ssh").display().to_string();
    let (_, report) = misbehave(
        &["--sandbox", "--allow-read", &granted],
        &[&read],
        Some(home.path()),
    );
    allowed(&report, 0, "PRIVATE KEY OF THE USER");
    // Without --sandbox, as today: every file the user can read.
    let (_, report) = misbehave(&["--isolate"], &[&read], Some(home.path()));
    allowed(&report, 0, "PRIVATE KEY OF THE USER");
}

#[test]
fn a_write_outside_the_grants_is_refused_and_the_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("victim.txt");
    std::fs::write(&target, "the user's own words\n").unwrap();
    let write = format!("write:{}", target.display());
    let (run, report) = misbehave(&["--sandbox"], &[&write, "ok"], None);
    run.expect_code(1);
    refused(&report, 0, "Permission denied");
    allowed(&report, 1, "ok");
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "the user's own words\n"
    );

    let granted = dir.path().display().to_string();
    let (_, report) = misbehave(&["--sandbox", "--allow-write", &granted], &[&write], None);
    allowed(&report, 0, "wrote");
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "written by a plugin\n"
    );
    std::fs::write(&target, "the user's own words\n").unwrap();
    let (_, report) = misbehave(&[], &[&write], None);
    allowed(&report, 0, "wrote");
}

#[test]
fn tcp_and_udp_to_a_listener_on_localhost_are_refused_unless_allow_net() {
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    tcp.set_nonblocking(true).unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_nonblocking(true).unwrap();
    let tcp_task = format!("tcp:{}", tcp.local_addr().unwrap().port());
    let udp_task = format!("udp:{}", udp.local_addr().unwrap().port());
    let tasks = [tcp_task.as_str(), udp_task.as_str(), "ok"];
    let (run, report) = misbehave(&["--sandbox"], &tasks, None);
    run.expect_code(1);
    refused(&report, 0, "cannot connect to 127.0.0.1");
    refused(
        &report,
        1,
        "cannot open a UDP socket: Operation not permitted",
    );
    allowed(&report, 2, "ok");
    assert!(tcp.accept().is_err(), "nothing connected");
    assert!(udp.recv(&mut [0; 64]).is_err(), "nothing was sent");

    for flags in [&["--sandbox", "--allow-net"][..], &["--isolate"][..]] {
        let (_, report) = misbehave(flags, &tasks[..2], None);
        allowed(&report, 0, "connected");
        allowed(&report, 1, "sent");
    }
    assert!(tcp.accept().is_ok());
    assert!(udp.recv(&mut [0; 64]).is_ok());
}

#[test]
fn signals_to_the_host_or_the_process_group_are_refused() {
    let (run, report) = misbehave(&["--sandbox"], &["kill-parent", "kill-group", "ok"], None);
    run.expect_code(1);
    refused(
        &report,
        0,
        "cannot signal the parent: Operation not permitted",
    );
    refused(
        &report,
        1,
        "cannot signal the process group: Operation not permitted",
    );
    allowed(&report, 2, "ok");

    // Without --sandbox, as today: the worker's parent is the host, which dies.
    let plugin = plugin_arg("misbehave");
    let unsandboxed = host(&["run", &plugin, "--isolate", "--task", "kill-parent"])
        .output()
        .unwrap();
    assert_eq!(unsandboxed.status.signal(), Some(libc::SIGKILL));
    // And a kill of its own group ends the worker: the task crashes.
    let (_, report) = misbehave(&["--isolate"], &["kill-group", "ok"], None);
    let (status, said) = outcome(&report, 0);
    assert_eq!(status, "crashed", "{said}");
    assert!(said.contains("SIGKILL"), "{said}");
    allowed(&report, 1, "ok");
}

#[test]
fn a_fork_bomb_is_contained() {
    let (run, report) = misbehave(&["--sandbox"], &["fork:10000", "ok"], None);
    run.expect_code(1);
    refused(
        &report,
        0,
        "fork 1 of 10000 failed: Operation not permitted",
    );
    allowed(&report, 1, "ok");
    // With --max-procs, a pids cgroup counts them (root included).
    let (_, report) = misbehave(&["--sandbox", "--max-procs", "5"], &["fork:10000"], None);
    refused(
        &report,
        0,
        "fork 6 of 10000 failed: Resource temporarily unavailable",
    );
    // Without --sandbox, as today (bounded here: a real bomb would harm the machine).
    let (_, report) = misbehave(&["--isolate"], &["fork:3"], None);
    allowed(&report, 0, "forked 3 children");
}

#[test]
fn allocating_20_gib_fails_with_a_sentence_naming_the_memory_limit() {
    // No unsandboxed twin: it would fill 20 GiB of this machine.
    let (run, report) = misbehave(
        &["--sandbox", "--memory", "512M"],
        &["allocate:20", "ok"],
        None,
    );
    run.expect_code(1);
    let (status, said) = outcome(&report, 0);
    assert_eq!(status, "crashed", "{said}");
    assert!(
        said.starts_with("worker 0 ran out of its 512 MiB of memory (--memory): it said \"memory allocation of 21474836480 bytes failed\""),
        "{said}"
    );
    allowed(&report, 1, "ok");
    let reason = report["runner"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("memory: 512 MiB of address space"),
        "{reason}"
    );
}

#[test]
fn ptrace_of_a_sibling_is_refused() {
    let mut sibling = Command::new("sleep").arg("30").spawn().unwrap();
    let task = format!("ptrace:{}", sibling.id());
    let (run, report) = misbehave(&["--sandbox"], &[&task, "ok"], None);
    run.expect_code(1);
    refused(&report, 0, "Operation not permitted");
    allowed(&report, 1, "ok");
    // Without --sandbox, as today: root may attach to any process.
    // SAFETY: getuid has no memory effects.
    if unsafe { libc::getuid() } == 0 {
        let (_, report) = misbehave(&["--isolate"], &[&task], None);
        allowed(&report, 0, "attached");
    }
    sibling.kill().unwrap();
    sibling.wait().unwrap();
}

#[test]
fn exec_of_bin_sh_is_refused() {
    let (run, report) = misbehave(&["--sandbox"], &["exec-sh", "ok"], None);
    run.expect_code(1);
    refused(&report, 0, "cannot exec /bin/sh: Permission denied");
    allowed(&report, 1, "ok");
    // Without --sandbox, as today: the worker becomes the shell, which exits 7.
    let (_, report) = misbehave(&["--isolate"], &["exec-sh"], None);
    let (status, said) = outcome(&report, 0);
    assert_eq!(status, "crashed", "{said}");
    assert!(said.contains("exit code 7"), "{said}");
}

#[test]
fn limits_cannot_be_raised_back() {
    let flags = ["--sandbox", "--memory", "1G"];
    let (run, report) = misbehave(&flags, &["raise-limits", "ok"], None);
    run.expect_code(1);
    refused(
        &report,
        0,
        "cannot raise the address-space limit: Operation not permitted",
    );
    allowed(&report, 1, "ok");
    let (_, report) = misbehave(&["--isolate"], &["raise-limits"], None);
    allowed(&report, 0, "raised");
}

#[test]
fn each_worker_has_a_private_scratch_directory_removed_at_the_end() {
    let (run, report) = misbehave(&["--sandbox"], &["scratch", "segfault", "scratch"], None);
    run.expect_code(1);
    let (_, first) = outcome(&report, 0);
    let (_, second) = outcome(&report, 2);
    assert!(first.contains("quack-scratch-"), "{first}");
    // The second worker (the first crashed) had its own.
    assert_ne!(first, second);
    for dir in [first, second] {
        assert!(!Path::new(&dir).exists(), "{dir} was left behind");
    }
}

#[test]
fn the_flags_travel_through_a_launcher() {
    let (home, key) = planted_home();
    let read = format!("read:{key}");
    let (run, report) = misbehave(
        &["--sandbox", "--launcher", "env"],
        &[&read, "ok"],
        Some(home.path()),
    );
    run.expect_code(1);
    refused(&report, 0, "Permission denied");
    allowed(&report, 1, "ok");
}

#[test]
fn a_grant_of_a_path_that_does_not_exist_is_exit_code_25() {
    let plugin = plugin_arg("misbehave");
    let run: Run = host(&[
        "run",
        &plugin,
        "--sandbox",
        "--allow-read",
        "/no/such/dir",
        "--task",
        "ok",
    ])
    .output()
    .unwrap()
    .into();
    run.expect_code(25);
    assert!(
        run.stderr.contains(
            "error: --allow-read /no/such/dir cannot be granted: No such file or directory"
        ),
        "{run:#?}"
    );
    let run: Run = host(&["run", &plugin, "--sandbox", "--mode", "thread"])
        .output()
        .unwrap()
        .into();
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("--sandbox runs the plugin in worker processes"),
        "{run:#?}"
    );
}

/// A host whose process (and every process it starts) finds no Landlock in the kernel: a seccomp
/// filter answers `landlock_create_ruleset` with ENOSYS, as a kernel without Landlock does.
fn host_without_landlock(args: &[&str]) -> Run {
    use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, TargetArch};
    let filter: BpfProgram = SeccompFilter::new(
        [(libc::SYS_landlock_create_ruleset, vec![])]
            .into_iter()
            .collect(),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        TargetArch::try_from(std::env::consts::ARCH).unwrap(),
    )
    .unwrap()
    .try_into()
    .unwrap();
    let mut command = host(args);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    // SAFETY: the child installs a filter on itself (prctl and seccomp, no allocation) and execs.
    unsafe {
        command.pre_exec(move || seccompiler::apply_filter(&filter).map_err(std::io::Error::other));
    }
    command.output().unwrap().into()
}

#[test]
fn a_kernel_without_landlock_is_refused_with_exit_code_24_unless_best_effort() {
    let plugin = plugin_arg("misbehave");
    let run = host_without_landlock(&["run", &plugin, "--sandbox", "--task", "ok"]);
    run.expect_code(24);
    assert_eq!(
        run.one_error_line(),
        "error: the sandbox cannot be set up: Landlock with the rights of its ABI 6 (files, TCP, signal scoping): this kernel has no Landlock (landlock_create_ruleset: ENOSYS); run on a kernel that has it, or give --sandbox=best-effort to run with what this one enforces"
    );
    let run = host_without_landlock(&[
        "run",
        &plugin,
        "--sandbox=best-effort",
        "--task",
        "kill-group",
        "--task",
        "ok",
    ]);
    run.expect_code(1);
    assert!(run.stderr.contains("NOT enforced: Landlock"), "{run:#?}");
    // What seccomp enforces still is.
    assert!(
        run.stdout.contains("cannot signal the process group"),
        "{run:#?}"
    );
}

#[test]
fn a_program_plugin_is_restricted_from_before_its_interpreter_starts() {
    if !python3_available() {
        eprintln!("skipped: no python3 here");
        return;
    }
    let (home, key) = planted_home();
    let victim = home.path().join("victim.txt");
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    tcp.set_nonblocking(true).unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_nonblocking(true).unwrap();
    let tasks = [
        format!("read:{key}"),
        format!("write:{}", victim.display()),
        format!("tcp:{}", tcp.local_addr().unwrap().port()),
        format!("udp:{}", udp.local_addr().unwrap().port()),
        "kill-parent".to_owned(),
        "fork".to_owned(),
        "exec-sh".to_owned(),
        "ok".to_owned(),
    ];
    let program = repo_file("tests/programs/misbehave.py");
    let mut args = vec![
        "run",
        program.as_str(),
        "--sandbox",
        "-j",
        "1",
        "--format",
        "json",
    ];
    for task in &tasks {
        args.extend(["--task", task.as_str()]);
    }
    let mut command = host(&args);
    command.env("HOME", home.path());
    let run: Run = command.output().unwrap().into();
    run.expect_code(1);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    for (id, words) in [
        (0, "Permission denied"),
        (1, "Permission denied"),
        (2, "Permission denied"),
        (3, "Operation not permitted"),
        (4, "Operation not permitted"),
        (5, "Operation not permitted"),
        (6, "Permission denied"),
    ] {
        refused(&report, id, words);
    }
    allowed(&report, 7, "ok");
    assert!(!victim.exists());
    assert!(tcp.accept().is_err(), "nothing connected");
    assert!(udp.recv(&mut [0; 64]).is_err(), "nothing was sent");
}

#[test]
fn what_a_plugin_says_it_needs_is_shown_and_never_granted_by_itself() {
    let plugin = plugin_arg("misbehave");
    let run: Run = host(&["inspect", &plugin]).output().unwrap().into();
    run.expect_code(0);
    assert!(
        run.stdout.contains("sandbox:       needs: reads the files it is given (--allow-read), uses the network (--allow-net) (the plugin's word; granted only by the flags)"),
        "{run:#?}"
    );
    let run: Run = host(&["inspect", &plugin_arg("slow_io")])
        .output()
        .unwrap()
        .into();
    assert!(
        run.stdout
            .contains("sandbox:       needs nothing beyond its own file"),
        "{run:#?}"
    );
    // The run says what is not granted, and the plugin does not get it.
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let task = format!("tcp:{}", tcp.local_addr().unwrap().port());
    let (run, report) = misbehave(&["--sandbox"], &[&task], None);
    assert!(
        run.stderr.contains("note: misbehave says it needs what this sandbox does not grant: reads the files it is given (--allow-read), uses the network (--allow-net)"),
        "{run:#?}"
    );
    refused(&report, 0, "cannot connect");
    let (run, _) = misbehave(
        &["--sandbox", "--allow-net", "--allow-read", "/usr"],
        &[&task],
        None,
    );
    assert!(!run.stderr.contains("note: misbehave says"), "{run:#?}");
}
