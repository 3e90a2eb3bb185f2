//! The signals that stop a command: Ctrl-C (SIGINT), SIGTERM (what `timeout`, `docker stop`, CI
//! cancellation and Slurm send) and SIGHUP (the terminal went away) are all handled alike. The
//! first sets the cancel flag and is remembered for the exit code (128 + its number); a second
//! one of any of them (or one after a closed stdout stopped the run) ends the host at once with
//! its own code.
//!
//! No handler is installed: [`StopSignals::install`] blocks the three signals in the calling
//! thread, before the command starts any other thread (so that every thread, the plugin's
//! included, inherits the mask), and a thread of its own takes them with `sigwait`. Plugin code
//! that runs in the host (inline and thread mode, loading) and sets SIGINT to `SIG_IGN` or to a
//! handler of its own cannot take Ctrl-C away: a blocked signal is never discarded (Linux keeps a
//! signal pending while a thread blocks it, whatever its disposition), and the waiting thread
//! takes it. A blocked mask is inherited across `exec`, and the SIGTERM a worker, a launcher
//! or a probe is stopped with must reach it: every `host` clears the mask it inherited as its
//! first step ([`unblock_inherited`]), and a launcher, another program, starts with it cleared
//! (`runner::with_no_blocked_signals`).
//!
//! The command asks [`cancelled`] wherever it waits on something a signal must cut short: the
//! run's executors look at the flag every tick, and so do the waits before the run (the first
//! line of `--input -`, the probe of `--isolate`, `list` and `inspect`).

use std::{
    path::Path,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicBool, AtomicI32, Ordering},
    },
    time::Duration,
};

use crate::{
    cli::error::{HostError, exit_interrupted},
    input::{InputError, InputFormat, TaskInput},
};

/// How long after a stopping signal a run still going says why.
const STILL_STOPPING: Duration = Duration::from_secs(1);

/// The signals handled like Ctrl-C.
const STOPPING: [i32; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// The cancel flag of a command and which signal set it.
pub struct StopSignals {
    cancel: Arc<AtomicBool>,
    /// The first stopping signal's number; 0 before one came.
    signal: Arc<AtomicI32>,
}

/// The one `StopSignals` of the process.
static INSTALLED: OnceLock<StopSignals> = OnceLock::new();

impl StopSignals {
    /// Blocks the stopping signals and starts the thread that takes them; once per process (a
    /// second call returns the same flags). Call it before the command starts any thread.
    pub fn install() -> Result<&'static Self, HostError> {
        if let Some(installed) = INSTALLED.get() {
            return Ok(installed);
        }
        let set = stopping_set();
        // SAFETY: changes this thread's signal mask with a set made by sigemptyset/sigaddset.
        let blocked = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        if blocked != 0 {
            return Err(HostError::Signal(std::io::Error::from_raw_os_error(
                blocked,
            )));
        }
        let signals = StopSignals {
            cancel: Arc::new(AtomicBool::new(false)),
            signal: Arc::new(AtomicI32::new(0)),
        };
        let (cancel, signal) = (Arc::clone(&signals.cancel), Arc::clone(&signals.signal));
        let spawned = std::thread::Builder::new()
            .name("quack-signals".to_owned())
            .spawn(move || take_signals(&set, &cancel, &signal));
        if let Err(error) = spawned {
            // Without the thread, nobody would take them: give them back.
            // SAFETY: as above.
            unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
            return Err(HostError::Signal(error));
        }
        Ok(INSTALLED.get_or_init(|| signals))
    }

    /// The flag a signal sets, for the run.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancel)
    }

    /// The signal that stopped the command (SIGINT if none is known).
    pub fn received(&self) -> i32 {
        match self.signal.load(Ordering::SeqCst) {
            0 => libc::SIGINT,
            number => number,
        }
    }
}

