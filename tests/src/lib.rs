//! Helpers for Quack's integration tests: find (building them first if needed) the real `host`
//! binary and the plugin libraries, run `host` and look at what it printed.
//!
//! Under `cargo test`, `CARGO_BIN_EXE_host` exists only inside the host package and cdylibs land
//! in `target/<profile>/deps/`, so the helpers build the host and every plugin once per test run
//! with the same cargo and profile, then look in both places.
//!
//! [`compat_plugin`] builds the small workspaces under `tests/compat/` (plugins built against other
//! versions of the ABI and SDK crates, which cannot live in this workspace next to the real ones)
//! the same way, into `target/compat/`.
//!
//! [`native`] builds the plugins written in C, C++ and Go with the system's compilers.
//!
//! [`LiveRun`] watches a `host` that is still running (its output as it arrives, whether it has
//! exited) and turns a hang into a test failure instead of a stuck test run.

use std::{
    env::consts::{DLL_PREFIX, DLL_SUFFIX},
    io::Read,
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Output, Stdio},
    sync::{
        Mutex, OnceLock,
        mpsc::{self, Receiver, RecvTimeoutError},
    },
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

pub mod native;

/// The packages the tests need built: the host, the benchmark (for its rayon peer and launcher),
/// the shipped plugins and the fixtures.
const PACKAGES: &[&str] = &[
    "quack-host",
    "quack-bench",
    "quack-plugin-dog",
    "quack-plugin-duck",
    "quack-plugin-robot",
    "quack-plugin-factorize",
    "quack-plugin-slow-io",
    "quack-fixture-name-only",
    "quack-fixture-abi-v2",
    "quack-fixture-describe-panics",
    "quack-fixture-misbehave",
    "quack-fixture-duplicate-method",
    "quack-fixture-hostile",
    "quack-fixture-parrot",
    "quack-fixture-shaky-split",
    "quack-fixture-bad-merge",
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

/// This package's directory in the checkout under test. Cargo sets it for the tests it runs; the
/// one compiled in is only a fallback, since this helper may have been compiled for another
/// checkout whose target directory was copied (cargo keys path packages by their place in the
/// workspace, not on disk, so it does not compile them again).
fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
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
        .current_dir(package_dir())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the host and the plugins failed");
}

/// The library `lib_name` built by the workspace `tests/compat/<workspace>`, e.g.
/// `compat_plugin("abi-1.0.0", "compat_abi_1_0_0")`, built first (once per test run) with the
/// cargo that runs the tests, `--locked` against the workspace's own Cargo.lock, into
/// `target/compat/`, in release mode when the tests are.
///
/// The compat workspaces share that target directory so abi_stable is compiled once for all of
/// them; their path packages therefore have distinct directory names (cargo tells path packages of
/// the same name and version apart by their path within the workspace).
pub fn compat_plugin(workspace: &str, lib_name: &str) -> PathBuf {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let profile = profile_dir();
    let release = profile.file_name().and_then(|name| name.to_str()) == Some("release");
    let target_dir = profile
        .parent()
        .expect("the profile directory is inside target/")
        .join("compat");
    let manifest = package_dir()
        .join("compat")
        .join(workspace)
        .join("Cargo.toml");
    {
        let mut built = BUILT
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !built.iter().any(|done| done == workspace) {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let build = |offline: bool| {
                let mut command = Command::new(&cargo);
                command
                    .args(["build", "--quiet", "--locked", "--manifest-path"])
                    .arg(&manifest)
                    .arg("--target-dir")
                    .arg(&target_dir);
                if release {
                    command.arg("--release");
                }
                if offline {
                    command.arg("--offline");
                }
                command.status().expect("cargo runs").success()
            };
            // Offline second: with every crate in cargo's cache, no registry is needed.
            assert!(
                build(false) || build(true),
                "building {} failed",
                manifest.display()
            );
            built.push(workspace.to_owned());
        }
    }
    let file = format!("{DLL_PREFIX}{lib_name}{DLL_SUFFIX}");
    let path = target_dir
        .join(if release { "release" } else { "debug" })
        .join(&file);
    assert!(path.exists(), "{file} was not built in {}", path.display());
    path
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

/// Copies of the host and of plugins where any user can run them, for tests that run the host as
/// another user: the build directory may sit where only its owner can reach it (a fresh clone in
/// a private temporary directory, say). Removed when dropped.
pub struct ForEveryUser {
    dir: tempfile::TempDir,
}

impl ForEveryUser {
    /// A new directory that every user may enter and read.
    pub fn new() -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("the directory opened to every user");
        std::fs::copy(host_path(), dir.path().join("host")).expect("the host copied");
        ForEveryUser { dir }
    }

    /// A copy of the plugin `name` (see [`plugin`]) that every user can load.
    pub fn plugin(&self, name: &str) -> PathBuf {
        let original = plugin(name);
        let copy = self
            .dir
            .path()
            .join(original.file_name().expect("a file name"));
        std::fs::copy(&original, &copy).expect("the plugin copied");
        copy
    }

    /// [`host`], with the copy of the host.
    pub fn host(&self, args: &[&str]) -> Command {
        let mut command = Command::new(self.dir.path().join("host"));
        command
            .args(args)
            .stdin(Stdio::null())
            .env_remove("RUST_BACKTRACE");
        command
    }
}

