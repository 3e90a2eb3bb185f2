//! The text forms of a [`Comparison`]: for a terminal or a log ([`Comparison::render`], coloured
//! on request, shorter with `-q`) and Markdown for a pull request comment
//! ([`Comparison::markdown`]). Both end with the verdict; warnings are not in them (they go to
//! stderr).

use std::fmt::Write as _;

use serde_json::Value;

use super::{
    compare::{
        Change, Comparison, CountRow, Judged, Metric, Side, StatusChange, TaskTime, Verdict,
        format_percent, plural, short,
    },
    human::duration,
    read::SavedStatus,
    stats::smallest_p,
};
use crate::safe::{Safe, safe_text};

/// How the text for people looks.
#[derive(Debug, Clone, Copy, Default)]
pub struct Look {
    /// ANSI colours (a terminal that wants them).
    pub color: bool,
    /// Only what regressed, the table and the verdict (`-q`).
    pub quiet: bool,
}

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

impl Look {
    /// `text` in `style` when colours are on.
    fn paint(self, style: &str, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("{style}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }

    /// The colour a change is shown in.
    fn of_change(change: Change) -> &'static str {
        match change {
            Change::Worse => RED,
            Change::Better => GREEN,
            Change::Same | Change::NotJudged => DIM,
        }
    }
}

/// A sample of times (or of a throughput) as "97.6 ms ± 3.1 ms": the median, and the standard
/// deviation when there are several values.
fn sample_text(judged_side: &super::stats::Sample, seconds: bool) -> String {
    let show = |value: f64| {
        if seconds {
            duration(value)
        } else {
            format!("{value:.1}")
        }
    };
    if judged_side.len() > 1 {
        format!(
            "{} ± {}",
            show(judged_side.median),
            show(judged_side.stddev)
        )
    } else {
        show(judged_side.median)
    }
}

/// The change column: "1.85 ± 0.06 times slower (p = 0.0079)", or "~ ..." for no change.
fn change_text(judged: &Judged) -> String {
    match judged.change {
        Change::Worse | Change::Better => format!("{} ({})", judged.words, judged.reason),
        Change::Same => format!("~ {} ({})", judged.words, judged.reason),
        Change::NotJudged => format!("{} ({})", judged.words, judged.reason),
    }
}

/// A row of the table: its label, the old and new cells, and the change (with its kind, for
/// colour) when the row is a time.
type TableRow = (String, String, String, Option<(Change, String)>);

/// A row label for a metric.
fn metric_label(metric: &Metric) -> &'static str {
    match metric.name {
        "wall_seconds" => "wall",
        "tasks_per_second" => "tasks/s",
        "cpu_seconds" => "cpu",
        other => other,
    }
}

/// A count across reports: "4", or "3-4" when the reports differ.
fn count_text(values: &[u64]) -> String {
    let (low, high) = (
        values.iter().min().copied().unwrap_or(0),
        values.iter().max().copied().unwrap_or(0),
    );
    if low == high {
        low.to_string()
    } else {
        format!("{low}-{high}")
    }
}

/// Whether a count row is worth a line (the task count and `ok` always are).
fn shown(row: &CountRow) -> bool {
    matches!(row.name, "tasks" | "ok") || row.old.iter().chain(&row.new).any(|count| *count > 0)
}

/// Statuses as "ok" or "ok/error".
fn statuses_text(statuses: &[SavedStatus]) -> String {
    let words: Vec<&str> = statuses.iter().map(|status| status.as_str()).collect();
    words.join("/")
}

/// "old (5 reports)" or "old".
fn column(label: &str, samples: usize) -> String {
    if samples > 1 {
        format!("{label} ({samples})")
    } else {
        label.to_owned()
    }
}

