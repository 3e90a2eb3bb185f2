//! [`Running`]: one started program and its two protocol pipes. It is started with its requests
//! on descriptor 3 and its answers on descriptor 4, stdin from `/dev/null`, stdout and stderr
//! the host's (a worker's point at its stderr; in the host's own process both go to its stdout,
//! a relay of escaped `[plugin NAME]` lines while a plugin is loaded), no signal blocked, `PR_SET_PDEATHSIG` so it never
//! outlives the process that started it, and, outside a worker, a process group of its own (a
//! Ctrl-C in the terminal reaches the host only, which stops its programs itself).

use std::{
    ffi::OsString,
    fs::File,
    io::Write,
    os::{
        fd::{FromRawFd, OwnedFd, RawFd},
        unix::process::CommandExt,
    },
    path::PathBuf,
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex, OnceLock, PoisonError},
    thread::ThreadId,
    time::{Duration, Instant},
};

use quack_core::{Description, PluginError};

use super::{
    Program, ProgramError, in_worker,
    wire::{self, Answer, Lines, NoLine, PROTOCOL_MAJOR},
};
use crate::{
    interfaces::Signature,
    runner::{orphans, sys::describe_exit, sys::human_duration},
};

/// How long a program has to end once its requests are closed, before it is killed.
const STOP_GRACE: Duration = Duration::from_millis(500);

/// How long a program whose answers closed has to end, before it is taken to have only closed
/// its descriptor 4.
const END_WAIT: Duration = Duration::from_secs(1);

/// What a program says when it starts: its protocol version (major, minor), its description and
/// its methods.
pub type Introduction = ((u64, u64), Description, Vec<Signature>);

/// How a call went wrong for the program as a whole (not an error the program answered).
#[derive(Debug)]
pub enum CallFailure {
    /// The program ended.
    Ended(ExitStatus),
    /// It answered something that is not the protocol, or closed its answers and lives on.
    Protocol(String),
}

/// One started program.
#[derive(Debug)]
pub struct Running {
    child: Child,
    /// Its descriptor 3, which the host writes requests on.
    requests: Option<File>,
    /// Its descriptor 4, which the host reads answers from.
    answers: Lines,
    /// Whether it leads a process group of its own (outside a worker).
    own_group: bool,
    /// The next call's id.
    next_id: u64,
    /// The request being written.
    line: String,
}

