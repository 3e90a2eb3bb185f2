//! The pool's dispatch: how many tasks each worker gets in flight, handing them out, and taking
//! their answers (each the oldest task its worker is running, or a protocol error).

use std::{
    io::Write,
    time::{Duration, Instant},
};

use super::{
    InFlight, LAUNCHER_MAX_WINDOW, LAUNCHER_QUEUED_WORK, MAX_WINDOW, MIN_WINDOW, Pool, QUEUED_WORK,
    StopReason,
};
use crate::runner::{
    Json, Status, TaskRecord, answer,
    client::Done,
    outbox::Outbox,
    pending::Pending,
    protocol::{MAX_FRAME, TaskFrame, write_frame_in},
    record::CallOutcome,
};

impl Pool<'_> {
    /// The number of tasks to keep in flight per worker: enough to cover about QUEUED_WORK.
    /// With --max-fail, a worker without a running-task page (through a launcher) gets one task
    /// at a time: a task queued behind a failure would run after the run should have stopped. A
    /// worker with one pauses after each failure until the host has counted it.
    pub(super) fn window(&self, has_running_slot: bool) -> usize {
        if self.average.is_zero() || (self.context.limits.max_fail.is_some() && !has_running_slot) {
            return MIN_WINDOW;
        }
        let average = self.average.as_nanos().max(1);
        let (queued, max) = if self.command.has_launcher() {
            (LAUNCHER_QUEUED_WORK, LAUNCHER_MAX_WINDOW)
        } else {
            (QUEUED_WORK, MAX_WINDOW)
        };
        let window = queued.as_nanos() / average + 1;
        usize::try_from(window)
            .unwrap_or(max)
            .clamp(MIN_WINDOW, max)
    }

    /// Fills every ready worker's window and flushes what was written.
    pub(super) fn dispatch(&mut self, pending: &mut Pending<'_>, outbox: &mut Outbox<'_>) {
        outbox.freeze();
        let windows = [self.window(false), self.window(true)];
        for index in 0..self.slots.len() {
            let window = windows[usize::from(self.slots[index].client.has_running_slot())];
            let slot = &mut self.slots[index];
            if !slot.ready || slot.stopping.is_some() {
                continue;
            }
            while slot.in_flight.len() < window {
                let Some(task) = pending.next_task() else {
                    break;
                };
                let dispatch = self.next_dispatch;
                self.next_dispatch += 1;
                if slot.in_flight.is_empty() {
                    slot.running_since = Instant::now();
                }
                let size = task.input.as_str().len();
                if size > MAX_FRAME - 64 {
                    // It cannot travel: the task fails, the worker is untouched.
                    let error = format!(
                        "its input is {} bytes of JSON, more than a worker can be sent ({MAX_FRAME}); give it a path to read instead",
                        size
                    );
                    let record = TaskRecord::failed(
                        task,
                        Status::Error,
                        error,
                        index,
                        outbox.origin().elapsed(),
                        Duration::ZERO,
                    );
                    outbox.finished(record);
                    continue;
                }
                let written = match slot.client.stdin() {
                    Some(stdin) => write_frame_in(
                        stdin,
                        &TaskFrame::Task {
                            id: dispatch,
                            method: None,
                            input: task.input.as_raw(),
                        },
                        &mut self.frame_body,
                    )
                    .is_ok(),
                    None => false,
                };
                outbox.started(&task, Some(index));
                slot.in_flight.push_back(InFlight { dispatch, task });
                if !written {
                    // The pipe is gone: the worker is dying; its exit puts the tasks back.
                    slot.stop(StopReason::Broken);
                    break;
                }
                slot.unflushed = true;
            }
            if slot.unflushed {
                slot.unflushed = false;
                if let Some(stdin) = slot.client.stdin() {
                    if stdin.flush().is_err() {
                        slot.stop(StopReason::Broken);
                    }
                }
            }
        }
        outbox.thaw();
    }

    /// Records one answered task: the worker's oldest in flight, which it must be.
    pub(super) fn finish(&mut self, index: usize, done: Done, outbox: &mut Outbox<'_>) {
        let origin = outbox.origin();
        let slot = &mut self.slots[index];
        if slot.broken.is_some() {
            return;
        }
        let front = slot.in_flight.front().map(|flight| flight.dispatch);
        if front != Some(done.id) {
            let reason = match front {
                Some(_) => format!("an answer for task {}, which it was not running", done.id),
                None => format!("an answer for task {} while it had no task", done.id),
            };
            self.broke_protocol(index, reason, outbox);
            return;
        }
        let Some(InFlight { task, .. }) = slot.in_flight.pop_front() else {
            return;
        };
        let now = Instant::now();
        let duration = Duration::from_nanos(done.nanos);
        let start = now
            .checked_sub(duration)
            .unwrap_or(slot.running_since)
            .max(slot.running_since);
        slot.running_since = now;
        // The worker pauses after a frame without a result when --max-fail is on.
        let paused = done.ok.is_none() && self.context.limits.max_fail.is_some();
        let result = answer::read_done(done.ok, done.error, Json::from_raw);
        // Weight recent tasks more: 1/8 of each new duration.
        self.average = if self.average.is_zero() {
            duration.max(Duration::from_nanos(1))
        } else {
            (self.average * 7 + duration) / 8
        };
        self.crashes_in_a_row = 0;
        let record = CallOutcome::of_json(result, start, duration).into_record(task, index, origin);
        outbox.finished(record);
        // A worker that paused after this failure goes on unless it was the one that stops the
        // run (then it is stopped with the run, having started nothing more).
        if paused && self.context.stop_requested().is_none() {
            self.slots[index].client.give_leave();
        }
    }
}
