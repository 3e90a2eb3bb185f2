//! [`ThreadExecutor`]: a pool of worker threads, one plugin instance each, pulling tasks from one
//! shared bounded queue (a worker that finishes takes the next task).
//!
//! The queue is kept full ahead of the workers so that a worker rarely sleeps waiting for work (a
//! cross-thread wake-up costs tens of microseconds here), and it is bounded so that a run of
//! millions of tasks holds only a few thousand in memory.
//!
//! Each worker has a [`Slot`] shared with the main thread: the task it is running and the results
//! it has not sent yet. Workers send results in batches while tasks are trivial and at once when a
//! task takes measurable time; the main thread also sweeps the slots whenever it has waited a
//! tick, so a quick result is never stuck behind a long task, and nothing a worker finished is
//! lost when its thread is abandoned.
//!
//! A thread cannot be stopped from outside. A task past its time limit is reported `timeout`, its
//! thread is abandoned (the main thread takes its task away, so it reports nothing more) and a new
//! thread with a new instance takes its place. A program plugin's thread only waits for its
//! program, which is killed then, so that thread ends and nothing of the task runs on. An interrupted run reports the running tasks
//! `cancelled` and does not wait for them.

use std::{
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    thread,
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, Sender, TryRecvError, bounded};
use quack_core::InstanceBox;

use super::{
    Executor, RunContext, RunError, Status, Task, TaskRecord,
    outbox::{Outbox, Stop, wait_time},
    pending::Pending,
    record::call_run_from,
    source::{TaskFeed, wait_ready},
};

/// How long every thread must have been on its task before more threads start.
const GROW_AFTER: Duration = Duration::from_millis(1);
/// Tasks queued per worker ahead of time.
const QUEUE_PER_WORKER: usize = 256;
/// A worker sends its results when it holds this many...
const BATCH: usize = 64;
/// ...or as soon as a task took at least this long (then one message per task costs nothing).
const SLOW_TASK: Duration = Duration::from_micros(50);

/// How far a worker thread is with making its plugin instance.
#[derive(Default)]
enum Start {
    /// Making it, since then.
    Making(Instant),
    /// Made: the thread takes tasks.
    #[default]
    Ready,
    /// The plugin refused.
    Failed(quack_core::PluginError),
}

#[derive(Default)]
struct SlotState {
    /// How far the thread is with its instance.
    start: Start,
    /// The task being run and when it started.
    running: Option<(Task, Instant)>,
    /// Finished, not yet sent.
    done: Vec<TaskRecord>,
    /// The run stopped, and why: the worker hands back the tasks it takes.
    closed: Option<Stop>,
    /// The worker's thread, once it runs.
    thread: Option<thread::ThreadId>,
}

/// What a worker shares with the main thread.
#[derive(Default)]
struct Slot {
    state: Mutex<SlotState>,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn started(&self) -> Option<Instant> {
        self.lock().running.as_ref().map(|(_, started)| *started)
    }

    fn take_done(&self) -> Vec<TaskRecord> {
        std::mem::take(&mut self.lock().done)
    }

    /// Takes the running task and the unsent results away from the worker.
    fn abandon(&self) -> (Option<(Task, Instant)>, Vec<TaskRecord>) {
        let mut state = self.lock();
        (state.running.take(), std::mem::take(&mut state.done))
    }
}

/// Runs tasks on a pool of threads. Each thread makes its own plugin instance, so a constructor
/// that hangs or is slow never holds up the main thread (which keeps its time limits and hears
/// Ctrl-C meanwhile).
pub(crate) struct ThreadExecutor {
    context: RunContext,
    workers: usize,
}

impl ThreadExecutor {
    /// A pool of `workers` threads; they start when the run does.
    pub(crate) fn new(context: RunContext, workers: usize) -> Self {
        ThreadExecutor {
            context,
            workers: workers.max(1),
        }
    }
}

struct Pool {
    context: RunContext,
    task_sender: Sender<Task>,
    task_receiver: Receiver<Task>,
    result_sender: Sender<Vec<TaskRecord>>,
    slots: Vec<Arc<Slot>>,
    /// How many threads each slot has had (the first is generation 0).
    generations: Vec<u64>,
    /// Tasks sent and not yet reported.
    outstanding: usize,
    /// The most threads this pool may have.
    most: usize,
    /// How long tasks take (an exponentially weighted mean of the results so far), in seconds.
    average_task: Option<f64>,
}

