//! The SDK for plugin authors: the [`Plugin`] trait, the [`Methods`] table that turns ordinary
//! Rust methods into callable, typed entries, and the machinery behind [`export_plugin!`].
//!
//! A method is any function `fn(&Self) -> R`, `fn(&mut Self) -> R`, `fn(&Self, A) -> R` or
//! `fn(&mut Self, A) -> R` where `A` deserializes from JSON and `R` is either a serializable value or
//! a `Result` of one with an error that displays. Its signature is read from those types (see
//! [`Shape`]); JSON conversion and panic catching are done here, once, for every plugin.

use std::{
    cell::RefCell,
    fmt::Display,
    panic::{self, AssertUnwindSafe},
};

use abi_stable::{
    prefix_type::PrefixTypeTrait,
    sabi_trait::TD_Opaque,
    std_types::{RResult, RStr, RString, RVec},
};
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    Description, Shape,
    abi::{ErrorKind, Instance, InstanceBox, MethodSig, PluginError, PluginMod, PluginModRef},
};

/// The error type a plugin's constructor may return: anything that converts with `?` or `.into()`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A plugin: a plain Rust type whose methods the host calls.
pub trait Plugin: Sized + Send + 'static {
    /// The configuration the host passes to [`Plugin::new`], deserialized from a JSON object.
    /// Use [`NoConfig`] for a plugin without one.
    type Config: DeserializeOwned;

    /// What the plugin says about itself.
    fn describe() -> Description;

    /// Makes one instance; the host makes one per worker.
    fn new(config: Self::Config) -> Result<Self, BoxError>;

    /// Registers the methods the host may call.
    fn methods(methods: &mut Methods<Self>);
}

/// The configuration of a plugin that takes none: only `{}` (or nothing) is accepted, so that a
/// mistyped `--set` is reported instead of ignored.
#[derive(serde::Deserialize, Debug, Default, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct NoConfig {}

type Invoke<P> = Box<dyn Fn(&mut P, &str) -> Result<String, PluginError> + Send + Sync>;

/// The table of a plugin's methods, filled in by [`Plugin::methods`].
pub struct Methods<P> {
    entries: Vec<(MethodSig, Invoke<P>)>,
}

impl<P: 'static> Methods<P> {
    fn new() -> Self {
        Methods {
            entries: Vec::new(),
        }
    }

    /// Registers `function` under `name`. Its signature comes from its argument and result types.
    pub fn add<Marker, F: Method<P, Marker>>(&mut self, name: &str, function: F) -> &mut Self {
        let signature = MethodSig {
            name: name.into(),
            params: F::params().into_iter().map(RString::from).collect(),
            result: F::result().into(),
        };
        self.entries.retain(|(existing, _)| existing.name != name);
        self.entries.push((
            signature,
            Box::new(move |plugin, input| function.invoke(plugin, input)),
        ));
        self
    }

    fn call(&self, plugin: &mut P, method: &str, input: &str) -> Result<String, PluginError> {
        match self.entries.iter().find(|(sig, _)| sig.name == method) {
            Some((_, invoke)) => invoke(plugin, input),
            None => Err(PluginError::new(
                ErrorKind::UnknownMethod,
                format!("this plugin has no method `{method}`"),
            )),
        }
    }
}

/// A function that can be registered as a method. Implemented for the four receiver and argument
/// forms listed in the module docs; `Marker` only keeps those implementations apart.
pub trait Method<P, Marker>: Send + Sync + 'static {
    /// The shapes of the parameters after the receiver.
    fn params() -> Vec<String>;
    /// The shape of the result.
    fn result() -> String;
    /// Deserializes `input`, calls the function and serializes its result.
    fn invoke(&self, plugin: &mut P, input: &str) -> Result<String, PluginError>;
}

/// The result of a method: a plain serializable value or a `Result` of one.
pub trait MethodResult<Marker> {
    /// The shape of the successful value.
    fn shape() -> String;
    /// The value as JSON, or the method's error.
    fn into_json(self) -> Result<String, PluginError>;
}

/// Marker types that keep the blanket implementations of [`Method`] and [`MethodResult`] apart.
#[doc(hidden)]
pub mod markers {
    use std::marker::PhantomData;
    pub struct ByRef;
    pub struct ByMut;
    pub struct NoArg;
    pub struct OneArg<A>(PhantomData<A>);
    pub struct Plain;
    pub struct Fallible;
}
use markers::{ByMut, ByRef, Fallible, NoArg, OneArg, Plain};

impl<T: Serialize + Shape> MethodResult<Plain> for T {
    fn shape() -> String {
        T::shape()
    }
    fn into_json(self) -> Result<String, PluginError> {
        to_json(&self)
    }
}

