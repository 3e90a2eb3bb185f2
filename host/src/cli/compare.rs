//! `host compare OLD.json NEW.json`: two reports side by side, what changed, a verdict, and an exit
//! code a CI job can act on (1 when something regressed).

use std::{
    io::{self, Write},
    path::PathBuf,
    time::Duration,
};

use clap::{Args, ValueEnum};

use super::{Outcome, duration::parse_span};
use crate::{
    cli::error::HostError,
    report::{
        compare::{Comparison, Thresholds},
        read::SavedReport,
    },
};

const COMPARE_EXAMPLES: &str = "\
Examples:
  host run plugins/libfactorize.so --json old.json
  host run plugins/libfactorize.so --json new.json
  host compare old.json new.json
  host compare old.json new.json --threshold 5% --format json

Tasks are matched by id. Exit code 0: nothing regressed; 1: a task's status got worse, its output
changed, it went missing, or it got slower than the threshold allows.";

/// Compare two reports of `host run --json`: summaries, changed tasks and a verdict.
#[derive(Debug, Args)]
#[command(after_help = COMPARE_EXAMPLES)]
pub struct CompareArgs {
    /// The earlier report (the baseline).
    old: PathBuf,

    /// The later report, judged against the baseline.
    new: PathBuf,

    /// A task slower (or faster) than this, relative to the old report, counts, e.g. 10% or 5.
    #[arg(long, value_name = "PERCENT", default_value = "10%", value_parser = parse_percent)]
    threshold: f64,

    /// Tasks that took less than this in both runs are not compared for time (their times are
    /// mostly noise), e.g. 1ms, 500us, 0s to compare every task.
    #[arg(long, value_name = "DURATION", default_value = "1ms", value_parser = parse_span)]
    noise_floor: Duration,

    /// Compare reports of different plugins too (refused otherwise).
    #[arg(long)]
    force: bool,

    /// What to print on stdout: a table for people, or one JSON object.
    #[arg(long, value_enum, default_value_t = CompareFormat::Human)]
    format: CompareFormat,
}

/// The values of `host compare --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CompareFormat {
    /// The summaries side by side, the changed tasks and the verdict.
    Human,
    /// The comparison as one JSON object.
    Json,
}

/// `10%`, `10` or `12.5%` as a fraction (0.1); not negative.
fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<f64>() {
        Ok(percent) if percent.is_finite() && percent >= 0.0 => Ok(percent / 100.0),
        _ => Err(format!(
            "`{text}` is not a percentage; write e.g. 10% or 2.5%"
        )),
    }
}

impl CompareArgs {
    pub(super) fn exec(self) -> Result<Outcome, HostError> {
        let old = SavedReport::read(&self.old)?;
        let new = SavedReport::read(&self.new)?;
        if old.plugin.name != new.plugin.name && !self.force {
            return Err(HostError::DifferentPlugins {
                old: self.old,
                old_plugin: old.plugin.name,
                new: self.new,
                new_plugin: new.plugin.name,
            });
        }
        let comparison = Comparison::new(
            &old,
            &new,
            Thresholds {
                threshold: self.threshold,
                noise_floor_seconds: self.noise_floor.as_secs_f64(),
            },
        );
        for warning in &comparison.warnings {
            // Warnings quote the reports (task inputs, host names): `note` escapes them.
            super::stdio::note(format_args!("warning: {warning}"));
        }
        let text = match self.format {
            CompareFormat::Human => comparison.render(),
            CompareFormat::Json => {
                let mut json = serde_json::to_string_pretty(&comparison)
                    .map_err(|error| HostError::Output(error.into()))?;
                json.push('\n');
                json
            }
        };
        let mut stdout = io::stdout().lock();
        match stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
        {
            Err(error) if error.kind() != io::ErrorKind::BrokenPipe => {
                return Err(HostError::Output(error));
            }
            _ => {}
        }
        Ok(if comparison.regressed() {
            Outcome::TasksFailed
        } else {
            Outcome::Success
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_read_with_or_without_the_sign() {
        assert_eq!(parse_percent("10%"), Ok(0.1));
        assert_eq!(parse_percent("25"), Ok(0.25));
        assert_eq!(parse_percent("0%"), Ok(0.0));
        assert!(parse_percent("-5%").is_err());
        assert!(parse_percent("ten").is_err());
        assert!(parse_percent("nan").is_err());
    }
}
