//! `host new`: writes a new plugin crate, out of this tree, that builds, passes its test and runs
//! under `host run` as generated: a Cargo.toml to keep, a plugin with a struct task using
//! `#[derive(Shape)]` (or an animal), examples, a test through `quack_core::testing`, and a README
//! with the three commands. Names that would not build are refused, and the crate appears whole
//! or not at all: it is written beside its place and renamed into it.

use std::{
    io,
    path::{Path, PathBuf},
};

use clap::{Args, ValueEnum};

use super::Outcome;
use crate::cli::error::HostError;

const NEW_EXAMPLES: &str = "\
Examples:
  host new primes
  host new parrot --kind animal --path ~/src/parrot

Then, in the new directory:
  cargo test
  cargo build --release
  host run target/release/libprimes.so";

/// Write a new plugin crate to start from.
#[derive(Debug, Args)]
#[command(after_help = NEW_EXAMPLES)]
pub struct NewArgs {
    /// The crate's name (letters, digits, `-` and `_`, starting with a letter), e.g. primes
    name: String,

    /// What the plugin is: a workload (`run(task)`) or an animal (`name()`, `sound()`).
    #[arg(long, value_enum, default_value_t = Kind::Workload)]
    kind: Kind,

    /// The directory to create [default: ./NAME]
    #[arg(long)]
    path: Option<PathBuf>,
}

/// The kinds of plugin `host new` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    /// `run(task) -> result`: the host runs its tasks.
    Workload,
    /// `name() -> string` and `sound() -> string`: the host makes it speak.
    Animal,
}

/// Why `host new` wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    /// The name cannot be a crate name.
    #[error(
        "`{name}` is not a valid crate name ({reason}); use letters, digits, `-` and `_`, starting with a letter, e.g. `my-plugin`"
    )]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Something is already at the target path.
    #[error("{path} already exists; choose another name or give a new directory with --path")]
    Exists {
        /// The target path.
        path: PathBuf,
    },
    /// A file could not be written.
    #[error(
        "could not write {path}: {source}; check that its directory is writable and the disk has room (nothing was left behind)"
    )]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

impl NewArgs {
    pub(super) fn exec(self) -> Result<Outcome, HostError> {
        check_name(&self.name)?;
        let dir = self
            .path
            .clone()
            .unwrap_or_else(|| PathBuf::from(&self.name));
        if dir.symlink_metadata().is_ok() {
            return Err(NewError::Exists { path: dir }.into());
        }
        let files = files(&self.name, self.kind, &core_dependency());
        write_crate(&dir, &files)?;
        let lib = library_file(&self.name);
        println!(
            "Created the {} plugin `{}` in {}. Next:\n  cd {}\n  cargo test\n  cargo build --release\n  host run target/release/{lib}",
            match self.kind {
                Kind::Workload => "workload",
                Kind::Animal => "animal",
            },
            self.name,
            dir.display(),
            dir.display(),
        );
        Ok(Outcome::Success)
    }
}

