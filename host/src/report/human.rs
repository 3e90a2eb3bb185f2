//! The human reporter: one line per task as it finishes (input, result or error, time, and the
//! worker, parts and attempts when they say something) and a summary line, in the seed's list
//! format (`[1, 5501, 9733, 53541233]`).
//!
//! The columns are chosen when the run starts, since lines stream: `worker` when there is more
//! than one worker, `parts` when tasks are split, `attempts` when `--retries` allows more than
//! one. With a width ([`TableOptions::width`]: the terminal's), inputs and results are cut to fit
//! with an ellipsis; the JSON report keeps them whole. With [`TableOptions::keep_order`], lines
//! come in task order (ids are 0.. in input order), those that finish early waiting for the ones
//! before them, as GNU parallel's `-k` does. With [`TableOptions::only_failed`] (`-q`) only the
//! tasks that did not end `ok` are listed. A task the run never reached (`not-run`) says so
//! briefly: the run's reason is said once on stderr. Inputs, results and errors are shown through
//! [`safe`](crate::safe): a control character in them is escaped, so a result can neither drive
//! the terminal nor forge a row.

use std::{
    collections::BTreeMap,
    fmt::{self, Write as _},
    io::{self, Write},
};

use anstyle::{AnsiColor, Style};
use serde_json::Value;

use crate::runner::{Choice, Event, EventKind, Flow, Json, Reporter, Status, Summary, TaskRecord};
use crate::safe::{safe_string, safe_text};

/// What the table shows for a task the run stopped before: the reason is the run's, said once
/// on stderr, and whole in the JSON report.
const NOT_RUN: &str = "not run: the run stopped before it";

/// How the table looks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// Cut each line to this many columns (inputs and results shorten); `None`: never cut.
    pub width: Option<usize>,
    /// Print tasks in id order rather than as they finish.
    pub keep_order: bool,
    /// `--retries`: above 0, the table has an `attempts` column.
    pub retries: u32,
    /// Colour the statuses.
    pub colors: bool,
    /// Print only the tasks that did not end `ok` (`-q`), and the summary.
    pub only_failed: bool,
}

/// The optional columns of a run's table.
#[derive(Debug, Clone, Copy, Default)]
struct Columns {
    worker: bool,
    parts: bool,
    attempts: bool,
}

/// Writes task lines and the summary to a writer (standard output in the CLI).
pub struct HumanReporter<W: Write> {
    out: W,
    options: TableOptions,
    columns: Columns,
    header_written: bool,
    choice: Option<Choice>,
    /// With `keep_order`: tasks finished before an earlier one, by id.
    waiting: BTreeMap<u64, TaskRecord>,
    /// With `keep_order`: the id of the next task to print.
    next_id: u64,
    /// The first write error; writing stops there.
    failure: Option<io::Error>,
    /// One line, made whole before it is written (kept: a line per task allocates nothing).
    line: String,
    /// The worker processes that started, by slot (none in the modes without processes).
    started: std::collections::BTreeSet<usize>,
}

impl<W: Write> Reporter for HumanReporter<W> {
    fn report(&mut self, event: &Event) -> Flow {
        if self.failure.is_some() {
            return Flow::after_write(self.failure.as_ref());
        }
        let written = match &event.kind {
            EventKind::RunStarted { choice, split, .. } => {
                self.choice = Some(choice.clone());
                self.columns = Columns {
                    worker: choice.workers > 1,
                    parts: *split,
                    attempts: self.options.retries > 0,
                };
                Ok(())
            }
            EventKind::TaskFinished(record) => self.file(record),
            EventKind::WorkerStarted { worker, .. } => {
                self.started.insert(*worker);
                Ok(())
            }
            EventKind::Idle => self.out.flush(),
            EventKind::RunFinished { summary, .. } => {
                let choice = self.choice.clone();
                self.drain().and_then(|()| match choice {
                    Some(choice) => self.summary(summary, &choice),
                    None => Ok(()),
                })
            }
            _ => Ok(()),
        };
        if let Err(error) = written {
            self.failure = Some(error);
        }
        Flow::after_write(self.failure.as_ref())
    }
}

impl<W: Write> HumanReporter<W> {
    /// A reporter writing to `out`, in finishing order, never cut, without colour.
    pub fn new(out: W) -> Self {
        Self::with_options(out, TableOptions::default())
    }

    /// A reporter writing to `out` as `options` say.
    pub fn with_options(out: W, options: TableOptions) -> Self {
        HumanReporter {
            out,
            options,
            columns: Columns::default(),
            header_written: false,
            choice: None,
            waiting: BTreeMap::new(),
            next_id: 0,
            failure: None,
            line: String::new(),
            started: std::collections::BTreeSet::new(),
        }
    }

