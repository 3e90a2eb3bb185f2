//! [`InlineExecutor`]: every task on the calling thread, one after another. The baseline the
//! other modes are measured against.

use std::time::{Duration, Instant};

use quack_core::InstanceBox;

use super::{
    Executor, RunContext, RunError,
    outbox::{Outbox, TICK},
    record::run_task,
    source::{Fed, TaskFeed, wait_ready},
};

/// How often an inline run tells reporters to flush (and the task time above which it always does).
const IDLE_EVERY: Duration = Duration::from_millis(1);

/// Runs tasks on the calling thread with a single plugin instance.
pub(crate) struct InlineExecutor {
    context: RunContext,
    instance: InstanceBox,
}

impl InlineExecutor {
    /// Makes the one instance the run uses.
    pub(crate) fn new(context: RunContext) -> Result<Self, RunError> {
        let instance = context.instance()?;
        Ok(InlineExecutor { context, instance })
    }
}

impl Executor for InlineExecutor {
    fn execute(
        &mut self,
        tasks: &mut dyn TaskFeed,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        let origin = outbox.origin();
        let mut last_idle = Instant::now();
        loop {
            let task = match tasks.next_task() {
                Fed::Ready(task) => task,
                Fed::Done => break,
                Fed::NotYet => {
                    // The input pauses: show what is done, then sleep until a task arrives (or a
                    // tick passes, to look at the cancel flag).
                    outbox.idle();
                    last_idle = Instant::now();
                    if self.context.stop_requested().is_some() {
                        break;
                    }
                    wait_ready::<()>(&[], tasks.readiness(), TICK);
                    continue;
                }
            };
            if let Some(stop) = self.context.stop_requested() {
                // The task was taken from the input: it is reported, not lost.
                outbox.stopped(&stop, task, 0, None);
                break;
            }
            outbox.started(&task, Some(0));
            let record = run_task(&mut self.instance, 0, task, origin);
            let slow = record.duration_seconds >= IDLE_EVERY.as_secs_f64();
            outbox.finished(record);
            // Nothing waits here, so say "idle" now and then for the reporters to flush.
            if slow || last_idle.elapsed() >= IDLE_EVERY {
                outbox.idle();
                last_idle = Instant::now();
            }
        }
        Ok(())
    }
}
