//! The `slow-io` plugin's boundary: its description, its method table and its export. Each task
//! waits in the kernel for the given number of seconds: an I/O-bound workload for thread pools.

mod slow_io;

use quack_core::{
    BoxError, Description, Example, Hint, Methods, NoConfig, Plugin, SandboxNeeds, export_plugin,
};
use serde_json::json;
pub use slow_io::{MAX_SECONDS, SlowIo, block_for};

impl Plugin for SlowIo {
    type Config = NoConfig;

    fn describe() -> Description {
        Description::new("slow-io", env!("CARGO_PKG_VERSION"))
            .summary("Each task blocks in the kernel for the given seconds (an I/O-bound workload)")
            .hint(Hint::Io)
            .sandbox_needs(SandboxNeeds::default())
            .default_input(std::iter::repeat_n(json!(0.1), 10))
            .example(Example::returns("run", json!(0.001), json!(0.001)))
            .example(Example::returns("run", json!(0), json!(0.0)))
            .example(Example::fails("run", json!(-1), "-1 seconds is negative"))
            .example(Example::fails(
                "run",
                json!(7200),
                "longer than the limit of 3600",
            ))
            .example(Example::fails("run", json!("abc"), "expected f64"))
            .example(Example::fails("run", json!(null), "expected f64"))
    }

    fn new(_config: NoConfig) -> Result<Self, BoxError> {
        Ok(SlowIo)
    }

    fn methods(methods: &mut Methods<Self>) {
        methods.add("run", SlowIo::run);
    }
}

export_plugin!(SlowIo);

#[cfg(test)]
mod tests {
    use quack_core::testing::TestPlugin;

    use super::*;

    #[test]
    fn every_example_holds() {
        assert_eq!(TestPlugin::of::<SlowIo>().assert_examples(), 6);
    }
}
