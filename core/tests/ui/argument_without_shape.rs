//! A task type without `Shape`: the error asks for `#[derive(Shape)]`.
use quack_core::{BoxError, Description, Methods, NoConfig, Plugin};
use serde::Deserialize;

#[derive(Deserialize)]
struct Task {
    n: u64,
}

struct Squares;

impl Squares {
    fn run(&self, task: Task) -> u64 {
        task.n * task.n
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
