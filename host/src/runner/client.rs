//! [`WorkerClient`]: the host's side of one worker process, whoever drives it. It starts the
//! process from a [`WorkerCommand`], runs the threads that read its answers, relay its stderr and
//! reap it, sends the start message, ships the plugin's bytes when the worker asks, and signals
//! or stops it. Everything the worker says arrives on one channel as a [`WorkerEvent`], tagged
//! with the worker's slot and generation, in the order it was said, its exit last.
//!
//! The client knows the protocol and the process, not the run: which task goes where, when a
//! worker is replaced and what a death means for its tasks is the driver's (the pool of
//! `process.rs`, or the one instance of `remote.rs` for `split` and `merge`). The one check of a
//! worker's hello ([`check_hello`]) and the one reading of a fatal stage ([`fatal_error`]) are
//! here too, so that every driver refuses the same workers in the same words.
//!
//! A new kind of worker (another program that speaks the protocol) is a new [`WorkerCommand`]:
//! the client starts whatever program the command names.

use std::{
    collections::VecDeque,
    io::{BufReader, BufWriter, Write},
    os::fd::AsRawFd,
    process::{ChildStdin, ExitStatus},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use crossbeam_channel::Sender;
use serde_json::value::RawValue;

use super::{
    RunError, WorkerCommand,
    protocol::{
        FatalStage, FromWorker, Hello, PLUGIN_CHUNK, PROTOCOL_VERSION, SlotOffer, ToWorker,
        read_frame, write_frame, write_raw_frame,
    },
    running_slot::RunningSlot,
    sys::for_each_line,
};
use crate::plugin::PluginInfo;

/// How long a dead worker's pipes may stay open (held by a process it started that left its
/// process group) before it counts as gone all the same.
const PIPE_LINGER: Duration = Duration::from_millis(500);
/// The stderr lines kept per worker, for the reason when it fails (a launcher's message).
const RECENT_LINES: usize = 4;

/// What a process writes on stderr when an allocation failed and it is about to end: Rust's
/// `handle_alloc_error`, Python's `MemoryError`, C++'s uncaught `std::bad_alloc`, glibc and Go.
const OUT_OF_MEMORY: [&str; 5] = [
    "memory allocation of ",
    "MemoryError",
    "std::bad_alloc",
    "Cannot allocate memory",
    "out of memory",
];
/// Answers delivered in one message at most, so that a fast worker's flood still reaches the
/// driver in pieces it can interleave with the others.
const MAX_BATCH: usize = 1024;

/// What a worker said, or what became of it.
pub(crate) enum Message {
    /// Its first answer: what it loaded.
    Hello(Hello),
    /// It could not get past `stage`.
    Fatal { stage: FatalStage, error: String },
    /// It asks for the plugin's bytes, saying why.
    NeedPlugin(String),
    /// The plugin was sent to it (its stdin comes back to the client), or could not be (`None`).
    Shipped(Option<BufWriter<ChildStdin>>),
    /// Answers to tasks, in the order they were given.
    Done(Vec<Done>),
    /// A line on its stderr.
    Output(String),
    /// It sent something that is not the protocol; nothing more is read from it.
    ProtocolError(String),
    /// The process ended (always the last message of a worker).
    Exited(ExitStatus),
}

/// A worker's answer to one task.
pub(crate) struct Done {
    /// The id the task was sent with.
    pub id: u64,
    /// Its result, as the plugin returned it.
    pub ok: Option<Box<RawValue>>,
    /// Or its error.
    pub error: Option<String>,
    /// How long the call took in the worker.
    pub nanos: u64,
}

/// A [`Message`] with the worker slot and process generation it came from.
pub(crate) struct WorkerEvent {
    pub slot: usize,
    pub generation: u64,
    pub message: Message,
}

/// What the client sends a worker first.
pub(crate) struct Start<'a> {
    /// The plugin's path on the host.
    pub plugin: &'a std::path::Path,
    /// Its hash, when the host has it.
    pub sha256: Option<String>,
    /// Its identity on this machine.
    pub stamp: Option<super::protocol::FileStamp>,
    /// The instance's configuration, a JSON object as text.
    pub config: &'a str,
    /// How often the worker says it is alive once started; `None`: never.
    pub heartbeat: Option<Duration>,
    /// Whether, after an error, the worker waits for the host's leave to go on (see
    /// [`WorkerClient::give_leave`]).
    pub pause_after_error: bool,
}

