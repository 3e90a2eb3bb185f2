//! [`Description`]: what a plugin says about itself (name, version, workload hint, default input,
//! examples, what it needs in a sandbox). It crosses the boundary as JSON, so new optional fields never break old hosts.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a plugin's tasks spend their time; the host's automatic mode choice starts from it.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Hint {
    /// Tasks keep a core busy: run about one worker per core.
    Cpu,
    /// Tasks mostly wait (sleep, network, disk): run many at once.
    Io,
}

/// One example call of a method with its expected result; `host inspect` shows them and
/// [`testing::TestPlugin::assert_examples`](crate::testing::TestPlugin::assert_examples) checks them.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Example {
    /// Configuration of the instance the example runs on (`{}` when absent).
    #[serde(default = "empty_object", skip_serializing_if = "is_empty_object")]
    pub config: Value,
    /// The method to call.
    pub method: String,
    /// Its argument (`null` for a method without one).
    #[serde(default)]
    pub input: Value,
    /// The expected result, or `Err(fragment)`: the call must fail with a message containing it.
    pub expected: Result<Value, String>,
}

impl Example {
    /// `method(input)` returns `output`.
    pub fn returns(method: &str, input: Value, output: Value) -> Self {
        Example {
            config: empty_object(),
            method: method.to_owned(),
            input,
            expected: Ok(output),
        }
    }

    /// `method(input)` fails with a message that contains `fragment`.
    pub fn fails(method: &str, input: Value, fragment: &str) -> Self {
        Example {
            config: empty_object(),
            method: method.to_owned(),
            input,
            expected: Err(fragment.to_owned()),
        }
    }

    /// The same example, run on an instance made with `config`.
    pub fn with_config(mut self, config: Value) -> Self {
        self.config = config;
        self
    }
}

/// What a plugin needs when it runs in a sandbox (`host run --sandbox`), beyond its own file, the
/// system's libraries and a scratch directory. The host never grants it for the plugin (a
/// description is the plugin's own word): `host inspect` shows it, and a sandboxed run that does
/// not grant it says which flag would.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxNeeds {
    /// It reads files the user names (`--allow-read`).
    #[serde(default)]
    pub reads_files: bool,
    /// It writes files the user names (`--allow-write`).
    #[serde(default)]
    pub writes_files: bool,
    /// It uses the network (`--allow-net`).
    #[serde(default)]
    pub net: bool,
    /// How many processes and threads its tasks start (`--max-procs`).
    #[serde(default)]
    pub max_procs: u32,
}

/// What a plugin says about itself. Build one with [`Description::new`] and the builder methods.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Description {
    /// Short name, e.g. `factorize`.
    pub name: String,
    /// The plugin's own version, usually `env!("CARGO_PKG_VERSION")`.
    pub version: String,
    /// One line on what it does.
    #[serde(default)]
    pub summary: String,
    /// CPU-bound or I/O-bound, if the author knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Hint>,
    /// Whether the plugin asks to run in worker processes (it may crash or leak).
    #[serde(default)]
    pub isolate: bool,
    /// The language runtime the plugin starts in every process that loads it (`"Go 1.19.8"`),
    /// if any: such a plugin gets worker processes of its own when the host chooses the mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// The tasks to run when the user gives none.
    #[serde(default)]
    pub default_input: Vec<Value>,
    /// Example calls with their expected results.
    #[serde(default)]
    pub examples: Vec<Example>,
    /// What it needs in a sandbox, if it says (`Some(default)`: nothing beyond what every
    /// sandboxed plugin has).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<SandboxNeeds>,
}

impl Description {
    /// A description with a name and a version and nothing else.
    pub fn new(name: &str, version: &str) -> Self {
        Description {
            name: name.to_owned(),
            version: version.to_owned(),
            summary: String::new(),
            hint: None,
            isolate: false,
            runtime: None,
            default_input: Vec::new(),
            examples: Vec::new(),
            sandbox: None,
        }
    }

    /// Sets the one-line summary.
    pub fn summary(mut self, summary: &str) -> Self {
        self.summary = summary.to_owned();
        self
    }

    /// Sets the workload hint.
    pub fn hint(mut self, hint: Hint) -> Self {
        self.hint = Some(hint);
        self
    }

    /// Asks the host to run this plugin in worker processes.
    pub fn isolate(mut self) -> Self {
        self.isolate = true;
        self
    }

    /// Names the language runtime the plugin starts in the process that loads it, so the host
    /// runs it in worker processes of its own.
    pub fn runtime(mut self, runtime: &str) -> Self {
        self.runtime = Some(runtime.to_owned());
        self
    }

    /// Sets the tasks run when the user gives none.
    pub fn default_input(mut self, tasks: impl IntoIterator<Item = Value>) -> Self {
        self.default_input = tasks.into_iter().collect();
        self
    }

    /// Says what the plugin needs in a sandbox (`SandboxNeeds::default()`: nothing more than
    /// every sandboxed plugin has).
    pub fn sandbox_needs(mut self, needs: SandboxNeeds) -> Self {
        self.sandbox = Some(needs);
        self
    }

    /// Adds an example.
    pub fn example(mut self, example: Example) -> Self {
        self.examples.push(example);
        self
    }
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

fn is_empty_object(value: &Value) -> bool {
    value.as_object().is_some_and(|map| map.is_empty())
}