impl<T: Serialize + Shape, E: Display> MethodResult<Fallible> for Result<T, E> {
    fn shape() -> String {
        T::shape()
    }
    fn into_json(self) -> Result<String, PluginError> {
        match self {
            Ok(value) => to_json(&value),
            Err(error) => Err(PluginError::new(ErrorKind::Failed, error.to_string())),
        }
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, PluginError> {
    serde_json::to_string(value).map_err(|error| {
        PluginError::new(
            ErrorKind::Failed,
            format!("the result could not be written as JSON: {error}"),
        )
    })
}

fn from_json<A: DeserializeOwned + Shape>(input: &str) -> Result<A, PluginError> {
    serde_json::from_str(input).map_err(|error| {
        // serde_json appends "at line 1 column 3", which says nothing about a one-line value.
        let message = error.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message);
        PluginError::new(
            ErrorKind::InvalidInput,
            format!("expected {}: {message}", A::shape()),
        )
    })
}

macro_rules! method_impls {
    ($receiver:ty, $marker:ident) => {
        impl<P, F, R, RM> Method<P, ($marker, NoArg, RM)> for F
        where
            P: 'static,
            F: Fn($receiver) -> R + Send + Sync + 'static,
            R: MethodResult<RM>,
            RM: 'static,
        {
            fn params() -> Vec<String> {
                Vec::new()
            }
            fn result() -> String {
                R::shape()
            }
            fn invoke(&self, plugin: &mut P, _input: &str) -> Result<String, PluginError> {
                self(plugin).into_json()
            }
        }

        impl<P, F, A, R, RM> Method<P, ($marker, OneArg<A>, RM)> for F
        where
            P: 'static,
            F: Fn($receiver, A) -> R + Send + Sync + 'static,
            A: DeserializeOwned + Shape + 'static,
            R: MethodResult<RM>,
            RM: 'static,
        {
            fn params() -> Vec<String> {
                vec![A::shape()]
            }
            fn result() -> String {
                R::shape()
            }
            fn invoke(&self, plugin: &mut P, input: &str) -> Result<String, PluginError> {
                let argument = from_json::<A>(input)?;
                self(plugin, argument).into_json()
            }
        }
    };
}

method_impls!(&P, ByRef);
method_impls!(&mut P, ByMut);

// ---------------------------------------------------------------------------------------------
// The boundary: extern "C" functions generic over the plugin type.

thread_local! {
    /// The message and location of the last panic on this thread, recorded by the panic hook that
    /// `export_plugin!` installs, so the error names where the plugin panicked.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `body`, turning a panic into a [`PluginError`] of kind [`ErrorKind::Panicked`].
fn catch_panic<T>(body: impl FnOnce() -> Result<T, PluginError>) -> RResult<T, PluginError> {
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result.into(),
        Err(payload) => {
            let recorded = LAST_PANIC.with(|last| last.borrow_mut().take());
            let message = recorded.unwrap_or_else(|| {
                payload
                    .downcast_ref::<&str>()
                    .map(|text| (*text).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".to_owned())
            });
            RResult::RErr(PluginError::new(ErrorKind::Panicked, message))
        }
    }
}

struct PluginInstance<P> {
    plugin: P,
    methods: Methods<P>,
}

impl<P: Plugin> Instance for PluginInstance<P> {
    fn call(&mut self, method: RStr<'_>, input: RStr<'_>) -> RResult<RString, PluginError> {
        catch_panic(|| {
            self.methods
                .call(&mut self.plugin, method.as_str(), input.as_str())
                .map(RString::from)
        })
    }
}

extern "C" fn describe<P: Plugin>() -> RResult<RString, PluginError> {
    catch_panic(|| to_json(&P::describe()).map(RString::from))
}

extern "C" fn methods<P: Plugin>() -> RResult<RVec<MethodSig>, PluginError> {
    catch_panic(|| {
        let mut table = Methods::<P>::new();
        P::methods(&mut table);
        Ok(table.entries.into_iter().map(|(sig, _)| sig).collect())
    })
}

extern "C" fn new_instance<P: Plugin>(config: RStr<'_>) -> RResult<InstanceBox, PluginError> {
    catch_panic(|| {
        let config = if config.trim().is_empty() {
            "{}"
        } else {
            config.as_str()
        };
        let config: P::Config = serde_json::from_str(config).map_err(|error| {
            let message = error.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message);
            PluginError::new(ErrorKind::InvalidInput, message.to_owned())
        })?;
        let plugin = P::new(config)
            .map_err(|error| PluginError::new(ErrorKind::Failed, error.to_string()))?;
        let mut table = Methods::new();
        P::methods(&mut table);
        let instance = PluginInstance {
            plugin,
            methods: table,
        };
        Ok(InstanceBox::from_value(instance, TD_Opaque))
    })
}

/// The root module of plugin `P`, built without any dynamic loading. `export_plugin!` exports it;
/// [`testing`](crate::testing) calls it directly.
pub fn root_module<P: Plugin>() -> PluginModRef {
    PluginMod {
        describe: describe::<P>,
        methods: methods::<P>,
        new: new_instance::<P>,
    }
    .leak_into_prefix()
}

/// The root module as exported from a shared library: as [`root_module`], after replacing the
/// library's own panic hook (a cdylib has its own copy of std) with one that records the message
/// for the error value instead of printing it.
#[doc(hidden)]
pub fn exported_root_module<P: Plugin>() -> PluginModRef {
    panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|at| format!(" at {}:{}", at.file(), at.line()))
            .unwrap_or_default();
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        LAST_PANIC.with(|last| *last.borrow_mut() = Some(format!("{message}{location}")));
    }));
    root_module::<P>()
}

/// Exports a [`Plugin`] type as the root module of this shared library (crate-type `cdylib`):
/// `quack_core::export_plugin!(MyPlugin);` at the crate root. The crate docs show it in a complete
/// plugin.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        /// The abi_stable library header through which the host finds this plugin.
        #[doc(hidden)]
        #[unsafe(export_name = "_1as_0lib_1header_0root_bmodule_bloader")]
        pub static __QUACK_PLUGIN_HEADER: $crate::__private::LibHeader = {
            extern "C" fn constructor() -> $crate::__private::RootModuleResult {
                $crate::__private::__call_root_module_loader(|| {
                    $crate::sdk::exported_root_module::<$plugin>()
                })
            }
            // SAFETY: the constructor returns the root module of type PluginModRef, as required.
            unsafe {
                $crate::__private::LibHeader::from_constructor::<$crate::PluginModRef>(
                    constructor,
                    $crate::__private::CheckTypeLayout::Yes,
                )
            }
        };
    };
}