/// Writes `files` into a new directory `dir`, all or nothing: they are written into a temporary
/// directory beside it, which is renamed to `dir` once every file is whole (never over something
/// that appeared there meanwhile). When anything fails, the temporary directory goes, and so do
/// the missing parent directories this created, so a second try starts from a clean slate.
fn write_crate(dir: &Path, files: &[(&str, String)]) -> Result<(), NewError> {
    let absolute = std::path::absolute(dir).map_err(|source| NewError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let parent = absolute.parent().unwrap_or(Path::new("/"));
    let created = create_parents(parent)?;
    let written = write_beside(dir, &absolute, parent, files);
    if written.is_err() {
        // The deepest first: each was empty when made, and holds nothing now.
        for made in created.iter().rev() {
            let _ = std::fs::remove_dir(made);
        }
    }
    written
}

/// The missing directories of `parent`, created, outermost first.
fn create_parents(parent: &Path) -> Result<Vec<PathBuf>, NewError> {
    let missing: Vec<&Path> = parent
        .ancestors()
        .take_while(|ancestor| ancestor.symlink_metadata().is_err())
        .collect();
    let mut created = Vec::with_capacity(missing.len());
    for ancestor in missing.into_iter().rev() {
        if let Err(source) = std::fs::create_dir(ancestor) {
            for made in created.iter().rev() {
                let _ = std::fs::remove_dir(made);
            }
            return Err(NewError::Write {
                path: ancestor.to_path_buf(),
                source,
            });
        }
        created.push(ancestor.to_path_buf());
    }
    Ok(created)
}

/// [`write_crate`]'s work once `parent` exists: a private temporary directory there, the crate
/// inside it (made with the usual modes), the rename into place. Errors name the files as the
/// user will know them, under `dir`. The temporary directory goes when this returns, whatever
/// happened (once renamed, the crate is no longer in it).
fn write_beside(
    dir: &Path,
    absolute: &Path,
    parent: &Path,
    files: &[(&str, String)],
) -> Result<(), NewError> {
    let failed_at = |path: PathBuf| move |source| NewError::Write { path, source };
    let staging = tempfile::Builder::new()
        .prefix(".quack-new-")
        .tempdir_in(parent)
        .map_err(failed_at(dir.to_path_buf()))?;
    let built = staging.path().join("crate");
    std::fs::create_dir(&built).map_err(failed_at(dir.to_path_buf()))?;
    for (relative, content) in files {
        let path = built.join(relative);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(failed_at(dir.join(relative)))?;
        }
        write_whole(&path, content).map_err(failed_at(dir.join(relative)))?;
    }
    rename_no_replace(&built, absolute).map_err(|source| {
        if source.kind() == io::ErrorKind::AlreadyExists {
            NewError::Exists {
                path: dir.to_path_buf(),
            }
        } else {
            NewError::Write {
                path: dir.to_path_buf(),
                source,
            }
        }
    })
}

/// Writes `content` to a new file at `path` and makes sure it reached the disk whole.
fn write_whole(path: &Path, content: &str) -> io::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::File::create_new(path)?;
    file.write_all(content.as_bytes())?;
    file.sync_all()
}

/// Renames `from` to `to`, failing with `AlreadyExists` when something is at `to` (Linux's
/// `renameat2` with `RENAME_NOREPLACE`; elsewhere, or on a file system without it, a check and a
/// plain rename).
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt as _;
        let c_path = |path: &Path| {
            std::ffi::CString::new(path.as_os_str().as_bytes())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path holds a NUL byte"))
        };
        let (old, new) = (c_path(from)?, c_path(to)?);
        // SAFETY: two valid C strings, relative to the current directory (both are absolute).
        let renamed = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                old.as_ptr(),
                libc::AT_FDCWD,
                new.as_ptr(),
                libc::RENAME_NOREPLACE,
            )
        };
        if renamed == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if !matches!(error.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
            return Err(error);
        }
    }
    if to.symlink_metadata().is_ok() {
        return Err(io::ErrorKind::AlreadyExists.into());
    }
    std::fs::rename(from, to)
}

/// Checks that `name` is a crate name cargo accepts and that the crate `host new` writes with it
/// builds: a valid library name that is no Rust keyword, no crate of Rust's own or of the SDK the
/// crate depends on, and a type name that does not clash with a name the generated code uses.
fn check_name(name: &str) -> Result<(), NewError> {
    let invalid = |reason| {
        Err(NewError::InvalidName {
            name: name.to_owned(),
            reason,
        })
    };
    let Some(first) = name.chars().next() else {
        return invalid("it is empty");
    };
    if !first.is_ascii_alphabetic() {
        return invalid("it must start with a letter");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return invalid("it may hold only ASCII letters, digits, `-` and `_`");
    }
    if name.len() > 64 {
        return invalid("it is longer than 64 characters");
    }
    let lib = library_name(name);
    if is_keyword(&lib) {
        return invalid("it is a Rust keyword");
    }
    // Cargo's own directory names under target/, which it refuses as package names.
    const CARGO_RESERVED: &[&str] = &["build", "deps", "examples", "incremental"];
    if CARGO_RESERVED.contains(&name) {
        return invalid("it is reserved by cargo");
    }
    // Rust's crates, and the crates the new crate depends on: a crate cannot be one of its own
    // dependencies, and a second `std` would hide the real one.
    const CRATES: &[&str] = &[
        "std",
        "core",
        "alloc",
        "proc_macro",
        "test",
        "quack_core",
        "quack_abi",
        "quack_derive",
        "quack_host",
        "abi_stable",
        "serde",
        "serde_json",
        "serde_derive",
    ];
    if CRATES.contains(&lib.as_str()) {
        return invalid("it is the name of a crate of Rust's or of the Quack SDK's");
    }
    // The generated code names these types and items itself (its imports, the prelude's types,
    // its own structs): a plugin type of the same name would clash with them.
    const TYPES_IN_USE: &[&str] = &[
        "Self",
        "BoxError",
        "Config",
        "Deserialize",
        "Description",
        "Example",
        "Hint",
        "Methods",
        "Plugin",
        "Serialize",
        "Shape",
        "Sum",
        "Task",
        "TestPlugin",
        "Box",
        "Err",
        "None",
        "Ok",
        "Option",
        "Result",
        "Some",
        "String",
        "Vec",
    ];
    if TYPES_IN_USE.contains(&type_name(name).as_str()) {
        return invalid("its type name clashes with a name the generated code uses");
    }
    Ok(())
}