/// One worker process and the host's ends of its pipes.
pub(crate) struct WorkerClient {
    slot: usize,
    generation: u64,
    pid: u32,
    /// Its stdin; `None` while the plugin is being shipped (a thread has it) or once closed.
    stdin: Option<BufWriter<ChildStdin>>,
    /// Whether the process has not been reaped yet (signals are only sent while it has not).
    alive: bool,
    spawned: Instant,
    /// When it last sent a frame, in milliseconds after `spawned` (kept by its reader thread).
    heard: Arc<AtomicU64>,
    /// Its last lines on stderr.
    recent: VecDeque<String>,
    /// The last line it wrote on stderr that says an allocation failed.
    out_of_memory: Option<String>,
    /// The page where it notes its running task, for a worker on this machine.
    running: Option<RunningSlot>,
}

/// A token for the running-task page of `slot`'s `generation`th worker: what tells the page apart
/// from any other descriptor the worker might find under the same number.
fn slot_token(slot: usize, generation: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64);
    let mixed = nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ (slot as u64).rotate_left(17)
        ^ generation.rotate_left(41);
    // Never 0: a page starts zeroed.
    mixed | 1
}

impl WorkerClient {
    /// Starts a worker with `command` as `slot`'s `generation`th process and sends it `start`.
    /// What it says goes to `events`.
    pub(crate) fn spawn(
        command: &WorkerCommand,
        slot: usize,
        generation: u64,
        start: &Start<'_>,
        events: &Sender<WorkerEvent>,
    ) -> Result<Self, RunError> {
        // A worker on this machine notes its running task in a page shared with the host (it
        // inherits the descriptor, dropped here once it has started).
        let shared = if command.has_launcher() {
            None
        } else {
            let token = slot_token(slot, generation);
            RunningSlot::create(token)
                .ok()
                .map(|(page, fd)| (page, fd, token))
        };
        let mut child =
            command
                .command()
                .spawn()
                .map_err(|source| match command.launcher().first() {
                    Some(launcher) => RunError::LauncherMissing {
                        launcher: launcher.to_string_lossy().into_owned(),
                        source,
                    },
                    None => RunError::Spawn {
                        worker: slot,
                        program: command.display(),
                        source,
                    },
                })?;
        let pid = child.id();
        super::orphans::own(pid);
        let (running, offer) = match shared {
            Some((page, fd, token)) => (
                Some(page),
                Some(SlotOffer {
                    fd: fd.as_raw_fd(),
                    token,
                }),
            ),
            None => (None, None),
        };
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(RunError::WorkerFailed {
                worker: slot,
                reason: "its pipes could not be set up".to_owned(),
            });
        };
        let send = {
            let events = events.clone();
            move |message| {
                let _ = events.send(WorkerEvent {
                    slot,
                    generation,
                    message,
                });
            }
        };
        let spawn_failed = |source| RunError::Spawn {
            worker: slot,
            program: "a reader thread".to_owned(),
            source,
        };
        let mut readers = Vec::with_capacity(2);
        if let Some(pipe) = child.stderr.take() {
            let send_output = send.clone();
            readers.push(
                thread::Builder::new()
                    .name(format!("quack-stderr-{slot}"))
                    .spawn(move || {
                        for_each_line(pipe, |line| send_output(Message::Output(line.to_owned())));
                    })
                    .map_err(spawn_failed)?,
            );
        }
        let send_answers = send.clone();
        let spawned = Instant::now();
        let heard = Arc::new(AtomicU64::new(0));
        let heard_by_reader = Arc::clone(&heard);
        readers.push(
            thread::Builder::new()
                .name(format!("quack-results-{slot}"))
                .spawn(move || {
                    read_answers(stdout, &send_answers, || {
                        let since =
                            u64::try_from(spawned.elapsed().as_millis()).unwrap_or(u64::MAX);
                        heard_by_reader.store(since, Ordering::Relaxed);
                    });
                })
                .map_err(spawn_failed)?,
        );
        thread::Builder::new()
            .name(format!("quack-reaper-{slot}"))
            .spawn(move || {
                // A worker is dead when its process is reaped, whoever still holds its pipes.
                let status = child.wait();
                super::orphans::disown(pid);
                // What it started goes with it (it leads its own process group)...
                // SAFETY: kill has no memory effects; the group is the worker's own.
                unsafe { libc::kill(-(pid as libc::pid_t), libc::SIGKILL) };
                // ...and its last words and answers come before the news of its death, unless a
                // process that left its group keeps the pipes open: then not for long.
                let deadline = Instant::now() + PIPE_LINGER;
                for reader in readers {
                    while !reader.is_finished() && Instant::now() < deadline {
                        thread::sleep(Duration::from_millis(1));
                    }
                }
                if let Ok(status) = status {
                    send(Message::Exited(status));
                }
            })
            .map_err(spawn_failed)?;
        let mut stdin = BufWriter::with_capacity(1 << 16, stdin);
        let start = ToWorker::Start {
            protocol: PROTOCOL_VERSION,
            worker: slot,
            plugin: start.plugin.to_path_buf(),
            sha256: start.sha256.clone(),
            stamp: start.stamp,
            config: start.config.to_owned(),
            heartbeat_ms: start.heartbeat.map_or(0, |every| {
                u64::try_from(every.as_millis()).unwrap_or(u64::MAX).max(1)
            }),
            running_slot: offer,
            pause_after_error: start.pause_after_error,
        };
        // A worker that died at once shows as its exit; the frame is lost with it.
        let _ = write_frame(&mut stdin, &start).and_then(|()| stdin.flush());
        Ok(WorkerClient {
            slot,
            generation,
            pid,
            stdin: Some(stdin),
            alive: true,
            spawned,
            heard,
            recent: VecDeque::new(),
            out_of_memory: None,
            running,
        })
    }

    /// The task the worker is running and since when, read from the page it shares with the
    /// host; `None` between tasks, and for a worker without such a page (see
    /// [`has_running_slot`](Self::has_running_slot)).
    pub(crate) fn running_task(&self) -> Option<(u64, Instant)> {
        self.running.as_ref().and_then(RunningSlot::running)
    }

    /// Lets a worker that paused after answering a task with an error go on.
    pub(crate) fn give_leave(&self) {
        if let Some(page) = &self.running {
            page.give_leave();
        }
    }

    /// Whether the worker notes its running task in a page the host reads: then it sends its
    /// answers in batches, and the oldest unanswered task is not necessarily the one running.
    pub(crate) fn has_running_slot(&self) -> bool {
        self.running.is_some()
    }

    /// Which process of its slot this is (0 for the first, one more per replacement).
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// When the process was started.
    pub(crate) fn spawned(&self) -> Instant {
        self.spawned
    }

    /// When the worker last sent a frame (an answer, its hello or a heartbeat); its start when
    /// it has sent none.
    pub(crate) fn last_heard(&self) -> Instant {
        self.spawned + Duration::from_millis(self.heard.load(Ordering::Relaxed))
    }

    /// Whether the process has not been reaped yet.
    pub(crate) fn is_alive(&self) -> bool {
        self.alive
    }

    /// Notes that the process was reaped: it gets no signal and no frame any more.
    pub(crate) fn exited(&mut self) {
        self.alive = false;
        self.stdin = None;
    }

    /// Its stdin, to write task frames on; `None` while the plugin is shipped or once closed.
    pub(crate) fn stdin(&mut self) -> Option<&mut BufWriter<ChildStdin>> {
        self.stdin.as_mut()
    }

    /// Closes its stdin: a worker exits once it has answered what it was given.
    pub(crate) fn close(&mut self) {
        self.stdin = None;
    }

    /// Sends `signal` to the worker's whole process group (it leads one of its own), so that
    /// the processes a task started go with it.
    pub(crate) fn signal(&self, signal: i32) {
        if self.alive {
            // SAFETY: kill has no memory effects; the pid is our own child, not yet reaped
            // (`alive` turns false when its reaper thread reports the exit), and the leader of
            // its own process group.
            unsafe { libc::kill(-(self.pid as libc::pid_t), signal) };
        }
    }

    /// Keeps a line it wrote on stderr, for [`said`](Self::said) (and for
    /// [`out_of_memory`](Self::out_of_memory) when it says an allocation failed).
    pub(crate) fn heard(&mut self, line: &str) {
        if OUT_OF_MEMORY.iter().any(|marker| line.contains(marker)) {
            self.out_of_memory = Some(line.trim().to_owned());
        }
        if self.recent.len() == RECENT_LINES {
            self.recent.pop_front();
        }
        self.recent.push_back(line.to_owned());
    }

    /// The last line it wrote that says an allocation failed, if it wrote one.
    pub(crate) fn out_of_memory(&self) -> Option<&str> {
        self.out_of_memory.as_deref()
    }

    /// Its last stderr lines (through a launcher, the launcher's own among them).
    pub(crate) fn recent(&self) -> impl Iterator<Item = &str> {
        self.recent.iter().map(String::as_str)
    }

    /// Its last stderr lines, as the end of a reason: `, saying: ...`; nothing if it said
    /// nothing.
    pub(crate) fn said(&self) -> String {
        if self.recent.is_empty() {
            return String::new();
        }
        let lines: Vec<&str> = self.recent.iter().map(String::as_str).collect();
        format!(", saying: {}", lines.join(" / "))
    }

    /// Sends it the plugin's `bytes` (with hash `sha256`) from a thread of its own, so that the
    /// driver goes on with the other workers (and their deadlines) and many workers get the
    /// plugin at once. The stdin comes back with [`Message::Shipped`]; until then nothing else
    /// can be written to the worker (and a worker that has not said hello gets no tasks).
    pub(crate) fn ship(
        &mut self,
        bytes: Arc<Vec<u8>>,
        sha256: String,
        events: &Sender<WorkerEvent>,
    ) -> Result<(), RunError> {
        let Some(mut stdin) = self.stdin.take() else {
            return Ok(());
        };
        let events = events.clone();
        let (slot, generation) = (self.slot, self.generation);
        thread::Builder::new()
            .name(format!("quack-ship-{slot}"))
            .spawn(move || {
                let size = bytes.len() as u64;
                let sent = write_frame(&mut stdin, &ToWorker::Plugin { size, sha256 })
                    .and_then(|()| {
                        bytes
                            .chunks(PLUGIN_CHUNK)
                            .try_for_each(|chunk| write_raw_frame(&mut stdin, chunk))
                    })
                    .and_then(|()| stdin.flush());
                let _ = events.send(WorkerEvent {
                    slot,
                    generation,
                    message: Message::Shipped(sent.is_ok().then_some(stdin)),
                });
            })
            .map(|_| ())
            .map_err(|source| RunError::Spawn {
                worker: slot,
                program: "a thread to send the plugin".to_owned(),
                source,
            })
    }

    /// Takes back its stdin after [`ship`](Self::ship); `false` if the plugin could not be sent
    /// (the worker is gone or going, and its exit will say how).
    pub(crate) fn shipped(&mut self, stdin: Option<BufWriter<ChildStdin>>) -> bool {
        match stdin {
            Some(stdin) if self.alive => {
                self.stdin = Some(stdin);
                true
            }
            _ => false,
        }
    }
}

