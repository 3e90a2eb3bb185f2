//! The pool's endings: a worker's death (what it costs its tasks, and its replacement), time
//! limits and start limits, and the end of the run.

use std::{
    collections::VecDeque,
    process::ExitStatus,
    time::{Duration, Instant},
};

use crossbeam_channel::Receiver;

use super::{GRACE, InFlight, MAX_FAILED_STARTS, MIN_CRASH_LOOP, Pool, StopReason};
use crate::runner::{
    RunError, Status, TaskRecord,
    client::WorkerEvent,
    outbox::{Outbox, Stop},
    pending::Pending,
    sys::{describe_exit, human_duration},
};

impl Pool<'_> {
    /// A worker exited: its running task fails (or runs again), the tasks queued behind it go
    /// back to the others, and a new worker takes its place if there is work left.
    pub(super) fn bury(
        &mut self,
        index: usize,
        status: ExitStatus,
        pending: &mut Pending<'_>,
        outbox: &mut Outbox<'_>,
    ) -> Result<(), RunError> {
        let origin = outbox.origin();
        let limits = self.context.limits;
        let has_launcher = self.command.has_launcher();
        let memory_limit = self.command.sandbox().and_then(|sandbox| sandbox.memory);
        let slot = &mut self.slots[index];
        slot.client.exited();
        // What its tasks started and left behind (a daemon of its own session) goes with it.
        crate::runner::orphans::reap();
        // Through a launcher, its last words say what happened (`srun: error: ...: Killed`).
        let said = if has_launcher {
            slot.client.said()
        } else {
            String::new()
        };
        let was_ready = slot.ready;
        let node = if was_ready {
            slot.node.clone()
        } else {
            self.failed_start_node(index)
        };
        let on_node = node
            .as_deref()
            .map_or_else(String::new, |node| format!(" on {node}"));
        let slot = &mut self.slots[index];
        let stopping = slot.stopping.take();
        let stop = stopping.as_ref().map(|stopping| stopping.reason);
        // The task blamed: the one running when the host decided to stop the worker, else the
        // one it was running when it died.
        let running = stopping
            .and_then(|stopping| stopping.task)
            .or_else(|| slot.running_task());
        let mut in_flight: VecDeque<InFlight> = std::mem::take(&mut slot.in_flight);
        let how = describe_exit(status);
        let (task_status, error) = match (stop, slot.broken.take()) {
            (Some(StopReason::Timeout), _) => {
                let limit = limits
                    .timeout
                    .map_or_else(String::new, |t| format!(" of {}", human_duration(t)));
                (
                    Status::Timeout,
                    format!("ran past the time limit{limit}; worker {index} was stopped"),
                )
            }
            (Some(StopReason::Cancel), _) => {
                (Status::Cancelled, "the run was interrupted".to_owned())
            }
            (Some(StopReason::Slow), _) => (
                Status::Crashed,
                format!(
                    "worker {index} did not start{on_node} within {}{said}",
                    human_duration(limits.start_timeout)
                ),
            ),
            (Some(StopReason::Lost), _) => {
                let silence = limits.lost_after.map_or_else(String::new, |limit| {
                    format!(" for {}", human_duration(limit))
                });
                (
                    Status::Crashed,
                    format!(
                        "worker {index}{on_node} went silent{silence} (not even a heartbeat: its node may be down or cut off) and was stopped{said}"
                    ),
                )
            }
            (Some(StopReason::Refused), refused) => (
                Status::Crashed,
                format!(
                    "worker {index} was refused{on_node}: {}",
                    refused.unwrap_or_default()
                ),
            ),
            (_, Some(broken)) => (
                Status::Crashed,
                format!("worker {index} broke the protocol ({broken}) and was stopped"),
            ),
            (Some(StopReason::Broken) | None, None) if !was_ready => (
                Status::Crashed,
                format!("worker {index} died{on_node} before its hello: {how}{said}"),
            ),
            (Some(StopReason::Broken) | None, None) => {
                let error = match (memory_limit, slot.client.out_of_memory()) {
                    // A sandbox's memory limit, and the worker said an allocation failed.
                    (Some(limit), Some(line)) => format!(
                        "worker {index} ran out of its {} of memory (--memory): it said \"{line}\" and died: {how}",
                        crate::sandbox::human_size(limit)
                    ),
                    _ => format!("worker {index} died: {how}{said}"),
                };
                (Status::Crashed, error)
            }
        };
        if task_status == Status::Crashed {
            self.crashes_in_a_row += 1;
        }
        let blamed = running.and_then(|(dispatch, since)| {
            let position = in_flight
                .iter()
                .position(|flight| flight.dispatch == dispatch)?;
            in_flight
                .remove(position)
                .map(|flight| (flight.task, since))
        });
        if let Some((task, running_since)) = blamed {
            let record = TaskRecord::failed(
                task,
                task_status,
                error.clone(),
                index,
                running_since.saturating_duration_since(origin),
                Instant::now().saturating_duration_since(running_since),
            );
            outbox.attempt_failed(record, limits.retries, pending);
        }
        // The others never started, or their answers died with the worker: another worker takes
        // them.
        pending.put_back(in_flight.into_iter().map(|flight| flight.task));

        if stop == Some(StopReason::Cancel) || self.context.stop_requested().is_some() {
            return Ok(());
        }
        if !was_ready && !self.failed_start(index, node, &error, outbox)? {
            return Ok(());
        }
        let crash_loop = MIN_CRASH_LOOP.max(2 * self.slots.len());
        if self.crashes_in_a_row >= crash_loop {
            return Err(RunError::Replacement {
                worker: index,
                reason: format!(
                    "{crash_loop} workers in a row crashed before any task finished (the last: {error}); the plugin crashes at every turn, so the run stops respawning"
                ),
            });
        }
        if pending.is_exhausted() && self.slots.iter().all(|slot| slot.in_flight.is_empty()) {
            return Ok(());
        }
        let generation = self.slots[index].client.generation() + 1;
        self.slots[index] =
            self.spawn(index, generation)
                .map_err(|error| RunError::Replacement {
                    worker: index,
                    reason: error.to_string(),
                })?;
        outbox.replaced(index, error);
        Ok(())
    }

    /// Counts the failed start of the worker in `index` (on `node`, when known): a node where
    /// [`MAX_FAILED_STARTS`] starts in a row failed is left out of the next starts while other
    /// workers are alive; as many failed starts in a row overall give the place up while other
    /// workers are alive, and end the run when none is. Whether the place gets a new worker.
    fn failed_start(
        &mut self,
        index: usize,
        node: Option<String>,
        error: &str,
        outbox: &mut Outbox<'_>,
    ) -> Result<bool, RunError> {
        self.failed_starts += 1;
        let alive = self.alive_besides(index);
        if let Some(node) = node {
            let count = self.failed_on_node.entry(node.clone()).or_default();
            *count += 1;
            if *count >= MAX_FAILED_STARTS && alive > 0 && !self.excluded.contains(&node) {
                let mut excluded = self.excluded.clone();
                excluded.insert(node.clone());
                if let Some(command) = self.command.excluding(&excluded) {
                    let list: Vec<&str> = excluded.iter().map(String::as_str).collect();
                    outbox.notice(
                        index,
                        format!(
                            "node {node} is left out of this run's next workers (srun --exclude={}): {MAX_FAILED_STARTS} workers in a row failed to start there (the last: {error})",
                            list.join(",")
                        ),
                    );
                    self.excluded = excluded;
                    self.excluding = Some(command);
                    // The next starts go elsewhere: the count begins again.
                    self.failed_starts = 0;
                }
            }
        }
        if self.failed_starts < MAX_FAILED_STARTS {
            return Ok(true);
        }
        if alive == 0 {
            return Err(RunError::Replacement {
                worker: index,
                reason: format!(
                    "{MAX_FAILED_STARTS} new workers in a row did not start (the last: {error})"
                ),
            });
        }
        outbox.notice(
            index,
            format!(
                "worker {index} is not replaced: {MAX_FAILED_STARTS} new workers in a row did not start (the last: {error}); the run goes on with {alive} worker{}",
                if alive == 1 { "" } else { "s" }
            ),
        );
        Ok(false)
    }

    /// The earliest moment something must be checked: a task's time limit, a start's limit or a
    /// kill's grace.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let timeout = self.context.limits.timeout;
        let lost_after = self.context.limits.lost_after;
        self.slots
            .iter()
            .filter_map(|slot| match &slot.stopping {
                Some(stopping) if !stopping.killed => Some(stopping.since + GRACE),
                Some(_) => None,
                None if !slot.ready && slot.client.is_alive() => slot
                    .client
                    .spawned()
                    .checked_add(self.context.limits.start_timeout),
                None => {
                    let task_limit = timeout
                        .zip(slot.limit_since())
                        .and_then(|(limit, since)| since.checked_add(limit));
                    let silence_limit =
                        lost_after.and_then(|limit| slot.client.last_heard().checked_add(limit));
                    task_limit.into_iter().chain(silence_limit).min()
                }
            })
            .min()
    }

    /// Stops workers whose running task is past its limit, and kills those past their grace. A
    /// worker that does not start in time ends the run while no worker has started, and is
    /// replaced after.
    pub(super) fn enforce_deadlines(&mut self) -> Result<(), RunError> {
        let now = Instant::now();
        let timeout = self.context.limits.timeout;
        let start_timeout = self.context.limits.start_timeout;
        let past =
            |since: Instant, limit: Duration| since.checked_add(limit).is_some_and(|at| now >= at);
        for index in 0..self.slots.len() {
            let slot = &mut self.slots[index];
            match &mut slot.stopping {
                Some(stopping) if !stopping.killed && now >= stopping.since + GRACE => {
                    stopping.killed = true;
                    slot.client.signal(libc::SIGKILL);
                }
                Some(_) => {}
                None if !slot.ready => {
                    if slot.client.is_alive() && past(slot.client.spawned(), start_timeout) {
                        if !self.started {
                            let said = slot.client.said();
                            return Err(self.start_failed_with(
                                index,
                                format!(
                                    "it did not start within {}{said}",
                                    human_duration(start_timeout)
                                ),
                                "raise --start-timeout if it only waits its turn, or ask for less",
                            ));
                        }
                        slot.stop(StopReason::Slow);
                    }
                }
                None => {
                    if let Some(limit) = timeout.filter(|_| !slot.in_flight.is_empty()) {
                        let running = slot.running_task();
                        if running.is_some_and(|(_, since)| past(since, limit)) {
                            slot.stop_running(StopReason::Timeout, running);
                            continue;
                        }
                    }
                    if let Some(limit) = self.context.limits.lost_after {
                        if past(slot.client.last_heard(), limit) {
                            slot.stop(StopReason::Lost);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Ends the run. Stopped early (`stop`): stops every worker and reports what they had and
    /// what waited to run again as stopped; otherwise closes their stdin so they exit. Then waits
    /// for them (killing what is left after a grace).
    pub(super) fn shut_down(
        &mut self,
        stop: Option<&Stop>,
        receiver: &Receiver<WorkerEvent>,
        pending: &mut Pending<'_>,
        outbox: &mut Outbox<'_>,
    ) {
        self.closing = true;
        // A worker that has not said hello may be a launcher still waiting for its turn (`srun`
        // in the queue) that closed pipes do not reach: SIGTERM lets it withdraw its request,
        // where the SIGKILL after the grace would leave the job queued. It goes first, before
        // the workers that leave free room the waiting request could take.
        for slot in &mut self.slots {
            if stop.is_some() || !slot.ready {
                slot.stop(StopReason::Cancel);
            }
        }
        for slot in &mut self.slots {
            slot.client.close();
        }
        if let Some(stop) = stop {
            for (index, slot) in self.slots.iter_mut().enumerate() {
                let running = slot.running_task();
                for flight in slot.in_flight.drain(..) {
                    // One task was running; the others never started, or finished with their
                    // answers not sent.
                    let started = running
                        .filter(|(dispatch, _)| *dispatch == flight.dispatch)
                        .map(|(_, since)| since);
                    outbox.stopped(stop, flight.task, index, started);
                }
            }
            outbox.drain_pending(stop, pending);
        }
        let deadline = Instant::now() + GRACE * 2;
        while self.slots.iter().any(|slot| slot.client.is_alive()) {
            let Ok(event) = receiver.recv_deadline(deadline) else {
                for slot in &self.slots {
                    slot.client.signal(libc::SIGKILL);
                }
                break;
            };
            // While closing, handling a message cannot fail.
            let _ = self.handle(event, pending, outbox);
        }
    }
}

/// Raises this process's soft limit on open files towards its hard limit when `workers` need more
/// than it allows (three pipes each, plus what a launcher such as srun keeps): the common soft
/// limit of 1,024 would otherwise stop a run at about 300 workers.
pub(super) fn raise_file_limit(workers: usize) {
    let needed = libc::rlim_t::try_from(workers.saturating_mul(4).saturating_add(64))
        .unwrap_or(libc::rlim_t::MAX);
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < needed {
            limit.rlim_cur = needed.min(limit.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
