//! The C ABI (`sdk/c/quack.h`): a plugin written in C, C++, Go or any language that exports C
//! functions. [`CPlugin`] is the plugin's table of functions, found through its one exported
//! symbol `quack_plugin_v1` and checked once when the library is loaded; [`CInstance`] is one of
//! its instances as an [`Instance`], so every runner mode calls it as it calls a Rust plugin.
//!
//! Everything the plugin hands back is checked before the host uses it: a null pointer where text
//! was due, bytes that are not UTF-8, a status quack.h does not define, a description or method
//! list that is not the JSON it should be. Each becomes one sentence naming the function; the
//! result's JSON itself is checked where every plugin's is (`runner/answer.rs`). Every string the
//! plugin allocated goes back to its `free_text` once, right after it is copied.

use std::{
    ffi::{CStr, c_char, c_void},
    path::Path,
    ptr,
};

use quack_core::{
    Description, ErrorKind, Instance, InstanceBox, PluginError,
    abi::Instance_TO,
    abi_stable::{
        sabi_trait::TD_Opaque,
        std_types::{RResult, RStr, RString},
    },
};

use crate::{interfaces::Signature, loader::LoadError, runner::protocol::result_too_large};

/// The major version of the C ABI this host speaks: a plugin's table must declare it.
pub const C_ABI_MAJOR: u32 = 1;
/// The minor version of quack.h this host was written against. A plugin of a later minor loads
/// (its table may be longer; the host reads only the fields it knows).
pub const C_ABI_MINOR: u32 = 0;

/// The symbol a C-ABI plugin exports, with its terminating NUL.
pub const SYMBOL: &[u8] = b"quack_plugin_v1\0";

/// A quack.h status.
type Status = i32;
const QUACK_OK: Status = 0;

/// `struct quack_plugin` of quack.h, field for field. The function pointers are `Option`s so a
/// null one is seen rather than called.
#[repr(C)]
#[derive(Clone, Copy)]
struct Table {
    abi_major: u32,
    abi_minor: u32,
    describe: Option<unsafe extern "C" fn(out: *mut *mut c_char) -> Status>,
    methods: Option<unsafe extern "C" fn(out: *mut *mut c_char) -> Status>,
    new_instance: Option<
        unsafe extern "C" fn(
            config: *const c_char,
            config_len: usize,
            instance: *mut *mut c_void,
            error: *mut *mut c_char,
        ) -> Status,
    >,
    call: Option<
        unsafe extern "C" fn(
            instance: *mut c_void,
            method: *const c_char,
            input: *const c_char,
            input_len: usize,
            out: *mut *mut c_char,
        ) -> Status,
    >,
    free_text: Option<unsafe extern "C" fn(text: *mut c_char)>,
    drop_instance: Option<unsafe extern "C" fn(instance: *mut c_void)>,
}

/// The version fields every table starts with, whatever its major: read before the rest, since
/// another major may lay the rest out otherwise.
#[repr(C)]
#[derive(Clone, Copy)]
struct Versions {
    abi_major: u32,
    abi_minor: u32,
}

/// The plugin's functions, every one present (checked at load).
#[derive(Clone, Copy)]
struct Functions {
    describe: unsafe extern "C" fn(out: *mut *mut c_char) -> Status,
    methods: unsafe extern "C" fn(out: *mut *mut c_char) -> Status,
    new_instance: unsafe extern "C" fn(
        config: *const c_char,
        config_len: usize,
        instance: *mut *mut c_void,
        error: *mut *mut c_char,
    ) -> Status,
    call: unsafe extern "C" fn(
        instance: *mut c_void,
        method: *const c_char,
        input: *const c_char,
        input_len: usize,
        out: *mut *mut c_char,
    ) -> Status,
    free_text: unsafe extern "C" fn(text: *mut c_char),
    drop_instance: unsafe extern "C" fn(instance: *mut c_void),
}

