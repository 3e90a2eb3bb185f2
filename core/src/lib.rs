//! The contract between the Quack host and its plugins: a stable ABI (a small root module and a
//! per-worker instance object, checked by abi_stable at load time) and the SDK that turns a plain
//! Rust type into a plugin.
//!
//! A plugin is a type with ordinary methods taking and returning serde types. The host finds out
//! what it can do from those methods, not from what it says it is: a plugin with `name() -> string`
//! and `sound() -> string` is an animal, one with `run(task)` is a workload. This crate does no I/O
//! and starts no threads.
//!
//! # A complete plugin
//!
//! In a crate with `crate-type = ["cdylib", "rlib"]`:
//!
//! ```
//! use quack_core::{BoxError, Description, Example, Hint, Methods, Plugin, export_plugin};
//! use serde::Deserialize;
//! use serde_json::json;
//!
//! /// The configuration, from `host run libcat.so --set name=Felix`.
//! #[derive(Deserialize)]
//! #[serde(deny_unknown_fields)]
//! pub struct Config {
//!     #[serde(default = "default_name")]
//!     name: String,
//! }
//!
//! fn default_name() -> String {
//!     "Tom".to_owned()
//! }
//!
//! pub struct Cat {
//!     name: String,
//! }
//!
//! impl Cat {
//!     fn name(&self) -> String {
//!         self.name.clone()
//!     }
//!     fn sound(&self) -> String {
//!         "Meow!".to_owned()
//!     }
//!     /// Squares a number; an error (not a crash) when the square does not fit.
//!     fn run(&mut self, n: u64) -> Result<u64, String> {
//!         n.checked_mul(n).ok_or_else(|| format!("{n} squared does not fit in 64 bits"))
//!     }
//! }
//!
//! impl Plugin for Cat {
//!     type Config = Config;
//!
//!     fn describe() -> Description {
//!         Description::new("cat", "1.0.0")
//!             .summary("A cat that squares numbers")
//!             .hint(Hint::Cpu)
//!             .default_input([json!(3), json!(4)])
//!             .example(Example::returns("run", json!(12), json!(144)))
//!             .example(Example::fails("run", json!(-1), "expected u64"))
//!             .example(Example::returns("name", json!(null), json!("Felix"))
//!                 .with_config(json!({"name": "Felix"})))
//!     }
//!
//!     fn new(config: Config) -> Result<Self, BoxError> {
//!         Ok(Cat { name: config.name })
//!     }
//!
//!     fn methods(methods: &mut Methods<Self>) {
//!         methods.add("name", Cat::name).add("sound", Cat::sound).add("run", Cat::run);
//!     }
//! }
//!
//! export_plugin!(Cat);
//!
//! // The plugin's own tests load it in-process, with no build step:
//! let plugin = quack_core::testing::TestPlugin::of::<Cat>();
//! assert_eq!(plugin.assert_examples(), 3);
//! let mut cat = plugin.instance(json!({})).unwrap();
//! assert_eq!(cat.call("sound", json!(null)).unwrap(), json!("Meow!"));
//! let error = cat.call("run", json!(u64::MAX)).unwrap_err();
//! assert_eq!(error.to_string(), "18446744073709551615 squared does not fit in 64 bits");
//! ```
//!
//! `host new NAME` writes a crate like this one, with its Cargo.toml, a test and a README; the
//! guide for plugin authors is `docs/writing-plugins.md` in the Quack repository.
//!
//! # Methods, arguments and results
//!
//! A method is `fn(&self) -> R`, `fn(&mut self) -> R`, `fn(&self, A) -> R` or
//! `fn(&mut self, A) -> R`. The argument `A` deserializes from JSON and has a [`Shape`]; the
//! result `R` serializes and has a `Shape`, or is a `Result<R, E>` whose error `E` implements
//! `Display` (its text is what the user sees). Several values go in one struct:
//!
//! ```
//! use quack_core::Shape;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize, Shape)]
//! pub struct Task { from: u64, to: u64 }
//!
//! #[derive(Serialize, Shape)]
//! pub enum Verdict { Prime, Composite { smallest_factor: u64 } }
//! ```
//!
//! Each name may be registered once: `add("run", a).add("run", b)` makes `methods` fail with
//! "method `run` is registered more than once", and the host refuses the plugin with that sentence.
//! A mistake in a method's types is a compile error that names it: a type without `Shape`
//! ("`Task` has no `Shape` ... add `#[derive(Shape)]`"), two arguments ("a Quack method takes at
//! most one argument after `self`"), a result that does not serialize, an error type without
//! `Display`, an associated function without `self`.
//!
//! # Splittable: cutting one large task into parts
//!
//! A workload with `run(T) -> R` may also have `split(T) -> [T]` and a `merge` that puts the
//! parts' results back together, in either of two forms:
//!
//! - `merge([R]) -> R`: the parts' results, in the order `split` returned the parts;
//! - `merge((T, [R])) -> R`: the original task and the parts' results, for a merge that needs
//!   the task's own parameters (a limit, a format) without copying them into every result.
//!
//! The host then may, when there are few tasks and several workers, call `split` on a task, run
//! the parts on the workers like any task, and report the one merged result (`host inspect` shows
//! whether a plugin is Splittable). `split` and `merge` run in the host's process on an instance
//! of their own, so they should be cheap; the parts are the work.
//!
//! ```
//! use quack_core::{BoxError, Description, Methods, NoConfig, Plugin, Shape};
//! use serde::{Deserialize, Serialize};
//!
//! /// Count the multiples of `of` in `from..=to`.
//! #[derive(Serialize, Deserialize, Shape, Clone)]
//! pub struct Range { from: u64, to: u64, of: u64 }
//!
//! pub struct Counter;
//!
//! impl Counter {
//!     fn run(&self, range: Range) -> u64 {
//!         (range.from..=range.to).filter(|n| n % range.of == 0).count() as u64
//!     }
//!     fn split(&self, range: Range) -> Vec<Range> {
//!         let middle = range.from + (range.to - range.from) / 2;
//!         vec![Range { to: middle, ..range.clone() }, Range { from: middle + 1, ..range }]
//!     }
//!     /// The second form: the task comes with the results.
//!     fn merge(&self, (range, counts): (Range, Vec<u64>)) -> Result<u64, String> {
//!         let total: u64 = counts.iter().sum();
//!         match range.to - range.from + 1 >= total {
//!             true => Ok(total),
//!             false => Err(format!("{total} multiples in {} numbers", range.to - range.from + 1)),
//!         }
//!     }
//! }
//!
//! impl Plugin for Counter {
//!     type Config = NoConfig;
//!     fn describe() -> Description {
//!         Description::new("counter", "1.0.0")
//!     }
//!     fn new(_config: NoConfig) -> Result<Self, BoxError> {
//!         Ok(Counter)
//!     }
//!     fn methods(methods: &mut Methods<Self>) {
//!         methods.add("run", Counter::run).add("split", Counter::split).add("merge", Counter::merge);
//!     }
//! }
//!
//! let plugin = quack_core::testing::TestPlugin::of::<Counter>();
//! let merge = plugin.methods().unwrap().into_iter().find(|m| m.name == "merge").unwrap();
//! assert_eq!(merge.params[0].as_str(), "(Range, [u64])");
//! let mut counter = plugin.instance(serde_json::json!({})).unwrap();
//! let task = serde_json::json!({"from": 1, "to": 10, "of": 3});
//! assert_eq!(counter.call("merge", serde_json::json!([task.clone(), [1, 2]])).unwrap(), 3);
//!
//! // What the host does with the task when it splits it: split, run each part, merge.
//! let split = plugin.split_run_merge(serde_json::json!({}), task).unwrap();
//! assert_eq!((split.parts.len(), split.output), (2, serde_json::json!(3)));
//! ```
//!
//! # Versions
//!
//! The ABI types (root module, instance object, [`PluginError`], [`MethodSig`]) live in the
//! `quack-abi` crate, re-exported here as [`abi`], whose crate version is the ABI version
//! ([`ABI_VERSION`]). A plugin built against any quack-core whose quack-abi has the same major
//! version as the host's loads in that host, whatever the two quack-core versions are; the SDK
//! can grow without breaking built plugins. A host refuses a plugin of another ABI major with
//! one sentence naming both versions. Plugins built against a quack-core from before quack-abi
//! existed (quack-core defined the ABI types itself) are refused, their types being quack-core's
//! rather than quack-abi's, and must be rebuilt once.
#![deny(missing_docs)]

/// The ABI types, defined in the `quack-abi` crate (whose version is the ABI version).
pub use quack_abi as abi;
mod description;
pub mod sdk;
mod shape;
pub mod testing;

pub use abi::{
    ABI_VERSION, ErrorKind, Instance, InstanceBox, MethodSig, PluginError, PluginMod, PluginModRef,
    ROOT_MODULE_NAME,
};
pub use description::{Description, Example, Hint, SandboxNeeds};
/// `#[derive(Shape)]` for a plugin's own structs and enums (see [`Shape`]).
pub use quack_derive::Shape;
pub use sdk::{Arguments, BoxError, Method, MethodResult, Methods, NoConfig, Plugin};
pub use shape::Shape;

// The derive names `::quack_core::Shape`, which must resolve inside this crate too.
extern crate self as quack_core;

/// The abi_stable crate this ABI is built on, for hosts that load plugins.
pub use abi_stable;
/// serde_json, re-exported so plugins and hosts agree on one version.
pub use serde_json;

/// What `export_plugin!` expands to; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use abi_stable::library::{
        __call_root_module_loader, CheckTypeLayout, LibHeader, RootModuleResult,
    };
}
