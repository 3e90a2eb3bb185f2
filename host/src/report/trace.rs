//! [`Trace`]: a run as a Chrome trace-event file (the JSON format `chrome://tracing`, Perfetto's
//! UI and `trace_processor` open), drawn from a saved report's [`Timeline`]. One process, the
//! run; a track (thread) per worker, named with its node, holding a complete slice (`ph: X`) per
//! unit of work with its task, part, attempt, input and status; a `run` track with the run's
//! phases; instant events (`ph: i`) for workers started and replaced, crashes and timeouts. Times
//! are microseconds since the run started, as the format counts them.

use std::{collections::HashMap, io::Write};

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{
    file::{ReportFile, ReportFileError},
    read::SavedReport,
    units::{Timeline, Unit, unit_name},
};

/// The process id every event of the trace carries: the trace holds one run.
const RUN_PID: u64 = 1;

/// The track of the run's phases; worker `n` is track `n + 1`.
const RUN_TID: u64 = 0;

/// An input longer than this (as JSON) is shown cut, so a huge input does not make a huge trace.
const INPUT_SHOWN_BYTES: usize = 1024;

/// A trace file: its events and what the viewers show about it.
#[derive(Debug, Serialize)]
pub struct Trace {
    /// Every event.
    #[serde(rename = "traceEvents")]
    pub trace_events: Vec<TraceEvent>,
    /// The unit viewers show times in.
    #[serde(rename = "displayTimeUnit")]
    pub display_time_unit: &'static str,
    /// About the run: plugin, mode, reason, summary.
    #[serde(rename = "otherData")]
    pub other_data: Map<String, Value>,
}

/// One event of the trace-event format.
#[derive(Debug, Serialize)]
pub struct TraceEvent {
    /// What it is: a unit's name, a phase, a moment, or the metadata's key.
    pub name: String,
    /// Its category: a unit's status, `phase`, `worker` or `__metadata`.
    pub cat: &'static str,
    /// Its phase (the format's word for its type): `X` complete, `i` instant, `M` metadata.
    pub ph: &'static str,
    /// When, in microseconds since the run started.
    pub ts: f64,
    /// How long, in microseconds (complete events only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dur: Option<f64>,
    /// The process: the run.
    pub pid: u64,
    /// The track.
    pub tid: u64,
    /// An instant event's scope: `t`, its track.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s: Option<&'static str>,
    /// What the viewer shows when the event is selected.
    pub args: Map<String, Value>,
}

impl TraceEvent {
    fn metadata(name: &str, tid: u64, args: Value) -> Self {
        TraceEvent {
            name: name.to_owned(),
            cat: "__metadata",
            ph: "M",
            ts: 0.0,
            dur: None,
            pid: RUN_PID,
            tid,
            s: None,
            args: object(args),
        }
    }
}

/// The JSON object `value` is (an empty one if it is not an object).
fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Microseconds, the format's unit, from seconds.
fn micros(seconds: f64) -> f64 {
    (seconds * 1e6 * 1000.0).round() / 1000.0
}

/// The track of `worker`.
fn worker_tid(worker: u64) -> u64 {
    worker + 1
}

/// `input` as a trace shows it: itself, or the start of its JSON when that is long.
fn shown_input(input: &Value) -> Value {
    let text = input.to_string();
    if text.len() <= INPUT_SHOWN_BYTES {
        return input.clone();
    }
    let mut end = INPUT_SHOWN_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Value::String(format!("{}... ({} bytes)", &text[..end], text.len()))
}

impl Trace {
    /// The trace of `report`.
    pub fn of(report: &SavedReport) -> Self {
        let timeline = Timeline::of(report);
        let inputs: HashMap<u64, &Value> = report
            .tasks
            .iter()
            .map(|task| (task.id, &task.input))
            .collect();
        let mut events = vec![
            TraceEvent::metadata(
                "process_name",
                RUN_TID,
                json!({"name": format!("host run {}", report.plugin.description.name)}),
            ),
            TraceEvent::metadata("thread_name", RUN_TID, json!({"name": "run"})),
            TraceEvent::metadata("thread_sort_index", RUN_TID, json!({"sort_index": 0})),
        ];
        for track in &timeline.tracks {
            let name = match track.nodes.as_slice() {
                [] => format!("worker {}", track.worker),
                nodes => format!("worker {} ({})", track.worker, nodes.join(", ")),
            };
            let tid = worker_tid(track.worker);
            events.push(TraceEvent::metadata(
                "thread_name",
                tid,
                json!({"name": name}),
            ));
            events.push(TraceEvent::metadata(
                "thread_sort_index",
                tid,
                json!({"sort_index": tid}),
            ));
        }
        for phase in &timeline.phases {
            events.push(TraceEvent {
                name: phase.name.to_owned(),
                cat: "phase",
                ph: "X",
                ts: micros(phase.start_seconds),
                dur: Some(micros(phase.end_seconds - phase.start_seconds).max(0.0)),
                pid: RUN_PID,
                tid: RUN_TID,
                s: None,
                args: Map::new(),
            });
        }
        for unit in &timeline.units {
            events.push(unit_event(unit, inputs.get(&unit.task).copied()));
        }
        for moment in &timeline.moments {
            events.push(TraceEvent {
                name: moment.kind.name().to_owned(),
                cat: "worker",
                ph: "i",
                ts: micros(moment.at_seconds),
                dur: None,
                pid: RUN_PID,
                tid: worker_tid(moment.worker),
                s: Some("t"),
                args: object(json!({"worker": moment.worker, "detail": moment.detail})),
            });
        }
        let mut other_data = Map::new();
        other_data.insert("plugin".into(), json!(report.plugin.description.name));
        other_data.insert("mode".into(), json!(report.runner.mode));
        other_data.insert("workers".into(), json!(report.runner.workers));
        if let Some(reason) = &report.runner.reason {
            other_data.insert("reason".into(), json!(reason));
        }
        if let Some(started) = &report.started_at {
            other_data.insert("started_at".into(), json!(started));
        }
        other_data.insert("summary".into(), json!(report.summary));
        Trace {
            trace_events: events,
            display_time_unit: "ms",
            other_data,
        }
    }
}

/// The slice of one unit of work, on its worker's track.
fn unit_event(unit: &Unit, input: Option<&Value>) -> TraceEvent {
    let mut args = Map::new();
    args.insert("task".into(), json!(unit.task));
    if let Some((index, of)) = unit.part {
        args.insert("part".into(), json!(format!("{} of {of}", index + 1)));
    }
    args.insert("attempt".into(), json!(unit.attempt));
    if let Some(input) = input {
        args.insert("input".into(), shown_input(input));
    }
    args.insert("status".into(), json!(unit.status.as_str()));
    if let Some(error) = &unit.error {
        args.insert("error".into(), json!(error));
    }
    args.insert("worker".into(), json!(unit.worker));
    if let Some(node) = &unit.node {
        args.insert("node".into(), json!(node));
    }
    TraceEvent {
        name: unit_name(unit),
        cat: unit.status.as_str(),
        ph: "X",
        ts: micros(unit.start_seconds),
        dur: Some(micros(unit.duration_seconds)),
        pid: RUN_PID,
        tid: worker_tid(unit.worker),
        s: None,
        args,
    }
}

/// Writes the trace of `report` to `file` (compact JSON: a trace of many units is large) and
/// puts it in place.
pub fn write(report: &SavedReport, file: ReportFile) -> Result<(), ReportFileError> {
    let trace = Trace::of(report);
    file.write_whole(|writer| {
        serde_json::to_writer(&mut *writer, &trace)?;
        writer.write_all(b"\n")
    })
}
