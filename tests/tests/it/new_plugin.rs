//! `host new`: the crate it writes builds, passes its own test and runs under `host run` exactly
//! as generated, with quack-core found when host new runs (`--core`, `--git`, `QUACK_CORE`, or the
//! checkout the host binary sits in; a copied host outside any checkout finds none and says what to
//! pass); a name that cannot be a crate name or would not build, or a directory that exists, is
//! refused with one sentence and exit code 15; a crate that cannot be written whole leaves nothing
//! behind.

use std::{
    os::unix::process::CommandExt as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use quack_tests::{Run, host, host_path, run};

/// The root of the Quack checkout these tests belong to, without symbolic links.
fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// A copy of the host binary in a directory of its own, outside any Quack checkout.
struct CopiedHost {
    dir: tempfile::TempDir,
}

impl CopiedHost {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(host_path(), dir.path().join("host")).unwrap();
        CopiedHost { dir }
    }

    /// The copy run with `args`, with `QUACK_CORE` set to `core` (or unset).
    fn run(&self, args: &[&str], core: Option<&Path>) -> Run {
        let mut command = Command::new(self.dir.path().join("host"));
        command
            .args(args)
            .stdin(Stdio::null())
            .env_remove("RUST_BACKTRACE")
            .env_remove("QUACK_CORE");
        if let Some(core) = core {
            command.env("QUACK_CORE", core);
        }
        command.output().unwrap().into()
    }
}

/// The path of quack-core in the Cargo.toml that host new wrote into `crate_dir`.
fn core_path_in(crate_dir: &Path) -> String {
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    let line = manifest
        .lines()
        .find(|line| line.starts_with("quack-core = "))
        .unwrap_or_else(|| panic!("no quack-core line in\n{manifest}"));
    line.strip_prefix("quack-core = { path = \"")
        .and_then(|rest| rest.strip_suffix("\" }"))
        .unwrap_or_else(|| panic!("not a path dependency: {line}"))
        .to_owned()
}

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
    let created: Run = host(&[
        "new",
        "quack-new-smoke",
        "--path",
        crate_dir.to_str().unwrap(),
    ])
    .env_remove("QUACK_CORE")
    .output()
    .unwrap()
    .into();
    created.expect_code(0);
    assert!(
        created
            .stdout
            .contains("host run target/release/libquack_new_smoke.so"),
        "{created:#?}"
    );
    // The host binary sits in this checkout (target/debug/host): its core/ is the dependency.
    let core = checkout().join("core");
    assert!(
        created.stdout.contains(&format!(
            "with quack-core from {} (the Quack checkout this host binary sits in)",
            core.display()
        )),
        "{created:#?}"
    );
    assert_eq!(core_path_in(&crate_dir), core.to_str().unwrap());
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

#[test]
fn a_copied_host_outside_any_checkout_says_what_to_pass_and_writes_nothing() {
    let copied = CopiedHost::new();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("primes");
    let found_none = copied.run(&["new", "primes", "--path", target.to_str().unwrap()], None);
    found_none.expect_code(15);
    let line = found_none.one_error_line();
    for words in [
        "no quack-core was found",
        "pass --core PATH",
        "--git URL",
        "set QUACK_CORE",
    ] {
        assert!(line.contains(words), "{line}");
    }
    assert!(!target.exists(), "nothing was written");

    // A path that holds no quack-core is named, whichever way it was given; nothing is written.
    let elsewhere = dir.path().to_str().unwrap();
    let by_flag = copied.run(
        &[
            "new",
            "primes",
            "--path",
            target.to_str().unwrap(),
            "--core",
            elsewhere,
        ],
        None,
    );
    by_flag.expect_code(15);
    assert!(
        by_flag
            .one_error_line()
            .contains(&format!("--core {elsewhere} holds no quack-core")),
        "{by_flag:#?}"
    );
    let by_env = copied.run(
        &["new", "primes", "--path", target.to_str().unwrap()],
        Some(dir.path()),
    );
    by_env.expect_code(15);
    assert!(
        by_env
            .one_error_line()
            .contains(&format!("QUACK_CORE {elsewhere} holds no quack-core")),
        "{by_env:#?}"
    );
    assert!(!target.exists(), "nothing was written");
}

