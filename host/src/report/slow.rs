//! `--slow-after DURATION`: [`SlowWatch`], one line on stderr for each attempt still running
//! after DURATION (nextest's `SLOW`), e.g. `SLOW [> 10s] task 3 (attempt 1, worker 0) is still
//! running`. A thread of its own looks at the attempts running, since in inline mode the thread
//! that reports events is the one running the task.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use crossbeam_channel::{RecvTimeoutError, Sender};

use crate::runner::{Event, EventKind, Flow, Reporter, sys::human_duration};

/// One attempt running.
struct Running {
    since: Instant,
    worker: Option<usize>,
    /// Whether its line was printed.
    said: bool,
}

/// Attempts running, by task id and attempt number.
type RunningMap = HashMap<(u64, u32), Running>;

/// Watches the attempts of a run and says which are slow.
pub struct SlowWatch {
    running: Arc<Mutex<RunningMap>>,
    stop: Option<Sender<()>>,
    watcher: Option<JoinHandle<()>>,
}

impl SlowWatch {
    /// A watch that says so for an attempt running longer than `after`.
    pub fn new(after: Duration) -> Self {
        let running = Arc::new(Mutex::new(RunningMap::new()));
        let (stop, stopped) = crossbeam_channel::bounded::<()>(1);
        let watched = Arc::clone(&running);
        // A tenth of the limit, between 10 ms and 1 s: late by at most that.
        let tick = (after / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let watcher = std::thread::Builder::new()
            .name("quack-slow".to_owned())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                    say_slow(&watched, after);
                }
            })
            .ok();
        SlowWatch {
            running,
            stop: Some(stop),
            watcher,
        }
    }

    fn running(&self) -> std::sync::MutexGuard<'_, RunningMap> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stops the watching thread.
    fn end(&mut self) {
        drop(self.stop.take());
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
    }
}

/// Prints the line of every attempt in `running` past `after` that has none yet.
fn say_slow(running: &Mutex<RunningMap>, after: Duration) {
    let mut running = running.lock().unwrap_or_else(PoisonError::into_inner);
    let mut slow: Vec<_> = running
        .iter_mut()
        .filter(|(_, attempt)| !attempt.said && attempt.since.elapsed() >= after)
        .map(|(key, attempt)| {
            attempt.said = true;
            (*key, attempt.worker)
        })
        .collect();
    drop(running);
    slow.sort_unstable();
    for ((id, attempt), worker) in slow {
        let worker = worker.map_or_else(String::new, |worker| format!(", worker {worker}"));
        super::progress::eprint_line(&format!(
            "SLOW [> {}] task {id} (attempt {attempt}{worker}) is still running",
            human_duration(after)
        ));
    }
}

impl Reporter for SlowWatch {
    fn report(&mut self, event: &Event) -> Flow {
        match &event.kind {
            EventKind::TaskStarted {
                id,
                worker,
                attempt,
            } => {
                self.running().insert(
                    (*id, *attempt),
                    Running {
                        since: Instant::now(),
                        worker: *worker,
                        said: false,
                    },
                );
            }
            EventKind::AttemptFailed {
                id,
                number,
                part: None,
                ..
            } => {
                self.running().remove(&(*id, *number));
            }
            EventKind::TaskFinished(record) => {
                self.running().retain(|(id, _), _| *id != record.id);
            }
            EventKind::RunFinished { .. } => self.end(),
            _ => {}
        }
        Flow::Continue
    }
}

impl Drop for SlowWatch {
    fn drop(&mut self) {
        self.end();
    }
}