impl Running {
    /// Starts `program`.
    pub fn start(program: &Arc<Program>) -> Result<Running, ProgramError> {
        let spawn_failed = |reason: String| ProgramError::Spawn {
            interpreter: program.interpreter_display(),
            reason,
        };
        let (requests_read, requests_write) = pipe().map_err(|e| spawn_failed(e.to_string()))?;
        let (answers_read, answers_write) = pipe().map_err(|e| spawn_failed(e.to_string()))?;
        let sandbox = crate::sandbox::for_children();
        let interpreter = match sandbox {
            Some(_) => program.sandboxed_interpreter(),
            None => program.interpreter.clone(),
        };
        let mut words = interpreter.iter();
        let Some(first) = words.next() else {
            return Err(spawn_failed("no interpreter".to_owned()));
        };
        let mut command = Command::new(first);
        command
            .args(words)
            .arg(&program.path)
            .env(
                "QUACK_PROTOCOL",
                format!("{PROTOCOL_MAJOR}.{}", wire::PROTOCOL_MINOR),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(stderr_for_program());
        if let Some(path) = python_path() {
            command.env("PYTHONPATH", path);
        }
        let own_group = !in_worker();
        let from_host = fd_of(&requests_read);
        let to_host = fd_of(&answers_write);
        if let Some(sandbox) = sandbox {
            command
                .current_dir(sandbox.scratch())
                .env("HOME", sandbox.scratch())
                .env("TMPDIR", sandbox.scratch());
        }
        // SAFETY: the closure runs in the child between fork and exec and calls only
        // async-signal-safe functions (fcntl, dup2, close, sigprocmask, setpgid, prctl) on
        // descriptors and a set it owns, then, in a sandbox, restricts the child: that opens
        // paths and allocates, which the C library allows in a forked child, and the process
        // that forks (a worker, a probe) never forks while another of its threads allocates.
        unsafe {
            command.pre_exec(move || {
                child_setup(from_host, to_host, own_group)?;
                match sandbox {
                    Some(sandbox) => sandbox.enter_here(),
                    None => Ok(()),
                }
            });
        }
        let child = command
            .spawn()
            .map_err(|error| spawn_failed(error.to_string()))?;
        orphans::own(child.id());
        drop((requests_read, answers_write));
        Ok(Running {
            child,
            requests: Some(File::from(requests_write)),
            answers: Lines::new(File::from(answers_read)),
            own_group,
            next_id: 0,
            line: String::new(),
        })
    }

    /// Says hello and asks for the description and the methods (three requests in one write),
    /// each answer due within `limit`.
    pub fn introduce(&mut self, limit: Duration) -> Result<Introduction, ProgramError> {
        let requests = [wire::hello(), wire::bare("describe"), wire::bare("methods")].concat();
        self.send(&requests, "hello")?;
        let version = self.expect("hello", "hello", limit, |answer| {
            match answer.protocol.as_deref() {
                Some([major, minor, ..]) => Ok((*major, *minor)),
                _ => Err("its hello has no protocol [major, minor]".to_owned()),
            }
        })?;
        if version.0 != PROTOCOL_MAJOR {
            self.kill();
            return Err(ProgramError::Version {
                theirs: format!("{}.{}", version.0, version.1),
            });
        }
        let description = self.expect("describe", "description", limit, |answer| {
            let raw = answer
                .description
                .ok_or_else(|| "its description answer has no \"description\"".to_owned())?;
            serde_json::from_str::<Description>(raw.get())
                .map_err(|error| format!("its description is not one: {error}"))
        })?;
        let methods = self.expect("methods", "methods", limit, |answer| {
            let methods = answer
                .methods
                .as_ref()
                .ok_or_else(|| "its methods answer has no \"methods\"".to_owned())?;
            Ok(methods
                .iter()
                .map(|method| Signature {
                    name: method.name.clone(),
                    params: method.params.clone(),
                    result: method.result.clone(),
                })
                .collect())
        })?;
        Ok((version, description, methods))
    }

    /// Makes the program's instance with `config` (a JSON object on one line).
    pub fn configure(&mut self, config: &str, limit: Duration) -> Result<(), ProgramError> {
        self.send(&wire::new(config), "new")?;
        self.expect("new", "ready", limit, |_| Ok(()))
    }

    /// Calls `method` with `input`: the program's result or error, or what went wrong with the
    /// program itself.
    pub fn call(
        &mut self,
        method: &str,
        input: &str,
    ) -> Result<Result<String, PluginError>, CallFailure> {
        // Known as this thread's call until the program's end is looked at (and it is reaped).
        let in_call = InCall::of(self.child.id() as libc::pid_t, self.own_group);
        let id = self.next_id;
        self.next_id += 1;
        let mut line = std::mem::take(&mut self.line);
        wire::call(&mut line, id, method, input);
        let sent = match self.requests.as_mut() {
            Some(requests) => requests.write_all(line.as_bytes()),
            None => Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe)),
        };
        self.line = line;
        if sent.is_err() {
            // A closed pipe: the program is gone, or going.
            drop(in_call);
            return Err(self.ended_or("it closed its requests (descriptor 3)"));
        }
        let line = match self.answers.next_message(None) {
            Ok(line) => line,
            Err(NoLine::Closed) => {
                drop(in_call);
                return Err(self.ended_or("it closed its answers (descriptor 4)"));
            }
            Err(NoLine::Late) => return Err(CallFailure::Protocol("no answer".to_owned())),
            Err(NoLine::Broken(detail)) => return Err(CallFailure::Protocol(detail)),
        };
        let answer: Answer<'_> = serde_json::from_slice(line).map_err(|error| {
            CallFailure::Protocol(format!("an answer that is not a JSON object: {error}"))
        })?;
        if answer.id != Some(id) {
            return Err(CallFailure::Protocol(format!(
                "the answer to call {id} has {}",
                answer
                    .id
                    .map_or_else(|| "no id".to_owned(), |other| format!("the id {other}"))
            )));
        }
        match answer.op.as_ref() {
            "result" => Ok(Ok(answer
                .ok
                .map_or_else(|| "null".to_owned(), |raw| raw.get().to_owned()))),
            "error" => Ok(Err(answer.error())),
            other => Err(CallFailure::Protocol(format!(
                "a call answered with {other:?}, not \"result\" or \"error\""
            ))),
        }
    }

    /// Closes its requests, so that it ends by itself; kills it (and its process group) if it
    /// has not ended within a moment, and reaps it.
    pub fn stop(mut self) {
        self.requests = None;
        if self.wait_for(STOP_GRACE).is_none() {
            self.kill();
        }
    }

    /// Kills it (and its process group, when it leads one) and reaps it.
    fn kill(&mut self) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill has no memory effects; the pid is this process's unreaped child.
        unsafe {
            if self.own_group {
                libc::kill(-pid, libc::SIGKILL);
            }
            libc::kill(pid, libc::SIGKILL);
        }
        let _ = self.child.wait();
        orphans::disown(self.child.id());
    }

    /// Its exit status once it ends within `limit` (then it is reaped), else `None`.
    fn wait_for(&mut self, limit: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    orphans::disown(self.child.id());
                    if self.own_group {
                        // What it started in its group goes with it.
                        // SAFETY: kill has no memory effects.
                        unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
                    }
                    return Some(status);
                }
                Ok(None) if Instant::now() < until => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                _ => return None,
            }
        }
    }

    /// After its pipe closed: how it ended, or, when it lives on, a protocol failure (and it is
    /// killed).
    fn ended_or(&mut self, what: &str) -> CallFailure {
        match self.wait_for(END_WAIT) {
            Some(status) => CallFailure::Ended(status),
            None => {
                self.kill();
                CallFailure::Protocol(format!("{what} but did not end"))
            }
        }
    }

    fn send(&mut self, text: &str, stage: &'static str) -> Result<(), ProgramError> {
        let sent = match self.requests.as_mut() {
            Some(requests) => requests.write_all(text.as_bytes()),
            None => Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe)),
        };
        match sent {
            Ok(()) => Ok(()),
            Err(_) => Err(self.start_failure(stage, NoLine::Closed)),
        }
    }

    /// Reads the answer to `stage`, which must be `op` (or an error), and reads it with `read`.
    fn expect<T>(
        &mut self,
        stage: &'static str,
        op: &str,
        limit: Duration,
        read: impl FnOnce(&Answer<'_>) -> Result<T, String>,
    ) -> Result<T, ProgramError> {
        let line = match self.answers.next_message(wire::deadline(limit)) {
            Ok(line) => line,
            Err(no_line) => return Err(self.start_failure(stage, no_line)),
        };
        let outcome = match serde_json::from_slice::<Answer<'_>>(line) {
            Err(error) => Err(ProgramError::Protocol {
                stage,
                detail: format!("it answered a line that is not a JSON object: {error}"),
            }),
            Ok(answer) if answer.op == "error" => Err(ProgramError::Refused {
                stage,
                error: answer.error(),
            }),
            Ok(answer) if answer.op == op => {
                read(&answer).map_err(|detail| ProgramError::Protocol { stage, detail })
            }
            Ok(answer) => Err(ProgramError::Protocol {
                stage,
                detail: format!("it answered {:?} where {op:?} was due", answer.op),
            }),
        };
        if outcome.is_err() {
            self.kill();
        }
        outcome
    }

    /// What it means that no answer to `stage` came; the program is stopped.
    fn start_failure(&mut self, stage: &'static str, no_line: NoLine) -> ProgramError {
        match no_line {
            NoLine::Closed => match self.wait_for(END_WAIT) {
                Some(status) => ProgramError::Ended {
                    stage,
                    how: describe_exit(status),
                },
                None => {
                    self.kill();
                    ProgramError::Protocol {
                        stage,
                        detail: "it closed its answers (descriptor 4) but did not end".to_owned(),
                    }
                }
            },
            NoLine::Late => {
                self.kill();
                ProgramError::Silent {
                    stage,
                    limit: human_duration(super::start_limit()),
                }
            }
            NoLine::Broken(detail) => {
                self.kill();
                ProgramError::Protocol { stage, detail }
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A program never outlives its holder: a `Running` dropped without `stop` (a panic, an
        // early return) is killed and reaped.
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        } else {
            orphans::disown(self.child.id());
        }
    }
}

/// The programs in a call, by the thread that waits for the answer: what
/// [`stop_call_of`] kills.
/// A few entries at most (one per thread of the run), so a list.
static CALLS: Mutex<Vec<(ThreadId, libc::pid_t, bool)>> = Mutex::new(Vec::new());

/// The current thread's call to one program, known in [`CALLS`] while it lasts.
struct InCall(ThreadId);

impl InCall {
    fn of(pid: libc::pid_t, own_group: bool) -> InCall {
        let thread = std::thread::current().id();
        CALLS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((thread, pid, own_group));
        InCall(thread)
    }
}

impl Drop for InCall {
    fn drop(&mut self) {
        let mut calls = CALLS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = calls.iter().position(|(thread, ..)| *thread == self.0) {
            calls.swap_remove(at);
        }
    }
}

/// Kills the program that `thread` is waiting on in a call, if it is waiting on one (with its
/// process group, when it leads one): a thread abandoned past its time limit then gets its
/// answer (the program ended), ends, and leaves nothing running. Whether a program was killed.
pub fn stop_call_of(thread: ThreadId) -> bool {
    let calls = CALLS.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(&(_, pid, own_group)) = calls.iter().find(|(waiting, ..)| *waiting == thread) else {
        return false;
    };
    // SAFETY: kill has no memory effects. The pid is a child this host has not reaped: the
    // thread that reaps it removes its entry first, and the entry is read under the same lock.
    unsafe {
        if own_group {
            libc::kill(-pid, libc::SIGKILL);
        }
        libc::kill(pid, libc::SIGKILL);
    }
    true
}

/// Where a program's stderr goes: a worker's own stderr (which its host reads and escapes), and
/// in the host's own process the host's fd 1, the relay that shows each line as `[plugin NAME]`
/// with every character a terminal would act on escaped; so a program's stderr never writes
/// raw escape sequences to the user's terminal.
fn stderr_for_program() -> Stdio {
    if in_worker() {
        return Stdio::inherit();
    }
    use std::os::fd::AsFd;
    match std::io::stdout().as_fd().try_clone_to_owned() {
        Ok(relay) => Stdio::from(relay),
        Err(_) => Stdio::null(),
    }
}

/// A pipe whose two ends are closed on exec (the child gets its copies through `dup2`).
fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 writes two descriptors into the array; each is owned once here.
    unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}

