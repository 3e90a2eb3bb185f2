//! The worker protocol: what the host and a worker process say to each other over the worker's
//! stdin and stdout, and how it is framed.
//!
//! Every message is one frame: a 4-byte little-endian length, then that many bytes of JSON. The
//! host speaks first: [`ToWorker::Start`] says which plugin to load (its path, the file's stamp:
//! device, inode, size and times, and its content hash when the host has it), with which
//! configuration, as which worker. A worker that finds the very file the host stamped loads it
//! without reading it. Otherwise it checks the file at the host's path against the hash; a worker
//! that cannot (no file, another content, or no hash: a local host hashes the plugin only when a
//! worker needs it) asks for the plugin with [`FromWorker::NeedPlugin`], and the host answers
//! [`ToWorker::Plugin`] with the size and hash, then the plugin's bytes as raw frames (not JSON)
//! of at most [`PLUGIN_CHUNK`] bytes each; the worker keeps them in its plugin cache, checked
//! against the hash, and loads that copy. The worker then answers [`FromWorker::Hello`] with the
//! identity of what it loaded (name, version, and the content hash it checked; the host refuses a
//! worker that loaded something else) or [`FromWorker::Fatal`]. Then the host sends
//! [`ToWorker::Task`]s, several in flight, and the worker answers each with [`FromWorker::Done`]
//! in the order received. Closing the worker's stdin tells it to exit. Task inputs and outputs
//! travel as raw JSON, never parsed by the worker. Nothing but these pipes is shared, except, for
//! a worker on the host's machine, the page where it notes its running task
//! ([`SlotOffer`], `running_slot.rs`): that one sends its answers in batches. Without it the
//! worker may run on another machine, and sends every answer before its next task runs.

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The protocol version; a host refuses a worker that speaks another, and the other way round.
pub const PROTOCOL_VERSION: u32 = 6;

/// The largest frame either side accepts (a guard against reading garbage as a length).
pub const MAX_FRAME: usize = 1 << 30;

/// The most bytes of JSON a task's result may take, in every mode: what a worker's answer can
/// carry in one frame, with room for the rest of the answer (its id, its time). Inline and thread
/// mode hold results to the same bound, so a task fails or succeeds alike wherever it runs.
pub const MAX_RESULT: usize = MAX_FRAME - 1024;

/// The error of a task whose result (`bytes` of JSON) is over [`MAX_RESULT`], if it is.
pub fn result_too_large(bytes: usize) -> Option<String> {
    (bytes > MAX_RESULT).then(|| {
        format!(
            "the result is too large: {bytes} bytes of JSON, over the limit of {MAX_RESULT} a task may return; return less, or write it to a file and return its path"
        )
    })
}

/// The most plugin bytes in one raw frame after [`ToWorker::Plugin`].
pub const PLUGIN_CHUNK: usize = 1 << 20;

// Externally tagged (`{"task": {...}}`): serde's internally tagged enums buffer their content,
// which cannot carry a RawValue through.

