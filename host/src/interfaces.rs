//! Structural interfaces: [`Interface`] is a set of method signatures the host knows by name, and
//! a plugin satisfies it when it has every one of them, whatever it calls itself ("if it has `name`
//! and `sound`, it quacks like an animal"). [`check`] says which are satisfied and, for each one
//! that is not, what is missing. [`merge_form`] says which of the two forms of `merge` a Splittable
//! plugin has, and [`MergeForm::argument`] builds the argument that form takes.

use serde::Serialize;
use serde_json::Value;

use crate::loader::Signature;

/// An interface the host knows how to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Interface {
    /// `name() -> string`, `sound() -> string`: the host makes it speak.
    Animal,
    /// `run(task) -> result`: the host runs its tasks.
    Workload,
    /// `split(task) -> [task]` and `merge([result]) -> result` or `merge((task, [result])) ->
    /// result`, with the types of `run`: the runner may cut a large task into parts.
    Splittable,
}

impl Interface {
    /// Every interface, in the order the host prefers them.
    pub const ALL: [Interface; 3] = [
        Interface::Workload,
        Interface::Splittable,
        Interface::Animal,
    ];

    /// The interface's name as shown to users.
    pub fn name(self) -> &'static str {
        match self {
            Interface::Animal => "Animal",
            Interface::Workload => "Workload",
            Interface::Splittable => "Splittable",
        }
    }
}

impl std::fmt::Display for Interface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a plugin satisfies one interface, and what it lacks if not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterfaceCheck {
    /// The interface checked.
    pub interface: Interface,
    /// One entry per missing or mismatched method, e.g. ``sound() -> string``, or
    /// ``merge([[u64]]) -> [u64] (it has merge(u64) -> u64)``.
    pub missing: Vec<String>,
}

impl InterfaceCheck {
    /// Whether the plugin has every method of the interface.
    pub fn satisfied(&self) -> bool {
        self.missing.is_empty()
    }
}

/// A required method: its name, the signature it must have, and that signature as text.
struct Requirement {
    name: &'static str,
    wanted: String,
    accepts: Box<dyn Fn(&Signature) -> bool>,
}

fn requirements(interface: Interface, methods: &[Signature]) -> Vec<Requirement> {
    let find = |name: &str| methods.iter().find(|method| method.name == name);
    let no_arg_string = |name: &'static str| Requirement {
        name,
        wanted: format!("{name}() -> string"),
        accepts: Box::new(|sig: &Signature| sig.params.is_empty() && sig.result == "string"),
    };
    let run = Requirement {
        name: "run",
        wanted: "run(task) -> result".to_owned(),
        accepts: Box::new(|sig: &Signature| sig.params.len() == 1),
    };
    match interface {
        Interface::Animal => vec![no_arg_string("name"), no_arg_string("sound")],
        Interface::Workload => vec![run],
        Interface::Splittable => {
            // split and merge must speak run's types: split(T) -> [T], merge([R]) -> R.
            let (task, result) = match find("run") {
                Some(sig) if sig.params.len() == 1 => (sig.params[0].clone(), sig.result.clone()),
                _ => ("task".to_owned(), "result".to_owned()),
            };
            let (split_task, merge_task, merge_result) =
                (task.clone(), task.clone(), result.clone());
            vec![
                run,
                Requirement {
                    name: "split",
                    wanted: format!("split({task}) -> [{task}]"),
                    accepts: Box::new(move |sig: &Signature| {
                        sig.params == [split_task.clone()]
                            && sig.result == format!("[{split_task}]")
                    }),
                },
                Requirement {
                    name: "merge",
                    // Shown between backticks: the inner pair makes it read as two signatures.
                    wanted: format!(
                        "merge([{result}]) -> {result}` or `merge(({task}, [{result}])) -> {result}"
                    ),
                    accepts: Box::new(move |sig: &Signature| {
                        merge_form_of(sig, &merge_task, &merge_result).is_some()
                    }),
                },
            ]
        }
    }
}

/// The two forms of `merge` a Splittable plugin may have, for `run(T) -> R`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MergeForm {
    /// `merge([R]) -> R`: the parts' results, in the order `split` gave the parts.
    Results,
    /// `merge((T, [R])) -> R`: the original task and the parts' results, so that task-level
    /// parameters need not be copied into every part's result.
    TaskAndResults,
}

impl MergeForm {
    /// The argument `merge` takes in this form, from the original task and the parts' results.
    pub fn argument(self, task: &Value, results: Vec<Value>) -> Value {
        match self {
            MergeForm::Results => Value::Array(results),
            MergeForm::TaskAndResults => Value::Array(vec![task.clone(), Value::Array(results)]),
        }
    }
}

/// Which form of `merge` the plugin has, when it is Splittable; `None` when it is not.
pub fn merge_form(methods: &[Signature]) -> Option<MergeForm> {
    if !check_one(Interface::Splittable, methods).satisfied() {
        return None;
    }
    let run = methods.iter().find(|method| method.name == "run")?;
    let merge = methods.iter().find(|method| method.name == "merge")?;
    merge_form_of(merge, run.params.first()?, &run.result)
}

