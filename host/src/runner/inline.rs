//! [`InlineExecutor`]: every task on the calling thread, one after another. The baseline the
//! other modes are measured against.

use std::{
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use quack_core::InstanceBox;

use super::{
    Event, EventKind, Executor, INPUT_POLL, Polled, RunContext, RunError, Status, TaskRecord,
    TaskSource, run_task,
};

/// How often an inline run tells reporters to flush (and the task time above which it always does).
const IDLE_EVERY: Duration = Duration::from_millis(1);

/// Runs tasks on the calling thread with a single plugin instance.
pub struct InlineExecutor {
    context: RunContext,
    instance: InstanceBox,
}

impl InlineExecutor {
    /// Makes the one instance the run uses.
    pub fn new(context: RunContext) -> Result<Self, RunError> {
        let instance = context.instance()?;
        Ok(InlineExecutor { context, instance })
    }
}

impl Executor for InlineExecutor {
    fn execute(
        &mut self,
        tasks: &mut dyn TaskSource,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), RunError> {
        let origin = self.context.origin;
        let mut last_idle = Instant::now();
        loop {
            let task = match tasks.poll_task() {
                Polled::Ready(task) => task,
                Polled::Done => break,
                Polled::NotYet => {
                    // The input pauses: show what is done, then look again shortly.
                    on_event(Event {
                        elapsed: origin.elapsed(),
                        kind: EventKind::Idle,
                    });
                    last_idle = Instant::now();
                    if self.context.cancel.load(Ordering::Relaxed) {
                        break;
                    }
                    std::thread::sleep(INPUT_POLL);
                    continue;
                }
            };
            if self.context.cancel.load(Ordering::Relaxed) {
                // The task was taken from the input: it is reported, not lost.
                let record = TaskRecord::failed(
                    task,
                    Status::Cancelled,
                    "the run was interrupted".to_owned(),
                    0,
                    origin.elapsed(),
                    Duration::ZERO,
                );
                on_event(Event {
                    elapsed: origin.elapsed(),
                    kind: EventKind::TaskFinished(record),
                });
                break;
            }
            let record = run_task(&mut self.instance, 0, task, origin);
            let slow = record.duration_seconds >= IDLE_EVERY.as_secs_f64();
            on_event(Event {
                elapsed: origin.elapsed(),
                kind: EventKind::TaskFinished(record),
            });
            // Nothing waits here, so say "idle" now and then for the reporters to flush.
            if slow || last_idle.elapsed() >= IDLE_EVERY {
                on_event(Event {
                    elapsed: origin.elapsed(),
                    kind: EventKind::Idle,
                });
                last_idle = Instant::now();
            }
        }
        Ok(())
    }
}
