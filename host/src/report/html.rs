//! [`page`]: one or more saved reports as one self-contained HTML file (no network: the CSS and
//! the script that draws are inline, `html/page.css` and `html/page.js`). For each run: the
//! summary and the choice of mode, a timeline of the workers over time (one bar per attempt or
//! part, drawn by the script from the data the page carries), each worker's busy share, a
//! histogram of task times with the slow tail named, and the failed tasks with their reasons.
//! `host compare --html` puts two runs side by side under the comparison's text.
//!
//! Every string from a plugin, an input or a report goes through maud, which escapes it; the data
//! for the script is JSON with `<`, `>` and `&` written as `\u` escapes, so nothing in it can end
//! its script element, and the script puts text in with `textContent` only.

use std::io::Write;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::{Value, json};

use super::{
    file::{ReportFile, ReportFileError},
    human::{display, duration},
    read::{SavedReport, SavedTask},
    units::{Timeline, ran, unit_name},
};
use crate::runner::Status;

/// The page's style.
const CSS: &str = include_str!("html/page.css");

/// The script that draws the timelines and histograms.
const SCRIPT: &str = include_str!("html/page.js");

/// The most bars a timeline draws: a browser slows past some tens of thousands of SVG elements.
pub const MAX_BARS: usize = 20_000;

/// The most failed tasks listed.
const MAX_FAILED_LISTED: usize = 500;

/// How many bins the histogram of task times has.
const BINS: usize = 20;

/// An input or error longer than this is shown cut.
const TEXT_SHOWN_CHARS: usize = 300;

/// The HTML page of `reports` (one: a run; two: side by side), under `heading`, with
/// `comparison` (a text, e.g. `host compare`'s) above the runs.
pub fn page(reports: &[&SavedReport], heading: &str, comparison: Option<&str>) -> String {
    let runs: Vec<RunView> = reports.iter().map(|report| RunView::of(report)).collect();
    let data = json!({"runs": runs.iter().map(RunView::data).collect::<Vec<_>>()});
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (heading) }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { (heading) }
                @if let Some(text) = comparison {
                    h2 { "Comparison" }
                    pre.comparison { (text) }
                }
                div.runs {
                    @for (index, run) in runs.iter().enumerate() {
                        (run.markup(index, runs.len()))
                    }
                }
                script type="application/json" id="quack-data" {
                    (PreEscaped(script_safe_json(&data)))
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    markup.into_string()
}

/// Writes the page of `reports` (see [`page`]) to `file` and puts it in place; its heading names
/// the plugin (and, for two reports, says they are compared).
pub fn write(
    reports: &[&SavedReport],
    comparison: Option<&str>,
    file: ReportFile,
) -> Result<(), ReportFileError> {
    let name = reports
        .first()
        .map_or("", |report| report.plugin.description.name.as_str());
    let heading = match reports.len() {
        1 => format!("Quack run: {name}"),
        _ => format!("Quack runs compared: {name}"),
    };
    let text = page(reports, &heading, comparison);
    file.write_whole(|writer| writer.write_all(text.as_bytes()))
}

/// `value` as JSON that cannot end the script element it is in (`</script>`, `<!--`).
fn script_safe_json(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// `text` cut to [`TEXT_SHOWN_CHARS`] characters.
fn cut(text: &str) -> String {
    match text.char_indices().nth(TEXT_SHOWN_CHARS) {
        Some((end, _)) => format!("{}... ({} characters)", &text[..end], text.chars().count()),
        None => text.to_owned(),
    }
}

/// A task that ran, by how long it took.
struct Timed<'a> {
    task: &'a SavedTask,
    seconds: f64,
}

/// One run as the page shows it.
struct RunView<'a> {
    report: &'a SavedReport,
    timeline: Timeline,
    /// Tasks that ran, slowest first.
    timed: Vec<Timed<'a>>,
    /// The slow tail: the tasks that took at least twice the median (and, with ten or more,
    /// more than the 90th percentile).
    tail: Vec<usize>,
    /// The time from which a task is in the tail.
    tail_from: Option<f64>,
    /// `[from, to, count, in the tail]` per bin.
    histogram: Vec<(f64, f64, usize, bool)>,
}

