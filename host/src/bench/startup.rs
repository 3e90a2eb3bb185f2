//! Scenario 4: process mode's time from start to first result: making a [`ProcessExecutor`] and
//! running one trivial task until its result arrives (the worker's spawn, its loading of the
//! plugin and the handshake included), set against starting and ending a bare `host --version`.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;

use super::{
    BenchError, Plan, Setup, context, millis, summarize,
    table::{Comparison, Row, Section, Target, Unit},
};
use crate::{
    loader::LoadedPlugin,
    runner::{EventKind, Executor, ProcessExecutor, Status, Task},
};

const SCENARIO: &str = "process start-up";

pub(super) fn measure(setup: &Setup, plan: Plan) -> Result<Section, BenchError> {
    let plugin = &setup.factorize;
    // Untimed: brings the host binary and the plugin into the page cache.
    first_result(plugin)?;
    bare_host()?;
    let mut firsts = Vec::new();
    let mut bare = Vec::new();
    for _ in 0..plan.startup_repetitions {
        setup.settle();
        firsts.push(millis(first_result(plugin)?));
        bare.push(millis(bare_host()?));
    }
    let bare = summarize(bare);
    let unit = Unit::Milliseconds;
    let mut section = Section::new("4. Process mode, start to first result (one trivial task)");
    section.push(
        Row::new("process, 1 worker", unit, summarize(firsts))
            .target(Target::at_most(5.0))
            .against(Comparison::here(
                "host --version, spawn to exit",
                bare.median,
                unit,
            )),
    );
    section.push(Row::new("host --version, spawn to exit", unit, bare));
    section.note(
        "from ProcessExecutor::new to the first TaskFinished: spawn, exec, plugin load, \
         handshake, one task; host --version is the floor of starting the binary at all",
    );
    Ok(section)
}

/// The time from making a one-worker [`ProcessExecutor`] to the result of `run(1)`.
fn first_result(plugin: &LoadedPlugin) -> Result<Duration, BenchError> {
    let context = context(plugin, "{}");
    let started = Instant::now();
    let mut executor = ProcessExecutor::new(context, 1);
    let mut first = None;
    executor.execute(&mut std::iter::once(Task::new(0, json!(1))), &mut |event| {
        if let EventKind::TaskFinished(record) = event.kind {
            if first.is_none() {
                let right = record.status == Status::Ok && record.output == Some(json!([1]));
                first = Some((started.elapsed(), right));
            }
        }
    })?;
    match first {
        Some((elapsed, true)) => Ok(elapsed),
        Some((_, false)) => Err(BenchError::WrongResult {
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
fn bare_host() -> Result<Duration, BenchError> {
    let failed = |source| BenchError::Process {
        what: "could not run host --version".to_owned(),
        source,
    };
    let exe = std::env::current_exe().map_err(failed)?;
    let started = Instant::now();
    let status = Command::new(&exe)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(failed)?;
    let elapsed = started.elapsed();
    if !status.success() {
        return Err(BenchError::ChildFailed {
            what: format!("{} --version", exe.display()),
            status,
            stderr: String::new(),
        });
    }
    Ok(elapsed)
}
