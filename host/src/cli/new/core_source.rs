//! Where the crate `host new` writes gets quack-core from, decided when `host new` runs (the
//! crate is not on crates.io yet): `--core PATH`, `--git URL`, the `QUACK_CORE` environment
//! variable, or the Quack checkout the running `host` binary sits in, in that order. Never the
//! directory the binary was compiled in, which a copied or installed host does not have.

use std::{
    fmt,
    io::Read as _,
    path::{Path, PathBuf},
};

use super::NewError;

/// The environment variable naming a Quack checkout (or its core/ directory) to depend on.
pub(super) const CORE_ENV: &str = "QUACK_CORE";

/// The most of a Cargo.toml that is read to tell whether it is quack-core's.
const MANIFEST_LIMIT: u64 = 1 << 20;

/// Which commit of a git repository to depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum GitReference {
    /// A commit (or tag) to pin: `rev = "..."`.
    Rev(String),
    /// A branch to follow: `branch = "..."`.
    Branch(String),
}

/// What the user asked for on the command line.
#[derive(Debug, Clone, Default)]
pub(super) struct CoreRequest {
    /// `--core PATH`.
    pub(super) core: Option<PathBuf>,
    /// `--git URL`, and `--rev` or `--branch`.
    pub(super) git: Option<(String, Option<GitReference>)>,
}

/// Where the new crate's quack-core comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CoreSource {
    /// A quack-core directory on this machine, and what chose it.
    Path { dir: PathBuf, chosen_by: ChosenBy },
    /// A git repository holding quack-core (cargo finds the package in it).
    Git {
        url: String,
        reference: Option<GitReference>,
    },
}

/// What chose a quack-core directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChosenBy {
    /// `--core PATH`.
    CoreFlag,
    /// The `QUACK_CORE` environment variable.
    Env,
    /// The Quack checkout the running `host` binary sits in.
    Checkout,
}

impl fmt::Display for ChosenBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChosenBy::CoreFlag => "--core",
            ChosenBy::Env => CORE_ENV,
            ChosenBy::Checkout => "the Quack checkout this host binary sits in",
        })
    }
}

impl CoreSource {
    /// Finds quack-core for `request`: `--core`, else `--git`, else `QUACK_CORE` (when set and
    /// not empty), else the checkout the running binary sits in. A path given that holds no
    /// quack-core is an error naming it (never a silent fall-through to the next source).
    pub(super) fn find(request: CoreRequest) -> Result<Self, NewError> {
        if let Some(path) = request.core {
            return core_dir(&path, ChosenBy::CoreFlag);
        }
        if let Some((url, reference)) = request.git {
            return Ok(CoreSource::Git { url, reference });
        }
        if let Some(value) = std::env::var_os(CORE_ENV).filter(|value| !value.is_empty()) {
            return core_dir(Path::new(&value), ChosenBy::Env);
        }
        match checkout_of_running_binary() {
            Some(dir) => Ok(CoreSource::Path {
                dir,
                chosen_by: ChosenBy::Checkout,
            }),
            None => Err(NewError::NoCore),
        }
    }

    /// The dependency line of the new crate's Cargo.toml.
    pub(super) fn dependency(&self) -> String {
        match self {
            CoreSource::Path { dir, .. } => format!(
                "quack-core = {{ path = {} }}",
                toml_string(&dir.display().to_string())
            ),
            CoreSource::Git { url, reference } => {
                let pinned = match reference {
                    Some(GitReference::Rev(rev)) => format!(", rev = {}", toml_string(rev)),
                    Some(GitReference::Branch(branch)) => {
                        format!(", branch = {}", toml_string(branch))
                    }
                    None => String::new(),
                };
                format!("quack-core = {{ git = {}{pinned} }}", toml_string(url))
            }
        }
    }
}

impl fmt::Display for CoreSource {
    /// "quack-core from /src/quack/core (--core)", for `host new`'s output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreSource::Path { dir, chosen_by } => {
                write!(f, "quack-core from {} ({chosen_by})", dir.display())
            }
            CoreSource::Git { url, reference } => {
                write!(f, "quack-core from the git repository {url} (--git")?;
                match reference {
                    Some(GitReference::Rev(rev)) => write!(f, ", --rev {rev})"),
                    Some(GitReference::Branch(branch)) => write!(f, ", --branch {branch})"),
                    None => f.write_str(", its default branch)"),
                }
            }
        }
    }
}

