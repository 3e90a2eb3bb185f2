//! The worker side of process mode: `host worker` reads the host's start message (which plugin,
//! which configuration), loads the plugin itself, makes one instance, says hello, then answers
//! task frames on stdin with result frames on stdout until stdin closes. With the page the host
//! shares with a worker on its machine (`running_slot.rs`) it notes each task there as it starts
//! and sends its answers in batches; without it, every answer before the next task runs.
//!
//! A worker that has no file with the plugin's content at the host's path (another machine without
//! a shared file system) asks the host for the bytes, keeps them in its [`PluginCache`] and loads
//! that copy.
//!
//! The protocol needs stdout to itself, but a plugin may print. So before loading anything the
//! worker keeps a private copy of the stdout pipe for the protocol and points file descriptor 1 at
//! stderr: whatever the plugin prints reaches the host as stderr lines, marked with the worker.

use std::{
    fs::File,
    io::{self, BufReader, BufWriter, Write},
    os::fd::FromRawFd,
    path::Path,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    thread,
    time::{Duration, Instant},
};

use serde_json::value::RawValue;

use super::{
    plugin_cache::PluginCache,
    protocol::{
        DoneFrame, FatalStage, FileStamp, FromWorker, Hello, IncomingTask, MAX_FRAME,
        PROTOCOL_VERSION, ToWorker, read_frame, write_frame, write_frame_in,
    },
    running_slot::RunningSlot,
};
use crate::{
    loader::{FileRefused, MAX_PLUGIN_SIZE, PluginFile},
    plugin::LoadedPlugin,
    sandbox::{self, Entered, Needs, Policy},
};

/// With a page shared with the host: the most answers held back before they are sent...
const SEND_BATCH: usize = 64;
/// ...and the longest the oldest of them is held back (checked when a task starts).
const SEND_EVERY: Duration = Duration::from_millis(1);

/// Writes a line on stderr for the host to relay; a closed stderr is no reason to panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Makes this process end (SIGKILL) when the process that started it (the host, or the launcher
/// that started it for the host) ends, even if that process is killed: a worker never outlives
/// its host. Set here, after exec, rather than in a pre-exec hook, so that the host can spawn
/// workers the fast way (posix_spawn).
pub fn die_with_parent() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl and getppid have no memory effects.
    unsafe {
        let parent = libc::getppid();
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        // The parent may have died before the line above: then this process has a new parent.
        if libc::getppid() != parent {
            std::process::exit(1);
        }
    }
}

/// What came on stdin was not a host's start message: `host worker` was not started by a host
/// (someone ran it by hand, or fed it something else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotStartedByHost;

/// Serves tasks for the host until stdin closes, in `sandbox` when there is one (entered once
/// the plugin file is open, before any of its code runs). Returns the process exit code, or
/// [`NotStartedByHost`] when the first bytes on stdin are not a start message (then nothing was
/// written on stdout).
pub fn serve(sandbox: Option<&Policy>) -> Result<u8, NotStartedByHost> {
    let (mut protocol_out, stdin) = match take_protocol_pipes() {
        Ok(pipes) => pipes,
        Err(error) => {
            say!("worker: could not set up the protocol pipes: {error}");
            return Ok(2);
        }
    };
    let mut reader = BufReader::with_capacity(1 << 16, stdin);
    let mut frame = Vec::new();
    let first = match read_frame(&mut reader, &mut frame) {
        Ok(true) => serde_json::from_slice::<ToWorker>(&frame).ok(),
        Ok(false) | Err(_) => None,
    };
    let start = match first {
        Some(ToWorker::Start {
            protocol,
            worker,
            plugin,
            sha256,
            stamp,
            config,
            heartbeat_ms,
            running_slot,
            pause_after_error,
        }) if protocol == PROTOCOL_VERSION => Start {
            worker,
            plugin,
            sha256,
            stamp,
            config,
            heartbeat: (heartbeat_ms > 0).then(|| Duration::from_millis(heartbeat_ms)),
            running: running_slot.and_then(|offer| RunningSlot::adopt(offer.fd, offer.token)),
            pause_after_error,
        },
        Some(ToWorker::Start { protocol, .. }) => {
            let error = format!(
                "the host speaks worker protocol {protocol}, this worker {PROTOCOL_VERSION}; use the same version of host on both sides"
            );
            return Ok(fatal(&mut protocol_out, FatalStage::Start, error));
        }
        Some(_) => {
            let error = "the host's first message was not a start message".to_owned();
            return Ok(fatal(&mut protocol_out, FatalStage::Start, error));
        }
        None => return Err(NotStartedByHost),
    };
    Ok(serve_started(start, sandbox, reader, protocol_out, frame))
}