/// What the host expects a worker to have loaded.
pub(crate) struct Expected<'a> {
    /// The plugin the host described.
    pub plugin: &'a PluginInfo,
    /// The plugin file's hash, when the host has it (asked for with `hash` otherwise).
    pub sha256: &'a mut Option<String>,
}

/// Takes `worker`'s hello: it must speak this protocol and have loaded the very plugin the host
/// loaded: the same name and version, and when it checked a hash, the host's.
pub(crate) fn check_hello(
    worker: usize,
    hello: &Hello,
    expected: Expected<'_>,
) -> Result<(), RunError> {
    if hello.protocol != PROTOCOL_VERSION {
        return Err(RunError::WorkerFailed {
            worker,
            reason: format!(
                "it speaks worker protocol {}, this host {PROTOCOL_VERSION}; use the same version of host on both sides",
                hello.protocol
            ),
        });
    }
    let description = &expected.plugin.description;
    // A worker that loaded the very file the host stamped has no hash to tell; one that checked
    // a hash tells it, and it must be the host's (hashed now if it was not yet).
    let hashes = hello.sha256.as_ref().map(|theirs| {
        let ours = expected
            .sha256
            .get_or_insert_with(|| expected.plugin.content().sha256.clone());
        (theirs.clone(), ours.clone())
    });
    let identity = |name: &str, version: &str, hash: Option<&String>| match hash {
        Some(hash) => format!("{name} {version} (sha256 {hash})"),
        None => format!("{name} {version}"),
    };
    let theirs = identity(
        &hello.name,
        &hello.version,
        hashes.as_ref().map(|(theirs, _)| theirs),
    );
    let ours = identity(
        &description.name,
        &description.version,
        hashes.as_ref().map(|(_, ours)| ours),
    );
    if theirs != ours {
        return Err(RunError::WrongPlugin {
            worker,
            node: hello.node.clone(),
            theirs,
            ours,
        });
    }
    Ok(())
}

