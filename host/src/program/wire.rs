//! The program protocol's lines: the requests the host writes (one JSON object a line, made
//! here by hand so that inputs pass through as they came), the answers it reads ([`Answer`], one
//! struct whose fields each kind of answer fills), and [`Lines`], a reader of answer lines with
//! an optional deadline and a bound on a line's length.

use std::{
    borrow::Cow,
    fs::File,
    io::{self, Read},
    os::fd::AsRawFd,
    time::{Duration, Instant},
};

use serde::Deserialize;
use serde_json::value::RawValue;

/// The major version of the program protocol: a program of another major is refused.
pub const PROTOCOL_MAJOR: u64 = 1;
/// The minor version: later minors only add optional fields and requests a program may refuse.
pub const PROTOCOL_MINOR: u64 = 0;

/// The longest answer line the host reads (1 GiB, the worker protocol's frame limit).
pub const MAX_LINE: usize = crate::runner::protocol::MAX_FRAME;

/// JSON text on one line: a line break can only be whitespace between tokens of valid JSON (a
/// string holds it as `\n`), so each becomes a space.
pub fn one_line(json: &str) -> Cow<'_, str> {
    if json.contains(['\n', '\r']) {
        Cow::Owned(json.replace(['\n', '\r'], " "))
    } else {
        Cow::Borrowed(json)
    }
}

/// The host's hello.
pub fn hello() -> String {
    format!(
        "{{\"op\":\"hello\",\"protocol\":[{PROTOCOL_MAJOR},{PROTOCOL_MINOR}],\"host\":{}}}\n",
        serde_json::Value::from(env!("CARGO_PKG_VERSION"))
    )
}

/// A request with no fields: `describe`, `methods`, `shutdown`.
pub fn bare(op: &str) -> String {
    format!("{{\"op\":\"{op}\"}}\n")
}

/// `new` with the configuration object (JSON on one line).
pub fn new(config: &str) -> String {
    format!("{{\"op\":\"new\",\"config\":{config}}}\n")
}

/// A call of `method` with `input` (JSON text).
pub fn call(line: &mut String, id: u64, method: &str, input: &str) {
    use std::fmt::Write as _;
    line.clear();
    let method = serde_json::Value::from(method);
    let _ = writeln!(
        line,
        "{{\"op\":\"call\",\"id\":{id},\"method\":{method},\"input\":{}}}",
        one_line(input)
    );
}

/// One answer of the program; which fields are there depends on `op`.
#[derive(Debug, Deserialize)]
pub struct Answer<'a> {
    /// `hello`, `description`, `methods`, `ready`, `result` or `error`.
    pub op: Cow<'a, str>,
    /// The call answered (`result`, and `error` of a call).
    #[serde(default)]
    pub id: Option<u64>,
    /// `hello`: the protocol version, `[major, minor]`.
    #[serde(default)]
    pub protocol: Option<Vec<u64>>,
    /// `description`: the plugin's description.
    #[serde(default, borrow)]
    pub description: Option<&'a RawValue>,
    /// `methods`: every method with its signature.
    #[serde(default)]
    pub methods: Option<Vec<MethodLine>>,
    /// `result`: the call's result (absent or `null` for `null`).
    #[serde(default, borrow)]
    pub ok: Option<&'a RawValue>,
    /// `error`: `invalid_input`, `failed`, `panicked` or `unknown_method`.
    #[serde(default)]
    pub kind: Option<String>,
    /// `error`: one sentence.
    #[serde(default)]
    pub message: Option<String>,
}

/// One method in a `methods` answer.
#[derive(Debug, Deserialize)]
pub struct MethodLine {
    /// Its name.
    pub name: String,
    /// The shapes of its parameters (none or one).
    #[serde(default)]
    pub params: Vec<String>,
    /// The shape of its result.
    pub result: String,
}

impl Answer<'_> {
    /// The error an `error` answer carries, as a plugin's error.
    pub fn error(&self) -> quack_core::PluginError {
        use quack_core::ErrorKind;
        let kind = match self.kind.as_deref() {
            Some("invalid_input") => ErrorKind::InvalidInput,
            Some("panicked") => ErrorKind::Panicked,
            Some("unknown_method") => ErrorKind::UnknownMethod,
            _ => ErrorKind::Failed,
        };
        let message = self
            .message
            .clone()
            .unwrap_or_else(|| "the program gave no message".to_owned());
        quack_core::PluginError::new(kind, message)
    }
}

/// Why no answer line came.
#[derive(Debug)]
pub enum NoLine {
    /// The program closed its end (it ended, or closed descriptor 4).
    Closed,
    /// The deadline passed.
    Late,
    /// A line longer than [`MAX_LINE`], or a read error.
    Broken(String),
}

