//! Scenario 2: the seed's four numbers by the naive method, inline and on 2 threads and 2
//! processes, split into parts as `host run` does it; the speedup over inline, and the Python and
//! Go peers beside (measured when python3 and go are there). Every run's results are checked
//! against the seed's lists.

use std::time::Duration;

use quack_host::plugin::LoadedPlugin;
use serde_json::{Value, json};

use super::SEED;
use crate::{
    drive::{self, Job, Keep, Mode, Split, Workers},
    error::BenchError,
    peers::{PeerFigure, quoted},
    suite::{Plan, Setup, summarize},
    table::{Comparison, Row, Section, Target, Unit},
};

const SCENARIO: &str = "factorize";
/// Workers in thread and process mode.
const WORKERS: usize = 2;
/// The modes measured, in the order of the table.
const MODES: [Mode; 3] = [Mode::Inline, Mode::Thread, Mode::Process];
/// The naive method: every i in 1..=n tried.
pub const NAIVE: &str = r#"{"method": "naive"}"#;

pub fn measure(setup: &Setup, plan: Plan) -> Result<Section, BenchError> {
    let plugin = &setup.factorize;
    let mut by_mode: [Vec<f64>; 3] = Default::default();
    let mut parts = [0; 3];
    for _ in 0..plan.factorize_repetitions {
        for ((mode, samples), parts) in MODES.into_iter().zip(&mut by_mode).zip(&mut parts) {
            setup.settle();
            let (wall, ran) = run_seed(plugin, mode, Split::AsHostRunDoes)?;
            samples.push(wall.as_secs_f64());
            *parts = ran;
        }
    }
    let repeat = plan.peer_repetitions.to_string();
    let mut python_args = vec!["--repeat", repeat.as_str()];
    if plan.python_thread_pool_factorize {
        python_args.push("--thread-pool");
    }
    let python = setup.peers.python("factorize.py", &python_args)?;
    let go_repeat = (plan.peer_repetitions * 3).to_string();
    let go = setup.peers.go(&["-repeat", &go_repeat])?;
    let python_sequential = PeerFigure::of(&python, "sequential", quoted::FACTORIZE_SEQUENTIAL_S)?;
    let python_process_pool =
        PeerFigure::of(&python, "process_pool_2", quoted::FACTORIZE_PROCESS_POOL_S)?;
    let python_thread_pool = if plan.python_thread_pool_factorize {
        PeerFigure::of(&python, "thread_pool_2", quoted::FACTORIZE_THREAD_POOL_S)?
    } else {
        PeerFigure::Quoted(
            quoted::FACTORIZE_THREAD_POOL_S,
            "skipped in --quick".to_owned(),
        )
    };
    let go_sequential = PeerFigure::of(&go, "sequential", quoted::GO_SEQUENTIAL_S)?;
    let go_ranges = PeerFigure::of(&go, "ranges_2", quoted::GO_RANGES_S)?;

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
    section.push(
        Row::new("inline", unit, inline)
            .against(python_sequential.comparison("Python sequential", unit))
            .against(go_sequential.comparison("Go sequential", unit)),
    );
    for (mode, samples, parts) in [
        (Mode::Thread, thread, parts[1]),
        (Mode::Process, process, parts[2]),
    ] {
        let mut row = Row::new(how(mode, parts), unit, samples)
            .target(Target::ratio_at_least(1.85))
            .against(Comparison::here("inline", inline_median, unit))
            .against(python_process_pool.comparison("Python ProcessPoolExecutor(2)", unit));
        if mode == Mode::Thread {
            row = row.against(python_thread_pool.comparison("Python ThreadPoolExecutor(2)", unit));
        }
        section.push(row.against(go_ranges.comparison("Go, ranges of 10^6 on 2 goroutines", unit)));
    }
    let mut note = format!(
        "the target is the speedup over inline (first ratio); numbers are cut into parts as \
         host run does for a Splittable plugin, split and merge included in the time; Python \
         and Go run the same naive loop and check their results; Python pools are made inside \
         the timed run; Python {} repetition(s), Go {}",
        plan.peer_repetitions,
        plan.peer_repetitions * 3
    );
    if !plan.python_thread_pool_factorize {
        note.push_str(
            "; --quick skips Python's ThreadPoolExecutor(2) run (2 s): its figure is quoted",
        );
    }
    section.note(note);
    Ok(section)
}

/// Runs the seed's numbers once in `mode`, split or not; the wall time from making the executor
/// until every result is in, and how many tasks the executor ran (parts, when split).
pub fn run_seed(
    plugin: &LoadedPlugin,
    mode: Mode,
    split: Split,
) -> Result<(Duration, usize), BenchError> {
    let inputs: Vec<Value> = SEED.iter().map(|(n, _)| json!(n)).collect();
    let outcome = drive::run(Job {
        plugin,
        config: NAIVE,
        inputs: &inputs,
        workers: Workers::Fixed(mode, WORKERS),
        split,
        keep: Keep::Records,
    })?;
    let wrong = |detail: String| BenchError::WrongResult {
        scenario: SCENARIO,
        detail: format!("{} mode: {detail}", mode.as_str()),
    };
    let mut outputs: Vec<Option<Value>> = vec![None; SEED.len()];
    for record in outcome.records {
        let slot = usize::try_from(record.id)
            .ok()
            .and_then(|id| outputs.get_mut(id));
        match (record.ok, slot) {
            (true, Some(slot)) => *slot = record.output,
            _ => {
                return Err(wrong(format!(
                    "task {} failed: {}",
                    record.id,
                    record.error.unwrap_or_default()
                )));
            }
        }
    }
    for ((n, divisors), output) in SEED.iter().zip(&outputs) {
        let expected = json!(divisors);
        match output {
            Some(output) if *output == expected => {}
            Some(output) => return Err(wrong(format!("{n} gave {output}, not {expected}"))),
            None => return Err(wrong(format!("{n} gave no result"))),
        }
    }
    Ok((outcome.wall, outcome.parts))
}
