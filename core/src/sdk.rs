//! The SDK for plugin authors: the [`Plugin`] trait, the [`Methods`] table that turns ordinary
//! Rust methods into callable, typed entries, and the machinery behind
//! [`export_plugin!`](crate::export_plugin).
//!
//! A method is any function `fn(&Self) -> R`, `fn(&mut Self) -> R`, `fn(&Self, A) -> R` or
//! `fn(&mut Self, A) -> R` where `A` deserializes from JSON and `R` is either a serializable value or
//! a `Result` of one with an error that displays. Its signature is read from those types (see
//! [`Shape`]); JSON conversion and panic catching are done here, once, for every plugin.
//!
//! The checks are split so that a compile error names the real cause: [`Method`] only matches the
//! function's form (receiver, number of arguments), then [`Arguments`] checks the argument and
//! [`MethodResult`] the result, each with a `#[diagnostic::on_unimplemented]` message that says
//! what to do.

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
    /// Names given to [`Methods::add`] more than once, in order, each once.
    duplicates: Vec<String>,
}

impl<P: 'static> Methods<P> {
    fn new() -> Self {
        Methods {
            entries: Vec::new(),
            duplicates: Vec::new(),
        }
    }

    /// Registers `function` under `name`. Its signature comes from its argument and result types.
    ///
    /// Registering a name twice is a mistake the host reports when it loads the plugin (and
    /// [`TestPlugin`](crate::testing::TestPlugin) in the plugin's own tests): the table never
    /// silently keeps one of the two.
    pub fn add<Marker, F>(&mut self, name: &str, function: F) -> &mut Self
    where
        F: Method<P, Marker>,
        F::Args: Arguments,
        F::Output: MethodResult,
    {
        if self
            .entries
            .iter()
            .any(|(existing, _)| existing.name == name)
            && !self.duplicates.iter().any(|duplicate| duplicate == name)
        {
            self.duplicates.push(name.to_owned());
        }
        let signature = MethodSig {
            name: name.into(),
            params: F::Args::shapes().into_iter().map(RString::from).collect(),
            result: F::Output::shape().into(),
        };
        self.entries.push((
            signature,
            Box::new(move |plugin, input| {
                let arguments = F::Args::from_json(input)?;
                function.apply(plugin, arguments).into_json()
            }),
        ));
        self
    }

    /// The table's signatures, or the error for a name registered twice.
    fn signatures(&self) -> Result<Vec<MethodSig>, PluginError> {
        match self.duplicates.as_slice() {
            [] => Ok(self.entries.iter().map(|(sig, _)| sig.clone()).collect()),
            [name] => Err(PluginError::new(
                ErrorKind::Failed,
                format!(
                    "method `{name}` is registered more than once in Plugin::methods; give each `add` its own name"
                ),
            )),
            names => Err(PluginError::new(
                ErrorKind::Failed,
                format!(
                    "methods {} are each registered more than once in Plugin::methods; give each `add` its own name",
                    names
                        .iter()
                        .map(|name| format!("`{name}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
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

/// A function that can be registered as a method: `fn(&self) -> R`, `fn(&mut self) -> R`,
/// `fn(&self, A) -> R` or `fn(&mut self, A) -> R`. `Marker` only keeps the implementations apart.
///
/// This trait looks at the function's *form* only (receiver and number of arguments); what the
/// argument and the result must be is checked separately ([`Arguments`], [`MethodResult`]), so
/// that a compile error names the type at fault rather than the whole function.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a Quack method: a method takes `&self` or `&mut self`, then at most one argument",
    label = "not `fn(&self) -> R`, `fn(&mut self) -> R`, `fn(&self, A) -> R` or `fn(&mut self, A) -> R`",
    note = "an associated function without `self` cannot be a method; add `&self` (the host calls methods on an instance made by `Plugin::new`)"
)]
pub trait Method<P, Marker>: Send + Sync + 'static {
    /// The arguments after the receiver: [`markers::NoArg`] or [`markers::OneArg`].
    type Args;
    /// What the function returns.
    type Output;
    /// Calls the function.
    fn apply(&self, plugin: &mut P, arguments: Self::Args) -> Self::Output;
}

/// The arguments of a method after `self`: none, or one that deserializes from JSON and has a
/// [`Shape`].
#[diagnostic::on_unimplemented(
    message = "a Quack method takes at most one argument after `self`",
    label = "more than one argument after `self`",
    note = "put the arguments into one struct with `#[derive(Deserialize, Shape)]` (or a tuple) and take that"
)]
pub trait Arguments: Sized {
    /// The shape of each argument.
    fn shapes() -> Vec<String>;
    /// The arguments from the call's input JSON (`null` when there are none).
    fn from_json(input: &str) -> Result<Self, PluginError>;
}

impl Arguments for NoArg {
    fn shapes() -> Vec<String> {
        Vec::new()
    }
    fn from_json(_input: &str) -> Result<Self, PluginError> {
        Ok(NoArg)
    }
}

impl<A: DeserializeOwned + Shape> Arguments for OneArg<A> {
    fn shapes() -> Vec<String> {
        vec![A::shape()]
    }
    fn from_json(input: &str) -> Result<Self, PluginError> {
        from_json::<A>(input).map(OneArg)
    }
}

/// The result of a method: a serializable value with a [`Shape`], or a `Result` of one whose
/// error displays (its text is the message the user sees).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a Quack method",
    label = "neither a value with `Serialize` and `Shape` nor a `Result` of one with a `Display` error",
    note = "return a type with `#[derive(Serialize, Shape)]`, or `Result<T, E>` where `E` implements `std::fmt::Display` (`String` does; so does every `std::error::Error`)"
)]
pub trait MethodResult {
    /// The shape of the successful value.
    fn shape() -> String;
    /// The value as JSON, or the method's error.
    fn into_json(self) -> Result<String, PluginError>;
}