    /// The first error writing the output, if there was one.
    pub fn failure(self) -> Option<io::Error> {
        self.failure
    }

    /// Prints a finished task now, or (keeping order) once every task before it is printed.
    fn file(&mut self, record: &TaskRecord) -> io::Result<()> {
        if !self.options.keep_order {
            return self.task(record);
        }
        if record.id != self.next_id {
            self.waiting.insert(record.id, record.clone());
            return Ok(());
        }
        self.task(record)?;
        self.next_id += 1;
        while let Some(record) = self.waiting.remove(&self.next_id) {
            self.task(&record)?;
            self.next_id += 1;
        }
        Ok(())
    }

    /// Prints what still waits (a task whose predecessor never came), in order.
    fn drain(&mut self) -> io::Result<()> {
        for record in std::mem::take(&mut self.waiting).into_values() {
            self.task(&record)?;
        }
        Ok(())
    }

    /// The columns before `input -> result`, padded, onto `line`; `cells` gives each optional
    /// column's text. `status` is coloured with `style` (after padding, so colour codes never
    /// shift a column).
    fn prefix(
        &self,
        line: &mut String,
        task: &dyn fmt::Display,
        (status, style): (&str, Style),
        time: &dyn fmt::Display,
        cells: [&dyn fmt::Display; 3],
    ) {
        let pad = 9usize.saturating_sub(status.chars().count());
        // Writing to a String cannot fail.
        let _ = write!(
            line,
            "{task:>6}  {style}{status}{style:#}{:pad$} {time:>10}",
            ""
        );
        let shown = [
            self.columns.worker,
            self.columns.parts,
            self.columns.attempts,
        ];
        let widths = [6, 5, 8];
        for ((cell, shown), width) in cells.iter().zip(shown).zip(widths) {
            if shown {
                let _ = write!(line, " {cell:>width$}");
            }
        }
        line.push_str("  ");
    }

    /// Writes one finished task (shown at the next flush).
    fn task(&mut self, record: &TaskRecord) -> io::Result<()> {
        if self.options.only_failed && record.status == Status::Ok {
            return Ok(());
        }
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        if !self.header_written {
            self.prefix(
                &mut line,
                &"task",
                ("status", Style::new()),
                &"time",
                [&"worker", &"parts", &"attempts"],
            );
            line.push_str("input -> result\n");
            self.header_written = true;
        }
        if self.options.width.is_none() {
            self.row(&mut line, record);
            line.push('\n');
            let written = self.out.write_all(line.as_bytes());
            self.line = line;
            return written;
        }
        let start = line.len();
        // What the plugin said is shown, never obeyed by the terminal (see `safe`).
        let outcome = match (&record.output, &record.error) {
            // Every task the run did not reach has the run's reason, which stderr says once.
            _ if record.status == Status::NotRun => NOT_RUN.to_owned(),
            (Some(output), _) => safe_string(display_json(output)),
            (None, Some(error)) => safe_text(error).into_owned(),
            (None, None) => String::new(),
        };
        let style = if self.options.colors {
            status_style(record.status)
        } else {
            Style::new()
        };
        let parts: &dyn fmt::Display = match &record.parts {
            Some(parts) => parts,
            None => &"-",
        };
        self.prefix(
            &mut line,
            &record.id,
            (record.status.as_str(), style),
            &duration(record.duration_seconds),
            [&record.worker, parts, &(record.attempts.len() + 1)],
        );
        let input = spaced(record.input.as_str());
        let input = safe_text(&input);
        match self.options.width {
            Some(width) => {
                let room = width.saturating_sub(visible_width(&line[start..]));
                line.push_str(&fit(&input, &outcome, room));
            }
            None => {
                let _ = write!(line, "{input} -> {outcome}");
            }
        }
        line.push('\n');
        // One write per line, not one per piece.
        let written = self.out.write_all(line.as_bytes());
        self.line = line;
        written
    }

