//! [`TaskInput`]: where a run's tasks come from (`--task` values, an `--input` file or standard
//! input, or the plugin's default input), as the runner's [`TaskSource`].
//!
//! An input file is either JSON Lines, one JSON value per line, one task each (blank lines are
//! skipped), or one JSON array of tasks spread over several lines (as `jq .` and other
//! pretty-printers write it), read whole. The first line that is not blank tells them apart: when
//! it is a whole JSON value by itself, the input is JSON Lines, so a line `[1, 2]` is one task
//! whose input is `[1, 2]`, whatever follows it; when it opens an array that goes on past it,
//! the whole input is that array. JSON Lines are streamed: a thread
//! reads them into a short queue, so a stream of millions of tasks is never held in memory at
//! once, and a pipe that pauses never holds back the reporting of the results that are in. A line
//! that is not JSON is a failed task of its own ("line 501 is not JSON: ..."); the lines before and
//! after it run.
//!
//! Two other formats are read with [`InputFormat`]: `lines`, each line one string task (as `find`
//! and `ls` write names; GNU parallel's habit), and `csv`, a header row and then one task per row,
//! an object of the header's names (values read as `--set` reads them: JSON when they are JSON,
//! else text). Both are streamed like JSON Lines, and a row or line that cannot be a task (not
//! UTF-8, a row with more or fewer fields than the header) is a failed task of its own.
//! `--task` values given beside an input run first (see [`TaskInput::after_given`]).

use std::{
    fs::File,
    io::{self, BufRead, BufReader, Read},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
    thread,
};

use crossbeam_channel::{Receiver, TryRecvError, bounded};
use serde_json::Value;

use crate::runner::{Entry, Incoming, Json, Polled, Task, TaskSource};

/// Why the tasks could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The input file could not be opened or read.
    #[error("could not read the input {path}: {source}; check the path given to --input")]
    Read {
        /// The path given (`-` for standard input).
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// The input is not JSON.
    #[error(
        "the input {path} is not valid JSON ({message}); give a JSON array of tasks or one JSON value per line"
    )]
    Json {
        /// The path given (`-` for standard input).
        path: PathBuf,
        /// serde_json's description, with the line and column.
        message: String,
    },
    /// No tasks were given and the plugin has no default input.
    #[error("no tasks to run: the plugin has no default input; give tasks with --task or --input")]
    NoDefaultInput,
    /// A CSV input's header row cannot name the fields of its tasks.
    #[error(
        "the input {path} has a CSV header that cannot name tasks' fields: {problem}; give a first row of distinct column names"
    )]
    CsvHeader {
        /// The path given (`-` for standard input).
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The input holds no task.
    #[error(
        "the input {path} holds no task; give a JSON array of tasks or one JSON value per line"
    )]
    EmptyInput {
        /// The path given (`-` for standard input).
        path: PathBuf,
    },
}

/// The most entries the reader thread sends in one message (it sends fewer when the input has no
/// more at hand: a line that arrives alone goes at once). Each message the runner takes may wake
/// the reader: with 64, inline mode spent 15 ms of system time per 100,000 lines on wake-ups and
/// ran JSON Lines 1.1-1.3x slower than a JSON array; with 256, 5 ms and faster than the array.
const READ_BATCH: usize = 256;

/// Messages read ahead of the runner from a stream: with [`READ_BATCH`], at most 2,048 entries.
const READ_AHEAD: usize = 8;

/// How the tasks of an input file are written (`--input-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// JSON Lines, or one JSON array over several lines.
    Json,
    /// One string task per line.
    Lines,
    /// A header row, then one object per row.
    Csv,
}

impl InputFormat {
    /// The format `--input-format auto` reads `path` as, by its name alone (the content could
    /// read as several: `42` is a JSON number and a line of text): `.csv` is CSV, `.txt` is
    /// lines, anything else (standard input too) is JSON.
    pub fn by_name(path: &Path) -> Self {
        let extension = path
            .extension()
            .map(|extension| extension.to_string_lossy().to_ascii_lowercase());
        match extension.as_deref() {
            Some("csv") => InputFormat::Csv,
            Some("txt") => InputFormat::Lines,
            _ => InputFormat::Json,
        }
    }