impl Pool {
    /// Starts more threads when tasks wait in the queue and no thread is free to take them.
    fn grow(&mut self) -> Result<(), RunError> {
        if self.slots.len() >= self.most {
            return Ok(());
        }
        let waiting = self.task_sender.len();
        // Quick tasks never need more threads than there are cores.
        let quick = self
            .average_task
            .is_some_and(|average| average < GROW_AFTER.as_secs_f64());
        if waiting == 0 || quick {
            return Ok(());
        }
        // A thread counts as busy once its task has run a while: quick tasks need no more threads.
        let busy = self
            .slots
            .iter()
            .filter(|slot| {
                slot.lock()
                    .running
                    .as_ref()
                    .is_some_and(|(_, started)| started.elapsed() >= GROW_AFTER)
            })
            .count();
        let free = self.slots.len() - busy;
        let more = waiting
            .saturating_sub(free)
            .min(self.most - self.slots.len());
        for _ in 0..more {
            self.start(self.slots.len())?;
        }
        Ok(())
    }

    /// Starts (or restarts) the thread of slot `worker`; it makes its instance first.
    fn start(&mut self, worker: usize) -> Result<(), RunError> {
        let slot = Arc::new(Slot::default());
        slot.lock().start = Start::Making(Instant::now());
        let (tasks, results, context) = (
            self.task_receiver.clone(),
            self.result_sender.clone(),
            self.context.clone(),
        );
        let thread_slot = Arc::clone(&slot);
        thread::Builder::new()
            .name(format!("quack-worker-{worker}"))
            .spawn(move || work(worker, &tasks, &results, &thread_slot, &context))
            .map_err(|source| RunError::Spawn {
                worker,
                program: "a worker thread".to_owned(),
                source,
            })?;
        if worker < self.slots.len() {
            self.slots[worker] = slot;
            self.generations[worker] += 1;
        } else {
            self.slots.push(slot);
            self.generations.push(0);
        }
        Ok(())
    }

    /// A thread whose plugin refused to make its instance, or did not within the start limit,
    /// ends the run: a first thread's refusal is the plugin refusing its configuration.
    fn check_starts(&self) -> Result<(), RunError> {
        let limit = self.context.limits.start_timeout;
        for (worker, slot) in self.slots.iter().enumerate() {
            let first = self.generations[worker] == 0;
            let failure = match &slot.lock().start {
                Start::Failed(error) if first => return Err(RunError::Instance(error.clone())),
                Start::Failed(error) => error.to_string(),
                Start::Making(since) if since.elapsed() >= limit => format!(
                    "its plugin instance was not made within {} (a thread cannot be stopped)",
                    super::sys::human_duration(limit)
                ),
                _ => continue,
            };
            return Err(if first {
                RunError::WorkerFailed {
                    worker,
                    reason: failure,
                }
            } else {
                RunError::Replacement {
                    worker,
                    reason: failure,
                }
            });
        }
        Ok(())
    }

    fn report(&mut self, records: Vec<TaskRecord>, outbox: &mut Outbox<'_>) {
        self.outstanding -= records.len();
        if self.slots.len() < self.most {
            for record in &records {
                let took = record.duration_seconds;
                self.average_task = Some(
                    self.average_task
                        .map_or(took, |mean| (mean * 7.0 + took) / 8.0),
                );
            }
        }
        outbox.freeze();
        for record in records {
            outbox.finished(record);
        }
        outbox.thaw();
    }

    /// Reports what every worker finished but has not sent.
    fn sweep(&mut self, outbox: &mut Outbox<'_>) {
        for index in 0..self.slots.len() {
            let done = self.slots[index].take_done();
            self.report(done, outbox);
        }
    }