    /// One task's row, uncut (no `--width`, as on a pipe), onto `line`: the same text as
    /// [`prefix`](Self::prefix) and `input -> result` make, written in place (no allocation for
    /// a task that ends `ok` with a result that is not a string).
    fn row(&self, line: &mut String, record: &TaskRecord) {
        push_right(line, Cell::number(record.id).as_str(), 6);
        line.push_str("  ");
        let status = record.status.as_str();
        if self.options.colors {
            let style = status_style(record.status);
            let _ = write!(line, "{style}{status}{style:#}");
        } else {
            line.push_str(status);
        }
        push_spaces(line, 9usize.saturating_sub(status.len()));
        line.push(' ');
        push_right(line, Cell::duration(record.duration_seconds).as_str(), 10);
        if self.columns.worker {
            line.push(' ');
            push_right(line, Cell::number(record.worker as u64).as_str(), 6);
        }
        if self.columns.parts {
            line.push(' ');
            match record.parts {
                Some(parts) => push_right(line, Cell::number(parts as u64).as_str(), 5),
                None => push_right(line, "-", 5),
            }
        }
        if self.columns.attempts {
            line.push(' ');
            let attempts = record.attempts.len() as u64 + 1;
            push_right(line, Cell::number(attempts).as_str(), 8);
        }
        line.push_str("  ");
        // What the plugin said is shown, never obeyed by the terminal (see `safe`).
        push_safe(line, |line| spaced_into(line, record.input.as_str()));
        line.push_str(" -> ");
        match (&record.output, &record.error) {
            // Every task the run did not reach has the run's reason, which stderr says once.
            _ if record.status == Status::NotRun => line.push_str(NOT_RUN),
            (Some(output), _) if output.as_str().starts_with('"') => {
                line.push_str(&safe_string(display_json(output)));
            }
            (Some(output), _) => push_safe(line, |line| spaced_into(line, output.as_str())),
            (None, Some(error)) => line.push_str(&safe_text(error)),
            (None, None) => {}
        }
    }

    /// Writes the summary line.
    fn summary(&mut self, summary: &Summary, choice: &Choice) -> io::Result<()> {
        let mut counts = vec![format!("{} ok", summary.ok)];
        counts.extend(
            Status::ALL[1..]
                .iter()
                .filter(|status| summary.of(**status) > 0)
                .map(|status| format!("{} {}", summary.of(*status), status.as_str())),
        );
        let mut workers = if choice.workers == 1 {
            "worker".to_owned()
        } else {
            "workers".to_owned()
        };
        // Process workers start only while tasks wait for them: say when fewer ran than chosen.
        if !self.started.is_empty() && self.started.len() < choice.workers {
            workers.push_str(&format!(" ({} started)", self.started.len()));
        }
        let tasks = if summary.tasks == 1 { "task" } else { "tasks" };
        let failed = summary.failed();
        let style = if self.options.colors && failed > 0 {
            Style::new().fg_color(Some(AnsiColor::Red.into())).bold()
        } else {
            Style::new()
        };
        writeln!(
            self.out,
            "{} {tasks} ({}), {style}{failed} failed{style:#} | mode {}, {} {workers} | wall {}, cpu {}",
            summary.tasks,
            counts.join(", "),
            choice.mode.as_str(),
            choice.workers,
            duration(summary.wall_seconds),
            duration(summary.cpu_seconds),
        )?;
        self.out.flush()
    }
}

/// The width to cut the table to: `--width` (0: never cut); else, when stdout is a terminal,
/// `COLUMNS` if it holds a number, or the terminal's width; else (a pipe, a file) never cut, so
/// that what a program reads is whole.
pub fn table_width(flag: Option<usize>, stdout: &std::fs::File) -> Option<usize> {
    use std::io::IsTerminal;
    if let Some(width) = flag {
        return (width > 0).then_some(width);
    }
    if !stdout.is_terminal() {
        return None;
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|columns| columns.trim().parse::<usize>().ok())
        .filter(|columns| *columns > 0)
        .or_else(|| terminal_size::terminal_size_of(stdout).map(|(width, _)| usize::from(width.0)))
}

/// The colour of a status in the table.
fn status_style(status: Status) -> Style {
    let color = match status {
        Status::Ok => AnsiColor::Green,
        Status::Error | Status::Crashed | Status::Timeout => AnsiColor::Red,
        Status::Cancelled | Status::NotRun => AnsiColor::Yellow,
    };
    let style = Style::new().fg_color(Some(color.into()));
    if matches!(status, Status::Crashed | Status::Timeout) {
        style.bold()
    } else {
        style
    }
}

/// A short piece of text made on the stack: a number or a duration for a table cell.
struct Cell {
    bytes: [u8; 40],
    len: usize,
}

impl Cell {
    fn empty() -> Self {
        Cell {
            bytes: [0; 40],
            len: 0,
        }
    }

