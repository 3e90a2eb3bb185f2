//! Where `--json PATH` may write: only a regular file (or nothing yet) is ever replaced, and what
//! cannot be written is refused with one sentence and exit code 22 before the run starts. A
//! device, a FIFO, a directory or another user's file in a sticky directory is refused; a
//! symbolic link is written through (its target replaced, the link kept); `-` is stdout; the file
//! gets an ordinary file's permissions under the umask the host started with. A relative path
//! stays where it pointed when the host started, whatever directory a plugin moves the process
//! to, and a report that cannot be put in place at the end is kept and named.

use std::{
    os::unix::{
        fs::{FileTypeExt, MetadataExt, PermissionsExt},
        process::CommandExt,
    },
    path::Path,
    process::Command,
};

use quack_tests::{HANG_GUARD, Run, host, host_path, plugin_arg, read_report, run, run_within};
use serde_json::Value;

/// Runs the factorize plugin on one task with `--json path`.
fn run_to(path: &str) -> Run {
    run_within(
        &[
            "run",
            &plugin_arg("factorize"),
            "--task",
            "12",
            "--mode",
            "inline",
            "--json",
            path,
        ],
        HANG_GUARD,
    )
}

/// Exit code of a `--json` target refused before the run.
const REFUSED: i32 = 22;

/// The run was refused before it started: exit code 22, one sentence naming the path and what
/// it is, nothing on stdout.
#[track_caller]
fn refused_before_the_run(result: &Run, path: &str, what: &str) {
    result.expect_code(REFUSED);
    let line = result.one_error_line();
    assert!(line.contains(path), "{line}");
    assert!(line.contains(what), "{line}");
    assert!(result.stdout.is_empty(), "the run started: {result:#?}");
}

#[test]
fn json_to_dev_null_is_refused_and_dev_null_stays_a_device() {
    let result = run_to("/dev/null");
    refused_before_the_run(&result, "/dev/null", "it is a device, not a regular file");
    let kind = std::fs::metadata("/dev/null").unwrap().file_type();
    assert!(kind.is_char_device(), "/dev/null is still a device");
}

#[test]
fn json_to_dev_stdout_is_refused_pointing_to_dash() {
    let result = run_to("/dev/stdout");
    refused_before_the_run(&result, "/dev/stdout", "not a regular file");
    assert!(
        result.stderr.contains("or - for standard output"),
        "{result:#?}"
    );
}

#[test]
fn json_to_a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("report.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let path = fifo.to_str().unwrap();
    let result = run_to(path);
    refused_before_the_run(&result, path, "a FIFO (named pipe)");
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn json_to_a_directory_is_refused_and_the_directory_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let result = run_to(path);
    refused_before_the_run(&result, path, "it is a directory");
    assert!(dir.path().is_dir());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing left in it"
    );
}

#[test]
fn json_through_a_symbolic_link_replaces_its_target_and_keeps_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.json");
    std::fs::write(&target, "old").unwrap();
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink("real.json", &link).unwrap();
    let result = run_to(link.to_str().unwrap());
    result.expect_code(0);
    let kind = std::fs::symlink_metadata(&link).unwrap().file_type();
    assert!(kind.is_symlink(), "the link is kept: {result:#?}");
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("real.json"));
    let report = read_report(&target, &result);
    assert_eq!(report["summary"]["ok"], 1);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
}

#[test]
fn json_dash_writes_the_report_on_stdout() {
    let result = run_to("-");
    result.expect_code(0);
    let report: Value = serde_json::from_str(&result.stdout).unwrap();
    assert_eq!(report["summary"]["ok"], 1);
    assert_eq!(
        report["tasks"][0]["output"],
        serde_json::json!([1, 2, 3, 4, 6, 12])
    );
}