impl<'a> RunView<'a> {
    fn of(report: &'a SavedReport) -> Self {
        let timeline = Timeline::of(report);
        let mut timed: Vec<Timed> = report
            .tasks
            .iter()
            .filter(|task| ran(task.status, task.duration_seconds))
            .map(|task| Timed {
                task,
                seconds: if task.duration_seconds.is_finite() {
                    task.duration_seconds.max(0.0)
                } else {
                    0.0
                },
            })
            .collect();
        timed.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        let tail_from = tail_threshold(&timed);
        let tail = match tail_from {
            Some(from) => (0..timed.len())
                .take_while(|&index| timed[index].seconds >= from)
                .collect(),
            None => Vec::new(),
        };
        let histogram = histogram(&timed, tail_from);
        RunView {
            report,
            timeline,
            timed,
            tail,
            tail_from,
            histogram,
        }
    }

    /// What the script draws from.
    fn data(&self) -> Value {
        let track_of = |worker: u64| {
            self.timeline
                .tracks
                .iter()
                .position(|track| track.worker == worker)
                .unwrap_or(0)
        };
        let units: Vec<Value> = self
            .timeline
            .units
            .iter()
            .take(MAX_BARS)
            .map(|unit| {
                json!([
                    track_of(unit.worker),
                    unit.start_seconds,
                    unit.duration_seconds,
                    unit.status.as_str(),
                    unit_name(unit),
                    unit.task,
                ])
            })
            .collect();
        let moments: Vec<Value> = self
            .timeline
            .moments
            .iter()
            .map(|moment| {
                json!([
                    track_of(moment.worker),
                    moment.at_seconds,
                    match moment.kind.name() {
                        "worker started" => "started",
                        "worker replaced" => "replaced",
                        other => other,
                    },
                    moment.detail
                ])
            })
            .collect();
        json!({
            "wall": self.timeline.wall_seconds,
            "tracks": self.timeline.tracks.iter().map(track_name).collect::<Vec<_>>(),
            "units": units,
            "moments": moments,
            "phases": self.timeline.phases.iter()
                .map(|phase| json!([phase.name, phase.start_seconds, phase.end_seconds]))
                .collect::<Vec<_>>(),
            "histogram": self.histogram.iter()
                .map(|(from, to, count, tail)| json!([from, to, count, tail]))
                .collect::<Vec<_>>(),
        })
    }