impl Default for ForEveryUser {
    fn default() -> Self {
        Self::new()
    }
}

/// A binary of the quack-bench package (`quack-bench`, `rayon-peer`), beside the host.
pub fn bench_binary(name: &str) -> PathBuf {
    profile_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
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

/// The seed's four numbers and their divisors (see docs/peers.md).
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
    let path = package_dir().join("../docs/report.schema.json");
    let text = std::fs::read_to_string(&path).expect("docs/report.schema.json exists");
    serde_json::from_str(&text).expect("the schema is JSON")
}

/// The seed's results in its list format, one line per number, e.g.
/// `53541233 -> [1, 5501, 9733, 53541233]`.
pub fn seed_lines() -> Vec<String> {
    SEED.iter()
        .map(|(n, divisors)| {
            let list: Vec<String> = divisors.iter().map(u64::to_string).collect();
            format!("{n} -> [{}]", list.join(", "))
        })
        .collect()
}

/// Asserts that `report` is valid against docs/report.schema.json, listing every violation.
#[track_caller]
pub fn assert_valid_report(report: &Value) {
    let schema = report_schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "the report breaks its schema: {errors:#?}\n{report:#}"
    );
}

/// Runs `host` with `args` plus `--json PATH` (within [`HANG_GUARD`]) and returns the run and the
/// report it wrote, checking that no temporary file was left next to it.
pub fn run_with_report(args: &[&str]) -> (Run, Value) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("report.json");
    let path_arg = path.to_str().expect("a UTF-8 temporary path").to_owned();
    let mut full = args.to_vec();
    full.extend(["--json", &path_arg]);
    let result = run_within(&full, HANG_GUARD);
    let report = read_report(&path, &result);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("the temporary directory is readable")
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    (result, report)
}

/// The JSON report at `path`, written by `run` (shown if it is missing or not JSON).
#[track_caller]
pub fn read_report(path: &Path, run: &Run) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("no report at {}: {error}; {run:#?}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("the report is not JSON: {error}"))
}

/// The record of the task with id `id` in a report.
#[track_caller]
pub fn task_record(report: &Value, id: u64) -> &Value {
    report["tasks"]
        .as_array()
        .expect("the report has a tasks array")
        .iter()
        .find(|task| task["id"] == id)
        .unwrap_or_else(|| panic!("task {id} is not in the report: {report:#}"))
}

/// How long a run may take before a test calls it hung: far more than any healthy run here needs,
/// even on a loaded machine. It is a guard against hangs, not a measure of speed.
pub const HANG_GUARD: Duration = Duration::from_secs(20);

