//! [`ThreadExecutor`]: a pool of worker threads, one plugin instance each, pulling tasks from one
//! shared bounded queue (a worker that finishes takes the next task).
//!
//! The queue is kept full ahead of the workers so that a worker rarely sleeps waiting for work (a
//! cross-thread wake-up costs tens of microseconds here), and it is bounded so that a run of
//! millions of tasks holds only a few thousand in memory. Workers send results in batches while
//! tasks are trivial and one by one as soon as a task takes measurable time, so results still
//! stream.
//!
//! A thread cannot be stopped from outside. A task past its time limit is reported `timeout`, its
//! thread is abandoned (its eventual result is dropped) and a new thread with a new instance
//! takes its place. An interrupted run reports the running tasks `cancelled` and does not wait.

use std::{
    sync::{Arc, Mutex, PoisonError, atomic::Ordering},
    thread,
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, Select, Sender, TryRecvError, bounded};
use quack_core::InstanceBox;

use super::{
    Event, EventKind, Executor, Retry, RunContext, RunError, Status, Task, TaskRecord,
    pending::Pending, run_task,
};

/// Tasks queued per worker ahead of time.
const QUEUE_PER_WORKER: usize = 256;
/// A result batch is sent when it holds this many records...
const BATCH: usize = 64;
/// ...or as soon as a task took at least this long (then one message per task costs nothing).
const SLOW_TASK: Duration = Duration::from_micros(50);
/// How often the main thread looks at the cancel flag and the time limits when nothing arrives.
const TICK: Duration = Duration::from_millis(50);

/// The task a worker is running, visible to the main thread for time limits and cancelling.
#[derive(Default)]
struct Current {
    running: Mutex<Option<(Task, Instant)>>,
}

impl Current {
    fn set(&self, value: Option<(Task, Instant)>) -> Option<(Task, Instant)> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *running, value)
    }

    fn started(&self) -> Option<Instant> {
        let running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        running.as_ref().map(|(_, started)| *started)
    }
}

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

struct Pool {
    context: RunContext,
    task_sender: Sender<Task>,
    task_receiver: Receiver<Task>,
    result_sender: Sender<Vec<TaskRecord>>,
    workers: Vec<Arc<Current>>,
    /// Tasks sent and not yet reported.
    outstanding: usize,
}

impl Pool {
    fn start(&mut self, worker: usize, instance: InstanceBox) -> Result<(), RunError> {
        let current = Arc::new(Current::default());
        if worker < self.workers.len() {
            self.workers[worker] = Arc::clone(&current);
        } else {
            self.workers.push(Arc::clone(&current));
        }
        let (tasks, results, context) = (
            self.task_receiver.clone(),
            self.result_sender.clone(),
            self.context.clone(),
        );
        thread::Builder::new()
            .name(format!("quack-worker-{worker}"))
            .spawn(move || work(worker, instance, &tasks, &results, &current, &context))
            .map(drop)
            .map_err(|source| RunError::Spawn { worker, source })
    }

    fn report(&mut self, records: Vec<TaskRecord>, on_event: &mut dyn FnMut(Event)) {
        self.outstanding -= records.len();
        for record in records {
            on_event(Event {
                elapsed: self.context.origin.elapsed(),
                kind: EventKind::TaskFinished(record),
            });
        }
    }

    /// Reports tasks past their time limit, runs them again if retries are left, and replaces
    /// their threads.
    fn enforce_time_limit(
        &mut self,
        pending: &mut Pending<'_>,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<(), RunError> {
        let Some(limit) = self.context.limits.timeout else {
            return Ok(());
        };
        let origin = self.context.origin;
        for worker in 0..self.workers.len() {
            let late = self.workers[worker]
                .started()
                .is_some_and(|started| started.elapsed() >= limit);
            // Taking the task is what abandons the thread: it finds nothing to report.
            let Some((task, started)) = (if late {
                self.workers[worker].set(None)
            } else {
                None
            }) else {
                continue;
            };
            self.outstanding -= 1;
            let error = format!(
                "ran past the time limit of {}; its thread cannot be stopped and was abandoned",
                super::process::human_duration(limit)
            );
            let record = TaskRecord::failed(
                task,
                Status::Timeout,
                error,
                worker,
                started.saturating_duration_since(origin),
                started.elapsed(),
            );
            match record.retry(self.context.limits.retries) {
                Retry::RunAgain(again) => pending.put_back(std::iter::once(again)),
                Retry::Report(record) => on_event(Event {
                    elapsed: origin.elapsed(),
                    kind: EventKind::TaskFinished(record),
                }),
            }
            let instance = self.context.instance()?;
            self.start(worker, instance)?;
            on_event(Event {
                elapsed: origin.elapsed(),
                kind: EventKind::WorkerReplaced {
                    worker,
                    reason: "its task ran past the time limit".to_owned(),
                },
            });
        }
        Ok(())
    }