/// A loaded C-ABI plugin: its checked table. The library stays loaded for the life of the process
/// (libraries are never unloaded), so the functions stay valid.
#[derive(Clone, Copy)]
pub struct CPlugin {
    functions: Functions,
    /// `C 1.0`: the ABI and the version the plugin's table declares.
    major: u32,
    minor: u32,
}

impl std::fmt::Debug for CPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CPlugin")
            .field("abi", &self.abi_version())
            .finish_non_exhaustive()
    }
}

/// What a C-ABI plugin says about itself at load.
#[derive(Debug)]
pub struct Described {
    /// The plugin's table.
    pub plugin: CPlugin,
    /// Its description.
    pub description: Description,
    /// Its methods.
    pub methods: Vec<Signature>,
}

/// Whether `library` speaks the C ABI: it exports `quack_plugin_v1`.
pub fn speaks_c_abi(library: &libloading::Library) -> bool {
    // SAFETY: only the symbol's presence is checked; nothing is called through it here.
    unsafe { library.get::<*const c_void>(SYMBOL) }.is_ok()
}

/// Checks the C-ABI plugin in `library` (which [`speaks_c_abi`]) and asks it for its description
/// and methods. The library is kept loaded for good. Errors name `path`.
pub fn load(library: libloading::Library, path: &Path) -> Result<Described, LoadError> {
    let failed = |step: &'static str, reason: String| LoadError::DescribeFailed {
        path: path.to_path_buf(),
        step,
        reason,
    };
    // SAFETY: quack.h declares the symbol as `const quack_plugin *quack_plugin_v1(void)`.
    let entry = unsafe { library.get::<unsafe extern "C" fn() -> *const c_void>(SYMBOL) }.map_err(
        |error| LoadError::NotAPlugin {
            path: path.to_path_buf(),
            reason: format!("its quack_plugin_v1 cannot be found ({error})"),
        },
    )?;
    // SAFETY: the plugin's own entry point, called as quack.h declares it.
    let table = unsafe { entry() };
    // Never unloaded: the table and its functions live in the library.
    std::mem::forget(library);
    if table.is_null() {
        return Err(failed(
            "quack_plugin_v1",
            "it returned a null pointer instead of its table".to_owned(),
        ));
    }
    // SAFETY: every table, of any major, starts with the two version fields.
    let versions = unsafe { ptr::read(table.cast::<Versions>()) };
    if versions.abi_major != C_ABI_MAJOR {
        return Err(LoadError::CAbiMismatch {
            path: path.to_path_buf(),
            plugin_abi: format!("{}.{}", versions.abi_major, versions.abi_minor),
            host_abi: format!("{C_ABI_MAJOR}.{C_ABI_MINOR}"),
        });
    }
    // SAFETY: a table of this major has at least the fields of `Table` (later minors only add
    // fields at the end).
    let table = unsafe { ptr::read(table.cast::<Table>()) };
    let missing = |name: &str| {
        failed(
            "table",
            format!("`{name}` is a null pointer: every function of quack.h's table must be given"),
        )
    };
    let functions = Functions {
        describe: table.describe.ok_or_else(|| missing("describe"))?,
        methods: table.methods.ok_or_else(|| missing("methods"))?,
        new_instance: table.new_instance.ok_or_else(|| missing("new_instance"))?,
        call: table.call.ok_or_else(|| missing("call"))?,
        free_text: table.free_text.ok_or_else(|| missing("free_text"))?,
        drop_instance: table
            .drop_instance
            .ok_or_else(|| missing("drop_instance"))?,
    };
    let plugin = CPlugin {
        functions,
        major: table.abi_major,
        minor: table.abi_minor,
    };
    let description_json = plugin
        .text_of("describe", functions.describe)
        .map_err(|reason| failed("describe", reason))?;
    let description: Description = serde_json::from_str(&description_json).map_err(|error| {
        failed(
            "describe",
            format!("its JSON is not a description: {error}"),
        )
    })?;
    let methods_json = plugin
        .text_of("methods", functions.methods)
        .map_err(|reason| failed("methods", reason))?;
    let methods: Vec<Signature> = serde_json::from_str(&methods_json).map_err(|error| {
        failed(
            "methods",
            format!(
                "its JSON is not a list of signatures ({error}); it is an array of {{\"name\", \"params\", \"result\"}} objects"
            ),
        )
    })?;
    for (index, method) in methods.iter().enumerate() {
        if methods[..index]
            .iter()
            .any(|earlier| earlier.name == method.name)
        {
            return Err(failed(
                "methods",
                format!("method `{}` is listed more than once", method.name),
            ));
        }
    }
    Ok(Described {
        plugin,
        description,
        methods,
    })
}

