//! Scenario 12: what `--sandbox` costs. Whole `host run` processes of the factorize plugin,
//! sandboxed and not, run in pairs (one right after the other, the order swapped each time, so
//! the machine's load falls on both alike): the start time, from spawn to the line of one trivial
//! task (`--task 1 --workers 1 --format jsonl`), and the cost per task of a stream of trivial
//! tasks on stdin through 2 workers. The peer is `--isolate`: worker processes with a probe in a
//! child process and no plugin code in the host, which is what `--sandbox` is, less the sandbox.
//! Medians of the pairs' differences and ratios, against the targets: start within 5 ms, per task
//! within 5%.

use std::ffi::OsString;

use crate::{
    error::BenchError,
    process::{self, Feed, Spawn},
    suite::{Plan, Setup, micros, millis, summarize},
    table::{Comparison, Row, Section, Target, Unit},
};

const SCENARIO: &str = "sandbox cost";

/// Trivial tasks per stream run (and a tenth of them in the quick plan).
const STREAM_TASKS: usize = 20_000;

pub fn measure(setup: &Setup, plan: Plan) -> Result<Section, BenchError> {
    let tasks = if plan.quick {
        STREAM_TASKS / 10
    } else {
        STREAM_TASKS
    };
    // Untimed: the binary, the plugin and the kernel's caches warm for both.
    start(setup, true)?;
    start(setup, false)?;
    let (mut start_sandboxed, mut start_isolated, mut start_differences) =
        (Vec::new(), Vec::new(), Vec::new());
    let (mut task_sandboxed, mut task_isolated, mut task_ratios) =
        (Vec::new(), Vec::new(), Vec::new());
    for repetition in 0..plan.startup_repetitions {
        setup.settle();
        let sandboxed_first = repetition % 2 == 0;
        let (sandboxed, isolated) = paired(sandboxed_first, |sandbox| start(setup, sandbox))?;
        start_sandboxed.push(millis(sandboxed));
        start_isolated.push(millis(isolated));
        start_differences.push(millis(sandboxed) - millis(isolated));
    }
    for repetition in 0..plan.race_repetitions.max(3) {
        setup.settle();
        let sandboxed_first = repetition % 2 == 0;
        let (sandboxed, isolated) =
            paired(sandboxed_first, |sandbox| stream(setup, sandbox, tasks))?;
        let per_task = |wall: std::time::Duration| micros(wall) / tasks as f64;
        task_sandboxed.push(per_task(sandboxed));
        task_isolated.push(per_task(isolated));
        task_ratios.push(sandboxed.as_secs_f64() / isolated.as_secs_f64());
    }
    let mut section = Section::new("12. The sandbox's cost (--sandbox against --isolate)");
    let start_isolated = summarize(start_isolated);
    let isolated_median = start_isolated.median;
    section.push(
        Row::new(
            "--sandbox: start to the task's line",
            Unit::Milliseconds,
            summarize(start_sandboxed),
        )
        .against(Comparison::here(
            "--isolate",
            isolated_median,
            Unit::Milliseconds,
        )),
    );
    section.push(Row::new(
        "--isolate: start to the task's line",
        Unit::Milliseconds,
        start_isolated,
    ));
    section.push(
        Row::new(
            "start: sandboxed less isolated, paired",
            Unit::Milliseconds,
            summarize(start_differences),
        )
        .target(Target::at_most(5.0)),
    );
    let task_isolated = summarize(task_isolated);
    let per_task_isolated = task_isolated.median;
    section.push(
        Row::new(
            format!("--sandbox: per task, {tasks} trivial tasks, 2 workers"),
            Unit::Microseconds,
            summarize(task_sandboxed),
        )
        .target(Target::at_most(per_task_isolated * 1.05))
        .against(Comparison::here(
            "--isolate",
            per_task_isolated,
            Unit::Microseconds,
        )),
    );
    section.push(Row::new(
        format!("--isolate: per task, {tasks} trivial tasks, 2 workers"),
        Unit::Microseconds,
        task_isolated,
    ));
    let ratios = summarize(task_ratios);
    let max = ratios.values.iter().copied().fold(f64::MIN, f64::max);
    section.note(format!(
        "per task, the pairs' ratio sandboxed / isolated: median {:.3}, from {:.3} to {:.3} \
         ({} pairs; target: at most 1.05)",
        ratios.median,
        ratios.min,
        max,
        ratios.values.len()
    ));
    section.note(
        "host run <factorize> --mode process, with --sandbox and with --isolate, run in pairs in \
         alternating order; start: --task 1 --workers 1 --format jsonl, spawn to the task's line \
         (target: the paired difference at most 5 ms); per task: that many lines `1` on stdin, \
         --workers 2 --format jsonl, the whole run's wall time per task (target: at most 5% \
         over --isolate's median)",
    );
    Ok(section)
}

/// Runs `measure` sandboxed and not, in the order asked; the sandboxed figure first.
fn paired<T>(
    sandboxed_first: bool,
    mut measure: impl FnMut(bool) -> Result<T, BenchError>,
) -> Result<(T, T), BenchError> {
    if sandboxed_first {
        let sandboxed = measure(true)?;
        Ok((sandboxed, measure(false)?))
    } else {
        let isolated = measure(false)?;
        Ok((measure(true)?, isolated))
    }
}

/// `--sandbox` or `--isolate`.
fn mode_flag(sandbox: bool) -> &'static str {
    if sandbox { "--sandbox" } else { "--isolate" }
}

/// One trivial task in one worker: the time from spawn to its line.
fn start(setup: &Setup, sandbox: bool) -> Result<std::time::Duration, BenchError> {
    let flag = mode_flag(sandbox);
    let spawn = Spawn::new(format!("host run --task 1 {flag}"), &setup.host, &["run"])
        .args([setup.host_factorize.as_os_str()])
        .args([
            flag,
            "--task",
            "1",
            "--mode",
            "process",
            "--workers",
            "1",
            "--format",
            "jsonl",
        ]);
    let ran = process::run(spawn)?;
    process::check_jsonl(SCENARIO, 1, &ran)?;
    Ok(ran.first_line_after.unwrap_or(ran.wall))
}

/// `tasks` trivial tasks on stdin through 2 workers: the whole run's wall time.
fn stream(setup: &Setup, sandbox: bool, tasks: usize) -> Result<std::time::Duration, BenchError> {
    let flag = mode_flag(sandbox);
    let args: Vec<OsString> = [
        flag,
        "--input",
        "-",
        "--mode",
        "process",
        "--workers",
        "2",
        "--format",
        "jsonl",
    ]
    .into_iter()
    .map(OsString::from)
    .collect();
    let spawn = Spawn::new(format!("host run --input - {flag}"), &setup.host, &["run"])
        .args([setup.host_factorize.as_os_str()])
        .args(args)
        .feed(Feed::ones(tasks));
    let ran = process::run(spawn)?;
    process::check_jsonl(SCENARIO, tasks, &ran)?;
    Ok(ran.wall)
}
