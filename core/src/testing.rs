//! [`TestPlugin`]: a plugin loaded in-process, without a build step or `dlopen`, for the plugin's
//! own unit tests. Every call goes through the same `extern "C"` functions the host uses, and
//! [`TestPlugin::split_run_merge`] does with one task what the host does with a Splittable
//! plugin's task: split it, run each part, merge the parts' results.

use std::fmt;

use abi_stable::std_types::{RResult, RStr};
use serde_json::Value;

use crate::{
    Description, ErrorKind,
    abi::{InstanceBox, MethodSig, PluginError, PluginModRef},
    sdk::{Plugin, root_module},
};

/// A plugin's root module, obtained directly from its type.
pub struct TestPlugin {
    module: PluginModRef,
    /// The Rust name of the plugin's type, for `Debug`.
    type_name: &'static str,
}

/// One instance of a [`TestPlugin`], made with a configuration.
pub struct TestInstance {
    instance: InstanceBox,
    type_name: &'static str,
    config: Value,
}

/// What [`TestPlugin::split_run_merge`] did with one task.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitRun {
    /// The parts `split` made, in its order; empty when the task ran whole.
    pub parts: Vec<Value>,
    /// Each part's result, in the order of the parts.
    pub results: Vec<Value>,
    /// The task's result as the host reports it: `merge`'s answer, or `run`'s on the whole task
    /// when it was not split.
    pub output: Value,
    /// Why the task ran whole, when it did: what `split` returned instead of two parts or more,
    /// or its error (the host then runs the task whole, as here).
    pub unsplit: Option<String>,
}

/// The two forms of `merge` for `run(T) -> R`, as the host tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MergeForm {
    /// `merge([R]) -> R`.
    Results,
    /// `merge((T, [R])) -> R`.
    TaskAndResults,
}

impl TestPlugin {
    /// Loads plugin type `P` in-process.
    pub fn of<P: Plugin>() -> Self {
        TestPlugin {
            module: root_module::<P>(),
            type_name: std::any::type_name::<P>(),
        }
    }

    /// The plugin's description, as the host reads it.
    pub fn describe(&self) -> Result<Description, PluginError> {
        let json = into_result((self.module.describe())())?;
        serde_json::from_str(&json).map_err(|error| {
            PluginError::new(ErrorKind::Failed, format!("bad description: {error}"))
        })
    }

    /// The plugin's method table.
    pub fn methods(&self) -> Result<Vec<MethodSig>, PluginError> {
        into_result((self.module.methods())()).map(|methods| methods.into_vec())
    }

    /// A new instance configured with `config` (a JSON object).
    pub fn instance(&self, config: Value) -> Result<TestInstance, PluginError> {
        let text = config.to_string();
        let instance = into_result((self.module.new())(RStr::from(text.as_str())))?;
        Ok(TestInstance {
            instance,
            type_name: self.type_name,
            config,
        })
    }

    /// Does with `task` what the host does with a task of a Splittable plugin that it splits, on
    /// instances configured with `config`: `split` on an instance of its own; when it returns
    /// two parts or more, `run` on each part (on a second instance, as a worker would), then
    /// `merge` on the first instance, with the parts' results in the order of the parts (and the
    /// task, for `merge((T, [R]))`). When `split` returns one part, something that is not a list,
    /// or an error, the task runs whole, as in the host, and [`SplitRun::unsplit`] says why.
    ///
    /// The errors are the host's, word for word (their `to_string()` is the task's error in the
    /// host's report): a part's failure is "part 2 of 3: ..." with the part's error, a failed
    /// merge is "merge failed: ...", a configuration the plugin refuses is its error. A plugin
    /// whose signatures are not Splittable (the host would never split it) is an error naming
    /// what it lacks.
    pub fn split_run_merge(&self, config: Value, task: Value) -> Result<SplitRun, PluginError> {
        let form = merge_form(&self.methods()?)?;
        let mut splitter = self.instance(config.clone())?;
        let mut worker = self.instance(config)?;
        let parts = match splitter.call("split", task.clone()) {
            Ok(Value::Array(parts)) if parts.len() > 1 => parts,
            returned => {
                let unsplit = match returned {
                    Ok(Value::Array(parts)) => format!("split returned {} part", parts.len()),
                    Ok(other) => format!("split returned {other}, not a list of parts"),
                    Err(error) => format!("split failed: {error}"),
                };
                return Ok(SplitRun {
                    parts: Vec::new(),
                    results: Vec::new(),
                    output: worker.call("run", task)?,
                    unsplit: Some(unsplit),
                });
            }
        };
        let of = parts.len();
        let mut results = Vec::with_capacity(of);
        for (index, part) in parts.iter().enumerate() {
            let result = worker.call("run", part.clone()).map_err(|error| {
                PluginError::new(
                    ErrorKind::Failed,
                    format!("part {} of {of}: {error}", index + 1),
                )
            })?;
            results.push(result);
        }
        let argument = match form {
            MergeForm::Results => Value::Array(results.clone()),
            MergeForm::TaskAndResults => Value::Array(vec![task, Value::Array(results.clone())]),
        };
        let output = splitter.call("merge", argument).map_err(|error| {
            PluginError::new(ErrorKind::Failed, format!("merge failed: {error}"))
        })?;
        Ok(SplitRun {
            parts,
            results,
            output,
            unsplit: None,
        })
    }

