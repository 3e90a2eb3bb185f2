//! [`TestPlugin`]: a plugin loaded in-process, without a build step or `dlopen`, for the plugin's
//! own unit tests. Every call goes through the same `extern "C"` functions the host uses.

use abi_stable::std_types::{RResult, RStr};
use serde_json::Value;

use crate::{
    Description,
    abi::{InstanceBox, MethodSig, PluginError, PluginModRef},
    sdk::{Plugin, root_module},
};

/// A plugin's root module, obtained directly from its type.
pub struct TestPlugin {
    module: PluginModRef,
}

/// One instance of a [`TestPlugin`].
pub struct TestInstance {
    instance: InstanceBox,
}

impl TestPlugin {
    /// Loads plugin type `P` in-process.
    pub fn of<P: Plugin>() -> Self {
        TestPlugin {
            module: root_module::<P>(),
        }
    }

    /// The plugin's description, as the host reads it.
    pub fn describe(&self) -> Result<Description, PluginError> {
        let json = into_result((self.module.describe())())?;
        serde_json::from_str(&json).map_err(|error| {
            PluginError::new(
                crate::ErrorKind::Failed,
                format!("bad description: {error}"),
            )
        })
    }

    /// The plugin's method table.
    pub fn methods(&self) -> Result<Vec<MethodSig>, PluginError> {
        into_result((self.module.methods())()).map(|methods| methods.into_vec())
    }

    /// A new instance configured with `config` (a JSON object).
    pub fn instance(&self, config: Value) -> Result<TestInstance, PluginError> {
        let config = config.to_string();
        let instance = into_result((self.module.new())(RStr::from(config.as_str())))?;
        Ok(TestInstance { instance })
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

impl TestInstance {
    /// Calls `method` with `input` and parses the result.
    pub fn call(&mut self, method: &str, input: Value) -> Result<Value, PluginError> {
        let input = input.to_string();
        let output = into_result(self.instance.call(method.into(), input.as_str().into()))?;
        serde_json::from_str(&output).map_err(|error| {
            PluginError::new(
                crate::ErrorKind::Failed,
                format!("bad result JSON: {error}"),
            )
        })
    }
}

fn into_result<T>(result: RResult<T, PluginError>) -> Result<T, PluginError> {
    result.into_result()
}
