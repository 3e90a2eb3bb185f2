//! `host probe` (hidden): loads one plugin and prints what it is as one JSON object (or the load
//! error with its exit code), for `host inspect` and `host list`, which run it as a child process
//! with a time limit through [`probe`]. So a file whose loading crashes (a truncated library that
//! raises SIGBUS, a `describe` that segfaults), hangs (a constructor that loops) or ends the
//! process (`exit()` in a constructor or `describe`) takes down only its probe: the command
//! says what happened to that file and goes on. Ctrl-C, SIGTERM or SIGHUP while a probe runs
//! stops the probe and ends the command with 128 + the signal's number.

use std::{
    io::{self, Read, Write},
    os::unix::process::ExitStatusExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{Arc, mpsc},
    thread,
    time::{Duration, Instant},
};

use clap::Args;
use serde::{Deserialize, Serialize};

use super::{
    Outcome,
    sandbox::SandboxArgs,
    signals::{self, StopSignals},
    stdio::{self, PluginStdout},
};
use crate::{
    cli::error::{
        EXIT_PLUGIN_EXITED, EXIT_PROBE_FAILED, HostError, load_exit_code, sandbox_exit_code,
    },
    plugin::{LoadedPlugin, PluginInfo},
    runner::sys::describe_exit,
    sandbox::{Entered, Needs, Policy, SandboxError},
};

/// The hidden subcommand's name.
const SUBCOMMAND: &str = "probe";

/// Load one plugin and print what it is as JSON (used by inspect and list).
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The plugin library.
    plugin: PathBuf,

    /// The sandbox to load it in (`host run --sandbox`), entered before anything is loaded.
    #[command(flatten)]
    sandbox: SandboxArgs,
}

/// What a probe found: a plugin, or why the file is not one.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Plugin(Box<PluginInfo>),
    Error { message: String, exit_code: u8 },
}

impl ProbeArgs {
    pub(super) fn exec(self) -> Result<Outcome, HostError> {
        stdio::stdin_from_null();
        // Before the relay of the plugin's stdout starts a thread: Landlock binds the calling
        // thread and what it starts later.
        let _sandbox = match self.sandbox.policy() {
            None => None,
            Some(policy) => match enter_sandbox(&policy, &self.plugin) {
                Ok(entered) => Some(entered),
                Err((message, exit_code)) => {
                    let answer = Answer::Error { message, exit_code };
                    let mut out = io::stdout().lock();
                    serde_json::to_writer(&mut out, &answer)
                        .map_err(io::Error::from)
                        .and_then(|()| out.write_all(b"\n"))
                        .map_err(HostError::Output)?;
                    return Ok(Outcome::Exit(exit_code));
                }
            },
        };
        let name = self.plugin.display().to_string();
        let captured = PluginStdout::capture(&name).map_err(HostError::Output)?;
        let out = captured.quack_stdout().map_err(HostError::Output);
        let (answer, code) = match LoadedPlugin::load(&self.plugin) {
            Ok(plugin) => {
                captured.set_name(&plugin.info.description.name);
                (
                    Answer::Plugin(Box::new(Arc::unwrap_or_clone(plugin.info))),
                    0,
                )
            }
            Err(error) => {
                let exit_code = load_exit_code(&error);
                (
                    Answer::Error {
                        message: error.to_string(),
                        exit_code,
                    },
                    exit_code,
                )
            }
        };
        let written = out.and_then(|mut out| {
            serde_json::to_writer(&mut out, &answer)
                .map_err(io::Error::from)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(HostError::Output)
        });
        captured.finish();
        written?;
        Ok(Outcome::Exit(code))
    }
}

/// Restricts the probe to `policy` before it loads `plugin`; the error is the sentence and its
/// exit code.
fn enter_sandbox(policy: &Policy, plugin: &Path) -> Result<Entered, (String, u8)> {
    let refused = |error: SandboxError| {
        let code = sandbox_exit_code(&error);
        (error.to_string(), code)
    };
    // A plugin that is not there is the loader's to say, with its own exit code.
    let Ok(file) = std::fs::canonicalize(plugin) else {
        return crate::sandbox::enter(policy, &Needs::default()).map_err(refused);
    };
    if crate::program::is_program(&file) {
        // The probe is the host's code speaking to the program, which runs restricted.
        return crate::sandbox::restrict_children(policy, crate::sandbox::program_needs(&file))
            .map_err(refused);
    }
    let needs = Needs {
        read: vec![file],
        execute: Vec::new(),
    };
    let here = std::env::current_dir();
    let entered = crate::sandbox::enter(policy, &needs).map_err(refused)?;
    // The plugin is loaded by its path as the user gave it, which may be relative to where the
    // user is (the sandbox made the scratch directory the current one). Only the plugin's file
    // is readable there, as everywhere else.
    if let Ok(here) = here {
        let _ = std::env::set_current_dir(here);
    }
    Ok(entered)
}