#[test]
fn json_in_a_directory_that_cannot_be_written_is_refused_before_the_run() {
    // A missing directory, and /proc, where not even root may create a file.
    for path in ["/no/such/directory/report.json", "/proc/quack-report.json"] {
        let result = run_to(path);
        result.expect_code(REFUSED);
        let line = result.one_error_line();
        assert!(line.contains("cannot write in"), "{line}");
        assert!(result.stdout.is_empty(), "the run started: {result:#?}");
    }
    // SAFETY: geteuid only reads the process's user id.
    if unsafe { libc::geteuid() } != 0 {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
        let path = dir.path().join("report.json");
        let result = run_to(path.to_str().unwrap());
        result.expect_code(REFUSED);
        assert!(
            result.one_error_line().contains("cannot write in"),
            "{result:#?}"
        );
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// The permissions of a report written by a host run under `umask`.
fn mode_under_umask(umask: &str) -> u32 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(host_path())
        .args([
            "run",
            &plugin_arg("factorize"),
            "--task",
            "12",
            "--mode",
            "inline",
        ])
        .arg("--json")
        .arg(&path)
        .output()
        .unwrap();
    let result = Run::from(output);
    result.expect_code(0);
    std::fs::metadata(&path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_report_gets_an_ordinary_files_permissions_under_the_umask() {
    assert_eq!(mode_under_umask("022"), 0o644);
    assert_eq!(mode_under_umask("077"), 0o600);
}

#[test]
fn an_existing_report_is_replaced_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    std::fs::write(
        &path,
        "an old report that is much longer than nothing at all",
    )
    .unwrap();
    let result = run(&[
        "run",
        &plugin_arg("factorize"),
        "--task",
        "12",
        "--json",
        path.to_str().unwrap(),
    ]);
    result.expect_code(0);
    assert_eq!(read_report(&path, &result)["summary"]["ok"], 1);
}

#[test]
fn json_naming_the_plugin_or_the_input_is_refused_and_both_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("libfactorize.so");
    std::fs::copy(quack_tests::plugin("factorize"), &plugin).unwrap();
    let before = std::fs::read(&plugin).unwrap();
    let plugin_arg = plugin.to_str().unwrap();
    let result = quack_tests::run(&["run", plugin_arg, "--task", "6", "--json", plugin_arg]);
    result.expect_code(2);
    assert!(
        result.one_error_line().contains("is the plugin itself"),
        "{result:#?}"
    );
    assert_eq!(
        std::fs::read(&plugin).unwrap(),
        before,
        "the plugin was kept"
    );

    let input = dir.path().join("tasks.json");
    std::fs::write(&input, "[6, 7]").unwrap();
    let input_arg = input.to_str().unwrap();
    let result = quack_tests::run(&["run", plugin_arg, "--input", input_arg, "--json", input_arg]);
    result.expect_code(2);
    assert!(
        result
            .one_error_line()
            .contains("is the --input file itself"),
        "{result:#?}"
    );
    assert_eq!(std::fs::read_to_string(&input).unwrap(), "[6, 7]");
}

#[test]
fn json_dash_with_json_lines_on_stdout_is_refused() {
    let plugin = quack_tests::plugin_arg("factorize");
    let result = quack_tests::run(&[
        "run", &plugin, "--task", "6", "--json", "-", "--format", "jsonl",
    ]);
    result.expect_code(2);
    assert!(
        result
            .one_error_line()
            .contains("--json - prints the report on stdout"),
        "{result:#?}"
    );
}

/// Runs the misbehave plugin's `tasks` in `mode` with `--json json`, in the directory `cwd`.
fn misbehave_in(cwd: &Path, mode: &str, tasks: &[&str], json: &str) -> Run {
    let mut args = vec!["run", &*MISBEHAVE, "--mode", mode, "--json", json];
    for task in tasks {
        args.extend(["--task", task]);
    }
    host(&args).current_dir(cwd).output().unwrap().into()
}

static MISBEHAVE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| plugin_arg("misbehave"));