/// The run's error for a worker that could not get past `stage`: the plugin's own refusal (its
/// configuration or constructor) is the same error as in every other mode.
pub(crate) fn fatal_error(worker: usize, stage: FatalStage, error: String) -> RunError {
    use quack_core::{ErrorKind, PluginError};
    match stage {
        FatalStage::Config => RunError::Instance(PluginError::new(ErrorKind::InvalidInput, error)),
        FatalStage::Instance => RunError::Instance(PluginError::new(ErrorKind::Failed, error)),
        FatalStage::Start | FatalStage::Load => RunError::WorkerFailed {
            worker,
            reason: error,
        },
    }
}

/// Reads a worker's frames until its stdout closes. Answers go in batches: every frame already
/// buffered goes in one message, so a busy driver wakes once per batch, not per task.
fn read_answers(stdout: impl std::io::Read, send: &impl Fn(Message), heard: impl Fn()) {
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut frame = Vec::new();
    let mut batch = Vec::new();
    loop {
        match read_frame(&mut reader, &mut frame) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                send(Message::ProtocolError(format!("unreadable frame: {error}")));
                break;
            }
        }
        heard();
        let message = match serde_json::from_slice::<FromWorker>(&frame) {
            Ok(FromWorker::Done {
                id,
                ok,
                error,
                nanos,
            }) => {
                batch.push(Done {
                    id,
                    ok,
                    error,
                    nanos,
                });
                None
            }
            Ok(FromWorker::Hello(hello)) => Some(Message::Hello(hello)),
            Ok(FromWorker::Alive) => None,
            Ok(FromWorker::Fatal { stage, error }) => Some(Message::Fatal { stage, error }),
            Ok(FromWorker::NeedPlugin { reason }) => Some(Message::NeedPlugin(reason)),
            Err(error) => Some(Message::ProtocolError(format!(
                "a message that is not the protocol's: {error}"
            ))),
        };
        // Answers before what came after them: the order is the worker's.
        if !batch.is_empty()
            && (message.is_some() || reader.buffer().is_empty() || batch.len() >= MAX_BATCH)
        {
            send(Message::Done(std::mem::take(&mut batch)));
        }
        if let Some(message) = message {
            let last = matches!(message, Message::ProtocolError(_));
            send(message);
            if last {
                break;
            }
        }
    }
    if !batch.is_empty() {
        send(Message::Done(batch));
    }
}
