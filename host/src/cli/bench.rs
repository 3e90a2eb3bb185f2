//! `host bench`: measures Quack against its performance targets in one run and prints a table
//! (see [`crate::bench`]); `--json` also writes the figures. A missed target is reported, not
//! failed: the exit code is non-zero only when something could not run or computed a wrong result.

use std::{
    ffi::OsString,
    io::{self, Write},
    path::PathBuf,
};

use clap::Args;

use super::Outcome;
use crate::{
    bench::{self, BenchError, Plan},
    error::HostError,
    report::write_json_atomically,
};

const BENCH_EXAMPLES: &str = "\
Examples:
  host bench
  host bench --plugins target/release
  host bench --quick --json bench.json

Scenarios: per-task overhead (thread and process mode against a bare call loop and the inline
executor), the seed's four factorize numbers (speedup over inline), slow-io waits with the auto
choice, process mode's time to first result, and the peak memory of a JSON Lines stream. Each is
repeated; the table shows the median and the minimum, the target, what the figure is compared
with (measured in the same run where possible; Python figures from SEED-NOTES.md) and the ratio.
Full: about 15 s on 2 cores; --quick: about 3 s. Build with --release before measuring.

Exit codes:
  0  every scenario ran and every result was right (whether or not the targets were met)
  1  a run computed a wrong result, or a host process it started failed
  3  a plugin library is not in the plugin directory (3-7: a plugin could not be loaded)
 10  a plugin refused its configuration
 11  the figures or the table could not be written
 12  a worker thread or process could not be started";

/// Measure Quack's performance targets side by side and print a table.
#[derive(Debug, Args)]
#[command(after_help = BENCH_EXAMPLES)]
pub struct BenchArgs {
    /// The directory holding libfactorize and libslow_io (default: the host binary's own
    /// directory when they are there, otherwise plugins/).
    #[arg(long, value_name = "DIR")]
    plugins: Option<PathBuf>,

    /// Fewer tasks and repetitions: a smoke run for CI.
    #[arg(long)]
    quick: bool,

    /// Also write the figures as JSON to PATH (written whole or not at all).
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,

    /// (Internal) Run the host with the arguments after `--`, wait for it and print its peak
    /// memory: how the memory scenario measures a host that did not inherit this one's.
    #[arg(long, hide = true, requires = "host_args")]
    peak_rss: bool,

    /// The arguments for --peak-rss.
    #[arg(last = true, hide = true, requires = "peak_rss")]
    host_args: Vec<OsString>,
}

impl BenchArgs {
    pub(super) fn exec(self) -> Result<Outcome, HostError> {
        if self.peak_rss {
            return Ok(Outcome::Exit(bench::launch_measured(&self.host_args)));
        }
        match self.bench() {
            Ok(()) => Ok(Outcome::Success),
            Err(error) => {
                eprintln!("error: {error}");
                Ok(Outcome::Exit(error.exit_code()))
            }
        }
    }

    fn bench(self) -> Result<(), BenchError> {
        let dir = self.plugins.unwrap_or_else(bench::default_plugin_dir);
        let results = bench::run(&dir, Plan::new(self.quick), &mut |line| eprintln!("{line}"))?;
        let mut stdout = io::stdout().lock();
        write!(stdout, "{}", results.table())
            .and_then(|()| stdout.flush())
            .map_err(BenchError::Output)?;
        if let Some(path) = &self.json {
            write_json_atomically(path, &results).map_err(|source| BenchError::Report {
                path: path.clone(),
                source,
            })?;
            eprintln!("figures written to {}", path.display());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::super::Cli;

    #[test]
    fn bench_command_lines() {
        let cases: &[(&[&str], bool)] = &[
            (&["host", "bench"], true),
            (&["host", "bench", "--quick", "--json", "bench.json"], true),
            (&["host", "bench", "--plugins", "target/release"], true),
            (
                &[
                    "host",
                    "bench",
                    "--peak-rss",
                    "--",
                    "run",
                    "p.so",
                    "--input",
                    "-",
                ],
                true,
            ),
            (&["host", "bench", "--peak-rss"], false),
            (&["host", "bench", "--", "run", "p.so"], false),
            (&["host", "bench", "--plugins"], false),
        ];
        for (line, valid) in cases {
            assert_eq!(Cli::try_parse_from(*line).is_ok(), *valid, "{line:?}");
        }
    }
}
