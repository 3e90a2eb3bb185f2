//! [`RemoteInstance`]: one plugin instance in a worker process of its own, called one method at a
//! time through a [`WorkerClient`]. An isolated run (`--isolate`, process mode) loads no plugin
//! code into the host, so its `split` and `merge` calls go to such a worker, over the same
//! protocol as the tasks, checked by the same hello.
//!
//! A call obeys the run's `--timeout` and stops at once on a signal or a reporter's stop; the
//! worker is then stopped. A worker that died (or was stopped) is started again for the next
//! call, so one crash costs one task.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, unbounded};
use serde_json::{
    Value,
    value::{RawValue, to_raw_value},
};

use super::{
    RunContext, RunError, Status, WorkerCommand,
    client::{Done, Expected, Message, WorkerClient, WorkerEvent, check_hello, fatal_error},
    outbox::{Stop, TICK},
    protocol::{ToWorker, write_frame},
    ship::PluginSource,
    sys::{describe_exit, human_duration},
};

/// How long a worker that was told to stop gets before it is killed.
const GRACE: Duration = Duration::from_millis(500);

/// Why a call gave no result: the task's status and the sentence for it.
#[derive(Debug)]
pub(crate) struct CallFailure {
    /// `error` when the plugin refused; `timeout`, `crashed` or `cancelled` when its worker did
    /// not answer.
    pub status: Status,
    /// What happened.
    pub message: String,
    /// Set when the run was stopped during the call.
    pub stop: Option<Stop>,
}

impl CallFailure {
    fn new(status: Status, message: String) -> Self {
        CallFailure {
            status,
            message,
            stop: None,
        }
    }
}

/// Why no message came.
enum Silence {
    /// The deadline passed.
    TimedOut,
    /// The run is stopping.
    Stopped(Stop),
}

/// Writes a line the split/merge worker (or the plugin in it) printed to the host's stderr,
/// marked as that worker's and escaped like every worker's output, so it stays on its line and
/// cannot drive the terminal. A stderr that cannot be written drops the line.
fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr().lock(),
        "[split worker] {}",
        crate::safe::Safe(line)
    );
}

/// A plugin instance living in a worker process.
pub(crate) struct RemoteInstance {
    context: RunContext,
    command: WorkerCommand,
    source: PluginSource,
    events: Sender<WorkerEvent>,
    receiver: Receiver<WorkerEvent>,
    /// The worker; `None` after it died or was stopped, until the next call starts another.
    client: Option<WorkerClient>,
    generation: u64,
    next_id: u64,
}

impl RemoteInstance {
    /// Starts a worker with `command` (on this machine: split and merge need no launcher) and
    /// waits, up to the start limit, for its hello.
    pub(crate) fn start(context: &RunContext, command: &WorkerCommand) -> Result<Self, RunError> {
        let (events, receiver) = unbounded();
        let mut remote = RemoteInstance {
            context: context.clone(),
            command: command.local(),
            source: PluginSource::open(context.plugin.info(), false),
            events,
            receiver,
            client: None,
            generation: 0,
            next_id: 0,
        };
        remote.connect()?;
        Ok(remote)
    }

    /// Starts the worker and takes its hello.
    fn connect(&mut self) -> Result<(), RunError> {
        let failed = RunError::Splitter;
        let generation = self.generation;
        self.generation += 1;
        let client = WorkerClient::spawn(
            &self.command,
            0,
            generation,
            &self.source.start(&self.context.config),
            &self.events,
        )
        .map_err(|error| failed(error.to_string()))?;
        self.client = Some(client);
        let deadline = Instant::now() + self.context.limits.start_timeout;
        loop {
            let message = match self.next_message(Some(deadline)) {
                Ok(message) => message,
                Err(Silence::TimedOut) => {
                    self.abandon();
                    return Err(failed(format!(
                        "it did not start within {}",
                        human_duration(self.context.limits.start_timeout)
                    )));
                }
                Err(Silence::Stopped(_)) => {
                    self.abandon();
                    return Err(failed("the run was stopped while it started".to_owned()));
                }
            };
            match message {
                Message::Hello(hello) => {
                    let expected = Expected {
                        plugin: self.context.plugin.info(),
                        sha256: self.source.sha256_mut(),
                    };
                    return check_hello(0, &hello, expected).map_err(|error| {
                        self.abandon();
                        failed(error.to_string())
                    });
                }
                Message::NeedPlugin(_) => {
                    let (bytes, sha256) = self.source.bytes()?;
                    if let Some(client) = &mut self.client {
                        client.ship(bytes, sha256, &self.events)?;
                    }
                }
                Message::Shipped(stdin) => {
                    if let Some(client) = &mut self.client {
                        client.shipped(stdin);
                    }
                }
                Message::Fatal { stage, error } => {
                    self.abandon();
                    return Err(match fatal_error(0, stage, error) {
                        RunError::WorkerFailed { reason, .. } => failed(reason),
                        other => other,
                    });
                }
                Message::Exited(status) => {
                    self.client = None;
                    return Err(failed(format!(
                        "it died before the handshake ({})",
                        describe_exit(status)
                    )));
                }
                Message::ProtocolError(reason) => {
                    self.abandon();
                    return Err(failed(reason));
                }
                Message::Done(_) => {
                    self.abandon();
                    return Err(failed("it answered before its hello".to_owned()));
                }
                Message::Output(line) => say(&line),
            }
        }
    }

