//! Scenario 3: slow-io waits of 0.1 s, ten of them and a thousand, run the way `host run` runs
//! them by default: the mode and worker count that [`runner::choose`] picks from the plugin's
//! hint and the task count.

use std::time::Instant;

use serde_json::json;

use super::{
    BenchError, Plan, Setup, context, python, summarize,
    table::{Comparison, Row, Section, Target, Unit, thousands},
};
use crate::{
    loader::LoadedPlugin,
    report::cores,
    runner::{self, Choice, EventKind, Request, Status, Task},
};

const SCENARIO: &str = "slow-io";
/// How long each task waits, in seconds.
const WAIT: f64 = 0.1;
pub(super) fn measure(setup: &Setup, plan: Plan) -> Result<Section, BenchError> {
    let plugin = &setup.slow_io;
    let choose = |count| {
        runner::choose(
            Request::default(),
            plugin.description.hint,
            Some(count),
            cores(),
        )
    };
    let (ten, thousand) = (choose(10), choose(1000));
    // An untimed warm-up with short waits.
    run_waits(plugin, &ten, 10, 0.001)?;
    let (mut ten_walls, mut thousand_walls) = (Vec::new(), Vec::new());
    for _ in 0..plan.slow_io_repetitions {
        setup.settle();
        ten_walls.push(run_waits(plugin, &ten, 10, WAIT)?);
        setup.settle();
        thousand_walls.push(run_waits(plugin, &thousand, 1000, WAIT)?);
    }
    let (ten_walls, thousand_walls) = (summarize(ten_walls), summarize(thousand_walls));
    let ten_median = ten_walls.median;
    let unit = Unit::Seconds;
    let name = |count: usize, choice: &Choice| {
        format!(
            "{} x 0.1 s, auto: {}, {} workers",
            thousands(count as u64),
            choice.mode.as_str(),
            choice.workers
        )
    };

    let mut section = Section::new("3. slow-io, waits of 0.1 s in the kernel (wall time)");
    section.push(
        Row::new(name(10, &ten), unit, ten_walls)
            .target(Target::at_most(0.11))
            .against(Comparison::quoted(
                "Python ten threads",
                python::SLOW_TEN_THREADS_S,
                "0.103 s",
            ))
            .against(Comparison::quoted(
                "Python sequential",
                python::SLOW_SEQUENTIAL_S,
                "1.004 s",
            )),
    );
    section.push(
        Row::new(name(1000, &thousand), unit, thousand_walls)
            .target(Target::at_most(0.3))
            .against(Comparison::here("10 waits, above", ten_median, unit)),
    );
    section.note(format!(
        "from making the executor to its last result, each run started once the previous run's \
         threads were gone; the runner's reasons: {}; {}",
        ten.reason, thousand.reason
    ));
    Ok(section)
}

/// Runs `count` waits of `seconds` with `choice`; the wall time in seconds.
fn run_waits(
    plugin: &LoadedPlugin,
    choice: &Choice,
    count: usize,
    seconds: f64,
) -> Result<f64, BenchError> {
    let context = context(plugin, "{}");
    let started = Instant::now();
    let mut executor = runner::executor(choice, context)?;
    let mut tasks = (0..count as u64).map(|id| Task::new(id, json!(seconds)));
    let expected = json!(seconds);
    let (mut finished, mut right) = (0_usize, 0_usize);
    executor.execute(&mut tasks, &mut |event| {
        if let EventKind::TaskFinished(record) = event.kind {
            finished += 1;
            right += usize::from(
                record.status == Status::Ok && record.output.as_ref() == Some(&expected),
            );
        }
    })?;
    let wall = started.elapsed().as_secs_f64();
    if finished != count || right != count {
        return Err(BenchError::WrongResult {
            scenario: SCENARIO,
            detail: format!(
                "{finished} of {count} waits reported, {right} of them ok with {seconds} returned"
            ),
        });
    }
    Ok(wall)
}