    /// The format's name, as `--input-format` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::Json => "json",
            InputFormat::Lines => "lines",
            InputFormat::Csv => "csv",
        }
    }
}

/// The tasks of a run.
pub struct TaskInput {
    /// How many tasks there are, when known before running.
    pub count: Option<usize>,
    values: Values,
    /// `--task` values that run before the input's tasks.
    given: std::vec::IntoIter<Json>,
    next_id: u64,
    error: Option<InputError>,
    /// The path given (`-` for standard input), for messages.
    path: PathBuf,
}

enum Values {
    /// In memory.
    Listed(std::vec::IntoIter<Json>),
    /// Parsed by a reader thread; the entries of its last message not taken yet.
    Streamed(Receiver<Incoming>, std::vec::IntoIter<Entry>),
}

impl TaskInput {
    /// Tasks already in memory (an empty list means the plugin has no default input).
    pub fn from_values(values: Vec<Value>) -> Result<Self, InputError> {
        Self::from_json(values.iter().map(Json::from_value).collect())
    }

    /// [`from_values`](Self::from_values) for values kept as text (`--task` values: see
    /// [`lenient_task`]).
    pub fn from_json(values: Vec<Json>) -> Result<Self, InputError> {
        if values.is_empty() {
            return Err(InputError::NoDefaultInput);
        }
        Ok(TaskInput {
            count: Some(values.len()),
            values: Values::Listed(values.into_iter()),
            given: Vec::new().into_iter(),
            next_id: 0,
            error: None,
            path: PathBuf::from("the command line"),
        })
    }

    /// No tasks at all, from `path`: the input of a run interrupted before its input said
    /// anything (its first line, or the end of its array).
    pub fn none(path: &Path) -> Self {
        TaskInput {
            count: None,
            values: Values::Listed(Vec::new().into_iter()),
            given: Vec::new().into_iter(),
            next_id: 0,
            error: None,
            path: path.to_path_buf(),
        }
    }

    /// Why the input ended early, if it did (a stream that stopped being JSON).
    pub fn take_error(&mut self) -> Option<InputError> {
        self.error.take()
    }

    /// These tasks, after the `--task` values `given` (which take the first ids).
    pub fn after_given(mut self, given: Vec<Json>) -> Self {
        self.count = self.count.map(|count| count + given.len());
        self.given = given.into_iter();
        self
    }

