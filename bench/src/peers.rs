//! The peers in other languages, measured in the same run: the Python programs of
//! `bench/peers/python/` (when `python3` is on the PATH) and the Go program of `bench/peers/go/`
//! (when `go` is). Their sources are built into this binary, written to a temporary directory at
//! start, and run as whole processes; each prints one JSON object with its figures
//! ([`PeerFigures`]). When a language is missing, the scenarios fall back to the figures quoted in
//! [`quoted`] (from docs/peers.md), marked `quoted` in the table and the JSON.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use serde::Deserialize;
use tempfile::TempDir;

use crate::{
    error::BenchError,
    process::{self, Spawn},
    table::{Comparison, Unit},
};

/// The Python peers, by file name.
const PYTHON_PEERS: [(&str, &str); 3] = [
    ("overhead.py", include_str!("../peers/python/overhead.py")),
    ("factorize.py", include_str!("../peers/python/factorize.py")),
    ("slow_io.py", include_str!("../peers/python/slow_io.py")),
];
/// The Go peer's source.
const GO_FACTORIZE: &str = include_str!("../peers/go/factorize.go");

/// The peers' figures quoted from docs/peers.md (2 cores, Python 3.11.7, Debian's go 1.19,
/// measured 2026-11-25 on a machine of the kind CI runs on): the fallback when a language is not
/// installed.
pub mod quoted {
    /// A quoted figure: the value used for ratios and how it is shown.
    #[derive(Debug, Clone, Copy)]
    pub struct Quote {
        /// The figure (the lower end of a range).
        pub value: f64,
        /// As shown, e.g. `2.253-2.296 s`.
        pub shown: &'static str,
    }

    /// ThreadPoolExecutor(2), a trivial task, per task, with submit.
    pub const THREAD_POOL_SUBMIT_US: Quote = Quote {
        value: 9.1,
        shown: "9.1 us",
    };
    /// ProcessPoolExecutor(2), a trivial task, per task, with map(chunksize=1).
    pub const PROCESS_POOL_MAP_US: Quote = Quote {
        value: 70.0,
        shown: "70 us",
    };
    /// The seed's four numbers, one after another.
    pub const FACTORIZE_SEQUENTIAL_S: Quote = Quote {
        value: 2.253,
        shown: "2.253-2.296 s",
    };
    /// The seed's four numbers on ProcessPoolExecutor(max_workers=2).
    pub const FACTORIZE_PROCESS_POOL_S: Quote = Quote {
        value: 1.267,
        shown: "1.267-1.292 s",
    };
    /// The seed's four numbers on ThreadPoolExecutor(max_workers=2).
    pub const FACTORIZE_THREAD_POOL_S: Quote = Quote {
        value: 2.139,
        shown: "2.139 s",
    };
    /// Ten waits of 0.1 s, one after another.
    pub const SLOW_TEN_SEQUENTIAL_S: Quote = Quote {
        value: 1.034,
        shown: "1.034 s",
    };
    /// Ten waits of 0.1 s on ten threads.
    pub const SLOW_TEN_THREADS_S: Quote = Quote {
        value: 0.133,
        shown: "0.133 s",
    };
    /// A thousand waits of 0.1 s on a thousand threads.
    pub const SLOW_THOUSAND_THREADS_S: Quote = Quote {
        value: 0.253,
        shown: "0.253 s",
    };
    /// Go: the four numbers one after another.
    pub const GO_SEQUENTIAL_S: Quote = Quote {
        value: 0.154,
        shown: "0.154 s",
    };
    /// Go: one number per task on two goroutines.
    pub const GO_PER_NUMBER_S: Quote = Quote {
        value: 0.091,
        shown: "0.091 s",
    };
    /// Go: ranges of 10^6 trial divisions on two goroutines.
    pub const GO_RANGES_S: Quote = Quote {
        value: 0.075,
        shown: "0.075 s",
    };
}

/// A peer's figures, or why it did not run (its language is not installed here).
pub type PeerRun = Result<PeerFigures, String>;

/// What one peer program printed.
#[derive(Debug, Clone, Deserialize)]
pub struct PeerFigures {
    /// Which peer.
    pub peer: String,
    /// Each figure's repetitions, in the unit the peer says.
    pub figures: BTreeMap<String, Vec<f64>>,
}

impl PeerFigures {
    /// The median of figure `name`.
    pub fn median(&self, name: &str) -> Result<f64, BenchError> {
        let values = self.figures.get(name).cloned().unwrap_or_default();
        crate::table::Samples::of(values)
            .map(|samples| samples.median)
            .ok_or_else(|| BenchError::Peer {
                peer: self.peer.clone(),
                detail: format!("no figure {name} in its output"),
            })
    }
}

/// A peer's figure for a comparison: measured in this run, or quoted with the reason.
#[derive(Debug, Clone)]
pub enum PeerFigure {
    /// Measured in this run (the median of the peer's repetitions).
    Measured(f64),
    /// Not measured; the quoted figure and why.
    Quoted(quoted::Quote, String),
}

impl PeerFigure {
    /// The figure `name` of `figures` when the peer ran, otherwise `quote` with `why`.
    pub fn of(figures: &PeerRun, name: &str, quote: quoted::Quote) -> Result<Self, BenchError> {
        match figures {
            Ok(figures) => Ok(PeerFigure::Measured(figures.median(name)?)),
            Err(why) => Ok(PeerFigure::Quoted(quote, why.clone())),
        }
    }

