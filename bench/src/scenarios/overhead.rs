//! Scenario 1: the overhead per trivial task (factorize's `run(1)`), in thread and process mode
//! with 2 workers, set against a bare call loop on one instance and the inline executor measured
//! in the same run, and against Python's executors (measured when python3 is there).

use std::time::{Duration, Instant};

use quack_core::abi_stable::std_types::RResult;
use quack_host::plugin::LoadedPlugin;
use serde_json::{Value, json};

use crate::{
    drive::{self, Job, Keep, Mode, RunError, Split, Workers},
    error::BenchError,
    peers::{PeerFigure, quoted},
    suite::{Plan, Setup, micros, summarize},
    table::{Comparison, Row, Section, Target, Unit, thousands},
};

const SCENARIO: &str = "overhead per trivial task";
/// The modes measured, in the order of the table.
const MODES: [Mode; 3] = [Mode::Inline, Mode::Thread, Mode::Process];
/// Workers in thread and process mode.
const WORKERS: usize = 2;
/// Tasks of the untimed warm-up run of each mode.
const WARM_UP_TASKS: usize = 1_000;

pub fn measure(setup: &Setup, plan: Plan) -> Result<Section, BenchError> {
    let plugin = &setup.factorize;
    let count = plan.overhead_tasks;
    let inputs = vec![json!(1); count];
    direct_calls(plugin, WARM_UP_TASKS)?;
    for mode in MODES {
        executor_run(plugin, mode, &inputs[..WARM_UP_TASKS])?;
    }
    // Repetitions go round the modes, so that a slow spell of the machine hits them all alike.
    let per_task = |wall: Duration| micros(wall) / count as f64;
    let mut direct = Vec::new();
    let mut by_mode: [Vec<f64>; 3] = Default::default();
    for _ in 0..plan.overhead_repetitions {
        setup.settle();
        direct.push(per_task(direct_calls(plugin, count)?));
        for (mode, samples) in MODES.into_iter().zip(&mut by_mode) {
            setup.settle();
            samples.push(per_task(executor_run(plugin, mode, &inputs)?));
        }
    }
    let python = setup.peers.python(
        "overhead.py",
        &[
            "--thread-tasks",
            &plan.python_thread_tasks.to_string(),
            "--process-tasks",
            &plan.python_process_tasks.to_string(),
            "--repeat",
            &plan.peer_repetitions.to_string(),
        ],
    )?;
    let thread_submit =
        PeerFigure::of(&python, "thread_pool_submit", quoted::THREAD_POOL_SUBMIT_US)?;
    let thread_map = python
        .as_ref()
        .ok()
        .map(|f| f.median("thread_pool_map"))
        .transpose()?;
    let process_map = PeerFigure::of(&python, "process_pool_map", quoted::PROCESS_POOL_MAP_US)?;
    let process_submit = python
        .as_ref()
        .ok()
        .map(|f| f.median("process_pool_submit"))
        .transpose()?;

    let direct = summarize(direct);
    let [inline, thread, process] = by_mode.map(summarize);
    let unit = Unit::Microseconds;
    let direct_median = direct.median;
    let inline_median = inline.median;

    let mut section = Section::new(format!(
        "1. Overhead per trivial task: factorize run(1), {} tasks, wall time / tasks",
        thousands(count as u64)
    ));
    section.push(Row::new("direct call loop, no executor", unit, direct));
    section.push(
        Row::new("inline executor", unit, inline).against(Comparison::here(
            "direct call loop",
            direct_median,
            unit,
        )),
    );
    let mut thread_row = Row::new(format!("thread, {WORKERS} workers"), unit, thread)
        .target(Target::at_most(1.0))
        .against(Comparison::here("inline executor", inline_median, unit))
        .against(thread_submit.comparison("Python ThreadPoolExecutor(2), submit", unit));
    if let Some(value) = thread_map {
        thread_row = thread_row.against(Comparison::here(
            "Python ThreadPoolExecutor(2), map",
            value,
            unit,
        ));
    }
    section.push(thread_row);
    let mut process_row = Row::new(format!("process, {WORKERS} workers"), unit, process)
        .target(Target::at_most(5.0))
        .against(Comparison::here("inline executor", inline_median, unit))
        .against(process_map.comparison("Python ProcessPoolExecutor(2), map chunksize 1", unit));
    if let Some(value) = process_submit {
        process_row = process_row.against(Comparison::here(
            "Python ProcessPoolExecutor(2), submit",
            value,
            unit,
        ));
    }
    section.push(process_row);
    section.note(format!(
        "executor rows: from making the executor (threads, instances, worker processes) to its \
         last result, over the task count; the direct call loop is instance.call(\"run\", \"1\") \
         on one instance, the floor; Python: an identity task on a pool made and warmed up \
         beforehand, {} tasks on threads and {} on processes, wall time / tasks",
        thousands(plan.python_thread_tasks as u64),
        thousands(plan.python_process_tasks as u64)
    ));
    Ok(section)
}

/// Calls `run("1")` `count` times on one instance; the time of the calls alone.
fn direct_calls(plugin: &LoadedPlugin, count: usize) -> Result<Duration, BenchError> {
    let mut instance = plugin.instantiate("{}").map_err(RunError::Instance)?;
    let started = Instant::now();
    for _ in 0..count {
        match instance.call("run".into(), "1".into()) {
            RResult::ROk(output) if output.as_str() == "[1]" => {}
            RResult::ROk(output) => {
                return Err(BenchError::WrongResult {
                    scenario: SCENARIO,
                    detail: format!("run(1) returned {output}, not [1]"),
                });
            }
            RResult::RErr(error) => {
                return Err(BenchError::WrongResult {
                    scenario: SCENARIO,
                    detail: format!("run(1) failed: {error}"),
                });
            }
        }
    }
    Ok(started.elapsed())
}

/// Runs the tasks `run(1)` through the executor for `mode`, counting the results; the time from
/// making the executor until it returns.
fn executor_run(
    plugin: &LoadedPlugin,
    mode: Mode,
    inputs: &[Value],
) -> Result<Duration, BenchError> {
    let outcome = drive::run(Job {
        plugin,
        config: "{}",
        inputs,
        workers: Workers::Fixed(mode, WORKERS),
        split: Split::Never,
        keep: Keep::Counts,
    })?;
    let count = inputs.len();
    if outcome.finished != count || outcome.ok != count {
        return Err(BenchError::WrongResult {
            scenario: SCENARIO,
            detail: format!(
                "{} mode reported {} of {count} tasks, {} of them ok",
                mode.as_str(),
                outcome.finished,
                outcome.ok
            ),
        });
    }
    Ok(outcome.wall)
}
