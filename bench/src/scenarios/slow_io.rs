//! Scenario 3: slow-io waits of 0.1 s, ten of them and a thousand, run the way `host run` runs
//! them by default: the mode and worker count the runner picks from the plugin's hint and the
//! task count. Beside them, Python's slow system calls (measured when python3 is there).

use quack_host::plugin::LoadedPlugin;
use serde_json::json;

use crate::{
    drive::{self, Job, Keep, Outcome, Split, Workers},
    error::BenchError,
    peers::{PeerFigure, quoted},
    suite::{Plan, Setup, summarize},
    table::{Comparison, Row, Section, Target, Unit, thousands},
};

const SCENARIO: &str = "slow-io";
/// How long each task waits, in seconds.
const WAIT: f64 = 0.1;

pub fn measure(setup: &Setup, plan: Plan) -> Result<Section, BenchError> {
    let plugin = &setup.slow_io;
    // An untimed warm-up with short waits.
    run_waits(plugin, 10, 0.001)?;
    let (mut ten_walls, mut thousand_walls) = (Vec::new(), Vec::new());
    let (mut ten, mut thousand) = (None, None);
    for _ in 0..plan.slow_io_repetitions {
        setup.settle();
        let outcome = run_waits(plugin, 10, WAIT)?;
        ten_walls.push(outcome.wall.as_secs_f64());
        ten = Some(outcome);
        setup.settle();
        let outcome = run_waits(plugin, 1000, WAIT)?;
        thousand_walls.push(outcome.wall.as_secs_f64());
        thousand = Some(outcome);
    }
    let (Some(ten), Some(thousand)) = (ten, thousand) else {
        return Err(BenchError::WrongResult {
            scenario: SCENARIO,
            detail: "no repetition ran".to_owned(),
        });
    };
    let python = setup.peers.python(
        "slow_io.py",
        &["--repeat", &plan.peer_repetitions.to_string()],
    )?;
    let python_ten_threads = PeerFigure::of(&python, "ten_threads", quoted::SLOW_TEN_THREADS_S)?;
    let python_sequential =
        PeerFigure::of(&python, "ten_sequential", quoted::SLOW_TEN_SEQUENTIAL_S)?;
    let python_thousand =
        PeerFigure::of(&python, "thousand_threads", quoted::SLOW_THOUSAND_THREADS_S)?;

    let (ten_walls, thousand_walls) = (summarize(ten_walls), summarize(thousand_walls));
    let ten_median = ten_walls.median;
    let unit = Unit::Seconds;
    let name = |count: usize, outcome: &Outcome| {
        format!(
            "{} x 0.1 s, auto: {}, {} workers",
            thousands(count as u64),
            outcome.mode.as_str(),
            outcome.workers
        )
    };

    let mut section = Section::new("3. slow-io, waits of 0.1 s in the kernel (wall time)");
    section.push(
        Row::new(name(10, &ten), unit, ten_walls)
            .target(Target::at_most(0.11))
            .against(python_ten_threads.comparison("Python ten threads", unit))
            .against(python_sequential.comparison("Python sequential", unit)),
    );
    section.push(
        Row::new(name(1000, &thousand), unit, thousand_walls)
            .target(Target::at_most(0.3))
            .against(Comparison::here("10 waits, above", ten_median, unit))
            .against(python_thousand.comparison("Python a thousand threads", unit)),
    );
    section.note(format!(
        "from making the executor to its last result, each run started once the previous run's \
         threads were gone; Python: select.select on an unbound UDP socket with a 0.1 s timeout, \
         threads started and joined inside the timed run; the runner's reasons: {}; {}",
        ten.reason, thousand.reason
    ));
    Ok(section)
}

/// Runs `count` waits of `seconds` as the runner chooses, checking every result.
fn run_waits(plugin: &LoadedPlugin, count: usize, seconds: f64) -> Result<Outcome, BenchError> {
    let inputs = vec![json!(seconds); count];
    let outcome = drive::run(Job {
        plugin,
        config: "{}",
        inputs: &inputs,
        workers: Workers::Auto,
        split: Split::AsHostRunDoes,
        keep: Keep::Records,
    })?;
    let expected = json!(seconds);
    let right = outcome
        .records
        .iter()
        .filter(|record| record.ok && record.output.as_ref() == Some(&expected))
        .count();
    if outcome.finished != count || right != count {
        return Err(BenchError::WrongResult {
            scenario: SCENARIO,
            detail: format!(
                "{} of {count} waits reported, {right} of them ok with {seconds} returned",
                outcome.finished
            ),
        });
    }
    Ok(outcome)
}
