//! The slow call itself: blocks the calling thread in the kernel for a given time, like the
//! seed's `slow_syscall` (a `select()` with a timeout), without touching the CPU meanwhile.

use std::time::{Duration, Instant};

/// The longest wait one task may ask for, in seconds.
pub const MAX_SECONDS: f64 = 3600.0;

/// The plugin: it has no state and no configuration.
#[derive(Debug, Default, Clone, Copy)]
pub struct SlowIo;

impl SlowIo {
    /// Blocks for `seconds` and returns them.
    pub fn run(&self, seconds: f64) -> Result<f64, String> {
        block_for(seconds)
    }
}

/// Blocks in the kernel until `seconds` have passed on the monotonic clock, then returns them.
/// An interrupted wait (a signal) goes back to waiting for the time that is left.
pub fn block_for(seconds: f64) -> Result<f64, String> {
    if !seconds.is_finite() {
        return Err(format!("{seconds} is not a finite number of seconds"));
    }
    if seconds < 0.0 {
        return Err(format!("{seconds} seconds is negative: give 0 or more"));
    }
    if seconds > MAX_SECONDS {
        return Err(format!(
            "{seconds} seconds is longer than the limit of {MAX_SECONDS} (one hour)"
        ));
    }
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(seconds);
        }
        wait_in_kernel(left)?;
    }
}

/// One `ppoll` with no file descriptors: the thread sleeps in the kernel until the timeout or a
/// signal. (The seed's unconnected TCP socket reads as ready at once on Linux, so it would not
/// block; polling no descriptors always does.)
#[cfg(any(target_os = "linux", target_os = "android"))]
fn wait_in_kernel(time: Duration) -> Result<(), String> {
    let timeout = libc::timespec {
        tv_sec: libc::time_t::try_from(time.as_secs()).unwrap_or(libc::time_t::MAX),
        // Below 10^9, so it fits every platform's c_long.
        tv_nsec: time.subsec_nanos() as libc::c_long,
    };
    // SAFETY: no descriptors (a null array of length 0), a valid timespec that outlives the
    // call, and a null signal mask (keep the thread's own).
    let result = unsafe { libc::ppoll(std::ptr::null_mut(), 0, &timeout, std::ptr::null()) };
    if result < 0 {
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("the wait in the kernel (ppoll) failed: {error}"));
        }
    }
    Ok(())
}

/// Elsewhere, `nanosleep` through the standard library: also a wait in the kernel.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn wait_in_kernel(time: Duration) -> Result<(), String> {
    std::thread::sleep(time);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_blocks_for_at_least_the_time_asked() {
        let start = Instant::now();
        assert_eq!(block_for(0.05), Ok(0.05));
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(50), "took only {took:?}");
        assert!(took < Duration::from_secs(2), "took {took:?}");
    }

    #[test]
    fn zero_returns_at_once() {
        assert_eq!(block_for(0.0), Ok(0.0));
    }

    #[test]
    fn bad_durations_are_refused() {
        assert_eq!(
            block_for(-1.0),
            Err("-1 seconds is negative: give 0 or more".into())
        );
        assert!(
            block_for(f64::NAN)
                .unwrap_err()
                .contains("not a finite number")
        );
        assert!(
            block_for(f64::INFINITY)
                .unwrap_err()
                .contains("not a finite number")
        );
        assert!(
            block_for(3600.5)
                .unwrap_err()
                .contains("longer than the limit of 3600")
        );
    }
}