    /// Reports every task not finished as `cancelled`, without waiting for running threads.
    ///
    /// A worker may be between taking a task from the queue and publishing it as its current
    /// task; such a worker sees the cancel flag and sends the task back as `cancelled`. So this
    /// keeps collecting until every task handed out is accounted for (or a second has passed).
    fn cancel(
        &mut self,
        pending: &mut Pending<'_>,
        results: &Receiver<Vec<TaskRecord>>,
        on_event: &mut dyn FnMut(Event),
    ) {
        let origin = self.context.origin;
        let deadline = Instant::now() + Duration::from_secs(1);
        let interrupted = |task: Task, worker, started: Instant| {
            let now = Instant::now();
            TaskRecord::failed(
                task,
                Status::Cancelled,
                "the run was interrupted".to_owned(),
                worker,
                started.saturating_duration_since(origin),
                now.saturating_duration_since(started),
            )
        };
        let mut records: Vec<TaskRecord> = self
            .task_receiver
            .try_iter()
            .map(|task| interrupted(task, 0, Instant::now()))
            .collect();
        self.outstanding -= records.len();
        loop {
            for (worker, current) in self.workers.iter().enumerate() {
                if let Some((task, started)) = current.set(None) {
                    records.push(interrupted(task, worker, started));
                    self.outstanding -= 1;
                }
            }
            for record in records.drain(..) {
                on_event(Event {
                    elapsed: origin.elapsed(),
                    kind: EventKind::TaskFinished(record),
                });
            }
            if self.outstanding == 0 || Instant::now() >= deadline {
                break;
            }
            if let Ok(batch) = results.recv_timeout(Duration::from_millis(5)) {
                self.report(batch, on_event);
            }
        }
        for task in pending.take_again() {
            let record = interrupted(task, 0, Instant::now());
            on_event(Event {
                elapsed: origin.elapsed(),
                kind: EventKind::TaskFinished(record),
            });
        }
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
        let (result_sender, results) = bounded::<Vec<TaskRecord>>(workers * QUEUE_PER_WORKER);
        let mut pool = Pool {
            context: self.context.clone(),
            task_sender,
            task_receiver,
            result_sender,
            workers: Vec::new(),
            outstanding: 0,
        };
        for (worker, instance) in std::mem::take(&mut self.instances).into_iter().enumerate() {
            pool.start(worker, instance)?;
        }
        let mut pending = Pending::new(tasks);
        let mut next = None;
        // The loop's own handle on the queue, so waiting on it does not borrow the pool.
        let task_sender = pool.task_sender.clone();
        loop {
            if self.context.cancel.load(Ordering::Relaxed) {
                if let Some(task) = next.take() {
                    pending.put_back(std::iter::once(task));
                }
                pool.cancel(&mut pending, &results, on_event);
                return Ok(());
            }
            if next.is_none() {
                next = pending.next_task();
            }
            // Fill the queue without blocking; then report whatever results are in.
            while let Some(task) = next.take() {
                match pool.task_sender.try_send(task) {
                    Ok(()) => {
                        pool.outstanding += 1;
                        next = pending.next_task();
                    }
                    Err(error) => {
                        next = Some(error.into_inner());
                        break;
                    }
                }
            }
            while let Ok(batch) = results.try_recv() {
                pool.report(batch, on_event);
            }
            if next.is_none() && pending.is_exhausted() && pool.outstanding == 0 {
                return Ok(());
            }
            on_event(Event {
                elapsed: self.context.origin.elapsed(),
                kind: EventKind::Idle,
            });
            // Wait for room in the queue, a result, or the next time-limit check.
            let mut select = Select::new();
            let send_index = next.as_ref().map(|_| select.send(&task_sender));
            let receive_index = select.recv(&results);
            let wait = pool
                .workers
                .iter()
                .filter_map(|w| w.started())
                .min()
                .and_then(|oldest| {
                    self.context
                        .limits
                        .timeout
                        .map(|limit| (oldest + limit).saturating_duration_since(Instant::now()))
                });
            match select.select_timeout(wait.map_or(TICK, |w| w.min(TICK))) {
                Ok(operation) if Some(operation.index()) == send_index => {
                    if let Some(task) = next.take() {
                        match operation.send(&task_sender, task) {
                            Ok(()) => pool.outstanding += 1,
                            Err(error) => next = Some(error.into_inner()),
                        }
                    }
                }
                Ok(operation) => {
                    debug_assert_eq!(operation.index(), receive_index);
                    if let Ok(batch) = operation.recv(&results) {
                        pool.report(batch, on_event);
                    }
                }
                Err(_) => {}
            }
            pool.enforce_time_limit(&mut pending, on_event)?;
        }
    }
}

/// One worker thread: takes tasks until the queue closes or its task is taken away.
fn work(
    worker: usize,
    mut instance: InstanceBox,
    tasks: &Receiver<Task>,
    results: &Sender<Vec<TaskRecord>>,
    current: &Current,
    context: &RunContext,
) {
    let mut batch = Vec::new();
    loop {
        let task = match tasks.try_recv() {
            Ok(task) => task,
            Err(TryRecvError::Empty) => {
                // About to wait for work: send what is done first.
                if !batch.is_empty() && results.send(std::mem::take(&mut batch)).is_err() {
                    return;
                }
                match tasks.recv() {
                    Ok(task) => task,
                    Err(_) => return,
                }
            }
            Err(TryRecvError::Disconnected) => break,
        };
        if context.cancel.load(Ordering::Relaxed) {
            // Taken after the run was interrupted: give it back, reported as cancelled.
            let now = context.origin.elapsed();
            batch.push(TaskRecord::failed(
                task,
                Status::Cancelled,
                "the run was interrupted".to_owned(),
                worker,
                now,
                Duration::ZERO,
            ));
            if results.send(std::mem::take(&mut batch)).is_err() {
                return;
            }
            continue;
        }
        current.set(Some((task.clone(), Instant::now())));
        let record = run_task(&mut instance, worker, task, context.origin);
        if current.set(None).is_none() {
            // The main thread took the task (time limit or cancel) and reported it.
            return;
        }
        let slow = record.duration_seconds >= SLOW_TASK.as_secs_f64();
        batch.push(record);
        if (slow || batch.len() >= BATCH) && results.send(std::mem::take(&mut batch)).is_err() {
            return;
        }
    }
    if !batch.is_empty() {
        let _ = results.send(batch);
    }
}
