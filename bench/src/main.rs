//! `quack-bench`: measures Quack against its performance targets in one run and prints a table;
//! `--json` also writes the figures. It drives the `quack-host` library (through [`drive`] only)
//! and runs the `host` binary beside it, the rayon peer (`rayon-peer`, the other binary of this
//! package) and the Python and Go peers of `bench/peers/` as whole processes.
//!
//! A missed target is reported, not failed: the exit code is non-zero only when something could
//! not run or computed a wrong result. `quack-bench peak-rss -- PROGRAM ARGS` is the launcher the
//! memory figures are taken through (see [`process`]).

mod drive;
mod error;
mod peers;
mod process;
mod scenarios;
mod suite;
mod table;

use std::{
    ffi::OsString,
    io::{self, Write},
    path::PathBuf,
    process::ExitCode,
};

use clap::{Parser, Subcommand};
use quack_host::report::file::write_json;

use crate::{error::BenchError, suite::Plan};

const EXAMPLES: &str = "\
Examples:
  quack-bench
  quack-bench --plugins target/release
  quack-bench --quick --json bench.json
  quack-bench --plugins target/release --only slurm
  quack-bench --host target/release/host --plugins plugins
  quack-bench --host old/release/host --host-plugins old/release --only race --only memory

Scenarios: per-task overhead (thread and process mode against a bare call loop and the inline
executor), the seed's four factorize numbers (speedup over inline), slow-io waits with the auto
choice, process mode's time to first result, peak memory of a long run, a race against a plain
rayon program, JSON Lines against JSON array input, the seed's numbers without splitting, and
workers as Slurm job steps against local processes (only where srun works; --only slurm runs it
alone).
Each is repeated; the table shows the median and the minimum, the target, what the figure is
compared with and the ratio. The Python peers run when python3 is on the PATH and the Go peer
when go is; otherwise their figures are quoted from docs/peers.md and marked (quoted). Build with
--release before measuring (cargo build --release --workspace).

Exit codes:
  0  every scenario ran and every result was right (whether or not the targets were met)
  1  a run computed a wrong result, or a process it started failed
  3  a plugin library, the host binary or the rayon peer is missing (3-7: a plugin could not be
     loaded)
 10  a plugin refused its configuration
 11  the figures or the table could not be written
 12  a worker thread or process could not be started";

/// Measure Quack's performance targets side by side with its peers and print a table.
#[derive(Debug, Parser)]
#[command(name = "quack-bench", version, after_help = EXAMPLES)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    /// The directory holding libfactorize and libslow_io (default: this binary's own directory
    /// when they are there, otherwise plugins/).
    #[arg(long, value_name = "DIR")]
    plugins: Option<PathBuf>,

    /// The host binary to run for whole-process figures (default: the one beside this binary).
    #[arg(long, value_name = "PATH")]
    host: Option<PathBuf>,

    /// The plugins that --host runs (default: --plugins). For timing another build's host (an
    /// older one, say) against this build's peers: that host runs the plugins of its own build,
    /// this build's library and the rayon peer run those of --plugins.
    #[arg(long, value_name = "DIR", requires = "host")]
    host_plugins: Option<PathBuf>,

    /// Fewer tasks and repetitions: a smoke run for CI.
    #[arg(long)]
    quick: bool,

    /// Run only the scenarios whose name contains TEXT, e.g. `--only slurm`; given more than
    /// once, those whose name contains any of them.
    #[arg(long, value_name = "TEXT")]
    only: Vec<String>,

    /// Also write the figures as JSON to PATH (written whole or not at all).
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run PROGRAM with ARGS, wait for it and print its peak resident memory on stderr: how the
    /// memory figures measure a process that did not inherit the benchmark's own peak.
    PeakRss {
        /// The program and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "PROGRAM ARGS")]
        command: Vec<OsString>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::PeakRss { command }) => {
            return ExitCode::from(process::launch_measured(command));
        }
        None => {}
    }
    match bench(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

fn bench(cli: Cli) -> Result<(), BenchError> {
    let dir = cli.plugins.unwrap_or_else(suite::default_plugin_dir);
    let host = cli.host.unwrap_or_else(suite::default_host);
    let plan = Plan::new(cli.quick);
    let host_dir = cli.host_plugins.unwrap_or_else(|| dir.clone());
    let results = suite::run(&dir, (host, &host_dir), plan, &cli.only, &mut |line| {
        eprintln!("{line}")
    })?;
    let mut stdout = io::stdout().lock();
    write!(stdout, "{}", results.table())
        .and_then(|()| stdout.flush())
        .map_err(BenchError::Output)?;
    if let Some(path) = &cli.json {
        write_json(path, &results).map_err(|error| BenchError::Report {
            path: path.clone(),
            source: std::io::Error::other(error.to_string()),
        })?;
        eprintln!("figures written to {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::Cli;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn command_lines() {
        let cases: &[(&[&str], bool)] = &[
            (&["quack-bench"], true),
            (&["quack-bench", "--quick", "--json", "bench.json"], true),
            (&["quack-bench", "--plugins", "target/release"], true),
            (&["quack-bench", "--host", "target/release/host"], true),
            (
                &["quack-bench", "--host", "old/host", "--host-plugins", "old"],
                true,
            ),
            (&["quack-bench", "--host-plugins", "old"], false),
            (&["quack-bench", "--only", "race", "--only", "memory"], true),
            (
                &[
                    "quack-bench",
                    "peak-rss",
                    "--",
                    "host",
                    "run",
                    "p.so",
                    "--input",
                    "-",
                ],
                true,
            ),
            (&["quack-bench", "peak-rss"], false),
            (&["quack-bench", "--plugins"], false),
            (&["quack-bench", "--quick", "peak-rss", "--", "host"], false),
        ];
        for (line, valid) in cases {
            assert_eq!(Cli::try_parse_from(*line).is_ok(), *valid, "{line:?}");
        }
    }
}
