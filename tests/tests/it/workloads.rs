//! Workloads: the seed's factorize results inline and on threads, bad inputs failing only their
//! own task, and the I/O-bound plugin on threads.

use quack_tests::{plugin_arg, run, seed_lines};

fn assert_seed_output(args: &[&str], mode: &str) {
    let result = run(args);
    result.expect_code(0);
    for line in seed_lines() {
        assert_eq!(
            result.stdout.matches(&line).count(),
            1,
            "{line} once in {result:#?}"
        );
    }
    assert!(
        result.stdout.contains("4 tasks (4 ok), 0 failed"),
        "{result:#?}"
    );
    assert!(
        result.stdout.contains(&format!("mode {mode}")),
        "{result:#?}"
    );
    assert!(
        result.stderr.starts_with("runner: "),
        "the runner says why: {result:#?}"
    );
}

#[test]
fn factorize_gives_the_seed_results_inline() {
    let plugin = plugin_arg("factorize");
    assert_seed_output(&["run", &plugin, "--mode", "inline"], "inline");
}

#[test]
fn factorize_gives_the_seed_results_on_two_threads() {
    let plugin = plugin_arg("factorize");
    assert_seed_output(
        &["run", &plugin, "--mode", "thread", "--workers", "2"],
        "thread, 2 workers",
    );
}

#[test]
fn factorize_with_the_sqrt_method_gives_the_same_results() {
    let plugin = plugin_arg("factorize");
    assert_seed_output(
        &["run", &plugin, "--set", "method=sqrt", "--mode", "thread"],
        "thread",
    );
}

#[test]
fn auto_mode_runs_a_cpu_bound_plugin_on_one_thread_per_core_and_says_why() {
    let result = run(&["run", &plugin_arg("factorize")]);
    result.expect_code(0);
    assert!(result.stderr.contains("CPU-bound"), "{result:#?}");
}

#[test]
fn bad_factorize_inputs_fail_only_their_own_task() {
    let plugin = plugin_arg("factorize");
    let args = [
        "run",
        &plugin,
        "--task",
        "12",
        "--task",
        "0",
        "--task",
        "-5",
        "--task",
        "1.5",
        "--task",
        "\"abc\"",
        "--task",
        "1e30",
        "--task",
        "99999999999",
        "--task",
        "7",
    ];
    for mode in ["inline", "thread"] {
        let mut with_mode = args.to_vec();
        with_mode.extend(["--mode", mode]);
        let result = run(&with_mode);
        result.expect_code(1);
        assert!(
            result.stdout.contains("12 -> [1, 2, 3, 4, 6, 12]"),
            "{result:#?}"
        );
        assert!(result.stdout.contains("7 -> [1, 7]"), "{result:#?}");
        assert!(
            result.stdout.contains("8 tasks (2 ok, 6 error), 6 failed"),
            "{result:#?}"
        );
        assert!(!result.stderr.contains("panicked at"), "{result:#?}");
    }
}

#[test]
fn slow_io_runs_its_ten_default_tasks_on_ten_threads() {
    let result = run(&["run", &plugin_arg("slow_io")]);
    result.expect_code(0);
    assert!(result.stdout.contains("10 tasks (10 ok)"), "{result:#?}");
    assert!(
        result.stderr.contains("I/O-bound") && result.stdout.contains("10 workers"),
        "{result:#?}"
    );
}
