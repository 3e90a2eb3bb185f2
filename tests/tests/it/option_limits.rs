//! `--workers` and `--timeout` have ceilings stated in a sentence (exit code 2), never a panic or
//! a hundred thousand processes.

use quack_tests::{plugin_arg, run};

#[test]
fn too_many_workers_are_refused_with_the_ceiling() {
    let result = run(&["run", &plugin_arg("factorize"), "--workers", "100000"]);
    result.expect_code(2);
    assert!(
        result
            .stderr
            .contains("100000 workers is more than the 1024 the host starts at most"),
        "{result:#?}"
    );
    // The ceiling itself is accepted: the missing plugin is what stops this run.
    run(&["run", "no/such/libplugin.so", "--workers", "1024"]).expect_code(3);
}

#[test]
fn a_huge_timeout_is_refused_not_a_panic() {
    for timeout in ["18446744073709551615s", "400days", "1000years"] {
        let result = run(&[
            "run",
            &plugin_arg("factorize"),
            "--mode",
            "thread",
            "--timeout",
            timeout,
        ]);
        assert!(matches!(result.code, Some(2)), "{timeout}: {result:#?}");
        assert!(!result.stderr.contains("panicked"), "{result:#?}");
        assert!(
            result.stderr.contains("longer than a year"),
            "{timeout}: {result:#?}"
        );
    }
}

#[test]
fn a_timeout_of_a_year_is_accepted() {
    for mode in ["thread", "process"] {
        run(&[
            "run",
            &plugin_arg("factorize"),
            "--mode",
            mode,
            "--timeout",
            "365days",
        ])
        .expect_code(0);
    }
}