    /// Runs every example of the plugin's description and panics with a list of those that did
    /// not give their expected result. Returns how many examples ran.
    #[track_caller]
    pub fn assert_examples(&self) -> usize {
        let description = match self.describe() {
            Ok(description) => description,
            Err(error) => panic!("describe failed: {error}"),
        };
        let mut failures = Vec::new();
        for example in &description.examples {
            let outcome = self
                .instance(example.config.clone())
                .and_then(|mut instance| instance.call(&example.method, example.input.clone()));
            let label = format!(
                "{}({}) with config {}",
                example.method, example.input, example.config
            );
            match (&example.expected, outcome) {
                (Ok(expected), Ok(actual)) if *expected == actual => {}
                (Err(fragment), Err(error)) if error.to_string().contains(fragment.as_str()) => {}
                (expected, actual) => {
                    failures.push(format!("{label}: expected {expected:?}, got {actual:?}"));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} examples of `{}` failed:\n{}",
            failures.len(),
            description.examples.len(),
            description.name,
            failures.join("\n")
        );
        description.examples.len()
    }
}

impl fmt::Debug for TestPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestPlugin")
            .field("plugin", &self.type_name)
            .finish_non_exhaustive()
    }
}

impl TestInstance {
    /// Calls `method` with `input` and parses the result.
    pub fn call(&mut self, method: &str, input: Value) -> Result<Value, PluginError> {
        let input = input.to_string();
        let output = into_result(self.instance.call(method.into(), input.as_str().into()))?;
        serde_json::from_str(&output).map_err(|error| {
            PluginError::new(ErrorKind::Failed, format!("bad result JSON: {error}"))
        })
    }
}

impl fmt::Debug for TestInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestInstance")
            .field("plugin", &self.type_name)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The form of the plugin's `merge`, by the host's rule for `run(T) -> R`: `split(T) -> [T]`, and
/// `merge([R]) -> R` or `merge((T, [R])) -> R`. When the plugin is not Splittable, an error that
/// names each method it lacks, as `host inspect` does.
fn merge_form(methods: &[MethodSig]) -> Result<MergeForm, PluginError> {
    let find = |name: &str| methods.iter().find(|method| method.name == name);
    let signature = |method: &MethodSig| {
        let params: Vec<&str> = method.params.iter().map(|param| param.as_str()).collect();
        format!(
            "{}({}) -> {}",
            method.name,
            params.join(", "),
            method.result
        )
    };
    let params_are = |method: &MethodSig, wanted: &str| {
        method.params.len() == 1 && method.params[0].as_str() == wanted
    };
    let (task, result) = match find("run") {
        Some(run) if run.params.len() == 1 => (run.params[0].to_string(), run.result.to_string()),
        _ => {
            return Err(not_splittable(&[
                "`run(task) -> result`".to_owned(),
                "`split(task) -> [task]`".to_owned(),
            ]));
        }
    };
    let mut missing = Vec::new();
    let wanted_split = format!("split({task}) -> [{task}]");
    match find("split") {
        Some(split) if params_are(split, &task) && split.result.as_str() == format!("[{task}]") => {
        }
        Some(split) => missing.push(format!("`{wanted_split}` (it has `{}`)", signature(split))),
        None => missing.push(format!("`{wanted_split}`")),
    }
    let wanted_merge =
        format!("merge([{result}]) -> {result}` or `merge(({task}, [{result}])) -> {result}");
    let form = match find("merge") {
        Some(merge) if merge.result.as_str() == result => {
            if params_are(merge, &format!("[{result}]")) {
                Some(MergeForm::Results)
            } else if params_are(merge, &format!("({task}, [{result}])")) {
                Some(MergeForm::TaskAndResults)
            } else {
                None
            }
        }
        _ => None,
    };
    match (form, find("merge")) {
        (Some(_), _) => {}
        (None, Some(merge)) => {
            missing.push(format!("`{wanted_merge}` (it has `{}`)", signature(merge)))
        }
        (None, None) => missing.push(format!("`{wanted_merge}`")),
    }
    match form {
        Some(form) if missing.is_empty() => Ok(form),
        _ => Err(not_splittable(&missing)),
    }
}

