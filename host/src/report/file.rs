//! [`ReportFile`]: where `--json PATH` writes, checked before the run starts. The report goes to a
//! temporary file beside its target and is renamed into place at the end, so a reader sees the old
//! file or the whole new one, never half a report. Only a regular file (or nothing yet) is ever
//! replaced: a device, a FIFO or a directory is refused with a sentence; a symbolic link is
//! written through (its target replaced, the link kept). The file gets the permissions of an
//! ordinary new file under the user's umask.

use std::{
    fs::{self, File},
    io::{self, BufWriter, Write},
    os::unix::fs::{FileTypeExt, PermissionsExt},
    path::{Path, PathBuf},
};

use tempfile::NamedTempFile;

/// Why `--json PATH` cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportFileError {
    /// The path names something that is not a regular file.
    #[error(
        "--json {path}: it is {what}, not a regular file; give the path of a file to write (or - for standard output)"
    )]
    NotAFile {
        /// The path given.
        path: PathBuf,
        /// What it is: "a directory", "a device", "a FIFO (named pipe)", "a socket".
        what: &'static str,
    },
    /// The temporary file beside it cannot be made (no such directory, no permission, ...).
    #[error(
        "--json {path}: cannot write in {directory} ({source}); check that the directory exists and is writable"
    )]
    Unwritable {
        /// The path given.
        path: PathBuf,
        /// The directory the report would be written in.
        directory: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// Writing, syncing or renaming failed at the end.
    #[error("could not write the report to {path}: {source}")]
    Write {
        /// The path given.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

/// A report file being written.
pub struct ReportFile {
    /// The path the user gave.
    path: PathBuf,
    /// The file that is replaced at the end (the link's target for a symbolic link).
    target: PathBuf,
    temporary: NamedTempFile,
}

impl ReportFile {
    /// Checks `path` and makes the temporary file beside its target, before anything runs.
    pub fn create(path: &Path) -> Result<Self, ReportFileError> {
        let target = resolve_links(path);
        // The path itself first: the kernel follows links /proc's way too (/dev/stdout).
        if let Ok(metadata) = fs::metadata(path).or_else(|_| fs::metadata(&target)) {
            let kind = metadata.file_type();
            let what = if kind.is_dir() {
                Some("a directory")
            } else if kind.is_char_device() || kind.is_block_device() {
                Some("a device")
            } else if kind.is_fifo() {
                Some("a FIFO (named pipe)")
            } else if kind.is_socket() {
                Some("a socket")
            } else {
                None
            };
            if let Some(what) = what {
                return Err(ReportFileError::NotAFile {
                    path: path.to_path_buf(),
                    what,
                });
            }
        }
        let directory = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let temporary = tempfile::Builder::new()
            .prefix(".quack-report-")
            .suffix(".tmp")
            .tempfile_in(&directory)
            .map_err(|source| ReportFileError::Unwritable {
                path: path.to_path_buf(),
                directory,
                source,
            })?;
        Ok(ReportFile {
            path: path.to_path_buf(),
            target,
            temporary,
        })
    }

    /// The path the user gave.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A buffered writer into the temporary file.
    pub fn writer(&self) -> Result<BufWriter<File>, ReportFileError> {
        let file = self
            .temporary
            .as_file()
            .try_clone()
            .map_err(|source| self.failed(source))?;
        Ok(BufWriter::with_capacity(1 << 16, file))
    }

    /// Syncs the temporary file, gives it an ordinary file's permissions and renames it into
    /// place.
    pub fn persist(self, writer: BufWriter<File>) -> Result<(), ReportFileError> {
        let file = writer
            .into_inner()
            .map_err(|error| self.failed(error.into_error()))?;
        let synced = file.sync_all().and_then(|()| {
            fs::set_permissions(
                self.temporary.path(),
                fs::Permissions::from_mode(0o666 & !umask()),
            )
        });
        if let Err(source) = synced {
            return Err(self.failed(source));
        }
        let ReportFile {
            path,
            target,
            temporary,
        } = self;
        temporary
            .persist(&target)
            .map(|_| ())
            .map_err(|error| ReportFileError::Write {
                path,
                source: error.error,
            })
    }

    fn failed(&self, source: io::Error) -> ReportFileError {
        ReportFileError::Write {
            path: self.path.clone(),
            source,
        }
    }
}

/// `path` with its symbolic links followed as far as they lead (a dangling link: the path it
/// points to, so the report creates it).
fn resolve_links(path: &Path) -> PathBuf {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::read_link(&current) {
            Ok(next) => {
                current = match current.parent() {
                    Some(parent) if next.is_relative() => parent.join(next),
                    _ => next,
                };
            }
            Err(_) => break,
        }
    }
    current
}

/// The process's umask (read by setting it and putting it back at once).
fn umask() -> u32 {
    // SAFETY: umask only swaps the process's file mode mask.
    unsafe {
        let mask = libc::umask(0o022);
        libc::umask(mask);
        mask
    }
}

/// Writes `value` as pretty JSON to `path` atomically (see [`ReportFile`]).
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), ReportFileError> {
    let file = ReportFile::create(path)?;
    let mut writer = file.writer()?;
    let written = serde_json::to_writer_pretty(&mut writer, value)
        .map_err(io::Error::from)
        .and_then(|()| writer.write_all(b"\n"));
    if let Err(source) = written {
        return Err(file.failed(source));
    }
    file.persist(writer)
}