impl Comparison {
    /// The comparison for people: who is compared, the run's times and counts side by side, the
    /// tasks that changed, notes on what was not judged, and the verdict last.
    pub fn render(&self, look: Look) -> String {
        let mut out = String::new();
        if !look.quiet {
            for (label, group) in [("old", &self.old), ("new", &self.new)] {
                let _ = writeln!(
                    out,
                    "{label}: {}",
                    Safe(Self::describe_group(&group.reports))
                );
            }
            if let Some(line) = self.plugin_changed() {
                let _ = writeln!(out, "{line}");
            }
            let _ = writeln!(out);
        }
        self.table(&mut out, look);
        self.status_lines(&mut out, look);
        if !self.output_changed.is_empty() {
            let _ = writeln!(out, "\noutput changed ({}):", self.output_changed.len());
            for change in &self.output_changed {
                let _ = writeln!(
                    out,
                    "  task {}  {} -> {}",
                    change.id,
                    Safe(short(&change.old, 60)),
                    Safe(short(&change.new, 60))
                );
            }
        }
        if !self.different_input.is_empty() && !look.quiet {
            let _ = writeln!(
                out,
                "\ndifferent input ({}), judged on status only:",
                self.different_input.len()
            );
            for change in self.different_input.iter().take(20) {
                let _ = writeln!(
                    out,
                    "  task {}  {} -> {}",
                    change.id,
                    Safe(short(&change.old, 40)),
                    Safe(short(&change.new, 40))
                );
            }
            if self.different_input.len() > 20 {
                let _ = writeln!(out, "  ...");
            }
        }
        let threshold = format_percent(self.threshold_percent);
        for (word, changes) in [("slower", &self.slower), ("faster", &self.faster)] {
            if changes.is_empty() || (look.quiet && word == "faster") {
                continue;
            }
            let _ = writeln!(
                out,
                "\n{word} by more than {threshold}% ({}):",
                changes.len()
            );
            for change in changes {
                Self::task_time_line(&mut out, change, look);
            }
        }
        for (which, ids) in [("old", &self.only_in_old), ("new", &self.only_in_new)] {
            if !(ids.is_empty() || look.quiet && which == "new") {
                let listed: Vec<String> = ids.iter().take(20).map(u64::to_string).collect();
                let more = if ids.len() > 20 { ", ..." } else { "" };
                let _ = writeln!(
                    out,
                    "\nonly in the {which} report: {} ({}{more})",
                    plural(ids.len(), "task"),
                    listed.join(", ")
                );
            }
        }
        let _ = writeln!(out);
        if !look.quiet {
            for note in self.notes() {
                let _ = writeln!(out, "note: {note}");
            }
        }
        let verdict_style = match self.verdict {
            Verdict::Regressed => RED,
            Verdict::Improved => GREEN,
            Verdict::NoChange => BOLD,
        };
        let _ = writeln!(out, "verdict: {}", look.paint(verdict_style, &self.message));
        out
    }

    /// The run's times and counts, old and new side by side, with the change.
    fn table(&self, out: &mut String, look: Look) {
        let old_column = column("old", self.old.samples);
        let new_column = column("new", self.new.samples);
        let mut rows: Vec<TableRow> = Vec::new();
        for metric in &self.metrics {
            let seconds = metric.name.ends_with("seconds");
            rows.push((
                metric_label(metric).to_owned(),
                sample_text(&metric.judged.old, seconds),
                sample_text(&metric.judged.new, seconds),
                Some((metric.judged.change, change_text(&metric.judged))),
            ));
        }
        for row in self.counts.iter().filter(|row| shown(row)) {
            rows.push((
                row.name.to_owned(),
                count_text(&row.old),
                count_text(&row.new),
                None,
            ));
        }
        let width = |pick: fn(&TableRow) -> usize| rows.iter().map(pick).max().unwrap_or(0);
        let old_width = width(|row| row.1.chars().count()).max(old_column.len());
        let new_width = width(|row| row.2.chars().count()).max(new_column.len());
        let header = format!(
            "  {:<8} {old_column:>old_width$}  {new_column:>new_width$}  change",
            ""
        );
        let _ = writeln!(out, "{header}");
        for (label, old, new, change) in rows {
            let change = change
                .map(|(kind, text)| look.paint(Look::of_change(kind), &text))
                .unwrap_or_default();
            let line = format!("  {label:<8} {old:>old_width$}  {new:>new_width$}  {change}");
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }

    /// The tasks whose status changed.
    fn status_lines(&self, out: &mut String, look: Look) {
        let shown: Vec<&StatusChange> = self
            .status_changed
            .iter()
            .filter(|change| change.regression || !look.quiet)
            .collect();
        if shown.is_empty() {
            return;
        }
        let _ = writeln!(out, "\nstatus changed ({}):", shown.len());
        for change in shown {
            let error = change
                .error
                .as_deref()
                .map(|error| format!(": {}", Safe(error)))
                .unwrap_or_default();
            let text = format!(
                "task {}  {} -> {}{error}",
                change.id,
                statuses_text(&change.old),
                statuses_text(&change.new)
            );
            let style = if change.regression { RED } else { GREEN };
            let _ = writeln!(out, "  {}", look.paint(style, &text));
        }
    }

    /// "  task 3  22.6 ms -> 200.3 ms  8.85 ± 0.10 times slower (p = 0.0079)".
    fn task_time_line(out: &mut String, change: &TaskTime, look: Look) {
        let judged = &change.judged;
        let said = look.paint(Look::of_change(judged.change), &change_text(judged));
        let _ = writeln!(
            out,
            "  task {}  {} -> {}  {said}",
            change.id,
            sample_text(&judged.old, true),
            sample_text(&judged.new, true)
        );
    }

    /// What was left unjudged, and why.
    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.under_noise_floor > 0 {
            notes.push(format!(
                "{} took under {} in both runs; their times are not compared (--noise-floor)",
                plural(self.under_noise_floor as usize, "task"),
                duration(self.noise_floor_seconds)
            ));
        }
        if self.same_time > 0 {
            notes.push(format!(
                "{} judged on time changed by no more than {}% or not significantly (~)",
                plural(self.same_time as usize, "task"),
                format_percent(self.threshold_percent)
            ));
        }
        if !self.enough_samples {
            let needed = (1..=64)
                .find(|n| smallest_p(*n, *n) < self.alpha)
                .unwrap_or(64);
            notes.push(format!(
                "with {} and {}, the rank test cannot reach p < {}: task times are not judged, and the run's times only beyond {}x (give {needed} reports a side)",
                plural(self.old.samples, "old report"),
                plural(self.new.samples, "new report"),
                self.alpha,
                self.few_samples_factor
            ));
        }
        if let Some(reason) = &self.metrics_not_judged {
            notes.push(format!("the run's times are not judged: {reason}"));
        }
        notes
    }

