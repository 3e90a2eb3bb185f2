//! [`WorkerCommand`]: how a worker process is started: a program with its arguments (built by the
//! CLI, which owns the spelling of its hidden `worker` subcommand) and an optional launcher prefix
//! (`ssh node1`, `srun ...`). The runner adds nothing to it: everything a worker needs to know (the
//! plugin, its configuration, its number) travels over the protocol once it has started.

use std::{
    ffi::OsString,
    path::PathBuf,
    process::{Command, Stdio},
};

/// The command line that starts one worker process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerCommand {
    /// The launcher's words, put before the program (empty: start the program directly).
    launcher: Vec<OsString>,
    /// The worker program, e.g. the `host` binary.
    program: PathBuf,
    /// Its arguments, e.g. `worker`.
    args: Vec<OsString>,
    /// Where workers run, for the reason line (set with the launcher).
    place: Option<String>,
    /// The sandbox its workers enter (its flags are among `args`), when there is one.
    sandbox: Option<SandboxNote>,
}

/// What the runner knows of the sandbox its workers enter: what is in force, for the reason
/// line, and the memory limit, so that a worker that ran out of it is said to have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxNote {
    /// The restrictions in force, one phrase each, joined.
    pub in_force: String,
    /// Each worker's memory limit, in bytes.
    pub memory: Option<u64>,
}

impl WorkerCommand {
    /// Starts `program` with `args` directly.
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Self {
        WorkerCommand {
            launcher: Vec::new(),
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            place: None,
            sandbox: None,
        }
    }

    /// The same command, whose workers enter the sandbox `note` describes (its flags are among
    /// the arguments already).
    pub fn with_sandbox(mut self, note: SandboxNote) -> Self {
        self.sandbox = Some(note);
        self
    }

    /// The sandbox its workers enter, when there is one.
    pub fn sandbox(&self) -> Option<&SandboxNote> {
        self.sandbox.as_ref()
    }

    /// The same command, started through `launcher` (its words come first).
    pub fn with_launcher(
        mut self,
        launcher: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Self {
        self.launcher = launcher.into_iter().map(Into::into).collect();
        self
    }

    /// The same command, with `place` saying where its workers run (`as Slurm job steps ...`).
    pub fn with_place(mut self, place: impl Into<String>) -> Self {
        self.place = Some(place.into());
        self
    }

    /// Where workers run, for people: what [`with_place`](Self::with_place) said, else the
    /// launcher they start through; `None` without a launcher.
    pub fn place(&self) -> Option<String> {
        if let Some(place) = &self.place {
            return Some(place.clone());
        }
        self.launcher_display()
            .map(|launcher| format!("through `{launcher}`"))
    }

    /// The launcher's words as a shell would read them; `None` without a launcher.
    pub fn launcher_display(&self) -> Option<String> {
        self.has_launcher().then(|| join(&self.launcher))
    }

    /// The same command started directly, on this machine (for a helper worker that needs no
    /// launcher, such as the one for `split` and `merge`).
    pub fn local(&self) -> Self {
        WorkerCommand {
            launcher: Vec::new(),
            program: self.program.clone(),
            args: self.args.clone(),
            place: None,
            sandbox: self.sandbox.clone(),
        }
    }

    /// Whether workers start through a launcher (and may run on another machine).
    pub fn has_launcher(&self) -> bool {
        !self.launcher.is_empty()
    }

    /// The launcher's words, if any.
    pub fn launcher(&self) -> &[OsString] {
        &self.launcher
    }

    /// The worker program.
    pub fn program(&self) -> &PathBuf {
        &self.program
    }

    /// The whole command line, for people.
    pub fn display(&self) -> String {
        let words: Vec<OsString> = self
            .launcher
            .iter()
            .cloned()
            .chain(std::iter::once(self.program.clone().into_os_string()))
            .chain(self.args.iter().cloned())
            .collect();
        join(&words)
    }

    /// A [`Command`] for one worker: its stdin and stdout are the protocol's pipes, its stderr a
    /// pipe of its own, and it runs in a process group of its own (a Ctrl-C in the terminal
    /// reaches the host only, which stops its workers itself, and stopping a worker stops every
    /// process it started).
    pub(crate) fn command(&self) -> Command {
        use std::os::unix::process::CommandExt;
        let mut words = self
            .launcher
            .iter()
            .cloned()
            .chain(std::iter::once(self.program.clone().into_os_string()))
            .chain(self.args.iter().cloned());
        let first = words.next().unwrap_or_default();
        let mut command = Command::new(first);
        command
            .args(words)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        // The host blocks its stopping signals, and the mask is inherited across exec. The
        // worker program (the host binary) clears it itself as its first step, which keeps the
        // spawn a vfork; a launcher is another program and must start with it cleared.
        if self.has_launcher() {
            with_no_blocked_signals(&mut command);
        }
        command
    }
}

/// Makes `command`'s process start with no signal blocked. The host blocks its stopping signals
/// in every thread (one thread takes them with `sigwait`), and a blocked mask is inherited across
/// `exec`: without this, a program that is not the host (a launcher such as `srun`) would never
/// see the SIGTERM it is stopped with (and `srun` could not cancel its job on it). It costs the
/// spawn its vfork (a `pre_exec` closure makes std fork), so the host binary clears its own mask
/// instead.
pub fn with_no_blocked_signals(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec and calls only
    // `sigemptyset` and `sigprocmask`, which are async-signal-safe, on a set on its own stack.
    unsafe {
        command.pre_exec(|| {
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            if libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Words as a shell reads them: quoted only where a shell would split or expand them.
pub(crate) fn join(words: &[OsString]) -> String {
    words
        .iter()
        .map(|word| {
            let word = word.to_string_lossy();
            let plain = !word.is_empty()
                && word.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(c, '-' | '_' | '=' | '/' | '.' | ',' | ':' | '+' | '@' | '%')
                });
            if plain {
                word.into_owned()
            } else {
                shell_words::quote(&word).into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_launcher_comes_first_and_the_display_quotes_like_a_shell() {
        let command =
            WorkerCommand::new("/opt/quack/host", ["worker"]).with_launcher(["ssh", "node 1"]);
        assert_eq!(command.display(), "ssh 'node 1' /opt/quack/host worker");
        let built = command.command();
        assert_eq!(built.get_program(), "ssh");
        let args: Vec<_> = built.get_args().collect();
        assert_eq!(args, ["node 1", "/opt/quack/host", "worker"]);
    }
}
