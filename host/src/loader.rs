//! Loading a plugin library into this process: opened, checked and described
//! ([`LoadedPlugin::load`]), and [`LoadError`], the one clear sentence for each way that can fail.
//!
//! Loading goes in steps so that each failure gets its own sentence and exit code: does the file
//! exist; does the dynamic loader accept it (libloading); does it speak the C ABI of quack.h
//! (it exports `quack_plugin_v1`: then `cabi` checks it); or does it export an abi_stable root module
//! named `quack_plugin`; is its ABI major version ours; does abi_stable's layout check pass
//! (`lib_header_from_path` + `init_root_module`, never `RootModule::load_from_file`, which caches
//! one module per type); does `describe` answer. Libraries are never unloaded.
//!
//! A [`PluginFile`] is a plugin opened once (never a FIFO or device, of bounded size), hashed from
//! that descriptor and loaded from it ([`LoadedPlugin::load_file`], through the descriptor's
//! `/proc/self/fd` path): what is loaded is the file that was checked, whatever happens to its
//! path meanwhile.

use std::{
    fs::{File, Metadata},
    os::{
        fd::AsRawFd,
        unix::fs::{FileExt, OpenOptionsExt},
    },
    path::{Path, PathBuf},
    sync::Arc,
};

use quack_core::{
    ABI_VERSION, Description, PluginModRef, ROOT_MODULE_NAME,
    abi_stable::{
        library::{LibraryError, RootModule, lib_header_from_path},
        sabi_types::VersionNumber,
    },
};

use crate::{
    cabi,
    interfaces::Signature,
    plugin::{Code, Content, LoadedPlugin, PluginInfo},
};

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The path names no file.
    #[error(
        "{path}: no such file; check the path (the README's set-up command builds the plugins into plugins/)"
    )]
    NotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The dynamic loader refused the file.
    #[error(
        "{path} is not a shared library the system can load ({reason}); give a plugin built as a cdylib"
    )]
    NotSharedLibrary {
        /// The path given.
        path: PathBuf,
        /// What the dynamic loader said.
        reason: String,
    },
    /// A real shared library without a Quack root module.
    #[error(
        "{path} is a shared library but not a Quack plugin ({reason}); a Rust plugin exports its module with quack_core::export_plugin!, a C-ABI plugin its table as quack_plugin_v1 (sdk/c/quack.h)"
    )]
    NotAPlugin {
        /// The path given.
        path: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// A Quack plugin built against another major version of the ABI.
    #[error(
        "{path} was built for Quack ABI {plugin_abi} but this host speaks ABI {host_abi}; rebuild the plugin against a quack-core with ABI {host_abi}"
    )]
    AbiMismatch {
        /// The path given.
        path: PathBuf,
        /// The ABI version the plugin declares.
        plugin_abi: String,
        /// The ABI version of this host.
        host_abi: String,
    },
    /// A C-ABI plugin (quack.h) of another major version.
    #[error(
        "{path} was built for Quack's C ABI {plugin_abi} but this host speaks C ABI {host_abi}; rebuild the plugin with the quack.h of C ABI {host_abi} (sdk/c/quack.h in the host's sources)"
    )]
    CAbiMismatch {
        /// The path given.
        path: PathBuf,
        /// The C ABI version the plugin's table declares.
        plugin_abi: String,
        /// The C ABI version of this host.
        host_abi: String,
    },
    /// A plugin that declares this host's ABI version but whose ABI types have another layout:
    /// the ABI crate was changed without a new version.
    #[error(
        "{path} declares Quack ABI {abi}, as this host does, but its ABI types differ from the host's ({difference}); the ABI was changed without a new version, so rebuild the plugin against the quack-abi this host was built with"
    )]
    LayoutMismatch {
        /// The path given.
        path: PathBuf,
        /// The ABI version both declare.
        abi: String,
        /// abi_stable's most telling difference, on one line.
        difference: String,
    },
    /// A program plugin (a file starting with `#!`) that could not be started or described.
    #[error("{path} is a program plugin (its first line starts with #!) but {error}")]
    Program {
        /// The path given.
        path: PathBuf,
        /// What went wrong.
        error: crate::program::ProgramError,
    },
    /// The plugin's `describe` or `methods` failed, panicked or answered nonsense, or its C
    /// table is broken.
    #[error(
        "{path} is a Quack plugin but its {step} failed ({reason}); this is a bug in the plugin"
    )]
    DescribeFailed {
        /// The path given.
        path: PathBuf,
        /// Which step: `describe`, `methods` or `initialisation`.
        step: &'static str,
        /// What went wrong.
        reason: String,
    },
}

