//! [`InlineExecutor`]: every task on the calling thread, one after another. The baseline the
//! other modes are measured against.

use std::sync::atomic::Ordering;

use quack_core::InstanceBox;

use super::{Event, EventKind, Executor, RunContext, RunError, Task, run_task};

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
        tasks: &mut dyn Iterator<Item = Task>,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), RunError> {
        for task in tasks {
            if self.context.cancel.load(Ordering::Relaxed) {
                break;
            }
            let record = run_task(&mut self.instance, 0, task, self.context.origin);
            on_event(Event {
                elapsed: self.context.origin.elapsed(),
                kind: EventKind::TaskFinished(record),
            });
        }
        Ok(())
    }
}