/// Clears the signal mask this process inherited: a `host` started by another one (a worker, a
/// probe) hears the SIGTERM it is stopped with. Called first, on the main thread, before any
/// other thread exists; `host run` blocks its stopping signals again when it installs them.
pub fn unblock_inherited() {
    // SAFETY: a zeroed sigset_t is valid storage; sigemptyset fills it in, and sigprocmask sets
    // this (the only) thread's mask to it.
    unsafe {
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
}

/// The stopping signal that came, if one did (and the signals are installed).
pub fn cancelled() -> Option<i32> {
    let installed = INSTALLED.get()?;
    match installed.signal.load(Ordering::SeqCst) {
        0 => None,
        number => Some(number),
    }
}

/// How often a wait that a signal must cut short looks at the flag.
pub const TICK: Duration = Duration::from_millis(20);

/// The tasks of `--input PATH`, read so that a stopping signal cuts the wait short: standard
/// input (or a FIFO) may send its first line much later, or never. Then the run gets no tasks,
/// starts interrupted and ends as any interrupted run does (the report written, 128 + the
/// signal's number). A regular file is read as it is.
pub fn read_input(path: &Path, format: InputFormat) -> Result<TaskInput, InputError> {
    let regular =
        path != Path::new("-") && std::fs::metadata(path).is_ok_and(|metadata| metadata.is_file());
    if regular || INSTALLED.get().is_none() {
        return TaskInput::from_path(path, format);
    }
    let (send, receive) = crossbeam_channel::bounded(1);
    let owned = path.to_path_buf();
    let started = std::thread::Builder::new()
        .name("quack-input-start".to_owned())
        .spawn(move || {
            let _ = send.send(TaskInput::from_path(&owned, format));
        });
    if started.is_err() {
        return TaskInput::from_path(path, format);
    }
    loop {
        if cancelled().is_some() {
            // The reading thread stays blocked on the input; the process ends without it.
            return Ok(TaskInput::none(path));
        }
        match receive.recv_timeout(TICK) {
            Ok(read) => return read,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                return TaskInput::from_path(path, format);
            }
        }
    }
}

/// SIGINT, SIGTERM and SIGHUP as a signal set.
fn stopping_set() -> libc::sigset_t {
    // SAFETY: a zeroed sigset_t is valid storage; sigemptyset and sigaddset fill it in.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for number in STOPPING {
            libc::sigaddset(&mut set, number);
        }
        set
    }
}

/// The signal thread: waits for the stopping signals for as long as the process lives.
fn take_signals(set: &libc::sigset_t, cancel: &AtomicBool, signal: &AtomicI32) {
    loop {
        let mut number = 0;
        // SAFETY: sigwait with a valid set and a place for the number.
        if unsafe { libc::sigwait(set, &mut number) } != 0 {
            continue;
        }
        if cancel.load(Ordering::SeqCst) {
            // The second: at once, flushing nothing (a lock held elsewhere must not stop it).
            crate::report::progress::clear_before_exit();
            // SAFETY: ends the process.
            unsafe { libc::_exit(i32::from(exit_interrupted(number))) };
        }
        signal.store(number, Ordering::SeqCst);
        cancel.store(true, Ordering::SeqCst);
        // A command that a signal cannot end at once (inline mode, or a thread in plugin code
        // that cannot be stopped) says why it is still there, once, a moment after the signal.
        if let Some(second) = wait_for(set, STILL_STOPPING) {
            crate::report::progress::clear_before_exit();
            // SAFETY: as above.
            unsafe { libc::_exit(i32::from(exit_interrupted(second))) };
        }
        super::stdio::note(format_args!(
            "stopping: waiting for the running tasks to end; Ctrl-C again quits at once (finished results are on stdout, but no report is written then)"
        ));
    }
}

/// A signal of `set` within `timeout`, or `None` when none came.
fn wait_for(set: &libc::sigset_t, timeout: Duration) -> Option<i32> {
    let limit = libc::timespec {
        tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(1),
        tv_nsec: libc::c_long::from(timeout.subsec_nanos()),
    };
    loop {
        // SAFETY: sigtimedwait with a valid set, no siginfo wanted, and a valid timeout.
        let number = unsafe { libc::sigtimedwait(set, std::ptr::null_mut(), &limit) };
        if number > 0 {
            return Some(number);
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return None;
        }
    }
}