impl LoadedPlugin {
    /// Opens and checks the plugin at `path`.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        Self::load_path(path, false)
    }

    /// Opens and checks the plugin at `path` to run it here: a program plugin that described
    /// itself is kept running for the host's first instance (the split, the merge or an inline
    /// run), so that describing it costs no second start of its interpreter.
    pub fn load_to_run(path: &Path) -> Result<Self, LoadError> {
        Self::load_path(path, true)
    }

    fn load_path(path: &Path, keep_program: bool) -> Result<Self, LoadError> {
        // The one place a plugin's path is made absolute: dlopen searches the library path for
        // a bare file name, and workers may start in another directory.
        let file = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        Self::load_as(&file, path, &file, keep_program)
    }

    /// Opens and checks the plugin held open in `plugin`: the dynamic loader maps that very file
    /// (through its descriptor), so what runs is what was hashed, even if its path now names
    /// another file. The plugin's content is the one hashed, and errors name the file's path.
    pub fn load_file(plugin: &PluginFile) -> Result<Self, LoadError> {
        // A worker makes its instance at once: a program that described itself is kept for it.
        let loaded = Self::load_as(&plugin.descriptor_path(), &plugin.path, &plugin.path, true)?;
        if let Some(sha256) = &plugin.sha256 {
            loaded.info.record_content(Content {
                size: plugin.metadata.len(),
                sha256: sha256.clone(),
            });
        }
        Ok(loaded)
    }

    /// Loads the library (or starts the program) at `file`, the plugin the user knows as `path`
    /// and the rest of the host as `absolute`; every error names `path`. A program that described
    /// itself is kept for the first instance when `keep_program`.
    fn load_as(
        file: &Path,
        path: &Path,
        absolute: &Path,
        keep_program: bool,
    ) -> Result<Self, LoadError> {
        let owned = || path.to_path_buf();
        // Only a regular file goes to the dynamic loader: dlopen on a FIFO blocks for ever.
        let metadata = match std::fs::metadata(file) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(LoadError::NotFound { path: owned() });
            }
            Err(error) => {
                return Err(LoadError::NotSharedLibrary {
                    path: owned(),
                    reason: format!("it cannot be read: {error}"),
                });
            }
        };
        if let Some(what) = not_a_file(&metadata.file_type()) {
            return Err(LoadError::NotSharedLibrary {
                path: owned(),
                reason: format!("it is {what}, not a file"),
            });
        }
        if crate::program::is_program(file) {
            return Self::from_program(file, path, absolute, keep_program);
        }
        check_elf_size(file, metadata.len()).map_err(|reason| LoadError::NotSharedLibrary {
            path: owned(),
            reason,
        })?;
        // First the plain dynamic loader, to tell "not a library" from "not a plugin".
        // SAFETY: loading a library runs its initialisers; that is what the user asked for.
        let library = unsafe { libloading::Library::new(file) }.map_err(|error| {
            let detail = std::error::Error::source(&error)
                .map_or_else(|| error.to_string(), |source| source.to_string());
            LoadError::NotSharedLibrary {
                path: owned(),
                reason: loader_reason(file, &detail),
            }
        })?;
        if cabi::speaks_c_abi(&library) {
            let described = cabi::load(library, path)?;
            let info = PluginInfo::new(
                path,
                absolute,
                described.plugin.abi_version(),
                described.description,
                described.methods,
            );
            return Ok(LoadedPlugin {
                info: Arc::new(info),
                code: Code::C(described.plugin),
            });
        }
        let symbol = quack_core::abi_stable::library::ROOT_MODULE_LOADER_NAME_WITH_NUL;
        // SAFETY: only the symbol's presence is checked; nothing is read through it here.
        if unsafe { library.get::<*const u8>(symbol.as_bytes()) }.is_err() {
            return Err(LoadError::NotAPlugin {
                path: owned(),
                reason:
                    "it exports neither an abi_stable root module nor quack.h's quack_plugin_v1"
                        .to_owned(),
            });
        }

        let header = lib_header_from_path(file).map_err(|error| match error {
            LibraryError::InvalidAbiHeader(header) => LoadError::NotAPlugin {
                path: owned(),
                reason: format!("it was built with an incompatible abi_stable ({header:?})"),
            },
            other => LoadError::NotAPlugin {
                path: owned(),
                reason: one_line(&other.to_string()),
            },
        })?;
        // Only now let go of the first handle: dropped before abi_stable's own dlopen, it would
        // unload the library and make abi_stable map it all over again.
        drop(library);
        let consts = header.root_mod_consts();
        if consts.name().as_str() != ROOT_MODULE_NAME {
            return Err(LoadError::NotAPlugin {
                path: owned(),
                reason: format!("its root module is `{}`", consts.name()),
            });
        }
        let plugin_abi = header.version_strings().version.as_str().to_owned();
        let compatible = match (
            VersionNumber::new(header.version_strings()),
            VersionNumber::new(PluginModRef::VERSION_STRINGS),
        ) {
            (Ok(theirs), Ok(ours)) => theirs.major == ours.major,
            _ => false,
        };
        let mismatch = || LoadError::AbiMismatch {
            path: owned(),
            plugin_abi: plugin_abi.clone(),
            host_abi: ABI_VERSION.to_owned(),
        };
        if !compatible {
            return Err(mismatch());
        }
        let module = header
            .init_root_module::<PluginModRef>()
            .map_err(|error| match error {
                LibraryError::AbiInstability(report) => LoadError::LayoutMismatch {
                    path: owned(),
                    abi: plugin_abi.clone(),
                    difference: layout_difference(&report.to_string()),
                },
                LibraryError::IncompatibleVersionNumber { .. } => mismatch(),
                other => LoadError::DescribeFailed {
                    path: owned(),
                    step: "initialisation",
                    reason: one_line(&other.to_string()),
                },
            })?;
        Self::from_module(path, absolute, plugin_abi, module)
    }

    /// Asks a checked root module for its description and methods.
    fn from_module(
        path: &Path,
        absolute: &Path,
        abi_version: String,
        module: PluginModRef,
    ) -> Result<Self, LoadError> {
        let failed = |step, reason: String| LoadError::DescribeFailed {
            path: path.to_path_buf(),
            step,
            reason,
        };
        let json = (module.describe())()
            .into_result()
            .map_err(|error| failed("describe", error.to_string()))?;
        let description: Description = serde_json::from_str(&json)
            .map_err(|error| failed("describe", format!("its JSON is invalid: {error}")))?;
        let methods = (module.methods())()
            .into_result()
            .map_err(|error| failed("methods", error.to_string()))?
            .into_iter()
            .map(|sig| Signature {
                name: sig.name.into_string(),
                params: sig.params.into_iter().map(|p| p.into_string()).collect(),
                result: sig.result.into_string(),
            })
            .collect();
        Ok(LoadedPlugin {
            info: Arc::new(PluginInfo::new(
                path,
                absolute,
                abi_version,
                description,
                methods,
            )),
            code: Code::Rust(module),
        })
    }

    /// Starts the program in `file` (known as `path`, run as `absolute`) and asks what it is.
    fn from_program(
        file: &Path,
        path: &Path,
        absolute: &Path,
        keep: bool,
    ) -> Result<Self, LoadError> {
        let failed = |error| LoadError::Program {
            path: path.to_path_buf(),
            error,
        };
        let program = crate::program::Program::at(absolute, file).map_err(failed)?;
        let described = crate::program::describe(program, keep).map_err(failed)?;
        Ok(LoadedPlugin {
            info: Arc::new(PluginInfo::new(
                path,
                absolute,
                described.abi_version,
                described.description,
                described.methods,
            )),
            code: Code::Program(Arc::new(described.plugin)),
        })
    }
}

