//! `--junit FILE`: [`Junit`], the run as JUnit XML for CI systems (GitLab, Jenkins, GitHub's test
//! reporters): one `<testsuite>` named after the plugin, one `<testcase>` per task, written whole
//! when the run ends.
//!
//! A task `ok` is a passed test case; `error` (the plugin's `run` said it failed) is a
//! `<failure>`; `crashed` and `timeout` (the plugin never answered) are an `<error>`; `cancelled`
//! and `not-run` are `<skipped>`. Each carries the task's reason as its `message` and as its
//! text. A test case is named `task ID: INPUT` (the input's JSON, cut to 200 characters), its
//! `classname` is the plugin's name and its `time` the task's seconds.
//!
//! Text from plugins and inputs is escaped for XML (`&`, `<`, `>`, quotes), and the characters
//! XML 1.0 cannot hold at all, even escaped (most C0 controls, U+FFFE, U+FFFF), are written as
//! `\u{..}`, so the file is valid XML whatever a plugin answers.

use std::{fmt::Write as _, io};

use crate::runner::{Event, EventKind, Flow, Reporter, Status, TaskRecord};

/// The longest stretch of a task's input kept in its test case's name.
const NAME_INPUT_CHARS: usize = 200;

/// One task, as its test case needs it.
struct Case {
    id: u64,
    input: String,
    status: Status,
    error: Option<String>,
    seconds: f64,
}

/// The JUnit XML of a run, collected as tasks finish and written at the end.
pub struct Junit {
    suite: String,
    cases: Vec<Case>,
    /// When the run started (RFC 3339), and how long it took.
    timestamp: String,
    wall_seconds: f64,
}

impl Junit {
    /// An empty suite named `suite` (the plugin's name).
    pub fn new(suite: &str) -> Self {
        Junit {
            suite: suite.to_owned(),
            cases: Vec::new(),
            timestamp: super::rfc3339(std::time::SystemTime::now()),
            wall_seconds: 0.0,
        }
    }

    fn add(&mut self, record: &TaskRecord) {
        self.cases.push(Case {
            id: record.id,
            input: record
                .input
                .as_str()
                .chars()
                .take(NAME_INPUT_CHARS)
                .collect(),
            status: record.status,
            error: record.error.clone(),
            seconds: record.duration_seconds,
        });
    }

    /// The XML document, test cases in task order.
    pub fn to_xml(&self) -> String {
        let mut cases: Vec<&Case> = self.cases.iter().collect();
        cases.sort_by_key(|case| case.id);
        let count = |wanted: &[Status]| {
            cases
                .iter()
                .filter(|case| wanted.contains(&case.status))
                .count()
        };
        let failures = count(&[Status::Error]);
        let errors = count(&[Status::Crashed, Status::Timeout]);
        let skipped = count(&[Status::Cancelled, Status::NotRun]);
        let suite = text(&self.suite);
        let mut xml = String::with_capacity(256 + cases.len() * 128);
        // Writing to a String cannot fail.
        let _ = writeln!(xml, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        let totals = format!(
            r#"tests="{}" failures="{failures}" errors="{errors}" skipped="{skipped}" time="{:.3}""#,
            cases.len(),
            self.wall_seconds
        );
        let _ = writeln!(xml, r#"<testsuites name="quack" {totals}>"#);
        let _ = writeln!(
            xml,
            r#"  <testsuite name="{suite}" {totals} timestamp="{}">"#,
            self.timestamp
        );
        for case in cases {
            let name = text(&format!("task {}: {}", case.id, case.input));
            let _ = write!(
                xml,
                r#"    <testcase name="{name}" classname="{suite}" time="{:.3}""#,
                case.seconds
            );
            let reason = text(case.error.as_deref().unwrap_or_default());
            let status = case.status.as_str();
            let _ = match case.status {
                Status::Ok => writeln!(xml, "/>"),
                Status::Error => writeln!(
                    xml,
                    r#"><failure type="{status}" message="{reason}">{reason}</failure></testcase>"#
                ),
                Status::Crashed | Status::Timeout => writeln!(
                    xml,
                    r#"><error type="{status}" message="{reason}">{reason}</error></testcase>"#
                ),
                Status::Cancelled | Status::NotRun => {
                    writeln!(
                        xml,
                        r#"><skipped message="{status}: {reason}"/></testcase>"#
                    )
                }
            };
        }
        let _ = writeln!(xml, "  </testsuite>\n</testsuites>");
        xml
    }

    /// Writes the document to `out`.
    pub fn write_to(&self, mut out: impl io::Write) -> io::Result<()> {
        out.write_all(self.to_xml().as_bytes())?;
        out.flush()
    }
}

impl Reporter for Junit {
    fn report(&mut self, event: &Event) -> Flow {
        match &event.kind {
            EventKind::RunStarted { .. } => {
                let now = std::time::SystemTime::now();
                self.timestamp = super::rfc3339(now.checked_sub(event.elapsed).unwrap_or(now));
            }
            EventKind::TaskFinished(record) => self.add(record),
            EventKind::RunFinished { summary, .. } => self.wall_seconds = summary.wall_seconds,
            _ => {}
        }
        Flow::Continue
    }

    fn wants_task_started(&self) -> bool {
        false
    }
}

/// `raw` as XML text or attribute value: escaped, and every character XML 1.0 cannot hold
/// written as `\u{..}`.
fn text(raw: &str) -> String {
    let holdable: String = raw
        .chars()
        .map(|character| {
            let allowed = matches!(character,
                '\t' | '\n' | '\r'
                | '\u{20}'..='\u{d7ff}'
                | '\u{e000}'..='\u{fffd}'
                | '\u{10000}'..='\u{10ffff}');
            if allowed {
                character.to_string()
            } else {
                format!("\\u{{{:x}}}", u32::from(character))
            }
        })
        .collect();
    // Newlines, tabs and CRs stay text, but an attribute would fold them into spaces.
    quick_xml::escape::escape(holdable.as_str())
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_markup_and_what_xml_cannot_hold() {
        assert_eq!(text("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(text("\u{1b}[2J\u{0}"), "\\u{1b}[2J\\u{0}");
        assert_eq!(text("one\ntwo"), "one&#10;two");
    }
}
