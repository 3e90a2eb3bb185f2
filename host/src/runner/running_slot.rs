//! [`RunningSlot`]: a page of memory shared by the host and one worker process on the same
//! machine, where the worker notes which task it is running and since when, with plain stores
//! (no system call). It lets a worker send its answers in batches and still have every crash
//! blamed on the task that was running, and on it alone: after the worker's death the host reads
//! the slot; the tasks whose answers it never received and that were not running go to another
//! worker.
//!
//! The host makes the memory (an anonymous `memfd`), maps it, writes a token in it and lets the
//! worker inherit the descriptor; the start message names the descriptor and the token. The
//! worker maps the page, checks the token (a descriptor that is not the host's page is left
//! alone, and the worker then sends every answer before its next task runs, as it does through
//! a launcher, where there is no slot), and closes the descriptor: nothing the plugin starts
//! inherits it.
//!
//! The worker writes the task's start time, then its id; after the answer is written, "idle".
//! Every access is a sequentially consistent atomic, so a reader that sees the same id before and
//! after reading the time has the time of that task.

use std::{
    io,
    os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd},
    ptr::NonNull,
    sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst},
    time::{Duration, Instant},
};

/// The size of the shared memory: one page.
const PAGE: usize = 4096;
/// What `running` holds while no task runs (ids are stored one up).
const IDLE: u64 = 0;

/// The words at the start of the page.
#[repr(C)]
struct Words {
    /// The host's token, checked by the worker.
    token: AtomicU64,
    /// The running task's dispatch id plus one, or [`IDLE`].
    running: AtomicU64,
    /// When the running task started, in nanoseconds of `CLOCK_MONOTONIC`.
    started_ns: AtomicU64,
    /// Counts the host's leaves to go on after a failed task (a futex: a worker that pauses
    /// after a failure waits on it).
    resume: AtomicU32,
}

/// One worker's shared page, mapped in this process.
pub(crate) struct RunningSlot {
    words: NonNull<Words>,
}

// SAFETY: the page is only ever read and written through atomics, from any thread.
unsafe impl Send for RunningSlot {}
// SAFETY: as above.
unsafe impl Sync for RunningSlot {}

