//! The host's standard streams when it loads a plugin into its own process.
//!
//! - [`PluginStdout`]: before a plugin is loaded, Quack's own stdout moves to a private descriptor
//!   and fd 1 becomes a pipe read by a relay thread, which writes each line the plugin prints to
//!   stderr as `[plugin NAME] line`. So whatever a plugin prints (`println!`, `write(1, ...)`)
//!   never mixes with Quack's output: `--format json` and `jsonl` stay parseable.
//! - [`stdin_from_null`]: a plugin that reads its stdin reads `/dev/null` (unless the tasks come
//!   from stdin).
//! - [`ignore_closed`]: a reader that went away (`host inspect X | head -1`) is not an error.
//! - [`watch_reader`]: a run notices at once when the reader of its stdout goes away, even while
//!   it writes nothing (every worker busy with a long task).
//!
//! Writes to stderr go through [`note`], which drops errors: a closed or full stderr never stops
//! the host.

use std::{
    fs::File,
    io,
    os::{
        fd::{AsRawFd, FromRawFd, OwnedFd},
        unix::fs::FileTypeExt,
    },
    sync::{Arc, Mutex, mpsc},
    thread,
    time::Duration,
};

/// Writes one line to stderr (above the progress line when one is drawn), dropping any error (a
/// closed or full stderr must not stop the host).
pub fn note(line: std::fmt::Arguments<'_>) {
    crate::report::progress::eprint_line(&line.to_string());
}

/// Points fd 0 at `/dev/null`, so that a plugin reading its stdin reads nothing and never takes
/// input meant for someone else.
pub fn stdin_from_null() {
    // SAFETY: opening /dev/null and moving it onto fd 0; nothing in the host reads fd 0 here.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        if null >= 0 {
            libc::dup2(null, libc::STDIN_FILENO);
            libc::close(null);
        }
    }
}

/// `Ok` when `result` is, or when the error is only that the reader of stdout went away.
pub fn ignore_closed(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Calls `gone` (once, from a thread of its own) as soon as the reader of `out` goes away: the
/// pipe's read end (or the socket's peer) closed, which `poll` reports as an error or hang-up
/// with no write needed. A file or a terminal has no reader to lose: no thread is started for
/// them.
pub fn watch_reader(out: &File, gone: impl FnOnce() + Send + 'static) {
    let Ok(watched) = out.try_clone() else {
        return;
    };
    let Ok(metadata) = watched.metadata() else {
        return;
    };
    let kind = metadata.file_type();
    if !kind.is_fifo() && !kind.is_socket() {
        return;
    }
    let _ = thread::Builder::new()
        .name("quack-stdout-reader".to_owned())
        .spawn(move || {
            let mut poll = libc::pollfd {
                fd: watched.as_raw_fd(),
                // No events asked for: poll still reports an error and a hang-up, which are
                // what a reader's leaving looks like, and never that the pipe has room.
                events: 0,
                revents: 0,
            };
            loop {
                // SAFETY: one pollfd of a descriptor this thread owns (`watched`), no timeout.
                let ready = unsafe { libc::poll(&mut poll, 1, -1) };
                if ready < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                if ready > 0 && poll.revents & (libc::POLLERR | libc::POLLHUP) != 0 {
                    gone();
                }
                return;
            }
        });
}

/// How long the end of a run waits for the relay to pass on the plugin's last lines. Only a
/// process the plugin started and left running (which holds the pipe open) makes it wait.
const RELAY_DRAIN: Duration = Duration::from_secs(2);

/// Fd 1 taken over for a plugin: Quack's own stdout is [`PluginStdout::quack_stdout`].
pub struct PluginStdout {
    /// Quack's stdout, a private copy of the original fd 1.
    own: File,
    /// The name lines are marked with (the file name until the plugin says its name).
    name: Arc<Mutex<String>>,
    /// Says when the relay has passed on everything.
    relayed: mpsc::Receiver<()>,
}

impl PluginStdout {
    /// Moves Quack's stdout to a private descriptor and points fd 1 at a pipe whose lines go to
    /// stderr marked `[plugin NAME]`. `name` is what to call the plugin until
    /// [`PluginStdout::set_name`].
    pub fn capture(name: &str) -> io::Result<Self> {
        // SAFETY: plain descriptor calls; each result is checked and owned exactly once.
        let (own, read) = unsafe {
            let own = libc::fcntl(libc::STDOUT_FILENO, libc::F_DUPFD_CLOEXEC, 3);
            if own < 0 {
                return Err(io::Error::last_os_error());
            }
            let own = File::from_raw_fd(own);
            let mut ends = [0; 2];
            if libc::pipe2(ends.as_mut_ptr(), libc::O_CLOEXEC) < 0 {
                return Err(io::Error::last_os_error());
            }
            let read = OwnedFd::from_raw_fd(ends[0]);
            let write = OwnedFd::from_raw_fd(ends[1]);
            // fd 1 becomes the pipe (dup2 leaves it inheritable, as a stdout should be).
            if libc::dup2(ends[1], libc::STDOUT_FILENO) < 0 {
                return Err(io::Error::last_os_error());
            }
            drop(write);
            (own, read)
        };
        let name = Arc::new(Mutex::new(name.to_owned()));
        let (done, relayed) = mpsc::channel();
        let label = Arc::clone(&name);
        thread::Builder::new()
            .name("quack-plugin-stdout".to_owned())
            .spawn(move || {
                relay(File::from(read), &label);
                let _ = done.send(());
            })?;
        Ok(PluginStdout { own, name, relayed })
    }

    /// Marks the lines from now on with `name`.
    pub fn set_name(&self, name: &str) {
        if let Ok(mut label) = self.name.lock() {
            name.clone_into(&mut label);
        }
    }

    /// A handle on Quack's own stdout.
    pub fn quack_stdout(&self) -> io::Result<File> {
        self.own.try_clone()
    }

    /// Gives fd 1 back to stderr (so that a thread still running plugin code cannot reach
    /// Quack's stdout) and waits for the relay to pass on every line the plugin printed.
    pub fn finish(self) {
        // SAFETY: fd 2 is open (Rust's runtime opens /dev/null on a closed standard descriptor
        // before main); this closes the pipe's last write end.
        unsafe { libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) };
        let _ = self.relayed.recv_timeout(RELAY_DRAIN);
    }
}

/// Passes on each line read from `pipe` to stderr, marked with the plugin's name. Bytes that are
/// not UTF-8 are shown as replacement characters; nothing stops the relay but the pipe's end.
fn relay(pipe: File, name: &Mutex<String>) {
    crate::runner::sys::for_each_line(pipe, |text| {
        let label = name
            .lock()
            .map(|label| label.clone())
            .unwrap_or_else(|_| "?".to_owned());
        note(format_args!("[plugin {label}] {text}"));
    });
}
