//! Scenario 8: the seed's four numbers, one task per number (`--no-split`), as whole `host run`
//! processes: `--mode process --workers 2` against `--mode thread --workers 2` and against
//! `xargs -P2` starting a one-task `host run` per number; beside them the default (split into
//! parts) and the Go peer's one number per goroutine. Every result is checked.

use serde_json::{Value, json};

use super::{SEED, factorize::NAIVE};
use crate::{
    error::BenchError,
    peers::{PeerFigure, quoted},
    process::{self, Feed, Ran, Spawn},
    suite::{Plan, Setup, summarize},
    table::{Comparison, Row, Section, Unit},
};

const SCENARIO: &str = "the seed's numbers not split";

/// The ways the four numbers are run, in the order of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    ProcessNotSplit,
    ThreadNotSplit,
    Xargs,
    ProcessSplit,
}

impl Way {
    const ALL: [Way; 4] = [
        Way::ProcessNotSplit,
        Way::ThreadNotSplit,
        Way::Xargs,
        Way::ProcessSplit,
    ];

    fn name(self) -> &'static str {
        match self {
            Way::ProcessNotSplit => "--no-split --mode process --workers 2",
            Way::ThreadNotSplit => "--no-split --mode thread --workers 2",
            Way::Xargs => "xargs -P2, one host run --task N per number",
            Way::ProcessSplit => "--mode process --workers 2 (split, the default)",
        }
    }
}

pub fn measure(setup: &Setup, plan: Plan) -> Result<Section, BenchError> {
    let xargs_there = process::run(Spawn::new(
        "xargs --version",
        "xargs".as_ref(),
        &["--version"],
    ))
    .is_ok();
    let ways: Vec<Way> = Way::ALL
        .into_iter()
        .filter(|way| *way != Way::Xargs || xargs_there)
        .collect();
    let mut walls = vec![Vec::new(); ways.len()];
    for _ in 0..plan.race_repetitions {
        for (way, walls) in ways.iter().zip(&mut walls) {
            walls.push(run_seed(setup, *way)?);
        }
    }
    let go = setup
        .peers
        .go(&["-repeat", &(plan.peer_repetitions * 3).to_string()])?;
    let go_per_number = PeerFigure::of(&go, "per_number_2", quoted::GO_PER_NUMBER_S)?;
    let unit = Unit::Seconds;
    let mut section = Section::new(
        "8. The seed's four numbers, one task each: host run, whole process, spawn to exit",
    );
    let split_median = ways
        .iter()
        .zip(&walls)
        .find(|(way, _)| **way == Way::ProcessSplit)
        .map(|(_, walls)| summarize(walls.clone()).median);
    for (way, walls) in ways.iter().zip(walls) {
        let mut row = Row::new(way.name(), unit, summarize(walls));
        if *way != Way::ProcessSplit {
            if let Some(split) = split_median {
                row = row.against(Comparison::here("split, the default", split, unit));
            }
            row = row.against(go_per_number.comparison("Go, one number per goroutine, 2", unit));
        }
        section.push(row);
    }
    let mut note = "host run <factorize> --config {\"method\": \"naive\"} --task N ... --format \
                    jsonl; every number's divisors checked; per-number scheduling cannot beat \
                    the largest number's share of the work (58%), splitting can"
        .to_owned();
    if !xargs_there {
        note.push_str("; xargs is not on the PATH, so its row is left out");
    }
    section.note(note);
    Ok(section)
}

/// Runs the four numbers `way` once and checks every result; the wall time in seconds.
fn run_seed(setup: &Setup, way: Way) -> Result<f64, BenchError> {
    let plugin = setup.host_factorize.as_os_str();
    let common = ["--config", NAIVE, "--format", "jsonl"];
    let spawn = match way {
        Way::Xargs => {
            let numbers: String = SEED.iter().map(|(n, _)| format!("{n}\n")).collect();
            Spawn::new(way.name(), "xargs".as_ref(), &["-P2", "-n1"])
                .args([setup.host.as_os_str()])
                .args(["run".as_ref(), plugin])
                .args(common)
                .args(["--task"])
                .feed(Feed::Bytes(numbers.into_bytes()))
        }
        _ => {
            let mut spawn = Spawn::new(way.name(), &setup.host, &["run"])
                .args([plugin])
                .args(common);
            for (n, _) in SEED {
                spawn = spawn.args(["--task".to_owned(), n.to_string()]);
            }
            let mode = if way == Way::ThreadNotSplit {
                "thread"
            } else {
                "process"
            };
            spawn = spawn.args(["--mode", mode, "--workers", "2"]);
            if way != Way::ProcessSplit {
                spawn = spawn.args(["--no-split"]);
            }
            spawn
        }
    };
    let ran = process::run(spawn.keep_output())?;
    check(&ran, way)?;
    Ok(ran.wall.as_secs_f64())
}

/// Every number came out once, ok, with its exact divisors.
fn check(ran: &Ran, way: Way) -> Result<(), BenchError> {
    let wrong = |detail: String| BenchError::WrongResult {
        scenario: SCENARIO,
        detail: format!("{}: {detail}", way.name()),
    };
    let mut seen = [false; SEED.len()];
    for line in &ran.output {
        let value: Value = serde_json::from_slice(line)
            .map_err(|error| wrong(format!("a line is not JSON: {error}")))?;
        if value.get("type").and_then(Value::as_str) != Some("task") {
            continue;
        }
        let input = value.get("input").and_then(Value::as_u64);
        let Some(index) = SEED.iter().position(|(n, _)| Some(*n) == input) else {
            return Err(wrong(format!("a task line for an unknown input: {value}")));
        };
        let expected = json!(SEED[index].1);
        if value.get("output") != Some(&expected) {
            return Err(wrong(format!(
                "{} gave {value}, not {expected}",
                SEED[index].0
            )));
        }
        seen[index] = true;
    }
    if seen.contains(&false) {
        return Err(wrong(format!("not every number came out: {seen:?}")));
    }
    Ok(())
}
