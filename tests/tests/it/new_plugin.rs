//! `host new`: the crate it writes builds, passes its own test and runs under `host run` exactly
//! as generated; a name that cannot be a crate name or would not build, or a directory that
//! exists, is refused with one sentence and exit code 15; a crate that cannot be written whole
//! leaves nothing behind.

use std::{os::unix::process::CommandExt as _, path::Path, process::Command};

use quack_tests::{Run, host, host_path, run};

/// Runs `cargo <args>` in `dir` with the cargo that runs the tests and the workspace's target
/// directory (so abi_stable and serde are not compiled again), failing with its output.
fn cargo(dir: &Path, args: &[&str]) -> String {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = host_path()
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf();
    let output = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", &target_dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "cargo {args:?} failed:\n{text}");
    text
}

#[test]
fn a_new_workload_plugin_tests_builds_and_runs_as_generated() {
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("quack-new-smoke");
    let created = run(&[
        "new",
        "quack-new-smoke",
        "--path",
        crate_dir.to_str().unwrap(),
    ]);
    created.expect_code(0);
    assert!(
        created
            .stdout
            .contains("host run target/release/libquack_new_smoke.so"),
        "{created:#?}"
    );
    let readme = std::fs::read_to_string(crate_dir.join("README.md")).unwrap();
    for command in [
        "cargo test",
        "cargo build --release",
        "host run target/release/libquack_new_smoke.so",
    ] {
        assert!(readme.contains(command), "the README lacks `{command}`");
    }
    // The workspace's lock file pins the same versions the workspace's target directory already
    // holds, so nothing is downloaded or compiled twice; cargo drops the entries it does not need.
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock"),
        crate_dir.join("Cargo.lock"),
    )
    .unwrap();

    let tested = cargo(&crate_dir, &["test"]);
    assert!(
        tested.contains("test tests::the_examples_hold ... ok"),
        "{tested}"
    );
    cargo(&crate_dir, &["build", "--release"]);

    let library = host_path()
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("release/libquack_new_smoke.so");
    let result = run(&["run", library.to_str().unwrap(), "--mode", "inline"]);
    result.expect_code(0);
    assert!(
        result
            .stdout
            .contains(r#"{"from": 1, "to": 10} -> {"total": 55, "count": 10}"#),
        "{result:#?}"
    );
    let scaled = run(&[
        "run",
        library.to_str().unwrap(),
        "--task",
        r#"{"from": 1, "to": 4}"#,
        "--set",
        "scale=3",
    ]);
    scaled.expect_code(0);
    assert!(
        scaled.stdout.contains(r#"{"total": 30, "count": 4}"#),
        "{scaled:#?}"
    );
}

#[test]
fn a_new_animal_plugin_is_an_animal() {
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("parrot");
    run(&[
        "new",
        "parrot",
        "--kind",
        "animal",
        "--path",
        crate_dir.to_str().unwrap(),
    ])
    .expect_code(0);
    let source = std::fs::read_to_string(crate_dir.join("src/lib.rs")).unwrap();
    assert!(
        source.contains(".add(\"sound\", Parrot::sound)"),
        "{source}"
    );
}

#[test]
fn host_new_refuses_an_existing_directory_and_an_invalid_name() {
    let dir = tempfile::tempdir().unwrap();
    let exists = run(&["new", "demo", "--path", dir.path().to_str().unwrap()]);
    exists.expect_code(15);
    assert!(
        exists
            .one_error_line()
            .contains("already exists; choose another name"),
        "{exists:#?}"
    );
    let invalid = run(&[
        "new",
        "my plugin",
        "--path",
        dir.path().join("x").to_str().unwrap(),
    ]);
    invalid.expect_code(15);
    assert!(
        invalid
            .one_error_line()
            .contains("`my plugin` is not a valid crate name"),
        "{invalid:#?}"
    );
    assert!(!dir.path().join("x").exists(), "nothing was written");
}

#[test]
fn names_that_would_not_build_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "Self",
        "self",
        "crate",
        "super",
        "match",
        "quack-core",
        "quack_abi",
        "quack-derive",
        "std",
        "core",
        "alloc",
        "proc_macro",
        "test",
        "serde",
        "task",
        "config",
        "result",
    ] {
        let target = dir.path().join("crate");
        let result = run(&["new", name, "--path", target.to_str().unwrap()]);
        result.expect_code(15);
        let line = result.one_error_line();
        assert!(
            line.contains(&format!("`{name}` is not a valid crate name (")),
            "{result:#?}"
        );
        assert!(!target.exists(), "{name}: nothing was written");
    }
}

/// `host new NAME --path TARGET` with a file size limit of `limit` bytes (as a full disk would
/// stop it), or none.
fn new_crate(target: &Path, limit: Option<u64>) -> Run {
    let mut command = host(&["new", "primes", "--path", target.to_str().unwrap()]);
    if let Some(limit) = limit {
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(move || {
                // Past the limit, a write fails with EFBIG instead of killing the process.
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let limit = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    command.output().unwrap().into()
}

#[test]
fn a_crate_that_cannot_be_written_whole_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    // The crate's directory and a parent that does not exist yet.
    let target = dir.path().join("plugins").join("primes");
    // Cargo.toml fits in 2 KiB, src/lib.rs does not: the write fails halfway through the crate.
    let failed = new_crate(&target, Some(2048));
    failed.expect_code(11);
    let line = failed.one_error_line();
    assert!(
        line.contains("could not write") && line.contains("src/lib.rs"),
        "{failed:#?}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // Nothing blocks a second try.
    new_crate(&target, None).expect_code(0);
    for file in ["Cargo.toml", "src/lib.rs", "README.md", ".gitignore"] {
        assert!(target.join(file).is_file(), "{file}");
    }
    let beside: Vec<_> = std::fs::read_dir(target.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(beside, ["primes"], "nothing but the crate beside it");
}
