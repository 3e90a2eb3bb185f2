//! A copy of quack-abi 1.0.0 with one change, `PluginError::code`, made without a new version:
//! what the compat test's layout-mismatch case loads. The rest is the original's text.
//!
//! The stable ABI between the Quack host and a plugin: the root module [`PluginMod`], the
//! per-worker [`Instance`] object, and the value types that cross the boundary.
//!
//! Plugin authors do not use this crate directly: `quack-core` re-exports all of it and adds the
//! SDK. It is a crate of its own because abi_stable's load-time layout check compares the *name and
//! version of the crate that defines each type*. Kept in `quack-core`, every new minor version of
//! the SDK (0.1 -> 0.2) would have made old plugins unloadable although no type had changed. Here
//! the crate version is the ABI version ([`ABI_VERSION`]) and changes only when a type in this
//! file changes shape.
//!
//! The root module is small and never grows (a host whose root module has more fields than a
//! plugin's refuses that plugin). New capabilities are new *method names* in the table returned by
//! `methods`, never new fields here.

// abi_stable's derive macros expand to code that trips these lints on current Rust; the allowance
// is scoped to this module, where every derive lives.
#![allow(non_local_definitions, clippy::unnecessary_cast)]

use abi_stable::{
    StableAbi, declare_root_module_statics,
    library::RootModule,
    sabi_trait,
    sabi_types::VersionStrings,
    std_types::{RBox, RResult, RStr, RString, RVec},
};

/// The version of the ABI: this crate's package version. A plugin loads when its major version
/// equals the host's.
///
/// The root module carries it, and abi_stable compares it (with the crate name) for every type
/// below, so it cannot drift from what the layout check sees.
pub const ABI_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The name under which every Quack plugin's root module is registered. A library exporting an
/// abi_stable root module under another name is not a Quack plugin.
pub const ROOT_MODULE_NAME: &str = "quack_plugin";

/// The symbol under which abi_stable exports a root module. `export_plugin!` needs it as a literal;
/// a test checks that it equals abi_stable's own constant.
#[doc(hidden)]
pub const ROOT_MODULE_SYMBOL: &str = "_1as_0lib_1header_0root_bmodule_bloader";

/// The root module a plugin exports: three functions, never more.
#[repr(C)] // abi_stable prefix types must be repr(C): the field order is the ABI.
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    /// The plugin's description (`quack_core::Description`) as JSON.
    pub describe: extern "C" fn() -> RResult<RString, PluginError>,
    /// Every method the plugin's instances answer to, with its signature.
    pub methods: extern "C" fn() -> RResult<RVec<MethodSig>, PluginError>,
    /// Makes one instance from a JSON configuration object; the host makes one per worker.
    // The last field of the first ABI version: fields after it would be optional for old plugins.
    #[sabi(last_prefix_field)]
    pub new: extern "C" fn(config: RStr<'_>) -> RResult<InstanceBox, PluginError>,
}

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = ROOT_MODULE_NAME;
    const NAME: &'static str = ROOT_MODULE_NAME;
    // Not the crate version (package_version_strings!): the ABI's own, see ABI_VERSION.
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(ABI_VERSION);
}

/// One plugin instance, owned by one worker. Calls on it never unwind: the SDK catches panics.
#[sabi_trait]
pub trait Instance: Send {
    /// Calls `method` with its argument as JSON (`null` for a method without one) and returns the
    /// result as JSON.
    #[sabi(last_prefix_field)] // the only method of version 1; later ones would be optional.
    fn call(&mut self, method: RStr<'_>, input: RStr<'_>) -> RResult<RString, PluginError>;
}

/// An owned, type-erased [`Instance`] as it crosses the boundary.
pub type InstanceBox = Instance_TO<'static, RBox<()>>;

/// What kind of failure a [`PluginError`] reports.
#[repr(u8)] // a fixed-size tag, so the enum's layout is part of the ABI.
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input (or configuration) could not be turned into the method's argument type.
    InvalidInput,
    /// The method ran and reported a failure.
    Failed,
    /// The method panicked; the SDK caught the panic at the boundary.
    Panicked,
    /// No method of that name exists.
    UnknownMethod,
}

impl ErrorKind {
    /// A short lowercase name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Failed => "failed",
            ErrorKind::Panicked => "panicked",
            ErrorKind::UnknownMethod => "unknown method",
        }
    }
}

/// An error returned by a plugin across the boundary.
#[repr(C)] // crosses the boundary by value.
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct PluginError {
    /// What kind of failure this is.
    pub kind: ErrorKind,
    /// One sentence for the user.
    pub message: RString,
    /// The field added without a new ABI version.
    pub code: u32,
}

impl PluginError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        PluginError {
            kind,
            message: RString::from(message.into()),
            code: 0,
        }
    }
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            ErrorKind::Failed => f.write_str(&self.message),
            kind => write!(f, "{}: {}", kind.as_str(), self.message),
        }
    }
}

impl std::error::Error for PluginError {}

/// The signature of one method: its name, the shapes of its parameters and of its result.
///
/// Shapes are written in a small type language (see `quack_core::Shape`): `string`, `u64`,
/// `[u64]`, `any`, ...
#[repr(C)] // crosses the boundary inside an RVec.
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct MethodSig {
    /// The method's name, e.g. `run`.
    pub name: RString,
    /// The shape of each parameter after `self` (zero or one in this SDK).
    pub params: RVec<RString>,
    /// The shape of the result.
    pub result: RString,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_module_symbol_matches_abi_stable() {
        assert_eq!(
            ROOT_MODULE_SYMBOL,
            abi_stable::library::ROOT_MODULE_LOADER_NAME
        );
    }
}
