//! The worker side of process mode: `host worker` reads the host's start message (which plugin,
//! which configuration), loads the plugin itself, makes one instance, says hello, then answers
//! task frames on stdin with result frames on stdout until stdin closes.
//!
//! The protocol needs stdout to itself, but a plugin may print. So before loading anything the
//! worker keeps a private copy of the stdout pipe for the protocol and points file descriptor 1 at
//! stderr: whatever the plugin prints reaches the host as stderr lines, marked with the worker.

use std::{
    fs::File,
    io::{self, BufReader, BufWriter, Write},
    os::fd::FromRawFd,
    path::Path,
    time::Instant,
};

use quack_core::abi_stable::std_types::RResult;
use serde_json::value::RawValue;

use super::protocol::{
    FatalStage, FromWorker, MAX_FRAME, PROTOCOL_VERSION, ToWorker, read_frame, write_frame,
};
use crate::loader::{LoadedPlugin, sha256_hex};

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

/// Serves tasks for the host until stdin closes. Returns the process exit code.
pub fn serve() -> u8 {
    let (mut protocol_out, stdin) = match take_protocol_pipes() {
        Ok(pipes) => pipes,
        Err(error) => {
            say!("worker: could not set up the protocol pipes: {error}");
            return 2;
        }
    };
    let mut reader = BufReader::with_capacity(1 << 16, stdin);
    let mut frame = Vec::new();
    let start = match read_frame(&mut reader, &mut frame)
        .ok()
        .filter(|read| *read)
        .and_then(|_| serde_json::from_slice::<ToWorker>(&frame).ok())
    {
        Some(ToWorker::Start {
            protocol,
            worker,
            plugin,
            sha256: _,
            config,
        }) if protocol == PROTOCOL_VERSION => (worker, plugin, config),
        Some(ToWorker::Start { protocol, .. }) => {
            let error = format!(
                "the host speaks worker protocol {protocol}, this worker {PROTOCOL_VERSION}; use the same version of host on both sides"
            );
            return fatal(&mut protocol_out, FatalStage::Start, error);
        }
        _ => {
            let error = "the host's first message was not a start message".to_owned();
            return fatal(&mut protocol_out, FatalStage::Start, error);
        }
    };
    let (worker, plugin_path, config) = start;
    let mut instance = match LoadedPlugin::load(&plugin_path) {
        Ok(plugin) => match plugin.instantiate(&config) {
            Ok(instance) => {
                let hello = FromWorker::Hello {
                    protocol: PROTOCOL_VERSION,
                    pid: std::process::id(),
                    node: node_name(),
                    name: plugin.description.name.clone(),
                    version: plugin.description.version.clone(),
                    sha256: file_hash(&plugin_path),
                };
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

    loop {
        match read_frame(&mut reader, &mut frame) {
            Ok(true) => {}
            Ok(false) => return 0,
            Err(error) => {
                say!("worker {worker}: the host's message could not be read: {error}");
                return 2;
            }
        }
        let (id, method, input) = match serde_json::from_slice::<ToWorker>(&frame) {
            Ok(ToWorker::Task { id, method, input }) => (id, method, input),
            Ok(ToWorker::Start { .. }) => {
                say!("worker {worker}: the host sent a second start message");
                return 2;
            }
            Err(error) => {
                say!(
                    "worker {worker}: the host sent a message that is not the protocol's: {error}"
                );
                return 2;
            }
        };
        // Every earlier answer goes out before this task runs: if it crashes the worker, the host
        // knows the crash is this task's, and no finished result is lost with the process.
        if protocol_out.flush().is_err() {
            return 2;
        }
        let started = Instant::now();
        let result = instance.call(
            method.as_deref().unwrap_or("run").into(),
            input.get().into(),
        );
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let done = match result {
            RResult::ROk(json) => match RawValue::from_string(json.into_string()) {
                Ok(raw) => FromWorker::Done {
                    id,
                    ok: Some(raw),
                    error: None,
                    nanos,
                },
                Err(error) => FromWorker::Done {
                    id,
                    ok: None,
                    error: Some(format!("the plugin returned invalid JSON: {error}")),
                    nanos,
                },
            },
            RResult::RErr(error) => FromWorker::Done {
                id,
                ok: None,
                error: Some(error.to_string()),
                nanos,
            },
        };
        if write_answer(&mut protocol_out, done, MAX_FRAME).is_err() {
            return 2;
        }
        if reader.buffer().is_empty() && protocol_out.flush().is_err() {
            return 2;
        }
    }
}

/// Writes a task's answer; one too large for a frame becomes an error of that task instead.
fn write_answer(out: &mut impl Write, done: FromWorker, limit: usize) -> io::Result<()> {
    let body = serde_json::to_vec(&done)?;
    if body.len() <= limit {
        out.write_all(&(body.len() as u32).to_le_bytes())?;
        return out.write_all(&body);
    }
    let FromWorker::Done { id, nanos, .. } = done else {
        return Err(io::Error::other("only a task's answer is written here"));
    };
    let error = format!(
        "the result is {} bytes of JSON, more than the {limit} a worker can send back; return less, or write it to a file and return its path",
        body.len()
    );
    write_frame(
        out,
        &FromWorker::Done {
            id,
            ok: None,
            error: Some(error),
            nanos,
        },
    )
}

fn fatal(out: &mut impl Write, stage: FatalStage, error: String) -> u8 {
    let _ = write_frame(out, &FromWorker::Fatal { stage, error }).and_then(|()| out.flush());
    3
}

/// The SHA-256 of the file at `path`, or the reason it could not be read.
fn file_hash(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => sha256_hex(&bytes),
        Err(error) => format!("unreadable: {error}"),
    }
}

/// This machine's host name.
pub fn node_name() -> String {
    let mut buffer = [0u8; 256];
    // SAFETY: gethostname writes at most buffer.len() bytes into the buffer it is given.
    let status = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if status != 0 {
        return "unknown".to_owned();
    }
    let end = buffer
        .iter()
        .position(|&byte| byte == 0)
        .unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).into_owned()
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

    #[test]
    fn a_result_too_large_for_a_frame_is_that_tasks_error() {
        let big = RawValue::from_string(format!("\"{}\"", "x".repeat(500))).unwrap();
        let done = FromWorker::Done {
            id: 9,
            ok: Some(big),
            error: None,
            nanos: 1,
        };
        let mut wire = Vec::new();
        write_answer(&mut wire, done, 200).unwrap();
        let mut frame = Vec::new();
        assert!(read_frame(&mut wire.as_slice(), &mut frame).unwrap());
        let FromWorker::Done { id, ok, error, .. } = serde_json::from_slice(&frame).unwrap() else {
            panic!("not an answer");
        };
        assert_eq!(id, 9);
        assert!(ok.is_none());
        let error = error.unwrap();
        assert!(error.starts_with("the result is 5"), "{error}");
        assert!(
            error.contains("more than the 200 a worker can send back"),
            "{error}"
        );
    }
}
