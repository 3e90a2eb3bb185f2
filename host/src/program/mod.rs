//! Program plugins: a plugin that is a program (a script starting with `#!`, such as a Python
//! file using `sdk/python/quack.py`) rather than a shared library. The host starts the program
//! and speaks the program protocol with it ([docs/program-plugins.md]): one JSON object per line,
//! requests on the program's file descriptor 3, answers on its descriptor 4, so the program's
//! own stdout and stderr stay free for its prints.
//!
//! - [`Program`]: the file and the interpreter its `#!` line names (run by the host itself, so
//!   the file needs no execute permission, and a copy in the plugin cache runs as well).
//! - [`describe`]: starts the program once and asks its hello, description and methods.
//! - [`ProgramInstance`]: one running program behind the [`Instance`](quack_core::Instance)
//!   trait, so every mode calls it as it calls a library's instance. Inside a `host worker` a
//!   program that dies during a call ends the worker in the same way (the pool then sees a
//!   crash, with its retries and replacement); in the host's own process the call fails and the
//!   next call starts the program again.
//!
//! [docs/program-plugins.md]: ../../docs/program-plugins.md

mod running;
mod wire;

use std::{
    ffi::OsString,
    io::Read,
    os::unix::ffi::OsStringExt,
    path::{Path, PathBuf},
    process::ExitStatus,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use quack_core::{
    Description, ErrorKind, Instance, InstanceBox, PluginError,
    abi::Instance_TO,
    abi_stable::{
        sabi_trait::TD_Opaque,
        std_types::{RResult, RStr, RString},
    },
};

pub(crate) use running::python_sdk_dir;
pub use running::{Running, stop_call_of};
pub use wire::{PROTOCOL_MAJOR, PROTOCOL_MINOR};

use crate::{interfaces::Signature, runner::sys::describe_exit};

/// What a program plugin's `abi_version` starts with (`program protocol 1.0`), in reports and
/// `host inspect`: it tells a program from a library wherever a plugin is described.
pub const ABI_NAME: &str = "program protocol";

/// The Python SDK this host speaks the protocol of. Every program the host starts finds it on
/// its `PYTHONPATH` (after the program's own directory, so a `quack.py` beside it wins).
pub const PYTHON_SDK: &str = include_str!("../../../sdk/python/quack.py");

/// The longest `#!` line the host reads, as the kernel does.
const SHEBANG_MAX: usize = 256;

/// How long a program has for each answer while it starts (hello, describe, methods, new),
/// unless `QUACK_PROGRAM_START_TIMEOUT` (seconds) says otherwise.
const DEFAULT_START_LIMIT: Duration = Duration::from_secs(10);

/// Whether this process is a `host worker`: a program that dies then ends the worker.
static IN_WORKER: AtomicBool = AtomicBool::new(false);

/// Marks this process as a `host worker`: a program that dies during a call ends this process
/// the way it ended (the same signal, or the same exit code), so the host's pool sees the crash
/// of the task that was running. The programs it starts stay in its process group, which the
/// host stops as one.
pub fn serve_in_worker() {
    IN_WORKER.store(true, Ordering::Relaxed);
}

fn in_worker() -> bool {
    IN_WORKER.load(Ordering::Relaxed)
}

/// The time limit of each answer while a program starts.
pub fn start_limit() -> Duration {
    std::env::var("QUACK_PROGRAM_START_TIMEOUT")
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
        .map_or(DEFAULT_START_LIMIT, Duration::from_secs_f64)
}

/// Why a program could not be a plugin, as the end of a sentence that starts with its path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProgramError {
    /// Its `#!` line names nothing that can be run.
    #[error(
        "its `#!` line cannot be used ({reason}); the first line names the interpreter, as `#!/usr/bin/env python3`"
    )]
    BadShebang {
        /// What is wrong with the line.
        reason: String,
    },
    /// Its interpreter could not be started.
    #[error(
        "its interpreter {interpreter} cannot be started ({reason}); install it, or fix the `#!` line"
    )]
    Spawn {
        /// The interpreter named by the `#!` line.
        interpreter: String,
        /// What the system said.
        reason: String,
    },
    /// It ended before it answered.
    #[error(
        "it ended ({how}) before it answered {stage}; what it wrote on stderr (above) may say why"
    )]
    Ended {
        /// What it was asked.
        stage: &'static str,
        /// How it ended.
        how: String,
    },
    /// It did not answer in time.
    #[error(
        "it did not answer {stage} within {limit} and was stopped; a program answers on file descriptor 4 (set QUACK_PROGRAM_START_TIMEOUT for a slower start)"
    )]
    Silent {
        /// What it was asked.
        stage: &'static str,
        /// The limit, for people.
        limit: String,
    },
    /// It answered something that is not the protocol.
    #[error("it broke the program protocol when asked {stage} ({detail})")]
    Protocol {
        /// What it was asked.
        stage: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// It speaks another major version of the protocol.
    #[error(
        "it speaks program protocol {theirs}, where this host speaks {PROTOCOL_MAJOR}.{PROTOCOL_MINOR}; use the SDK of this host's protocol (sdk/python/quack.py)"
    )]
    Version {
        /// The version it gave.
        theirs: String,
    },
    /// It answered a request with an error.
    #[error("its {stage} failed: {error}")]
    Refused {
        /// What it was asked.
        stage: &'static str,
        /// What it said.
        error: PluginError,
    },
}

