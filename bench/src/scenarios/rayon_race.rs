//! Scenario 6: the race with a plain rayon program. The same trivial tasks (`1` per line, the
//! factorize plugin) are fed on stdin to `host run <factorize> --input - --format jsonl` (the
//! runner's own choice, `--mode thread --workers 2` and `--mode process --workers 2`, the worker
//! processes' answers in batches) and to the rayon peer (`rayon-peer`,
//! one instance per rayon thread, chunks of lines run with `par_iter`), each a whole process from
//! spawn to exit; every output is checked (a line per task, all ok, and the summary).

use crate::{
    error::BenchError,
    process::{self, Feed, Ran, Spawn},
    suite::{Plan, Setup, summarize},
    table::{Comparison, Row, Section, Target, Unit, ratio, thousands},
};

const SCENARIO: &str = "race with rayon";
/// The task counts raced.
const COUNTS: [usize; 3] = [10_000, 100_000, 1_000_000];
/// The task counts raced by the quick plan.
const QUICK_COUNTS: [usize; 2] = [10_000, 100_000];
/// The task count from which process mode must keep within [`PROCESS_WITHIN`] of the rayon peer
/// (below it, starting two worker processes is most of the run).
const PROCESS_TARGET_FROM: usize = 1_000_000;
/// Process mode's wall time at most this many times the rayon peer's.
const PROCESS_WITHIN: f64 = 1.5;

/// The contestants, in the order of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contestant {
    HostAuto,
    HostThreadTwo,
    HostProcessTwo,
    Rayon,
}

impl Contestant {
    const ALL: [Contestant; 4] = [
        Contestant::HostAuto,
        Contestant::HostThreadTwo,
        Contestant::HostProcessTwo,
        Contestant::Rayon,
    ];

    fn name(self) -> &'static str {
        match self {
            Contestant::HostAuto => "host run --input - --format jsonl, auto",
            Contestant::HostThreadTwo => "host run ... --mode thread --workers 2",
            Contestant::HostProcessTwo => "host run ... --mode process --workers 2",
            Contestant::Rayon => "rayon peer",
        }
    }

    /// What the host/rayon note calls it.
    fn short(self) -> &'static str {
        match self {
            Contestant::HostAuto => "auto",
            Contestant::HostThreadTwo => "thread 2",
            Contestant::HostProcessTwo => "process 2",
            Contestant::Rayon => "rayon",
        }
    }
}

pub fn measure(setup: &Setup, plan: Plan) -> Result<Section, BenchError> {
    // Untimed: the binaries and the plugin into the page cache.
    for contestant in Contestant::ALL {
        race(setup, contestant, 100)?;
    }
    let mut section = Section::new(
        "6. Race with a plain rayon program: trivial tasks run(1) on stdin, whole processes, \
         spawn to exit",
    );
    let mut host_over_rayon = Vec::new();
    let counts: &[usize] = if plan.quick { &QUICK_COUNTS } else { &COUNTS };
    for &count in counts {
        let mut walls: [Vec<f64>; 4] = Default::default();
        let mut auto_runner = None;
        for _ in 0..plan.race_repetitions {
            for (contestant, walls) in Contestant::ALL.into_iter().zip(&mut walls) {
                let ran = race(setup, contestant, count)?;
                walls.push(ran.wall.as_secs_f64());
                if contestant == Contestant::HostAuto {
                    auto_runner = process::runner_of(&ran);
                }
            }
        }
        let auto_runner = auto_runner.unwrap_or_else(|| "?".to_owned());
        let [auto, thread, process, rayon] = walls.map(summarize);
        let rayon_median = rayon.median;
        let unit = Unit::Seconds;
        for (contestant, samples) in [
            (Contestant::HostAuto, auto),
            (Contestant::HostThreadTwo, thread),
            (Contestant::HostProcessTwo, process),
        ] {
            host_over_rayon.push(format!(
                "{} tasks, {}: {}",
                thousands(count as u64),
                contestant.short(),
                ratio(samples.median / rayon_median)
            ));
            let row = Row::new(
                if contestant == Contestant::HostAuto {
                    format!(
                        "{}: {} ({auto_runner})",
                        thousands(count as u64),
                        contestant.name()
                    )
                } else {
                    format!("{}: {}", thousands(count as u64), contestant.name())
                },
                unit,
                samples,
            )
            .against(Comparison::here("rayon peer", rayon_median, unit));
            // The ratio is the rayon peer's time over the host's: at least 1/1.5.
            section.push(
                if contestant == Contestant::HostProcessTwo && count >= PROCESS_TARGET_FROM {
                    row.target(Target::ratio_at_least(1.0 / PROCESS_WITHIN))
                } else {
                    row
                },
            );
        }
        section.push(Row::new(
            format!("{}: {}", thousands(count as u64), Contestant::Rayon.name()),
            unit,
            rayon,
        ));
    }
    section.note(format!(
        "every output checked: one line per task, each ok, and a summary saying all ok; the \
         rayon peer uses as many threads as cores; host/rayon (wall time, above 1: host slower): \
         {}",
        host_over_rayon.join("; ")
    ));
    Ok(section)
}

/// Runs `count` tasks through `contestant`, checked.
fn race(setup: &Setup, contestant: Contestant, count: usize) -> Result<Ran, BenchError> {
    let spawn = match contestant {
        Contestant::HostAuto | Contestant::HostThreadTwo | Contestant::HostProcessTwo => {
            let spawn = Spawn::new(contestant.name(), &setup.host, &["run"])
                .args([setup.host_factorize.as_os_str()])
                .args(["--input", "-", "--format", "jsonl"]);
            match contestant {
                Contestant::HostThreadTwo => spawn.args(["--mode", "thread", "--workers", "2"]),
                Contestant::HostProcessTwo => spawn.args(["--mode", "process", "--workers", "2"]),
                _ => spawn,
            }
        }
        Contestant::Rayon => Spawn::new(contestant.name(), &setup.rayon_peer, &[]).args([setup
            .factorize
            .info
            .path
            .as_os_str()]),
    };
    let ran = process::run(spawn.feed(Feed::ones(count)))?;
    process::check_jsonl(SCENARIO, count, &ran)?;
    Ok(ran)
}
