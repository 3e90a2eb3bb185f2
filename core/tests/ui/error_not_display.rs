//! A `Result` whose error type does not implement `Display`: the error says the error must.
use quack_core::{BoxError, Description, Methods, NoConfig, Plugin};

#[derive(Debug)]
enum SquareError {
    TooLarge,
}

struct Squares;

impl Squares {
    fn run(&self, n: u64) -> Result<u64, SquareError> {
        n.checked_mul(n).ok_or(SquareError::TooLarge)
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
