//! Scenario 9: workers as Slurm job steps (`host run --slurm`) against local worker processes
//! (`--mode process`), same plugin, same machine, as whole `host run` processes: the time to the
//! first result (one trivial task, one worker), the marginal cost of a trivial task pipelined
//! through two workers (the difference between a run of N tasks and a run of N/10, per task: the
//! start of the workers, a Slurm job each, cancels out),
//! and the seed's four numbers on two workers. Measured only where `srun` works (e.g. after
//! `scripts/dev-slurm`); elsewhere the section says why it is empty.

use std::{ffi::OsString, process::Command, time::Duration};

use crate::{
    error::BenchError,
    process::{self, Feed, Spawn},
    scenarios::SEED,
    suite::{Plan, Setup, micros, millis, summarize},
    table::{Comparison, Row, Section, Target, Unit},
};

const SCENARIO: &str = "Slurm workers";
const TITLE: &str = "9. Workers as Slurm job steps (--slurm) against local processes";

/// Where the workers run.
#[derive(Clone, Copy)]
enum Place {
    Local,
    Slurm,
}

impl Place {
    fn args(self) -> &'static [&'static str] {
        match self {
            Place::Local => &["--mode", "process"],
            Place::Slurm => &["--slurm"],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Place::Local => "local processes",
            Place::Slurm => "Slurm job steps",
        }
    }
}

pub fn measure(setup: &Setup, plan: Plan) -> Result<Section, BenchError> {
    let mut section = Section::new(TITLE);
    if let Err(why) = srun_works() {
        section.note(format!(
            "not measured: {why} (scripts/dev-slurm sets up a one-node cluster)"
        ));
        return Ok(section);
    }
    let tasks = (plan.overhead_tasks / 2).max(1_000);
    let repetitions = plan.race_repetitions.max(3);
    // Untimed: warms the page cache and the Slurm daemons.
    for place in [Place::Local, Place::Slurm] {
        first_result(setup, place)?;
    }
    let mut first: [Vec<f64>; 2] = Default::default();
    let mut per_task: [Vec<f64>; 2] = Default::default();
    let mut seed: [Vec<f64>; 2] = Default::default();
    for _ in 0..repetitions {
        for (index, place) in [Place::Local, Place::Slurm].into_iter().enumerate() {
            setup.settle();
            let (to_line, _) = first_result(setup, place)?;
            first[index].push(millis(to_line));
            let few = many_tasks(setup, place, tasks / 10)?;
            let many = many_tasks(setup, place, tasks)?;
            let extra = u32::try_from(tasks - tasks / 10).unwrap_or(u32::MAX);
            let marginal = many.saturating_sub(few) / extra;
            per_task[index].push(micros(marginal));
            seed[index].push(millis(seed_run(setup, place)?));
        }
    }
    let [first_local, first_slurm] = first.map(summarize);
    let [task_local, task_slurm] = per_task.map(summarize);
    let [seed_local, seed_slurm] = seed.map(summarize);
    let ms = Unit::Milliseconds;
    let us = Unit::Microseconds;
    let local = |samples: &crate::table::Samples, unit| {
        Comparison::here(Place::Local.name(), samples.median, unit)
    };
    section.push(
        Row::new(
            "to the first result, 1 worker: Slurm",
            ms,
            first_slurm.clone(),
        )
        .against(local(&first_local, ms)),
    );
    section.push(Row::new(
        "to the first result, 1 worker: local",
        ms,
        first_local,
    ));
    section.push(
        Row::new(
            format!("per trivial task, {tasks} pipelined on 2 workers: Slurm"),
            us,
            task_slurm,
        )
        .target(Target::ratio_at_least(0.5))
        .against(local(&task_local, us)),
    );
    section.push(Row::new(
        format!("per trivial task, {tasks} pipelined on 2 workers: local"),
        us,
        task_local,
    ));
    section.push(
        Row::new("the seed's numbers on 2 workers: Slurm", ms, seed_slurm)
            .against(local(&seed_local, ms)),
    );
    section.push(Row::new(
        "the seed's numbers on 2 workers: local",
        ms,
        seed_local,
    ));
    section.note(
        "whole processes: host run <factorize> with --slurm (srun --nodes=1 --ntasks=1 \
         --mpi=none --unbuffered --exact per worker, a new job each outside an allocation) or \
         --mode process; first result = spawn to the task's line (--task 1 --workers 1 \
         --format jsonl); per task = (wall of N tasks of run(1) on stdin - wall of N/10) / \
         (N - N/10), --workers 2 --no-split; target: Slurm within 2x of local processes",
    );
    Ok(section)
}

/// Whether `srun` runs a step now.
fn srun_works() -> Result<(), String> {
    let output = Command::new("srun")
        .args(["--nodes=1", "--ntasks=1", "--immediate=30", "true"])
        .output()
        .map_err(|error| format!("srun cannot be run ({error})"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "srun fails ({})",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn host_run<'a>(setup: &'a Setup, place: Place, what: &str) -> Spawn<'a> {
    let mut args: Vec<OsString> = vec![setup.host_factorize.clone().into_os_string()];
    args.extend(place.args().iter().map(OsString::from));
    Spawn::new(
        format!("host run {what} ({})", place.name()),
        &setup.host,
        &["run"],
    )
    .args(args)
}

/// One trivial task on one worker: the time to its line and to exit.
fn first_result(setup: &Setup, place: Place) -> Result<(Duration, Duration), BenchError> {
    let spawn = host_run(setup, place, "--task 1").args([
        "--task",
        "1",
        "--workers",
        "1",
        "--format",
        "jsonl",
    ]);
    let ran = process::run(spawn)?;
    process::check_jsonl(SCENARIO, 1, &ran)?;
    Ok((ran.first_line_after.unwrap_or(ran.wall), ran.wall))
}

/// `count` trivial tasks on stdin through two workers: the wall time.
fn many_tasks(setup: &Setup, place: Place, count: usize) -> Result<Duration, BenchError> {
    let spawn = host_run(setup, place, "--input -")
        .args([
            "--input",
            "-",
            "--workers",
            "2",
            "--no-split",
            "--format",
            "jsonl",
        ])
        .feed(Feed::ones(count));
    let ran = process::run(spawn)?;
    process::check_jsonl(SCENARIO, count, &ran)?;
    Ok(ran.wall)
}

/// The seed's numbers on two workers (split, as by default): the wall time; every list checked.
fn seed_run(setup: &Setup, place: Place) -> Result<Duration, BenchError> {
    let spawn = host_run(setup, place, "the seed")
        .args(["--workers", "2", "--format", "jsonl"])
        .keep_output();
    let ran = process::run(spawn)?;
    process::check_jsonl(SCENARIO, SEED.len(), &ran)?;
    for (n, divisors) in SEED {
        let found = ran.output.iter().any(|line| {
            serde_json::from_slice::<serde_json::Value>(line).is_ok_and(|value| {
                value["input"] == n && value["output"] == serde_json::json!(divisors)
            })
        });
        if !found {
            return Err(BenchError::WrongResult {
                scenario: SCENARIO,
                detail: format!("no line gives {n} -> {divisors:?}"),
            });
        }
    }
    Ok(ran.wall)
}