/// A message from the host to a worker.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToWorker {
    /// The first message: what to load and how.
    Start {
        /// [`PROTOCOL_VERSION`] of the host.
        protocol: u32,
        /// The worker's number in the run, for its messages.
        worker: usize,
        /// The plugin's path on the host.
        plugin: std::path::PathBuf,
        /// The SHA-256 of the plugin file the host loaded, in hex, when the host has it: it hashes
        /// the file only for workers that may run elsewhere (through a launcher). A local worker
        /// finds the very file by its `stamp`; one that does not asks for the plugin, and the
        /// hash comes with the bytes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sha256: Option<String>,
        /// The file's identity on the host's machine: a worker that finds the very same file
        /// there (same device, inode, size and times) need not read and hash it again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stamp: Option<FileStamp>,
        /// The plugin's configuration, a JSON object as text.
        config: String,
        /// How often the worker says [`FromWorker::Alive`] once it has said hello, in
        /// milliseconds; 0 (or absent): never.
        #[serde(default, skip_serializing_if = "is_zero")]
        heartbeat_ms: u64,
        /// The shared page where the worker notes the task it runs, when the worker runs on the
        /// host's machine: then it may send its answers in batches.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        running_slot: Option<SlotOffer>,
        /// Whether a worker with a running-task page waits, after answering a task with an
        /// error, until the host lets it go on (`--max-fail`: no task queued behind the failure
        /// that stops the run may start).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        pause_after_error: bool,
    },
    /// The answer to [`FromWorker::NeedPlugin`]: the plugin file's bytes follow, `size` of them,
    /// as raw frames of at most [`PLUGIN_CHUNK`] bytes.
    Plugin {
        /// The number of bytes that follow.
        size: u64,
        /// Their SHA-256, in hex: the worker keeps them under it and checks them against it.
        sha256: String,
    },
    /// Run `run(input)` (or `method(input)`) and answer with the same `id`.
    Task {
        /// The dispatch id (unique per attempt).
        id: u64,
        /// The method to call when it is not `run` (`split`, `merge` for an isolated run).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        method: Option<String>,
        /// The argument, as JSON.
        input: Box<RawValue>,
    },
}

/// A message from a worker to the host.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FromWorker {
    /// The first message of a healthy worker.
    Hello(Hello),
    /// The worker has no file with the plugin's content at the host's path: send it the bytes.
    NeedPlugin {
        /// What it found at the path, for the host's notes.
        reason: String,
    },
    /// The worker could not start, and exits.
    Fatal {
        /// Which step failed.
        stage: FatalStage,
        /// One sentence.
        error: String,
    },
    /// The worker is alive, said every `heartbeat_ms` from a thread of its own whatever its
    /// task does: a worker silent for much longer is lost (its node died or was cut off).
    Alive,
    /// One task's outcome.
    Done {
        /// The dispatch id of the task.
        id: u64,
        /// The result as JSON, on success.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ok: Option<Box<RawValue>>,
        /// The error, on failure.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// How long `run` took in the worker, in nanoseconds.
        nanos: u64,
    },
}

/// The shared page a local worker notes its running task in (see `running_slot.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotOffer {
    /// The descriptor the worker inherited.
    pub fd: i32,
    /// The token the host wrote in the page.
    pub token: u64,
}

/// Whether a number is 0, for fields left out when they are.
fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// What tells one file apart from every other on a machine, without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    /// The device it lives on.
    pub dev: u64,
    /// Its inode.
    pub ino: u64,
    /// Its size in bytes.
    pub size: u64,
    /// When its content last changed, in nanoseconds since the epoch.
    pub mtime_ns: i128,
    /// When it or its metadata last changed, in nanoseconds since the epoch.
    pub ctime_ns: i128,
}

impl FileStamp {
    /// The stamp of the file at `path`, if it can be read.
    pub fn of(path: &std::path::Path) -> Option<Self> {
        std::fs::metadata(path)
            .ok()
            .map(|metadata| Self::of_metadata(&metadata))
    }

    /// Whether `other` is this same file with the same content: its change time aside, which
    /// also moves when the file is renamed away or linked (as a new build moved over the path
    /// does to the file a run has open).
    pub fn same_content(&self, other: &FileStamp) -> bool {
        (self.dev, self.ino, self.size, self.mtime_ns)
            == (other.dev, other.ino, other.size, other.mtime_ns)
    }

    /// The stamp of a file from its metadata.
    pub fn of_metadata(metadata: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        FileStamp {
            dev: metadata.dev(),
            ino: metadata.ino(),
            size: metadata.size(),
            mtime_ns: i128::from(metadata.mtime()) * 1_000_000_000
                + i128::from(metadata.mtime_nsec()),
            ctime_ns: i128::from(metadata.ctime()) * 1_000_000_000
                + i128::from(metadata.ctime_nsec()),
        }
    }
}

