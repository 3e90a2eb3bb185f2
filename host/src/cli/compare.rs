//! `host compare OLD NEW`, or `host compare --old OLD... --new NEW...` with several reports a side:
//! what changed, judged (times with a rank test and a minimum effect), a verdict, and an exit code
//! a CI job can act on (1 when something regressed). `-` reads a report from stdin.

use std::{
    io::{self, IsTerminal, Write},
    path::{Path, PathBuf},
    time::Duration,
};

use clap::{Args, ValueEnum};

use super::{Outcome, duration::parse_span, verbosity::ui};
use crate::{
    cli::error::HostError,
    report::{
        compare::{Comparison, Rules},
        compare_text::Look,
        file::ReportFile,
        html,
        read::SavedReport,
    },
};

const COMPARE_EXAMPLES: &str = "\
Examples:
  host run plugins/libfactorize.so --json old.json
  host run plugins/libfactorize.so --json new.json
  host compare old.json new.json
  for i in 1 2 3 4 5; do
    host run plugins/libfactorize.so -q --json old-$i.json
    host run plugins/libfactorize.so -q --json new-$i.json   # (the new build)
  done
  host compare --old old-*.json --new new-*.json --format markdown
  host run plugins/libfactorize.so -q --format json | host compare old.json -
  host compare old.json new.json --html compared.html   (the two runs side by side)

How times are judged: the run's wall time and tasks per second (when the median wall time is over
--run-noise-floor on either side), and each task's duration (a task ok in every report with the
same input, its median over --noise-floor on either side). A time is worse or better only when the
Mann-Whitney U rank test finds the sides differ (p < --alpha, 0.05 by default; each task's p-value
adjusted for the number of tasks, Benjamini-Hochberg) AND the medians differ by more than
--threshold (5% by default); otherwise it shows as \"~\". The test needs 4 reports a side at 0.05
(5 at 0.01); 5 or more are better. With fewer (one report a side, say), task times are not judged,
and the run's wall time and tasks per second count only when they changed by more than
--few-samples-factor (3x by default; identical single runs on a busy 2-core machine differed by up
to 2x). The run's times are judged only when both sides ran the same tasks with the same inputs.
Ratios read as hyperfine's: \"1.32 ± 0.05 times slower\" is the ratio of the medians and the
sides' relative standard deviations combined.

Exit code 1 (regressed): a task's status got worse (for any input), its output changed for the same
input, it went missing, or a time got worse as above. A task whose input differs is listed as a
different input and judged on its status only. Exit code 0: no change, or improved.";

/// Compare reports of `host run --json`: old and new, one report or several samples each.
#[derive(Debug, Args)]
#[command(after_help = COMPARE_EXAMPLES)]
pub struct CompareArgs {
    /// OLD NEW: one report a side (`-` for stdin). For several, use --old and --new.
    #[arg(
        value_names = ["OLD", "NEW"],
        num_args = 2,
        required_unless_present = "old",
        conflicts_with_all = ["old", "new"]
    )]
    reports: Vec<PathBuf>,

    /// The baseline's reports: samples of the same run, e.g. --old old-*.json.
    #[arg(long, value_name = "REPORT", num_args = 1.., requires = "new")]
    old: Vec<PathBuf>,

    /// The reports judged against the baseline, e.g. --new new-*.json.
    #[arg(long, value_name = "REPORT", num_args = 1.., requires = "old")]
    new: Vec<PathBuf>,

    /// A time must change by more than this to count, e.g. 5% or 10.
    #[arg(long, value_name = "PERCENT", default_value = "5%", value_parser = parse_percent)]
    threshold: f64,

    /// The significance level of the rank test, between 0 and 1 (exclusive).
    #[arg(long, value_name = "LEVEL", default_value = "0.05", value_parser = parse_alpha)]
    alpha: f64,

    /// Tasks whose median time is under this on both sides are not judged on time (their times
    /// are mostly noise), e.g. 1ms, 500us, 0s to judge every task.
    #[arg(long, value_name = "DURATION", default_value = "1ms", value_parser = parse_span)]
    noise_floor: Duration,

    /// Runs whose median wall time is under this on both sides are not judged on time (starting
    /// the workers takes much of such a run, and varies more than the work), e.g. 50ms or 0s.
    #[arg(long, value_name = "DURATION", default_value = "50ms", value_parser = parse_span)]
    run_noise_floor: Duration,

    /// With too few reports for the rank test, the run's times count only when they changed by
    /// more than this factor.
    #[arg(long, value_name = "FACTOR", default_value = "3", value_parser = parse_factor)]
    few_samples_factor: f64,

    /// Compare reports of different plugins too (refused otherwise).
    #[arg(long)]
    force: bool,

    /// What to print on stdout: a table for people, one JSON object, or Markdown (for a pull
    /// request comment).
    #[arg(long, value_enum, default_value_t = CompareFormat::Human)]
    format: CompareFormat,

    /// Also write the comparison as one self-contained HTML page to FILE: its text, then the old
    /// and the new run side by side (each as `host report --html` draws it; with several reports
    /// a side, the first of each).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

