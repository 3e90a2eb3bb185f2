//! A closed or full stderr or stdout never makes the host panic: it finishes its work and its
//! exit code says what happened to the tasks. `host inspect X | head -1` is not an error.

use std::{
    fs::File,
    os::fd::{FromRawFd, OwnedFd},
    process::{Command, Stdio},
};

use quack_tests::{Run, host, host_path, plugin_arg};

/// The write end of a pipe whose read end is already closed: every write fails with EPIPE.
fn closed_pipe() -> Stdio {
    let mut ends = [0; 2];
    // SAFETY: pipe fills in two new descriptors, each owned once below.
    assert_eq!(unsafe { libc::pipe(ends.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just created and are owned here.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(ends[0]), OwnedFd::from_raw_fd(ends[1])) };
    drop(read);
    Stdio::from(write)
}

fn full() -> Stdio {
    Stdio::from(File::options().write(true).open("/dev/full").unwrap())
}

fn output(command: &mut Command) -> Run {
    command.output().unwrap().into()
}

#[test]
fn a_full_stderr_does_not_change_the_exit_code() {
    let factorize = plugin_arg("factorize");
    let misbehave = plugin_arg("misbehave");
    let cases: [(&[&str], i32); 6] = [
        (&["run"], 2),
        (&["run", &factorize, "--workers", "100000"], 2),
        (&["run", &factorize, "--mode", "thread"], 0),
        (
            &[
                "run", &misbehave, "--task", "ok", "--task", "error", "--mode", "process",
            ],
            1,
        ),
        (&["run", "no/such/libplugin.so"], 3),
        (&["run", &factorize, "--json", "/dev/null"], 22),
    ];
    for (args, code) in cases {
        let result = output(host(args).stderr(full()));
        assert_eq!(result.code, Some(code), "{args:?}: {result:#?}");
    }
    let result =
        output(host(&["run", &factorize, "--mode", "inline", "--format", "jsonl"]).stderr(full()));
    assert_eq!(
        result.stdout.lines().count(),
        5,
        "the results and the summary: {result:#?}"
    );
}

#[test]
fn a_closed_stderr_does_not_change_the_exit_code() {
    let misbehave = plugin_arg("misbehave");
    // The host's own lines and the plugin's relayed stdout go to the closed stderr. (A plugin
    // that itself prints to it in the host's process panics in its own code: that task fails.)
    for (mode, first) in [("inline", "ok"), ("thread", "ok"), ("process", "stderr")] {
        let result = output(
            host(&[
                "run", &misbehave, "--mode", mode, "--task", first, "--task", "stdout",
            ])
            .stderr(closed_pipe()),
        );
        assert_eq!(result.code, Some(0), "{mode}: {result:#?}");
    }
    let result = output(host(&["inspect", "no/such/libplugin.so"]).stderr(closed_pipe()));
    assert_eq!(result.code, Some(3), "{result:#?}");
}

/// `host ... >&- 2>&-`: the plugin-stdout pipe must not land on fd 1 or 2 (Rust's runtime opens
/// /dev/null on closed standard descriptors before main; this keeps it that way).
#[test]
fn stdout_and_stderr_closed_outright_do_not_change_the_exit_code() {
    let misbehave = plugin_arg("misbehave");
    for mode in ["inline", "thread"] {
        let result = output(
            Command::new("sh")
                .arg("-c")
                .arg("exec \"$0\" \"$@\" >&- 2>&-")
                .arg(host_path())
                .args(["run", &misbehave, "--mode", mode, "--task", "stdout"])
                .args(["--task", "error", "--format", "jsonl"]),
        );
        assert_eq!(result.code, Some(1), "{mode}: {result:#?}");
    }
}

/// `inspect`, `list` and `--help` have nothing left to do; a run stops, quietly, with the code a
/// shell gives a tool that SIGPIPE ended (141; see reader_gone.rs).
#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    let factorize = plugin_arg("factorize");
    let misbehave = plugin_arg("misbehave");
    let commands: [(&[&str], i32); 7] = [
        (&["inspect", &factorize], 0),
        (&["inspect", &factorize, "--json"], 0),
        (&["run", &factorize, "--format", "jsonl"], 141),
        (&["run", &factorize, "--format", "json"], 141),
        // Finished before the host saw the pipe closed: its last write finds it so.
        (
            &[
                "run", &misbehave, "--mode", "thread", "--task", "ok", "--task", "error",
            ],
            141,
        ),
        (&["run", &factorize, "--json", "-"], 141),
        (&["--help"], 0),
    ];
    for (args, code) in commands {
        let result = output(host(args).stdout(closed_pipe()));
        assert_eq!(result.code, Some(code), "{args:?}: {result:#?}");
        assert!(!result.stderr.contains("panicked"), "{args:?}: {result:#?}");
        assert!(!result.stderr.contains("error"), "{args:?}: {result:#?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let result = output(host(&["list", dir.path().to_str().unwrap()]).stdout(closed_pipe()));
    assert_eq!(result.code, Some(0), "{result:#?}");
}
