//! [`ProcessExecutor`]: worker processes, each started by the run's [`WorkerCommand`] (the `host`
//! binary's hidden `worker` subcommand, maybe behind a launcher) and driven through a
//! [`WorkerClient`]; this file is the pool's policy over them: which task goes where, time
//! limits, and what a worker's death means.
//!
//! The main thread hands out tasks and keeps several in flight per worker (a cross-process
//! wake-up costs tens of microseconds; a queued message about one). The window adapts to how long
//! tasks take, so long tasks are still scheduled one at a time. A worker answers in the order it
//! was given tasks. A worker on this machine notes the task it is running in a page of memory it
//! shares with the host (`running_slot.rs`) and sends its answers in batches; one through a
//! launcher sends each answer before its next task runs, so its oldest unanswered task is the
//! one it is running. When a worker dies, its running task alone is `crashed` (or `timeout`, if
//! the host stopped it); the other tasks it had and did not answer (queued behind it, or
//! finished with their answers lost with the process) go to another worker, unblamed. The dead worker is replaced and the run goes on. A worker that breaks the
//! protocol after its hello (a second hello, a fatal message, a request for the plugin, an answer
//! for a task it was not running) is stopped and replaced the same way: it costs its running task,
//! never the run and never another task's result.
//!
//! One worker per core starts first; the rest start once those have tasks, and only while tasks
//! wait for them.
//!
//! Until the first worker has said hello, a worker that fails ends the run with what it said
//! (through a launcher, the launcher's last words): the plugin cannot load, or the launcher cannot
//! start workers. Through a launcher that names the node a start failed on (`srun`), a failure on
//! one node while other workers still start or run is that node's, not the run's: the node's
//! failed starts are counted, and after [`MAX_FAILED_STARTS`] in a row there it is left out of
//! the run's next starts (`srun --exclude`). A worker place whose starts keep failing while
//! other workers run is given up, and the run goes on with fewer workers. A signal or a reporter's stop is heard at every stage, while workers start too.

mod dispatch;
mod ending;

use std::{
    collections::{BTreeSet, HashMap, VecDeque},
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, Sender, unbounded};

use super::{
    EventKind, Executor, RunContext, RunError, Task, WorkerCommand,
    client::{Expected, Message, WorkerClient, WorkerEvent, check_hello, fatal_error},
    outbox::{Outbox, Stop, wait_time},
    pending::Pending,
    protocol::Hello,
    ship::PluginSource,
    source::{TaskFeed, wait_ready},
    sys::{cores, describe_exit},
};

/// How long a stopped worker gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_millis(500);
/// The work queued ahead on each worker, measured in time; the window follows from it.
const QUEUED_WORK: Duration = Duration::from_millis(2);
/// Bounds on the number of tasks in flight per worker. One, while tasks are long (or their length
/// is not known yet): a second task queued behind a long one would wait there while another
/// worker may sit idle.
const MIN_WINDOW: usize = 1;
const MAX_WINDOW: usize = 256;
/// The same through a launcher: a frame's round trip through `srun` or `ssh` takes a relay or
/// two (hundreds of microseconds to milliseconds, not tens), so more must be in flight to keep
/// a worker busy with trivial tasks.
const LAUNCHER_QUEUED_WORK: Duration = Duration::from_millis(20);
const LAUNCHER_MAX_WINDOW: usize = 4096;
/// Workers that die before saying hello this many times in a row end the run.
const MAX_FAILED_STARTS: usize = 3;
/// Workers that crash this many times in a row (at least) without any task finishing in
/// between end the run: the plugin crashes at every turn, and respawning is no use.
const MIN_CRASH_LOOP: usize = 8;
/// What to do when a launcher could not start a worker.
const CHECK_LAUNCHER: &str = "check the launcher and its arguments (--launcher, --slurm-args)";

/// Runs tasks in worker processes.
pub(crate) struct ProcessExecutor {
    context: RunContext,
    workers: usize,
    command: WorkerCommand,
}

impl ProcessExecutor {
    /// An executor with `workers` processes started by `command`; they start when the run does.
    pub(crate) fn new(context: RunContext, workers: usize, command: WorkerCommand) -> Self {
        ProcessExecutor {
            context,
            workers: workers.max(1),
            command,
        }
    }
}

/// A task sent to a worker and not yet answered.
struct InFlight {
    dispatch: u64,
    task: Task,
}

/// Why the host is stopping a worker.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StopReason {
    Timeout,
    Cancel,
    /// Its pipe broke, or it broke the protocol (the slot's `broken` says how).
    Broken,
    /// It did not say hello within the start limit.
    Slow,
    /// It sent nothing, not even a heartbeat, for longer than the run allows.
    Lost,
    /// Its hello was refused (another protocol or plugin), on a node where others may differ;
    /// the slot's `broken` says why.
    Refused,
}

