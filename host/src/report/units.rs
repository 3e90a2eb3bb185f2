//! [`Timeline`]: a saved report as the units of work that ran (every attempt at a task, every
//! part of a split task, with its worker, node, start and end), the workers' tracks, and the run's
//! moments (workers started and replaced, crashes). The trace (`report/trace.rs`) and the HTML
//! report (`report/html.rs`) are drawn from it, so both show what the report alone says.

use std::collections::BTreeMap;

use super::read::{SavedReport, SavedRun, SavedTask};
use crate::runner::Status;

/// One unit of work: an attempt at a task, or at one part of a split task.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The task's id.
    pub task: u64,
    /// Which part (from 0) and of how many, for a part of a split task.
    pub part: Option<(u64, u64)>,
    /// Which attempt at that task or part, from 1.
    pub attempt: u32,
    /// The worker that ran it.
    pub worker: u64,
    /// The node that worker ran on, when the report says.
    pub node: Option<String>,
    /// How it ended.
    pub status: Status,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// When it started, in seconds since the run started.
    pub start_seconds: f64,
    /// How long it ran, in seconds.
    pub duration_seconds: f64,
}

impl Unit {
    /// When it ended, in seconds since the run started.
    pub fn end_seconds(&self) -> f64 {
        self.start_seconds + self.duration_seconds
    }
}

/// A worker's track: every unit it ran, and the nodes its processes ran on.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// The worker's number.
    pub worker: u64,
    /// The nodes it ran on, in order of its processes (one, unless a replacement went elsewhere).
    pub nodes: Vec<String>,
    /// Seconds it spent running units.
    pub busy_seconds: f64,
}

/// Something that happened at one moment of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Moment {
    /// When, in seconds since the run started.
    pub at_seconds: f64,
    /// The worker it happened to.
    pub worker: u64,
    /// What happened.
    pub kind: MomentKind,
    /// In words.
    pub detail: String,
}

/// The kinds of [`Moment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MomentKind {
    /// A worker process was ready for tasks.
    WorkerStarted,
    /// A worker was found gone and replaced.
    WorkerReplaced,
    /// An attempt crashed (its worker died).
    Crash,
    /// An attempt ran past its time limit.
    Timeout,
}

impl MomentKind {
    /// Its name, as the trace and the HTML report show it.
    pub fn name(self) -> &'static str {
        match self {
            MomentKind::WorkerStarted => "worker started",
            MomentKind::WorkerReplaced => "worker replaced",
            MomentKind::Crash => "crash",
            MomentKind::Timeout => "timeout",
        }
    }
}

/// A part of the run from one moment to another.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// Its name: `starting workers`, `running tasks`, `finishing`.
    pub name: &'static str,
    /// When it began.
    pub start_seconds: f64,
    /// When it ended.
    pub end_seconds: f64,
}

/// What ran where, drawn from a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// Every unit that ran, in order of start.
    pub units: Vec<Unit>,
    /// One track per worker that ran a unit or started, by worker number.
    pub tracks: Vec<Track>,
    /// Workers started and replaced, crashes and timeouts, in order.
    pub moments: Vec<Moment>,
    /// The run's phases, in order.
    pub phases: Vec<Phase>,
    /// The run's wall time.
    pub wall_seconds: f64,
}

