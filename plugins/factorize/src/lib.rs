//! The `factorize` plugin's boundary: its description with the seed's numbers as examples, its
//! method table (`run`, and `split` and `merge` so the runner can cut one number across workers)
//! and its export.

mod factorize;
mod task;

pub use factorize::{Config, Factorizer, Method, NAIVE_LIMIT, PART_SIZE};
use quack_core::{BoxError, Description, Example, Hint, Methods, Plugin, export_plugin};
use serde_json::json;
pub use task::Task;

/// The seed's four numbers and their exact outputs (see docs/peers.md).
fn seed() -> [(u64, serde_json::Value); 4] {
    [
        (53541233, json!([1, 5501, 9733, 53541233])),
        (21235343, json!([1, 21235343])),
        (
            11421443,
            json!([1, 11, 383, 2711, 4213, 29821, 1038313, 11421443]),
        ),
        (5423123, json!([1, 5423123])),
    ]
}

fn examples() -> Vec<Example> {
    let sqrt = json!({"method": "sqrt"});
    let mut examples = Vec::new();
    for (n, divisors) in seed() {
        examples.push(Example::returns("run", json!(n), divisors.clone()));
        examples.push(Example::returns("run", json!(n), divisors).with_config(sqrt.clone()));
    }
    let part = json!({"n": 53541233, "from": 1, "to": 10000});
    let big = 10_000_000_019_u64;
    examples.extend([
        Example::returns("run", json!(12), json!([1, 2, 3, 4, 6, 12])),
        Example::returns("run", part, json!([1, 5501, 9733])),
        Example::fails("run", json!(big), "too large for the naive method"),
        Example::returns("run", json!(big), json!([1, big])).with_config(sqrt.clone()),
        Example::fails("run", json!(0), "the number is 0"),
        Example::fails("run", json!(-5), "the number is -5, which is negative"),
        Example::fails(
            "run",
            json!(1.5),
            "the number is 1.5, which is not a whole number",
        ),
        Example::fails("run", json!("abc"), "which is not a number"),
        Example::fails("run", json!(null), "the number is missing"),
        Example::fails("run", json!(true), "a boolean, not a number"),
        Example::fails("run", json!(1e20), "beyond the largest supported number"),
        Example::fails("run", json!(12), "unknown variant").with_config(json!({"method": "x"})),
        Example::returns("split", json!(12), json!([12])),
        Example::returns(
            "split",
            json!(2_000_000),
            json!([{"n": 2_000_000, "from": 1, "to": 1_000_000},
                   {"n": 2_000_000, "from": 1_000_001, "to": 2_000_000}]),
        ),
        Example::returns("split", json!(53541233), json!([53541233])).with_config(sqrt),
        Example::returns("merge", json!([[1, 2, 4], [4, 8]]), json!([1, 2, 4, 8])),
    ]);
    examples
}

impl Plugin for Factorizer {
    type Config = Config;

    fn describe() -> Description {
        let mut description = Description::new("factorize", env!("CARGO_PKG_VERSION"))
            .summary(
                "Lists every divisor of n by trying each i in 1..=n (a CPU workload); \
                 --set method=sqrt does it in O(sqrt n)",
            )
            .hint(Hint::Cpu)
            .default_input(seed().map(|(n, _)| json!(n)));
        description.examples = examples();
        description
    }

    fn new(config: Config) -> Result<Self, BoxError> {
        Ok(Factorizer::new(config))
    }

    fn methods(methods: &mut Methods<Self>) {
        methods
            .add("run", Factorizer::run)
            .add("split", Factorizer::split)
            .add("merge", Factorizer::merge);
    }
}

export_plugin!(Factorizer);

#[cfg(test)]
mod tests {
    use quack_core::{Shape, testing::TestPlugin};

    use super::*;

    #[test]
    fn every_example_holds() {
        assert_eq!(TestPlugin::of::<Factorizer>().assert_examples(), 24);
    }

    #[test]
    fn split_and_merge_line_up_with_run() {
        let methods = TestPlugin::of::<Factorizer>().methods().unwrap();
        let sig = |name: &str| {
            let sig = methods.iter().find(|sig| sig.name == name).unwrap();
            let params: Vec<String> = sig.params.iter().map(|p| p.to_string()).collect();
            (params, sig.result.to_string())
        };
        let (run_params, run_result) = sig("run");
        assert_eq!(
            (run_params.clone(), run_result.as_str()),
            (vec![Task::shape()], "[u64]")
        );
        assert_eq!(
            sig("split"),
            (run_params.clone(), format!("[{}]", run_params[0]))
        );
        assert_eq!(sig("merge"), (vec![format!("[{run_result}]")], run_result));
    }
}