/// The largest plugin file a worker opens, hashes or receives (1 GiB): anything larger is refused
/// before it is read, so a huge file is never read to the end.
pub const MAX_PLUGIN_SIZE: u64 = 1 << 30;

/// Why a file cannot be a plugin to load: one phrase about the file, after its path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefused {
    /// Nothing is there.
    #[error("{path} does not exist")]
    Missing {
        /// The path.
        path: PathBuf,
    },
    /// A symbolic link where none may be.
    #[error("{path} is a symbolic link, not a file")]
    Symlink {
        /// The path.
        path: PathBuf,
    },
    /// A FIFO, device, directory or socket.
    #[error("{path} is {what}, not a file")]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead.
        what: &'static str,
    },
    /// More bytes than a plugin may have.
    #[error("{path} is larger ({size} bytes) than the {MAX_PLUGIN_SIZE} bytes a plugin may have")]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// Its size as far as it was seen.
        size: u64,
    },
    /// The system refused to open or read it.
    #[error("{path} cannot be read ({reason})")]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// What the system said.
        reason: String,
    },
}

impl FileRefused {
    /// What is wrong with the file, without its path.
    pub fn reason(&self) -> String {
        match self {
            FileRefused::Missing { .. } => "no such file".to_owned(),
            FileRefused::Symlink { .. } => "it is a symbolic link".to_owned(),
            FileRefused::NotAFile { what, .. } => format!("it is {what}, not a file"),
            FileRefused::TooLarge { size, .. } => format!(
                "it is larger ({size} bytes) than the {MAX_PLUGIN_SIZE} bytes a plugin may have"
            ),
            FileRefused::Unreadable { reason, .. } => reason.clone(),
        }
    }
}