    /// `number` in decimal.
    fn number(mut number: u64) -> Self {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (number % 10) as u8;
            number /= 10;
            if number == 0 {
                break;
            }
        }
        let mut cell = Cell::empty();
        let count = digits.len() - at;
        cell.bytes[..count].copy_from_slice(&digits[at..]);
        cell.len = count;
        cell
    }

    /// [`duration`] of `seconds`.
    fn duration(seconds: f64) -> Self {
        let mut cell = Cell::empty();
        // At most 40 bytes: a longer duration (none is) would be cut, never a panic.
        let _ = if seconds < 1.0 {
            write!(cell, "{:.1} ms", seconds * 1000.0)
        } else {
            write!(cell, "{seconds:.2} s")
        };
        cell
    }

    fn as_str(&self) -> &str {
        // Only whole `str`s are ever written in.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl fmt::Write for Cell {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let end = self.len + text.len();
        if end > self.bytes.len() {
            return Err(fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// `text` right-aligned in `width` columns (it is ASCII: a byte is a column).
fn push_right(line: &mut String, text: &str, width: usize) {
    push_spaces(line, width.saturating_sub(text.len()));
    line.push_str(text);
}

/// `count` spaces.
fn push_spaces(line: &mut String, count: usize) {
    const SPACES: &str = "                ";
    let mut left = count;
    while left > 0 {
        let now = left.min(SPACES.len());
        line.push_str(&SPACES[..now]);
        left -= now;
    }
}

/// What `write` appends to `line`, escaped for a terminal (see `safe`) when it must be.
fn push_safe(line: &mut String, write: impl FnOnce(&mut String)) {
    let from = line.len();
    write(line);
    let escaped = match safe_text(&line[from..]) {
        std::borrow::Cow::Owned(escaped) => escaped,
        std::borrow::Cow::Borrowed(_) => return,
    };
    line.truncate(from);
    line.push_str(&escaped);
}

/// How many columns `text` takes on a terminal: its characters less ANSI colour codes.
fn visible_width(text: &str) -> usize {
    let mut width = 0;
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\u{1b}') => in_escape = true,
            (false, _) => width += 1,
            (true, 'm') => in_escape = false,
            (true, _) => {}
        }
    }
    width
}

/// `input -> result` in at most `room` columns: whatever does not fit is cut with an ellipsis,
/// the input keeping at least half the room (all of it it needs when the result is short).
pub fn fit(input: &str, result: &str, room: usize) -> String {
    const ARROW: &str = " -> ";
    let (input_len, result_len) = (input.chars().count(), result.chars().count());
    if input_len + ARROW.len() + result_len <= room {
        return format!("{input}{ARROW}{result}");
    }
    // Too narrow to say anything useful: keep a few columns of each rather than nothing.
    let room = room.saturating_sub(ARROW.len()).max(8);
    let input_room = input_len.min((room / 2).max(room.saturating_sub(result_len)));
    let result_room = room - input_room;
    format!(
        "{}{ARROW}{}",
        cut(input, input_room),
        cut(result, result_room)
    )
}

/// `text` in at most `room` characters, ending with `…` when cut.
pub fn cut(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_owned();
    }
    if room == 0 {
        return String::new();
    }
    let kept: String = text.chars().take(room - 1).collect();
    let mut kept = kept.trim_end().to_owned();
    kept.push('…');
    kept
}

/// A value for people: compact JSON with a space after each comma, strings without quotes at
/// the top level.
pub fn display(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => compact(other),
    }
}

/// [`display`] for a value kept as text: a string shows its text, anything else [`spaced`].
pub fn display_json(json: &Json) -> String {
    let text = json.as_str();
    if text.starts_with('"') {
        if let Ok(string) = serde_json::from_str::<String>(text) {
            return string;
        }
    }
    spaced(text)
}

/// Compact JSON text (no whitespace between tokens) with a space after each comma and colon, as
/// [`compact`] shows a value: made from the text in one pass, without parsing it.
pub fn spaced(compact_json: &str) -> String {
    let mut shown = String::with_capacity(compact_json.len() + compact_json.len() / 4);
    spaced_into(&mut shown, compact_json);
    shown
}

/// [`spaced`], appended to `shown`.
fn spaced_into(shown: &mut String, compact_json: &str) {
    let mut in_string = false;
    let mut escaped = false;
    for character in compact_json.chars() {
        shown.push(character);
        if in_string {
            if escaped {
                escaped = false;
            } else if character == '\\' {
                escaped = true;
            } else if character == '"' {
                in_string = false;
            }
        } else if character == '"' {
            in_string = true;
        } else if character == ',' || character == ':' {
            shown.push(' ');
        }
    }
}