/// Whether `word` is a Rust keyword (strict or reserved, in the 2024 edition), which no crate or
/// type may be named.
fn is_keyword(word: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
        "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super",
        "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become", "box",
        "do", "final", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
    ];
    KEYWORDS.contains(&word)
}

/// The library's name in Rust: the crate name with `-` as `_`.
fn library_name(name: &str) -> String {
    name.replace('-', "_")
}

/// The file `cargo build` makes: `libNAME.so` on Linux.
fn library_file(name: &str) -> String {
    format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        library_name(name),
        std::env::consts::DLL_SUFFIX
    )
}

/// The plugin type's name: `fizz-buzz` -> `FizzBuzz`.
fn type_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// The quack-core dependency line: this checkout's core/ when the host was built from a checkout
/// that still has it, else the version of quack-core this host was built with.
fn core_dependency() -> String {
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core");
    if checkout.join("Cargo.toml").is_file() {
        let path = checkout.canonicalize().unwrap_or(checkout);
        // A TOML basic string: escape what would end or break it.
        let text = path
            .display()
            .to_string()
            .replace('\\', "\\\\")
            .replace('"', "\\\"");
        format!(
            "# The Quack checkout this host was built from; move it and this path must follow.\n\
             quack-core = {{ path = \"{text}\" }}"
        )
    } else {
        format!("quack-core = \"{}\"", env!("CARGO_PKG_VERSION"))
    }
}

/// Every file of the new crate, by path relative to its directory.
fn files(name: &str, kind: Kind, core_dependency: &str) -> Vec<(&'static str, String)> {
    let lib = library_name(name);
    let ty = type_name(name);
    let source = match kind {
        Kind::Workload => WORKLOAD,
        Kind::Animal => ANIMAL,
    };
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{lib}}", &lib)
            .replace("{{Type}}", &ty)
            .replace("{{library_file}}", &library_file(name))
            .replace("{{quack_core}}", core_dependency)
    };
    let mut readme = fill(README);
    readme.push_str(&fill(match kind {
        Kind::Workload => README_WORKLOAD,
        Kind::Animal => README_ANIMAL,
    }));
    vec![
        ("Cargo.toml", fill(CARGO_TOML)),
        ("src/lib.rs", fill(source)),
        ("README.md", readme),
        (".gitignore", "/target\n".to_owned()),
    ]
}

const CARGO_TOML: &str = r#"[package]
name = "{{name}}"
version = "0.1.0"
edition = "2024"
description = "A Quack plugin."
publish = false

[lib]
# cdylib: the shared library `host run` loads. rlib: lets `cargo test` link the plugin directly.
crate-type = ["cdylib", "rlib"]

[dependencies]
# The SDK and the stable ABI; plugins built against any quack-core with ABI 1.x load in every
# host with ABI 1.x (see `host inspect` for a plugin's ABI version).
{{quack_core}}
serde = { version = "1", features = ["derive"] }

# An empty workspace table: this crate is a workspace of its own, so it builds wherever it is,
# even inside another cargo workspace.
[workspace]

[profile.release]
# The host loads a plugin once and calls it in hot loops: a little more optimisation pays back.
codegen-units = 4
"#;

