//! The global flags every `host` command takes, before or after its subcommand: `-q`, `-v`/`-vv`
//! and `--color`, resolved once into a [`Ui`] that the rest of the CLI reads with [`ui`].
//!
//! - `-q` keeps only what failed and the summary: `host run` lists only the tasks that did not end
//!   `ok` and the summary line (no `runner:` line, no progress line, no notes); `host compare` the
//!   table, what regressed and the verdict. Errors are always said.
//! - `-v` adds worker starts, attempt failures and replacements; `-vv` the auto choice's inputs
//!   and the time of each phase; `-vvv` every task's start. These lines go through `tracing`, so
//!   `QUACK_LOG` (or else `RUST_LOG`) with a level (`debug`) or `target=level` directives
//!   (`quack_host=trace,warn`) overrides them. A value that cannot be read that way gets one
//!   warning line and is ignored: the flags decide.
//! - `--color auto` colours a stream when it is a terminal, `NO_COLOR` is not set (to anything
//!   but the empty string), `CLICOLOR` is not `0` and `TERM` is not `dumb`; `CLICOLOR_FORCE` (not `0`) forces colour in
//!   auto mode. `always` and `never` mean what they say.

use std::{io::IsTerminal, sync::OnceLock};

use clap::{Args, ValueEnum};
use tracing_subscriber::{
    filter::Targets, fmt::MakeWriter, layer::SubscriberExt, util::SubscriberInitExt,
};

use crate::report::progress::StderrLines;

/// The global flags.
#[derive(Debug, Clone, Args)]
pub struct UiArgs {
    /// Print only what failed and the summary: host run lists only the tasks that did not end ok
    /// and the summary line (no runner line, no progress line); host compare prints the table,
    /// what regressed and the verdict. Errors are always printed.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,

    /// Say more on stderr: -v worker starts and failed attempts, -vv the mode choice's inputs and
    /// timings, -vvv every task. QUACK_LOG or RUST_LOG (e.g. QUACK_LOG=debug) override it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// When to colour the output: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    color: ColorChoice,
}

/// The values of `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour a stream that is a terminal, unless NO_COLOR is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// What the global flags asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ui {
    /// `-q`.
    pub quiet: bool,
    /// How many `-v`.
    pub verbose: u8,
    /// `--color`.
    pub color: ColorChoice,
}

impl Default for Ui {
    fn default() -> Self {
        Ui {
            quiet: false,
            verbose: 0,
            color: ColorChoice::Auto,
        }
    }
}

static UI: OnceLock<Ui> = OnceLock::new();

/// The flags of this command (the defaults before [`UiArgs::install`]).
pub fn ui() -> Ui {
    UI.get().copied().unwrap_or_default()
}

impl UiArgs {
    /// Records the flags for [`ui`] and, unless `tracing` is false (a worker process), sends
    /// `tracing` events to stderr through the progress line.
    pub fn install(&self, tracing: bool) {
        let ui = Ui {
            quiet: self.quiet,
            verbose: self.verbose,
            color: self.color,
        };
        let _ = UI.set(ui);
        if tracing {
            init_tracing(ui);
        }
    }
}

impl Ui {
    /// Whether to colour a stream that is (or is not) a terminal.
    pub fn colors(self, is_terminal: bool) -> bool {
        let set = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto if set("NO_COLOR") => false,
            ColorChoice::Auto
                if set("CLICOLOR_FORCE")
                    && std::env::var_os("CLICOLOR_FORCE").is_some_and(|value| value != "0") =>
            {
                true
            }
            ColorChoice::Auto if std::env::var_os("CLICOLOR").is_some_and(|value| value == "0") => {
                false
            }
            ColorChoice::Auto => {
                is_terminal && std::env::var_os("TERM").is_none_or(|term| term != "dumb")
            }
        }
    }

    /// Whether stderr gets colour.
    pub fn stderr_colors(self) -> bool {
        self.colors(std::io::stderr().is_terminal())
    }

    /// The `tracing` filter the flags ask for.
    fn default_filter(self) -> &'static str {
        match (self.quiet, self.verbose) {
            (true, _) => "error",
            (false, 0) => "warn",
            (false, 1) => "info",
            (false, 2) => "debug",
            (false, _) => "trace",
        }
    }
}

