//! The benchmark's figures and how they are shown: [`Samples`] (median and minimum of the
//! repetitions), a [`Row`] per measured thing with its [`Target`] and its [`Comparison`]s, a
//! [`Section`] per scenario, and [`render`], which lays them out as a plain-text table.

use std::fmt::Write as _;

use serde::Serialize;

/// The repetitions of one measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Samples {
    /// The middle value (the mean of the two middle values for an even count).
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// Every value, in the order measured.
    pub values: Vec<f64>,
}

impl Samples {
    /// The median and minimum of `values`; `None` when there are none (or one is not a number).
    pub fn of(values: Vec<f64>) -> Option<Self> {
        if values.iter().any(|value| value.is_nan()) {
            return None;
        }
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let middle = sorted.len() / 2;
        let median = match sorted.len() {
            0 => return None,
            len if len % 2 == 1 => sorted[middle],
            _ => (sorted[middle - 1] + sorted[middle]) / 2.0,
        };
        Some(Samples {
            median,
            min: sorted[0],
            values,
        })
    }

    /// A figure that was not repeated (or is derived from medians).
    pub fn single(value: f64) -> Self {
        Samples {
            median: value,
            min: value,
            values: vec![value],
        }
    }
}

/// The unit of a figure, which also says whether less is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Nanoseconds (per trial division).
    Nanoseconds,
    /// Microseconds (per task).
    Microseconds,
    /// Milliseconds.
    Milliseconds,
    /// Seconds.
    Seconds,
    /// Mebibytes (peak resident memory).
    Mebibytes,
    /// Tasks per second: the only unit where more is better.
    TasksPerSecond,
}

impl Unit {
    /// Whether a larger figure is the better one.
    pub fn higher_is_better(self) -> bool {
        self == Unit::TasksPerSecond
    }

    /// `value` in this unit, for people.
    pub fn format(self, value: f64) -> String {
        match self {
            Unit::Nanoseconds => format!("{} ns", significant(value)),
            Unit::Microseconds => format!("{} us", significant(value)),
            Unit::Milliseconds => format!("{} ms", significant(value)),
            // Under a second, in milliseconds: 0.008 s hides a 20% difference.
            Unit::Seconds if value < 1.0 => format!("{} ms", significant(value * 1000.0)),
            Unit::Seconds => format!("{:.3} s", value),
            Unit::Mebibytes => format!("{:.1} MiB", value),
            Unit::TasksPerSecond => format!("{}/s", thousands(value.round() as u64)),
        }
    }
}

/// Three significant figures, but never more than two decimals for numbers from 1 up and never
/// an exponent: `0.0412`, `0.412`, `4.12`, `41.2`, `412`.
fn significant(value: f64) -> String {
    let magnitude = value.abs();
    let decimals = if magnitude >= 100.0 || magnitude == 0.0 {
        0
    } else if magnitude >= 10.0 {
        1
    } else if magnitude >= 1.0 {
        2
    } else {
        // 0.412 -> 3 decimals, 0.0412 -> 4.
        (2 - magnitude.log10().floor() as i32).clamp(3, 6) as usize
    };
    format!("{value:.decimals$}")
}

/// `1234567` as `1,234,567`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// Which way a target bounds a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Bound {
    /// The figure must be at most the target.
    #[serde(rename = "<=")]
    AtMost,
    /// The figure must be at least the target.
    #[serde(rename = ">=")]
    AtLeast,
}

/// Which figure of a row a target applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum On {
    /// The measured median, in the row's unit.
    Median,
    /// The ratio against the row's first comparison (a speedup).
    Ratio,
}

/// A performance target of the project.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Target {
    /// At most or at least.
    pub bound: Bound,
    /// The limit.
    pub value: f64,
    /// What it bounds.
    pub on: On,
}

impl Target {
    /// The median must be at most `value`.
    pub fn at_most(value: f64) -> Self {
        Target {
            bound: Bound::AtMost,
            value,
            on: On::Median,
        }
    }

    /// The ratio against the first comparison must be at least `value`.
    pub fn ratio_at_least(value: f64) -> Self {
        Target {
            bound: Bound::AtLeast,
            value,
            on: On::Ratio,
        }
    }

    fn holds(self, figure: f64) -> bool {
        match self.bound {
            Bound::AtMost => figure <= self.value,
            Bound::AtLeast => figure >= self.value,
        }
    }