/// What a worker says about itself and what it loaded, in its first answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`PROTOCOL_VERSION`] of the worker.
    pub protocol: u32,
    /// The worker's process id.
    pub pid: u32,
    /// The host name of the machine it runs on.
    pub node: String,
    /// The name of the plugin it loaded.
    pub name: String,
    /// The version of the plugin it loaded.
    pub version: String,
    /// The SHA-256 of the file it loaded, in hex, when it checked one: `None` when it loaded the
    /// very file the host stamped (same device, inode, size and times).
    pub sha256: Option<String>,
}

/// The step a worker could not get past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FatalStage {
    /// The start message was missing or of another protocol.
    Start,
    /// The plugin did not load.
    Load,
    /// The plugin refused its configuration.
    Config,
    /// The plugin's constructor failed or panicked.
    Instance,
}

/// Writes `message` as one frame (not flushed).
pub fn write_frame(out: &mut impl Write, message: &impl Serialize) -> io::Result<()> {
    write_frame_in(out, message, &mut Vec::new())
}

/// [`write_frame`], making the frame's body in `body`: a buffer the caller keeps, so that a
/// stream of frames (a task's, an answer's) allocates nothing.
pub fn write_frame_in(
    out: &mut impl Write,
    message: &impl Serialize,
    body: &mut Vec<u8>,
) -> io::Result<()> {
    body.clear();
    serde_json::to_writer(&mut *body, message)?;
    let length = u32::try_from(body.len()).map_err(|_| io::Error::other("frame too large"))?;
    out.write_all(&length.to_le_bytes())?;
    out.write_all(body)
}

/// [`ToWorker::Task`] with its parts borrowed, as the host writes one for every task: the same
/// bytes, without copying the input.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskFrame<'a> {
    /// See [`ToWorker::Task`].
    Task {
        /// The dispatch id.
        id: u64,
        /// The method, when it is not `run`.
        #[serde(skip_serializing_if = "Option::is_none")]
        method: Option<&'a str>,
        /// The argument.
        input: &'a RawValue,
    },
}

/// [`ToWorker::Task`] as a worker reads one: borrowed from the frame, so that reading a task
/// allocates nothing.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncomingTask<'a> {
    /// See [`ToWorker::Task`].
    Task {
        /// The dispatch id.
        id: u64,
        /// The method, when it is not `run`.
        #[serde(default, borrow)]
        method: Option<std::borrow::Cow<'a, str>>,
        /// The argument.
        #[serde(borrow)]
        input: &'a RawValue,
    },
}

/// [`FromWorker::Done`] with its parts borrowed, as a worker writes one for every task: the
/// same bytes, without copying the result.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DoneFrame<'a> {
    /// See [`FromWorker::Done`].
    Done {
        /// The dispatch id.
        id: u64,
        /// The result, on success.
        #[serde(skip_serializing_if = "Option::is_none")]
        ok: Option<&'a RawValue>,
        /// The error, on failure.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'a str>,
        /// How long `run` took, in nanoseconds.
        nanos: u64,
    },
}

/// Writes `bytes` as one raw frame (not flushed).
pub fn write_raw_frame(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    let length = u32::try_from(bytes.len()).map_err(|_| io::Error::other("frame too large"))?;
    out.write_all(&length.to_le_bytes())?;
    out.write_all(bytes)
}