/// What a host's start message says.
struct Start {
    worker: usize,
    plugin: std::path::PathBuf,
    sha256: Option<String>,
    stamp: Option<FileStamp>,
    config: String,
    heartbeat: Option<Duration>,
    /// The page shared with the host where the running task is noted, when the host offered one.
    running: Option<RunningSlot>,
    /// Whether to wait for the host's leave after an error (with a page).
    pause_after_error: bool,
}

/// [`serve`] once the host's start message is in: load, say hello, answer tasks.
fn serve_started(
    start: Start,
    sandbox: Option<&Policy>,
    mut reader: BufReader<File>,
    mut protocol_out: BufWriter<File>,
    mut frame: Vec<u8>,
) -> u8 {
    let Start {
        worker,
        plugin: host_path,
        sha256,
        stamp,
        config,
        heartbeat,
        running,
        pause_after_error,
    } = start;
    // A program plugin that dies during a task ends this worker the same way.
    crate::program::serve_in_worker();
    let found = obtain_plugin(
        &host_path,
        sha256.as_deref(),
        stamp,
        &PluginCache::for_user(),
        &mut reader,
        &mut protocol_out,
        &mut frame,
    );
    // Held open until the plugin is loaded from it: what is loaded is what was checked.
    let plugin_file = match found {
        Ok(found) => found,
        Err(error) => return fatal(&mut protocol_out, FatalStage::Load, error),
    };
    // Held until the worker ends: its scratch directory goes with it.
    let _sandbox = match sandbox.map(|policy| enter_sandbox(policy, &plugin_file)) {
        None => None,
        Some(Ok(entered)) => Some(entered),
        Some(Err(error)) => return fatal(&mut protocol_out, FatalStage::Start, error),
    };
    let mut instance = match LoadedPlugin::load_file(&plugin_file) {
        Ok(plugin) => match plugin.instantiate(&config) {
            Ok(instance) => {
                let hello = FromWorker::Hello(Hello {
                    protocol: PROTOCOL_VERSION,
                    pid: std::process::id(),
                    node: node_name(),
                    name: plugin.info.description.name.clone(),
                    version: plugin.info.description.version.clone(),
                    // The hash of the bytes read from the descriptor just loaded (none for the
                    // very file the host stamped, which was not read).
                    sha256: plugin_file.sha256().map(str::to_owned),
                });
                if write_frame(&mut protocol_out, &hello)
                    .and_then(|()| protocol_out.flush())
                    .is_err()
                {
                    return 2;
                }
                instance
            }
            Err(error) => {
                let (stage, error) = match error.kind {
                    quack_core::ErrorKind::InvalidInput => {
                        (FatalStage::Config, error.message.into_string())
                    }
                    _ => (FatalStage::Instance, error.to_string()),
                };
                return fatal(&mut protocol_out, stage, error);
            }
        },
        Err(error) => return fatal(&mut protocol_out, FatalStage::Load, error.to_string()),
    };

    // The heartbeat thread writes between answers, never inside one: the protocol's writer is
    // shared under a lock, held only while a frame is written, never while a task runs.
    let protocol_out = Arc::new(Mutex::new(protocol_out));
    if let Some(every) = heartbeat {
        let out = Arc::clone(&protocol_out);
        let beating = thread::Builder::new()
            .name("quack-heartbeat".to_owned())
            .spawn(move || beat(&out, every));
        if let Err(error) = beating {
            say!("worker {worker}: could not start its heartbeat: {error}");
            return 2;
        }
    }
    // Every answer is made in this one buffer.
    let mut answer = Vec::new();
    let mut unsent = 0usize;
    let mut last_sent = Instant::now();
    loop {
        match read_frame(&mut reader, &mut frame) {
            Ok(true) => {}
            Ok(false) => return 0,
            Err(error) => {
                say!("worker {worker}: the host's message could not be read: {error}");
                return 2;
            }
        }
        let (id, method, input) = match serde_json::from_slice::<IncomingTask<'_>>(&frame) {
            Ok(IncomingTask::Task { id, method, input }) => (id, method, input),
            Err(error) => {
                match serde_json::from_slice::<ToWorker>(&frame) {
                    Ok(_) => say!(
                        "worker {worker}: the host sent a start message in the middle of tasks"
                    ),
                    Err(_) => say!(
                        "worker {worker}: the host sent a message that is not the protocol's: {error}"
                    ),
                }
                return 2;
            }
        };
        let started = Instant::now();
        match &running {
            // The host reads in the shared page which task runs: answers go out in batches, at
            // the latest SEND_EVERY after the oldest of them.
            Some(page) => {
                if unsent > 0 && started.duration_since(last_sent) >= SEND_EVERY {
                    if lock(&protocol_out).flush().is_err() {
                        return 2;
                    }
                    unsent = 0;
                    last_sent = started;
                }
                page.begin(id);
            }
            // Every earlier answer goes out before this task runs: if it crashes the worker, the
            // host knows the crash is this task's (the oldest it has no answer for), and no
            // finished result is lost with the process.
            None => {
                if unsent > 0 && lock(&protocol_out).flush().is_err() {
                    return 2;
                }
                unsent = 0;
            }
        }
        let result = instance.call(
            method.as_deref().unwrap_or("run").into(),
            input.get().into(),
        );
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        // The answer borrows the plugin's result (checked as JSON, not copied).
        let (ok, error) = match super::answer::read(&result, serde_json::from_str::<&RawValue>) {
            Ok(raw) => (Some(raw), None),
            Err(error) => (None, Some(error)),
        };
        let done = DoneFrame::Done {
            id,
            ok,
            error: error.as_deref(),
            nanos,
        };
        let mut out = lock(&protocol_out);
        let failed = match write_answer(&mut *out, &done, MAX_FRAME, &mut answer) {
            Ok(failed) => failed,
            Err(_) => return 2,
        };
        if let Some(page) = &running {
            page.end();
            // Under --max-fail, nothing runs after a failure until the host has counted it: the
            // answer goes out now, and the host gives leave unless the run stops there.
            if failed && pause_after_error {
                let seen = page.leaves();
                if out.flush().is_err() {
                    return 2;
                }
                drop(out);
                page.wait_for_leave(seen);
                unsent = 0;
                last_sent = Instant::now();
                continue;
            }
        }
        unsent += 1;
        // Before waiting for the host's next task, or once a batch is full, the answers go out.
        if reader.buffer().is_empty() || unsent >= SEND_BATCH {
            if out.flush().is_err() {
                return 2;
            }
            unsent = 0;
            last_sent = started;
        }
    }
}

