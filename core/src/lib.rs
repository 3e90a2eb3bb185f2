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
pub use description::{Description, Example, Hint};
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
