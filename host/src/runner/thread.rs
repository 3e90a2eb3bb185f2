//! [`ThreadExecutor`]: a pool of worker threads, one plugin instance each, pulling tasks from a
//! shared bounded queue (a worker that finishes takes the next task).
//!
//! The queue is kept full ahead of the workers so that a worker rarely sleeps waiting for work
//! (a cross-thread wake-up costs tens of microseconds here), and it is bounded so that a run of
//! millions of tasks holds only a few thousand in memory.

use std::{sync::atomic::Ordering, thread};

use crossbeam_channel::{Receiver, Select, Sender, TrySendError, bounded};
use quack_core::InstanceBox;

use super::{Event, EventKind, Executor, RunContext, RunError, Task, run_task};

/// Tasks queued per worker ahead of time.
const QUEUE_PER_WORKER: usize = 256;

/// Runs tasks on a pool of threads.
pub struct ThreadExecutor {
    context: RunContext,
    instances: Vec<InstanceBox>,
}

impl ThreadExecutor {
    /// Makes one plugin instance per worker, so that a configuration error shows before any task
    /// runs.
    pub fn new(context: RunContext, workers: usize) -> Result<Self, RunError> {
        let instances = (0..workers.max(1))
            .map(|_| context.instance())
            .collect::<Result<_, _>>()?;
        Ok(ThreadExecutor { context, instances })
    }
}

impl Executor for ThreadExecutor {
    fn execute(
        &mut self,
        tasks: &mut dyn Iterator<Item = Task>,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), RunError> {
        let workers = self.instances.len();
        let (task_sender, task_receiver) = bounded::<Task>(workers * QUEUE_PER_WORKER);
        let (event_sender, event_receiver) = bounded::<Event>(workers * QUEUE_PER_WORKER);
        let context = &self.context;
        thread::scope(|scope| {
            for (worker, instance) in self.instances.iter_mut().enumerate() {
                let (tasks, events) = (task_receiver.clone(), event_sender.clone());
                thread::Builder::new()
                    .name(format!("quack-worker-{worker}"))
                    .spawn_scoped(scope, move || {
                        work(worker, instance, tasks, events, context)
                    })
                    .map_err(|source| RunError::Spawn { worker, source })?;
            }
            drop(event_sender);
            feed(tasks, task_sender, &event_receiver, context, on_event);
            // Every task is queued (or the run was cancelled): report the rest as workers finish.
            for event in event_receiver.iter() {
                on_event(event);
            }
            Ok(())
        })
    }
}

/// Moves tasks into the queue, reporting results whenever the queue is full.
fn feed(
    tasks: &mut dyn Iterator<Item = Task>,
    task_sender: Sender<Task>,
    events: &Receiver<Event>,
    context: &RunContext,
    on_event: &mut dyn FnMut(Event),
) {
    for mut task in tasks {
        if context.cancel.load(Ordering::Relaxed) {
            return;
        }
        loop {
            match task_sender.try_send(task) {
                Ok(()) => break,
                Err(TrySendError::Disconnected(_)) => return,
                Err(TrySendError::Full(returned)) => task = returned,
            }
            // The queue is full: wait for room or for a result, whichever comes first.
            let mut select = Select::new();
            let send_index = select.send(&task_sender);
            let receive_index = select.recv(events);
            let operation = select.select();
            if operation.index() == send_index {
                if operation.send(&task_sender, task).is_err() {
                    return;
                }
                break;
            }
            debug_assert_eq!(operation.index(), receive_index);
            match operation.recv(events) {
                Ok(event) => on_event(event),
                Err(_) => return,
            }
        }
        while let Ok(event) = events.try_recv() {
            on_event(event);
        }
    }
}

/// One worker: takes tasks until the queue closes.
fn work(
    worker: usize,
    instance: &mut InstanceBox,
    tasks: Receiver<Task>,
    events: Sender<Event>,
    context: &RunContext,
) {
    for task in tasks.iter() {
        if context.cancel.load(Ordering::Relaxed) {
            break;
        }
        let record = run_task(instance, worker, task, context.origin);
        let event = Event {
            elapsed: context.origin.elapsed(),
            kind: EventKind::TaskFinished(record),
        };
        if events.send(event).is_err() {
            break;
        }
    }
}