#[test]
fn quack_core_comes_from_quack_core_or_git_when_asked() {
    let copied = CopiedHost::new();
    let dir = tempfile::tempdir().unwrap();
    let core = checkout().join("core");

    // QUACK_CORE may name the checkout's root or its core/ directory.
    for given in [checkout(), core.clone()] {
        let crate_dir = dir
            .path()
            .join(format!("env-{}", given.components().count()));
        let created = copied.run(
            &["new", "primes", "--path", crate_dir.to_str().unwrap()],
            Some(&given),
        );
        created.expect_code(0);
        assert!(
            created.stdout.contains(&format!(
                "with quack-core from {} (QUACK_CORE)",
                core.display()
            )),
            "{created:#?}"
        );
        assert_eq!(core_path_in(&crate_dir), core.to_str().unwrap());
    }

    // --core comes before QUACK_CORE; --git before QUACK_CORE too.
    let flagged = dir.path().join("flagged");
    let created = copied.run(
        &[
            "new",
            "primes",
            "--path",
            flagged.to_str().unwrap(),
            "--core",
            checkout().to_str().unwrap(),
        ],
        Some(dir.path()),
    );
    created.expect_code(0);
    assert!(created.stdout.contains("(--core)"), "{created:#?}");
    assert_eq!(core_path_in(&flagged), core.to_str().unwrap());

    let from_git = dir.path().join("from-git");
    let created = copied.run(
        &[
            "new",
            "primes",
            "--path",
            from_git.to_str().unwrap(),
            "--git",
            "https://example.invalid/quack.git",
            "--branch",
            "main",
        ],
        Some(dir.path()),
    );
    created.expect_code(0);
    assert!(
        created.stdout.contains(
            "with quack-core from the git repository https://example.invalid/quack.git (--git, --branch main)"
        ),
        "{created:#?}"
    );
    let manifest = std::fs::read_to_string(from_git.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(
            r#"quack-core = { git = "https://example.invalid/quack.git", branch = "main" }"#
        ),
        "{manifest}"
    );

    // --rev and --branch are one or the other, and both need --git.
    for wrong in [
        &[
            "--git",
            "https://example.invalid/q",
            "--rev",
            "abc",
            "--branch",
            "main",
        ][..],
        &["--rev", "abc"][..],
        &["--core", ".", "--git", "https://example.invalid/q"][..],
    ] {
        let target = dir.path().join("wrong");
        let mut args = vec!["new", "primes", "--path", target.to_str().unwrap()];
        args.extend_from_slice(wrong);
        copied.run(&args, None).expect_code(2);
        assert!(!target.exists(), "{wrong:?}: nothing was written");
    }
}

#[test]
fn a_splittable_plugin_from_a_copied_host_builds_offline_and_its_test_splits() {
    let copied = CopiedHost::new();
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("prime-count");
    let created = copied.run(
        &[
            "new",
            "prime-count",
            "--kind",
            "splittable",
            "--path",
            crate_dir.to_str().unwrap(),
            "--core",
            checkout().to_str().unwrap(),
        ],
        None,
    );
    created.expect_code(0);
    std::fs::copy(checkout().join("Cargo.lock"), crate_dir.join("Cargo.lock")).unwrap();

    // The crate builds as written, with nothing to fetch, and its tests split a task as the
    // host does.
    let tested = cargo(&crate_dir, &["test", "--offline"]);
    for test in [
        "test tests::the_examples_hold ... ok",
        "test tests::a_task_split_into_parts_counts_what_the_whole_task_counts ... ok",
        "test tests::the_parts_cover_the_task_exactly_even_at_the_edges ... ok",
    ] {
        assert!(tested.contains(test), "{tested}");
    }
    cargo(&crate_dir, &["build", "--offline"]);
    let library = host_path().parent().unwrap().join("libprime_count.so");
    let inspected = run(&["inspect", library.to_str().unwrap()]);
    inspected.expect_code(0);
    assert!(
        inspected
            .stdout
            .lines()
            .any(|line| line.trim_start().starts_with("Splittable") && line.ends_with("yes")),
        "{inspected:#?}"
    );
    let counted = run(&[
        "run",
        library.to_str().unwrap(),
        "--task",
        r#"{"from": 1, "to": 100000}"#,
        "--mode",
        "inline",
    ]);
    counted.expect_code(0);
    assert!(
        counted.stdout.contains(r#"{"primes": 9592}"#),
        "{counted:#?}"
    );
}