fn fd_of(fd: &OwnedFd) -> RawFd {
    use std::os::fd::AsRawFd;
    fd.as_raw_fd()
}

/// In the child, before exec: the requests' pipe becomes descriptor 3 and the answers' 4 (both
/// first moved above 9, so that neither overwrites the other), no signal is blocked, it dies with
/// the thread that started it, and it leads a process group of its own when `own_group`.
fn child_setup(from_host: RawFd, to_host: RawFd, own_group: bool) -> std::io::Result<()> {
    let last = std::io::Error::last_os_error;
    // SAFETY: async-signal-safe calls on descriptors this child holds.
    unsafe {
        let high_in = libc::fcntl(from_host, libc::F_DUPFD_CLOEXEC, 10);
        let high_out = libc::fcntl(to_host, libc::F_DUPFD_CLOEXEC, 10);
        if high_in < 0 || high_out < 0 {
            return Err(last());
        }
        if libc::dup2(high_in, 3) < 0 || libc::dup2(high_out, 4) < 0 {
            return Err(last());
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        if libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()) != 0 {
            return Err(last());
        }
        if own_group && libc::setpgid(0, 0) != 0 {
            return Err(last());
        }
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
    Ok(())
}

/// `PYTHONPATH` for a program: the one it has, then the directory holding this host's
/// `quack.py` (kept in the plugin cache, keyed by its hash), when it can be kept there.
fn python_path() -> Option<OsString> {
    let dir = python_sdk_dir()?;
    let mut path = std::env::var_os("PYTHONPATH").unwrap_or_default();
    if !path.is_empty() {
        path.push(":");
    }
    path.push(dir);
    Some(path)
}

/// The directory holding this host's `quack.py` in the plugin cache, kept there the first time
/// it is asked for; `None` when the cache cannot be used.
pub(crate) fn python_sdk_dir() -> Option<&'static std::path::Path> {
    static SDK_DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    let dir = SDK_DIR.get_or_init(|| {
        let bytes = super::PYTHON_SDK.as_bytes();
        let hash = crate::plugin::sha256_hex(bytes);
        let root = crate::runner::plugin_cache::PluginCache::for_user()
            .open()
            .ok()?;
        let file = match root.lookup(&hash, "quack.py") {
            Ok(Some(file)) => file,
            _ => root.store(&hash, "quack.py", bytes).ok()?,
        };
        file.path().parent().map(PathBuf::from)
    });
    dir.as_deref()
}