/// A plugin file held open: opened once without blocking (a FIFO cannot stall the open), found
/// to be a regular file of at most [`MAX_PLUGIN_SIZE`] bytes, and hashed from this descriptor when
/// asked. [`LoadedPlugin::load_file`] loads this very file.
#[derive(Debug)]
pub struct PluginFile {
    file: File,
    path: PathBuf,
    metadata: Metadata,
    sha256: Option<String>,
}

impl PluginFile {
    /// Opens the file at `path`, following symbolic links (the user's own path to a plugin may
    /// be one).
    pub fn open(path: &Path) -> Result<Self, FileRefused> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
            .open(path)
            .map_err(|error| refused_open(path, &error))?;
        Self::from_file(file, path.to_path_buf())
    }

    /// Checks a file opened by the caller (with `O_NONBLOCK`, and `O_NOFOLLOW` where a link
    /// may not be followed); `path` is where it was found, for messages.
    pub fn from_file(file: File, path: PathBuf) -> Result<Self, FileRefused> {
        let metadata = file.metadata().map_err(|error| FileRefused::Unreadable {
            path: path.clone(),
            reason: error.to_string(),
        })?;
        if let Some(what) = not_a_file(&metadata.file_type()) {
            return Err(FileRefused::NotAFile { path, what });
        }
        if metadata.len() > MAX_PLUGIN_SIZE {
            let size = metadata.len();
            return Err(FileRefused::TooLarge { path, size });
        }
        Ok(PluginFile {
            file,
            path,
            metadata,
            sha256: None,
        })
    }

    /// The SHA-256 of the file's bytes, read from this descriptor (once; at most
    /// [`MAX_PLUGIN_SIZE`] bytes, however the file grows meanwhile).
    pub fn hash(&mut self) -> Result<&str, FileRefused> {
        let hash = match self.sha256.take() {
            Some(hash) => hash,
            None => self.read_hash()?,
        };
        Ok(self.sha256.insert(hash))
    }

    fn read_hash(&self) -> Result<String, FileRefused> {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 16];
        let mut offset = 0u64;
        loop {
            let read = match self.file.read_at(&mut buffer, offset) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    return Err(FileRefused::Unreadable {
                        path: self.path.clone(),
                        reason: error.to_string(),
                    });
                }
            };
            offset += read as u64;
            if offset > MAX_PLUGIN_SIZE {
                return Err(FileRefused::TooLarge {
                    path: self.path.clone(),
                    size: offset,
                });
            }
            hasher.update(&buffer[..read]);
        }
        Ok(hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect())
    }

    /// The hash computed by [`PluginFile::hash`], if it ran.
    pub fn sha256(&self) -> Option<&str> {
        self.sha256.as_deref()
    }

    /// Where the file was found.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's metadata, from its descriptor.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// A path that names this open file itself, not whatever its path names now.
    fn descriptor_path(&self) -> PathBuf {
        let fd = self.file.as_raw_fd();
        if cfg!(target_os = "linux") {
            PathBuf::from(format!("/proc/self/fd/{fd}"))
        } else {
            PathBuf::from(format!("/dev/fd/{fd}"))
        }
    }
}