impl CPlugin {
    /// The ABI version the plugin's table declares, as shown and reported: `C 1.0`.
    pub fn abi_version(&self) -> String {
        format!("C {}.{}", self.major, self.minor)
    }

    /// Calls `describe` or `methods` and returns its text.
    fn text_of(
        &self,
        name: &str,
        function: unsafe extern "C" fn(out: *mut *mut c_char) -> Status,
    ) -> Result<String, String> {
        let mut out: *mut c_char = ptr::null_mut();
        // SAFETY: called as quack.h declares it, with a place for its text.
        let status = unsafe { function(&mut out) };
        let text = self.take_text(out);
        match (status, text) {
            (QUACK_OK, Ok(Some(text))) => Ok(text),
            (QUACK_OK, Ok(None)) => Err(format!(
                "`{name}` returned QUACK_OK but no text (a null pointer); it writes its JSON to *out"
            )),
            (QUACK_OK, Err(BadText::TooLarge(sentence))) => Err(sentence),
            (QUACK_OK, Err(BadText::NotUtf8(phrase))) => Err(format!("`{name}` returned {phrase}")),
            (status, text) => Err(error_of(name, status, text).to_string()),
        }
    }

    /// Copies the plugin's string at `text` (null: none) and hands it back to `free_text`.
    fn take_text(&self, text: *mut c_char) -> Result<Option<String>, BadText> {
        if text.is_null() {
            return Ok(None);
        }
        // SAFETY: a non-null string from the plugin, NUL-terminated as quack.h requires.
        let bytes = unsafe { CStr::from_ptr(text) }.to_bytes();
        let copied = if let Some(too_large) = result_too_large(bytes.len()) {
            Err(BadText::TooLarge(too_large))
        } else {
            String::from_utf8(bytes.to_vec()).map_err(|error| {
                let at = error.utf8_error().valid_up_to();
                BadText::NotUtf8(format!(
                    "text that is not UTF-8 (byte {:#04x} at offset {at}); quack.h's strings are UTF-8",
                    bytes[at]
                ))
            })
        };
        // SAFETY: the plugin's own string, given back once, as quack.h says.
        unsafe { (self.functions.free_text)(text) };
        copied.map(Some)
    }

    /// Makes one instance from `config` (a JSON object as text).
    pub fn instantiate(&self, config: &str) -> Result<InstanceBox, PluginError> {
        let config = nul_terminated(config);
        let mut instance: *mut c_void = ptr::null_mut();
        let mut error: *mut c_char = ptr::null_mut();
        // SAFETY: called as quack.h declares it; `config` outlives the call.
        let status = unsafe {
            (self.functions.new_instance)(
                config.as_ptr().cast(),
                config.len() - 1,
                &mut instance,
                &mut error,
            )
        };
        let message = self.take_text(error);
        if status != QUACK_OK {
            return Err(error_of("new_instance", status, message));
        }
        let instance = CInstance {
            plugin: *self,
            instance,
            buffer: Vec::new(),
        };
        Ok(Instance_TO::from_value(instance, TD_Opaque))
    }
}

