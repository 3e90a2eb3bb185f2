//! [`TaskInput`]: where a run's tasks come from (`--task` values, an `--input` file or standard
//! input, or the plugin's default input), as the runner's [`TaskSource`].
//!
//! An input file is either one JSON array (each element a task), read whole, or a sequence of JSON
//! values, one task each, usually one per line (JSON Lines). A sequence is streamed: a thread reads
//! it into a short queue, so a stream of millions of tasks is never held in memory at once, and a
//! pipe that pauses never holds back the reporting of the results that are in.

use std::{
    fs::File,
    io::{self, BufRead, BufReader, Read},
    path::{Path, PathBuf},
    thread,
};

use crossbeam_channel::{Receiver, TryRecvError, bounded};
use serde_json::Value;

use crate::runner::{Polled, Task, TaskSource};

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
    /// The input holds no task.
    #[error(
        "the input {path} holds no task; give a JSON array of tasks or one JSON value per line"
    )]
    EmptyInput {
        /// The path given (`-` for standard input).
        path: PathBuf,
    },
}

/// Values read ahead of the runner from a stream.
const READ_AHEAD: usize = 1024;

/// The tasks of a run.
pub struct TaskInput {
    /// How many tasks there are, when known before running.
    pub count: Option<usize>,
    values: Values,
    next_id: u64,
    error: Option<InputError>,
}

enum Values {
    /// In memory.
    Listed(std::vec::IntoIter<Value>),
    /// Parsed by a reader thread; an `Err` ends the input.
    Streamed(Receiver<Result<Value, InputError>>),
}

impl TaskInput {
    /// Tasks already in memory (an empty list means the plugin has no default input).
    pub fn from_values(values: Vec<Value>) -> Result<Self, InputError> {
        if values.is_empty() {
            return Err(InputError::NoDefaultInput);
        }
        Ok(TaskInput {
            count: Some(values.len()),
            values: Values::Listed(values.into_iter()),
            next_id: 0,
            error: None,
        })
    }

    /// Why the input ended early, if it did (a stream that stopped being JSON).
    pub fn take_error(&mut self) -> Option<InputError> {
        self.error.take()
    }

    /// Tasks read from `path`, or from standard input when `path` is `-`.
    pub fn from_path(path: &Path) -> Result<Self, InputError> {
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
        let starts_with_array = loop {
            let buffer = reader.fill_buf().map_err(read_error)?;
            match buffer.iter().position(|byte| !byte.is_ascii_whitespace()) {
                Some(at) => break buffer[at] == b'[',
                None if buffer.is_empty() => {
                    return Err(InputError::EmptyInput {
                        path: path.to_path_buf(),
                    });
                }
                None => {
                    let length = buffer.len();
                    reader.consume(length);
                }
            }
        };
        let json_error = |error: serde_json::Error| InputError::Json {
            path: path.to_path_buf(),
            message: error.to_string(),
        };
        if starts_with_array {
            let values: Vec<Value> = serde_json::from_reader(reader).map_err(json_error)?;
            if values.is_empty() {
                return Err(InputError::EmptyInput {
                    path: path.to_path_buf(),
                });
            }
            return Self::from_values(values);
        }
        let path = path.to_path_buf();
        let (sender, receiver) = bounded(READ_AHEAD);
        thread::Builder::new()
            .name("quack-input".to_owned())
            .spawn(move || {
                let stream = serde_json::Deserializer::from_reader(reader).into_iter::<Value>();
                for value in stream {
                    let value = value.map_err(|error| InputError::Json {
                        path: path.clone(),
                        message: error.to_string(),
                    });
                    let stop = value.is_err();
                    // A closed queue means the run is over: stop reading.
                    if sender.send(value).is_err() || stop {
                        break;
                    }
                }
            })
            .map_err(read_error)?;
        Ok(TaskInput {
            count: None,
            values: Values::Streamed(receiver),
            next_id: 0,
            error: None,
        })
    }
}

impl TaskSource for TaskInput {
    fn poll_task(&mut self) -> Polled {
        let value = match &mut self.values {
            Values::Listed(values) => match values.next() {
                Some(value) => value,
                None => return Polled::Done,
            },
            Values::Streamed(receiver) => match receiver.try_recv() {
                Ok(Ok(value)) => value,
                Ok(Err(error)) => {
                    self.error = Some(error);
                    self.values = Values::Listed(Vec::new().into_iter());
                    return Polled::Done;
                }
                Err(TryRecvError::Empty) => return Polled::NotYet,
                Err(TryRecvError::Disconnected) => return Polled::Done,
            },
        };
        self.next_id += 1;
        Polled::Ready(Task::new(self.next_id - 1, value))
    }
}

/// A command-line value as JSON: `42` is a number, `[1,2]` an array, and anything that is not
/// JSON is taken as a string, so `--set name=Donald` needs no quotes.
pub fn lenient_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Every task of the file (waiting for the reader thread), then the error that ended it.
    fn read_all(text: &str) -> (Option<usize>, Vec<Result<Value, String>>) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let mut input = TaskInput::from_path(file.path()).unwrap();
        let mut values = Vec::new();
        loop {
            match input.poll_task() {
                Polled::Ready(task) => values.push(Ok(task.input)),
                Polled::NotYet => std::thread::sleep(std::time::Duration::from_millis(1)),
                Polled::Done => break,
            }
        }
        values.extend(input.take_error().map(|e| Err(e.to_string())));
        (input.count, values)
    }

    #[test]
    fn an_array_is_a_list_of_tasks() {
        let (count, values) = read_all(" [1, 2, \"x\"]");
        assert_eq!(count, Some(3));
        assert_eq!(values, vec![Ok(1.into()), Ok(2.into()), Ok("x".into())]);
    }

    #[test]
    fn json_lines_are_streamed_and_a_bad_line_is_reported() {
        let (count, values) = read_all("1\n{\"a\": 2}\nnope\n");
        assert_eq!(count, None);
        assert_eq!(values.len(), 3);
        assert_eq!(values[1], Ok(serde_json::json!({"a": 2})));
        assert!(
            values[2].as_ref().unwrap_err().contains("line 3"),
            "{values:?}"
        );
    }

    #[test]
    fn lenient_json_takes_bare_words_as_strings() {
        assert_eq!(lenient_json("42"), Value::from(42));
        assert_eq!(lenient_json("Donald"), Value::from("Donald"));
    }
}
