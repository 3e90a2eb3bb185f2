//! A result with a `Shape` that does not serialize: the error names `Serialize`.
use quack_core::{BoxError, Description, Methods, NoConfig, Plugin, Shape};

#[derive(Shape)]
struct Square {
    n: u64,
}

struct Squares;

impl Squares {
    fn run(&self, n: u64) -> Square {
        Square { n: n * n }
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
