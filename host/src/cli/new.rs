//! `host new`: writes a new plugin crate, out of this tree, that builds, passes its test and runs
//! under `host run` as generated: a Cargo.toml to keep, a plugin with a struct task using
//! `#[derive(Shape)]` (a Splittable one, or an animal), examples, tests through
//! `quack_core::testing`, and a README with the three commands. quack-core is found when it runs
//! ([`core_source`]). Names that would not build are refused, and the crate appears whole or not
//! at all: it is written beside its place and renamed into it.

mod core_source;
mod templates;

use std::{
    io,
    path::{Path, PathBuf},
};

use clap::{Args, ValueEnum};

use super::Outcome;
use crate::cli::error::HostError;
use core_source::{CoreRequest, CoreSource, GitReference};
use templates::files;

const NEW_EXAMPLES: &str = "\
Examples:
  host new primes
  host new primes --kind splittable --core ~/src/quack
  host new parrot --kind animal --path ~/src/parrot --git https://example.invalid/quack

quack-core is not on crates.io yet, so the crate depends on it by path or git, found in this
order: --core PATH (a Quack checkout or its core/ directory), --git URL (with --rev or
--branch), the QUACK_CORE environment variable (a path, as --core), the Quack checkout this host
binary sits in. With none of them, host new says so and writes nothing (exit code 15).

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

    /// What the plugin is: a workload (`run(task)`), a Splittable workload (with `split` and
    /// `merge`), or an animal (`name()`, `sound()`).
    #[arg(long, value_enum, default_value_t = Kind::Workload)]
    kind: Kind,

    /// The directory to create [default: ./NAME]
    #[arg(long)]
    path: Option<PathBuf>,

    /// Depend on the quack-core at PATH: a Quack checkout, or its core/ directory [default: the
    /// QUACK_CORE environment variable, else the checkout this host binary sits in]
    #[arg(long, value_name = "PATH", conflicts_with = "git")]
    core: Option<PathBuf>,

    /// Depend on quack-core from the Quack git repository at URL
    #[arg(long, value_name = "URL")]
    git: Option<String>,

    /// With --git: the commit (or tag) to pin
    #[arg(long, value_name = "REV", requires = "git", conflicts_with = "branch")]
    rev: Option<String>,

    /// With --git: the branch to follow [default: the repository's default branch]
    #[arg(long, value_name = "BRANCH", requires = "git")]
    branch: Option<String>,
}

/// The kinds of plugin `host new` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    /// `run(task) -> result`: the host runs its tasks.
    Workload,
    /// `run`, and `split` and `merge`: the host may cut one large task into parts for its workers.
    Splittable,
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
    /// No quack-core was given, and none was found.
    #[error(
        "no quack-core was found for the new crate to depend on (this host binary does not sit in a Quack checkout, and QUACK_CORE is not set); pass --core PATH (a Quack checkout or its core/ directory) or --git URL (the Quack repository), or set QUACK_CORE to a checkout"
    )]
    NoCore,
    /// The path given for quack-core holds none.
    #[error(
        "{given_by} {path} holds no quack-core (neither it nor its core/ directory has the Cargo.toml of the quack-core package); give a Quack checkout or its core/ directory"
    )]
    NotCore {
        /// The path given.
        path: PathBuf,
        /// What gave it: `--core` or the environment variable.
        given_by: String,
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
        let core = CoreSource::find(CoreRequest {
            core: self.core,
            git: self.git.map(|url| {
                let reference = match (self.rev, self.branch) {
                    (Some(rev), _) => Some(GitReference::Rev(rev)),
                    (None, Some(branch)) => Some(GitReference::Branch(branch)),
                    (None, None) => None,
                };
                (url, reference)
            }),
        })?;
        let files = files(&self.name, self.kind, &core.dependency());
        write_crate(&dir, &files)?;
        let lib = library_file(&self.name);
        println!(
            "Created the {} plugin `{}` in {}, with {core}. Next:\n  cd {}\n  cargo test\n  cargo build --release\n  host run target/release/{lib}",
            match self.kind {
                Kind::Workload => "workload",
                Kind::Splittable => "Splittable workload",
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
        "Count",
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
        for kind in [Kind::Workload, Kind::Splittable, Kind::Animal] {
            for (path, content) in files("fizz-buzz", kind, "quack-core = \"0.1.0\"") {
                assert!(!content.contains("{{"), "{path} keeps a placeholder");
            }
        }
    }
}
