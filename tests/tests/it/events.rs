//! The event stream of a run through the library's one entry point, `Run`: from `RunStarted` to
//! `RunFinished`, every task started once and finished once, in each mode (times left out).

use quack_host::{
    plugin::LoadedPlugin,
    runner::{Event, EventKind, Mode, Run, RunEnd, Task, WorkerCommand},
};
use serde_json::json;

/// The events of a run of misbehave's `ok`, `error`, `ok` in `mode` on one worker, one line each.
fn event_lines(mode: Mode) -> Vec<String> {
    let plugin = LoadedPlugin::load(&quack_tests::plugin("misbehave")).unwrap();
    let run = Run::new(plugin)
        .mode(Some(mode))
        .workers(Some(1))
        .worker_command(WorkerCommand::new(quack_tests::host_path(), ["worker"]));
    let mut tasks = ["ok", "error", "ok"]
        .into_iter()
        .enumerate()
        .map(|(id, task)| Task::new(id as u64, json!(task)));
    let mut lines = Vec::new();
    let outcome = run.execute(&mut tasks, &mut |event: &Event| {
        let line = match &event.kind {
            EventKind::RunStarted {
                choice,
                tasks,
                split,
            } => format!(
                "run started: {} mode, {} worker, {tasks:?} tasks, split {split}",
                choice.mode.as_str(),
                choice.workers
            ),
            EventKind::WorkerStarted { worker, .. } => format!("worker {worker} started"),
            EventKind::TaskStarted { id, attempt, .. } => {
                format!("task {id} started (attempt {attempt})")
            }
            EventKind::TaskFinished(record) => format!(
                "task {} finished: {}{}",
                record.id,
                record.status.as_str(),
                record
                    .error
                    .as_ref()
                    .map_or(String::new(), |e| format!(" ({e})"))
            ),
            EventKind::RunFinished { summary, end } => format!(
                "run finished: {end:?}, {} tasks, {} ok, {} error",
                summary.tasks, summary.ok, summary.error
            ),
            EventKind::Idle => return,
            other => format!("{other:?}"),
        };
        lines.push(line);
    });
    assert_eq!(outcome.end, RunEnd::Completed);
    lines
}

#[test]
fn an_inline_run_reports_each_task_between_run_started_and_run_finished() {
    assert_eq!(
        event_lines(Mode::Inline),
        [
            "run started: inline mode, 1 worker, Some(3) tasks, split false",
            "task 0 started (attempt 1)",
            "task 0 finished: ok",
            "task 1 started (attempt 1)",
            "task 1 finished: error (asked to fail)",
            "task 2 started (attempt 1)",
            "task 2 finished: ok",
            "run finished: Completed, 3 tasks, 2 ok, 1 error",
        ]
    );
}

/// Threads and processes may hand out the next task before the last one finished: each task
/// starts before it finishes, and the stream begins and ends the same way.
#[track_caller]
fn check_pooled(lines: &[String], mode: &str, worker_started: bool) {
    assert_eq!(
        lines.first().unwrap(),
        &format!("run started: {mode} mode, 1 worker, Some(3) tasks, split false")
    );
    assert_eq!(
        lines.last().unwrap(),
        "run finished: Completed, 3 tasks, 2 ok, 1 error"
    );
    assert_eq!(
        lines.iter().any(|l| l == "worker 0 started"),
        worker_started,
        "{lines:#?}"
    );
    for (id, outcome) in ["ok", "error (asked to fail)", "ok"].iter().enumerate() {
        let started = format!("task {id} started (attempt 1)");
        let finished = format!("task {id} finished: {outcome}");
        let at = |line: &str| lines.iter().position(|l| l == line);
        let (Some(s), Some(f)) = (at(&started), at(&finished)) else {
            panic!("task {id} is not started and finished: {lines:#?}");
        };
        assert!(s < f, "{lines:#?}");
        assert_eq!(
            lines.iter().filter(|l| **l == finished).count(),
            1,
            "{lines:#?}"
        );
    }
    assert_eq!(lines.len(), 8 + usize::from(worker_started), "{lines:#?}");
}

#[test]
fn a_thread_run_reports_each_task_once_between_run_started_and_run_finished() {
    check_pooled(&event_lines(Mode::Thread), "thread", false);
}

#[test]
fn a_process_run_reports_its_worker_and_each_task_once() {
    check_pooled(&event_lines(Mode::Process), "process", true);
}