    /// Tasks read from `path`, or from standard input when `path` is `-`, written in `format`.
    pub fn from_path(path: &Path, format: InputFormat) -> Result<Self, InputError> {
        let read_error = |source| InputError::Read {
            path: path.to_path_buf(),
            source,
        };
        let reader: Box<dyn Read + Send> = if path == Path::new("-") {
            Box::new(io::stdin())
        } else {
            Box::new(File::open(path).map_err(read_error)?)
        };
        let mut reader = BufReader::with_capacity(1 << 16, reader);
        match format {
            InputFormat::Json => {}
            InputFormat::Lines => {
                return Self::streamed(path, move |sender| {
                    read_lines(reader, &sender, text_entry);
                });
            }
            InputFormat::Csv => return Self::from_csv(path, reader),
        }
        // The blank lines before the first value, and the line that holds it.
        let mut head = Vec::new();
        let first_line = loop {
            let start = head.len();
            if reader.read_until(b'\n', &mut head).map_err(read_error)? == 0 {
                return Err(InputError::EmptyInput {
                    path: path.to_path_buf(),
                });
            }
            if !head[start..].iter().all(u8::is_ascii_whitespace) {
                break start;
            }
        };
        let json_error = |error: serde_json::Error| InputError::Json {
            path: path.to_path_buf(),
            message: error.to_string(),
        };
        // See the module docs: an array that does not end on its first line is a list of
        // tasks; a first line that is a whole JSON value (an array too) starts JSON Lines.
        let line = &head[first_line..];
        let opens_array = line.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'[');
        let one_array = opens_array && Json::parse_slice(line).is_err();
        let head = io::Cursor::new(head);
        if one_array {
            let values: Vec<Json> =
                serde_json::from_reader(head.chain(reader)).map_err(json_error)?;
            if values.is_empty() {
                return Err(InputError::EmptyInput {
                    path: path.to_path_buf(),
                });
            }
            let mut input = Self::from_json(values)?;
            input.path = path.to_path_buf();
            return Ok(input);
        }
        let reader = BufReader::with_capacity(1 << 16, head.chain(reader));
        Self::streamed(path, move |sender| read_lines(reader, &sender, json_entry))
    }

    /// Tasks that `read` sends from a thread of its own, read from `path`.
    fn streamed(
        path: &Path,
        read: impl FnOnce(crossbeam_channel::Sender<Incoming>) + Send + 'static,
    ) -> Result<Self, InputError> {
        let (sender, receiver) = bounded(READ_AHEAD);
        thread::Builder::new()
            .name("quack-input".to_owned())
            .spawn(move || read(sender))
            .map_err(|source| InputError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(TaskInput {
            count: None,
            values: Values::Streamed(receiver, Vec::new().into_iter()),
            given: Vec::new().into_iter(),
            next_id: 0,
            error: None,
            path: path.to_path_buf(),
        })
    }

    /// Tasks of a CSV input: its header is read now (a bad one is an error before the run), its
    /// rows by a thread.
    fn from_csv(path: &Path, reader: BufReader<Box<dyn Read + Send>>) -> Result<Self, InputError> {
        let (sender, receiver) = bounded(READ_AHEAD);
        let pending = Arc::new(Mutex::new(Vec::new()));
        let reader = SendBeforeRead {
            inner: reader,
            pending: Arc::clone(&pending),
            sender,
        };
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let header_error = |problem: String| InputError::CsvHeader {
            path: path.to_path_buf(),
            problem,
        };
        let names = match csv.byte_headers() {
            Ok(names) => names.clone(),
            Err(error) => {
                return Err(match error.into_kind() {
                    csv::ErrorKind::Io(source) => InputError::Read {
                        path: path.to_path_buf(),
                        source,
                    },
                    other => header_error(format!("{other:?}")),
                });
            }
        };
        if names.is_empty() || (names.len() == 1 && names[0].is_empty()) {
            return Err(InputError::EmptyInput {
                path: path.to_path_buf(),
            });
        }
        let mut header = Vec::with_capacity(names.len());
        for (index, name) in names.iter().enumerate() {
            let column = index + 1;
            let name = std::str::from_utf8(name)
                .map_err(|_| header_error(format!("column {column}'s name is not UTF-8")))?;
            if name.is_empty() {
                return Err(header_error(format!("column {column} has no name")));
            }
            if header.iter().any(|seen: &String| seen == name) {
                return Err(header_error(format!(
                    "the name {name:?} is given to two columns"
                )));
            }
            header.push(name.to_owned());
        }
        thread::Builder::new()
            .name("quack-input".to_owned())
            .spawn(move || read_csv(csv, &header, &pending))
            .map_err(|source| InputError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(TaskInput {
            count: None,
            values: Values::Streamed(receiver, Vec::new().into_iter()),
            given: Vec::new().into_iter(),
            next_id: 0,
            error: None,
            path: path.to_path_buf(),
        })
    }
}

/// A CSV input's reader, which sends the rows parsed so far before it reads (and so before it
/// may wait for a pipe): rows go in batches of what the CSV reader's buffer held, and a pipe
/// that pauses never holds back the rows already in.
struct SendBeforeRead<R> {
    inner: R,
    /// Entries parsed and not sent yet.
    pending: Arc<Mutex<Vec<Entry>>>,
    sender: crossbeam_channel::Sender<Incoming>,
}

impl<R> SendBeforeRead<R> {
    /// Sends the entries pending; false when the run takes no more.
    fn send_pending(&self) -> bool {
        let batch =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        batch.is_empty() || self.sender.send(batch).is_ok()
    }
}

impl<R: Read> Read for SendBeforeRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.send_pending() {
            // The run is over: the input ends here.
            return Ok(0);
        }
        self.inner.read(buf)
    }
}