/// Why a string from the plugin could not be taken.
#[derive(Debug)]
enum BadText {
    /// Longer than a result may be: the sentence every mode gives.
    TooLarge(String),
    /// Not UTF-8: what was found, as a phrase ("text that is not UTF-8 ...").
    NotUtf8(String),
}

impl std::fmt::Display for BadText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadText::TooLarge(sentence) => f.write_str(sentence),
            BadText::NotUtf8(phrase) => f.write_str(phrase),
        }
    }
}

/// The text with a NUL after it, for the plugin.
fn nul_terminated(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(0);
    bytes
}

/// The error a function of the plugin reported with `status` and its message (or a failure of
/// reading that message).
fn error_of(
    function: &str,
    status: Status,
    message: Result<Option<String>, BadText>,
) -> PluginError {
    let kind = match status {
        1 => ErrorKind::InvalidInput,
        2 => ErrorKind::Failed,
        3 => ErrorKind::Panicked,
        4 => ErrorKind::UnknownMethod,
        other => {
            return PluginError::new(
                ErrorKind::Failed,
                format!(
                    "the plugin's `{function}` returned status {other}, which quack.h does not define; this is a bug in the plugin"
                ),
            );
        }
    };
    let message = match message {
        Ok(Some(message)) => message,
        Ok(None) if kind == ErrorKind::UnknownMethod => {
            format!("this plugin has no method `{function}`")
        }
        Ok(None) => format!("the plugin's `{function}` failed without a message"),
        Err(reason) => format!("the plugin's `{function}` failed with a message of {reason}"),
    };
    PluginError::new(kind, message)
}

/// One instance of a C-ABI plugin, owned by one worker.
pub struct CInstance {
    plugin: CPlugin,
    instance: *mut c_void,
    /// The method's name and the input, each with a NUL after it, made again for every call in
    /// this one buffer.
    buffer: Vec<u8>,
}

// SAFETY: quack.h lets an instance be used from any thread, one call at a time; the runner never
// calls one instance from two threads at once (`Instance::call` takes `&mut self`).
unsafe impl Send for CInstance {}

impl Instance for CInstance {
    fn call(&mut self, method: RStr<'_>, input: RStr<'_>) -> RResult<RString, PluginError> {
        let method = method.as_str();
        let input = input.as_str();
        self.buffer.clear();
        self.buffer.extend_from_slice(method.as_bytes());
        self.buffer.push(0);
        let input_at = self.buffer.len();
        self.buffer.extend_from_slice(input.as_bytes());
        self.buffer.push(0);
        let mut out: *mut c_char = ptr::null_mut();
        // SAFETY: called as quack.h declares it, on this instance; the buffer outlives the call.
        let status = unsafe {
            (self.plugin.functions.call)(
                self.instance,
                self.buffer.as_ptr().cast(),
                self.buffer[input_at..].as_ptr().cast(),
                input.len(),
                &mut out,
            )
        };
        let text = self.plugin.take_text(out);
        match (status, text) {
            (QUACK_OK, Ok(Some(json))) => RResult::ROk(RString::from(json)),
            (QUACK_OK, Ok(None)) => RResult::RErr(PluginError::new(
                ErrorKind::Failed,
                format!(
                    "the plugin's `{method}` returned QUACK_OK but no result (a null pointer); a C-ABI plugin writes its JSON result to *out"
                ),
            )),
            (QUACK_OK, Err(BadText::TooLarge(sentence))) => {
                RResult::RErr(PluginError::new(ErrorKind::Failed, sentence))
            }
            (QUACK_OK, Err(BadText::NotUtf8(phrase))) => RResult::RErr(PluginError::new(
                ErrorKind::Failed,
                format!("the plugin's `{method}` returned {phrase}"),
            )),
            (status, text) => RResult::RErr(error_of(method, status, text)),
        }
    }
}

impl Drop for CInstance {
    fn drop(&mut self) {
        // SAFETY: the plugin's own instance, handed back once.
        unsafe { (self.plugin.functions.drop_instance)(self.instance) };
    }
}
