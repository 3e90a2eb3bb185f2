//! Compat fixture: a Workload plugin written against the ABI crate alone (no SDK), the way a
//! plugin built against quack-abi 1.0.0 looks from the host's side. `run(u64) -> u64` doubles.
//!
//! `abi-1.0.0-changed/` builds this same file against a copy of the ABI whose layout differs.

// abi_stable's export macro expands to code that trips this lint on current Rust.
#![allow(non_local_definitions)]

use abi_stable::{
    export_root_module,
    prefix_type::PrefixTypeTrait,
    sabi_trait::TD_Opaque,
    std_types::{RResult, RStr, RString, RVec},
};
use quack_abi::{
    ErrorKind, Instance, InstanceBox, MethodSig, PluginError, PluginMod, PluginModRef,
};

const DESCRIPTION: &str = r#"{"name": "old-doubler", "version": "1.0.0",
    "summary": "Built against quack-abi 1.0.0: run(n) = 2n", "default_input": [21]}"#;

extern "C" fn describe() -> RResult<RString, PluginError> {
    RResult::ROk(DESCRIPTION.into())
}

extern "C" fn methods() -> RResult<RVec<MethodSig>, PluginError> {
    RResult::ROk(RVec::from(vec![MethodSig {
        name: "run".into(),
        params: RVec::from(vec![RString::from("u64")]),
        result: "u64".into(),
    }]))
}

struct Doubler;

impl Instance for Doubler {
    fn call(&mut self, method: RStr<'_>, input: RStr<'_>) -> RResult<RString, PluginError> {
        if method.as_str() != "run" {
            return RResult::RErr(PluginError::new(
                ErrorKind::UnknownMethod,
                format!("no method `{method}`"),
            ));
        }
        match input.trim().parse::<u64>() {
            Ok(n) => RResult::ROk(format!("{}", n * 2).into()),
            Err(_) => RResult::RErr(PluginError::new(
                ErrorKind::InvalidInput,
                format!("expected u64, got {input}"),
            )),
        }
    }
}

extern "C" fn new(_config: RStr<'_>) -> RResult<InstanceBox, PluginError> {
    RResult::ROk(InstanceBox::from_value(Doubler, TD_Opaque))
}

/// The root module, exported under abi_stable's usual symbol.
#[export_root_module]
pub fn root_module() -> PluginModRef {
    PluginMod {
        describe,
        methods,
        new,
    }
    .leak_into_prefix()
}