/// Reads the rows of `csv` (its header already read: `header`, the names) into tasks, each an
/// object of the header's names, until the input ends or the run takes no more.
fn read_csv<R: Read>(
    mut csv: csv::Reader<SendBeforeRead<R>>,
    header: &[String],
    pending: &Mutex<Vec<Entry>>,
) {
    let mut record = csv::ByteRecord::new();
    let push = |entry: Entry| {
        let mut pending = pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.push(entry);
        pending.len() >= READ_BATCH
    };
    loop {
        let entry = match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let row = record.position().map_or(0, csv::Position::line);
                if record.len() == 1 && record[0].iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                row_entry(&record, header, row)
            }
            Err(error) => match error.into_kind() {
                csv::ErrorKind::Io(error) => {
                    push(Entry::Broken(error.to_string()));
                    break;
                }
                other => Entry::Broken(format!("{other:?}")),
            },
        };
        let broken = matches!(entry, Entry::Broken(_));
        if push(entry) && !csv.get_ref().send_pending() {
            return;
        }
        if broken {
            break;
        }
    }
    csv.get_ref().send_pending();
}

/// The task of one CSV row (`row`: its line in the input), or why it is not one.
fn row_entry(record: &csv::ByteRecord, header: &[String], row: u64) -> Entry {
    // The fields as a CSV line would hold them, unquoted.
    let shown = || {
        let fields: Vec<_> = record.iter().map(String::from_utf8_lossy).collect();
        fields
            .join(",")
            .chars()
            .take(SHOWN_OF_INVALID)
            .collect::<String>()
    };
    if record.len() != header.len() {
        return Entry::Invalid {
            error: format!(
                "row {row} has {} fields where the header has {}; give every row one field per column",
                record.len(),
                header.len()
            ),
            text: shown(),
        };
    }
    let mut object = serde_json::Map::with_capacity(header.len());
    for (name, field) in header.iter().zip(record) {
        let Ok(text) = std::str::from_utf8(field) else {
            return Entry::Invalid {
                error: format!("row {row}'s field {name:?} is not UTF-8 text"),
                text: shown(),
            };
        };
        object.insert(name.clone(), lenient_json(text));
    }
    Entry::Task(Json::from_value(&Value::Object(object)))
}

/// The longest stretch of an invalid line kept as its task's input.
const SHOWN_OF_INVALID: usize = 200;

/// Reads lines from `reader` into `sender` until the input ends (or the run stops taking
/// them): each non-blank line a task, or an invalid entry that says why it is not one, as `entry`
/// makes them (see [`json_entry`], [`text_entry`]). Entries
/// go in batches of up to [`READ_BATCH`], and a batch is sent as soon as the input has no more at
/// hand, so a slow pipe's lines are never held back.
fn read_lines(
    mut reader: BufReader<impl Read>,
    sender: &crossbeam_channel::Sender<Incoming>,
    entry: fn(&[u8], u64) -> Entry,
) {
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut batch = Vec::with_capacity(READ_BATCH);
    loop {
        line.clear();
        let entry = match reader.read_until(b'\n', &mut line) {
            Ok(0) => None,
            Ok(_) => {
                number += 1;
                (!line.iter().all(u8::is_ascii_whitespace)).then(|| entry(&line, number))
            }
            Err(error) => Some(Entry::Broken(error.to_string())),
        };
        let ended = line.is_empty() || matches!(entry, Some(Entry::Broken(_)));
        batch.extend(entry);
        let at_hand = !reader.buffer().is_empty();
        if !batch.is_empty() && (ended || batch.len() >= READ_BATCH || !at_hand) {
            // A closed queue means the run is over: stop reading.
            let full = std::mem::replace(&mut batch, Vec::with_capacity(READ_BATCH));
            if sender.send(full).is_err() {
                return;
            }
        }
        if ended {
            return;
        }
    }
}

/// The entry of line `number` of a lines input, `line` (not blank): the line as a string,
/// without its line ending.
fn text_entry(line: &[u8], number: u64) -> Entry {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match std::str::from_utf8(line) {
        Ok(text) => Entry::Task(Json::from_value(&Value::String(text.to_owned()))),
        Err(error) => Entry::Invalid {
            error: format!(
                "line {number} is not UTF-8 text (at byte {}); each line must be text",
                error.valid_up_to() + 1
            ),
            text: String::from_utf8_lossy(line)
                .chars()
                .take(SHOWN_OF_INVALID)
                .collect(),
        },
    }
}