/// A value as compact JSON with a space after each comma (strings keep their quotes).
pub fn compact(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(compact).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(key, value)| format!("{}: {}", Value::String(key.clone()), compact(value)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        scalar => scalar.to_string(),
    }
}

/// Seconds for people: milliseconds under one second.
pub fn duration(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.1} ms", seconds * 1000.0)
    } else {
        format!("{seconds:.2} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The rows written in place (no width, as on a pipe) are the rows the general path makes
    /// when nothing needs cutting, whatever the status, the columns, the colours and the text.
    #[test]
    fn rows_written_in_place_match_the_general_path() {
        let record = |id, status, output: Option<Value>, error: Option<&str>| TaskRecord {
            id,
            input: Json::from_value(&json!({"n": [1, "a\u{1b}b"], "s": "x, y"})),
            status,
            output: output.as_ref().map(Json::from_value),
            error: error.map(str::to_owned),
            worker: 12,
            start_seconds: 0.5,
            duration_seconds: if id % 2 == 0 { 0.000_25 } else { 1234.567 },
            parts: (id % 3 == 0).then_some(4),
            attempts: Vec::new(),
            part: None,
            node: None,
            part_runs: Vec::new(),
        };
        let records = [
            record(0, Status::Ok, Some(json!([1, 5501])), None),
            record(1, Status::Ok, Some(json!("a string\twith a tab")), None),
            record(2, Status::Error, None, Some("asked\u{1b}]0;to fail")),
            record(3, Status::Crashed, None, Some("worker 0 died")),
            record(1_234_567, Status::NotRun, None, None),
            record(5, Status::Cancelled, None, None),
        ];
        for colors in [false, true] {
            for retries in [0, 2] {
                let lines = |width| {
                    let options = TableOptions {
                        width,
                        retries,
                        colors,
                        ..TableOptions::default()
                    };
                    let mut reporter = HumanReporter::with_options(Vec::new(), options);
                    reporter.columns = Columns {
                        worker: true,
                        parts: retries > 0,
                        attempts: retries > 0,
                    };
                    for record in &records {
                        reporter.task(record).unwrap();
                    }
                    String::from_utf8(reporter.out).unwrap()
                };
                assert_eq!(lines(None), lines(Some(100_000)), "{colors} {retries}");
            }
        }
    }

    #[test]
    fn lists_look_like_the_seed() {
        assert_eq!(
            display(&json!([1, 5501, 9733, 53541233])),
            "[1, 5501, 9733, 53541233]"
        );
        assert_eq!(display(&json!({"a": [1, "x"]})), "{\"a\": [1, \"x\"]}");
        assert_eq!(display(&json!("Quack!")), "Quack!");
    }

    /// Values kept as text look the same as values parsed first, strings with commas, colons and
    /// quotes in them included.
    #[test]
    fn values_kept_as_text_look_like_parsed_ones() {
        for value in [
            json!([1, 5501, 9733, 53541233]),
            json!({"a": [1, "x, y: \"z\""], "b": {"c": null}}),
            json!("Quack, quack: \\ \"duck\""),
            json!(12),
            json!([]),
        ] {
            let json = Json::from_value(&value);
            assert_eq!(display_json(&json), display(&value), "{value}");
            assert_eq!(spaced(json.as_str()), compact(&value), "{value}");
        }
    }

    proptest::proptest! {
        /// Any string, anywhere: the text and the parsed value show alike.
        #[test]
        fn any_string_shows_alike(text in "[ -~\u{e9}\u{1F986}]{0,12}") {
            let value = json!({"k": text, "list": [text, 1]});
            let json = Json::from_value(&value);
            proptest::prop_assert_eq!(spaced(json.as_str()), compact(&value));
        }
    }

    #[test]
    fn long_inputs_and_results_are_cut_with_an_ellipsis() {
        assert_eq!(fit("12", "[2, 2, 3]", 40), "12 -> [2, 2, 3]");
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 3), "abc");
        // A short input stays whole; the result takes the rest.
        assert_eq!(fit("7", "abcdefghijklmnopqrstuvwxyz", 14), "7 -> abcdefgh…");
        // Both long: half each.
        assert_eq!(fit("abcdefghij", "klmnopqrst", 14), "abcd… -> klmn…");
        let line = fit(&"x".repeat(100), &"y".repeat(100), 30);
        assert_eq!(line.chars().count(), 30, "{line}");
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(duration(0.0123), "12.3 ms");
        assert_eq!(duration(2.5), "2.50 s");
    }
}