/// The refusal for a failed open of `path`.
pub fn refused_open(path: &Path, error: &std::io::Error) -> FileRefused {
    let path = path.to_path_buf();
    match error.raw_os_error() {
        Some(libc::ENOENT) => FileRefused::Missing { path },
        Some(libc::ELOOP) => FileRefused::Symlink { path },
        _ => FileRefused::Unreadable {
            path,
            reason: error.to_string(),
        },
    }
}

/// What a file type is when it is not a regular file: "a directory", "a FIFO (named pipe)"...
fn not_a_file(kind: &std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if kind.is_char_device() || kind.is_block_device() {
        Some("a device")
    } else if kind.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    }
}

/// Refuses an ELF file shorter than its own headers say it is (a truncated copy), which the
/// dynamic loader may map and then fault on (SIGBUS) instead of refusing. A file that is not
/// 64-bit little-endian ELF is left to the dynamic loader's own checks.
fn check_elf_size(path: &Path, size: u64) -> Result<(), String> {
    use std::io::Read;
    let mut header = [0u8; 64];
    let read = std::fs::File::open(path)
        .and_then(|mut file| file.read(&mut header))
        .map_err(|error| format!("it cannot be read: {error}"))?;
    if read < 64 || header[..4] != *b"\x7fELF" || header[4] != 2 || header[5] != 1 {
        return Ok(());
    }
    let u64_at = |at: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&header[at..at + 8]);
        u64::from_le_bytes(bytes)
    };
    let u16_at = |at: usize| u64::from(u16::from_le_bytes([header[at], header[at + 1]]));
    // e_phoff, e_shoff, e_phentsize * e_phnum, e_shentsize * e_shnum.
    let program_end = u64_at(32).saturating_add(u16_at(54).saturating_mul(u16_at(56)));
    let section_end = u64_at(40).saturating_add(u16_at(58).saturating_mul(u16_at(60)));
    let mut needed = program_end.max(section_end);
    // Every segment the loader maps must be in the file.
    if program_end <= size {
        let count = usize::try_from(u16_at(56)).unwrap_or(0);
        let entry = usize::try_from(u16_at(54)).unwrap_or(0);
        if entry >= 56 {
            let mut table = vec![0u8; count * entry];
            let read = std::fs::File::open(path).and_then(|mut file| {
                use std::io::{Seek, SeekFrom};
                file.seek(SeekFrom::Start(u64_at(32)))?;
                file.read_exact(&mut table)
            });
            if read.is_ok() {
                for header in table.chunks_exact(entry) {
                    let field = |at: usize| {
                        let mut bytes = [0u8; 8];
                        bytes.copy_from_slice(&header[at..at + 8]);
                        u64::from_le_bytes(bytes)
                    };
                    // p_offset + p_filesz
                    needed = needed.max(field(8).saturating_add(field(32)));
                }
            }
        }
    }
    if needed > size {
        return Err(format!(
            "it is cut short: its headers need {needed} bytes but the file has {size}"
        ));
    }
    Ok(())
}

/// The dynamic loader's message without the path it repeats, on one line.
fn loader_reason(path: &Path, message: &str) -> String {
    let shown = path.display().to_string();
    let trimmed = message
        .split_once(&format!("{shown}: "))
        .map_or(message, |(_, rest)| rest);
    one_line(trimmed)
}