impl Timeline {
    /// The timeline of `report`. A unit that never started (`not-run`, or cancelled before it
    /// started) is not on it; a report of an older host, which kept no nodes or parts, gives
    /// each task as one unit on its worker, the node taken from the report's workers or machine.
    pub fn of(report: &SavedReport) -> Self {
        let fallback_node = report.machine.host_name.clone();
        let worker_node = |worker: u64| {
            report
                .workers
                .iter()
                .find(|known| known.worker == worker)
                .map(|known| known.node.clone())
                .or_else(|| fallback_node.clone())
        };
        let mut units = Vec::new();
        for task in &report.tasks {
            units_of(task, &mut units);
        }
        for unit in &mut units {
            if unit.node.is_none() {
                unit.node = worker_node(unit.worker);
            }
        }
        units.retain(|unit| ran(unit.status, unit.duration_seconds));
        units.sort_by(|a, b| {
            a.start_seconds
                .total_cmp(&b.start_seconds)
                .then(a.task.cmp(&b.task))
        });
        let mut tracks: BTreeMap<u64, Track> = BTreeMap::new();
        fn track(tracks: &mut BTreeMap<u64, Track>, worker: u64) -> &mut Track {
            tracks.entry(worker).or_insert_with(|| Track {
                worker,
                nodes: Vec::new(),
                busy_seconds: 0.0,
            })
        }
        for worker in &report.workers {
            let track = track(&mut tracks, worker.worker);
            if !track.nodes.contains(&worker.node) {
                track.nodes.push(worker.node.clone());
            }
        }
        for unit in &units {
            let track = track(&mut tracks, unit.worker);
            track.busy_seconds += unit.duration_seconds;
            if let Some(node) = &unit.node {
                if !track.nodes.contains(node) {
                    track.nodes.push(node.clone());
                }
            }
        }
        let mut moments = Vec::new();
        for worker in &report.workers {
            if let Some(at) = worker.start_seconds {
                moments.push(Moment {
                    at_seconds: sane(at),
                    worker: worker.worker,
                    kind: MomentKind::WorkerStarted,
                    detail: format!(
                        "worker {} started on {} (pid {})",
                        worker.worker, worker.node, worker.pid
                    ),
                });
            }
        }
        // A crash before the replacement it causes, when both fall on one moment.
        for unit in &units {
            let kind = match unit.status {
                Status::Crashed => MomentKind::Crash,
                Status::Timeout => MomentKind::Timeout,
                _ => continue,
            };
            moments.push(Moment {
                at_seconds: unit.end_seconds(),
                worker: unit.worker,
                kind,
                detail: format!(
                    "{}: {}",
                    unit_name(unit),
                    unit.error.as_deref().unwrap_or(kind.name())
                ),
            });
        }
        for replaced in &report.replacements {
            moments.push(Moment {
                at_seconds: sane(replaced.at_seconds),
                worker: replaced.worker,
                kind: MomentKind::WorkerReplaced,
                detail: format!("worker {} replaced: {}", replaced.worker, replaced.reason),
            });
        }
        moments.sort_by(|a, b| a.at_seconds.total_cmp(&b.at_seconds));
        let wall_seconds = sane(report.summary.wall_seconds)
            .max(units.iter().map(Unit::end_seconds).fold(0.0, f64::max));
        let phases = phases(&units, &moments, wall_seconds);
        Timeline {
            units,
            tracks: tracks.into_values().collect(),
            moments,
            phases,
            wall_seconds,
        }
    }

    /// How many units each worker ran.
    pub fn units_of(&self, worker: u64) -> impl Iterator<Item = &Unit> {
        self.units.iter().filter(move |unit| unit.worker == worker)
    }
}

/// "task 3", "task 3 part 2/54", with ", attempt 2" after a retry.
pub fn unit_name(unit: &Unit) -> String {
    let mut name = format!("task {}", unit.task);
    if let Some((index, of)) = unit.part {
        name.push_str(&format!(" part {}/{of}", index + 1));
    }
    if unit.attempt > 1 {
        name.push_str(&format!(", attempt {}", unit.attempt));
    }
    name
}

/// Whether a unit with this status and duration ran at all (see `TaskRecord::ran`).
pub fn ran(status: Status, duration_seconds: f64) -> bool {
    match status {
        Status::NotRun => false,
        Status::Cancelled => duration_seconds > 0.0,
        _ => true,
    }
}

/// `seconds` as a time on the timeline: a negative, infinite or missing time (a report edited by
/// hand) is 0, and none is later than a year.
fn sane(seconds: f64) -> f64 {
    const YEAR: f64 = 365.0 * 24.0 * 3600.0;
    if seconds.is_finite() && seconds > 0.0 {
        seconds.min(YEAR)
    } else {
        0.0
    }
}

/// Adds the units of `task` to `units`: its failed attempts, then its last attempt (a split
/// task's: each part's last run).
fn units_of(task: &SavedTask, units: &mut Vec<Unit>) {
    let of = task.parts.unwrap_or(0);
    let unit = |run: &SavedRun, attempt: u32| Unit {
        task: task.id,
        part: run.part.map(|index| (index, of)),
        attempt,
        worker: run.worker,
        node: run.node.clone(),
        status: run.status,
        error: run.error.clone(),
        start_seconds: sane(run.start_seconds),
        duration_seconds: sane(run.duration_seconds),
    };
    // Attempts are counted per part (or for the task, when it was not split).
    let mut tries: BTreeMap<Option<u64>, u32> = BTreeMap::new();
    for failed in &task.attempts {
        let tried = tries.entry(failed.part).or_insert(0);
        *tried += 1;
        units.push(unit(failed, *tried));
    }
    let next =
        |tries: &BTreeMap<Option<u64>, u32>, part| tries.get(&part).copied().unwrap_or(0) + 1;
    if task.part_runs.is_empty() {
        units.push(Unit {
            task: task.id,
            part: None,
            attempt: next(&tries, None),
            worker: task.worker,
            node: task.node.clone(),
            status: task.status,
            error: task.error.clone(),
            start_seconds: sane(task.start_seconds),
            duration_seconds: sane(task.duration_seconds),
        });
        return;
    }
    for run in &task.part_runs {
        units.push(unit(run, next(&tries, run.part)));
    }
}

