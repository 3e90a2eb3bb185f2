//! `host list`: one line per plugin file in a directory (a shared library, or an executable
//! program whose first line starts with `#!`) with the interfaces it satisfies; a file that is
//! not a plugin is listed as such, and the listing goes on. In the text for
//! people, file names and what plugins say are escaped (`crate::safe`); `--json` is exact.

use std::{
    env::consts::DLL_SUFFIX,
    io::{self, Write},
    path::PathBuf,
    time::Duration,
};

use clap::Args;
use serde::Serialize;

use super::{Outcome, duration::parse_duration, probe, stdio};
use crate::{
    cli::error::{EXIT_PLUGIN_EXITED, EXIT_PROBE_FAILED, HostError},
    safe::Safe,
};

const LIST_EXAMPLES: &str = "\
Examples:
  host list
  host list target/release --json";

/// List the plugins in a directory and what each can do.
#[derive(Debug, Args)]
#[command(after_help = LIST_EXAMPLES)]
pub struct ListArgs {
    /// The directory to look in.
    #[arg(default_value = "plugins")]
    dir: PathBuf,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,

    /// How long loading one file may take (each is loaded in a child process, stopped after
    /// this; the listing goes on).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    timeout: Duration,
}

/// One line of the listing.
#[derive(Debug, Serialize)]
struct Entry {
    file: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    interfaces: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Whether loading it crashed, hung or ended its process (rather than being refused).
    #[serde(skip)]
    broke: bool,
}

impl ListArgs {
    pub(super) fn exec(self) -> Result<Outcome, HostError> {
        let list_error = |source| HostError::ListDirectory {
            path: self.dir.clone(),
            source,
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map_err(list_error)?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| {
                !path.is_dir()
                    && (path.to_string_lossy().ends_with(DLL_SUFFIX) || is_program_file(path))
            })
            .collect();
        files.sort();
        let entries: Vec<Entry> = files
            .into_iter()
            .map(|file| describe(file, self.timeout))
            .collect();
        // A signal stopped a probe (and every one after it): the list is not whole.
        if let Some(signal) = super::signals::cancelled() {
            return Err(HostError::Interrupted {
                signal,
                what: self.dir.clone(),
            });
        }
        let mut out = io::stdout().lock();
        let written = if self.json {
            serde_json::to_writer_pretty(&mut out, &entries)
                .map_err(io::Error::from)
                .and_then(|()| writeln!(out))
        } else {
            write_text(&mut out, &entries)
        };
        stdio::ignore_closed(written.and_then(|()| out.flush())).map_err(HostError::Output)?;
        Ok(Outcome::Success)
    }
}

/// An executable file that starts with `#!`: a program plugin, or a program that says it is not.
fn is_program_file(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let executable = std::fs::metadata(path)
        .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0);
    executable && crate::program::is_program(path)
}

fn describe(file: PathBuf, limit: Duration) -> Entry {
    match probe::probe(&file, limit) {
        Ok(plugin) => Entry {
            interfaces: plugin
                .interfaces
                .iter()
                .map(|interface| interface.name())
                .collect(),
            name: Some(plugin.description.name),
            version: Some(plugin.description.version),
            error: None,
            broke: false,
            file,
        },
        Err(error) => Entry {
            broke: matches!(error.exit_code(), EXIT_PLUGIN_EXITED | EXIT_PROBE_FAILED),
            error: Some(error.to_string()),
            name: None,
            version: None,
            interfaces: Vec::new(),
            file,
        },
    }
}

fn write_text(out: &mut impl Write, entries: &[Entry]) -> io::Result<()> {
    if entries.is_empty() {
        return writeln!(
            out,
            "no plugins here (shared libraries *{DLL_SUFFIX}, or executable programs starting with #!)"
        );
    }
    let width = entries
        .iter()
        .map(|e| Safe(e.file.display()).to_string().chars().count())
        .max()
        .unwrap_or(0);
    for entry in entries {
        let file = entry.file.display().to_string();
        match (&entry.name, &entry.error) {
            (Some(name), _) => {
                let interfaces = if entry.interfaces.is_empty() {
                    "no interface the host can use".to_owned()
                } else {
                    entry.interfaces.join(", ")
                };
                let version = entry.version.as_deref().unwrap_or("");
                writeln!(
                    out,
                    "{:<width$}  {} {}: {interfaces}",
                    Safe(&file),
                    Safe(name),
                    Safe(version)
                )?;
            }
            (None, error) => writeln!(
                out,
                "{:<width$}  {}: {}",
                Safe(&file),
                if entry.broke {
                    "could not be loaded"
                } else {
                    "not a plugin"
                },
                Safe(error.as_deref().unwrap_or(""))
            )?,
        }
    }
    Ok(())
}
