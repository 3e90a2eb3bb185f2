//! Arrays as arguments and results: `[u64; 2]` has a `Shape` (a list of exactly two), so a method
//! may take and return one, and a Splittable plugin may speak in them.
use quack_core::testing::TestPlugin;
use quack_core::{BoxError, Description, Methods, NoConfig, Plugin};
use serde_json::json;

/// Sums the numbers of `[from, to]`.
struct Ranges;

impl Ranges {
    fn run(&self, [from, to]: [u64; 2]) -> [u64; 2] {
        [(from..=to).sum(), to + 1 - from]
    }
    fn split(&self, [from, to]: [u64; 2]) -> Vec<[u64; 2]> {
        let middle = from + (to - from) / 2;
        vec![[from, middle], [middle + 1, to]]
    }
    fn merge(&self, parts: Vec<[u64; 2]>) -> [u64; 2] {
        parts
            .iter()
            .fold([0, 0], |[sum, count], [s, c]| [sum + s, count + c])
    }
}

impl Plugin for Ranges {
    type Config = NoConfig;
    fn describe() -> Description {
        Description::new("ranges", "1.0.0")
    }
    fn new(_config: NoConfig) -> Result<Self, BoxError> {
        Ok(Ranges)
    }
    fn methods(methods: &mut Methods<Self>) {
        methods
            .add("run", Ranges::run)
            .add("split", Ranges::split)
            .add("merge", Ranges::merge);
    }
}

fn main() {
    let plugin = TestPlugin::of::<Ranges>();
    let methods = plugin.methods().expect("methods");
    let run = methods.iter().find(|m| m.name == "run").expect("run");
    assert_eq!(run.params[0].as_str(), "[u64; 2]");
    assert_eq!(run.result.as_str(), "[u64; 2]");
    let split = plugin
        .split_run_merge(json!({}), json!([1, 10]))
        .expect("Splittable in arrays");
    assert_eq!(split.output, json!([55, 10]));
    let mut ranges = plugin.instance(json!({})).expect("an instance");
    let error = ranges
        .call("run", json!([1, 2, 3]))
        .expect_err("three numbers are not a [u64; 2]");
    assert!(error.to_string().contains("expected [u64; 2]"), "{error}");
}