/// Answer lines from the program's descriptor 4.
#[derive(Debug)]
pub struct Lines {
    file: File,
    buffer: Vec<u8>,
    /// Where the next line starts in `buffer`.
    start: usize,
    /// How far `buffer` from `start` is known to hold no line end.
    scanned: usize,
}

impl Lines {
    /// Reads lines from `file`.
    pub fn new(file: File) -> Self {
        Lines {
            file,
            buffer: Vec::with_capacity(1 << 16),
            start: 0,
            scanned: 0,
        }
    }

    /// The next line that is not blank (empty lines are no messages), waiting at most until
    /// `deadline` when there is one.
    pub fn next_message(&mut self, deadline: Option<Instant>) -> Result<&[u8], NoLine> {
        loop {
            let line = self.next_range(deadline)?;
            if !self.buffer[line.clone()]
                .iter()
                .all(u8::is_ascii_whitespace)
            {
                return Ok(&self.buffer[line]);
            }
        }
    }

    /// Where the next line (without its end) is in the buffer.
    fn next_range(&mut self, deadline: Option<Instant>) -> Result<std::ops::Range<usize>, NoLine> {
        loop {
            let from = self.start + self.scanned;
            if let Some(at) = self.buffer[from..].iter().position(|&byte| byte == b'\n') {
                let end = from + at;
                let line = self.start..end;
                self.start = end + 1;
                self.scanned = 0;
                return Ok(line);
            }
            self.scanned = self.buffer.len() - self.start;
            if self.scanned > MAX_LINE {
                return Err(NoLine::Broken(format!(
                    "an answer line longer than {MAX_LINE} bytes"
                )));
            }
            if self.start > 0 {
                self.buffer.drain(..self.start);
                self.start = 0;
            }
            if let Some(deadline) = deadline {
                wait_readable(&self.file, deadline)?;
            }
            let length = self.buffer.len();
            self.buffer.resize(length + (1 << 16), 0);
            let read = loop {
                match self.file.read(&mut self.buffer[length..]) {
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
            match read {
                Ok(0) => {
                    self.buffer.truncate(length);
                    return Err(NoLine::Closed);
                }
                Ok(read) => self.buffer.truncate(length + read),
                Err(error) => {
                    self.buffer.truncate(length);
                    return Err(NoLine::Broken(format!(
                        "its answers cannot be read: {error}"
                    )));
                }
            }
        }
    }
}

/// Waits until `file` can be read or `deadline` passes.
fn wait_readable(file: &File, deadline: Instant) -> Result<(), NoLine> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(NoLine::Late);
        }
        let millis = i32::try_from(left.as_millis().max(1)).unwrap_or(i32::MAX);
        let mut poll = libc::pollfd {
            fd: file.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd on the stack, for a descriptor this process holds open.
        let ready = unsafe { libc::poll(&mut poll, 1, millis) };
        if ready > 0 {
            return Ok(());
        }
        if ready < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return Err(NoLine::Broken(format!(
                "its answers cannot be waited for: {}",
                io::Error::last_os_error()
            )));
        }
    }
}

/// A deadline `limit` from now.
pub fn deadline(limit: Duration) -> Option<Instant> {
    Instant::now().checked_add(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_one_line_each_with_the_input_as_it_came() {
        let mut line = String::new();
        call(&mut line, 7, "run", "{\n  \"n\": 12\n}");
        assert_eq!(
            line,
            "{\"op\":\"call\",\"id\":7,\"method\":\"run\",\"input\":{   \"n\": 12 }}\n"
        );
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["input"]["n"], 12);
        assert!(hello().starts_with("{\"op\":\"hello\",\"protocol\":[1,0]"));
    }

    #[test]
    fn lines_are_read_whole_across_reads_and_a_close_is_seen() {
        let (read, write) = std::io::pipe().unwrap();
        let mut write = File::from(std::os::fd::OwnedFd::from(write));
        let mut lines = Lines::new(File::from(std::os::fd::OwnedFd::from(read)));
        std::io::Write::write_all(&mut write, b"{\"op\":\"ready\"}\n{\"op\"").unwrap();
        assert_eq!(lines.next_message(None).unwrap(), b"{\"op\":\"ready\"}");
        std::io::Write::write_all(&mut write, b":\"x\"}\n").unwrap();
        assert_eq!(lines.next_message(None).unwrap(), b"{\"op\":\"x\"}");
        let soon = deadline(Duration::from_millis(10));
        assert!(matches!(lines.next_message(soon), Err(NoLine::Late)));
        drop(write);
        assert!(matches!(lines.next_message(None), Err(NoLine::Closed)));
    }
}