/// Where `tracing` writes: stderr, above the progress line when one is drawn.
struct StderrMaker;

impl<'a> MakeWriter<'a> for StderrMaker {
    type Writer = StderrLines;

    fn make_writer(&'a self) -> Self::Writer {
        StderrLines::styled()
    }
}

/// Sends `tracing` events to stderr, one plain line each, filtered by `QUACK_LOG`, `RUST_LOG` or
/// the flags.
fn init_tracing(ui: Ui) {
    let from_env = ["QUACK_LOG", "RUST_LOG"]
        .iter()
        .find_map(|name| {
            let value = std::env::var(name).ok()?;
            (!value.trim().is_empty()).then_some((*name, value))
        })
        .and_then(|(name, value)| match log_filter(&value) {
            Ok(filter) => Some(filter),
            Err(why) => {
                crate::report::progress::eprint_line(&format!(
                    "warning: {name}={value:?} is ignored: {why}; give a level (error, warn, info, debug, trace) or target=level directives such as quack_host=debug"
                ));
                None
            }
        });
    if from_env.is_none() && ui.verbose == 0 {
        // The host has nothing to say below -v: without a subscriber there is nothing to set up,
        // and every event is off at once.
        return;
    }
    let filter = from_env.unwrap_or_else(|| {
        ui.default_filter()
            .parse::<Targets>()
            .unwrap_or_else(|_| Targets::new())
    });
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(StderrMaker)
        .with_ansi(ui.stderr_colors())
        .without_time()
        .with_target(false)
        .with_level(false);
    let _ = tracing_subscriber::registry()
        .with(lines)
        .with(filter)
        .try_init();
}

/// The levels a log directive may name.
const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// A `QUACK_LOG` value as a filter, or why it cannot be one. `tracing`'s own parser takes a bare
/// word that is no level for a target at every level, so `QUACK_LOG=dbug` would turn on nothing
/// without a word: such a word is refused unless it names one of the host's targets (`quack...`).
fn log_filter(value: &str) -> Result<Targets, String> {
    for directive in value
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        let bare = !directive.contains('=');
        let is_level = LEVELS.contains(&directive.to_ascii_lowercase().as_str());
        if bare && !is_level && !directive.starts_with("quack") {
            return Err(format!(
                "`{directive}` is neither a level nor a target of the host"
            ));
        }
    }
    value.parse::<Targets>().map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_choices_win_over_the_terminal() {
        let ui = |color| Ui {
            color,
            ..Ui::default()
        };
        assert!(ui(ColorChoice::Always).colors(false));
        assert!(!ui(ColorChoice::Never).colors(true));
    }

    #[test]
    fn flags_pick_the_filter() {
        let ui = |quiet, verbose| Ui {
            quiet,
            verbose,
            color: ColorChoice::Auto,
        };
        assert_eq!(ui(true, 0).default_filter(), "error");
        assert_eq!(ui(false, 0).default_filter(), "warn");
        assert_eq!(ui(false, 1).default_filter(), "info");
        assert_eq!(ui(false, 2).default_filter(), "debug");
        assert_eq!(ui(false, 5).default_filter(), "trace");
    }

    #[test]
    fn log_filters_that_mean_nothing_are_refused_with_a_reason() {
        assert!(log_filter("debug").is_ok());
        assert!(log_filter("quack_host=trace,warn").is_ok());
        assert!(log_filter("quack_host").is_ok());
        assert!(log_filter("WARN").is_ok());
        assert!(log_filter("dbug").unwrap_err().contains("`dbug`"));
        assert!(log_filter("quack_host=loud").is_err());
    }
}
