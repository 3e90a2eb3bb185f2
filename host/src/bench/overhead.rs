//! Scenario 1: the overhead per trivial task (factorize's `run(1)`), in thread and process mode
//! with 2 workers, set against a bare call loop on one instance and the inline executor measured
//! in the same run, and against Python's executors.

use std::time::{Duration, Instant};

use quack_core::abi_stable::std_types::RResult;
use serde_json::json;

use super::{
    BenchError, Plan, Setup, choice, context, micros, python, summarize,
    table::{Comparison, Row, Section, Target, Unit, thousands},
};
use crate::{
    loader::LoadedPlugin,
    runner::{self, EventKind, Mode, RunError, Status, Task},
};

const SCENARIO: &str = "overhead per trivial task";
/// The modes measured, in the order of the table.
const MODES: [Mode; 3] = [Mode::Inline, Mode::Thread, Mode::Process];
/// Workers in thread and process mode.
const WORKERS: usize = 2;
/// Tasks of the untimed warm-up run of each mode.
const WARM_UP_TASKS: usize = 1_000;

pub(super) fn measure(setup: &Setup, plan: Plan) -> Result<Section, BenchError> {
    let plugin = &setup.factorize;
    let count = plan.overhead_tasks;
    direct_calls(plugin, WARM_UP_TASKS)?;
    for mode in MODES {
        executor_run(plugin, mode, WARM_UP_TASKS)?;
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
            samples.push(per_task(executor_run(plugin, mode, count)?));
        }
    }
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
    section.push(
        Row::new(format!("thread, {WORKERS} workers"), unit, thread)
            .target(Target::at_most(1.0))
            .against(Comparison::here("inline executor", inline_median, unit))
            .against(Comparison::quoted(
                "Python ThreadPoolExecutor(2)",
                python::THREAD_POOL_US,
                "22 us",
            )),
    );
    section.push(
        Row::new(format!("process, {WORKERS} workers"), unit, process)
            .target(Target::at_most(5.0))
            .against(Comparison::here("inline executor", inline_median, unit))
            .against(Comparison::quoted(
                "Python ProcessPoolExecutor(2)",
                python::PROCESS_POOL_MAP_US,
                "123-146 us",
            )),
    );
    section.note(
        "executor rows: from making the executor (threads, instances, worker processes) to its \
         last result, over the task count; the direct call loop is instance.call(\"run\", \"1\") \
         on one instance, the floor; Python: a trivial task with submit (threads) and map (processes, \
         the faster figure, 123 us, for the ratio)",
    );
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

/// Runs `count` tasks `run(1)` through the real executor for `mode`, counting the results; the
/// time from making the executor until it returns.
fn executor_run(plugin: &LoadedPlugin, mode: Mode, count: usize) -> Result<Duration, BenchError> {
    let context = context(plugin, "{}");
    let started = Instant::now();
    let mut executor = runner::executor(&choice(mode, WORKERS), context)?;
    let mut tasks = (0..count as u64).map(|id| Task::new(id, json!(1)));
    let (mut finished, mut ok) = (0_usize, 0_usize);
    executor.execute(&mut tasks, &mut |event| {
        if let EventKind::TaskFinished(record) = event.kind {
            finished += 1;
            ok += usize::from(record.status == Status::Ok);
        }
    })?;
    let wall = started.elapsed();
    if finished != count || ok != count {
        return Err(BenchError::WrongResult {
            scenario: SCENARIO,
            detail: format!(
                "{} mode reported {finished} of {count} tasks, {ok} of them ok",
                mode.as_str()
            ),
        });
    }
    Ok(wall)
}