/// The error of a plugin the host would never split, naming what it lacks.
fn not_splittable(missing: &[String]) -> PluginError {
    PluginError::new(
        ErrorKind::Failed,
        format!(
            "the plugin is not Splittable, so the host runs its tasks whole (missing {})",
            missing.join(", ")
        ),
    )
}

fn into_result<T>(result: RResult<T, PluginError>) -> Result<T, PluginError> {
    result.into_result()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: unwrap is how a test says "this must work".

    use serde::{Deserialize, Serialize};
    use serde_json::json;

    use super::*;
    use crate::{BoxError, Methods, Shape};

    /// Sums `from..=to`; splits a range into `parts` pieces; `fail_part` makes that part fail.
    #[derive(Serialize, Deserialize, Shape, Clone)]
    struct Range {
        from: u64,
        to: u64,
        #[serde(default)]
        parts: u64,
        #[serde(default)]
        fail_part: Option<u64>,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct Config {
        #[serde(default)]
        broken_merge: bool,
    }

    struct Summer {
        broken_merge: bool,
    }

    impl Summer {
        fn run(&self, range: Range) -> Result<u64, String> {
            if range.fail_part == Some(range.from) {
                return Err(format!("no sums from {}", range.from));
            }
            Ok((range.from..=range.to).sum())
        }
        fn split(&self, range: Range) -> Result<Vec<Range>, String> {
            if range.parts == 0 {
                return Err("zero parts".to_owned());
            }
            let size = (range.to - range.from + 1).div_ceil(range.parts);
            Ok((0..range.parts)
                .map(|index| Range {
                    from: range.from + index * size,
                    to: (range.from + (index + 1) * size - 1).min(range.to),
                    ..range.clone()
                })
                .collect())
        }
        fn merge(&self, (_range, sums): (Range, Vec<u64>)) -> Result<u64, String> {
            match self.broken_merge {
                true => Err("merge is broken".to_owned()),
                false => Ok(sums.iter().sum()),
            }
        }
    }

    impl Plugin for Summer {
        type Config = Config;
        fn describe() -> Description {
            Description::new("summer", "1.0.0")
        }
        fn new(config: Config) -> Result<Self, BoxError> {
            Ok(Summer {
                broken_merge: config.broken_merge,
            })
        }
        fn methods(methods: &mut Methods<Self>) {
            methods
                .add("run", Summer::run)
                .add("split", Summer::split)
                .add("merge", Summer::merge);
        }
    }

    /// A `merge` that takes the results alone, and a `split` whose parts are inputs `run` refuses.
    struct Halves;

    impl Halves {
        fn run(&self, n: u64) -> Result<u64, String> {
            match n % 2 {
                0 => Ok(n / 2),
                _ => Err(format!("{n} is odd")),
            }
        }
        fn split(&self, n: u64) -> Vec<u64> {
            vec![n / 2, n - n / 2]
        }
        fn merge(&self, halves: Vec<u64>) -> u64 {
            halves.iter().sum()
        }
    }

    impl Plugin for Halves {
        type Config = crate::NoConfig;
        fn describe() -> Description {
            Description::new("halves", "1.0.0")
        }
        fn new(_config: crate::NoConfig) -> Result<Self, BoxError> {
            Ok(Halves)
        }
        fn methods(methods: &mut Methods<Self>) {
            methods
                .add("run", Halves::run)
                .add("split", Halves::split)
                .add("merge", Halves::merge);
        }
    }

    /// `merge` of neither form: the host never splits it.
    struct Lopsided;

    impl Lopsided {
        fn run(&self, n: u64) -> u64 {
            n
        }
        fn split(&self, n: u64) -> Vec<u64> {
            vec![n]
        }
        fn merge(&self, results: Vec<String>) -> u64 {
            results.len() as u64
        }
    }

    impl Plugin for Lopsided {
        type Config = crate::NoConfig;
        fn describe() -> Description {
            Description::new("lopsided", "1.0.0")
        }
        fn new(_config: crate::NoConfig) -> Result<Self, BoxError> {
            Ok(Lopsided)
        }
        fn methods(methods: &mut Methods<Self>) {
            methods
                .add("run", Lopsided::run)
                .add("split", Lopsided::split)
                .add("merge", Lopsided::merge);
        }
    }

    #[test]
    fn a_split_task_runs_in_parts_and_merges_to_the_whole_result() {
        let plugin = TestPlugin::of::<Summer>();
        let split = plugin
            .split_run_merge(json!({}), json!({"from": 1, "to": 10, "parts": 3}))
            .unwrap();
        assert_eq!(split.output, json!(55));
        assert_eq!(split.results, [json!(10), json!(26), json!(19)]);
        assert_eq!(split.parts.len(), 3);
        assert_eq!(split.parts[1]["from"], json!(5));
        assert_eq!(split.unsplit, None);
        let mut whole = plugin.instance(json!({})).unwrap();
        assert_eq!(
            whole.call("run", json!({"from": 1, "to": 10})).unwrap(),
            split.output
        );
        let halves = TestPlugin::of::<Halves>()
            .split_run_merge(json!({}), json!(8))
            .unwrap();
        assert_eq!(
            (halves.results, halves.output),
            (vec![json!(2), json!(2)], json!(4))
        );
    }

    #[test]
    fn errors_are_the_hosts_word_for_word() {
        let plugin = TestPlugin::of::<Summer>();
        let part = plugin
            .split_run_merge(
                json!({}),
                json!({"from": 1, "to": 9, "parts": 3, "fail_part": 4}),
            )
            .unwrap_err();
        assert_eq!(part.to_string(), "part 2 of 3: no sums from 4");
        let merge = plugin
            .split_run_merge(
                json!({"broken_merge": true}),
                json!({"from": 1, "to": 9, "parts": 3}),
            )
            .unwrap_err();
        assert_eq!(merge.to_string(), "merge failed: merge is broken");
        let config = plugin
            .split_run_merge(json!({"parts": 2}), json!({"from": 1, "to": 9}))
            .unwrap_err();
        assert!(
            config.to_string().contains("unknown field `parts`"),
            "{config}"
        );
        let odd = TestPlugin::of::<Halves>()
            .split_run_merge(json!({}), json!(6))
            .unwrap_err();
        assert_eq!(odd.to_string(), "part 1 of 2: 3 is odd");
    }

    #[test]
    fn a_task_split_will_not_cut_runs_whole_as_in_the_host() {
        let plugin = TestPlugin::of::<Summer>();
        let one = plugin
            .split_run_merge(json!({}), json!({"from": 1, "to": 4, "parts": 1}))
            .unwrap();
        assert_eq!(one.output, json!(10));
        assert!(one.parts.is_empty() && one.results.is_empty());
        assert_eq!(one.unsplit.as_deref(), Some("split returned 1 part"));
        let refused = plugin
            .split_run_merge(json!({}), json!({"from": 1, "to": 4}))
            .unwrap();
        assert_eq!(refused.output, json!(10));
        assert_eq!(refused.unsplit.as_deref(), Some("split failed: zero parts"));
    }

    #[test]
    fn a_plugin_the_host_would_not_split_is_named_with_what_it_lacks() {
        let error = TestPlugin::of::<Lopsided>()
            .split_run_merge(json!({}), json!(1))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the plugin is not Splittable, so the host runs its tasks whole (missing \
             `merge([u64]) -> u64` or `merge((u64, [u64])) -> u64` (it has `merge([string]) -> u64`))"
        );
    }

    #[test]
    fn plugins_and_instances_show_themselves_in_test_failures() {
        let plugin = TestPlugin::of::<Summer>();
        assert_eq!(
            format!("{plugin:?}"),
            "TestPlugin { plugin: \"quack_core::testing::tests::Summer\", .. }"
        );
        let instance = plugin.instance(json!({"broken_merge": true})).unwrap();
        assert_eq!(
            format!("{instance:?}"),
            "TestInstance { plugin: \"quack_core::testing::tests::Summer\", config: Object {\"broken_merge\": Bool(true)}, .. }"
        );
        // `expect_err` needs the instance to be `Debug`.
        let refused = plugin
            .instance(json!({"scale": 2}))
            .expect_err("an unknown key");
        assert!(
            refused.to_string().contains("unknown field `scale`"),
            "{refused}"
        );
    }
}
