//! Workers beyond the host's own process tree: behind a launcher, and as job steps of a real
//! Slurm cluster: the single-node one of `scripts/dev-slurm`, or its emulated multi-node one
//! (`--nodes N`, found through `SLURM_CONF`), on which all of these pass too (nodes.rs has the
//! tests that need several nodes). The Slurm tests skip (with a line
//! on stderr) where `srun` does not work, and fail instead when `QUACK_REQUIRE_SLURM=1` (as CI
//! sets it), so that they cannot pass there without having run.

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
    sync::{Mutex, MutexGuard, OnceLock},
    time::Duration,
};

use quack_tests::{
    LiveRun, assert_valid_report, host, plugin, plugin_arg, read_report, run, seed_lines,
    task_record,
};
use serde_json::Value;

/// How long a run through Slurm may take before the test calls it hung (a guard, not a measure).
const SLURM_GUARD: Duration = Duration::from_secs(120);

/// The cluster, when `srun` can run a step here: held by one test at a time (the cluster has two
/// CPUs); prints why not, or panics when Slurm is required.
pub(crate) fn slurm() -> Option<MutexGuard<'static, ()>> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    slurm_usable().then(|| {
        ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    })
}

/// Whether `srun` can run a step here; prints why not, or panics when Slurm is required.
fn slurm_usable() -> bool {
    static USABLE: OnceLock<Result<(), String>> = OnceLock::new();
    let usable = USABLE.get_or_init(|| {
        // --immediate: a cluster without room answers at once instead of queueing forever.
        let output = Command::new("srun")
            .args(["--nodes=1", "--ntasks=1", "--immediate=60", "true"])
            .output();
        match output {
            Ok(output) if output.status.success() => Ok(()),
            Ok(output) => Err(format!(
                "srun failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )),
            Err(error) => Err(format!("srun cannot be run: {error}")),
        }
    });
    match usable {
        Ok(()) => true,
        Err(why) if std::env::var_os("QUACK_REQUIRE_SLURM").is_some_and(|v| v == "1") => {
            panic!("QUACK_REQUIRE_SLURM=1 but {why}; run scripts/dev-slurm")
        }
        Err(why) => {
            eprintln!("skipped: a Slurm test needs a working srun ({why}); run scripts/dev-slurm");
            false
        }
    }
}

/// Runs `args` with the report in a temporary directory and more environment.
fn run_env(args: &[&str], env: &[(&str, &Path)]) -> (quack_tests::Run, Value) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let mut full = args.to_vec();
    full.extend(["--json", report.to_str().unwrap()]);
    let mut command = host(&full);
    for (key, value) in env {
        command.env(key, value);
    }
    let run = LiveRun::start_command(&mut command, SLURM_GUARD).finish();
    let value = read_report(&report, &run);
    assert_valid_report(&value);
    (run, value)
}

fn assert_seed(run: &quack_tests::Run) {
    for line in seed_lines() {
        assert_eq!(run.stdout.matches(&line).count(), 1, "{line}: {run:#?}");
    }
}

#[test]
fn the_seed_over_two_slurm_job_steps_gives_the_seed_lists_and_names_the_nodes() {
    let Some(_cluster) = slurm() else {
        return;
    };
    let plugin = plugin_arg("factorize");
    let (run, report) = run_env(&["run", &plugin, "--slurm", "--workers", "2"], &[]);
    run.expect_code(0);
    assert_seed(&run);
    let reason = run.stderr.lines().next().unwrap();
    assert!(
        reason.contains("workers run as Slurm job steps"),
        "{reason}"
    );
    assert!(reason.contains("srun "), "{reason}");
    assert!(
        report["runner"]["launcher"]
            .as_str()
            .unwrap()
            .contains("--unbuffered"),
        "{report:#}"
    );
    let workers = report["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 2, "{report:#}");
    for worker in workers {
        let node = worker["node"].as_str().unwrap();
        let line = format!("worker {} runs on {node} (pid ", worker["worker"]);
        assert!(run.stderr.contains(&line), "{line}: {run:#?}");
    }
}

#[test]
fn plugins_of_the_c_abi_run_over_slurm_job_steps_as_rust_ones_do() {
    let Some(_cluster) = slurm() else {
        return;
    };
    let plugins = [
        quack_tests::native::c_factorize(),
        quack_tests::native::go_factorize(),
    ];
    for plugin in plugins.into_iter().flatten() {
        let plugin = plugin.display().to_string();
        let (run, report) = run_env(&["run", &plugin, "--slurm", "--workers", "2"], &[]);
        run.expect_code(0);
        assert_seed(&run);
        assert_eq!(report["runner"]["mode"], "process", "{report:#}");
        assert_eq!(report["workers"].as_array().unwrap().len(), 2, "{report:#}");
        assert!(
            report["plugin"]["abi_version"]
                .as_str()
                .unwrap()
                .starts_with("C "),
            "{report:#}"
        );
    }
}

#[test]
fn a_worker_step_killed_mid_task_is_a_crash_and_the_task_runs_again_on_another_worker() {
    let Some(_cluster) = slurm() else {
        return;
    };
    let plugin = plugin_arg("misbehave");
    let mut live = LiveRun::start_with_guard(
        &[
            "run",
            &plugin,
            "--slurm",
            "--workers",
            "1",
            "--retries",
            "1",
            "--task",
            "announce-sleep:2000",
            "--format",
            "json",
        ],
        SLURM_GUARD,
    );
    let started = live.stderr_line_containing("worker 0 runs on");
    let pid = started
        .rsplit_once("(pid ")
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap()
        .to_owned();
    // The task is running once it says so; then its worker goes, as on a node that dies.
    live.stderr_line_containing("misbehave: sleeping");
    let killed = Command::new("kill").args(["-KILL", &pid]).status().unwrap();
    assert!(killed.success());
    let run = live.finish();
    run.expect_code(0);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_valid_report(&report);
    let task = task_record(&report, 0);
    assert_eq!(task["status"], "ok", "{report:#}");
    // The failed attempts; the last, successful one is the task's own record.
    let attempts = task["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{report:#}");
    assert_eq!(attempts[0]["status"], "crashed", "{report:#}");
    let error = attempts[0]["error"].as_str().unwrap();
    assert!(error.contains("worker 0 died"), "{error}");
    assert!(
        error.contains("srun: error:"),
        "the launcher's words: {error}"
    );
    // It ran again in another worker process, a new job step.
    let workers = report["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 2, "{report:#}");
    assert_ne!(workers[0]["pid"], workers[1]["pid"], "{report:#}");
    assert_eq!(workers[0]["pid"].to_string(), pid, "{report:#}");
}

/// Whether this test may make mount namespaces (root), else says why it skips.
fn can_hide_directories() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.starts_with(b"0\n"));
    if !root {
        eprintln!("skipped: hiding the plugin's directory needs root (unshare --mount)");
    }
    root
}

/// A launcher that starts the worker where `dir` is an empty tmpfs: the plugin there is out of
/// its sight, as on a node without the host's file system.
fn hiding(dir: &Path) -> String {
    format!(
        "unshare --mount --propagation private sh -c 'mount -t tmpfs none {} && exec \"$@\"' sh",
        dir.display()
    )
}

#[test]
fn a_worker_that_cannot_see_the_plugin_gets_it_from_the_host_and_caches_it() {
    if !can_hide_directories() {
        return;
    }
    let plugin_dir = tempfile::tempdir().unwrap();
    let copy = plugin_dir.path().join("libfactorize.so");
    std::fs::copy(plugin("factorize"), &copy).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let launcher = hiding(plugin_dir.path());
    let args = [
        "run",
        copy.to_str().unwrap(),
        "--launcher",
        &launcher,
        "--workers",
        "2",
    ];
    let (run, report) = run_env(&args, &[("XDG_CACHE_HOME", cache.path())]);
    run.expect_code(0);
    assert_seed(&run);
    assert!(
        run.stderr.contains("cannot be read here")
            && run.stderr.contains("the host sends the plugin"),
        "{run:#?}"
    );
    assert_eq!(report["workers"].as_array().unwrap().len(), 2, "{report:#}");
    let cached: Vec<_> = walk(&cache.path().join("quack/plugins"));
    assert_eq!(cached.len(), 1, "one cached plugin: {cached:?}");
    assert_eq!(
        std::fs::read(&cached[0]).unwrap(),
        std::fs::read(&copy).unwrap()
    );

    // The next run finds it in the cache and sends nothing.
    let (again, _) = run_env(&args, &[("XDG_CACHE_HOME", cache.path())]);
    again.expect_code(0);
    assert_seed(&again);
    assert!(
        !again.stderr.contains("the host sends the plugin"),
        "{again:#?}"
    );
}

#[test]
fn a_worker_that_finds_another_file_at_the_plugins_path_gets_the_hosts_plugin() {
    // The launcher swaps the plugin file (by rename: the host's own mapping and open file stay
    // intact) just before the worker starts, so the worker finds dog where the host loaded
    // factorize: it asks for the host's bytes instead of loading the wrong plugin.
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("libplugin.so");
    std::fs::copy(quack_tests::plugin("factorize"), &plugin).unwrap();
    let swap = format!(
        "sh -c 'cp {dog} {dir}/new.so && mv {dir}/new.so {plugin} && exec \"$@\"' swap",
        dog = quack_tests::plugin("dog").display(),
        dir = dir.path().display(),
        plugin = plugin.display(),
    );
    let cache = tempfile::tempdir().unwrap();
    let (run, report) = run_env(
        &[
            "run",
            plugin.to_str().unwrap(),
            "--launcher",
            &swap,
            "--workers",
            "1",
            "--task",
            "12",
        ],
        &[("XDG_CACHE_HOME", cache.path())],
    );
    run.expect_code(0);
    assert!(run.stderr.contains("has other content here"), "{run:#?}");
    let output = &task_record(&report, 0)["output"];
    assert_eq!(
        output,
        &serde_json::json!([1, 2, 3, 4, 6, 12]),
        "{report:#}"
    );
}

/// A copy of factorize at `dir/libplugin.so`, and a worker program (for `--worker-program`) that
/// runs the shell command `first`, then becomes `host worker`.
fn worker_program_that_first(dir: &Path, first: &str) -> (PathBuf, PathBuf) {
    let plugin = dir.join("libplugin.so");
    std::fs::copy(quack_tests::plugin("factorize"), &plugin).unwrap();
    let program = dir.join("worker-program");
    let host = quack_tests::host_path();
    let script = format!("#!/bin/sh\n{first} && exec {} \"$@\"\n", host.display());
    std::fs::write(&program, script).unwrap();
    std::fs::set_permissions(&program, PermissionsExt::from_mode(0o755)).unwrap();
    (plugin, program)
}

/// Without a launcher the host does not hash the plugin: a local worker loads the very file the
/// host stamped. A worker that finds another file there (swapped by the worker program, by
/// rename, so the host's open file is intact) has no hash to check it against: it asks, and the
/// host hashes the file it opened at the start of the run and sends it.
#[test]
fn a_local_worker_that_finds_another_file_gets_the_hosts_plugin_hashed_then() {
    let dir = tempfile::tempdir().unwrap();
    let (plugin, program) = worker_program_that_first(
        dir.path(),
        &format!(
            "cp {dog} {dir}/new.so && mv {dir}/new.so {dir}/libplugin.so",
            dog = quack_tests::plugin("dog").display(),
            dir = dir.path().display(),
        ),
    );
    let cache = tempfile::tempdir().unwrap();
    let (run, report) = run_env(
        &[
            "run",
            plugin.to_str().unwrap(),
            "--mode",
            "process",
            "--worker-program",
            program.to_str().unwrap(),
            "--workers",
            "1",
            "--task",
            "12",
        ],
        &[("XDG_CACHE_HOME", cache.path())],
    );
    run.expect_code(0);
    assert!(
        run.stderr.contains("is not the file the host loaded")
            && run.stderr.contains("the host sends the plugin"),
        "{run:#?}"
    );
    let output = &task_record(&report, 0)["output"];
    assert_eq!(
        output,
        &serde_json::json!([1, 2, 3, 4, 6, 12]),
        "{report:#}"
    );
    let cached = walk(&cache.path().join("quack/plugins"));
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert_eq!(
        std::fs::read(&cached[0]).unwrap(),
        std::fs::read(quack_tests::plugin("factorize")).unwrap(),
        "the host's plugin, not the file swapped in"
    );
}

/// A plugin file changed in place after the run started is not what the host loaded: a worker
/// that asks for it gets a sentence, not the changed bytes.
#[test]
fn a_plugin_changed_in_place_is_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    // Appending changes the file the host has open (same inode): its stamp no longer matches.
    let (plugin, program) = worker_program_that_first(
        dir.path(),
        &format!("printf x >> {}/libplugin.so", dir.path().display()),
    );
    let run = quack_tests::run(&[
        "run",
        plugin.to_str().unwrap(),
        "--mode",
        "process",
        "--worker-program",
        program.to_str().unwrap(),
        "--workers",
        "1",
        "--task",
        "12",
    ]);
    assert_ne!(run.code, Some(0), "{run:#?}");
    assert!(
        run.stderr.contains("changed since the run started"),
        "{run:#?}"
    );
}

#[test]
fn the_plugin_is_shipped_to_slurm_workers_that_cannot_see_it() {
    if !can_hide_directories() {
        return;
    }
    let Some(_cluster) = slurm() else {
        return;
    };
    let plugin_dir = tempfile::tempdir().unwrap();
    let copy = plugin_dir.path().join("libfactorize.so");
    std::fs::copy(plugin("factorize"), &copy).unwrap();
    let cache = tempfile::tempdir().unwrap();
    // srun starts the hiding launcher on the node, which starts the worker.
    let hide = hiding(plugin_dir.path());
    let launcher = format!("srun --nodes=1 --ntasks=1 --mpi=none --unbuffered --exact {hide}");
    let (run, _) = run_env(
        &[
            "run",
            copy.to_str().unwrap(),
            "--launcher",
            &launcher,
            "--workers",
            "2",
        ],
        &[("XDG_CACHE_HOME", cache.path())],
    );
    run.expect_code(0);
    assert_seed(&run);
    assert!(run.stderr.contains("the host sends the plugin"), "{run:#?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn a_launcher_that_is_not_installed_is_one_sentence_and_exit_code_21() {
    let plugin = plugin_arg("factorize");
    let result = run(&[
        "run",
        &plugin,
        "--launcher",
        "quack-no-such-launcher node1",
        "--task",
        "12",
    ]);
    result.expect_code(21);
    let last = result.stderr.lines().last().unwrap();
    assert!(
        last.starts_with("error: the launcher quack-no-such-launcher could not be run"),
        "{result:#?}"
    );
    assert!(last.contains("install it"), "{last}");
}

#[test]
fn a_launcher_that_fails_before_the_worker_starts_is_quoted_with_its_exit_code() {
    let plugin = plugin_arg("factorize");
    let result = run(&[
        "run",
        &plugin,
        "--launcher",
        "sh -c 'echo \"launcher: node17 is down\" >&2; exit 7'",
        "--task",
        "12",
    ]);
    result.expect_code(21);
    let last = result.stderr.lines().last().unwrap();
    // Whichever worker the launcher failed first is the one named.
    assert!(
        last.starts_with("error: worker ") && last.contains(" could not be started through sh"),
        "{last}"
    );
    assert!(last.contains("exit code 7"), "{last}");
    assert!(last.contains("launcher: node17 is down"), "{last}");
}

#[test]
fn the_summary_says_when_fewer_workers_started_than_were_chosen() {
    // The first worker the launcher starts runs at once; any other waits 5 s first, by when
    // the one task has long finished.
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let launcher = format!(
        "sh -c 'mkdir {} 2>/dev/null || sleep 5; exec \"$@\"' sh",
        first.display()
    );
    let plugin = plugin_arg("factorize");
    let result = run(&[
        "run",
        &plugin,
        "--launcher",
        &launcher,
        "--workers",
        "2",
        "--task",
        "12",
    ]);
    result.expect_code(0);
    let summary = result.stdout.lines().last().unwrap();
    assert!(
        summary.contains("| mode process, 2 workers (1 started) |"),
        "{result:#?}"
    );
}

#[test]
fn an_unsatisfiable_slurm_request_is_srun_s_own_sentence() {
    let Some(_cluster) = slurm() else {
        return;
    };
    let plugin = plugin_arg("factorize");
    let (run, report) = run_env(
        &[
            "run",
            &plugin,
            "--slurm",
            "--slurm-args",
            "-p quack-no-such-partition",
            "--task",
            "12",
        ],
        &[],
    );
    run.expect_code(21);
    let last = run.stderr.lines().last().unwrap();
    // Whichever worker srun failed first is the one named.
    assert!(
        last.starts_with("error: worker ") && last.contains(" could not be started through srun"),
        "{last}"
    );
    assert!(last.contains("srun: error:"), "{last}");
    assert_eq!(task_record(&report, 0)["status"], "not-run", "{report:#}");
}

#[test]
fn a_request_the_cluster_cannot_meet_ends_at_the_start_limit_with_srun_s_words() {
    let Some(_cluster) = slurm() else {
        return;
    };
    // More CPUs than the node has: Slurm 22.05 queues it rather than refusing it.
    let plugin = plugin_arg("factorize");
    let (run, report) = run_env(
        &[
            "run",
            &plugin,
            "--slurm",
            "--slurm-args",
            "--cpus-per-task=4096",
            "--start-timeout",
            "2s",
            "--task",
            "12",
        ],
        &[],
    );
    run.expect_code(21);
    let last = run.stderr.lines().last().unwrap();
    assert!(
        last.starts_with(
            "error: worker 0 could not be started through srun: it did not start within 2s"
        ),
        "{last}"
    );
    assert!(last.contains("srun: "), "srun's own words: {last}");
    assert_eq!(task_record(&report, 0)["status"], "not-run", "{report:#}");
}

/// The jobs named `name` in the queue, pending or running, as `squeue` lists them.
fn jobs_named(name: &str) -> String {
    let output = Command::new("squeue")
        .args(["--noheader", "--name", name, "--format", "%i %T"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Waits (up to 15 s: Slurm ends a job's steps asynchronously) until no job named `name` is in
/// the queue, and panics with `context` if one stays; what the queue held meanwhile, one
/// `squeue` listing per look.
pub(crate) fn wait_until_no_jobs(name: &str, context: &str) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let mut seen = Vec::new();
    loop {
        let jobs = jobs_named(name);
        if jobs.is_empty() {
            return seen;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "jobs left in the queue after the run: {jobs}; {context}"
        );
        seen.push(jobs);
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The number of CPUs the cluster has, over all its nodes.
fn cluster_cpus() -> usize {
    // %C: allocated/idle/other/total.
    let output = Command::new("sinfo")
        .args(["--noheader", "--format", "%C"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim().rsplit('/').next().unwrap().parse().unwrap()
}

/// Cancels the jobs named `name` when dropped, so that a failing test leaves none behind.
pub(crate) struct CancelJobs(pub(crate) &'static str);

impl Drop for CancelJobs {
    fn drop(&mut self) {
        let _ = Command::new("scancel").args(["--name", self.0]).status();
    }
}

#[test]
fn a_worker_still_queued_when_the_run_ends_leaves_no_job_behind() {
    let Some(_cluster) = slurm() else {
        return;
    };
    const NAME: &str = "quack-test-queued-at-the-end";
    let _cancel = CancelJobs(NAME);
    // One worker more than the cluster has CPUs: the last `srun` waits in the queue for the
    // whole run.
    let plugin = plugin_arg("factorize");
    let job_name = format!("--job-name={NAME}");
    let workers = (cluster_cpus() + 1).to_string();
    let (run, _report) = run_env(
        &[
            "run",
            &plugin,
            "--slurm",
            "--workers",
            &workers,
            "--slurm-args",
            &job_name,
        ],
        &[],
    );
    run.expect_code(0);
    assert_seed(&run);
    // The queued request is withdrawn: it leaves the queue without ever running. A request
    // whose `srun` was killed instead stays, and runs (with no worker in it) once the node has
    // room, which the end of the run gives it at once.
    let seen = wait_until_no_jobs(NAME, &format!("{run:#?}"));
    assert!(
        !seen.iter().any(|jobs| jobs.contains("RUNNING")),
        "a job of the run started after it ended: {seen:?}"
    );
}

#[test]
fn a_slurm_worker_that_goes_silent_is_lost_whatever_srun_does() {
    let Some(_cluster) = slurm() else {
        return;
    };
    const NAME: &str = "quack-test-silent-worker";
    let _cancel = CancelJobs(NAME);
    // `freeze` stops the worker's process on its node while its `srun` stays up, as a node that
    // lost power or its network looks to srun: srun alone would wait for ever.
    let plugin = plugin_arg("misbehave");
    let job_name = format!("--job-name={NAME}");
    let (run, report) = run_env(
        &[
            "run",
            &plugin,
            "--slurm",
            "--workers",
            "2",
            "--heartbeat-timeout",
            "2s",
            "--slurm-args",
            &job_name,
            "--task",
            "ok",
            "--task",
            "freeze",
            "--task",
            "ok",
        ],
        &[],
    );
    run.expect_code(1);
    let frozen = task_record(&report, 1);
    assert_eq!(frozen["status"], "crashed", "{frozen:#}");
    let error = frozen["error"].as_str().unwrap();
    let node = report["workers"][0]["node"].as_str().unwrap();
    assert!(
        error.contains(&format!(" on {node} went silent for 2s")),
        "the node is named: {error}"
    );
    for id in [0, 2] {
        assert_eq!(task_record(&report, id)["status"], "ok", "{report:#}");
    }
    wait_until_no_jobs(NAME, "");
}

#[test]
fn inside_an_sbatch_allocation_the_workers_are_its_tasks() {
    let Some(_cluster) = slurm() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.txt");
    let script = dir.path().join("job.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec {} run {} --slurm\n",
            quack_tests::host_path().display(),
            plugin_arg("factorize")
        ),
    )
    .unwrap();
    let status = Command::new("timeout")
        .arg("300")
        .arg("sbatch")
        .args(["--wait", "--ntasks=2", "--quiet", "--output"])
        .arg(&out)
        .arg(&script)
        .status()
        .unwrap();
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(status.success(), "{status}: {text}");
    for line in seed_lines() {
        assert!(text.contains(&line), "{line}: {text}");
    }
    assert!(text.contains("2 workers"), "{text}");
    assert!(text.contains("(2 tasks)"), "{text}");
    // The count came from the allocation, not from a flag, and the reason says so.
    assert!(
        text.contains("with 2 workers as asked with the allocation's SLURM_NTASKS=2"),
        "{text}"
    );
    assert!(!text.contains("--workers"), "{text}");
    assert!(text.contains("worker 1 runs on"), "{text}");
}

#[test]
fn launcher_options_that_cannot_go_together_are_usage_errors() {
    let plugin = plugin_arg("factorize");
    let thread = run(&["run", &plugin, "--slurm", "--mode", "thread"]);
    thread.expect_code(2);
    assert!(
        thread.one_error_line().contains("--mode process"),
        "{thread:#?}"
    );
    for args in [
        &["--slurm", "--launcher", "ssh node1"][..],
        &["--slurm-args", "-p debug"][..],
    ] {
        let mut full = vec!["run", plugin.as_str()];
        full.extend(args);
        run(&full).expect_code(2);
    }
    let unclosed = run(&["run", &plugin, "--slurm", "--slurm-args", "-p 'debug"]);
    unclosed.expect_code(2);
    assert!(
        unclosed.one_error_line().contains("close every quote"),
        "{unclosed:#?}"
    );
}

#[test]
fn the_python_plugin_runs_as_slurm_job_steps_and_is_shipped_where_it_is_missing() {
    if !quack_tests::python3_available() || !can_hide_directories() {
        return;
    }
    let Some(_cluster) = slurm() else {
        return;
    };
    let plugin_dir = tempfile::tempdir().unwrap();
    let copy = plugin_dir.path().join("factorize.py");
    std::fs::copy(quack_tests::repo_file("plugins/python/factorize.py"), &copy).unwrap();
    let cache = tempfile::tempdir().unwrap();
    // The node sees neither the script nor the SDK beside it: the host ships the script, and
    // provides `quack` itself.
    let hide = hiding(plugin_dir.path());
    let launcher = format!("srun --nodes=1 --ntasks=1 --mpi=none --unbuffered --exact {hide}");
    let (run, report) = run_env(
        &[
            "run",
            copy.to_str().unwrap(),
            "--launcher",
            &launcher,
            "--workers",
            "2",
            "--task",
            "5423123",
            "--task",
            "12",
        ],
        &[("XDG_CACHE_HOME", cache.path())],
    );
    run.expect_code(0);
    assert!(run.stderr.contains("the host sends the plugin"), "{run:#?}");
    let output = |id| {
        report["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|task| task["id"] == id)
            .unwrap()["output"]
            .clone()
    };
    assert_eq!(output(0), serde_json::json!([1, 5423123]), "{report:#}");
    assert_eq!(
        output(1),
        serde_json::json!([1, 2, 3, 4, 6, 12]),
        "{report:#}"
    );
}
