//! `host inspect`: what a plugin says about itself and what it can do: its methods with their
//! signatures, each interface it satisfies, and for each one it does not, what is missing. In the
//! text for people, what the plugin says is escaped (`crate::safe`); `--json` is exact.

use std::{
    io::{self, Write},
    path::PathBuf,
    time::Duration,
};

use clap::Args;
use quack_core::Description;
use serde::Serialize;
use serde_json::Value;

use super::{Outcome, duration::parse_duration, probe, stdio};
use crate::{
    cli::error::HostError,
    interfaces::{self, InterfaceCheck, Signature},
    plugin::PluginInfo,
    report::human::{compact, display},
    safe::Safe,
};

const INSPECT_EXAMPLES: &str = "\
Examples:
  host inspect plugins/libfactorize.so
  host inspect plugins/librobot.so --json";

/// Show a plugin's description, methods and interfaces.
#[derive(Debug, Args)]
#[command(after_help = INSPECT_EXAMPLES)]
pub struct InspectArgs {
    /// The plugin library, e.g. plugins/libduck.so
    plugin: PathBuf,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,

    /// How long loading the plugin may take (it is loaded in a child process, stopped after
    /// this).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    timeout: Duration,
}

/// `inspect --json`.
#[derive(Debug, Serialize)]
struct Inspection<'a> {
    file: &'a PathBuf,
    abi_version: &'a str,
    #[serde(flatten)]
    description: &'a Description,
    methods: &'a [Signature],
    interfaces: Vec<InterfaceView>,
}

#[derive(Debug, Serialize)]
struct InterfaceView {
    name: &'static str,
    satisfied: bool,
    missing: Vec<String>,
}

impl From<InterfaceCheck> for InterfaceView {
    fn from(check: InterfaceCheck) -> Self {
        InterfaceView {
            name: check.interface.name(),
            satisfied: check.satisfied(),
            missing: check.missing,
        }
    }
}

impl InspectArgs {
    pub(super) fn exec(self) -> Result<Outcome, HostError> {
        let plugin = probe::probe(&self.plugin, self.timeout)?;
        let checks = interfaces::check(&plugin.methods);
        let mut out = io::stdout().lock();
        let written = if self.json {
            let inspection = Inspection {
                file: &plugin.path,
                abi_version: &plugin.abi_version,
                description: &plugin.description,
                methods: &plugin.methods,
                interfaces: checks.into_iter().map(InterfaceView::from).collect(),
            };
            serde_json::to_writer_pretty(&mut out, &inspection)
                .map_err(io::Error::from)
                .and_then(|()| writeln!(out))
        } else {
            write_text(&mut out, &plugin, &checks)
        };
        stdio::ignore_closed(written.and_then(|()| out.flush())).map_err(HostError::Output)?;
        Ok(Outcome::Success)
    }
}

fn write_text(
    out: &mut impl Write,
    plugin: &PluginInfo,
    checks: &[InterfaceCheck],
) -> io::Result<()> {
    let description = &plugin.description;
    writeln!(
        out,
        "{} {}",
        Safe(&description.name),
        Safe(&description.version)
    )?;
    if !description.summary.is_empty() {
        writeln!(out, "  {}", Safe(&description.summary))?;
    }
    writeln!(out, "file:          {}", Safe(plugin.path.display()))?;
    writeln!(out, "ABI version:   {}", Safe(&plugin.abi_version))?;
    let hint = description.hint.map_or("none".to_owned(), |hint| {
        display(&serde_json::to_value(hint).unwrap_or(Value::Null))
    });
    writeln!(out, "hint:          {hint}")?;
    if description.isolate {
        writeln!(out, "isolation:     asks to run in worker processes")?;
    }
    if let Some(runtime) = &description.runtime {
        writeln!(
            out,
            "runtime:       {} (started by loading the plugin: worker processes of its own, unless --mode says otherwise)",
            Safe(runtime)
        )?;
    }
    if let Some(needs) = &description.sandbox {
        let phrases: Vec<String> = crate::sandbox::declared_needs(needs)
            .into_iter()
            .map(|(phrase, flag)| format!("{phrase} ({flag})"))
            .collect();
        let said = if phrases.is_empty() {
            "needs nothing beyond its own file (runs under --sandbox as it is)".to_owned()
        } else {
            format!(
                "needs: {} (the plugin's word; granted only by the flags)",
                phrases.join(", ")
            )
        };
        writeln!(out, "sandbox:       {said}")?;
    }
    let tasks = &description.default_input;
    let shown: Vec<String> = tasks.iter().map(display).collect();
    writeln!(
        out,
        "default input: {} tasks{}",
        tasks.len(),
        if tasks.is_empty() {
            String::new()
        } else {
            format!(": {}", Safe(shown.join(", ")))
        }
    )?;
    writeln!(out, "methods:")?;
    for method in &plugin.methods {
        writeln!(out, "  {}", Safe(method))?;
    }
    writeln!(out, "interfaces:")?;
    for check in checks {
        if check.satisfied() {
            writeln!(out, "  {:<11} yes", check.interface.name())?;
        } else {
            writeln!(
                out,
                "  {:<11} no, missing {}",
                check.interface.name(),
                Safe(check.missing.join(", "))
            )?;
        }
    }
    if !description.examples.is_empty() {
        writeln!(out, "examples:")?;
        for example in &description.examples {
            let config = if example
                .config
                .as_object()
                .is_some_and(|map| !map.is_empty())
            {
                format!(" with config {}", display(&example.config))
            } else {
                String::new()
            };
            let expected = match &example.expected {
                Ok(value) => display(value),
                Err(fragment) => format!("error containing \"{fragment}\""),
            };
            let takes_nothing = plugin
                .method(&example.method)
                .is_some_and(|method| method.params.is_empty());
            let input = if takes_nothing {
                String::new()
            } else {
                compact(&example.input)
            };
            let line = format!("{}({input}){config} -> {expected}", example.method);
            writeln!(out, "  {}", Safe(line))?;
        }
    }
    Ok(())
}
