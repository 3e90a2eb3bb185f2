//! A plugin path that is a FIFO, a device, a directory or a truncated library gets its sentence
//! and exit code at once, never a hang or a crash; and `host inspect` and `host list` load each
//! file in a child process with a time limit, so a library whose loading crashes, hangs or exits
//! takes down only that file's line.

use std::{path::Path, process::Command, time::Duration};

use quack_tests::{Run, host, plugin, plugin_arg, run_within};

const QUICK: Duration = Duration::from_secs(15);

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

/// A copy of the factorize plugin cut to its first `bytes` bytes.
fn truncated(dir: &Path, name: &str, bytes: usize) -> String {
    let whole = std::fs::read(plugin("factorize")).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, &whole[..bytes]).unwrap();
    path.to_str().unwrap().to_owned()
}

#[track_caller]
fn refused(result: &Run, code: i32, fragment: &str) {
    result.expect_code(code);
    let line = result.one_error_line();
    assert!(line.contains(fragment), "{line}");
}

#[test]
fn a_fifo_as_the_plugin_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("libfifo.so");
    mkfifo(&fifo);
    for command in ["run", "inspect"] {
        let result = run_within(&[command, fifo.to_str().unwrap()], QUICK);
        refused(&result, 4, "it is a FIFO (named pipe), not a file");
    }
}

#[test]
fn a_device_or_a_directory_as_the_plugin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("/dev/zero", "it is a device"),
        (dir.path().to_str().unwrap(), "it is a directory"),
    ];
    for (path, fragment) in cases {
        for command in ["run", "inspect"] {
            refused(&run_within(&[command, path], QUICK), 4, fragment);
        }
    }
}

#[test]
fn a_truncated_plugin_is_refused_instead_of_crashing_the_host() {
    // dlopen of the first two truncations raises SIGBUS in the process that calls it.
    let dir = tempfile::tempdir().unwrap();
    for bytes in [4096, 100_000, 1_000_000] {
        let path = truncated(dir.path(), &format!("libcut{bytes}.so"), bytes);
        for command in ["run", "inspect"] {
            let result = run_within(&[command, &path], QUICK);
            refused(&result, 4, "it is cut short");
        }
    }
}

/// `host` with `args` and `HOSTILE_FIXTURE=behaviour`, within a guard.
fn with_fixture(behaviour: &str, args: &[&str]) -> Run {
    let mut command = host(args);
    command.env("HOSTILE_FIXTURE", behaviour);
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + QUICK;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the host hung with HOSTILE_FIXTURE={behaviour}: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap().into()
}

#[test]
fn inspect_survives_a_describe_that_segfaults() {
    let result = with_fixture("describe-segfault", &["inspect", &plugin_arg("hostile")]);
    refused(
        &result,
        14,
        "loading it crashed the process that tried (SIGSEGV",
    );
}

#[test]
fn inspect_stops_a_library_constructor_that_hangs() {
    let result = with_fixture(
        "init-loop",
        &["inspect", &plugin_arg("hostile"), "--timeout", "1s"],
    );
    refused(
        &result,
        14,
        "loading it took longer than 1s, so it was stopped",
    );
}

#[test]
fn inspect_survives_a_library_constructor_that_exits() {
    let result = with_fixture("init-exit", &["inspect", &plugin_arg("hostile")]);
    refused(&result, 13, "the plugin called exit while loading");
}

#[test]
fn list_goes_on_past_files_that_crash_hang_exit_or_block() {
    let dir = tempfile::tempdir().unwrap();
    let dog = plugin("dog");
    std::fs::copy(&dog, dir.path().join("libdog.so")).unwrap();
    std::fs::copy(plugin("hostile"), dir.path().join("libhostile.so")).unwrap();
    truncated(dir.path(), "libcut.so", 4096);
    mkfifo(&dir.path().join("libfifo.so"));
    let listing = dir.path().to_str().unwrap();
    let cases = [
        ("describe-segfault", "could not be loaded: "),
        ("init-loop", "took longer than 1s"),
        ("init-exit", "the plugin called exit while loading"),
        ("describe-exit", "the plugin called exit while loading"),
    ];
    for (behaviour, hostile_line) in cases {
        let result = with_fixture(behaviour, &["list", listing, "--timeout", "1s"]);
        result.expect_code(0);
        let lines: Vec<&str> = result.stdout.lines().collect();
        assert_eq!(lines.len(), 4, "{behaviour}: {result:#?}");
        assert!(
            lines[0].contains("libcut.so") && lines[0].contains("cut short"),
            "{result:#?}"
        );
        assert!(
            lines[1].contains("libdog.so") && lines[1].ends_with(": Animal"),
            "{result:#?}"
        );
        assert!(
            lines[2].contains("libfifo.so") && lines[2].contains("FIFO"),
            "{result:#?}"
        );
        assert!(
            lines[3].contains("libhostile.so") && lines[3].contains(hostile_line),
            "{behaviour}: {result:#?}"
        );
    }
}