const WORKLOAD: &str = r#"//! `{{name}}`: a Quack workload plugin. `run(task)` sums the numbers from `task.from` to
//! `task.to`, each multiplied by the configured `scale`.
//!
//! Build it with `cargo build --release` and run it with
//! `host run target/release/{{library_file}}` (its default tasks), or give tasks:
//! `host run target/release/{{library_file}} --task '{"from": 1, "to": 100}' --set scale=2`.

use quack_core::serde_json::json;
use quack_core::{BoxError, Description, Example, Hint, Methods, Plugin, Shape, export_plugin};
use serde::{Deserialize, Serialize};

/// The configuration, from `--set scale=2` or `--config '{"scale": 2}'`. Unknown keys are
/// refused, so a mistyped `--set` is reported instead of ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// What each number is multiplied by.
    #[serde(default = "default_scale")]
    scale: u64,
}

fn default_scale() -> u64 {
    1
}

/// One task, as JSON: `{"from": 1, "to": 10}`. `Shape` names it in the method's signature.
#[derive(Deserialize, Shape)]
pub struct Task {
    from: u64,
    to: u64,
}

/// The result of one task.
#[derive(Serialize, Shape)]
pub struct Sum {
    total: u64,
    count: u64,
}

/// The plugin: one value per worker (the host makes one instance per worker), so it may keep
/// state between tasks without locks.
pub struct {{Type}} {
    scale: u64,
}

impl {{Type}} {
    /// One task. An `Err` is reported as this task's error; a panic is caught and reported too.
    fn run(&mut self, task: Task) -> Result<Sum, String> {
        if task.from > task.to {
            return Err(format!("from ({}) is after to ({})", task.from, task.to));
        }
        let mut total: u64 = 0;
        for n in task.from..=task.to {
            total = n
                .checked_mul(self.scale)
                .and_then(|scaled| total.checked_add(scaled))
                .ok_or_else(|| format!("the sum up to {n} does not fit in 64 bits"))?;
        }
        Ok(Sum {
            total,
            count: task.to - task.from + 1,
        })
    }
}

impl Plugin for {{Type}} {
    type Config = Config;

    fn describe() -> Description {
        Description::new("{{name}}", env!("CARGO_PKG_VERSION"))
            .summary("Sums ranges of numbers, scaled")
            .hint(Hint::Cpu)
            .default_input([json!({"from": 1, "to": 10}), json!({"from": 1, "to": 1000})])
            .example(Example::returns(
                "run",
                json!({"from": 1, "to": 4}),
                json!({"total": 10, "count": 4}),
            ))
            .example(
                Example::returns(
                    "run",
                    json!({"from": 1, "to": 4}),
                    json!({"total": 30, "count": 4}),
                )
                .with_config(json!({"scale": 3})),
            )
            .example(Example::fails("run", json!({"from": 5, "to": 1}), "is after"))
    }

    fn new(config: Config) -> Result<Self, BoxError> {
        Ok({{Type}} {
            scale: config.scale,
        })
    }

    fn methods(methods: &mut Methods<Self>) {
        methods.add("run", {{Type}}::run);
    }
}

export_plugin!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;
    use quack_core::testing::TestPlugin;

    #[test]
    fn the_examples_hold() {
        assert_eq!(TestPlugin::of::<{{Type}}>().assert_examples(), 3);
    }

    #[test]
    fn a_task_that_overflows_is_an_error_not_a_crash() {
        let plugin = TestPlugin::of::<{{Type}}>();
        let mut instance = plugin.instance(json!({"scale": u64::MAX})).expect("a valid config");
        let error = instance
            .call("run", json!({"from": 1, "to": 3}))
            .expect_err("the sum overflows");
        assert!(error.to_string().contains("does not fit"), "{error}");
    }
}
"#;

const ANIMAL: &str = r#"//! `{{name}}`: a Quack animal plugin. It has `name()` and `sound()`, so the host makes it speak:
//! `host run target/release/{{library_file}}`, or `--set name=Polly` for another name.

use quack_core::serde_json::json;
use quack_core::{BoxError, Description, Example, Methods, Plugin, export_plugin};
use serde::Deserialize;

/// The configuration, from `--set name=Polly`. Unknown keys are refused, so a mistyped `--set` is
/// reported instead of ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// What the animal is called.
    #[serde(default = "default_name")]
    name: String,
}

fn default_name() -> String {
    "{{Type}}".to_owned()
}

