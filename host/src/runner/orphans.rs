//! Processes a task started that left its worker: a daemonising helper calls `setsid()`, so
//! stopping the worker's process group misses it, and it would outlive the run. During a run the
//! host is the subreaper of its descendants (`PR_SET_CHILD_SUBREAPER`): such a process, once its
//! parent is gone, becomes the host's child. [`reap`] kills and reaps every child of the host
//! that the host did not start itself ([`own`]): at the end of every run, and whenever a worker
//! dies (so a task stopped by `--timeout` takes its daemons with it).
//!
//! A child of the host is its own (and left alone) from [`own`] until [`disown`]: the workers and
//! launchers the runner started, which it waits for itself. Nothing is reaped in a process that
//! did not [`adopt`] its orphans (a library's caller, a test harness): there, children the
//! runner did not start may be someone else's.

use std::{
    collections::BTreeSet,
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

/// Whether this process adopted its orphans.
static ADOPTED: AtomicBool = AtomicBool::new(false);
/// The children the host started and reaps itself.
static OWN: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

/// How long [`reap`] waits for a killed process to be gone.
const KILL_WAIT: Duration = Duration::from_millis(500);
/// Rounds of [`reap`]: a killed orphan's own children become the host's in turn.
const ROUNDS: usize = 8;

/// Makes this process the reaper of its orphaned descendants, and [`reap`] kill them (Linux;
/// elsewhere nothing).
pub fn adopt() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER has no memory effects.
        let set = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) };
        ADOPTED.store(set == 0, Ordering::Relaxed);
    }
}

/// Notes `pid`, a child the host started and waits for itself: [`reap`] leaves it alone.
pub fn own(pid: u32) {
    OWN.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(pid);
}

/// Forgets `pid`, once the host has reaped it.
pub fn disown(pid: u32) {
    OWN.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&pid);
}

/// Kills and reaps every child of this process that it does not [`own`], and the children they
/// leave in turn. Returns how many it killed.
pub fn reap() -> usize {
    if !ADOPTED.load(Ordering::Relaxed) {
        return 0;
    }
    let mut killed = 0;
    for _ in 0..ROUNDS {
        let strays: Vec<u32> = {
            let own = OWN.lock().unwrap_or_else(PoisonError::into_inner);
            children()
                .into_iter()
                .filter(|pid| !own.contains(pid))
                .collect()
        };
        if strays.is_empty() {
            break;
        }
        for &pid in &strays {
            // SAFETY: kill has no memory effects; the pid is this process's child, not yet
            // reaped (it is listed as one), and not one the runner waits for itself.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
        killed += strays.len();
        let deadline = Instant::now() + KILL_WAIT;
        let mut left = strays;
        while !left.is_empty() && Instant::now() < deadline {
            left.retain(|&pid| {
                let mut status = 0;
                // SAFETY: waitpid writes only the status it is given; the pid is a child of
                // this process that nothing else waits for.
                let reaped =
                    unsafe { libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG) };
                reaped == 0
            });
            if !left.is_empty() {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
    killed
}

/// The pids of this process's children: from each thread's `/proc/self/task/TID/children` (a
/// few small files), or where the kernel has no such files, from every process's parent in
/// `/proc`.
fn children() -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(threads) = std::fs::read_dir("/proc/self/task") else {
        return every_child();
    };
    for thread in threads.flatten() {
        match std::fs::read_to_string(thread.path().join("children")) {
            Ok(list) => found.extend(
                list.split_whitespace()
                    .filter_map(|pid| pid.parse::<u32>().ok()),
            ),
            // A thread that ended meanwhile has no file; a kernel without them has none at all.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                if !thread.path().exists() {
                    continue;
                }
                return every_child();
            }
            Err(_) => {}
        }
    }
    found.sort_unstable();
    found.dedup();
    found
}

/// [`children`] the slow way: every process in `/proc` whose parent is this process.
fn every_child() -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me && parent_of(pid) == Some(me))
        .collect()
}

/// The parent of `pid`, from `/proc/PID/stat`: the fourth field, after the command name in
/// parentheses (which may itself hold spaces and parentheses).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_found_both_ways() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let pid = child.id();
        assert!(children().contains(&pid), "{:?}", children());
        assert!(every_child().contains(&pid), "{:?}", every_child());
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn the_parent_of_this_process_is_read_from_proc() {
        // SAFETY: getppid has no memory effects.
        let parent = unsafe { libc::getppid() } as u32;
        assert_eq!(parent_of(std::process::id()), Some(parent));
    }
}
