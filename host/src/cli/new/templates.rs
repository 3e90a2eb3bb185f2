//! The files `host new` writes, as templates: the Cargo.toml, the plugin's source for each kind
//! (a workload, a Splittable workload, an animal), each with its own tests through
//! `quack_core::testing`, and the README with the commands to build and run it.

use super::{Kind, library_file, library_name, type_name};

/// Every file of the new crate, by path relative to its directory.
pub(super) fn files(name: &str, kind: Kind, core_dependency: &str) -> Vec<(&'static str, String)> {
    let lib = library_name(name);
    let ty = type_name(name);
    let source = match kind {
        Kind::Workload => WORKLOAD,
        Kind::Splittable => SPLITTABLE,
        Kind::Animal => ANIMAL,
    };
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{lib}}", &lib)
            .replace("{{Type}}", &ty)
            .replace("{{library_file}}", &library_file(name))
            .replace("{{quack_core}}", core_dependency)
    };
    let mut readme = fill(README);
    readme.push_str(&fill(match kind {
        Kind::Workload => README_WORKLOAD,
        Kind::Splittable => README_SPLITTABLE,
        Kind::Animal => README_ANIMAL,
    }));
    vec![
        ("Cargo.toml", fill(CARGO_TOML)),
        ("src/lib.rs", fill(source)),
        ("README.md", readme),
        (".gitignore", "/target\n".to_owned()),
    ]
}

const CARGO_TOML: &str = r#"[package]
name = "{{name}}"
version = "0.1.0"
edition = "2024"
description = "A Quack plugin."
publish = false

[lib]
# cdylib: the shared library `host run` loads. rlib: lets `cargo test` link the plugin directly.
crate-type = ["cdylib", "rlib"]

[dependencies]
# The SDK and the stable ABI; plugins built against any quack-core with ABI 1.x load in every
# host with ABI 1.x (see `host inspect` for a plugin's ABI version). quack-core is not on
# crates.io yet: this is where `host new` found it.
{{quack_core}}
serde = { version = "1", features = ["derive"] }

# An empty workspace table: this crate is a workspace of its own, so it builds wherever it is,
# even inside another cargo workspace.
[workspace]

[profile.release]
# The host loads a plugin once and calls it in hot loops: a little more optimisation pays back.
codegen-units = 4
"#;

const WORKLOAD: &str = r#"//! `{{name}}`: a Quack workload plugin. `run(task)` sums the numbers from `task.from` to
//! `task.to`, each multiplied by the configured `scale`.
//!
//! Build it with `cargo build --release` and run it with
//! `host run target/release/{{library_file}}` (its default tasks), or give tasks:
//! `host run target/release/{{library_file}} --task '{"from": 1, "to": 100}' --set scale=2`.

use quack_core::serde_json::json;
use quack_core::{BoxError, Description, Example, Hint, Methods, Plugin, Shape, export_plugin};
use serde::{Deserialize, Serialize};

/// The configuration, from `--set scale=2` or `--config '{"scale": 2}'`. Unknown keys are
/// refused, so a mistyped `--set` is reported instead of ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// What each number is multiplied by.
    #[serde(default = "default_scale")]
    scale: u64,
}

fn default_scale() -> u64 {
    1
}

/// One task, as JSON: `{"from": 1, "to": 10}`. `Shape` names it in the method's signature.
#[derive(Deserialize, Shape)]
pub struct Task {
    from: u64,
    to: u64,
}

/// The result of one task.
#[derive(Serialize, Shape)]
pub struct Sum {
    total: u64,
    count: u64,
}

/// The plugin: one value per worker (the host makes one instance per worker), so it may keep
/// state between tasks without locks.
pub struct {{Type}} {
    scale: u64,
}

impl {{Type}} {
    /// One task. An `Err` is reported as this task's error; a panic is caught and reported too.
    fn run(&mut self, task: Task) -> Result<Sum, String> {
        if task.from > task.to {
            return Err(format!("from ({}) is after to ({})", task.from, task.to));
        }
        let mut total: u64 = 0;
        for n in task.from..=task.to {
            total = n
                .checked_mul(self.scale)
                .and_then(|scaled| total.checked_add(scaled))
                .ok_or_else(|| format!("the sum up to {n} does not fit in 64 bits"))?;
        }
        Ok(Sum {
            total,
            count: task.to - task.from + 1,
        })
    }
}

impl Plugin for {{Type}} {
    type Config = Config;

    fn describe() -> Description {
        Description::new("{{name}}", env!("CARGO_PKG_VERSION"))
            .summary("Sums ranges of numbers, scaled")
            .hint(Hint::Cpu)
            .default_input([json!({"from": 1, "to": 10}), json!({"from": 1, "to": 1000})])
            .example(Example::returns(
                "run",
                json!({"from": 1, "to": 4}),
                json!({"total": 10, "count": 4}),
            ))
            .example(
                Example::returns(
                    "run",
                    json!({"from": 1, "to": 4}),
                    json!({"total": 30, "count": 4}),
                )
                .with_config(json!({"scale": 3})),
            )
            .example(Example::fails("run", json!({"from": 5, "to": 1}), "is after"))
    }

