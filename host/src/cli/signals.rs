//! The signals that stop a run: Ctrl-C (SIGINT), SIGTERM (what `timeout`, `docker stop`, CI
//! cancellation and Slurm send) and SIGHUP (the terminal went away) are all handled alike. The
//! first sets the run's cancel flag and is remembered for the exit code (128 + its number); a
//! second one of any of them ends the host at once with its own code.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use signal_hook::{
    consts::{SIGHUP, SIGINT, SIGTERM},
    flag,
};

use crate::error::{HostError, exit_interrupted};

/// How long after a stopping signal a run still going says why.
const STILL_STOPPING: Duration = Duration::from_secs(1);

/// The signals handled like Ctrl-C.
const STOPPING: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

/// The cancel flag of a run and which signal set it.
pub struct StopSignals {
    cancel: Arc<AtomicBool>,
    signal: Arc<AtomicUsize>,
}

impl StopSignals {
    /// Installs the handlers.
    pub fn install() -> Result<Self, HostError> {
        let cancel = Arc::new(AtomicBool::new(false));
        let signal = Arc::new(AtomicUsize::new(0));
        for number in STOPPING {
            // Registered first, so it sees the flag as the previous signal left it.
            flag::register_conditional_shutdown(
                number,
                i32::from(exit_interrupted(number)),
                Arc::clone(&cancel),
            )
            .map_err(HostError::Signal)?;
            let value = usize::try_from(number).unwrap_or_default();
            flag::register_usize(number, Arc::clone(&signal), value).map_err(HostError::Signal)?;
            flag::register(number, Arc::clone(&cancel)).map_err(HostError::Signal)?;
        }
        // A run that a signal cannot end at once (inline mode, or a thread in plugin code that
        // cannot be stopped) says why it is still there, once, a moment after the signal.
        // (A closed stdout sets the cancel flag too, and ends the run quietly: only a signal says
        // so.)
        let watched = Arc::clone(&signal);
        let _ = std::thread::Builder::new()
            .name("quack-stopping".to_owned())
            .spawn(move || {
                while watched.load(Ordering::SeqCst) == 0 {
                    std::thread::sleep(Duration::from_millis(100));
                }
                std::thread::sleep(STILL_STOPPING);
                super::stdio::note(format_args!(
                    "stopping: waiting for the running tasks to end; Ctrl-C again quits at once (finished results are on stdout, but no report is written then)"
                ));
            });
        Ok(StopSignals { cancel, signal })
    }

    /// The flag a signal sets, for the run.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancel)
    }

    /// The signal that stopped the run (SIGINT if none is known).
    pub fn received(&self) -> i32 {
        match self.signal.load(Ordering::SeqCst) {
            0 => SIGINT,
            number => i32::try_from(number).unwrap_or(SIGINT),
        }
    }
}
