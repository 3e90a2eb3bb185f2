//! `rayon-peer PLUGIN [--threads N]`: the plain Rust program Quack is raced against. It loads a
//! plugin with `quack_host::loader`, makes one instance per rayon worker thread, reads JSON Lines
//! from stdin in chunks, calls `run` through the ABI on every line in parallel with rayon, and
//! writes one JSON line per result to stdout with the same fields as `host run --format jsonl`
//! (`{"type":"task","id":..,"input":..,"status":"ok","output":..,"worker":..,"node":..,
//! "start_seconds":..,"duration_seconds":..}`, in any order), then a summary line. No scheduling of its own, no
//! streaming guarantees beyond a chunk, no isolation: what a user could write in an afternoon.

use std::{
    io::{self, BufRead, BufWriter, Write},
    path::PathBuf,
    process::ExitCode,
    sync::{Mutex, mpsc},
    thread,
    time::Instant,
};

use quack_core::{InstanceBox, abi_stable::std_types::RResult};
use quack_host::plugin::LoadedPlugin;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::value::RawValue;

/// Lines read and run together.
const CHUNK_LINES: usize = 16 * 1024;

/// Why the peer could not run.
#[derive(Debug, thiserror::Error)]
enum PeerError {
    #[error("usage: rayon-peer PLUGIN [--threads N] < tasks.jsonl")]
    Usage,
    #[error(transparent)]
    Load(#[from] quack_host::loader::LoadError),
    #[error("the plugin refused its configuration: {0}")]
    Instance(String),
    #[error("could not start the thread pool: {0}")]
    Pool(#[from] rayon::ThreadPoolBuildError),
    #[error("task {task}: not JSON: {source}")]
    Input {
        task: u64,
        #[source]
        source: serde_json::Error,
    },
    #[error("standard input or output failed: {0}")]
    Io(#[from] io::Error),
}

/// One task line, as `host run --format jsonl` writes it.
#[derive(Serialize)]
struct TaskLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: u64,
    input: &'a RawValue,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    worker: usize,
    /// The machine's host name, as the host names the node of a thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<&'a str>,
    start_seconds: f64,
    duration_seconds: f64,
}

/// The summary line.
#[derive(Serialize)]
struct SummaryLine {
    #[serde(rename = "type")]
    kind: &'static str,
    tasks: u64,
    ok: u64,
    error: u64,
    wall_seconds: f64,
    tasks_per_second: f64,
    runner: Runner,
}

#[derive(Serialize)]
struct Runner {
    mode: &'static str,
    workers: usize,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("rayon-peer: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), PeerError> {
    let origin = Instant::now();
    let node = quack_host::runner::sys::host_name();
    let mut args = std::env::args_os().skip(1);
    let plugin = PathBuf::from(args.next().ok_or(PeerError::Usage)?);
    let threads = match (args.next(), args.next()) {
        (None, _) => 0,
        (Some(flag), Some(count)) if flag == "--threads" => count
            .to_str()
            .and_then(|count| count.parse().ok())
            .ok_or(PeerError::Usage)?,
        _ => return Err(PeerError::Usage),
    };
    let plugin = LoadedPlugin::load(&plugin)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let instances = (0..pool.current_num_threads())
        .map(|_| {
            plugin
                .instantiate("{}")
                .map(Mutex::new)
                .map_err(|error| PeerError::Instance(error.message.to_string()))
        })
        .collect::<Result<Vec<Mutex<InstanceBox>>, _>>()?;

    // A reader thread parses nothing: it hands over chunks of lines while the last one runs.
    let (chunks, received) = mpsc::sync_channel::<io::Result<Vec<String>>>(2);
    thread::spawn(move || {
        let mut lines = io::stdin().lock().lines();
        loop {
            let chunk: io::Result<Vec<String>> = lines
                .by_ref()
                .take(CHUNK_LINES)
                .filter(|line| line.as_ref().map_or(true, |line| !line.trim().is_empty()))
                .collect();
            let done = chunk.as_ref().map_or(true, Vec::is_empty);
            if chunks.send(chunk).is_err() || done {
                return;
            }
        }
    });

    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let (mut next_id, mut ok, mut failed) = (0_u64, 0_u64, 0_u64);
    for chunk in received {
        let chunk = chunk?;
        if chunk.is_empty() {
            break;
        }
        let first_id = next_id;
        next_id += chunk.len() as u64;
        let lines: Vec<Result<(bool, Vec<u8>), PeerError>> = pool.install(|| {
            chunk
                .par_iter()
                .enumerate()
                .map(|(index, line)| {
                    let id = first_id + index as u64;
                    let worker = rayon::current_thread_index().unwrap_or(0);
                    let input: &RawValue = serde_json::from_str(line.trim())
                        .map_err(|source| PeerError::Input { task: id, source })?;
                    let started = Instant::now();
                    let result = match instances.get(worker).map(Mutex::lock) {
                        Some(Ok(mut instance)) => instance.call("run".into(), input.get().into()),
                        _ => return Err(PeerError::Instance("no instance for this thread".into())),
                    };
                    let duration = started.elapsed();
                    let (output, error) = match &result {
                        RResult::ROk(json) => {
                            match serde_json::from_str::<&RawValue>(json.as_str()) {
                                Ok(raw) => (Some(raw), None),
                                Err(_) => {
                                    (None, Some("the plugin returned invalid JSON".to_owned()))
                                }
                            }
                        }
                        RResult::RErr(error) => (None, Some(error.to_string())),
                    };
                    let line = TaskLine {
                        kind: "task",
                        id,
                        input,
                        status: if output.is_some() { "ok" } else { "error" },
                        output,
                        error: error.as_deref(),
                        worker,
                        node: node.as_deref(),
                        start_seconds: started.duration_since(origin).as_secs_f64(),
                        duration_seconds: duration.as_secs_f64(),
                    };
                    let mut bytes = serde_json::to_vec(&line).map_err(io::Error::from)?;
                    bytes.push(b'\n');
                    Ok((output.is_some(), bytes))
                })
                .collect()
        });
        for line in lines {
            let (was_ok, bytes) = line?;
            if was_ok {
                ok += 1;
            } else {
                failed += 1;
            }
            out.write_all(&bytes)?;
        }
    }
    let wall = origin.elapsed().as_secs_f64();
    let summary = SummaryLine {
        kind: "summary",
        tasks: next_id,
        ok,
        error: failed,
        wall_seconds: wall,
        tasks_per_second: next_id as f64 / wall.max(1e-9),
        runner: Runner {
            mode: "rayon",
            workers: pool.current_num_threads(),
        },
    };
    serde_json::to_writer(&mut out, &summary).map_err(io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}