/// Whether the file at `path` is a program: its first two bytes are `#!`.
pub fn is_program(path: &Path) -> bool {
    let mut start = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut start))
        .is_ok_and(|()| start == *b"#!")
}

/// A program plugin's file and the command that runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The file, as the interpreter is given it (absolute).
    path: PathBuf,
    /// The interpreter and its one optional argument, from the `#!` line.
    interpreter: Vec<OsString>,
}

impl Program {
    /// The program in the file at `path`, read from `source` (the same file, or the descriptor
    /// it was opened as): its `#!` line names the interpreter the host runs it with, as the
    /// kernel would (`#!/usr/bin/env python3` runs `/usr/bin/env python3 PATH`).
    pub fn at(path: &Path, source: &Path) -> Result<Program, ProgramError> {
        let bad = |reason: String| ProgramError::BadShebang { reason };
        let mut head = Vec::with_capacity(SHEBANG_MAX);
        std::fs::File::open(source)
            .and_then(|file| file.take(SHEBANG_MAX as u64).read_to_end(&mut head))
            .map_err(|error| bad(format!("the file cannot be read: {error}")))?;
        let interpreter = parse_shebang(&head).map_err(bad)?;
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        Ok(Program { path, interpreter })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The interpreter's words as a sandbox runs them: `#!/usr/bin/env NAME` becomes the first
    /// NAME on `PATH` that is a binary rather than a script (a shim, such as pyenv's, starts
    /// other programs, which a sandbox forbids); any other `#!` line as it is.
    pub fn sandboxed_interpreter(&self) -> Vec<OsString> {
        let is_env = self.interpreter.first().is_some_and(|first| {
            Path::new(first)
                .file_name()
                .is_some_and(|name| name == "env")
        });
        match (is_env, self.interpreter.get(1)) {
            (true, Some(name)) => match binary_on_path(name) {
                Some(binary) => vec![binary.into_os_string()],
                None => self.interpreter.clone(),
            },
            _ => self.interpreter.clone(),
        }
    }

    /// The file a sandbox must let it execute: its interpreter as a sandbox runs it.
    pub fn executables(&self) -> Vec<PathBuf> {
        self.sandboxed_interpreter()
            .first()
            .and_then(|first| std::fs::canonicalize(first).ok())
            .into_iter()
            .collect()
    }

    /// The interpreter, for messages.
    fn interpreter_display(&self) -> String {
        shell_words::join(self.interpreter.iter().map(|word| word.to_string_lossy()))
    }
}

/// The first file called `name` on `PATH` that is an executable binary, not a `#!` script.
fn binary_on_path(name: &std::ffi::OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            let executable = std::fs::metadata(candidate)
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0);
            executable && !is_program(candidate)
        })
}