/// Reads one frame's body into `buffer`; `Ok(false)` at a clean end of stream.
pub fn read_frame(input: &mut impl Read, buffer: &mut Vec<u8>) -> io::Result<bool> {
    let mut length = [0u8; 4];
    match input.read_exact(&mut length) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
        Err(error) => return Err(error),
    }
    let length = u32::from_le_bytes(length) as usize;
    if length > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {length} bytes, more than the {MAX_FRAME} a frame may hold"),
        ));
    }
    // Memory grows with the bytes that actually arrive, never with what a header claims.
    buffer.clear();
    let read = input.take(length as u64).read_to_end(buffer)?;
    if read < length {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("a frame cut short: {read} of its {length} bytes"),
        ));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The borrowed frames are the owned messages, byte for byte, and read back as them.
    #[test]
    fn borrowed_frames_are_the_messages_they_stand_for() {
        let raw = RawValue::from_string("{\"n\":[1,2]}".to_owned()).unwrap();
        for method in [None, Some("split")] {
            let owned = serde_json::to_vec(&ToWorker::Task {
                id: 3,
                method: method.map(str::to_owned),
                input: raw.clone(),
            })
            .unwrap();
            let borrowed = serde_json::to_vec(&TaskFrame::Task {
                id: 3,
                method,
                input: &raw,
            })
            .unwrap();
            assert_eq!(borrowed, owned);
        }
        for (ok, error) in [(Some(&*raw), None), (None, Some("no luck"))] {
            let owned = serde_json::to_vec(&FromWorker::Done {
                id: 9,
                ok: ok.map(ToOwned::to_owned),
                error: error.map(str::to_owned),
                nanos: 41,
            })
            .unwrap();
            let mut wire = Vec::new();
            let mut body = vec![b'x'; 3];
            write_frame_in(
                &mut wire,
                &DoneFrame::Done {
                    id: 9,
                    ok,
                    error,
                    nanos: 41,
                },
                &mut body,
            )
            .unwrap();
            assert_eq!(&wire[4..], owned.as_slice(), "a kept buffer starts afresh");
        }
    }

    #[test]
    fn frames_round_trip_and_end_cleanly() {
        let mut wire = Vec::new();
        let input = RawValue::from_string("[1,2]".to_owned()).unwrap();
        write_frame(
            &mut wire,
            &ToWorker::Task {
                id: 7,
                method: None,
                input,
            },
        )
        .unwrap();
        let mut reader = wire.as_slice();
        let mut buffer = Vec::new();
        assert!(read_frame(&mut reader, &mut buffer).unwrap());
        let ToWorker::Task { id, input, .. } = serde_json::from_slice(&buffer).unwrap() else {
            panic!("not a task frame");
        };
        assert_eq!((id, input.get()), (7, "[1,2]"));
        assert!(!read_frame(&mut reader, &mut buffer).unwrap());
    }

    proptest::proptest! {
        /// Any bytes at all: frames or a clean end or an error, never a panic, and never a
        /// buffer larger than the bytes that came.
        #[test]
        fn the_frame_reader_survives_any_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..4096)) {
            let mut reader = bytes.as_slice();
            let mut buffer = Vec::new();
            while let Ok(true) = read_frame(&mut reader, &mut buffer) {
                proptest::prop_assert!(buffer.len() <= bytes.len());
                let _ = serde_json::from_slice::<ToWorker>(&buffer);
                let _ = serde_json::from_slice::<FromWorker>(&buffer);
            }
        }

        /// A frame cut anywhere is an error or a clean end, never a panic.
        #[test]
        fn a_frame_cut_anywhere_is_never_a_panic(cut in 0usize..64) {
            let mut wire = Vec::new();
            let input = RawValue::from_string("[1,2,3]".to_owned()).unwrap();
            write_frame(&mut wire, &ToWorker::Task { id: 7, method: None, input }).unwrap();
            let whole = wire.len();
            wire.truncate(cut.min(whole));
            let mut buffer = Vec::new();
            let outcome = read_frame(&mut wire.as_slice(), &mut buffer);
            if cut < whole {
                // Cut before its end: never a whole frame.
                proptest::prop_assert!(!matches!(outcome, Ok(true)));
            } else {
                proptest::prop_assert!(matches!(outcome, Ok(true)));
            }
        }
    }

    #[test]
    fn a_huge_length_reserves_nothing_it_has_not_received() {
        let mut wire = (MAX_FRAME as u32).to_le_bytes().to_vec();
        wire.extend(b"{}");
        let mut buffer = Vec::new();
        let error = read_frame(&mut wire.as_slice(), &mut buffer).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        assert!(buffer.capacity() < 1 << 20, "{}", buffer.capacity());
    }

    #[test]
    fn a_garbage_length_is_refused() {
        let wire = u32::MAX.to_le_bytes();
        let error = read_frame(&mut wire.as_slice(), &mut Vec::new()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }
}