    /// "the plugin file changed: sha256 a -> b" when the sides' first reports differ in it.
    fn plugin_changed(&self) -> Option<String> {
        let old = self.old.reports.first()?.plugin_sha256.as_ref()?;
        let new = self.new.reports.first()?.plugin_sha256.as_ref()?;
        (old != new).then(|| {
            format!(
                "the plugin file changed: sha256 {} -> {}",
                abbreviate(old),
                abbreviate(new)
            )
        })
    }

    /// One report as a line, or several as their files and what the first says of its run.
    fn describe_group(reports: &[Side]) -> String {
        match reports {
            [] => String::new(),
            [one] => format!("{}: {}", one.report, Self::describe(one)),
            [first, ..] => {
                let files: Vec<&str> = reports.iter().map(|side| side.report.as_str()).collect();
                let listed = if files.len() > 4 {
                    format!("{}, ..., {}", files[..3].join(", "), files[files.len() - 1])
                } else {
                    files.join(", ")
                };
                format!(
                    "{} ({listed}): {}",
                    plural(reports.len(), "report"),
                    Self::describe(first)
                )
            }
        }
    }

    /// `factorize 0.1.0 (sha256 1a2b3c4d5e6f), started ... on box, host 0.1.0 (abc1234), thread
    /// with 2 workers`.
    fn describe(side: &Side) -> String {
        let mut text = format!("{} {}", side.plugin, side.plugin_version);
        if let Some(sha) = &side.plugin_sha256 {
            let _ = write!(text, " (sha256 {})", abbreviate(sha));
        }
        if let Some(started) = &side.started_at {
            let _ = write!(text, ", started {started}");
        }
        if let Some(host_name) = &side.host_name {
            let _ = write!(text, " on {host_name}");
        }
        let _ = write!(text, ", host {}", side.quack_version);
        if let Some(commit) = &side.quack_commit {
            let _ = write!(text, " ({commit})");
        }
        let _ = write!(
            text,
            ", {} with {}",
            side.mode,
            plural(side.workers as usize, "worker")
        );
        text
    }

