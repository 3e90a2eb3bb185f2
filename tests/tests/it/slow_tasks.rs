//! `--slow-after DURATION`: a line on stderr for an attempt still running after it (nextest's
//! `SLOW`), in inline mode (the thread that reports is the one running the task) and in process
//! mode; the task goes on.

use quack_tests::{LiveRun, plugin_arg};

/// A task that never ends by itself gets its SLOW line while it runs, naming its id, attempt and
/// worker; SIGTERM then stops the run.
#[test]
fn a_task_still_running_gets_one_slow_line() {
    for mode in ["inline", "process"] {
        let mut live = LiveRun::start(&[
            "run",
            &plugin_arg("misbehave"),
            "--mode",
            mode,
            "--workers",
            "1",
            "--task",
            "ok",
            "--task",
            "hang",
            "--slow-after",
            "100ms",
        ]);
        let line = live.stderr_line_containing("SLOW");
        assert!(
            line.starts_with("SLOW [> 100ms] task 1 (attempt 1, worker 0) is still running"),
            "{mode}: {line}"
        );
        assert!(!live.has_exited(), "{mode}: the slow task goes on");
        live.signal(libc::SIGTERM);
        if mode == "inline" {
            // Inline mode finishes the task it is running first; a second signal, once the
            // first is taken, ends the host.
            live.stderr_line_containing("stopping:");
            live.signal(libc::SIGTERM);
        }
        let result = live.finish();
        assert_eq!(
            result.stderr.matches("SLOW").count(),
            1,
            "{mode}: one line per attempt: {result:#?}"
        );
    }
}