/// The run's phases: starting workers (from the start to the first unit, when workers started
/// first), running tasks (first unit to last end), finishing (to the end of the run).
fn phases(units: &[Unit], moments: &[Moment], wall_seconds: f64) -> Vec<Phase> {
    let first = units
        .iter()
        .map(|unit| unit.start_seconds)
        .fold(f64::INFINITY, f64::min);
    let last = units.iter().map(Unit::end_seconds).fold(0.0, f64::max);
    let mut phases = Vec::new();
    if !first.is_finite() {
        phases.push(Phase {
            name: "run",
            start_seconds: 0.0,
            end_seconds: wall_seconds,
        });
        return phases;
    }
    let workers_started = moments
        .iter()
        .any(|moment| moment.kind == MomentKind::WorkerStarted && moment.at_seconds <= first);
    phases.push(Phase {
        name: if workers_started {
            "starting workers"
        } else {
            "starting"
        },
        start_seconds: 0.0,
        end_seconds: first,
    });
    phases.push(Phase {
        name: "running tasks",
        start_seconds: first,
        end_seconds: last,
    });
    if wall_seconds > last {
        phases.push(Phase {
            name: "finishing",
            start_seconds: last,
            end_seconds: wall_seconds,
        });
    }
    phases
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn report(tasks: &str, extra: &str) -> SavedReport {
        let text = format!(
            r#"{{"format_version": 1, "quack_version": "0.1.0",
                "plugin": {{"path": "p.so", "name": "p", "version": "1"}},
                "runner": {{"mode": "process", "workers": 2}},
                "machine": {{"cores": 2, "os": "linux", "arch": "x86_64", "host_name": "here"}},
                "tasks": [{tasks}] {extra},
                "summary": {{"tasks": 1, "ok": 1, "error": 0, "crashed": 0, "timeout": 0,
                    "cancelled": 0, "wall_seconds": 3.0, "cpu_seconds": 1.0,
                    "tasks_per_second": 1.0}}}}"#
        );
        SavedReport::parse(Path::new("r.json"), text.as_bytes()).unwrap()
    }

    #[test]
    fn a_split_task_is_one_unit_per_part_and_per_failed_attempt() {
        let timeline = Timeline::of(&report(
            r#"{"id": 0, "input": 1, "status": "ok", "output": 1, "worker": 1, "node": "b",
                "start_seconds": 0.5, "duration_seconds": 2.0, "parts": 2,
                "part_runs": [
                  {"part": 0, "status": "ok", "worker": 0, "node": "a", "start_seconds": 0.5, "duration_seconds": 1.0},
                  {"part": 1, "status": "ok", "worker": 1, "node": "b", "start_seconds": 1.5, "duration_seconds": 1.0}],
                "attempts": [{"status": "crashed", "error": "died", "part": 1, "worker": 1,
                  "node": "b", "start_seconds": 0.5, "duration_seconds": 0.5}]}"#,
            r#", "workers": [{"worker": 0, "node": "a", "pid": 5, "start_seconds": 0.25},
                             {"worker": 1, "node": "b", "pid": 6, "start_seconds": 0.25}],
                 "replacements": [{"worker": 1, "at_seconds": 1.0, "reason": "it died"}]"#,
        ));
        assert_eq!(timeline.units.len(), 3);
        let retried: Vec<_> = timeline
            .units
            .iter()
            .filter(|u| u.part == Some((1, 2)))
            .collect();
        assert_eq!(
            retried.iter().map(|u| u.attempt).collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(unit_name(retried[1]), "task 0 part 2/2, attempt 2");
        assert_eq!(timeline.tracks.len(), 2);
        assert_eq!(timeline.tracks[1].busy_seconds, 1.5);
        let kinds: Vec<_> = timeline.moments.iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            [
                MomentKind::WorkerStarted,
                MomentKind::WorkerStarted,
                MomentKind::Crash,
                MomentKind::WorkerReplaced
            ]
        );
        let names: Vec<_> = timeline.phases.iter().map(|p| p.name).collect();
        assert_eq!(names, ["starting workers", "running tasks", "finishing"]);
    }

    #[test]
    fn an_older_report_gives_a_unit_per_task_on_the_machine() {
        let timeline = Timeline::of(&report(
            r#"{"id": 0, "input": 1, "status": "ok", "output": 1, "worker": 0,
                "start_seconds": 0.1, "duration_seconds": 1.0},
               {"id": 1, "input": 2, "status": "not-run", "error": "stopped", "worker": 0,
                "start_seconds": 0.0, "duration_seconds": 0.0}"#,
            "",
        ));
        assert_eq!(timeline.units.len(), 1);
        assert_eq!(timeline.units[0].node.as_deref(), Some("here"));
        assert_eq!(timeline.phases[0].name, "starting");
    }
}
