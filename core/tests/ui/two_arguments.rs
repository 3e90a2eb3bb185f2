//! Two arguments after `self`: the error says a method takes at most one, and to use a struct.
use quack_core::{BoxError, Description, Methods, NoConfig, Plugin};

struct Adder;

impl Adder {
    fn run(&self, a: u64, b: u64) -> u64 {
        a + b
    }
}

impl Plugin for Adder {
    type Config = NoConfig;
    fn describe() -> Description {
        Description::new("adder", "1.0.0")
    }
    fn new(_config: NoConfig) -> Result<Self, BoxError> {
        Ok(Adder)
    }
    fn methods(methods: &mut Methods<Self>) {
        methods.add("run", Adder::run);
    }
}

fn main() {}