    /// A comparison labelled `label`, in `unit`.
    pub fn comparison(&self, label: &str, unit: Unit) -> Comparison {
        match self {
            PeerFigure::Measured(value) => Comparison::here(label, *value, unit),
            PeerFigure::Quoted(quote, why) => {
                Comparison::quoted(label, quote.value, quote.shown, why.clone())
            }
        }
    }
}

/// The peer programs, ready to run.
pub struct Peers {
    /// Where the sources (and the built Go program) are.
    dir: TempDir,
    /// `python3`'s version, or why it cannot run.
    python: Result<String, String>,
    /// The built Go program, or why there is none.
    go: Result<PathBuf, String>,
}

impl Peers {
    /// Writes the peers' sources to a temporary directory, finds out whether `python3` and `go`
    /// are there, and builds the Go peer.
    pub fn prepare() -> Result<Self, BenchError> {
        let failed = |source| BenchError::Process {
            what: "could not write the peer programs to a temporary directory".to_owned(),
            source,
        };
        let dir = tempfile::Builder::new()
            .prefix("quack-bench-peers")
            .tempdir()
            .map_err(failed)?;
        for (name, source) in PYTHON_PEERS {
            fs::write(dir.path().join(name), source).map_err(failed)?;
        }
        let python = version_of("python3", &["--version"])
            .map_err(|why| format!("python3 not on the PATH ({why}); quoted from docs/peers.md"));
        let go = match version_of("go", &["version"]) {
            Ok(_) => Ok(build_go(dir.path())?),
            Err(why) => Err(format!(
                "go not on the PATH ({why}); quoted from docs/peers.md"
            )),
        };
        Ok(Peers { dir, python, go })
    }

    /// `python3 --version`'s answer, or why there is no python3.
    pub fn python_version(&self) -> Result<&str, &str> {
        self.python.as_deref().map_err(String::as_str)
    }

    /// The built Go peer, or why there is none.
    pub fn go_built(&self) -> Result<&Path, &str> {
        self.go.as_deref().map_err(String::as_str)
    }

    /// Runs the Python peer `script` with `args`; its figures, or why it was not run (no
    /// python3).
    pub fn python(&self, script: &str, args: &[&str]) -> Result<PeerRun, BenchError> {
        Ok(self.run_python(script, args)?.map(|(figures, _)| figures))
    }

    /// Runs the Python peer `script` with `args` once and times it from outside, spawn to exit
    /// (the interpreter's start included, as a user running the script waits for it); its wall
    /// time, or why it was not run (no python3).
    pub fn python_whole(
        &self,
        script: &str,
        args: &[&str],
    ) -> Result<Result<Duration, String>, BenchError> {
        Ok(self.run_python(script, args)?.map(|(_, wall)| wall))
    }

    /// Runs `python3 script args`: the figures it printed and its wall time from spawn to exit,
    /// or why it was not run.
    fn run_python(
        &self,
        script: &str,
        args: &[&str],
    ) -> Result<Result<(PeerFigures, Duration), String>, BenchError> {
        if let Err(why) = &self.python {
            return Ok(Err(why.clone()));
        }
        let what = format!("python3 {script}");
        let path = self.dir.path().join(script);
        let spawn = Spawn::new(what.clone(), Path::new("python3"), &[])
            .args([path.as_os_str()])
            .args(args.iter().copied());
        let ran = process::run(spawn)?;
        let wall = ran.wall;
        Ok(Ok((parse(&what, ran)?, wall)))
    }

    /// Runs the Go peer with `args`; its figures, or why it was not run (no go).
    pub fn go(&self, args: &[&str]) -> Result<PeerRun, BenchError> {
        let program = match &self.go {
            Ok(program) => program,
            Err(why) => return Ok(Err(why.clone())),
        };
        let spawn = Spawn::new("the Go factorize peer", program, args);
        Ok(Ok(parse("the Go factorize peer", process::run(spawn)?)?))
    }
}

/// The peer's one JSON object.
fn parse(peer: &str, ran: process::Ran) -> Result<PeerFigures, BenchError> {
    serde_json::from_slice(&ran.last).map_err(|error| BenchError::Peer {
        peer: peer.to_owned(),
        detail: format!(
            "its output is not the expected JSON object ({error}): {}",
            String::from_utf8_lossy(&ran.last)
        ),
    })
}

/// The first line `program args` prints, or why it could not run.
fn version_of(program: &str, args: &[&str]) -> Result<String, String> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| error.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "{program} {} ended with {}",
            args.join(" "),
            output.status
        ));
    }
    let text = if output.stdout.is_empty() {
        output.stderr
    } else {
        output.stdout
    };
    Ok(String::from_utf8_lossy(&text)
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned())
}

/// Builds the Go peer in `dir` with `go build`.
fn build_go(dir: &Path) -> Result<PathBuf, BenchError> {
    let failed = |source| BenchError::Process {
        what: "could not build the Go peer".to_owned(),
        source,
    };
    let source = dir.join("factorize.go");
    fs::write(&source, GO_FACTORIZE).map_err(failed)?;
    let program = dir.join("factorize-go");
    let output = Command::new("go")
        .arg("build")
        .arg("-o")
        .arg(&program)
        .arg(&source)
        .current_dir(dir)
        .env("GO111MODULE", "off")
        .stdin(Stdio::null())
        .output()
        .map_err(failed)?;
    if !output.status.success() {
        return Err(BenchError::ChildFailed {
            what: "go build of the Go peer".to_owned(),
            status: output.status,
            stderr: format!(": {}", String::from_utf8_lossy(&output.stderr).trim()),
        });
    }
    Ok(program)
}
