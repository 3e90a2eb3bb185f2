//! Structural interfaces: a plugin's methods are [`Signature`]s; [`Interface`] is a set of method
//! signatures the host knows by name, and a plugin satisfies it when it has every one of them, whatever it calls itself ("if it has `name`
//! and `sound`, it quacks like an animal"). [`check`] says which are satisfied and, for each one
//! that is not, what is missing. [`merge_form`] says which of the two forms of `merge` a Splittable
//! plugin has, and [`MergeForm::argument`] builds the argument that form takes. [`role`] decides
//! what the host does with a plugin: run it as a Workload, or make it speak as an Animal.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One method of a plugin with its signature, in plain Rust types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The method's name.
    pub name: String,
    /// The shapes of its parameters.
    pub params: Vec<String>,
    /// The shape of its result.
    pub result: String,
}

impl std::fmt::Display for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}({}) -> {}",
            self.name,
            self.params.join(", "),
            self.result
        )
    }
}

/// An interface the host knows how to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// The interfaces `methods` satisfy, in the order of [`Interface::ALL`].
pub fn satisfied(methods: &[Signature]) -> Vec<Interface> {
    check(methods)
        .into_iter()
        .filter(InterfaceCheck::satisfied)
        .map(|check| check.interface)
        .collect()
}

/// What the host does with a plugin: run its tasks, or make it speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// It has `run`: the host runs its tasks.
    Workload,
    /// It has `name` and `sound`: the host makes it speak once.
    Animal,
}

impl Role {
    /// The interface a plugin must satisfy to take this role.
    pub fn interface(self) -> Interface {
        match self {
            Role::Workload => Interface::Workload,
            Role::Animal => Interface::Animal,
        }
    }
}

/// The role [`role`] chose, and whether the plugin could have taken the other one too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleChoice {
    /// What the host does with the plugin.
    pub role: Role,
    /// The plugin is a Workload and an Animal and no role was asked for: it runs as a Workload,
    /// and the user should hear that `--as animal` makes it speak.
    pub chosen_of_two: bool,
}

/// Why a plugin cannot take a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    /// A role was asked for (`--as`) and the plugin lacks its methods.
    #[error(
        "--as {} asks for {} {interface}, and it is not one (missing {missing})",
        .interface.name().to_lowercase(),
        article(*.interface)
    )]
    NotAsAsked {
        /// The interface of the role asked for.
        interface: Interface,
        /// What it lacks, e.g. `` `run(task) -> result` ``.
        missing: String,
    },
    /// The plugin is neither a Workload nor an Animal.
    #[error("{}", neither(.checks))]
    Neither {
        /// The checks of the two interfaces, with what each lacks.
        checks: Vec<InterfaceCheck>,
    },
}

/// Decides what the host does with a plugin of these `methods`: the role `asked` for, when the
/// plugin has its methods; otherwise a Workload if it has `run`, else an Animal if it has `name`
/// and `sound`.
pub fn role(methods: &[Signature], asked: Option<Role>) -> Result<RoleChoice, RoleError> {
    let has = |role: Role| check_one(role.interface(), methods);
    let (workload, animal) = (has(Role::Workload), has(Role::Animal));
    let choice = |role| RoleChoice {
        role,
        chosen_of_two: false,
    };
    match asked {
        Some(role) => {
            let check = if role == Role::Workload {
                workload
            } else {
                animal
            };
            if check.satisfied() {
                Ok(choice(role))
            } else {
                Err(RoleError::NotAsAsked {
                    interface: check.interface,
                    missing: check.missing.join(", "),
                })
            }
        }
        None => match (workload.satisfied(), animal.satisfied()) {
            (true, both) => Ok(RoleChoice {
                role: Role::Workload,
                chosen_of_two: both,
            }),
            (false, true) => Ok(choice(Role::Animal)),
            (false, false) => Err(RoleError::Neither {
                checks: vec![workload, animal],
            }),
        },
    }
}

/// "a" or "an", for a sentence naming `interface`.
fn article(interface: Interface) -> &'static str {
    match interface {
        Interface::Animal => "an",
        Interface::Workload | Interface::Splittable => "a",
    }
}

/// What each interface lacks, as one clause each: "it is not a Workload (missing ...) and it is
/// not an Animal (missing ...)".
fn neither(checks: &[InterfaceCheck]) -> String {
    checks
        .iter()
        .map(|check| {
            format!(
                "it is not {} {} (missing {})",
                article(check.interface),
                check.interface,
                check.missing.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(" and ")
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

    #[test]
    fn the_role_is_the_one_asked_for_or_workload_first() {
        let animal = [sig("name", &[], "string"), sig("sound", &[], "string")];
        let both = [
            sig("run", &["string"], "string"),
            sig("name", &[], "string"),
            sig("sound", &[], "string"),
        ];
        let workload_of_two = RoleChoice {
            role: Role::Workload,
            chosen_of_two: true,
        };
        assert_eq!(role(&both, None), Ok(workload_of_two));
        assert_eq!(
            role(&both, Some(Role::Animal)).map(|c| c.role),
            Ok(Role::Animal)
        );
        assert_eq!(role(&animal, None).map(|c| c.role), Ok(Role::Animal));
        assert_eq!(
            role(&animal, Some(Role::Workload)).unwrap_err().to_string(),
            "--as workload asks for a Workload, and it is not one (missing `run(task) -> result`)"
        );
    }

    #[test]
    fn a_plugin_with_no_role_is_told_what_each_interface_lacks() {
        let methods = [sig("name", &[], "string")];
        assert_eq!(
            role(&methods, None).unwrap_err().to_string(),
            "it is not a Workload (missing `run(task) -> result`) and it is not an Animal (missing `sound() -> string`)"
        );
    }
}
