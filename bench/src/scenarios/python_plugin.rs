//! Scenario 11: the Python factorize plugin (`plugins/python/factorize.py`, a program plugin)
//! against Python's own executors, measured side by side in this run: the seed's four numbers on
//! 2 worker processes, split into parts as `host run` does it, against
//! `ProcessPoolExecutor(max_workers=2)` mapping the same function over the four numbers, each
//! Quack run beside one whole `python3` run of the pool (both timed from spawn to exit, as their
//! users wait for them; the pool's figure timed inside Python is shown too); and the
//! cost per trivial task (`run(1)`, one trial division) in process mode on 2 workers against
//! `ProcessPoolExecutor.map(chunksize=1)`. Whole `host run` processes; every result is checked.
//! Without python3 there is nothing to measure, and the section says so.

use std::path::Path;

use serde_json::{Value, json};

use super::SEED;
use crate::{
    error::BenchError,
    peers::PeerFigure,
    process::{self, Feed, Ran, Spawn},
    suite::{Plan, Setup, micros, summarize},
    table::{Row, Section, Target, Unit},
};

const SCENARIO: &str = "Python plugin";
/// The plugin's source, written beside the scratch files: the host provides `quack` itself.
const PLUGIN: &str = include_str!("../../../plugins/python/factorize.py");
/// Trivial tasks in the small run whose time is taken off the large one's.
const FEW_TASKS: usize = 10;

pub fn measure(setup: &Setup, plan: Plan) -> Result<Section, BenchError> {
    let mut section = Section::new(
        "11. The Python factorize plugin (a program plugin) against Python's ProcessPoolExecutor, both measured here",
    );
    if let Err(why) = setup.peers.python_version() {
        section.note(format!("not measured: {why}"));
        return Ok(section);
    }
    let plugin = setup.scratch.path().join("factorize.py");
    std::fs::write(&plugin, PLUGIN).map_err(|source| BenchError::Process {
        what: "could not write the Python plugin to the scratch directory".to_owned(),
        source,
    })?;
    let tasks = plan.python_process_tasks;
    let mut seed = Vec::new();
    let mut pool_whole = Vec::new();
    let mut per_task = Vec::new();
    for _ in 0..plan.race_repetitions {
        // Each Quack run beside a whole Python run of the pool, so that both meet the same load.
        seed.push(run_seed(setup, &plugin)?);
        if let Ok(wall) = setup.peers.python_whole(
            "factorize.py",
            &["--only", "process_pool_2", "--repeat", "1"],
        )? {
            pool_whole.push(wall.as_secs_f64());
        }
        let many = run_trivial(setup, &plugin, tasks)?;
        let few = run_trivial(setup, &plugin, FEW_TASKS)?;
        per_task.push(micros(many.saturating_sub(few)) / (tasks - FEW_TASKS) as f64);
    }
    let repeat = plan.peer_repetitions.to_string();
    let factorize = setup.peers.python("factorize.py", &["--repeat", &repeat])?;
    let process_tasks = tasks.to_string();
    let thread_tasks = plan.python_thread_tasks.to_string();
    let overhead = setup.peers.python(
        "overhead.py",
        &[
            "--repeat",
            &repeat,
            "--process-tasks",
            &process_tasks,
            "--thread-tasks",
            &thread_tasks,
        ],
    )?;
    let (Ok(factorize), Ok(overhead)) = (factorize, overhead) else {
        section.note("not compared: the Python peers did not run");
        return Ok(section);
    };
    let pool = PeerFigure::Measured(factorize.median("process_pool_2")?);
    let sequential = PeerFigure::Measured(factorize.median("sequential")?);
    let pool_map = PeerFigure::Measured(overhead.median("process_pool_map")?);
    section.push(
        Row::new(
            "the seed, host run factorize.py --workers 2 (split), spawn to exit",
            Unit::Seconds,
            summarize(seed),
        )
        .against(
            PeerFigure::Measured(summarize(pool_whole).median).comparison(
                "python3 script.py: ProcessPoolExecutor(2).map, the same function, spawn to exit",
                Unit::Seconds,
            ),
        )
        .against(pool.comparison(
            "the same pool timed inside Python (interpreter start left out)",
            Unit::Seconds,
        ))
        .against(sequential.comparison("Python, one after another", Unit::Seconds))
        .target(Target::ratio_at_least(1.0)),
    );
    section.push(
        Row::new(
            "per trivial task, --mode process --workers 2",
            Unit::Microseconds,
            summarize(per_task),
        )
        .against(pool_map.comparison(
            "ProcessPoolExecutor(2).map(chunksize=1), per task",
            Unit::Microseconds,
        ))
        .target(Target::ratio_at_least(1.0)),
    );
    section.note(format!(
        "the seed's divisors checked; the ProcessPoolExecutor peer (bench/peers/python/factorize.py) \
         maps the same naive function over the four numbers, one per task, which cannot beat the \
         largest number's share of the work (58%): the plugin's split cuts it into parts of 10^6 \
         trial divisions; per task: ({tasks} tasks - {FEW_TASKS} tasks) / {}, whole runs with the \
         tasks on stdin, every result checked",
        tasks - FEW_TASKS
    ));
    Ok(section)
}