    fn describe(self, unit: Unit) -> String {
        let bound = match self.bound {
            Bound::AtMost => "<=",
            Bound::AtLeast => ">=",
        };
        match self.on {
            On::Median => format!("{bound} {}", unit.format(self.value)),
            On::Ratio => format!("{bound} {}", ratio(self.value)),
        }
    }
}

/// Something a row is compared with: a figure measured in this run (Quack's own baselines, the
/// rayon peer, the Python and Go peers when they are installed), or a peer's figure quoted from
/// docs/peers.md when it could not be measured here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// What it is, e.g. `inline executor` or `Python ThreadPoolExecutor(2), submit`.
    pub label: String,
    /// Its figure, in the row's unit.
    pub value: f64,
    /// Its figure as shown (a range, for instance), with ` (quoted)` after a quoted one.
    pub shown: String,
    /// Whether it was measured in this run or quoted.
    pub origin: Origin,
    /// Why a quoted figure was not measured here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quoted_because: Option<String>,
    /// How many times better the row's median is than this figure (above 1: better).
    pub ratio: Option<f64>,
}

/// Where a compared figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Measured in this run.
    Measured,
    /// Quoted from docs/peers.md.
    Quoted,
}

impl Comparison {
    /// A figure measured in this run.
    pub fn here(label: impl Into<String>, value: f64, unit: Unit) -> Self {
        Comparison {
            label: label.into(),
            value,
            shown: unit.format(value),
            origin: Origin::Measured,
            quoted_because: None,
            ratio: None,
        }
    }

    /// A figure quoted from docs/peers.md, shown as `shown` and marked quoted, because `why`.
    pub fn quoted(
        label: impl Into<String>,
        value: f64,
        shown: &str,
        why: impl Into<String>,
    ) -> Self {
        Comparison {
            label: label.into(),
            value,
            shown: format!("{shown} (quoted)"),
            origin: Origin::Quoted,
            quoted_because: Some(why.into()),
            ratio: None,
        }
    }
}

/// Whether a row meets its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It does.
    Meets,
    /// It does not.
    Misses,
}

/// One measured thing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// What was measured, e.g. `thread, 2 workers`.
    pub name: String,
    /// The unit of the samples.
    pub unit: Unit,
    /// The repetitions.
    pub samples: Samples,
    /// The project's target, if it has one for this figure.
    pub target: Option<Target>,
    /// What the figure is set against; the first one is what a ratio target applies to.
    pub comparisons: Vec<Comparison>,
    /// Whether the target is met (set when the row is added to a section).
    pub verdict: Option<Verdict>,
}

impl Row {
    /// A row without target or comparisons.
    pub fn new(name: impl Into<String>, unit: Unit, samples: Samples) -> Self {
        Row {
            name: name.into(),
            unit,
            samples,
            target: None,
            comparisons: Vec::new(),
            verdict: None,
        }
    }

    /// Sets the target.
    pub fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    /// Adds a comparison and works out the ratio.
    pub fn against(mut self, mut comparison: Comparison) -> Self {
        let (better, worse) = if self.unit.higher_is_better() {
            (self.samples.median, comparison.value)
        } else {
            (comparison.value, self.samples.median)
        };
        comparison.ratio = (worse > 0.0).then(|| better / worse);
        self.comparisons.push(comparison);
        self
    }

    fn judge(&self) -> Option<Verdict> {
        let target = self.target?;
        let figure = match target.on {
            On::Median => self.samples.median,
            On::Ratio => self.comparisons.first()?.ratio?,
        };
        Some(if target.holds(figure) {
            Verdict::Meets
        } else {
            Verdict::Misses
        })
    }
}

/// One scenario: a title and its rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// The scenario, e.g. `1. Overhead per trivial task ...`.
    pub title: String,
    /// Its rows.
    pub rows: Vec<Row>,
    /// What a reader should know to read the rows right.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Section {
    /// An empty section.
    pub fn new(title: impl Into<String>) -> Self {
        Section {
            title: title.into(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Adds a row, judging it against its target.
    pub fn push(&mut self, mut row: Row) {
        row.verdict = row.judge();
        self.rows.push(row);
    }

    /// Adds a note shown under the section.
    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }
}

/// A ratio for people: `1.96x`, `27.5x`, `412x`.
pub fn ratio(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}x")
    } else if value >= 10.0 {
        format!("{value:.1}x")
    } else {
        format!("{value:.2}x")
    }
}