    fn markup(&self, index: usize, of: usize) -> Markup {
        let report = self.report;
        let summary = &report.summary;
        let plugin = &report.plugin.description;
        let counts: Vec<(Status, u64)> = Status::ALL
            .iter()
            .map(|status| (*status, summary.of(*status)))
            .filter(|(_, count)| *count > 0)
            .collect();
        let total_task_seconds: f64 = self.timed.iter().map(|timed| timed.seconds).sum();
        let failed: Vec<&SavedTask> = report
            .tasks
            .iter()
            .filter(|task| task.status != Status::Ok)
            .collect();
        let shown_bars = self.timeline.units.len().min(MAX_BARS);
        html! {
            section.run id={"run-" (index)} {
                @if of > 1 {
                    h2 { (report.file.display()) }
                }
                p.headline {
                    (plugin.name) " " (plugin.version) ": " (summary.tasks) " tasks ("
                    @for (n, (status, count)) in counts.iter().enumerate() {
                        @if n > 0 { ", " }
                        (count) " " (status.as_str())
                    }
                    "), " (summary.failed()) " failed"
                }
                dl.summary {
                    dt { "mode" }
                    dd.mode { (report.runner.mode) ", " (report.runner.workers)
                        @if report.runner.workers == 1 { " worker" } @else { " workers" } }
                    @if let Some(reason) = &report.runner.reason {
                        dt { "why" } dd.reason { (reason) }
                    }
                    dt { "wall time" } dd { (duration(summary.wall_seconds)) }
                    dt { "CPU time" } dd { (duration(summary.cpu_seconds)) }
                    dt { "tasks per second" } dd { (format!("{:.1}", summary.tasks_per_second)) }
                    @if let Some(started) = &report.started_at {
                        dt { "started" } dd { (started) }
                    }
                    dt { "machine" }
                    dd {
                        (report.machine.host_name.as_deref().unwrap_or("(no host name)"))
                        @if let Some(cores) = report.machine.cores { ", " (cores) " cores" }
                    }
                    @if let Some(command) = &report.command_line {
                        dt { "command line" } dd { code { (command.join(" ")) } }
                    }
                    dt { "host" }
                    dd { (report.quack_version)
                        @if let Some(commit) = &report.quack_commit { " (" (commit) ")" } }
                }
                h2 { "Workers over time" }
                p.note {
                    "One bar per attempt at a task or part of a split task; hover for its name. "
                    @if shown_bars < self.timeline.units.len() {
                        "The first " (shown_bars) " of " (self.timeline.units.len()) " are drawn."
                    }
                }
                svg.timeline role="img" aria-label="timeline of the workers" {}
                h2 { "Busy share per worker" }
                table.busy {
                    tr { th { "worker" } th { "node" } th { "units" } th { "busy" } th { "share of the wall time" } th {} }
                    @for track in &self.timeline.tracks {
                        @let share = if self.timeline.wall_seconds > 0.0 {
                            (track.busy_seconds / self.timeline.wall_seconds).clamp(0.0, 1.0)
                        } else { 0.0 };
                        tr.worker {
                            td.number { (track.worker) }
                            td.text { (track.nodes.join(", ")) }
                            td.number { (self.timeline.units_of(track.worker).count()) }
                            td.number { (duration(track.busy_seconds)) }
                            td.number { (format!("{:.0}%", share * 100.0)) }
                            td { div.share { div style={"width: " (format!("{:.1}", share * 100.0)) "%"} {} } }
                        }
                    }
                }
                h2 { "Task times" }
                svg.histogram role="img" aria-label="histogram of task times" {}
                @if self.tail.is_empty() {
                    p.tail { "No slow tail: "
                        @if let Some(slowest) = self.timed.first() {
                            "the slowest task (" (slowest.task.id) ") took " (duration(slowest.seconds))
                            ", less than twice the median."
                        } @else { "no task ran." }
                    }
                } @else {
                    p.tail {
                        "Slow tail (at least " (duration(self.tail_from.unwrap_or(0.0)))
                        ", twice the median or more): " (self.tail.len())
                        @if self.tail.len() == 1 { " task" } @else { " tasks" }
                        ", " (format!("{:.0}%", share_of(&self.timed, &self.tail, total_task_seconds) * 100.0))
                        " of all task time."
                    }
                    table.slow {
                        tr { th { "task" } th { "input" } th { "time" } th { "worker" } th { "parts" } }
                        @for index in self.tail.iter().take(20) {
                            @let timed = &self.timed[*index];
                            tr {
                                td.number { (timed.task.id) }
                                td.text { (cut(&display(&timed.task.input))) }
                                td.number { (duration(timed.seconds)) }
                                td.number { (timed.task.worker) }
                                td.number { (timed.task.parts.map(|p| p.to_string()).unwrap_or_default()) }
                            }
                        }
                    }
                }
                h2 { "Failed tasks" }
                @if failed.is_empty() {
                    p.none { "None: every task ended ok." }
                } @else {
                    table.failed {
                        tr { th { "task" } th { "input" } th { "status" } th { "why" } }
                        @for task in failed.iter().take(MAX_FAILED_LISTED) {
                            tr.failed-task {
                                td.number { (task.id) }
                                td.text { (cut(&display(&task.input))) }
                                td.status { (task.status.as_str()) }
                                td.text { (cut(task.error.as_deref().unwrap_or(""))) }
                            }
                        }
                    }
                    @if failed.len() > MAX_FAILED_LISTED {
                        p.note { "The first " (MAX_FAILED_LISTED) " of " (failed.len()) " are listed." }
                    }
                }
            }
        }
    }
}

/// `worker 0 (node1)`: a track's name.
fn track_name(track: &super::units::Track) -> String {
    match track.nodes.as_slice() {
        [] => format!("worker {}", track.worker),
        nodes => format!("worker {} ({})", track.worker, nodes.join(", ")),
    }
}

/// The share of `total` the tasks at `indices` of `timed` took.
fn share_of(timed: &[Timed], indices: &[usize], total: f64) -> f64 {
    if total <= 0.0 {
        return 0.0;
    }
    indices
        .iter()
        .map(|&index| timed[index].seconds)
        .sum::<f64>()
        / total
}

/// The time from which a task is in the slow tail (of `timed`, slowest first): twice the
/// median, and past the 90th percentile when there are ten tasks or more; `None` when no task
/// reaches it (or none took any time).
fn tail_threshold(timed: &[Timed]) -> Option<f64> {
    if timed.len() < 2 {
        return None;
    }
    let ascending: Vec<f64> = timed.iter().rev().map(|timed| timed.seconds).collect();
    let median = quantile(&ascending, 0.5);
    let mut from = 2.0 * median;
    if ascending.len() >= 10 {
        from = from.max(quantile(&ascending, 0.9));
    }
    (from > 0.0 && timed[0].seconds >= from).then_some(from)
}

