//! An associated function without `self`: the error says a method takes `&self` or `&mut self`.
use quack_core::{BoxError, Description, Methods, NoConfig, Plugin};

struct Squares;

impl Squares {
    fn run(n: u64) -> u64 {
        n * n
    }
}

impl Plugin for Squares {
    type Config = NoConfig;
    fn describe() -> Description {
        Description::new("squares", "1.0.0")
    }
    fn new(_config: NoConfig) -> Result<Self, BoxError> {
        Ok(Squares)
    }
    fn methods(methods: &mut Methods<Self>) {
        methods.add("run", Squares::run);
    }
}

fn main() {}
