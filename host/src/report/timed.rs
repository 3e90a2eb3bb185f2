//! [`TimedFlush`]: a buffered writer that a thread of its own flushes when output has waited
//! long enough. Reporters buffer stdout and flush when the runner says it is about to wait; but
//! inline mode runs plugin code on the very thread that would flush, so a result finished just
//! before a long (or hanging) task would sit in the buffer until that task ends. With this, it
//! is out within [`FLUSH_AFTER`] whatever the plugin does, at one lock per write.

use std::{
    io::{self, BufWriter, Write},
    sync::{Arc, Mutex, MutexGuard, PoisonError, Weak},
    thread,
    time::Duration,
};

/// How long output may wait in the buffer.
pub const FLUSH_AFTER: Duration = Duration::from_millis(50);

/// A buffered writer flushed at the latest [`FLUSH_AFTER`] after it was written.
pub struct TimedFlush<W: Write + Send + 'static> {
    shared: Arc<Mutex<BufWriter<W>>>,
}

impl<W: Write + Send + 'static> TimedFlush<W> {
    /// `inner` behind a buffer of `capacity` bytes, with its flusher thread (which ends with the
    /// writer). Without a thread (the system refused one), it is a plain buffered writer.
    pub fn new(inner: W, capacity: usize) -> Self {
        let shared = Arc::new(Mutex::new(BufWriter::with_capacity(capacity, inner)));
        let weak: Weak<Mutex<BufWriter<W>>> = Arc::downgrade(&shared);
        let _ = thread::Builder::new()
            .name("quack-flush".to_owned())
            .spawn(move || {
                loop {
                    thread::sleep(FLUSH_AFTER);
                    let Some(shared) = weak.upgrade() else {
                        return;
                    };
                    let mut writer = lock(&shared);
                    if !writer.buffer().is_empty() {
                        // An error shows again at the writer's own next flush.
                        let _ = writer.flush();
                    }
                }
            });
        TimedFlush { shared }
    }
}

impl<W: Write + Send + 'static> TimedFlush<W> {
    /// `inner` behind a buffer of `capacity` bytes, with no flusher thread: for a run whose
    /// thread that writes never runs plugin code between writing and flushing (workers on threads
    /// or in processes, a run of one task), where the thread would only cost the start.
    pub fn without_flusher(inner: W, capacity: usize) -> Self {
        TimedFlush {
            shared: Arc::new(Mutex::new(BufWriter::with_capacity(capacity, inner))),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<W: Write + Send + 'static> Write for TimedFlush<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        lock(&self.shared).write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        lock(&self.shared).write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        lock(&self.shared).flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose bytes can be looked at from the test.
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<u8>>>);

    impl Write for Seen {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            lock(&self.0).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn output_left_in_the_buffer_goes_out_without_a_flush() {
        let seen = Seen::default();
        let mut writer = TimedFlush::new(seen.clone(), 1 << 16);
        writer.write_all(b"a finished task\n").unwrap();
        assert!(lock(&seen.0).is_empty(), "buffered at first");
        let mut waited = Duration::ZERO;
        while lock(&seen.0).is_empty() && waited < Duration::from_secs(5) {
            thread::sleep(Duration::from_millis(10));
            waited += Duration::from_millis(10);
        }
        assert_eq!(lock(&seen.0).as_slice(), b"a finished task\n");
    }
}
