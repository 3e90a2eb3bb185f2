//! Scenario 4: process mode's time from start to first result. In the library: making a
//! one-worker process executor and running one trivial task until its result arrives (the
//! worker's spawn, its loading of the plugin and the handshake included). As whole processes:
//! `host run <factorize> --task 1 --mode process --workers N --format jsonl` for 1, 2, 4 and 16
//! workers, from spawn to the task's line and to exit, with the number of workers the runner
//! started for that one task. Set against starting and ending a bare `host --version`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    drive::{self, Job, Keep, Mode, Split, Workers},
    error::BenchError,
    process::{self, Spawn},
    suite::{Plan, Setup, millis, summarize},
    table::{Comparison, Row, Section, Target, Unit},
};

const SCENARIO: &str = "process start-up";
/// The worker counts of the whole-process rows.
const WORKER_COUNTS: [usize; 4] = [1, 2, 4, 16];

pub fn measure(setup: &Setup, plan: Plan) -> Result<Section, BenchError> {
    // Untimed: brings the host binary and the plugin into the page cache.
    first_result(setup)?;
    bare_host(setup)?;
    let mut firsts = Vec::new();
    let mut bare = Vec::new();
    let mut whole: [(Vec<f64>, Vec<f64>, usize); 4] = Default::default();
    for _ in 0..plan.startup_repetitions {
        setup.settle();
        firsts.push(millis(first_result(setup)?));
        bare.push(millis(bare_host(setup)?));
        for (workers, (to_line, to_exit, started)) in WORKER_COUNTS.into_iter().zip(&mut whole) {
            let (line, exit, workers_started) = whole_process(setup, workers)?;
            to_line.push(millis(line));
            to_exit.push(millis(exit));
            *started = workers_started;
        }
    }
    let bare = summarize(bare);
    let unit = Unit::Milliseconds;
    let mut section = Section::new("4. Process mode, start to first result (one trivial task)");
    section.push(
        Row::new("library: process, 1 worker", unit, summarize(firsts))
            .target(Target::at_most(5.0))
            .against(Comparison::here(
                "host --version, spawn to exit",
                bare.median,
                unit,
            )),
    );
    let bare_median = bare.median;
    section.push(Row::new("host --version, spawn to exit", unit, bare));
    for (workers, (to_line, to_exit, started)) in WORKER_COUNTS.into_iter().zip(whole) {
        let to_exit = summarize(to_exit);
        section.push(
            Row::new(
                format!("host run --workers {workers}: to the task's line ({started} started)"),
                unit,
                summarize(to_line),
            )
            .against(Comparison::here("host --version", bare_median, unit)),
        );
        section.push(
            Row::new(
                format!("host run --workers {workers}: to exit"),
                unit,
                to_exit,
            )
            .against(Comparison::here("host --version", bare_median, unit)),
        );
    }
    section.note(
        "library: from making the executor to the first finished task: spawn, exec, plugin \
         load, handshake, one task (the worker is the host binary beside quack-bench); host run \
         rows: host run <factorize> --task 1 --mode process \
         --workers N --format jsonl as a whole process, from spawn to its task line on stdout \
         and to its exit; started = the workers the runner started for the one task (the \
         summary line's runner.workers); host --version is the floor of starting the binary",
    );
    Ok(section)
}

/// The time from making a one-worker process executor to the result of `run(1)`.
fn first_result(setup: &Setup) -> Result<Duration, BenchError> {
    let outcome = drive::run(Job {
        plugin: &setup.factorize,
        config: "{}",
        inputs: &[json!(1)],
        workers: Workers::Fixed(Mode::Process, 1),
        split: Split::Never,
        keep: Keep::Records,
    })?;
    let right = outcome
        .records
        .first()
        .is_some_and(|record| record.ok && record.output == Some(json!([1])));
    match outcome.first_result {
        Some(elapsed) if right => Ok(elapsed),
        Some(_) => Err(BenchError::WrongResult {
            scenario: SCENARIO,
            detail: "run(1) in a worker process did not return [1]".to_owned(),
        }),
        None => Err(BenchError::WrongResult {
            scenario: SCENARIO,
            detail: "the worker process reported no result".to_owned(),
        }),
    }
}

/// The time to start `host --version` and see it exit.
fn bare_host(setup: &Setup) -> Result<Duration, BenchError> {
    let ran = process::run(Spawn::new("host --version", &setup.host, &["--version"]))?;
    Ok(ran.wall)
}

/// `host run --task 1 --mode process --workers N --format jsonl`: the time to its task line and
/// to its exit, and how many workers it started.
fn whole_process(setup: &Setup, workers: usize) -> Result<(Duration, Duration, usize), BenchError> {
    let workers_arg = workers.to_string();
    let spawn = Spawn::new(
        format!("host run --task 1 --mode process --workers {workers}"),
        &setup.host,
        &["run"],
    )
    .args([setup.host_factorize.as_os_str()])
    .args([
        "--task",
        "1",
        "--mode",
        "process",
        "--workers",
        &workers_arg,
        "--format",
        "jsonl",
    ]);
    let ran = process::run(spawn)?;
    process::check_jsonl(SCENARIO, 1, &ran)?;
    let summary: Value = serde_json::from_slice(&ran.last).unwrap_or(Value::Null);
    let started = summary
        .pointer("/runner/workers")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| BenchError::WrongResult {
            scenario: SCENARIO,
            detail: format!("the summary line has no runner.workers: {summary}"),
        })?;
    let to_line = ran.first_line_after.unwrap_or(ran.wall);
    Ok((to_line, ran.wall, started))
}