/// The values of `host compare --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CompareFormat {
    /// The run's times and counts side by side, the changed tasks and the verdict.
    Human,
    /// The comparison as one JSON object.
    Json,
    /// The comparison as Markdown.
    Markdown,
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

/// A significance level: a number strictly between 0 and 1.
fn parse_alpha(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(alpha) if alpha > 0.0 && alpha < 1.0 => Ok(alpha),
        _ => Err(format!(
            "`{text}` is not a significance level; write a number between 0 and 1, e.g. 0.05"
        )),
    }
}

/// A factor of at least 1, as `3` or `3x`.
fn parse_factor(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches(['x', 'X']).trim();
    match number.parse::<f64>() {
        Ok(factor) if factor.is_finite() && factor >= 1.0 => Ok(factor),
        _ => Err(format!(
            "`{text}` is not a factor; write a number of at least 1, e.g. 3 or 2.5x"
        )),
    }
}

/// Whether `path` means stdin.
fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

impl CompareArgs {
    /// The two sides' paths, as given in either form.
    fn sides(&self) -> Result<(Vec<PathBuf>, Vec<PathBuf>), HostError> {
        let (old, new) = if self.old.is_empty() && self.new.is_empty() {
            match self.reports.as_slice() {
                [old, new] => (vec![old.clone()], vec![new.clone()]),
                _ => {
                    return Err(HostError::Usage(
                        "host compare needs an old and a new report: host compare OLD NEW, or host compare --old OLD... --new NEW...".to_owned(),
                    ));
                }
            }
        } else {
            (self.old.clone(), self.new.clone())
        };
        if old.iter().chain(&new).filter(|path| is_stdin(path)).count() > 1 {
            return Err(HostError::Usage(
                "- (stdin) can stand for one report only; save the others to files".to_owned(),
            ));
        }
        Ok((old, new))
    }

    pub(super) fn exec(self) -> Result<Outcome, HostError> {
        let (old_paths, new_paths) = self.sides()?;
        let read = |path: &PathBuf| {
            if is_stdin(path) {
                SavedReport::read_stdin()
            } else {
                SavedReport::read(path)
            }
        };
        let old = old_paths.iter().map(read).collect::<Result<Vec<_>, _>>()?;
        let new = new_paths.iter().map(read).collect::<Result<Vec<_>, _>>()?;
        if !self.force {
            if let Some(first) = old.first() {
                if let Some(other) = old
                    .iter()
                    .chain(&new)
                    .find(|report| report.plugin.description.name != first.plugin.description.name)
                {
                    return Err(HostError::DifferentPlugins {
                        old: first.file.clone(),
                        old_plugin: first.plugin.description.name.clone(),
                        new: other.file.clone(),
                        new_plugin: other.plugin.description.name.clone(),
                    });
                }
            }
        }
        let comparison = Comparison::new(
            &old,
            &new,
            Rules {
                threshold: self.threshold,
                alpha: self.alpha,
                noise_floor_seconds: self.noise_floor.as_secs_f64(),
                run_noise_floor_seconds: self.run_noise_floor.as_secs_f64(),
                few_samples_factor: self.few_samples_factor,
            },
        );
        let ui = ui();
        if let (Some(path), Some(first_old), Some(first_new)) =
            (&self.html, old.first(), new.first())
        {
            let file = ReportFile::create_for("--html", path).map_err(HostError::Picture)?;
            let text = comparison.render(Look {
                color: false,
                quiet: false,
            });
            html::write(&[first_old, first_new], Some(&text), file).map_err(HostError::Picture)?;
            super::report::said("HTML comparison", path);
        }
        if !ui.quiet {
            for warning in &comparison.warnings {
                // Warnings quote the reports (task inputs, host names): `note` escapes them.
                super::stdio::note(format_args!("warning: {warning}"));
            }
        }
        let mut stdout = io::stdout().lock();
        let text = match self.format {
            CompareFormat::Human => comparison.render(Look {
                color: ui.colors(stdout.is_terminal()),
                quiet: ui.quiet,
            }),
            CompareFormat::Markdown => comparison.markdown(),
            CompareFormat::Json => {
                let mut json = serde_json::to_string_pretty(&comparison)
                    .map_err(|error| HostError::Output(error.into()))?;
                json.push('\n');
                json
            }
        };
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

    #[test]
    fn levels_and_factors_are_checked() {
        assert_eq!(parse_alpha("0.05"), Ok(0.05));
        assert!(parse_alpha("0").is_err());
        assert!(parse_alpha("1").is_err());
        assert!(parse_alpha("five").is_err());
        assert_eq!(parse_factor("3"), Ok(3.0));
        assert_eq!(parse_factor("2.5x"), Ok(2.5));
        assert!(parse_factor("0.5").is_err());
        assert!(parse_factor("inf").is_err());
    }
}