/// The form of `merge` when its signature is one of the two for `run(task) -> result`.
fn merge_form_of(merge: &Signature, task: &str, result: &str) -> Option<MergeForm> {
    if merge.result != result {
        return None;
    }
    if merge.params == [format!("[{result}]")] {
        Some(MergeForm::Results)
    } else if merge.params == [format!("({task}, [{result}])")] {
        Some(MergeForm::TaskAndResults)
    } else {
        None
    }
}

/// Checks one interface against a plugin's methods.
pub fn check_one(interface: Interface, methods: &[Signature]) -> InterfaceCheck {
    let missing = requirements(interface, methods)
        .into_iter()
        .filter_map(|requirement| {
            match methods
                .iter()
                .find(|method| method.name == requirement.name)
            {
                None => Some(format!("`{}`", requirement.wanted)),
                Some(sig) if !(requirement.accepts)(sig) => {
                    Some(format!("`{}` (it has `{sig}`)", requirement.wanted))
                }
                Some(_) => None,
            }
        })
        .collect();
    InterfaceCheck { interface, missing }
}

/// Checks every interface against a plugin's methods.
pub fn check(methods: &[Signature]) -> Vec<InterfaceCheck> {
    Interface::ALL
        .iter()
        .map(|&interface| check_one(interface, methods))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(name: &str, params: &[&str], result: &str) -> Signature {
        Signature {
            name: name.to_owned(),
            params: params.iter().map(|p| (*p).to_owned()).collect(),
            result: result.to_owned(),
        }
    }

    #[test]
    fn name_and_sound_make_an_animal_whatever_else_is_there() {
        let methods = [
            sig("name", &[], "string"),
            sig("sound", &[], "string"),
            sig("beep", &[], "null"),
        ];
        assert!(check_one(Interface::Animal, &methods).satisfied());
        assert!(!check_one(Interface::Workload, &methods).satisfied());
    }

    #[test]
    fn a_missing_method_is_named_with_its_signature() {
        let methods = [sig("name", &[], "string")];
        assert_eq!(
            check_one(Interface::Animal, &methods).missing,
            ["`sound() -> string`"]
        );
    }

    #[test]
    fn a_method_with_the_wrong_signature_does_not_count() {
        let methods = [sig("name", &[], "string"), sig("sound", &["u64"], "string")];
        let check = check_one(Interface::Animal, &methods);
        assert_eq!(
            check.missing,
            ["`sound() -> string` (it has `sound(u64) -> string`)"]
        );
    }

    #[test]
    fn splittable_needs_split_and_merge_in_run_types() {
        let run = sig("run", &["Task"], "[u64]");
        let good = [
            run.clone(),
            sig("split", &["Task"], "[Task]"),
            sig("merge", &["[[u64]]"], "[u64]"),
        ];
        assert!(check_one(Interface::Splittable, &good).satisfied());
        let bad = [
            run,
            sig("split", &["u64"], "[u64]"),
            sig("merge", &["[[u64]]"], "[u64]"),
        ];
        assert_eq!(
            check_one(Interface::Splittable, &bad).missing,
            ["`split(Task) -> [Task]` (it has `split(u64) -> [u64]`)"]
        );
    }

    #[test]
    fn merge_may_take_the_task_with_the_results() {
        let methods = [
            sig("run", &["Task"], "[u64]"),
            sig("split", &["Task"], "[Task]"),
            sig("merge", &["(Task, [[u64]])"], "[u64]"),
        ];
        assert!(check_one(Interface::Splittable, &methods).satisfied());
        assert_eq!(merge_form(&methods), Some(MergeForm::TaskAndResults));
    }

    #[test]
    fn merge_form_tells_the_two_forms_apart_and_needs_splittable() {
        let results_form = [
            sig("run", &["u64"], "u64"),
            sig("split", &["u64"], "[u64]"),
            sig("merge", &["[u64]"], "u64"),
        ];
        assert_eq!(merge_form(&results_form), Some(MergeForm::Results));
        let no_split = [sig("run", &["u64"], "u64"), sig("merge", &["[u64]"], "u64")];
        assert_eq!(merge_form(&no_split), None);
    }

    #[test]
    fn a_merge_of_neither_form_is_named_with_both_wanted_forms() {
        let methods = [
            sig("run", &["Task"], "u64"),
            sig("split", &["Task"], "[Task]"),
            sig("merge", &["(u64, [u64])"], "u64"),
        ];
        assert_eq!(
            check_one(Interface::Splittable, &methods).missing,
            [
                "`merge([u64]) -> u64` or `merge((Task, [u64])) -> u64` (it has `merge((u64, [u64])) -> u64`)"
            ]
        );
        assert_eq!(merge_form(&methods), None);
    }

    #[test]
    fn the_merge_argument_matches_the_form() {
        let task = serde_json::json!({"n": 10, "scale": 2});
        let results = vec![serde_json::json!([1, 2]), serde_json::json!([5])];
        assert_eq!(
            MergeForm::Results.argument(&task, results.clone()),
            serde_json::json!([[1, 2], [5]])
        );
        assert_eq!(
            MergeForm::TaskAndResults.argument(&task, results),
            serde_json::json!([{"n": 10, "scale": 2}, [[1, 2], [5]]])
        );
    }
}
