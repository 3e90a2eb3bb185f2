//! Scenario 2: the seed's four numbers by the naive method, inline and on 2 threads and 2
//! processes, split into parts as `host run` does it; the speedup over inline, and the Python
//! figures beside. Every run's results are checked against the seed's lists.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{
    BenchError, Plan, Setup, choice, context, python, summarize,
    table::{Comparison, Row, Section, Target, Unit},
};
use crate::{
    interfaces::{self, Interface},
    loader::LoadedPlugin,
    runner::{self, Event, EventKind, Mode, Splitter, Status, Task},
};

const SCENARIO: &str = "factorize";
/// The seed's numbers and their exact divisors (SEED-NOTES.md).
const SEED: [(u64, &[u64]); 4] = [
    (53541233, &[1, 5501, 9733, 53541233]),
    (21235343, &[1, 21235343]),
    (
        11421443,
        &[1, 11, 383, 2711, 4213, 29821, 1038313, 11421443],
    ),
    (5423123, &[1, 5423123]),
];
/// Workers in thread and process mode.
const WORKERS: usize = 2;
/// The modes measured, in the order of the table.
const MODES: [Mode; 3] = [Mode::Inline, Mode::Thread, Mode::Process];

pub(super) fn measure(setup: &Setup, plan: Plan) -> Result<Section, BenchError> {
    let plugin = &setup.factorize;
    let splittable = interfaces::check(&plugin.methods)
        .iter()
        .any(|check| check.interface == Interface::Splittable && check.satisfied());
    let mut by_mode: [Vec<f64>; 3] = Default::default();
    let mut parts = [0; 3];
    for _ in 0..plan.factorize_repetitions {
        for ((mode, samples), parts) in MODES.into_iter().zip(&mut by_mode).zip(&mut parts) {
            setup.settle();
            let (wall, ran) = run_seed(plugin, splittable, mode)?;
            samples.push(wall.as_secs_f64());
            *parts = ran;
        }
    }
    let [inline, thread, process] = by_mode.map(summarize);
    let inline_median = inline.median;
    let unit = Unit::Seconds;
    let how = |mode: Mode, parts: usize| {
        if parts > SEED.len() {
            format!("{}, {WORKERS} workers, {parts} parts", mode.as_str())
        } else {
            format!("{}, {WORKERS} workers, not split", mode.as_str())
        }
    };

    let mut section = Section::new(
        "2. factorize, the seed's four numbers, naive method, results checked (wall time)",
    );
    section.push(Row::new("inline", unit, inline).against(Comparison::quoted(
        "Python sequential",
        python::FACTORIZE_SEQUENTIAL_S,
        "2.949 s",
    )));
    for (mode, samples, parts) in [
        (Mode::Thread, thread, parts[1]),
        (Mode::Process, process, parts[2]),
    ] {
        section.push(
            Row::new(how(mode, parts), unit, samples)
                .target(Target::ratio_at_least(1.85))
                .against(Comparison::here("inline", inline_median, unit))
                .against(Comparison::quoted(
                    "Python ProcessPoolExecutor(2)",
                    python::FACTORIZE_PROCESS_POOL_S,
                    "1.841 s",
                )),
        );
    }
    section.note(
        "the target is the speedup over inline (first ratio); numbers are cut into parts as \
         host run does for a Splittable plugin, split and merge included in the time",
    );
    Ok(section)
}

/// Runs the seed's numbers once in `mode`; the wall time from making the executor until every
/// result is in, and how many tasks the executor ran (parts, when split).
fn run_seed(
    plugin: &LoadedPlugin,
    splittable: bool,
    mode: Mode,
) -> Result<(Duration, usize), BenchError> {
    let context = context(plugin, r#"{"method": "naive"}"#);
    let choice = choice(mode, WORKERS);
    let split = runner::worth_splitting(splittable, choice.workers, Some(SEED.len()));
    let started = Instant::now();
    let mut executor = runner::executor(&choice, context.clone())?;
    let mut splitter = if split {
        Some(Splitter::new(&context)?)
    } else {
        None
    };
    let mut tasks = SEED
        .iter()
        .enumerate()
        .map(|(id, (n, _))| Task::new(id as u64, json!(n)));
    let mut outputs: Vec<Option<Value>> = vec![None; SEED.len()];
    let mut failures = Vec::new();
    let mut ran = 0;
    let mut on_event = |event: Event| {
        if let EventKind::TaskFinished(record) = event.kind {
            ran += record.parts.unwrap_or(1);
            let slot = usize::try_from(record.id)
                .ok()
                .and_then(|id| outputs.get_mut(id));
            match (record.status, slot) {
                (Status::Ok, Some(slot)) => *slot = record.output,
                (status, _) => failures.push(format!(
                    "task {} ended {}: {}",
                    record.id,
                    status.as_str(),
                    record.error.unwrap_or_default()
                )),
            }
        }
    };
    match splitter.as_mut() {
        Some(splitter) => splitter.execute(executor.as_mut(), &mut tasks, &mut on_event),
        None => executor.execute(&mut tasks, &mut on_event),
    }?;
    let wall = started.elapsed();
    let wrong = |detail: String| BenchError::WrongResult {
        scenario: SCENARIO,
        detail: format!("{} mode: {detail}", mode.as_str()),
    };
    if let Some(failure) = failures.first() {
        return Err(wrong(failure.clone()));
    }
    for ((n, divisors), output) in SEED.iter().zip(&outputs) {
        let expected = json!(divisors);
        match output {
            Some(output) if *output == expected => {}
            Some(output) => return Err(wrong(format!("{n} gave {output}, not {expected}"))),
            None => return Err(wrong(format!("{n} gave no result"))),
        }
    }
    Ok((wall, ran))
}
