//! Scenario 5: the peak memory of a long run. The `host` binary runs
//! `host run <factorize> --input - --format jsonl --mode thread --workers 2`, fed `1` lines on its
//! stdin while its stdout lines are counted and its summary line checked; its peak resident
//! memory comes from the launcher ([`crate::process`]). It is set against the same command with a
//! hundredth of the tasks (flat memory: the two are alike), `host --version` (the floor), and the
//! same command writing the whole report with `--json PATH` too (which keeps every task). Also
//! the run's tasks per second, end to end.

use std::{ffi::OsString, fs::File, io::BufReader, path::Path};

use serde::Deserialize;

use crate::{
    error::BenchError,
    process::{self, Feed, Ran, Spawn},
    suite::{Plan, Setup, summarize},
    table::{Comparison, Row, Section, Target, Unit, thousands},
};

const SCENARIO: &str = "memory of a long run";

pub fn measure(setup: &Setup, plan: Plan) -> Result<Section, BenchError> {
    let count = plan.memory_tasks;
    let small = (count / 100).max(1);
    let report = setup.scratch.path().join("memory-report.json");
    let (mut peaks, mut rates, mut small_peaks, mut floors, mut report_peaks) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..plan.memory_repetitions {
        let ran = stream(setup, count, None)?;
        peaks.push(ran.peak_mib.unwrap_or(f64::NAN));
        rates.push(count as f64 / ran.wall.as_secs_f64().max(1e-9));
        small_peaks.push(stream(setup, small, None)?.peak_mib.unwrap_or(f64::NAN));
        floors.push(version_peak(setup)?);
        report_peaks.push(
            stream(setup, count, Some(&report))?
                .peak_mib
                .unwrap_or(f64::NAN),
        );
        check_report(&report, count)?;
    }
    let (peaks, small_peaks, floors) =
        (summarize(peaks), summarize(small_peaks), summarize(floors));
    let jsonl_median = peaks.median;
    let mut section = Section::new(format!(
        "5. host run --input - --format jsonl --mode thread --workers 2, {} tasks run(1)",
        thousands(count as u64)
    ));
    section.push(
        Row::new("peak resident memory", Unit::Mebibytes, peaks)
            .target(Target::at_most(64.0))
            .against(Comparison::here(
                format!("same with {} tasks", thousands(small as u64)),
                small_peaks.median,
                Unit::Mebibytes,
            ))
            .against(Comparison::here(
                "host --version",
                floors.median,
                Unit::Mebibytes,
            )),
    );
    section.push(Row::new(
        "tasks per second, spawn to exit",
        Unit::TasksPerSecond,
        summarize(rates),
    ));
    section.push(
        Row::new(
            "peak with --json PATH too (the whole report)",
            Unit::Mebibytes,
            summarize(report_peaks),
        )
        .against(Comparison::here(
            "--format jsonl alone",
            jsonl_median,
            Unit::Mebibytes,
        )),
    );
    section.note(
        "peak RSS of the host process from wait4's rusage (ru_maxrss), taken by a small launcher \
         (quack-bench peak-rss) so that the benchmark's own peak does not leak into it; stdout \
         lines counted and the summary line checked; the report written by --json is read back \
         and its summary checked",
    );
    Ok(section)
}

/// Streams `count` tasks `1` through `host run` (writing the report to `report` too, if given)
/// through the launcher and checks what comes out.
fn stream(setup: &Setup, count: usize, report: Option<&Path>) -> Result<Ran, BenchError> {
    let mut args: Vec<OsString> = vec![setup.host_factorize.clone().into_os_string()];
    args.extend(
        [
            "--input",
            "-",
            "--format",
            "jsonl",
            "--mode",
            "thread",
            "--workers",
            "2",
        ]
        .map(OsString::from),
    );
    if let Some(report) = report {
        args.push("--json".into());
        args.push(report.into());
    }
    let spawn = Spawn::new("host run --format jsonl", &setup.host, &["run"])
        .args(args)
        .feed(Feed::ones(count))
        .measure_peak_memory();
    let ran = process::run(spawn)?;
    process::check_jsonl(SCENARIO, count, &ran)?;
    Ok(ran)
}

/// The peak resident memory of `host --version`, in MiB: the floor of the measurement.
fn version_peak(setup: &Setup) -> Result<f64, BenchError> {
    let spawn = Spawn::new("host --version", &setup.host, &["--version"]).measure_peak_memory();
    Ok(process::run(spawn)?.peak_mib.unwrap_or(f64::NAN))
}

/// The part of a report that is checked (the rest, the tasks included, is parsed and skipped).
#[derive(Deserialize)]
struct ReportCheck {
    summary: SummaryCheck,
}

#[derive(Deserialize)]
struct SummaryCheck {
    tasks: u64,
    ok: u64,
}

/// The report at `path` is JSON and says `count` tasks, all ok.
fn check_report(path: &Path, count: usize) -> Result<(), BenchError> {
    let wrong = |detail| BenchError::WrongResult {
        scenario: SCENARIO,
        detail,
    };
    let file = File::open(path).map_err(|error| {
        wrong(format!(
            "the report {} cannot be read: {error}",
            path.display()
        ))
    })?;
    let report: ReportCheck = serde_json::from_reader(BufReader::with_capacity(1 << 16, file))
        .map_err(|error| wrong(format!("the report is not what was expected: {error}")))?;
    let expected = count as u64;
    if report.summary.tasks != expected || report.summary.ok != expected {
        return Err(wrong(format!(
            "the report says {} tasks, {} ok, not {count}",
            report.summary.tasks, report.summary.ok
        )));
    }
    Ok(())
}