/// The protocol's writer, shared by the task loop and the heartbeat.
type SharedOut = Arc<Mutex<BufWriter<File>>>;

/// Takes the protocol's writer (a thread that panicked while holding it left whole frames: the
/// lock is released only between them).
fn lock(out: &SharedOut) -> MutexGuard<'_, BufWriter<File>> {
    out.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Says [`FromWorker::Alive`] every `every` until the host's end of the pipe is gone.
fn beat(out: &SharedOut, every: Duration) {
    loop {
        thread::sleep(every);
        let mut out = lock(out);
        if write_frame(&mut *out, &FromWorker::Alive)
            .and_then(|()| out.flush())
            .is_err()
        {
            return;
        }
    }
}

/// Writes a task's answer, made in `body` (a buffer the worker keeps), and says whether it was an
/// error; one too large for a frame (an error message of a gigabyte) becomes a shorter error of
/// that task instead. Its size
/// is counted before it is made whenever it might be too large, so an answer is never built only
/// to be refused (a gigabyte copied, or an allocation that fails and aborts the worker).
fn write_answer(
    out: &mut impl Write,
    done: &DoneFrame<'_>,
    limit: usize,
    body: &mut Vec<u8>,
) -> io::Result<bool> {
    let DoneFrame::Done {
        id,
        ok,
        error,
        nanos,
    } = *done;
    // JSON escapes a character in at most 6 bytes; the rest of the answer takes under 100.
    let at_most = ok.map_or(0, |raw| raw.get().len())
        + error.map_or(0, |text| text.len().saturating_mul(6))
        + 100;
    let size = if at_most <= limit {
        None
    } else {
        let mut counter = Counter(0);
        serde_json::to_writer(&mut counter, done)?;
        Some(counter.0)
    };
    match size {
        Some(size) if size > limit => {
            let error = format!(
                "the task's answer is too large: {size} bytes of JSON, over the limit of {limit} a worker can send back; return a shorter error"
            );
            let shorter = DoneFrame::Done {
                id,
                ok: None,
                error: Some(&error),
                nanos,
            };
            write_frame_in(out, &shorter, body).map(|()| true)
        }
        _ => write_frame_in(out, done, body).map(|()| ok.is_none()),
    }
}