struct Stopping {
    reason: StopReason,
    since: Instant,
    killed: bool,
    /// The task it was running when the host decided to stop it (its dispatch id, and since
    /// when): the one a time limit or an interruption is blamed on.
    task: Option<(u64, Instant)>,
}

/// One worker place; its process is replaced when it dies.
struct Slot {
    client: WorkerClient,
    /// Whether it said hello (and so takes tasks).
    ready: bool,
    in_flight: VecDeque<InFlight>,
    /// When the oldest task in flight started running (or was sent, if the worker was idle).
    running_since: Instant,
    stopping: Option<Stopping>,
    /// How it broke the protocol, when it did.
    broken: Option<String>,
    unflushed: bool,
    /// The node its hello named.
    node: Option<String>,
}

impl Slot {
    fn new(client: WorkerClient) -> Self {
        Slot {
            client,
            ready: false,
            in_flight: VecDeque::new(),
            running_since: Instant::now(),
            stopping: None,
            broken: None,
            unflushed: false,
            node: None,
        }
    }

    fn stop(&mut self, reason: StopReason) {
        let task = self.running_task();
        self.stop_running(reason, task);
    }

    /// [`stop`](Self::stop), blaming `task` (as read when the host decided).
    fn stop_running(&mut self, reason: StopReason, task: Option<(u64, Instant)>) {
        if self.stopping.is_none() && self.client.is_alive() {
            self.client.signal(libc::SIGTERM);
            self.stopping = Some(Stopping {
                reason,
                since: Instant::now(),
                killed: false,
                task,
            });
        }
    }

    /// The task the worker is running (its dispatch id) and since when. A worker that notes its
    /// running task in the page it shares with the host says so there (`None` between tasks: it
    /// may have finished several whose answers are still on their way). One without the page
    /// sends every answer before its next task runs, so its running task is the oldest one
    /// unanswered.
    fn running_task(&self) -> Option<(u64, Instant)> {
        if self.client.has_running_slot() {
            self.client.running_task()
        } else {
            self.in_flight
                .front()
                .map(|flight| (flight.dispatch, self.running_since))
        }
    }

    /// When the running task's time started, for its limit; `None` without tasks in flight. A
    /// worker between tasks (with more in flight) starts its next one from now on at the
    /// earliest.
    fn limit_since(&self) -> Option<Instant> {
        if self.in_flight.is_empty() {
            return None;
        }
        Some(
            self.running_task()
                .map_or_else(Instant::now, |(_, since)| since),
        )
    }
}

/// The state of one run in process mode.
struct Pool<'a> {
    context: &'a RunContext,
    command: &'a WorkerCommand,
    /// The plugin file as the workers get it.
    source: PluginSource,
    /// Where each task's frame is made (kept: a frame per task allocates nothing).
    frame_body: Vec<u8>,
    slots: Vec<Slot>,
    events: Sender<WorkerEvent>,
    next_dispatch: u64,
    /// Average task duration (exponentially weighted), for the window.
    average: Duration,
    failed_starts: usize,
    /// Failed starts in a row on each node (a hello from the node clears its count).
    failed_on_node: HashMap<String, usize>,
    /// Nodes left out of this run's next starts, and the command that leaves them out.
    excluded: BTreeSet<String>,
    excluding: Option<WorkerCommand>,
    /// Workers that crashed since a task last finished.
    crashes_in_a_row: usize,
    /// Whether a worker has said hello: until one has, a worker's failure ends the run.
    started: bool,
    /// Whether the run is over and the pool only waits for its workers to exit.
    closing: bool,
}

impl Executor for ProcessExecutor {
    fn execute(
        &mut self,
        tasks: &mut dyn TaskFeed,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        let (sender, receiver) = unbounded();
        let mut pool = Pool {
            context: &self.context,
            command: &self.command,
            source: PluginSource::open(self.context.plugin.info(), self.command.has_launcher()),
            frame_body: Vec::new(),
            slots: Vec::with_capacity(self.workers),
            events: sender,
            next_dispatch: 0,
            average: Duration::ZERO,
            failed_starts: 0,
            failed_on_node: HashMap::new(),
            excluded: BTreeSet::new(),
            excluding: None,
            crashes_in_a_row: 0,
            started: false,
            closing: false,
        };
        let mut pending = Pending::new(tasks);
        let outcome = pool.run(self.workers, &mut pending, &receiver, outbox);
        let stop = match &outcome {
            Ok(stop) => stop.clone(),
            Err(error) => Some(Stop::Failed(error.to_string())),
        };
        pool.shut_down(stop.as_ref(), &receiver, &mut pending, outbox);
        outcome.map(|_| ())
    }
}

