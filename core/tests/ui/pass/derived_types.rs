//! What the errors ask for, done: derived `Shape` on a struct task, an enum result, a `Result`
//! with a `String` error, `&mut self`, a method without argument and a `(task, [result])` merge.
use quack_core::{BoxError, Description, Methods, NoConfig, Plugin, Shape};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Shape)]
struct Task {
    n: u64,
}

#[derive(Serialize, Deserialize, Shape)]
enum Parity {
    Even,
    Odd,
}

#[derive(Serialize, Deserialize, Shape)]
#[shape(name = "Page")]
struct Paged<T> {
    items: Vec<T>,
}

struct Checker {
    calls: u64,
}

impl Checker {
    fn run(&mut self, task: Task) -> Result<Parity, String> {
        self.calls += 1;
        match task.n {
            0 => Err("zero has no parity here".to_owned()),
            n if n % 2 == 0 => Ok(Parity::Even),
            _ => Ok(Parity::Odd),
        }
    }
    fn calls(&self) -> u64 {
        self.calls
    }
    fn merge(&self, (_task, parts): (Task, Vec<Parity>)) -> Parity {
        parts.into_iter().next().unwrap_or(Parity::Even)
    }
    fn page(&self, page: Paged<u64>) -> Paged<u64> {
        page
    }
}

impl Plugin for Checker {
    type Config = NoConfig;
    fn describe() -> Description {
        Description::new("checker", "1.0.0")
    }
    fn new(_config: NoConfig) -> Result<Self, BoxError> {
        Ok(Checker { calls: 0 })
    }
    fn methods(methods: &mut Methods<Self>) {
        methods
            .add("run", Checker::run)
            .add("calls", Checker::calls)
            .add("merge", Checker::merge)
            .add("page", Checker::page);
    }
}

fn main() {
    assert_eq!(<Paged<u64> as Shape>::shape(), "Page<u64>");
    let plugin = quack_core::testing::TestPlugin::of::<Checker>();
    let methods = plugin.methods().expect("methods");
    let merge = methods.iter().find(|m| m.name == "merge").expect("merge");
    assert_eq!(merge.params[0].as_str(), "(Task, [Parity])");
}