impl RunningSlot {
    /// The host's side: a new page bearing `token`, and the descriptor for the worker to inherit
    /// (it is not closed on exec; the host drops it once the worker is started).
    pub(crate) fn create(token: u64) -> io::Result<(Self, OwnedFd)> {
        // SAFETY: memfd_create takes a valid C string and returns a new descriptor or -1.
        let raw = unsafe { libc::memfd_create(c"quack-running-task".as_ptr(), 0) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: ftruncate on a descriptor this function owns.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), PAGE as libc::off_t) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let slot = Self::map(fd.as_raw_fd())?;
        slot.words().token.store(token, SeqCst);
        Ok((slot, fd))
    }

    /// The worker's side: the host's page at descriptor `fd` when it is one (a file of at least a
    /// page bearing `token`), the descriptor then closed; `None` (and the descriptor left alone)
    /// otherwise.
    pub(crate) fn adopt(fd: RawFd, token: u64) -> Option<Self> {
        if fd <= libc::STDERR_FILENO {
            return None;
        }
        // SAFETY: fstat writes only into the struct given; a descriptor that is not open fails.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut stat) } != 0
            || stat.st_mode & libc::S_IFMT != libc::S_IFREG
            || usize::try_from(stat.st_size).map_or(true, |size| size < PAGE)
        {
            return None;
        }
        let slot = Self::map(fd).ok()?;
        if slot.words().token.load(SeqCst) != token {
            return None;
        }
        // SAFETY: the descriptor is the host's page, inherited for this worker alone; the
        // mapping outlives it.
        unsafe { libc::close(fd) };
        Some(slot)
    }

    fn map(fd: RawFd) -> io::Result<Self> {
        // SAFETY: a fresh shared mapping of one page of `fd`; the result is checked below.
        let address = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                PAGE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if address == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        NonNull::new(address.cast::<Words>())
            .map(|words| RunningSlot { words })
            .ok_or_else(|| io::Error::other("mmap gave a null address"))
    }

    fn words(&self) -> &Words {
        // SAFETY: the mapping is a page, page-aligned, alive until drop, and holds only atomics.
        unsafe { self.words.as_ref() }
    }

    /// The worker is about to run task `id`.
    pub(crate) fn begin(&self, id: u64) {
        let words = self.words();
        words.started_ns.store(monotonic_nanos(), SeqCst);
        words.running.store(id.saturating_add(1), SeqCst);
    }

    /// The worker's last task is over and its answer written.
    pub(crate) fn end(&self) {
        self.words().running.store(IDLE, SeqCst);
    }

    /// The number of leaves the host has given so far, read before the worker asks for one.
    pub(crate) fn leaves(&self) -> u32 {
        self.words().resume.load(SeqCst)
    }

    /// Waits until the host gives a leave beyond `seen` ([`leaves`](Self::leaves) read before the
    /// host could have answered).
    pub(crate) fn wait_for_leave(&self, seen: u32) {
        let resume = &self.words().resume;
        while resume.load(SeqCst) == seen {
            // SAFETY: a futex wait on a word of the shared page while it holds `seen`; it
            // returns at once otherwise, on a wake-up, or on a signal.
            unsafe {
                libc::syscall(
                    libc::SYS_futex,
                    resume.as_ptr(),
                    libc::FUTEX_WAIT,
                    seen,
                    std::ptr::null::<libc::timespec>(),
                );
            }
        }
    }

    /// The host's side: lets a worker that paused after a failed task go on.
    pub(crate) fn give_leave(&self) {
        let resume = &self.words().resume;
        resume.fetch_add(1, SeqCst);
        // SAFETY: a futex wake-up of the waiters on a word of the shared page.
        unsafe {
            libc::syscall(libc::SYS_futex, resume.as_ptr(), libc::FUTEX_WAKE, i32::MAX);
        }
    }

    /// The task the worker is running and when it started; `None` between tasks.
    pub(crate) fn running(&self) -> Option<(u64, Instant)> {
        let words = self.words();
        loop {
            let before = words.running.load(SeqCst);
            if before == IDLE {
                return None;
            }
            let started = words.started_ns.load(SeqCst);
            if words.running.load(SeqCst) == before {
                let ago = Duration::from_nanos(monotonic_nanos().saturating_sub(started));
                let now = Instant::now();
                return Some((before - 1, now.checked_sub(ago).unwrap_or(now)));
            }
        }
    }
}

impl Drop for RunningSlot {
    fn drop(&mut self) {
        // SAFETY: the page mapped in `map`, unmapped once.
        unsafe { libc::munmap(self.words.as_ptr().cast(), PAGE) };
    }
}

/// `CLOCK_MONOTONIC` in nanoseconds: the clock `Instant` reads, the same in every process of the
/// machine.
fn monotonic_nanos() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes only into the struct given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    u64::try_from(now.tv_sec)
        .unwrap_or(0)
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::try_from(now.tv_nsec).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_adopts_the_hosts_page_and_the_host_reads_what_it_runs() {
        let (host, fd) = RunningSlot::create(77).unwrap();
        let worker = RunningSlot::adopt(fd.as_raw_fd(), 77).unwrap();
        // The worker closed the descriptor; the OwnedFd must not close it again.
        std::mem::forget(fd);
        assert!(host.running().is_none());
        let before = Instant::now();
        worker.begin(41);
        let (id, since) = host.running().unwrap();
        assert_eq!(id, 41);
        assert!(since >= before.checked_sub(Duration::from_millis(1)).unwrap());
        worker.end();
        assert!(host.running().is_none());
        let seen = worker.leaves();
        let waiting = std::thread::spawn(move || worker.wait_for_leave(seen));
        host.give_leave();
        waiting.join().unwrap();
    }

    #[test]
    fn a_descriptor_that_is_not_the_hosts_page_is_left_alone() {
        let (_host, fd) = RunningSlot::create(5).unwrap();
        assert!(
            RunningSlot::adopt(fd.as_raw_fd(), 6).is_none(),
            "another token"
        );
        let file = tempfile::tempfile().unwrap();
        assert!(
            RunningSlot::adopt(file.as_raw_fd(), 5).is_none(),
            "an empty file"
        );
        assert!(RunningSlot::adopt(1, 5).is_none(), "a standard stream");
        assert!(RunningSlot::adopt(9999, 5).is_none(), "no descriptor");
        // Left open: still usable.
        assert!(RunningSlot::adopt(fd.as_raw_fd(), 5).is_some());
        std::mem::forget(fd);
    }
}