const HEADER: [&str; 7] = [
    "measured",
    "median",
    "min",
    "target",
    "verdict",
    "compared with",
    "ratio",
];

/// The sections as a table: one line per row (more when a row has several comparisons), the
/// section titles and notes between them, and a legend.
pub fn render(sections: &[Section]) -> String {
    // Cells of every line, section titles and notes aside, to size the columns.
    let mut lines: Vec<Line> = Vec::new();
    for section in sections {
        lines.push(Line::Text(section.title.clone()));
        for row in &section.rows {
            let verdict = match row.verdict {
                Some(Verdict::Meets) => "meets",
                Some(Verdict::Misses) => "MISSES",
                None => "-",
            };
            let target = row
                .target
                .map_or_else(|| "-".to_owned(), |target| target.describe(row.unit));
            let mut comparisons = row.comparisons.iter().map(|comparison| {
                (
                    format!("{} {}", comparison.label, comparison.shown),
                    comparison.ratio.map_or_else(|| "-".to_owned(), ratio),
                )
            });
            let (compared, shown_ratio) = comparisons
                .next()
                .unwrap_or_else(|| ("-".to_owned(), String::new()));
            lines.push(Line::Cells([
                format!("  {}", row.name),
                row.unit.format(row.samples.median),
                row.unit.format(row.samples.min),
                target,
                verdict.to_owned(),
                compared,
                shown_ratio,
            ]));
            for (compared, shown_ratio) in comparisons {
                lines.push(Line::Cells([
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    compared,
                    shown_ratio,
                ]));
            }
        }
        for note in &section.notes {
            lines.push(Line::Note(format!("({note})")));
        }
    }
    let mut widths = HEADER.map(str::len);
    for line in &lines {
        if let Line::Cells(cells) = line {
            for (width, cell) in widths.iter_mut().zip(cells) {
                *width = (*width).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let header = HEADER.map(str::to_owned);
    push_cells(&mut out, &header, &widths);
    let total = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
    out.push_str(&"-".repeat(total));
    out.push('\n');
    for line in &lines {
        match line {
            Line::Text(text) => {
                out.push_str(text);
                out.push('\n');
            }
            Line::Note(note) => {
                for line in wrap(note, total.saturating_sub(2).max(60)) {
                    out.push_str("  ");
                    out.push_str(&line);
                    out.push('\n');
                }
            }
            Line::Cells(cells) => push_cells(&mut out, cells, &widths),
        }
    }
    out.push_str(LEGEND);
    out
}

/// How to read the table, printed under it.
const LEGEND: &str = "\
median and min over the repetitions; ratio = how many times better the median is than the
figure it is compared with (above 1: better; for the speedup rows, the speedup). Every figure
compared with is measured in this run, on this machine, except those marked (quoted): peers not
run here (their language is not installed, or --quick skips them), quoted from docs/peers.md
(2 cores, Python 3.11.7, go 1.19): another run on another machine, so ratios against them are
only indicative.
";

enum Line {
    Text(String),
    Note(String),
    Cells([String; 7]),
}

/// `text` cut into lines of at most `width` characters at spaces (a longer word stands alone).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// One line of cells: text columns left-aligned, figures right-aligned.
fn push_cells(out: &mut String, cells: &[String; 7], widths: &[usize; 7]) {
    let mut line = String::new();
    for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
        if index > 0 {
            line.push_str("  ");
        }
        // The name, target, verdict and comparison read left to right; figures line up right.
        let _ = match index {
            1 | 2 | 6 => write!(line, "{cell:>width$}"),
            _ => write!(line, "{cell:<width$}"),
        };
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_min() {
        let odd = Samples::of(vec![3.0, 1.0, 2.0]).unwrap();
        assert_eq!((odd.median, odd.min), (2.0, 1.0));
        assert_eq!(odd.values, vec![3.0, 1.0, 2.0], "kept in measured order");
        let even = Samples::of(vec![4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((even.median, even.min), (2.5, 1.0));
        assert_eq!(Samples::of(vec![7.0]).unwrap().median, 7.0);
        assert!(Samples::of(Vec::new()).is_none());
        assert!(Samples::of(vec![1.0, f64::NAN]).is_none());
    }

    #[test]
    fn figures_for_people() {
        assert_eq!(Unit::Microseconds.format(0.0412), "0.0412 us");
        assert_eq!(Unit::Microseconds.format(0.8), "0.800 us");
        assert_eq!(Unit::Microseconds.format(22.0), "22.0 us");
        assert_eq!(Unit::Milliseconds.format(4.567), "4.57 ms");
        assert_eq!(Unit::Seconds.format(0.1034), "103 ms");
        assert_eq!(Unit::Seconds.format(0.00764), "7.64 ms");
        assert_eq!(Unit::Seconds.format(1.5), "1.500 s");
        assert_eq!(Unit::Mebibytes.format(5.25), "5.2 MiB");
        assert_eq!(Unit::TasksPerSecond.format(1_234_567.4), "1,234,567/s");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(ratio(1.955), "1.96x");
        assert_eq!(ratio(27.46), "27.5x");
        assert_eq!(ratio(412.3), "412x");
    }

    #[test]
    fn ratios_and_verdicts() {
        let mut section = Section::new("1. test");
        // Lower is better: the ratio is the comparison over the median.
        section.push(
            Row::new("thread", Unit::Microseconds, Samples::single(0.5))
                .target(Target::at_most(1.0))
                .against(Comparison::quoted("Python", 22.0, "22 us", "test")),
        );
        // A speedup target applies to the first comparison's ratio.
        section.push(
            Row::new("process", Unit::Seconds, Samples::single(1.0))
                .target(Target::ratio_at_least(1.85))
                .against(Comparison::here("inline", 1.8, Unit::Seconds)),
        );
        // More is better for a rate.
        section.push(
            Row::new("rate", Unit::TasksPerSecond, Samples::single(200.0))
                .against(Comparison::here("other", 100.0, Unit::TasksPerSecond)),
        );
        let [thread, process, rate] = &section.rows[..] else {
            panic!("three rows");
        };
        assert_eq!(thread.comparisons[0].ratio, Some(44.0));
        assert_eq!(thread.verdict, Some(Verdict::Meets));
        assert_eq!(process.comparisons[0].ratio, Some(1.8));
        assert_eq!(process.verdict, Some(Verdict::Misses));
        assert_eq!(rate.comparisons[0].ratio, Some(2.0));
        assert_eq!(rate.verdict, None);
    }

    #[test]
    fn the_table_lines_up() {
        let mut section = Section::new("1. Overhead");
        section.push(
            Row::new(
                "thread, 2 workers",
                Unit::Microseconds,
                Samples::of(vec![0.9, 0.8, 1.2]).unwrap(),
            )
            .target(Target::at_most(1.0))
            .against(Comparison::here("inline executor", 0.3, Unit::Microseconds))
            .against(Comparison::quoted(
                "Python ThreadPoolExecutor(2)",
                22.0,
                "22 us",
                "test",
            )),
        );
        section.note("a note");
        let table = render(&[section]);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("measured"), "{table}");
        assert!(lines[1].chars().all(|c| c == '-'), "{table}");
        assert_eq!(lines[2], "1. Overhead");
        let row = lines[3];
        assert!(row.starts_with("  thread, 2 workers"), "{table}");
        for cell in ["0.900 us", "0.800 us", "<= 1.00 us", "meets", "0.33x"] {
            assert!(row.contains(cell), "{cell} missing in {row:?}");
        }
        // The second comparison goes on its own line, in the same columns.
        let second = lines[4];
        assert!(
            second
                .trim_start()
                .starts_with("Python ThreadPoolExecutor(2) 22 us (quoted)")
        );
        let column = |line: &str, text: &str| line.find(text);
        assert_eq!(
            column(row, "inline executor"),
            column(second, "Python"),
            "{table}"
        );
        assert_eq!(row.len(), second.len(), "ratios right-aligned:\n{table}");
        assert_eq!(lines[5], "  (a note)");
    }

    #[test]
    fn notes_wrap_at_spaces() {
        assert_eq!(
            wrap("one two three four", 9),
            vec!["one two", "three", "four"]
        );
        assert_eq!(wrap("unbreakable-word x", 4), vec!["unbreakable-word", "x"]);
        assert!(wrap("", 10).is_empty());
    }
}
