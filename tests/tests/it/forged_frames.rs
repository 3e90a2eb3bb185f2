//! A plugin in a worker that writes frames of the worker protocol itself (it found the
//! protocol's descriptor) costs only its own task: after the handshake, a second hello, a fatal
//! message, a request for the plugin or an answer for a task the worker was not running is that
//! worker's protocol error. Its running task is `crashed`, the worker is replaced, the other
//! tasks run, and no forged answer becomes a result.

use quack_tests::{plugin_arg, run_with_report, task_record};

fn a_forged_frame_costs_only_its_task(kind: &str) {
    let forge = format!("forge:{kind}");
    let (run, report) = run_with_report(&[
        "run",
        &plugin_arg("misbehave"),
        "--mode",
        "process",
        "--workers",
        "1",
        "--task",
        "ok",
        "--task",
        &forge,
        "--task",
        "ok",
        "--task",
        "ok",
    ]);
    // One task failed: the run's own end is not an error.
    run.expect_code(1);
    let forged = task_record(&report, 1);
    assert_eq!(forged["status"], "crashed", "{kind}: {forged:#}");
    let error = forged["error"].as_str().unwrap();
    assert!(
        error.contains("broke the protocol"),
        "{kind}: the error says what happened: {error}"
    );
    for id in [0, 2, 3] {
        let record = task_record(&report, id);
        assert_eq!(record["status"], "ok", "{kind}: task {id}: {report:#}");
        assert_eq!(record["output"], "ok", "{kind}: task {id}: {report:#}");
    }
    assert_eq!(report["summary"]["crashed"], 1, "{kind}: {report:#}");
    assert!(
        !report.to_string().contains("forged\\\""),
        "{kind}: a forged answer became a result: {report:#}"
    );
}

#[test]
fn a_forged_hello_costs_only_its_task() {
    a_forged_frame_costs_only_its_task("hello");
}

#[test]
fn a_forged_fatal_message_costs_only_its_task() {
    a_forged_frame_costs_only_its_task("fatal");
}

#[test]
fn a_forged_request_for_the_plugin_costs_only_its_task() {
    a_forged_frame_costs_only_its_task("need-plugin");
}

#[test]
fn a_forged_answer_for_another_task_costs_only_its_task() {
    a_forged_frame_costs_only_its_task("done");
}