/// abi_stable's layout report (a dump of both layouts per type, hundreds of lines) reduced to its
/// most telling difference: "`PluginError`: too many fields, 2 in the host and 3 in the plugin".
///
/// The report cannot be downcast to abi_stable's error type (the check ran in the plugin's copy of
/// abi_stable), so its text is read: each block names the type compared ("Layout of expected
/// type:" then "type:NAME") and its differences ("Error:what", "Expected:", value, "Found:",
/// value). A size difference is only a consequence when another difference exists, so any other
/// kind is preferred; among equals, the innermost type (the last block) is the cause.
fn layout_difference(report: &str) -> String {
    struct Difference {
        type_name: Option<String>,
        what: String,
        expected: Option<String>,
        found: Option<String>,
    }
    let mut differences: Vec<Difference> = Vec::new();
    let mut current_type: Option<String> = None;
    let mut awaiting_type = false;
    let mut lines = report.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line.starts_with("Layout of expected type:") {
            awaiting_type = true;
        } else if awaiting_type && line.starts_with("type:") {
            current_type = Some(line["type:".len()..].trim().to_owned());
            awaiting_type = false;
        } else if let Some(what) = line.strip_prefix("Error:") {
            differences.push(Difference {
                type_name: current_type.clone(),
                what: what.trim().to_owned(),
                expected: None,
                found: None,
            });
        } else if line == "Expected:" || line == "Found:" {
            let value = lines.next().map(|value| shorten(value.trim()));
            if let Some(last) = differences.last_mut() {
                if line == "Expected:" {
                    last.expected = value;
                } else {
                    last.found = value;
                }
            }
        }
    }
    let chosen = differences
        .iter()
        .rev()
        .find(|difference| difference.what != "incompatible type size")
        .or_else(|| differences.last());
    match chosen {
        None => format!(
            "abi_stable reports: {}",
            shorten(
                report
                    .lines()
                    .find(|line| !line.trim().is_empty())
                    .unwrap_or("")
            )
        ),
        Some(difference) => {
            let mut text = String::new();
            if let Some(name) = &difference.type_name {
                text.push_str(&format!("`{name}`: "));
            }
            text.push_str(&difference.what);
            if let (Some(expected), Some(found)) = (&difference.expected, &difference.found) {
                text.push_str(&format!(
                    ", {expected} in the host and {found} in the plugin"
                ));
            }
            one_line(&text)
        }
    }
}

/// At most 60 characters of `text` on one line, marked when cut.
fn shorten(text: &str) -> String {
    let line = one_line(text);
    match line.char_indices().nth(60) {
        Some((end, _)) => format!("{}...", &line[..end]),
        None => line,
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The blocks of a real report (a PluginError with a third field), abridged.
    const REPORT: &str = "Compared <this>:
    --- Type Layout ---
    type:PrefixRef<'a, PluginMod>

0 error(s).

1 error(s)inside:
    <other>

Layout of expected type:
    --- Type Layout ---
    type:RResult
    size:48 align:8

Error:incompatible type size
Expected:
    48
Found:
    56
2 error(s)inside:
    <other>

Layout of expected type:
    --- Type Layout ---
    type:PluginError
    size:40 align:8
    data:
        Struct with Fields:
            field_name:kind
            type:ErrorKind

Layout of found type:
    --- Type Layout ---
    type:PluginError

Error:incompatible type size
Expected:
    40
Found:
    48

Error:too many fields
Expected:
    2
Found:
    3
";

    #[test]
    fn a_layout_report_becomes_its_cause_on_one_line() {
        assert_eq!(
            layout_difference(REPORT),
            "`PluginError`: too many fields, 2 in the host and 3 in the plugin"
        );
    }

    #[test]
    fn a_report_of_sizes_only_names_the_innermost_type() {
        let sizes_only = REPORT.replace("Error:too many fields", "Error:incompatible type size");
        assert_eq!(
            layout_difference(&sizes_only),
            "`PluginError`: incompatible type size, 2 in the host and 3 in the plugin"
        );
    }

    #[test]
    fn an_unknown_report_is_still_one_line() {
        assert_eq!(
            layout_difference("something\nnew"),
            "abi_stable reports: something"
        );
    }
}