fn spawn<'a>(setup: &'a Setup, plugin: &'a Path, what: &str) -> Spawn<'a> {
    Spawn::new(what, &setup.host, &["run"])
        .args([plugin.as_os_str()])
        .args(["--workers", "2", "--format", "jsonl"])
}

/// The seed's four numbers once, checked; the wall time in seconds.
fn run_seed(setup: &Setup, plugin: &Path) -> Result<f64, BenchError> {
    let mut run = spawn(setup, plugin, "host run factorize.py (the seed)");
    for (n, _) in SEED {
        run = run.args(["--task".to_owned(), n.to_string()]);
    }
    let ran = process::run(run.keep_output())?;
    let mut seen = [false; SEED.len()];
    for value in task_lines(&ran)? {
        let input = value.get("input").and_then(Value::as_u64);
        let index = SEED.iter().position(|(n, _)| Some(*n) == input);
        match index {
            Some(index) if value.get("output") == Some(&json!(SEED[index].1)) => {
                seen[index] = true;
            }
            _ => return Err(wrong(format!("a wrong result: {value}"))),
        }
    }
    if seen.contains(&false) {
        return Err(wrong(format!("not every number came out: {seen:?}")));
    }
    Ok(ran.wall.as_secs_f64())
}

/// `count` tasks `1` on stdin, process mode, checked; the wall time.
fn run_trivial(
    setup: &Setup,
    plugin: &Path,
    count: usize,
) -> Result<std::time::Duration, BenchError> {
    let ran = process::run(
        spawn(setup, plugin, "host run factorize.py (trivial tasks)")
            .args(["--mode", "process", "--input", "-"])
            .feed(Feed::ones(count))
            .keep_output(),
    )?;
    let lines = task_lines(&ran)?;
    if lines.len() != count
        || lines
            .iter()
            .any(|line| line.get("output") != Some(&json!([1])))
    {
        return Err(wrong(format!(
            "{} task lines for {count} tasks, or a wrong result",
            lines.len()
        )));
    }
    Ok(ran.wall)
}

fn task_lines(ran: &Ran) -> Result<Vec<Value>, BenchError> {
    let mut lines = Vec::new();
    for line in &ran.output {
        let value: Value = serde_json::from_slice(line)
            .map_err(|error| wrong(format!("a line is not JSON: {error}")))?;
        if value.get("type").and_then(Value::as_str) == Some("task") {
            lines.push(value);
        }
    }
    Ok(lines)
}

fn wrong(detail: String) -> BenchError {
    BenchError::WrongResult {
        scenario: SCENARIO,
        detail,
    }
}