/// The `q` quantile of `ascending` (sorted, not empty), interpolated.
fn quantile(ascending: &[f64], q: f64) -> f64 {
    let place = q * (ascending.len() - 1) as f64;
    let below = place.floor() as usize;
    let above = place.ceil() as usize;
    ascending[below] + (ascending[above] - ascending[below]) * (place - below as f64)
}

/// [`BINS`] bins from 0 to the slowest task's time: `(from, to, count, in the tail)`.
fn histogram(timed: &[Timed], tail_from: Option<f64>) -> Vec<(f64, f64, usize, bool)> {
    let Some(slowest) = timed.first().map(|timed| timed.seconds) else {
        return Vec::new();
    };
    let width = if slowest > 0.0 {
        slowest / BINS as f64
    } else {
        1.0
    };
    let mut counts = [0usize; BINS];
    for timed in timed {
        let bin = ((timed.seconds / width) as usize).min(BINS - 1);
        counts[bin] += 1;
    }
    counts
        .iter()
        .enumerate()
        .map(|(bin, &count)| {
            let (from, to) = (bin as f64 * width, (bin + 1) as f64 * width);
            (from, to, count, tail_from.is_some_and(|tail| to > tail))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn report(tasks: &str) -> SavedReport {
        let text = format!(
            r#"{{"format_version": 1, "quack_version": "0.1.0",
                "plugin": {{"path": "p.so", "name": "<b>p</b>", "version": "1"}},
                "runner": {{"mode": "thread", "workers": 2, "reason": "</script><script>x()</script>"}},
                "machine": {{"cores": 2, "os": "linux", "arch": "x86_64", "host_name": "here"}},
                "tasks": [{tasks}],
                "summary": {{"tasks": 3, "ok": 2, "error": 1, "crashed": 0, "timeout": 0,
                    "cancelled": 0, "wall_seconds": 3.0, "cpu_seconds": 1.0,
                    "tasks_per_second": 1.0}}}}"#
        );
        SavedReport::parse(Path::new("r.json"), text.as_bytes()).unwrap()
    }

    #[test]
    fn text_from_the_report_is_escaped_and_cannot_end_the_script() {
        let report = report(
            r#"{"id": 0, "input": "<img src=x onerror=alert(1)>", "status": "error",
                "error": "</script><script>alert(2)</script>", "worker": 0,
                "start_seconds": 0.1, "duration_seconds": 0.5},
               {"id": 1, "input": 1, "status": "ok", "output": 1, "worker": 1,
                "start_seconds": 0.1, "duration_seconds": 0.5},
               {"id": 2, "input": 2, "status": "ok", "output": 2, "worker": 1,
                "start_seconds": 0.6, "duration_seconds": 2.0}"#,
        );
        let page = page(&[&report], "Quack run: <b>p</b>", None);
        assert!(!page.contains("<img"), "an input became markup");
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(!page.contains("<b>p</b>"));
        // Only the page's own two script elements open and close.
        assert_eq!(page.matches("<script").count(), 2);
        assert_eq!(page.matches("</script>").count(), 2);
        assert!(!page.contains("http://") || page.matches("http://").count() == 1);
        assert!(!page.contains("https://"));
    }

    #[test]
    fn the_slow_tail_is_what_takes_twice_the_median_or_more() {
        let report = report(
            r#"{"id": 0, "input": 0, "status": "ok", "output": 0, "worker": 0,
                "start_seconds": 0.0, "duration_seconds": 4.0},
               {"id": 1, "input": 1, "status": "ok", "output": 1, "worker": 1,
                "start_seconds": 0.0, "duration_seconds": 1.0},
               {"id": 2, "input": 2, "status": "ok", "output": 2, "worker": 1,
                "start_seconds": 1.0, "duration_seconds": 1.2}"#,
        );
        let view = RunView::of(&report);
        assert_eq!(view.tail.len(), 1);
        assert_eq!(view.timed[view.tail[0]].task.id, 0);
        assert_eq!(view.histogram.len(), BINS);
        assert_eq!(view.histogram.iter().map(|bin| bin.2).sum::<usize>(), 3);
        assert!(view.histogram[BINS - 1].3 && !view.histogram[0].3);
    }
}