    /// The comparison as Markdown, for a pull request comment: the verdict first, the table, the
    /// changed tasks, the notes.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let mark = match self.verdict {
            Verdict::Regressed => "❌",
            Verdict::Improved => "✅",
            Verdict::NoChange => "➖",
        };
        let _ = writeln!(
            out,
            "**{mark} host compare: {}**\n",
            markdown_text(&self.message)
        );
        let _ = writeln!(
            out,
            "Old: {}. New: {}.\n",
            markdown_text(&Self::describe_group(&self.old.reports)),
            markdown_text(&Self::describe_group(&self.new.reports))
        );
        let _ = writeln!(
            out,
            "| | {} | {} | change |",
            column("old", self.old.samples),
            column("new", self.new.samples)
        );
        let _ = writeln!(out, "|:--|--:|--:|:--|");
        for metric in &self.metrics {
            let seconds = metric.name.ends_with("seconds");
            let change = markdown_text(&change_text(&metric.judged));
            let change = match metric.judged.change {
                Change::Worse | Change::Better => format!("**{change}**"),
                Change::Same | Change::NotJudged => change,
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {change} |",
                metric_label(metric),
                sample_text(&metric.judged.old, seconds),
                sample_text(&metric.judged.new, seconds)
            );
        }
        for row in self.counts.iter().filter(|row| shown(row)) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | |",
                row.name,
                count_text(&row.old),
                count_text(&row.new)
            );
        }
        let list = |out: &mut String, title: String, lines: Vec<String>| {
            if !lines.is_empty() {
                let _ = writeln!(out, "\n{title}\n");
                for line in lines {
                    let _ = writeln!(out, "- {line}");
                }
            }
        };
        list(
            &mut out,
            format!("**Status changed ({})**", self.status_changed.len()),
            self.status_changed
                .iter()
                .map(|change| {
                    let error = change
                        .error
                        .as_deref()
                        .map(|error| format!(": {}", markdown_text(error)))
                        .unwrap_or_default();
                    format!(
                        "task {}: {} → {}{error}",
                        change.id,
                        statuses_text(&change.old),
                        statuses_text(&change.new)
                    )
                })
                .collect(),
        );
        let values = |id: u64, old: &Value, new: &Value| {
            format!(
                "task {id}: {} → {}",
                markdown_code(&short(old, 60)),
                markdown_code(&short(new, 60))
            )
        };
        list(
            &mut out,
            format!("**Output changed ({})**", self.output_changed.len()),
            self.output_changed
                .iter()
                .map(|change| values(change.id, &change.old, &change.new))
                .collect(),
        );
        list(
            &mut out,
            format!(
                "**Different input ({}), judged on status only**",
                self.different_input.len()
            ),
            self.different_input
                .iter()
                .take(20)
                .map(|change| values(change.id, &change.old, &change.new))
                .collect(),
        );
        let threshold = format_percent(self.threshold_percent);
        for (word, changes) in [("Slower", &self.slower), ("Faster", &self.faster)] {
            list(
                &mut out,
                format!("**{word} by more than {threshold}% ({})**", changes.len()),
                changes
                    .iter()
                    .map(|change| {
                        format!(
                            "task {}: {} → {}, {}",
                            change.id,
                            sample_text(&change.judged.old, true),
                            sample_text(&change.judged.new, true),
                            markdown_text(&change_text(&change.judged))
                        )
                    })
                    .collect(),
            );
        }
        for (which, ids) in [("old", &self.only_in_old), ("new", &self.only_in_new)] {
            if !ids.is_empty() {
                let listed: Vec<String> = ids.iter().take(20).map(u64::to_string).collect();
                let _ = writeln!(
                    out,
                    "\nOnly in the {which} report: {} ({}).",
                    plural(ids.len(), "task"),
                    listed.join(", ")
                );
            }
        }
        let notes = self.notes();
        if !notes.is_empty() {
            let _ = writeln!(out);
            for note in notes {
                let _ = writeln!(out, "_Note: {}_  ", markdown_text(&note));
            }
        }
        let _ = writeln!(
            out,
            "\nThreshold {threshold}%, significance level {} (Mann-Whitney U; per-task p-values adjusted by Benjamini-Hochberg).",
            self.alpha
        );
        out
    }
}

/// Text with Markdown's special characters escaped, and what a terminal would act on (a newline
/// among it) escaped through [`safe_text`], so it stays on its line.
fn markdown_text(text: &str) -> String {
    let text = safe_text(text);
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(character);
            }
            other => out.push(other),
        }
    }
    out
}

/// Text as a Markdown code span that no backtick in it can close early, with `|` escaped (it
/// would end a table cell).
fn markdown_code(text: &str) -> String {
    let one_line = safe_text(text);
    let mut longest = 0;
    let mut run = 0;
    for character in one_line.chars() {
        run = if character == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence} {} {fence}", one_line.replace('|', "\\|"))
}

/// The first 12 characters of a hash.
fn abbreviate(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}