/// The interpreter and its optional argument from a file's first bytes: `#!`, the interpreter
/// (spaces and tabs around it), and everything after it to the end of the line as one argument.
fn parse_shebang(head: &[u8]) -> Result<Vec<OsString>, String> {
    let rest = head
        .strip_prefix(b"#!")
        .ok_or_else(|| "the file does not start with #!".to_owned())?;
    let end = rest
        .iter()
        .position(|&byte| byte == b'\n')
        .ok_or_else(|| format!("it has no end within {SHEBANG_MAX} bytes"))?;
    let line = &rest[..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let blank = |byte: &u8| *byte == b' ' || *byte == b'\t';
    let start = line.iter().position(|byte| !blank(byte));
    let Some(start) = start else {
        return Err("it names no interpreter".to_owned());
    };
    let line = &line[start..];
    let (interpreter, argument) = match line.iter().position(blank) {
        Some(at) => (&line[..at], &line[at..]),
        None => (line, &[][..]),
    };
    let argument = {
        let from = argument.iter().position(|byte| !blank(byte));
        let to = argument.iter().rposition(|byte| !blank(byte));
        match (from, to) {
            (Some(from), Some(to)) => &argument[from..=to],
            _ => &[][..],
        }
    };
    let mut words = vec![OsString::from_vec(interpreter.to_vec())];
    if !argument.is_empty() {
        words.push(OsString::from_vec(argument.to_vec()));
    }
    Ok(words)
}

/// A program plugin as the loader holds it: the program, and the program that described it,
/// kept for the first instance when asked (a worker makes its instance right after loading).
#[derive(Debug)]
pub struct ProgramPlugin {
    program: Arc<Program>,
    spare: Mutex<Option<Running>>,
}

/// What a program said about itself when it started.
pub struct Described {
    /// The plugin, to make instances of.
    pub plugin: ProgramPlugin,
    /// The protocol version it speaks, as `program protocol 1.0`.
    pub abi_version: String,
    /// Its description.
    pub description: Description,
    /// Its methods.
    pub methods: Vec<Signature>,
}

/// Starts `program`, asks its hello, description and methods, and keeps it for the first
/// instance when `keep` (else it is stopped).
pub fn describe(program: Program, keep: bool) -> Result<Described, ProgramError> {
    let program = Arc::new(program);
    let mut running = Running::start(&program)?;
    let (version, description, methods) = running.introduce(start_limit())?;
    let spare = if keep {
        Some(running)
    } else {
        running.stop();
        None
    };
    Ok(Described {
        plugin: ProgramPlugin {
            program,
            spare: Mutex::new(spare),
        },
        abi_version: format!("{ABI_NAME} {}.{}", version.0, version.1),
        description,
        methods,
    })
}

impl ProgramPlugin {
    /// The program.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// A new instance configured with `config` (a JSON object as text): the program that
    /// described the plugin, when it was kept, else a new one.
    pub fn instantiate(&self, config: &str) -> Result<InstanceBox, PluginError> {
        let spare = self
            .spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let instance = ProgramInstance::new(Arc::clone(&self.program), config, spare)?;
        Ok(Instance_TO::from_value(instance, TD_Opaque))
    }
}

/// One instance of a program plugin: one running program, configured once.
pub struct ProgramInstance {
    program: Arc<Program>,
    config: String,
    running: Option<Running>,
}

impl ProgramInstance {
    /// An instance with `config`, on `spare` (a program already introduced) or a new program.
    fn new(
        program: Arc<Program>,
        config: &str,
        spare: Option<Running>,
    ) -> Result<Self, PluginError> {
        let config = wire::one_line(config).into_owned();
        let running = configured(&program, &config, spare).map_err(|error| match error {
            ProgramError::Refused { error, .. } => error,
            other => PluginError::new(
                ErrorKind::Failed,
                format!("{} {other}", program.path.display()),
            ),
        })?;
        Ok(ProgramInstance {
            program,
            config,
            running: Some(running),
        })
    }

    fn call_program(&mut self, method: &str, input: &str) -> Result<String, PluginError> {
        let running = match self.running.as_mut() {
            Some(running) => running,
            None => {
                let again = configured(&self.program, &self.config, None).map_err(|error| {
                    PluginError::new(
                        ErrorKind::Failed,
                        format!(
                            "{} could not be started again after it ended: {error}",
                            self.program.path.display()
                        ),
                    )
                })?;
                self.running.insert(again)
            }
        };
        match running.call(method, input) {
            Ok(answer) => answer,
            Err(running::CallFailure::Ended(status)) => {
                self.running = None;
                if in_worker() {
                    end_worker_like(&self.program, status);
                }
                Err(PluginError::new(
                    ErrorKind::Failed,
                    format!(
                        "the program {} ended during the call ({}); the next task starts it again",
                        self.program.path.display(),
                        describe_exit(status)
                    ),
                ))
            }
            Err(running::CallFailure::Protocol(detail)) => {
                if let Some(running) = self.running.take() {
                    running.stop();
                }
                Err(PluginError::new(
                    ErrorKind::Failed,
                    format!(
                        "the program {} broke the program protocol ({detail}) and was stopped; the next task starts it again",
                        self.program.path.display()
                    ),
                ))
            }
        }
    }
}

impl Instance for ProgramInstance {
    fn call(&mut self, method: RStr<'_>, input: RStr<'_>) -> RResult<RString, PluginError> {
        self.call_program(method.as_str(), input.as_str())
            .map(RString::from)
            .into()
    }
}

impl Drop for ProgramInstance {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop();
        }
    }
}