    fn new(config: Config) -> Result<Self, BoxError> {
        Ok({{Type}} {
            scale: config.scale,
        })
    }

    fn methods(methods: &mut Methods<Self>) {
        methods.add("run", {{Type}}::run);
    }
}

export_plugin!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;
    use quack_core::testing::TestPlugin;

    #[test]
    fn the_examples_hold() {
        assert_eq!(TestPlugin::of::<{{Type}}>().assert_examples(), 3);
    }

    #[test]
    fn a_task_that_overflows_is_an_error_not_a_crash() {
        let plugin = TestPlugin::of::<{{Type}}>();
        let mut instance = plugin.instance(json!({"scale": u64::MAX})).expect("a valid config");
        let error = instance
            .call("run", json!({"from": 1, "to": 3}))
            .expect_err("the sum overflows");
        assert!(error.to_string().contains("does not fit"), "{error}");
    }
}
"#;

const SPLITTABLE: &str = r#"//! `{{name}}`: a Quack workload plugin the host may split. `run(task)` counts the primes from
//! `task.from` to `task.to`; `split` cuts a range into parts and `merge` adds up their counts, so
//! one large range keeps every worker busy.
//!
//! Build it with `cargo build --release` and run it with
//! `host run target/release/{{library_file}} --task '{"from": 1, "to": 5000000}'`; `--set parts=4`
//! cuts each task into 4 parts.

use quack_core::serde_json::json;
use quack_core::{BoxError, Description, Example, Hint, Methods, Plugin, Shape, export_plugin};
use serde::{Deserialize, Serialize};

/// The configuration, from `--set parts=4` or `--config '{"parts": 4}'`. Unknown keys are
/// refused, so a mistyped `--set` is reported instead of ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How many parts `split` cuts a task into, at most.
    #[serde(default = "default_parts")]
    parts: u64,
}

fn default_parts() -> u64 {
    16
}

/// One task, as JSON: `{"from": 1, "to": 100000}`. `split` returns tasks too, so it is
/// `Serialize` as well as `Deserialize`.
#[derive(Serialize, Deserialize, Shape, Clone, Copy)]
pub struct Task {
    from: u64,
    to: u64,
}

/// The result of one task, or of one part; `merge` takes the parts' results, so it is
/// `Deserialize` as well as `Serialize`.
#[derive(Serialize, Deserialize, Shape)]
pub struct Count {
    primes: u64,
}

/// The plugin: one value per worker, and one more for `split` and `merge`.
pub struct {{Type}} {
    parts: u64,
}

impl {{Type}} {
    /// One task, or one part of a task. An `Err` is reported as this task's error.
    fn run(&mut self, task: Task) -> Result<Count, String> {
        if task.from > task.to {
            return Err(format!("from ({}) is after to ({})", task.from, task.to));
        }
        let primes = (task.from..=task.to).filter(|&n| is_prime(n)).count() as u64;
        Ok(Count { primes })
    }

    /// Cuts a task into at most `parts` ranges of about the same length, in order, that cover
    /// it exactly. The host calls it when there are too few tasks to keep the workers busy; a
    /// task returned whole (one part) runs whole.
    fn split(&self, task: Task) -> Vec<Task> {
        if task.from > task.to {
            // `run` reports the error.
            return vec![task];
        }
        let size = (task.to - task.from) / self.parts.max(1) + 1;
        let mut parts = Vec::new();
        let mut from = task.from;
        loop {
            let to = from.saturating_add(size - 1).min(task.to);
            parts.push(Task { from, to });
            if to == task.to {
                return parts;
            }
            from = to + 1;
        }
    }

    /// Puts the parts' results back together: the host reports this as the task's result.
    fn merge(&self, counts: Vec<Count>) -> Count {
        Count {
            primes: counts.iter().map(|count| count.primes).sum(),
        }
    }
}

fn is_prime(n: u64) -> bool {
    n >= 2 && (2..).take_while(|&d| d <= n / d).all(|d| n % d != 0)
}

impl Plugin for {{Type}} {
    type Config = Config;

    fn describe() -> Description {
        Description::new("{{name}}", env!("CARGO_PKG_VERSION"))
            .summary("Counts the primes in ranges of numbers, split across workers")
            .hint(Hint::Cpu)
            .default_input([json!({"from": 1, "to": 10}), json!({"from": 1, "to": 1000000})])
            .example(Example::returns(
                "run",
                json!({"from": 1, "to": 10}),
                json!({"primes": 4}),
            ))
            .example(Example::fails("run", json!({"from": 9, "to": 1}), "is after"))
            .example(
                Example::returns(
                    "split",
                    json!({"from": 1, "to": 10}),
                    json!([{"from": 1, "to": 5}, {"from": 6, "to": 10}]),
                )
                .with_config(json!({"parts": 2})),
            )
            .example(Example::returns(
                "merge",
                json!([{"primes": 3}, {"primes": 1}]),
                json!({"primes": 4}),
            ))
    }

    fn new(config: Config) -> Result<Self, BoxError> {
        Ok({{Type}} {
            parts: config.parts,
        })
    }