/// Loads `path` in a child `host probe` and returns what it is, or the error (with its exit
/// code) if it is not a plugin, or if loading it crashed, hung past `limit` or ended the process.
/// A stopping signal before or while it runs stops the child: [`HostError::Interrupted`].
pub fn probe(path: &Path, limit: Duration) -> Result<PluginInfo, HostError> {
    probe_in(path, limit, None)
}

/// [`probe`], the child restricted to `sandbox` when there is one (`host run --sandbox`).
pub fn probe_in(
    path: &Path,
    limit: Duration,
    sandbox: Option<&Policy>,
) -> Result<PluginInfo, HostError> {
    let failed = |message: String, code| HostError::Probe { message, code };
    // `list` and `inspect` start no thread before their first probe: this is early enough.
    StopSignals::install()?;
    let interrupted = |signal| HostError::Interrupted {
        signal,
        what: path.to_path_buf(),
    };
    if let Some(signal) = signals::cancelled() {
        return Err(interrupted(signal));
    }
    let program = std::env::current_exe().map_err(|error| {
        failed(
            format!("cannot find the host binary to load {} in a child process ({error}); run the host by its path", path.display()),
            EXIT_PROBE_FAILED,
        )
    })?;
    // The probe is the host binary, which clears the signal mask it inherits as its first step.
    let spawned = Command::new(program)
        .arg(SUBCOMMAND)
        .arg(path)
        .args(sandbox.map(Policy::words).unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    let mut child = spawned.map_err(|error| {
        failed(
            format!(
                "could not start a process to load {} ({error}); check the system's process limits",
                path.display()
            ),
            EXIT_PROBE_FAILED,
        )
    })?;
    let (send, answer) = mpsc::channel();
    if let Some(mut stdout) = child.stdout.take() {
        thread::spawn(move || {
            let mut text = Vec::new();
            let _ = stdout.read_to_end(&mut text);
            let _ = send.send(text);
        });
    }
    let deadline = Instant::now() + limit;
    let stop = |child: &mut std::process::Child| {
        let _ = child.kill();
        let _ = child.wait();
    };
    // The answer comes when the child's stdout closes, which is when it exits: wait on that (a
    // tick at a time, for the signals), then reap it.
    let text = loop {
        if let Some(signal) = signals::cancelled() {
            stop(&mut child);
            return Err(interrupted(signal));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match answer.recv_timeout(left.min(signals::TICK)) {
            Ok(text) => break Some(text),
            Err(mpsc::RecvTimeoutError::Timeout) if !left.is_zero() => {}
            Err(_) => break None,
        }
    };
    let status = loop {
        if let Some(signal) = signals::cancelled() {
            stop(&mut child);
            return Err(interrupted(signal));
        }
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                stop(&mut child);
                break None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(1)),
            Err(_) => {
                stop(&mut child);
                break None;
            }
        }
    };
    let shown = path.display();
    let Some(status) = status else {
        return Err(failed(
            format!(
                "{shown}: loading it took longer than {}, so it was stopped (its initialisation or describe hangs); a plugin must load at once",
                humantime::format_duration(limit)
            ),
            EXIT_PROBE_FAILED,
        ));
    };
    // The child is gone; its answer came with the end of its stdout (unless it left a process
    // holding it, then whatever comes within a second).
    let text = match text {
        Some(text) => text,
        None => answer
            .recv_timeout(Duration::from_secs(1))
            .unwrap_or_default(),
    };
    let parsed = text
        .split(|&byte| byte == b'\n')
        .find_map(|line| serde_json::from_slice::<Answer>(line).ok());
    match (parsed, status.signal()) {
        (Some(Answer::Plugin(probed)), _) => Ok(*probed),
        (Some(Answer::Error { message, exit_code }), _) => Err(failed(message, exit_code)),
        (None, Some(_)) => Err(failed(
            format!(
                "{shown}: loading it crashed the process that tried ({}); it is a broken library or a plugin bug",
                describe_exit(status)
            ),
            EXIT_PROBE_FAILED,
        )),
        (None, None) => Err(failed(
            format!(
                "{shown}: loading it ended the process that tried ({}: the plugin called exit while loading); this is a bug in the plugin",
                describe_exit(status)
            ),
            EXIT_PLUGIN_EXITED,
        )),
    }
}