#[test]
fn a_relative_json_is_written_where_the_host_started_whatever_directory_the_plugin_moves_to() {
    for mode in ["inline", "thread"] {
        let start = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let chdir = format!("chdir:{}", elsewhere.path().display());
        let result = misbehave_in(start.path(), mode, &[&chdir, "ok"], "rel.json");
        result.expect_code(0);
        assert!(
            result.stderr.contains("report written to rel.json"),
            "{result:#?}"
        );
        let report = read_report(&start.path().join("rel.json"), &result);
        assert_eq!(report["summary"]["ok"], 2, "{mode}");
        let left: Vec<_> = std::fs::read_dir(elsewhere.path()).unwrap().collect();
        assert!(
            left.is_empty(),
            "{mode}: written in the plugin's directory: {left:?}"
        );
        let beside: Vec<_> = std::fs::read_dir(start.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(beside, ["rel.json"], "{mode}: no temporary file left");
    }
}

#[test]
fn a_plugin_that_changes_the_umask_does_not_change_the_reports_permissions() {
    for (mode, umask) in [("inline", "777"), ("thread", "000")] {
        let dir = tempfile::tempdir().unwrap();
        let task = format!("umask:{umask}");
        let output = Command::new("sh")
            .arg("-c")
            .arg("umask 022; exec \"$0\" \"$@\"")
            .arg(host_path())
            .args(["run", &MISBEHAVE, "--mode", mode, "--task", &task])
            .args(["--json", "report.json"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let result = Run::from(output);
        result.expect_code(0);
        let metadata = std::fs::metadata(dir.path().join("report.json")).unwrap();
        assert_eq!(
            metadata.permissions().mode() & 0o777,
            0o644,
            "{mode}, the plugin set umask {umask}: {result:#?}"
        );
    }
}

#[test]
fn a_report_that_cannot_be_put_in_place_after_the_run_is_kept_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    // The plugin makes a directory where the report goes, while it runs.
    let mkdir = format!("mkdir:{}", path.display());
    let result = misbehave_in(dir.path(), "inline", &[&mkdir], path.to_str().unwrap());
    result.expect_code(11);
    let errors: Vec<_> = result
        .stderr
        .lines()
        .filter(|line| line.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "one sentence: {result:#?}");
    let line = errors[0];
    let (_, kept) = line
        .split_once("the report is kept at ")
        .unwrap_or_else(|| panic!("the kept report is not named: {line}"));
    let kept = Path::new(kept);
    assert_eq!(kept.parent(), Some(dir.path()), "{line}");
    let report = read_report(kept, &result);
    quack_tests::assert_valid_report(&report);
    assert_eq!(report["summary"]["ok"], 1);
    assert!(path.is_dir(), "the plugin's directory is left alone");
}

#[test]
fn another_users_file_in_a_sticky_directory_is_refused_before_the_run() {
    // SAFETY: geteuid only reads the process's user id.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: making a file of another user needs root");
        return;
    }
    let (owner, runner) = (65534, 65533);
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let theirs = dir.path().join("report.json");
    std::fs::write(&theirs, "theirs").unwrap();
    std::os::unix::fs::chown(&theirs, Some(owner), Some(owner)).unwrap();
    let path = theirs.to_str().unwrap();
    let shared = quack_tests::ForEveryUser::new();
    let plugin = shared.plugin("factorize");
    let output = shared
        .host(&[
            "run",
            plugin.to_str().unwrap(),
            "--task",
            "12",
            "--mode",
            "inline",
            "--json",
            path,
        ])
        .current_dir(dir.path())
        .uid(runner)
        .gid(runner)
        .output()
        .unwrap();
    let result = Run::from(output);
    refused_before_the_run(&result, path, "belongs to another user (uid 65534)");
    assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "theirs");
    assert_eq!(std::fs::metadata(&theirs).unwrap().uid(), owner);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, ["report.json"], "no temporary file left");
}

#[test]
fn json_to_dev_stdout_is_refused_when_stdout_is_a_file_too() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.txt");
    let out = std::fs::File::create(&out_path).unwrap();
    let output = host(&[
        "run",
        &plugin_arg("factorize"),
        "--task",
        "12",
        "--json",
        "/dev/stdout",
    ])
    .stdout(out)
    .output()
    .unwrap();
    let result = Run::from(output);
    result.expect_code(REFUSED);
    let line = result.one_error_line();
    assert!(line.contains("/dev/stdout"), "{line}");
    assert!(line.contains("or - for standard output"), "{line}");
    assert_eq!(
        std::fs::read_to_string(&out_path).unwrap(),
        "",
        "the run did not start"
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, ["out.txt"], "no temporary file beside stdout's file");
}