/// Marker types that keep the blanket implementations of [`Method`] apart, and carry a method's
/// arguments.
#[doc(hidden)]
pub mod markers {
    pub struct ByRef;
    pub struct ByMut;
    pub struct NoArg;
    pub struct OneArg<A>(pub A);
    pub struct TwoArgs<A, B>(pub A, pub B);
    pub struct ThreeArgs<A, B, C>(pub A, pub B, pub C);
}
use markers::{ByMut, ByRef, NoArg, OneArg, ThreeArgs, TwoArgs};

impl<T: Serialize + Shape> MethodResult for T {
    fn shape() -> String {
        T::shape()
    }
    fn into_json(self) -> Result<String, PluginError> {
        to_json(&self)
    }
}

impl<T: Serialize + Shape, E: Display> MethodResult for Result<T, E> {
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

// Two and three arguments match here only so that the error is about the arguments (no
// `Arguments` for a pair or a triple, whose message says what to do), not about the whole function.
macro_rules! method_impls {
    ($receiver:ty, $marker:ident) => {
        impl<P, F, R> Method<P, ($marker, ())> for F
        where
            P: 'static,
            F: Fn($receiver) -> R + Send + Sync + 'static,
        {
            type Args = NoArg;
            type Output = R;
            fn apply(&self, plugin: &mut P, NoArg: NoArg) -> R {
                self(plugin)
            }
        }

        impl<P, F, A, R> Method<P, ($marker, (A,))> for F
        where
            P: 'static,
            F: Fn($receiver, A) -> R + Send + Sync + 'static,
            A: 'static,
        {
            type Args = OneArg<A>;
            type Output = R;
            fn apply(&self, plugin: &mut P, OneArg(argument): OneArg<A>) -> R {
                self(plugin, argument)
            }
        }

        impl<P, F, A, B, R> Method<P, ($marker, (A, B))> for F
        where
            P: 'static,
            F: Fn($receiver, A, B) -> R + Send + Sync + 'static,
            A: 'static,
            B: 'static,
        {
            type Args = TwoArgs<A, B>;
            type Output = R;
            fn apply(&self, plugin: &mut P, TwoArgs(a, b): TwoArgs<A, B>) -> R {
                self(plugin, a, b)
            }
        }

        impl<P, F, A, B, C, R> Method<P, ($marker, (A, B, C))> for F
        where
            P: 'static,
            F: Fn($receiver, A, B, C) -> R + Send + Sync + 'static,
            A: 'static,
            B: 'static,
            C: 'static,
        {
            type Args = ThreeArgs<A, B, C>;
            type Output = R;
            fn apply(&self, plugin: &mut P, ThreeArgs(a, b, c): ThreeArgs<A, B, C>) -> R {
                self(plugin, a, b, c)
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
        Ok(table.signatures()?.into_iter().collect())
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
        table.signatures()?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: unwrap is how a test says "this must work".

    use serde_json::json;

    use super::*;
    use crate::testing::TestPlugin;

    struct Twice;

    impl Twice {
        fn one(&self) -> u64 {
            1
        }
        fn two(&self) -> u64 {
            2
        }
    }

    impl Plugin for Twice {
        type Config = NoConfig;
        fn describe() -> Description {
            Description::new("twice", "1.0.0")
        }
        fn new(_config: NoConfig) -> Result<Self, BoxError> {
            Ok(Twice)
        }
        fn methods(methods: &mut Methods<Self>) {
            methods
                .add("run", Twice::one)
                .add("other", Twice::two)
                .add("run", Twice::two);
        }
    }

    #[test]
    fn a_name_registered_twice_is_an_error_naming_it_not_a_silent_choice() {
        let plugin = TestPlugin::of::<Twice>();
        let error = plugin.methods().unwrap_err();
        assert_eq!(
            error.to_string(),
            "method `run` is registered more than once in Plugin::methods; give each `add` its own name"
        );
        let error = plugin.instance(json!({})).err().unwrap();
        assert!(
            error
                .to_string()
                .contains("`run` is registered more than once")
        );
    }
}