/// Runs `host` with `args` to the end, killing it and failing if it takes longer than `guard`.
pub fn run_within(args: &[&str], guard: Duration) -> Run {
    LiveRun::start_with_guard(args, guard).finish()
}

/// One output stream of a running `host`, read on a thread of its own as it arrives.
pub struct Stream {
    chunks: Receiver<Vec<u8>>,
    /// Everything received so far.
    received: Vec<u8>,
    /// How much of `received` [`LiveRun`] has handed out as lines.
    consumed: usize,
    closed: bool,
}

impl Stream {
    fn read(mut source: impl Read + Send + 'static) -> Self {
        let (sender, chunks) = mpsc::channel();
        thread::spawn(move || {
            let mut buffer = vec![0; 1 << 16];
            loop {
                match source.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(n) => {
                        if sender.send(buffer[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        });
        Stream {
            chunks,
            received: Vec::new(),
            consumed: 0,
            closed: false,
        }
    }

    /// Waits until `deadline` for more output. `Some(true)`: more arrived; `Some(false)`: the
    /// stream ended; `None`: the deadline passed.
    fn receive(&mut self, deadline: Instant) -> Option<bool> {
        if self.closed {
            return Some(false);
        }
        match self
            .chunks
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(chunk) => {
                self.received.extend(chunk);
                Some(true)
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.closed = true;
                Some(false)
            }
            Err(RecvTimeoutError::Timeout) => None,
        }
    }

    /// Takes in whatever output has already arrived, without waiting.
    fn receive_available(&mut self) {
        while let Ok(chunk) = self.chunks.try_recv() {
            self.received.extend(chunk);
        }
    }

    /// The next whole line not handed out yet, if one has arrived.
    fn take_line(&mut self) -> Option<String> {
        let rest = &self.received[self.consumed..];
        let end = rest.iter().position(|&byte| byte == b'\n')?;
        let line = String::from_utf8_lossy(&rest[..end]).into_owned();
        self.consumed += end + 1;
        Some(line)
    }

    /// Output that has arrived but was not handed out as a line yet.
    pub fn unread(&self) -> String {
        String::from_utf8_lossy(&self.received[self.consumed..]).into_owned()
    }

    /// Everything received so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.received).into_owned()
    }
}

/// A `host` that is still running: its stdout and stderr as they arrive, its process id, and
/// whether it has exited. Dropping it kills the host if it is still running.
pub struct LiveRun {
    child: Child,
    /// The host's stdin, when it was started with [`LiveRun::start_with_input`].
    pub stdin: Option<ChildStdin>,
    deadline: Instant,
    guard: Duration,
    /// Standard output.
    pub stdout: Stream,
    /// Standard error.
    pub stderr: Stream,
}

impl LiveRun {
    /// Starts `host` with `args`, its stdin closed, within [`HANG_GUARD`].
    pub fn start(args: &[&str]) -> Self {
        Self::start_with_guard(args, HANG_GUARD)
    }

    /// Starts `host` with `args` and a pipe to its stdin, within [`HANG_GUARD`].
    pub fn start_with_input(args: &[&str]) -> Self {
        Self::spawn(host(args).stdin(Stdio::piped()), HANG_GUARD)
    }

    /// Starts `host` with `args`; any wait on it past `guard` from now kills it and fails.
    pub fn start_with_guard(args: &[&str], guard: Duration) -> Self {
        Self::spawn(&mut host(args), guard)
    }

    /// Starts `command` (made with [`host`], e.g. with more environment); any wait on it past
    /// `guard` from now kills it and fails.
    pub fn start_command(command: &mut Command, guard: Duration) -> Self {
        Self::spawn(command, guard)
    }

    fn spawn(command: &mut Command, guard: Duration) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the host binary starts");
        let stdout = Stream::read(child.stdout.take().expect("stdout is piped"));
        let stderr = Stream::read(child.stderr.take().expect("stderr is piped"));
        LiveRun {
            stdin: child.stdin.take(),
            child,
            deadline: Instant::now() + guard,
            guard,
            stdout,
            stderr,
        }
    }

    /// The host's process id, e.g. to send it a signal.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` to the host (SIGINT is what Ctrl-C in a terminal sends).
    #[track_caller]
    pub fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.pid()).expect("a pid fits a pid_t");
        // SAFETY: kill has no memory effects; the pid is our own child, not reaped yet (a
        // LiveRun reaps it only in finish or drop).
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "signal {signal} could not be sent to the host");
    }

    /// Whether the host has exited (without waiting).
    pub fn has_exited(&mut self) -> bool {
        self.child
            .try_wait()
            .expect("the host's status can be read")
            .is_some()
    }

    /// Waits for the next line on stdout; `None` if stdout closed first.
    pub fn stdout_line(&mut self) -> Option<String> {
        loop {
            if let Some(line) = self.stdout.take_line() {
                return Some(line);
            }
            match self.stdout.receive(self.deadline) {
                Some(true) => {}
                Some(false) => return None,
                None => self.hung("a line on stdout"),
            }
        }
    }

    /// Waits for a line on stderr that contains `needle`, and returns it.
    pub fn stderr_line_containing(&mut self, needle: &str) -> String {
        loop {
            while let Some(line) = self.stderr.take_line() {
                if line.contains(needle) {
                    return line;
                }
            }
            match self.stderr.receive(self.deadline) {
                Some(true) => {}
                Some(false) => panic!(
                    "stderr closed without a line containing {needle:?}: {}",
                    self.stderr.text()
                ),
                None => self.hung(&format!("a line on stderr containing {needle:?}")),
            }
        }
    }

    /// Reads the rest of both streams, waits for the host to exit, and returns everything it
    /// printed (including lines already handed out) and its exit code.
    pub fn finish(mut self) -> Run {
        loop {
            match self.stdout.receive(self.deadline) {
                Some(true) => {}
                Some(false) => break,
                None => self.hung("the end of stdout"),
            }
        }
        loop {
            match self.stderr.receive(self.deadline) {
                Some(true) => {}
                Some(false) => break,
                None => self.hung("the end of stderr"),
            }
        }
        let status = loop {
            if let Some(status) = self
                .child
                .try_wait()
                .expect("the host's status can be read")
            {
                break status;
            }
            if Instant::now() >= self.deadline {
                self.hung("the host to exit");
            }
            thread::sleep(Duration::from_millis(5));
        };
        Run {
            code: status.code(),
            stdout: self.stdout.text(),
            stderr: self.stderr.text(),
        }
    }

    /// Kills the host and fails, showing what it printed.
    fn hung(&mut self, waiting_for: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stdout.receive_available();
        self.stderr.receive_available();
        panic!(
            "the host hung: still waiting for {waiting_for} after {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.guard,
            self.stdout.text(),
            self.stderr.text()
        );
    }
}

impl Drop for LiveRun {
    fn drop(&mut self) {
        // A test that failed half-way must not leave a host behind.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The processes (their pids) whose command line mentions `needle`: to check that nothing a run
/// started is left running.
pub fn processes_mentioning(needle: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .expect("/proc can be read")
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|line| String::from_utf8_lossy(&line).contains(needle))
        })
        .collect()
}

/// A file of this checkout by its path from the repository's root, as a string for command
/// lines: `repo_file("plugins/python/dog.py")`.
pub fn repo_file(path: &str) -> String {
    let root = package_dir()
        .parent()
        .expect("the tests package is inside the repository")
        .to_path_buf();
    let file = root.join(path);
    assert!(file.exists(), "{} is not in the checkout", file.display());
    file.display().to_string()
}

/// Whether `python3` can be run, for the tests of program plugins. Without it a test is skipped
/// (it says so on stderr), except under CI (`CI=true`), where a missing python3 fails the test:
/// CI must not pass without having run them.
pub fn python3_available() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    let found = *FOUND.get_or_init(|| {
        Command::new("python3")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    });
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3 is not installed, and CI must run the program plugins' tests (.ci/run installs it)"
        );
        eprintln!("skipped: python3 is not installed");
    }
    found
}