    /// Reports tasks past their time limit (or runs them again if retries are left), and
    /// replaces their threads.
    fn enforce_time_limit(
        &mut self,
        pending: &mut Pending<'_>,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        let Some(limit) = self.context.limits.timeout else {
            return Ok(());
        };
        let origin = outbox.origin();
        for worker in 0..self.slots.len() {
            let late = self.slots[worker]
                .started()
                .is_some_and(|started| started.elapsed() >= limit);
            if !late {
                continue;
            }
            // Taking the task is what abandons the thread: it finds nothing left to report.
            let (running, done) = self.slots[worker].abandon();
            self.report(done, outbox);
            let Some((task, started)) = running else {
                continue;
            };
            self.outstanding -= 1;
            // A program plugin's call is a program waited on: killed, the thread gets its
            // answer and ends. Plugin code in the host's own process cannot be stopped.
            let thread = self.slots[worker].lock().thread;
            let stopped = thread.is_some_and(crate::program::stop_call_of);
            let error = if stopped {
                format!(
                    "ran past the time limit of {}; its program was killed",
                    super::sys::human_duration(limit)
                )
            } else {
                format!(
                    "ran past the time limit of {}; its thread cannot be stopped and was abandoned",
                    super::sys::human_duration(limit)
                )
            };
            let record = TaskRecord::failed(
                task,
                Status::Timeout,
                error,
                worker,
                started.saturating_duration_since(origin),
                started.elapsed(),
            );
            outbox.attempt_failed(record, self.context.limits.retries, pending);
            self.start(worker)?;
            outbox.replaced(worker, "its task ran past the time limit".to_owned());
        }
        Ok(())
    }

    /// Reports every task not finished as stopped by `stop`, without waiting for running threads.
    ///
    /// A worker may be between taking a task from the queue and publishing it as running; such a
    /// worker sees the cancel flag (or the closed slot) and hands the task back as `cancelled`. So
    /// this keeps collecting until every task handed out is accounted for (or a second has passed).
    fn stop(
        &mut self,
        stop: &Stop,
        pending: &mut Pending<'_>,
        results: &Receiver<Vec<TaskRecord>>,
        outbox: &mut Outbox<'_>,
    ) {
        let origin = outbox.origin();
        let deadline = Instant::now() + Duration::from_secs(1);
        for slot in &self.slots {
            slot.lock().closed = Some(stop.clone());
        }
        let queued: Vec<TaskRecord> = self
            .task_receiver
            .try_iter()
            .map(|task| stop.record(task, 0, None, origin))
            .collect();
        self.report(queued, outbox);
        loop {
            for worker in 0..self.slots.len() {
                let (running, mut records) = self.slots[worker].abandon();
                if let Some((task, started)) = running {
                    records.push(stop.record(task, worker, Some(started), origin));
                }
                self.report(records, outbox);
            }
            while let Ok(batch) = results.try_recv() {
                self.report(batch, outbox);
            }
            if self.outstanding == 0 || Instant::now() >= deadline {
                break;
            }
            if let Ok(batch) = results.recv_timeout(Duration::from_millis(5)) {
                self.report(batch, outbox);
            }
        }
        outbox.drain_pending(stop, pending);
    }
}

impl Executor for ThreadExecutor {
    fn execute(
        &mut self,
        tasks: &mut dyn TaskFeed,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        let workers = self.workers;
        // Threads start one per core; more start while tasks wait and every thread is busy, up to
        // `workers` (so a stream of quick tasks on an I/O-bound plugin needs few threads, and a
        // thousand waits get a thousand). The queue holds enough for every thread and stays short.
        let first = workers.min(super::sys::cores()).max(1);
        let capacity = (first * QUEUE_PER_WORKER).max(2 * workers);
        let (task_sender, task_receiver) = bounded::<Task>(capacity);
        let (result_sender, results) = bounded::<Vec<TaskRecord>>(capacity);
        let mut pool = Pool {
            context: self.context.clone(),
            task_sender,
            task_receiver,
            result_sender,
            slots: Vec::new(),
            generations: Vec::new(),
            outstanding: 0,
            most: workers,
            average_task: None,
        };
        let mut pending = Pending::new(tasks);
        for worker in 0..first {
            if let Err(error) = pool.start(worker) {
                pool.stop(
                    &Stop::Failed(error.to_string()),
                    &mut pending,
                    &results,
                    outbox,
                );
                return Err(error);
            }
        }
        let outcome = main_loop(&mut pool, &mut pending, &results, outbox);
        match &outcome {
            Ok(Some(stop)) => pool.stop(stop, &mut pending, &results, outbox),
            Ok(None) => {}
            Err(error) => pool.stop(
                &Stop::Failed(error.to_string()),
                &mut pending,
                &results,
                outbox,
            ),
        }
        // Every task is reported. Dropping the queue's senders (here and with the pool) lets the
        // threads end on their own; they are not joined, which for a thousand I/O threads would
        // add tens of milliseconds to the run for nothing.
        outcome.map(|_| ())
    }
}

