//! Compat fixture: a Workload plugin built with the SDK of a quack-core whose crate version (0.9.0)
//! is far ahead of the host's. `run({n, times}) -> u64` multiplies.

use quack_core::{BoxError, Description, Methods, NoConfig, Plugin, Shape, export_plugin};
use serde::Deserialize;
use serde_json::json;

/// One task: a number and what to multiply it by.
#[derive(Deserialize, Shape)]
pub struct Task {
    n: u64,
    times: u64,
}

/// Multiplies.
pub struct Multiplier;

impl Multiplier {
    fn run(&self, task: Task) -> Result<u64, String> {
        task.n
            .checked_mul(task.times)
            .ok_or_else(|| format!("{} times {} does not fit in 64 bits", task.n, task.times))
    }
}

impl Plugin for Multiplier {
    type Config = NoConfig;

    fn describe() -> Description {
        Description::new("new-multiplier", env!("CARGO_PKG_VERSION"))
            .summary("Built with quack-core 0.9.0")
            .default_input([json!({"n": 6, "times": 7})])
    }

    fn new(_config: NoConfig) -> Result<Self, BoxError> {
        Ok(Multiplier)
    }

    fn methods(methods: &mut Methods<Self>) {
        methods.add("run", Multiplier::run);
    }
}

export_plugin!(Multiplier);