/// The entry for line `number` of a JSON Lines input, `line` (not blank).
fn json_entry(line: &[u8], number: u64) -> Entry {
    match Json::parse_slice(line) {
        Ok(value) => Entry::Task(value),
        Err(error) => {
            let text = String::from_utf8_lossy(line);
            let text = text.trim_end();
            let shown: String = text.chars().take(SHOWN_OF_INVALID).collect();
            let message = error.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message);
            Entry::Invalid {
                error: format!(
                    "line {number} is not JSON ({message} at column {}); each line must be one JSON value (--input-format lines takes each line as text)",
                    error.column()
                ),
                text: shown,
            }
        }
    }
}

impl TaskSource for TaskInput {
    fn poll_task(&mut self) -> Polled {
        if let Some(value) = self.given.next() {
            let id = self.next_id;
            self.next_id += 1;
            return Polled::Ready(Task::new(id, value));
        }
        let entry = match &mut self.values {
            Values::Listed(values) => match values.next() {
                Some(value) => Entry::Task(value),
                None => return Polled::Done,
            },
            Values::Streamed(receiver, batch) => match batch.next() {
                Some(entry) => entry,
                None => match receiver.try_recv() {
                    Ok(next) => {
                        *batch = next.into_iter();
                        match batch.next() {
                            Some(entry) => entry,
                            // The reader sends no empty batch; asking again is harmless.
                            None => return Polled::NotYet,
                        }
                    }
                    Err(TryRecvError::Empty) => return Polled::NotYet,
                    Err(TryRecvError::Disconnected) => return Polled::Done,
                },
            },
        };
        let id = self.next_id;
        match entry {
            Entry::Task(value) => {
                self.next_id += 1;
                Polled::Ready(Task::new(id, value))
            }
            Entry::Invalid { text, error } => {
                self.next_id += 1;
                Polled::Invalid(Task::new(id, Value::String(text)), error)
            }
            Entry::Broken(error) => {
                self.error = Some(InputError::Read {
                    path: self.path.clone(),
                    source: io::Error::other(error),
                });
                self.values = Values::Listed(Vec::new().into_iter());
                Polled::Done
            }
        }
    }

    fn len_hint(&self) -> Option<usize> {
        self.count
    }

    fn readiness(&self) -> Option<&Receiver<Incoming>> {
        match &self.values {
            Values::Streamed(receiver, _) => Some(receiver),
            Values::Listed(_) => None,
        }
    }
}