/// Hands out tasks and reports results until every task is done (`None`) or the run is
/// interrupted (`Some(Stop)`); an error when a thread cannot be replaced.
fn main_loop(
    pool: &mut Pool,
    pending: &mut Pending<'_>,
    results: &Receiver<Vec<TaskRecord>>,
    outbox: &mut Outbox<'_>,
) -> Result<Option<Stop>, RunError> {
    let mut next = None;
    loop {
        if let Some(stop) = pool.context.stop_requested() {
            if let Some(task) = next.take() {
                pending.put_back(std::iter::once(task));
            }
            return Ok(Some(stop));
        }
        if next.is_none() {
            next = pending.next_task();
        }
        // Fill the queue without blocking; then report whatever results are in.
        outbox.freeze();
        while let Some(task) = next.take() {
            let announced = outbox
                .wants_task_started()
                .then(|| (task.id, task.history.len() as u32 + 1));
            match pool.task_sender.try_send(task) {
                Ok(()) => {
                    pool.outstanding += 1;
                    if let Some((id, attempt)) = announced {
                        outbox.emit(super::EventKind::TaskStarted {
                            id,
                            worker: None,
                            attempt,
                        });
                    }
                    next = pending.next_task();
                }
                Err(error) => {
                    next = Some(error.into_inner());
                    break;
                }
            }
        }
        outbox.thaw();
        while let Ok(batch) = results.try_recv() {
            pool.report(batch, outbox);
        }
        pool.grow()?;
        if next.is_none() && pending.is_exhausted() && pool.outstanding == 0 {
            return Ok(None);
        }
        if next.is_some() && !pool.task_sender.is_full() {
            // The workers emptied the queue while the results were being reported: refill it
            // now, or they would sit idle until the next tick.
            continue;
        }
        outbox.idle();
        // The queue is full (or the input is done): wait for results, not for room in the
        // queue. Workers send a batch every BATCH tasks and whenever the queue runs dry, so the
        // main thread wakes once per batch instead of once per task taken. A quiet tick
        // collects results held behind long tasks; a task arriving on the input wakes it too.
        // The slots are looked at only when there is a time limit to keep.
        let until_limit = pool.context.limits.timeout.and_then(|limit| {
            let oldest = pool.slots.iter().filter_map(|slot| slot.started()).min()?;
            oldest.checked_add(limit)
        });
        let input = if next.is_none() {
            pending.input_readiness()
        } else {
            None
        };
        let mut wait = wait_time(until_limit);
        if pool.slots.len() < pool.most
            && !pool.task_sender.is_empty()
            && pool
                .average_task
                .is_none_or(|mean| mean >= GROW_AFTER.as_secs_f64())
        {
            // Tasks wait and the pool may grow: look again soon.
            wait = wait.min(GROW_AFTER * 2);
        }
        match wait_ready(&[results], input, wait) {
            Some(_) => {
                if let Ok(batch) = results.try_recv() {
                    pool.report(batch, outbox);
                }
            }
            None => pool.sweep(outbox),
        }
        pool.check_starts()?;
        pool.enforce_time_limit(pending, outbox)?;
    }
}

/// One worker thread: makes its plugin instance, then takes tasks until the queue closes or its
/// task is taken away.
fn work(
    worker: usize,
    tasks: &Receiver<Task>,
    results: &Sender<Vec<TaskRecord>>,
    slot: &Slot,
    context: &RunContext,
) {
    let mut instance: InstanceBox = match context.plugin.instantiate(&context.config) {
        Ok(instance) => instance,
        Err(error) => {
            slot.lock().start = Start::Failed(error);
            // Wakes the main thread, which looks at the slots when it wakes.
            let _ = results.send(Vec::new());
            return;
        }
    };
    {
        let mut state = slot.lock();
        state.start = Start::Ready;
        state.thread = Some(thread::current().id());
    }
    let mut input = String::new();
    let send = |slot: &Slot| {
        let done = slot.take_done();
        done.is_empty() || results.send(done).is_ok()
    };
    loop {
        let task = match tasks.try_recv() {
            Ok(task) => task,
            Err(TryRecvError::Empty) => {
                // About to wait for work: send what is done first.
                if !send(slot) {
                    return;
                }
                match tasks.recv() {
                    Ok(task) => task,
                    Err(_) => return,
                }
            }
            Err(TryRecvError::Disconnected) => break,
        };
        let closed = slot.lock().closed.clone();
        let stop = closed.or_else(|| context.stop_requested());
        if let Some(stop) = stop {
            // Taken after the run was stopped: hand it back, reported as never started.
            let record = stop.record(task, worker, None, context.origin);
            slot.lock().done.push(record);
            if !send(slot) {
                return;
            }
            continue;
        }
        // The task waits in the slot while it runs, where the main thread can take it over.
        // The input is copied into a buffer the thread keeps (no allocation per task), and one
        // clock read is both when the task started for the main thread and the call's start.
        input.clear();
        input.push_str(task.input.as_str());
        let started = Instant::now();
        slot.lock().running = Some((task, started));
        let outcome = call_run_from(&mut instance, &input, started);
        let slow = outcome.duration() >= SLOW_TASK;
        let held = {
            let mut state = slot.lock();
            let Some((task, _)) = state.running.take() else {
                // The main thread took the task (time limit or cancel) and reported it.
                return;
            };
            let record = outcome.into_record(task, worker, context.origin);
            if record.status != Status::Ok {
                context
                    .thread_failures
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            state.done.push(record);
            state.done.len()
        };
        if (slow || held >= BATCH) && !send(slot) {
            return;
        }
    }
    send(slot);
}