/// A program introduced and given its configuration: `spare` when there is one, else a new one.
fn configured(
    program: &Arc<Program>,
    config: &str,
    spare: Option<Running>,
) -> Result<Running, ProgramError> {
    let limit = start_limit();
    let mut running = match spare {
        Some(running) => running,
        None => {
            let mut running = Running::start(program)?;
            running.introduce(limit)?;
            running
        }
    };
    running.configure(config, limit)?;
    Ok(running)
}

/// Ends this worker process as `program` ended: by the same signal, or with the same exit code,
/// after a line on stderr that says so. The pool then sees the crash of the task that ran.
fn end_worker_like(program: &Program, status: ExitStatus) -> ! {
    use std::os::unix::process::ExitStatusExt;
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!(
            "the program {} ended during a task ({}); the worker ends with it\n",
            program.path.display(),
            describe_exit(status)
        )
        .as_bytes(),
    );
    if let Some(signal) = status.signal() {
        // SAFETY: restores the default action of one signal, unblocks it and sends it to this
        // process, which is meant to end now.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, signal);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(signal);
        }
        std::process::exit(128 + signal);
    }
    let code = status.code().unwrap_or(1);
    // An exit code of 0 during a task is still an end the task did not ask for.
    std::process::exit(if code == 0 { 1 } else { code });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shebang_line_is_read_as_the_kernel_reads_it() {
        assert_eq!(
            parse_shebang(b"#!/usr/bin/env python3\nimport quack\n").unwrap(),
            ["/usr/bin/env", "python3"]
        );
        assert_eq!(
            parse_shebang(b"#! /usr/bin/python3  -u -X dev \r\n").unwrap(),
            ["/usr/bin/python3", "-u -X dev"]
        );
        assert_eq!(parse_shebang(b"#!/bin/sh\n").unwrap(), ["/bin/sh"]);
        assert!(
            parse_shebang(b"#!   \n")
                .unwrap_err()
                .contains("no interpreter")
        );
        assert!(parse_shebang(b"#!/bin/sh").unwrap_err().contains("no end"));
    }
}