/// A command-line value as JSON: `42` is a number, `[1,2]` an array, and anything that is not
/// JSON is taken as a string, so `--set name=Donald` needs no quotes.
pub fn lenient_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// [`lenient_json`] for a `--task` value, kept as it was written (keys in their order, numbers
/// as spelled), as a line of an input file is.
pub fn lenient_task(text: &str) -> Json {
    Json::parse(text).unwrap_or_else(|_| Json::from_value(&Value::String(text.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Every task of the file (waiting for the reader thread), then the error that ended it.
    fn read_all(text: &str) -> (Option<usize>, Vec<Result<Value, String>>) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        read_all_as(text, InputFormat::Json)
    }

    /// [`read_all`] in `format`.
    fn read_all_as(text: &str, format: InputFormat) -> (Option<usize>, Vec<Result<Value, String>>) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let mut input = TaskInput::from_path(file.path(), format).unwrap();
        let mut values = Vec::new();
        loop {
            match input.poll_task() {
                Polled::Ready(task) => values.push(Ok(task.input.to_value().unwrap())),
                Polled::Invalid(_, error) => values.push(Err(error)),
                Polled::NotYet => std::thread::sleep(std::time::Duration::from_millis(1)),
                Polled::Done => break,
            }
        }
        values.extend(input.take_error().map(|e| Err(e.to_string())));
        (input.count, values)
    }

    #[test]
    fn an_array_over_several_lines_is_a_list_of_tasks() {
        let (count, values) = read_all("\n [1,\n  2, \"x\"\n]\n");
        assert_eq!(count, Some(3));
        assert_eq!(values, vec![Ok(1.into()), Ok(2.into()), Ok("x".into())]);
    }

    #[test]
    fn lines_that_are_arrays_are_one_task_each() {
        let (count, values) = read_all("[1, 2]\n");
        assert_eq!(count, None);
        assert_eq!(values, vec![Ok(serde_json::json!([1, 2]))]);
        let (_, values) = read_all("\n[1, 2]\n[3]\n{\"a\": [4]}\n[5,\n");
        assert_eq!(values.len(), 4, "{values:?}");
        assert_eq!(values[1], Ok(serde_json::json!([3])));
        assert!(
            values[3]
                .as_ref()
                .unwrap_err()
                .starts_with("line 5 is not JSON"),
            "{values:?}"
        );
    }

    #[test]
    fn json_lines_are_streamed_and_a_bad_line_is_a_task_of_its_own() {
        let (count, values) = read_all("1\n{\"a\": 2}\nnope\n\n4\n");
        assert_eq!(count, None);
        assert_eq!(values.len(), 4, "{values:?}");
        assert_eq!(values[1], Ok(serde_json::json!({"a": 2})));
        assert!(
            values[2]
                .as_ref()
                .unwrap_err()
                .starts_with("line 3 is not JSON"),
            "{values:?}"
        );
        assert_eq!(values[3], Ok(4.into()), "the line after the bad one runs");
    }

    proptest::proptest! {
        /// Any bytes: every non-blank line becomes exactly one entry (a task or an invalid one),
        /// in order, and nothing panics.
        #[test]
        fn every_non_blank_line_is_one_entry(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            let (sender, receiver) = crossbeam_channel::unbounded();
            read_lines(BufReader::new(std::io::Cursor::new(bytes.clone())), &sender, json_entry);
            drop(sender);
            let entries: Vec<Entry> = receiver.into_iter().flatten().collect();
            let lines = bytes
                .split(|byte| *byte == b'\n')
                .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
                .count();
            proptest::prop_assert_eq!(entries.len(), lines);
            proptest::prop_assert!(entries.iter().all(|entry| !matches!(entry, Entry::Broken(_))));
        }
    }

    #[test]
    fn lines_are_strings_without_their_line_ending() {
        let (_, values) = read_all_as("a b.txt\r\n\n{\"x\": 1}\n42", InputFormat::Lines);
        assert_eq!(
            values,
            vec![
                Ok("a b.txt".into()),
                Ok("{\"x\": 1}".into()),
                Ok("42".into())
            ]
        );
    }

    #[test]
    fn csv_rows_are_objects_of_the_header_and_a_short_row_fails_alone() {
        let (_, values) = read_all_as("n,name\n12,\"Donald, D.\"\n7\n007,null\n", InputFormat::Csv);
        assert_eq!(values.len(), 3, "{values:?}");
        assert_eq!(
            values[0],
            Ok(serde_json::json!({"n": 12, "name": "Donald, D."}))
        );
        assert!(
            values[1]
                .as_ref()
                .unwrap_err()
                .starts_with("row 3 has 1 fields where the header has 2"),
            "{values:?}"
        );
        assert_eq!(values[2], Ok(serde_json::json!({"n": "007", "name": null})));
    }

    #[test]
    fn auto_goes_by_the_name_alone() {
        assert_eq!(InputFormat::by_name(Path::new("t.CSV")), InputFormat::Csv);
        assert_eq!(
            InputFormat::by_name(Path::new("names.txt")),
            InputFormat::Lines
        );
        assert_eq!(
            InputFormat::by_name(Path::new("t.jsonl")),
            InputFormat::Json
        );
        assert_eq!(InputFormat::by_name(Path::new("-")), InputFormat::Json);
    }

    #[test]
    fn lenient_json_takes_bare_words_as_strings() {
        assert_eq!(lenient_json("42"), Value::from(42));
        assert_eq!(lenient_json("Donald"), Value::from("Donald"));
        assert_eq!(lenient_task("Donald").as_str(), "\"Donald\"");
        assert_eq!(
            lenient_task("{\"b\": 1, \"a\": 2}").as_str(),
            "{\"b\":1,\"a\":2}"
        );
    }
}