    fn methods(methods: &mut Methods<Self>) {
        methods
            .add("run", {{Type}}::run)
            .add("split", {{Type}}::split)
            .add("merge", {{Type}}::merge);
    }
}

export_plugin!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;
    use quack_core::testing::TestPlugin;

    #[test]
    fn the_examples_hold() {
        assert_eq!(TestPlugin::of::<{{Type}}>().assert_examples(), 4);
    }

    #[test]
    fn a_task_split_into_parts_counts_what_the_whole_task_counts() {
        let plugin = TestPlugin::of::<{{Type}}>();
        let task = json!({"from": 1, "to": 10000});
        // What the host does: split, run each part, merge.
        let split = plugin
            .split_run_merge(json!({"parts": 7}), task.clone())
            .expect("the parts run and merge");
        assert_eq!(split.parts.len(), 7);
        let mut whole = plugin.instance(json!({})).expect("a valid config");
        assert_eq!(split.output, whole.call("run", task).expect("the whole task runs"));
        assert_eq!(split.output, json!({"primes": 1229}));
    }

    #[test]
    fn the_parts_cover_the_task_exactly_even_at_the_edges() {
        let plugin = TestPlugin::of::<{{Type}}>();
        let mut instance = plugin.instance(json!({"parts": 3})).expect("a valid config");
        let parts = instance
            .call("split", json!({"from": 0, "to": u64::MAX}))
            .expect("split answers");
        let parts = parts.as_array().expect("a list of parts");
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0]["from"], json!(0));
        assert_eq!(parts[2]["to"], json!(u64::MAX));
        for pair in parts.windows(2) {
            let end = pair[0]["to"].as_u64().expect("a number");
            assert_eq!(pair[1]["from"], json!(end + 1));
        }
    }
}
"#;

const ANIMAL: &str = r#"//! `{{name}}`: a Quack animal plugin. It has `name()` and `sound()`, so the host makes it speak:
//! `host run target/release/{{library_file}}`, or `--set name=Polly` for another name.

use quack_core::serde_json::json;
use quack_core::{BoxError, Description, Example, Methods, Plugin, export_plugin};
use serde::Deserialize;

/// The configuration, from `--set name=Polly`. Unknown keys are refused, so a mistyped `--set` is
/// reported instead of ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// What the animal is called.
    #[serde(default = "default_name")]
    name: String,
}

fn default_name() -> String {
    "{{Type}}".to_owned()
}

/// The plugin: one value per worker.
pub struct {{Type}} {
    name: String,
}

impl {{Type}} {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn sound(&self) -> String {
        "Hello!".to_owned()
    }
}

impl Plugin for {{Type}} {
    type Config = Config;

    fn describe() -> Description {
        Description::new("{{name}}", env!("CARGO_PKG_VERSION"))
            .summary("An animal that says hello")
            .example(Example::returns("sound", json!(null), json!("Hello!")))
            .example(
                Example::returns("name", json!(null), json!("Polly"))
                    .with_config(json!({"name": "Polly"})),
            )
    }

    fn new(config: Config) -> Result<Self, BoxError> {
        Ok({{Type}} { name: config.name })
    }

    fn methods(methods: &mut Methods<Self>) {
        methods
            .add("name", {{Type}}::name)
            .add("sound", {{Type}}::sound);
    }
}

export_plugin!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;
    use quack_core::testing::TestPlugin;

    #[test]
    fn the_examples_hold() {
        assert_eq!(TestPlugin::of::<{{Type}}>().assert_examples(), 2);
    }

    #[test]
    fn its_name_comes_from_the_default_config() {
        let plugin = TestPlugin::of::<{{Type}}>();
        let mut animal = plugin.instance(json!({})).expect("an empty config is valid");
        assert_eq!(animal.call("name", json!(null)).expect("name answers"), json!("{{Type}}"));
    }
}
"#;

const README: &str = r#"# {{name}}

A [Quack](https://example.invalid/quack) plugin, made with `host new`.

```sh
cargo test                                   # the examples and the tests, in-process
cargo build --release                        # builds target/release/{{library_file}}
host run target/release/{{library_file}}     # loads it in the host and runs it
```

(`host` is the Quack host; give its full path if it is not on your `PATH`.) `host inspect
target/release/{{library_file}}` shows the plugin's methods, their signatures and the interfaces
they satisfy. The guide for plugin authors is `docs/writing-plugins.md` in the Quack repository.
"#;

const README_WORKLOAD: &str = r#"
Give it tasks of your own, and a configuration:

```sh
host run target/release/{{library_file}} --task '{"from": 1, "to": 100}' --set scale=2
```
"#;

const README_SPLITTABLE: &str = r#"
Give it one large task: the host cuts it into parts with `split`, runs them on its workers and
reports the one result `merge` puts together (`host inspect` says it is Splittable):

```sh
host run target/release/{{library_file}} --task '{"from": 1, "to": 5000000}' --set parts=8
```
"#;

const README_ANIMAL: &str = r#"
Give it another name:

```sh
host run target/release/{{library_file}} --set name=Polly
```
"#;