/// A writer that only counts the bytes written to it.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The plugin file to load, open: the very file the host stamped, else the file at the host's
/// path when it has the hash the host announced, else the copy in the plugin cache, asked from the
/// host if it is not there yet (or not usable). Every candidate is opened once and hashed from
/// that descriptor. The error is one sentence.
fn obtain_plugin(
    path: &Path,
    sha256: Option<&str>,
    stamp: Option<FileStamp>,
    cache: &PluginCache,
    reader: &mut impl io::Read,
    out: &mut impl Write,
    frame: &mut Vec<u8>,
) -> Result<PluginFile, String> {
    let file_name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("libplugin.so");
    let here = match PluginFile::open(path) {
        // The same device, inode, size and times: no need to read it.
        Ok(file) if stamp.is_some_and(|stamp| stamp == FileStamp::of_metadata(file.metadata())) => {
            return Ok(file);
        }
        other => other,
    };
    // Opened before anything is asked of the host: a cache that may not be used is refused
    // at once, with its sentence.
    let cache_root = || cache.open().map_err(|error| error.to_string());
    let (reason, root) = match sha256 {
        Some(sha256) => {
            let unreadable = |refused: FileRefused| {
                format!(
                    "{} cannot be read here ({})",
                    path.display(),
                    refused.reason()
                )
            };
            let reason = match here {
                Ok(mut file) => match file.hash() {
                    Ok(hash) if hash == sha256 => return Ok(file),
                    Ok(_) => format!("{} has other content here", path.display()),
                    Err(refused) => unreadable(refused),
                },
                Err(refused) => unreadable(refused),
            };
            let root = cache_root()?;
            match root.lookup(sha256, file_name) {
                Ok(Some(cached)) => return Ok(cached),
                Ok(None) => (reason, root),
                // Not fatal: the host's bytes replace it.
                Err(bad) => (
                    format!("{reason}, and the cached copy is not used: {bad}"),
                    root,
                ),
            }
        }
        // A local host that sent no hash: the file here is not the one it stamped.
        None => {
            let reason = format!(
                "{} is not the file the host loaded (it changed, or it is another file here)",
                path.display()
            );
            let root = cache_root()?;
            (reason, root)
        }
    };
    let lost = |error: io::Error| format!("the host's plugin could not be received: {error}");
    write_frame(out, &FromWorker::NeedPlugin { reason })
        .and_then(|()| out.flush())
        .map_err(lost)?;
    if !read_frame(reader, frame).map_err(lost)? {
        return Err("the host closed the connection instead of sending the plugin".to_owned());
    }
    let (size, sent_hash) = match serde_json::from_slice::<ToWorker>(frame) {
        Ok(ToWorker::Plugin { size, sha256: sent }) => (size, sent),
        _ => {
            return Err(
                "the host answered the request for the plugin with another message".to_owned(),
            );
        }
    };
    if size > MAX_PLUGIN_SIZE {
        return Err(format!(
            "the host offered a plugin of {size} bytes, more than the {MAX_PLUGIN_SIZE} a worker accepts"
        ));
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let mut bytes = Vec::with_capacity(size);
    while bytes.len() < size {
        if !read_frame(reader, frame).map_err(lost)? {
            return Err(format!(
                "the host closed the connection after {} of the plugin's {size} bytes",
                bytes.len()
            ));
        }
        bytes.extend_from_slice(frame);
    }
    if sha256.is_some_and(|announced| announced != sent_hash) {
        return Err("the host sent a plugin of another hash than it announced".to_owned());
    }
    root.store(&sent_hash, file_name, &bytes)
        .map_err(|error| format!("the plugin sent by the host could not be kept: {error}"))
}

/// Restricts this worker to `policy` before the plugin in `plugin_file` is loaded; says on stderr
/// what a best-effort sandbox left out. The error is one sentence.
fn enter_sandbox(policy: &Policy, plugin_file: &PluginFile) -> Result<Entered, String> {
    let entered = if crate::program::is_program(plugin_file.path()) {
        // The worker is the host's code speaking to the program: the program is what runs
        // restricted, from before it is exec'd.
        sandbox::restrict_children(policy, sandbox::program_needs(plugin_file.path()))
    } else {
        let needs = Needs {
            read: vec![plugin_file.path().to_path_buf()],
            execute: Vec::new(),
        };
        sandbox::enter(policy, &needs)
    }
    .map_err(|error| error.to_string())?;
    if !entered.in_force.missing.is_empty() {
        say!(
            "sandbox (best effort) NOT enforced on {}: {}",
            node_name(),
            entered.in_force.missing.join("; ")
        );
    }
    Ok(entered)
}

fn fatal(out: &mut impl Write, stage: FatalStage, error: String) -> u8 {
    let _ = write_frame(out, &FromWorker::Fatal { stage, error }).and_then(|()| out.flush());
    3
}

/// The name of the node this worker runs on: Slurm's name for it inside a job step (it may differ
/// from the host name), else the host name.
pub fn node_name() -> String {
    match std::env::var("SLURMD_NODENAME") {
        Ok(name) if !name.is_empty() => name,
        _ => super::sys::host_name().unwrap_or_else(|| "unknown".to_owned()),
    }
}

/// Takes private copies of stdout and stdin for the protocol, points stdout at stderr and stdin at
/// /dev/null.
fn take_protocol_pipes() -> io::Result<(BufWriter<File>, File)> {
    // SAFETY: plain descriptor calls on this process's own standard descriptors; each File made
    // here owns a descriptor nothing else in this process closes.
    unsafe {
        let protocol = libc::fcntl(libc::STDOUT_FILENO, libc::F_DUPFD_CLOEXEC, 3);
        if protocol < 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) < 0 {
            return Err(io::Error::last_os_error());
        }
        let stdin = libc::fcntl(libc::STDIN_FILENO, libc::F_DUPFD_CLOEXEC, 3);
        if stdin < 0 {
            return Err(io::Error::last_os_error());
        }
        // A plugin that reads its stdin must not steal the host's frames: it reads /dev/null.
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        if null < 0 || libc::dup2(null, libc::STDIN_FILENO) < 0 {
            return Err(io::Error::last_os_error());
        }
        libc::close(null);
        Ok((
            BufWriter::with_capacity(1 << 16, File::from_raw_fd(protocol)),
            File::from_raw_fd(stdin),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::sha256_hex;

    #[test]
    fn an_answer_too_large_for_a_frame_is_that_tasks_error() {
        // 100 control characters: 600 bytes once escaped.
        let long = "\u{1}".repeat(100);
        let done = DoneFrame::Done {
            id: 9,
            ok: None,
            error: Some(&long),
            nanos: 1,
        };
        let mut wire = Vec::new();
        write_answer(&mut wire, &done, 200, &mut Vec::new()).unwrap();
        let mut frame = Vec::new();
        assert!(read_frame(&mut wire.as_slice(), &mut frame).unwrap());
        let FromWorker::Done { id, ok, error, .. } = serde_json::from_slice(&frame).unwrap() else {
            panic!("not an answer");
        };
        assert_eq!(id, 9);
        assert!(ok.is_none());
        let error = error.unwrap();
        assert!(
            error.starts_with("the task's answer is too large: 6"),
            "{error}"
        );
        assert!(
            error.contains("over the limit of 200 a worker can send back"),
            "{error}"
        );
    }

    use crate::runner::protocol::{PLUGIN_CHUNK, write_raw_frame};

    /// What the host would send after a `need_plugin`: the size and hash, then the bytes in
    /// chunks.
    fn host_answer(bytes: &[u8]) -> Vec<u8> {
        answer_with_hash(bytes, &sha256_hex(bytes))
    }

    /// [`host_answer`] with the hash given.
    fn answer_with_hash(bytes: &[u8], sha256: &str) -> Vec<u8> {
        let mut wire = Vec::new();
        let size = bytes.len() as u64;
        let sha256 = sha256.to_owned();
        write_frame(&mut wire, &ToWorker::Plugin { size, sha256 }).unwrap();
        for chunk in bytes.chunks(PLUGIN_CHUNK) {
            write_raw_frame(&mut wire, chunk).unwrap();
        }
        wire
    }

    #[test]
    fn a_file_with_the_right_hash_is_used_where_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("libp.so");
        std::fs::write(&path, b"plugin").unwrap();
        let cache = PluginCache::at(dir.path().join("cache"));
        let mut said = Vec::new();
        let found = obtain_plugin(
            &path,
            Some(&sha256_hex(b"plugin")),
            None,
            &cache,
            &mut io::empty(),
            &mut said,
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(found.path(), path);
        assert_eq!(found.sha256(), Some(sha256_hex(b"plugin").as_str()));
        assert!(said.is_empty(), "nothing asked of the host");
    }

    #[test]
    fn a_missing_or_different_file_is_asked_for_received_in_chunks_and_cached() {
        let dir = tempfile::tempdir().unwrap();
        let cache = PluginCache::at(dir.path().join("cache"));
        // More than one chunk, and not a whole number of them.
        let bytes: Vec<u8> = (0..PLUGIN_CHUNK * 2 + 7).map(|i| (i % 251) as u8).collect();
        let hash = sha256_hex(&bytes);
        let other = dir.path().join("libp.so");
        std::fs::write(&other, b"another build").unwrap();
        for path in [dir.path().join("missing.so"), other] {
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let wire = host_answer(&bytes);
            let mut said = Vec::new();
            let found = obtain_plugin(
                &path,
                Some(&hash),
                None,
                &cache,
                &mut wire.as_slice(),
                &mut said,
                &mut Vec::new(),
            )
            .unwrap();
            assert_eq!(found.sha256(), Some(hash.as_str()));
            let expected = dir.path().join("cache").join(&hash).join(&name);
            assert_eq!(found.path(), expected);
            assert_eq!(std::fs::read(found.path()).unwrap(), bytes);
            let mut frame = Vec::new();
            assert!(read_frame(&mut said.as_slice(), &mut frame).unwrap());
            let asked: FromWorker = serde_json::from_slice(&frame).unwrap();
            assert!(matches!(asked, FromWorker::NeedPlugin { .. }), "{asked:?}");
            // Once cached, nothing more is asked.
            let mut said = Vec::new();
            let again = obtain_plugin(
                &path,
                Some(&hash),
                None,
                &cache,
                &mut io::empty(),
                &mut said,
                &mut Vec::new(),
            )
            .unwrap();
            assert_eq!(again.path(), found.path());
            assert!(said.is_empty());
        }
    }

    #[test]
    fn bytes_cut_short_or_of_another_hash_are_one_sentence() {
        let dir = tempfile::tempdir().unwrap();
        let cache = PluginCache::at(dir.path());
        let path = dir.path().join("missing.so");
        let wire = host_answer(b"the plugin");
        let short = &wire[..wire.len() - 3];
        let error = obtain_plugin(
            &path,
            Some(&sha256_hex(b"the plugin")),
            None,
            &cache,
            &mut &short[..],
            &mut Vec::new(),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(
            error.starts_with("the host's plugin could not be received"),
            "{error}"
        );
        let error = obtain_plugin(
            &path,
            Some(&sha256_hex(b"something else")),
            None,
            &cache,
            &mut wire.as_slice(),
            &mut Vec::new(),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(error.contains("another hash than it announced"), "{error}");
        // No hash announced, bytes that are not what the host says they are: not kept.
        let lying = answer_with_hash(b"the plugin", &sha256_hex(b"something else"));
        let error = obtain_plugin(
            &path,
            None,
            None,
            &cache,
            &mut lying.as_slice(),
            &mut Vec::new(),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(error.contains("could not be kept"), "{error}");
    }

    /// A local host announces no hash: a worker that does not find the stamped file asks for
    /// the plugin at once (it has nothing to check its own file against) and keeps what comes,
    /// under the hash that comes with it.
    #[test]
    fn without_a_hash_the_plugin_is_asked_for_and_kept_under_the_hash_sent() {
        let dir = tempfile::tempdir().unwrap();
        let cache = PluginCache::at(dir.path().join("cache"));
        let path = dir.path().join("libp.so");
        std::fs::write(&path, b"a build the host did not load").unwrap();
        let wire = host_answer(b"the host's plugin");
        let mut said = Vec::new();
        let found = obtain_plugin(
            &path,
            None,
            None,
            &cache,
            &mut wire.as_slice(),
            &mut said,
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(
            found.sha256(),
            Some(sha256_hex(b"the host's plugin").as_str())
        );
        assert_eq!(std::fs::read(found.path()).unwrap(), b"the host's plugin");
        let mut frame = Vec::new();
        assert!(read_frame(&mut said.as_slice(), &mut frame).unwrap());
        let asked: FromWorker = serde_json::from_slice(&frame).unwrap();
        let FromWorker::NeedPlugin { reason } = asked else {
            panic!("{asked:?}");
        };
        assert!(
            reason.contains("is not the file the host loaded"),
            "{reason}"
        );
    }
}