    /// The current worker's next message: one from a worker already given up is skipped.
    fn next_message(&mut self, deadline: Option<Instant>) -> Result<Message, Silence> {
        loop {
            if let Some(stop) = self.context.stop_requested() {
                return Err(Silence::Stopped(stop));
            }
            let wait = deadline.map_or(TICK, |at| {
                at.saturating_duration_since(Instant::now()).min(TICK)
            });
            match self.receiver.recv_timeout(wait) {
                Ok(event) => {
                    let current = self.client.as_ref().map(WorkerClient::generation);
                    if current == Some(event.generation) {
                        return Ok(event.message);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if deadline.is_some_and(|at| Instant::now() >= at) {
                        return Err(Silence::TimedOut);
                    }
                }
                // This instance holds a sender itself: never disconnected.
                Err(RecvTimeoutError::Disconnected) => return Err(Silence::TimedOut),
            }
        }
    }

    /// Gives the worker up: it is killed (with whatever it started) and reaped by its client's
    /// thread; the next call starts another.
    fn abandon(&mut self) {
        if let Some(client) = self.client.take() {
            client.signal(libc::SIGKILL);
        }
    }

    /// Calls `method(input)` in the worker.
    pub(crate) fn call(&mut self, method: &str, input: &Value) -> Result<Value, CallFailure> {
        let crashed = |message: String| CallFailure::new(Status::Crashed, message);
        if self.client.is_none() {
            self.connect().map_err(|error| {
                let mut failure = crashed(format!(
                    "{method}: its worker could not start again: {error}"
                ));
                failure.stop = self.context.stop_requested();
                if failure.stop.is_some() {
                    failure.status = Status::Cancelled;
                }
                failure
            })?;
        }
        let id = self.next_id;
        self.next_id += 1;
        let input: Box<RawValue> = to_raw_value(input)
            .map_err(|error| CallFailure::new(Status::Error, format!("{method}: {error}")))?;
        let task = ToWorker::Task {
            id,
            method: Some(method.to_owned()),
            input,
        };
        let sent = match self.client.as_mut().and_then(WorkerClient::stdin) {
            Some(stdin) => write_frame(stdin, &task).and_then(|()| std::io::Write::flush(stdin)),
            None => Err(std::io::Error::other("it has no stdin")),
        };
        if let Err(error) = sent {
            self.abandon();
            return Err(crashed(format!(
                "{method} could not be sent to its worker: {error}"
            )));
        }
        let deadline = self
            .context
            .limits
            .timeout
            .and_then(|limit| Instant::now().checked_add(limit));
        loop {
            let message = match self.next_message(deadline) {
                Ok(message) => message,
                Err(Silence::TimedOut) => {
                    self.abandon();
                    let limit = self
                        .context
                        .limits
                        .timeout
                        .map_or_else(String::new, |limit| {
                            format!(" of {}", human_duration(limit))
                        });
                    return Err(CallFailure::new(
                        Status::Timeout,
                        format!("{method} ran past the time limit{limit}; its worker was stopped"),
                    ));
                }
                Err(Silence::Stopped(stop)) => {
                    self.abandon();
                    return Err(CallFailure {
                        status: Status::Cancelled,
                        message: format!("{method} was stopped with the run"),
                        stop: Some(stop),
                    });
                }
            };
            match message {
                Message::Done(batch) => return self.answer(method, id, batch),
                Message::Exited(status) => {
                    self.client = None;
                    return Err(crashed(format!(
                        "{method}: its worker died: {}",
                        describe_exit(status)
                    )));
                }
                Message::Output(line) => say(&line),
                Message::Shipped(_) => {}
                Message::ProtocolError(reason) => {
                    self.abandon();
                    return Err(crashed(format!(
                        "{method}: its worker broke the protocol ({reason}) and was stopped"
                    )));
                }
                Message::Hello(_) | Message::Fatal { .. } | Message::NeedPlugin(_) => {
                    self.abandon();
                    return Err(crashed(format!(
                        "{method}: its worker broke the protocol (a message out of turn) and was stopped"
                    )));
                }
            }
        }
    }

    /// The result of call `id` from the worker's answers, which must be that one alone.
    fn answer(&mut self, method: &str, id: u64, batch: Vec<Done>) -> Result<Value, CallFailure> {
        let mut batch = batch.into_iter();
        let (Some(done), None) = (batch.next(), batch.next()) else {
            self.abandon();
            return Err(CallFailure::new(
                Status::Crashed,
                format!("{method}: its worker answered what it was not asked and was stopped"),
            ));
        };
        if done.id != id {
            self.abandon();
            return Err(CallFailure::new(
                Status::Crashed,
                format!(
                    "{method}: its worker answered call {} instead of {id} and was stopped",
                    done.id
                ),
            ));
        }
        super::answer::read_done(done.ok, done.error, |raw| serde_json::from_str(raw.get()))
            .map_err(|error| CallFailure::new(Status::Error, format!("{method} failed: {error}")))
    }
}

impl Drop for RemoteInstance {
    fn drop(&mut self) {
        // Nothing is left for it to do: told to exit (its stdin closes), killed if it does not
        // within the grace, and reaped by its client's thread; never left running.
        let Some(mut client) = self.client.take() else {
            return;
        };
        client.close();
        let deadline = Instant::now() + GRACE;
        while let Ok(event) = self.receiver.recv_deadline(deadline) {
            if event.generation == client.generation()
                && matches!(event.message, Message::Exited(_))
            {
                return;
            }
        }
        client.signal(libc::SIGKILL);
    }
}