/// The quack-core directory that `path` names: `path` itself when it is quack-core's package,
/// or its `core/` when `path` is a Quack checkout's root. Made absolute, since the new crate
/// lives elsewhere.
fn core_dir(path: &Path, chosen_by: ChosenBy) -> Result<CoreSource, NewError> {
    let found = [path.to_path_buf(), path.join("core")]
        .into_iter()
        .find(|dir| is_quack_core(dir));
    match found {
        Some(dir) => Ok(CoreSource::Path {
            dir: absolute(&dir),
            chosen_by,
        }),
        None => Err(NewError::NotCore {
            path: path.to_path_buf(),
            given_by: chosen_by.to_string(),
        }),
    }
}

/// The `core/` of the Quack checkout the running binary sits in: the first directory above the
/// binary whose Cargo.toml is a workspace and whose `core/` is quack-core's package.
fn checkout_of_running_binary() -> Option<PathBuf> {
    let binary = std::env::current_exe().ok()?;
    let binary = binary.canonicalize().unwrap_or(binary);
    binary
        .ancestors()
        .skip(1)
        .find(|dir| {
            read_manifest(&dir.join("Cargo.toml"))
                .is_some_and(|manifest| manifest.contains_key("workspace"))
                && is_quack_core(&dir.join("core"))
        })
        .map(|dir| absolute(&dir.join("core")))
}

/// Whether `dir` holds the quack-core package: its Cargo.toml's `package.name` is `quack-core`.
fn is_quack_core(dir: &Path) -> bool {
    read_manifest(&dir.join("Cargo.toml")).is_some_and(|manifest| {
        manifest
            .get("package")
            .and_then(|package| package.get("name"))
            .and_then(toml::Value::as_str)
            == Some("quack-core")
    })
}

/// The Cargo.toml at `path` as a table, when it is a regular file of TOML of at most
/// [`MANIFEST_LIMIT`] bytes (a FIFO, a device or a huge file is never read whole, and is none).
fn read_manifest(path: &Path) -> Option<toml::Table> {
    if !path.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MANIFEST_LIMIT + 1)
        .read_to_string(&mut text)
        .ok()?;
    if text.len() as u64 > MANIFEST_LIMIT {
        return None;
    }
    text.parse().ok()
}

/// `path` absolute and without symbolic links when it can be, else only absolute.
fn absolute(path: &Path) -> PathBuf {
    path.canonicalize()
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// `text` as a TOML string, quoted and escaped.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Quack checkout holding this source file.
    fn checkout() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .canonicalize()
            .unwrap()
    }

    #[test]
    fn a_checkout_or_its_core_directory_is_quack_core_and_anything_else_is_named() {
        let root = checkout();
        let expected = CoreSource::Path {
            dir: root.join("core"),
            chosen_by: ChosenBy::CoreFlag,
        };
        assert_eq!(core_dir(&root, ChosenBy::CoreFlag).unwrap(), expected);
        assert_eq!(
            core_dir(&root.join("core"), ChosenBy::CoreFlag).unwrap(),
            expected
        );
        let error = core_dir(&root.join("host"), ChosenBy::Env).unwrap_err();
        assert!(
            error.to_string().starts_with(&format!(
                "QUACK_CORE {}/host holds no quack-core",
                root.display()
            )),
            "{error}"
        );
    }

    #[test]
    fn dependency_lines_are_toml_whatever_the_path_or_url_holds() {
        let odd = CoreSource::Path {
            dir: PathBuf::from("/src/a \"quoted\" \\ dir\n/core"),
            chosen_by: ChosenBy::CoreFlag,
        };
        let git = CoreSource::Git {
            url: "https://example.invalid/quack".to_owned(),
            reference: Some(GitReference::Branch("main".to_owned())),
        };
        for (source, key, value) in [
            (&odd, "path", "/src/a \"quoted\" \\ dir\n/core"),
            (&git, "git", "https://example.invalid/quack"),
        ] {
            let table: toml::Table = source.dependency().parse().unwrap();
            assert_eq!(table["quack-core"][key].as_str(), Some(value), "{source}");
        }
        assert_eq!(
            git.dependency(),
            r#"quack-core = { git = "https://example.invalid/quack", branch = "main" }"#
        );
    }
}
