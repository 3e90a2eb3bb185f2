//! [`InlineExecutor`]: every task on the calling thread, one after another. The baseline the
//! other modes are measured against. Each task is one call of `run`, or, for an Animal's speech,
//! of `name` and `sound` ([`InlineExecutor::speaking`]).

use std::time::{Duration, Instant};

use quack_core::InstanceBox;

use super::{
    EventKind, Executor, RunContext, RunError,
    outbox::{Outbox, TICK},
    record::{CallOutcome, call_run_from},
    source::{Fed, TaskFeed, wait_ready},
    speech::speak_from,
};

/// What a task is on the instance: its input and the moment it starts in, its outcome out.
type Call = fn(&mut InstanceBox, &str, Instant) -> CallOutcome;

/// How often an inline run tells reporters to flush (and the task time above which it always does).
const IDLE_EVERY: Duration = Duration::from_millis(1);

/// Runs tasks on the calling thread with a single plugin instance.
pub(crate) struct InlineExecutor {
    context: RunContext,
    instance: InstanceBox,
    call: Call,
}

impl InlineExecutor {
    /// Makes the one instance the run uses.
    pub(crate) fn new(context: RunContext) -> Result<Self, RunError> {
        Self::with_call(context, call_run_from)
    }

    /// Makes the one instance of an Animal, whose task is to speak.
    pub(crate) fn speaking(context: RunContext) -> Result<Self, RunError> {
        Self::with_call(context, speak_from)
    }

    fn with_call(context: RunContext, call: Call) -> Result<Self, RunError> {
        let instance = context.instance()?;
        Ok(InlineExecutor {
            context,
            instance,
            call,
        })
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
            // Two clock reads per task: when it starts and when it ends; every time stamp
            // below is one of them.
            let started = Instant::now();
            if outbox.wants_task_started() {
                outbox.emit_at(
                    started.saturating_duration_since(origin),
                    EventKind::TaskStarted {
                        id: task.id,
                        worker: Some(0),
                        attempt: task.history.len() as u32 + 1,
                    },
                );
            }
            let outcome = (self.call)(&mut self.instance, task.input.as_str(), started);
            let ended = started + outcome.duration();
            let record = outcome.into_record(task, 0, origin);
            outbox.emit_at(
                ended.saturating_duration_since(origin),
                EventKind::TaskFinished(record),
            );
            // Nothing waits here, so say "idle" now and then for the reporters to flush.
            if ended.saturating_duration_since(last_idle) >= IDLE_EVERY {
                outbox.idle();
                last_idle = ended;
            }
        }
        Ok(())
    }
}
