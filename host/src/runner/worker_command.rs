//! [`WorkerCommand`]: how a worker process is started: a program with its arguments (built by the
//! CLI, which owns the spelling of its hidden `worker` subcommand) and an optional launcher prefix
//! (`ssh node1`, `srun ...`). The runner adds nothing to it: everything a worker needs to know (the
//! plugin, its configuration, its number) travels over the protocol once it has started.

use std::{
    collections::BTreeSet,
    ffi::{OsStr, OsString},
    path::{Path, PathBuf},
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

    /// The same command, telling `srun` to keep away from `nodes` (`--exclude=a,b` before the
    /// `--` that ends its words, where a later flag overrides a user's own `--exclude`). `None`
    /// when the launcher is not `srun` ending in `--`, as `--slurm` builds it: another launcher
    /// has no known way to be told.
    pub fn excluding(&self, nodes: &BTreeSet<String>) -> Option<Self> {
        let program = self.launcher.first().map(Path::new)?.file_name();
        let ends_with_separator =
            self.launcher.last().map(OsString::as_os_str) == Some(OsStr::new("--"));
        if program != Some(OsStr::new(super::launcher::SRUN))
            || !ends_with_separator
            || nodes.is_empty()
        {
            return None;
        }
        let list: Vec<&str> = nodes.iter().map(String::as_str).collect();
        let mut command = self.clone();
        let separator = command.launcher.len() - 1;
        command
            .launcher
            .insert(separator, format!("--exclude={}", list.join(",")).into());
        Some(command)
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
    fn srun_is_told_to_exclude_nodes_before_the_worker_command_and_other_launchers_are_not() {
        let nodes: BTreeSet<String> = ["node4".to_owned(), "node2".to_owned()].into();
        let slurm = WorkerCommand::new("/opt/host", ["worker"]).with_launcher([
            "srun",
            "--ntasks=1",
            "-p",
            "debug",
            "--",
        ]);
        let excluding = slurm.excluding(&nodes).unwrap();
        assert_eq!(
            excluding.display(),
            "srun --ntasks=1 -p debug --exclude=node2,node4 -- /opt/host worker"
        );
        assert_eq!(slurm.excluding(&BTreeSet::new()), None);
        let ssh = WorkerCommand::new("/opt/host", ["worker"]).with_launcher(["ssh", "-T", "node1"]);
        assert_eq!(ssh.excluding(&nodes), None);
        let srun_around_a_shell = WorkerCommand::new("/opt/host", ["worker"]).with_launcher([
            "srun",
            "sh",
            "-c",
            "exec \"$@\"",
            "sh",
        ]);
        assert_eq!(srun_around_a_shell.excluding(&nodes), None);
    }

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
