//! [`Summary`]: the counts per status and the times of a run, counted by the run itself as its
//! tasks finish.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Status, seconds};

/// Counts and times of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Tasks reported.
    pub tasks: u64,
    /// Tasks with status `ok`.
    pub ok: u64,
    /// Tasks with status `error`.
    pub error: u64,
    /// Tasks with status `crashed`.
    pub crashed: u64,
    /// Tasks with status `timeout`.
    pub timeout: u64,
    /// Tasks with status `cancelled`.
    pub cancelled: u64,
    /// Tasks with status `not-run` (absent in reports of hosts before it existed: 0).
    #[serde(default)]
    pub not_run: u64,
    /// Wall-clock time of the run, in seconds.
    pub wall_seconds: f64,
    /// CPU time (user and system) of the host and its worker processes, in seconds.
    pub cpu_seconds: f64,
    /// Tasks per second of wall time.
    pub tasks_per_second: f64,
}

impl Summary {
    /// Counts one finished task.
    pub fn count(&mut self, status: Status) {
        self.tasks += 1;
        *match status {
            Status::Ok => &mut self.ok,
            Status::Error => &mut self.error,
            Status::Crashed => &mut self.crashed,
            Status::Timeout => &mut self.timeout,
            Status::Cancelled => &mut self.cancelled,
            Status::NotRun => &mut self.not_run,
        } += 1;
    }

    /// How many tasks did not end `ok`.
    pub fn failed(&self) -> u64 {
        self.tasks - self.ok
    }

    /// The count for one status.
    pub fn of(&self, status: Status) -> u64 {
        match status {
            Status::Ok => self.ok,
            Status::Error => self.error,
            Status::Crashed => self.crashed,
            Status::Timeout => self.timeout,
            Status::Cancelled => self.cancelled,
            Status::NotRun => self.not_run,
        }
    }

    /// Fills in the times once the run is over.
    pub fn finish(&mut self, wall: Duration) {
        self.wall_seconds = seconds(wall);
        self.cpu_seconds = cpu_time().map_or(0.0, seconds);
        self.tasks_per_second = if self.wall_seconds > 0.0 {
            self.tasks as f64 / self.wall_seconds
        } else {
            0.0
        };
    }
}

/// User and system CPU time of this process and its waited-for children.
fn cpu_time() -> Option<Duration> {
    let used = |who| {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage writes a whole rusage into the pointer it is given.
        let status = unsafe { libc::getrusage(who, usage.as_mut_ptr()) };
        if status != 0 {
            return None;
        }
        // SAFETY: getrusage succeeded, so the struct is initialised.
        let usage = unsafe { usage.assume_init() };
        let time = |tv: libc::timeval| {
            Duration::from_secs(tv.tv_sec.max(0) as u64)
                + Duration::from_micros(tv.tv_usec.max(0) as u64)
        };
        Some(time(usage.ru_utime) + time(usage.ru_stime))
    };
    Some(used(libc::RUSAGE_SELF)? + used(libc::RUSAGE_CHILDREN)?)
}