impl Pool<'_> {
    /// Starts the workers and runs the tasks; `Some(stop)` when the run was interrupted.
    fn run(
        &mut self,
        workers: usize,
        pending: &mut Pending<'_>,
        receiver: &Receiver<WorkerEvent>,
        outbox: &mut Outbox<'_>,
    ) -> Result<Option<Stop>, RunError> {
        ending::raise_file_limit(workers);
        // A first wave of one worker per core: more at once would only compete for the cores
        // with the first worker's start. The rest start once the first tasks are out. Through a
        // launcher, every worker starts at once: a scheduler's latency, not this machine's
        // cores, is what a start waits for.
        let first_wave = if self.command.has_launcher() {
            workers
        } else {
            workers.min(cores()).max(1)
        };
        for slot in 0..first_wave {
            let fresh = self.spawn(slot, 0)?;
            self.slots.push(fresh);
        }
        loop {
            if let Some(stop) = self.context.stop_requested() {
                return Ok(Some(stop));
            }
            if self.started {
                self.dispatch(pending, outbox);
                // The rest of the workers start once the first have their tasks, and only if
                // tasks wait for them (one task that `split` left whole needs one worker).
                while self.slots.len() < workers && pending.has_waiting() {
                    let fresh = self.spawn(self.slots.len(), 0)?;
                    self.slots.push(fresh);
                }
                if pending.is_exhausted() && self.slots.iter().all(|slot| slot.in_flight.is_empty())
                {
                    return Ok(None);
                }
            }
            outbox.idle();
            let wait = wait_time(self.next_deadline());
            // Input is read only once a worker can take it.
            let input = if self.started {
                pending.input_readiness()
            } else {
                None
            };
            if wait_ready(&[receiver], input, wait).is_some() {
                while let Ok(event) = receiver.try_recv() {
                    self.handle(event, pending, outbox)?;
                }
            }
            self.enforce_deadlines()?;
        }
    }

    fn spawn(&self, slot: usize, generation: u64) -> Result<Slot, RunError> {
        let mut start = self.source.start(&self.context.config);
        start.heartbeat = self.context.limits.lost_after.map(heartbeat_for);
        start.pause_after_error = self.context.limits.max_fail.is_some();
        let command = self.excluding.as_ref().unwrap_or(self.command);
        let client = WorkerClient::spawn(command, slot, generation, &start, &self.events)?;
        Ok(Slot::new(client))
    }

    /// The node the worker in `index` was on when it failed to start, when known: the one its
    /// hello named, else the one `srun`'s error line names.
    fn failed_start_node(&self, index: usize) -> Option<String> {
        let slot = self.slots.get(index)?;
        slot.node.clone().or_else(|| {
            if !self.command.has_launcher() {
                return None;
            }
            slot.client
                .recent()
                .find_map(super::launcher::failed_node)
                .map(str::to_owned)
        })
    }

    /// How many workers other than the one in `index` are alive (starting or running).
    fn alive_besides(&self, index: usize) -> usize {
        self.slots
            .iter()
            .enumerate()
            .filter(|(other, slot)| *other != index && slot.client.is_alive())
            .count()
    }

    /// A worker that could not start: through a launcher, the launcher's failure.
    fn start_failed(&self, worker: usize, reason: String) -> RunError {
        self.start_failed_with(worker, reason, CHECK_LAUNCHER)
    }

    /// [`start_failed`](Self::start_failed) with the advice for people.
    fn start_failed_with(&self, worker: usize, reason: String, advice: &'static str) -> RunError {
        match self.command.launcher().first() {
            Some(launcher) => RunError::Launcher {
                worker,
                launcher: launcher.to_string_lossy().into_owned(),
                reason,
                advice,
            },
            None => RunError::WorkerFailed { worker, reason },
        }
    }

    /// Handles one thing a worker said or one news of it: the one place where a worker's
    /// messages are read, at every stage of the run.
    fn handle(
        &mut self,
        event: WorkerEvent,
        pending: &mut Pending<'_>,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        let index = event.slot;
        // A start that failed on a known node while other workers start is that node's, not
        // the run's: see `bury`.
        let node_failure = matches!(event.message, Message::Exited(_))
            && !self.started
            && self.failed_start_node(index).is_some()
            && self.alive_besides(index) > 0;
        let Some(slot) = self.slots.get_mut(index) else {
            return Ok(());
        };
        if slot.client.generation() != event.generation {
            // A late word from a worker that was already replaced.
            if let Message::Output(line) = event.message {
                outbox.output(index, line);
            }
            return Ok(());
        }
        let ready = slot.ready;
        match event.message {
            Message::Output(line) => {
                slot.client.heard(&line);
                outbox.output(index, line);
            }
            Message::Exited(_) if self.closing => slot.client.exited(),
            Message::Exited(status) if !self.started && !node_failure => {
                slot.client.exited();
                let said = slot.client.said();
                return Err(self.start_failed(
                    index,
                    format!(
                        "it died before the handshake ({}){said}",
                        describe_exit(status)
                    ),
                ));
            }
            Message::Exited(status) => self.bury(index, status, pending, outbox)?,
            // Once the run is over, what a worker says no longer matters.
            _ if self.closing => {}
            Message::Shipped(stdin) => {
                if !slot.client.shipped(stdin) {
                    slot.stop(StopReason::Broken);
                }
            }
            Message::ProtocolError(reason) if !self.started => {
                return Err(self.start_failed(index, reason));
            }
            Message::ProtocolError(reason) => self.broke_protocol(index, reason, outbox),
            Message::Hello(hello) if !ready => self.greet(index, hello, outbox)?,
            Message::NeedPlugin(reason) if !ready => self.ship(index, &reason, outbox)?,
            Message::Fatal { stage, error } if !ready => {
                return Err(if slot.client.generation() == 0 {
                    fatal_error(index, stage, error)
                } else {
                    RunError::Replacement {
                        worker: index,
                        reason: error,
                    }
                });
            }
            Message::Done(_) if !ready => {
                self.broke_protocol(index, "it answered before its hello".to_owned(), outbox);
            }
            Message::Done(batch) => {
                // One clock read for the batch's events.
                outbox.freeze();
                for done in batch {
                    self.finish(index, done, outbox);
                }
                outbox.thaw();
            }
            Message::Hello(_) => {
                self.broke_protocol(index, "it said hello a second time".to_owned(), outbox);
            }
            Message::NeedPlugin(_) => self.broke_protocol(
                index,
                "it asked for the plugin after loading it".to_owned(),
                outbox,
            ),
            Message::Fatal { error, .. } => self.broke_protocol(
                index,
                format!("it sent a fatal error after its hello ({error})"),
                outbox,
            ),
        }
        Ok(())
    }

    /// A worker said something the protocol does not allow: it is stopped (its running task
    /// crashed, the tasks behind it go to others) and replaced; nothing else it says counts.
    fn broke_protocol(&mut self, index: usize, reason: String, outbox: &mut Outbox<'_>) {
        outbox.output(index, format!("protocol error: {reason}"));
        let slot = &mut self.slots[index];
        slot.broken.get_or_insert(reason);
        slot.stop(StopReason::Broken);
    }

    /// Sends the plugin's bytes to a worker that asked for them: the very file the host loaded
    /// (a file changed since is refused, not sent).
    fn ship(
        &mut self,
        index: usize,
        reason: &str,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        let (bytes, sha256) = self.source.bytes()?;
        outbox.output(
            index,
            format!(
                "{reason}: the host sends the plugin ({} bytes)",
                bytes.len()
            ),
        );
        self.slots[index].client.ship(bytes, sha256, &self.events)
    }

    /// Takes a worker's hello (see [`check_hello`]): the worker is ready for tasks.
    fn greet(
        &mut self,
        index: usize,
        hello: Hello,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        let expected = Expected {
            plugin: self.context.plugin.info(),
            sha256: self.source.sha256_mut(),
        };
        if let Err(refused) = check_hello(index, &hello, expected) {
            // Through a launcher, a worker of another protocol or build on one node, while
            // other workers start or run, is a start that failed there (see `bury`).
            if !self.command.has_launcher() || self.alive_besides(index) == 0 {
                return Err(refused);
            }
            let reason = match refused {
                RunError::WorkerFailed { reason, .. } => reason,
                other => other.to_string(),
            };
            let slot = &mut self.slots[index];
            slot.node = Some(hello.node);
            slot.broken = Some(reason);
            slot.stop(StopReason::Refused);
            return Ok(());
        }
        self.slots[index].ready = true;
        self.slots[index].node = Some(hello.node.clone());
        self.started = true;
        self.failed_starts = 0;
        self.failed_on_node.remove(&hello.node);
        outbox.emit(EventKind::WorkerStarted {
            worker: index,
            pid: hello.pid,
            node: hello.node,
        });
        Ok(())
    }
}

/// How often a worker says it is alive when `lost_after` of silence makes it lost: five beats
/// fit in that time (a beat late by a busy machine is not a loss), at least every 50 ms and at
/// most every 5 s.
fn heartbeat_for(lost_after: Duration) -> Duration {
    (lost_after / 5).clamp(Duration::from_millis(50), Duration::from_secs(5))
}
