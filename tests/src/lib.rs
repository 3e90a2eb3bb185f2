//! Helpers for Quack's integration tests: find (building them first if needed) the real `host`
//! binary and the plugin libraries, run `host` and look at what it printed.
//!
//! Under `cargo test`, `CARGO_BIN_EXE_host` exists only inside the host package and cdylibs land
//! in `target/<profile>/deps/`, so the helpers build the host and every plugin once per test run
//! with the same cargo and profile, then look in both places.

use std::{
    env::consts::{DLL_PREFIX, DLL_SUFFIX},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::OnceLock,
};

/// The packages the tests need built: the host, the shipped plugins and the fixtures.
const PACKAGES: &[&str] = &[
    "quack-host",
    "quack-plugin-dog",
    "quack-plugin-duck",
    "quack-plugin-robot",
    "quack-plugin-factorize",
    "quack-plugin-slow-io",
    "quack-fixture-name-only",
    "quack-fixture-abi-v2",
    "quack-fixture-describe-panics",
    "quack-fixture-misbehave",
];

/// `target/<profile>`, the directory holding the binaries of the profile the tests were built with.
fn profile_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // The test binary lives in target/<profile>/deps/.
        let exe = std::env::current_exe().expect("the test binary knows its path");
        let deps = exe.parent().expect("the test binary is in a directory");
        let profile = deps
            .parent()
            .expect("deps/ is inside the profile directory");
        build_everything(profile);
        profile.to_path_buf()
    })
}

/// Builds the host and the plugins with the cargo and profile that built the tests, so they are
/// never stale.
fn build_everything(profile: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = profile
        .parent()
        .expect("the profile directory is inside target/");
    let mut command = Command::new(cargo);
    command
        .arg("build")
        .arg("--quiet")
        .arg("--target-dir")
        .arg(target_dir);
    match profile.file_name().and_then(|name| name.to_str()) {
        Some("debug") => {}
        Some(other) => {
            command
                .arg("--profile")
                .arg(if other == "release" { "release" } else { other });
        }
        None => panic!("cannot tell the cargo profile from {}", profile.display()),
    }
    for package in PACKAGES {
        command.arg("-p").arg(package);
    }
    let status = command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the host and the plugins failed");
}

/// The path of the `host` binary.
pub fn host_path() -> PathBuf {
    profile_dir().join(format!("host{}", std::env::consts::EXE_SUFFIX))
}

/// A `host` command with `args`, its standard input closed.
pub fn host(args: &[&str]) -> Command {
    let mut command = Command::new(host_path());
    command
        .args(args)
        .stdin(Stdio::null())
        .env_remove("RUST_BACKTRACE");
    command
}

/// The built library of a plugin or fixture, by library name: `plugin("factorize")`.
pub fn plugin(name: &str) -> PathBuf {
    let file = format!("{DLL_PREFIX}{name}{DLL_SUFFIX}");
    let dir = profile_dir();
    [dir.join(&file), dir.join("deps").join(&file)]
        .into_iter()
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("{file} was not built in {}", dir.display()))
}

/// [`plugin`] as a string, for command lines.
pub fn plugin_arg(name: &str) -> String {
    plugin(name).display().to_string()
}

/// What a finished `host` run printed and how it exited.
#[derive(Debug)]
pub struct Run {
    /// The exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs `host` with `args` to the end.
pub fn run(args: &[&str]) -> Run {
    host(args).output().expect("the host binary starts").into()
}

impl Run {
    /// Asserts the exit code, showing everything printed when it is wrong.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "unexpected exit code; {self:#?}");
        self
    }

    /// Asserts the run failed with exactly one line on stderr, without a panic or a backtrace,
    /// and returns that line.
    #[track_caller]
    pub fn one_error_line(&self) -> &str {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "expected one line on stderr; {self:#?}");
        assert!(lines[0].starts_with("error: "), "{self:#?}");
        assert!(
            !self.stderr.contains("panicked at"),
            "a panic escaped: {self:#?}"
        );
        assert!(
            !self.stderr.contains("RUST_BACKTRACE"),
            "a backtrace hint: {self:#?}"
        );
        lines[0]
    }
}

/// A real shared library of the system that is not a plugin: the C library this test runs on.
pub fn system_library() -> PathBuf {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps is readable");
    maps.lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .find(|path| path.contains("/libc.so") || path.contains("/libc-"))
        .map(PathBuf::from)
        .expect("the C library is mapped into this process")
}

/// The seed's four numbers and their divisors (SEED-NOTES.md).
pub const SEED: [(u64, &[u64]); 4] = [
    (53541233, &[1, 5501, 9733, 53541233]),
    (21235343, &[1, 21235343]),
    (
        11421443,
        &[1, 11, 383, 2711, 4213, 29821, 1038313, 11421443],
    ),
    (5423123, &[1, 5423123]),
];

/// The report's JSON Schema, shipped in docs/.
pub fn report_schema() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/report.schema.json");
    let text = std::fs::read_to_string(&path).expect("docs/report.schema.json exists");
    serde_json::from_str(&text).expect("the schema is JSON")
}
