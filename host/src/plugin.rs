//! What a plugin is, written once: [`PluginInfo`] (its file, ABI version, self-description,
//! methods, the interfaces they make and the file's content), the same whether the plugin was
//! loaded here, described by a probe in a child process or read back from a report. Apart from
//! it, where the plugin's code is: [`LoadedPlugin`] is a plugin whose [`Code`] is loaded into this
//! process (always), and [`Plugin`] is what a run holds, either a loaded plugin or one known only
//! from a probe, whose instances live in worker processes.
//!
//! A new kind of plugin code (another ABI, a program spoken to over pipes) is one more variant
//! of [`Code`] and its arm in [`Code::instantiate`]; everything that only needs to know what the
//! plugin is reads its [`PluginInfo`].

use std::{
    path::{Path, PathBuf},
    sync::{Arc, OnceLock},
};

use quack_core::{
    Description, InstanceBox, PluginError, PluginModRef, abi_stable::std_types::RStr,
};
use serde::{Deserialize, Serialize};

use crate::interfaces::{self, Interface, Signature};

/// What a plugin is: everything the host knows about it without calling it.
///
/// Its serde form is what a probe sends its parent; a report writes a part of it
/// (`report::plugin`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PluginInfo {
    /// The plugin file as the user gave it, for messages and the report.
    pub path: PathBuf,
    /// The same file as an absolute path, made once when the plugin is loaded (a bare name would
    /// send the dynamic loader to its search path; workers, and reads after a plugin changed the
    /// current directory, need a path that does not depend on it).
    pub file: PathBuf,
    /// The ABI version it was built for.
    pub abi_version: String,
    /// Its self-description.
    pub description: Description,
    /// Its methods.
    pub methods: Vec<Signature>,
    /// The interfaces its methods satisfy, in the host's order of preference.
    pub interfaces: Vec<Interface>,
    /// The file's size and SHA-256, once known.
    #[serde(with = "known_content")]
    content: OnceLock<Content>,
}

/// What the plugin file holds, to tell it apart from another file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, in lowercase hex.
    pub sha256: String,
}

impl PluginInfo {
    /// A plugin found at `path` (as the user gave it; `file` absolute) that says `description`
    /// of itself and has `methods`; the interfaces are worked out from the methods.
    pub fn new(
        path: &Path,
        file: &Path,
        abi_version: String,
        description: Description,
        methods: Vec<Signature>,
    ) -> Self {
        PluginInfo {
            path: path.to_path_buf(),
            file: file.to_path_buf(),
            abi_version,
            description,
            interfaces: interfaces::satisfied(&methods),
            methods,
            content: OnceLock::new(),
        }
    }

    /// Records the file's content, known without reading the file again (hashed from the very
    /// descriptor loaded, or as a report said it); content already known stays.
    pub fn record_content(&self, content: Content) {
        let _ = self.content.set(content);
    }

    /// Whether the plugin is a program (spoken to over pipes) rather than a library, whether it
    /// was started here or described by a probe.
    pub fn is_program(&self) -> bool {
        self.abi_version.starts_with(crate::program::ABI_NAME)
    }

    /// The signature of the method called `name`, if the plugin has one.
    pub fn method(&self, name: &str) -> Option<&Signature> {
        self.methods.iter().find(|method| method.name == name)
    }

    /// The plugin file's size and SHA-256: known, or read from the file the first time they
    /// are asked for (a file that can no longer be read gives size 0 and a hash naming the
    /// error).
    pub fn content(&self) -> &Content {
        self.content
            .get_or_init(|| match std::fs::read(&self.file) {
                Ok(bytes) => Content {
                    size: bytes.len() as u64,
                    sha256: sha256_hex(&bytes),
                },
                Err(error) => Content {
                    size: 0,
                    sha256: format!("unreadable: {error}"),
                },
            })
    }

    /// The content as far as it is known, without reading the file (a plugin read back from a
    /// report of an older host has none).
    pub fn known_content(&self) -> Option<&Content> {
        self.content.get()
    }
}

/// The SHA-256 of `bytes`, in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The content cell as an optional [`Content`] in serde.
mod known_content {
    use std::sync::OnceLock;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Content;

    pub fn serialize<S: Serializer>(cell: &OnceLock<Content>, out: S) -> Result<S::Ok, S::Error> {
        cell.get().serialize(out)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<OnceLock<Content>, D::Error> {
        let cell = OnceLock::new();
        if let Some(content) = Option::<Content>::deserialize(input)? {
            let _ = cell.set(content);
        }
        Ok(cell)
    }
}

/// Plugin code loaded into this process, by the kind of plugin it is.
#[derive(Clone)]
pub enum Code {
    /// A Rust plugin's root module, checked by abi_stable.
    Rust(PluginModRef),
    /// A C-ABI plugin's table of functions (sdk/c/quack.h), checked by `cabi`.
    C(crate::cabi::CPlugin),
    /// A program plugin: the program, started by this process for each instance.
    Program(Arc<crate::program::ProgramPlugin>),
}

impl Code {
    /// Makes a new instance with `config` (a JSON object as text).
    pub fn instantiate(&self, config: &str) -> Result<InstanceBox, PluginError> {
        match self {
            Code::Rust(module) => (module.new())(RStr::from(config)).into_result(),
            Code::C(plugin) => plugin.instantiate(config),
            Code::Program(program) => program.instantiate(config),
        }
    }
}

/// A plugin loaded into this process: what it is, and its code.
#[derive(Clone)]
pub struct LoadedPlugin {
    /// What it is.
    pub info: Arc<PluginInfo>,
    /// Its code.
    pub code: Code,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("path", &self.info.path)
            .field("name", &self.info.description.name)
            .finish_non_exhaustive()
    }
}

impl LoadedPlugin {
    /// Makes a new instance with `config` (a JSON object as text).
    pub fn instantiate(&self, config: &str) -> Result<InstanceBox, PluginError> {
        self.code.instantiate(config)
    }
}

/// The plugin a run runs: loaded into this process, or known only from what a probe (a child
/// process that loaded it) said, so that no plugin code runs in the host (an isolated run).
#[derive(Clone, Debug)]
pub enum Plugin {
    /// Loaded here: instances can be made in this process.
    Loaded(LoadedPlugin),
    /// Described by a probe: its instances live in worker processes only.
    Probed(Arc<PluginInfo>),
}

impl Plugin {
    /// What the plugin is.
    pub fn info(&self) -> &Arc<PluginInfo> {
        match self {
            Plugin::Loaded(loaded) => &loaded.info,
            Plugin::Probed(info) => info,
        }
    }

    /// Makes a new instance in this process with `config` (a JSON object as text); a plugin
    /// known only from a probe has none here.
    pub fn instantiate(&self, config: &str) -> Result<InstanceBox, PluginError> {
        match self {
            Plugin::Loaded(loaded) => loaded.instantiate(config),
            Plugin::Probed(_) => Err(PluginError::new(
                quack_core::ErrorKind::Failed,
                "the plugin is not loaded in the host: it runs isolated, in worker processes only",
            )),
        }
    }
}

impl From<LoadedPlugin> for Plugin {
    fn from(loaded: LoadedPlugin) -> Self {
        Plugin::Loaded(loaded)
    }
}

impl From<PluginInfo> for Plugin {
    fn from(info: PluginInfo) -> Self {
        Plugin::Probed(Arc::new(info))
    }
}