/// The plugin: one value per worker.
pub struct {{Type}} {
    name: String,
}

impl {{Type}} {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn sound(&self) -> String {
        "Hello!".to_owned()
    }
}

impl Plugin for {{Type}} {
    type Config = Config;

    fn describe() -> Description {
        Description::new("{{name}}", env!("CARGO_PKG_VERSION"))
            .summary("An animal that says hello")
            .example(Example::returns("sound", json!(null), json!("Hello!")))
            .example(
                Example::returns("name", json!(null), json!("Polly"))
                    .with_config(json!({"name": "Polly"})),
            )
    }

    fn new(config: Config) -> Result<Self, BoxError> {
        Ok({{Type}} { name: config.name })
    }

    fn methods(methods: &mut Methods<Self>) {
        methods
            .add("name", {{Type}}::name)
            .add("sound", {{Type}}::sound);
    }
}

export_plugin!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;
    use quack_core::testing::TestPlugin;

    #[test]
    fn the_examples_hold() {
        assert_eq!(TestPlugin::of::<{{Type}}>().assert_examples(), 2);
    }

    #[test]
    fn its_name_comes_from_the_default_config() {
        let plugin = TestPlugin::of::<{{Type}}>();
        let mut animal = plugin.instance(json!({})).expect("an empty config is valid");
        assert_eq!(animal.call("name", json!(null)).expect("name answers"), json!("{{Type}}"));
    }
}
"#;

const README: &str = r#"# {{name}}

A [Quack](https://example.invalid/quack) plugin, made with `host new`.

```sh
cargo test                                   # the examples and the tests, in-process
cargo build --release                        # builds target/release/{{library_file}}
host run target/release/{{library_file}}     # loads it in the host and runs it
```

(`host` is the Quack host; give its full path if it is not on your `PATH`.) `host inspect
target/release/{{library_file}}` shows the plugin's methods, their signatures and the interfaces
they satisfy. The guide for plugin authors is `docs/writing-plugins.md` in the Quack repository.
"#;

const README_WORKLOAD: &str = r#"
Give it tasks of your own, and a configuration:

```sh
host run target/release/{{library_file}} --task '{"from": 1, "to": 100}' --set scale=2
```
"#;

const README_ANIMAL: &str = r#"
Give it another name:

```sh
host run target/release/{{library_file}} --set name=Polly
```
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_names_are_checked_before_anything_is_written() {
        for good in ["demo", "my-plugin", "fizz_buzz2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "2fast",
            "my plugin",
            "café",
            "-x",
            "test",
            "fn",
            "self",
            "Self",
            "crate",
            "super",
            "quack-core",
            "quack_abi",
            "quack-derive",
            "std",
            "core",
            "alloc",
            "proc_macro",
            "proc-macro",
            "serde",
            "task",
            "config",
            "plugin",
            "result",
            "string",
        ] {
            let error = check_name(bad).expect_err(bad);
            assert!(
                error.to_string().contains("is not a valid crate name"),
                "{error}"
            );
            assert_eq!(HostError::from(error).exit_code(), 15, "{bad}");
        }
    }

    #[test]
    fn the_command_line_takes_a_name_a_kind_and_a_path() {
        use clap::Parser;
        let cases: &[(&[&str], bool)] = &[
            (&["host", "new", "demo"], true),
            (
                &["host", "new", "parrot", "--kind", "animal", "--path", "x/y"],
                true,
            ),
            (&["host", "new", "demo", "--kind", "fish"], false),
            (&["host", "new"], false),
        ];
        for (line, valid) in cases {
            assert_eq!(
                super::super::Cli::try_parse_from(*line).is_ok(),
                *valid,
                "{line:?}"
            );
        }
    }

    #[test]
    fn names_become_rust_names() {
        assert_eq!(type_name("fizz-buzz"), "FizzBuzz");
        assert_eq!(type_name("demo"), "Demo");
        assert_eq!(library_name("fizz-buzz"), "fizz_buzz");
    }

    #[test]
    fn every_placeholder_is_filled() {
        for kind in [Kind::Workload, Kind::Animal] {
            for (path, content) in files("fizz-buzz", kind, "quack-core = \"0.1.0\"") {
                assert!(!content.contains("{{"), "{path} keeps a placeholder");
            }
        }
    }
}
