//! [`ReportFile`]: where `--json PATH` writes, checked before the run starts. The report goes to a
//! temporary file beside its target and is renamed into place at the end, so a reader sees the old
//! file or the whole new one, never half a report.
//!
//! What holds, whatever the plugin does to the process meanwhile:
//! - The path is made absolute when the file is created, so a plugin that changes the current
//!   directory (in inline or thread mode) does not move the report.
//! - The report gets the permissions of an ordinary new file under the umask the process had when
//!   the file was created (`0o666 & !umask`), set on the open file, so a plugin that changes the
//!   umask does not change them.
//! - Only a regular file (or nothing yet) is ever replaced: a device, a FIFO or a directory is
//!   refused with a sentence, and so is a file the user may not replace (another user's file in a
//!   sticky directory such as /tmp); a symbolic link is written through (its target replaced, the
//!   link kept).
//! - A report that was written whole but could not be renamed into place is kept under its
//!   temporary name, and the error names it.

use std::{
    fs::{self, File},
    io::{self, BufWriter, Write},
    os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt},
    path::{Path, PathBuf},
};

use tempfile::NamedTempFile;

/// Why a file named by a flag (`--json PATH`, `--trace PATH`, `--html PATH`) cannot be written;
/// each sentence names the flag.
#[derive(Debug, thiserror::Error)]
pub enum ReportFileError {
    /// The path is empty.
    #[error(
        "{flag} was given an empty path; give the path of a file to write{}",
        or_stdout(flag)
    )]
    Empty {
        /// The flag that named the file.
        flag: &'static str,
    },
    /// The path names something that is not a regular file.
    #[error(
        "{flag} {path}: it is {what}, not a regular file; give the path of a file to write{}",
        or_stdout(flag)
    )]
    NotAFile {
        /// The flag that named the file.
        flag: &'static str,
        /// The path given.
        path: PathBuf,
        /// What it is: "a directory", "a device", "a FIFO (named pipe)", "a socket".
        what: &'static str,
    },
    /// The path reaches one of the process's own open files (`/dev/stdout`, `/proc/self/fd/N`).
    #[error(
        "{flag} {path}: it names one of the host's own open files (such as its standard output), not a file of its own; give the path of a file to write{}",
        or_stdout(flag)
    )]
    OpenFile {
        /// The flag that named the file.
        flag: &'static str,
        /// The path given.
        path: PathBuf,
    },
    /// The file is another user's, in a sticky directory where only its owner (or the
    /// directory's) may replace it.
    #[error(
        "{flag} {path}: it belongs to another user (uid {owner}) in {directory}, a sticky directory where only the file's owner may replace it; give the file another path"
    )]
    NotReplaceable {
        /// The flag that named the file.
        flag: &'static str,
        /// The path given.
        path: PathBuf,
        /// The file's owner.
        owner: u32,
        /// The sticky directory it is in.
        directory: PathBuf,
    },
    /// The temporary file beside it cannot be made (no such directory, no permission, ...).
    #[error(
        "{flag} {path}: cannot write in {directory} ({source}); check that the directory exists and is writable"
    )]
    Unwritable {
        /// The flag that named the file.
        flag: &'static str,
        /// The path given.
        path: PathBuf,
        /// The directory the report would be written in.
        directory: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// Writing or syncing the report failed at the end: no whole copy of it exists.
    #[error("could not write the {} to {path}: {source}", noun(flag))]
    Write {
        /// The flag that named the file.
        flag: &'static str,
        /// The path given.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// The report was written whole, but could not be put in its place.
    #[error(
        "could not put the {noun} in place at {path} ({source}); the {noun} is kept at {kept}",
        noun = noun(flag)
    )]
    Kept {
        /// The flag that named the file.
        flag: &'static str,
        /// The path given.
        path: PathBuf,
        /// The whole report, under its temporary name.
        kept: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

/// The advice to write to standard output instead, for the one flag that can (`--json -`).
fn or_stdout(flag: &str) -> &'static str {
    if flag == "--json" {
        " (or - for standard output)"
    } else {
        ""
    }
}

/// What the file named by `flag` is, for sentences.
fn noun(flag: &str) -> &'static str {
    match flag {
        "--trace" => "trace",
        "--html" => "HTML report",
        _ => "report",
    }
}

impl ReportFileError {
    /// Whether the target was refused before anything ran (rather than failing at the end).
    pub fn before_the_run(&self) -> bool {
        match self {
            ReportFileError::Empty { .. }
            | ReportFileError::NotAFile { .. }
            | ReportFileError::OpenFile { .. }
            | ReportFileError::NotReplaceable { .. }
            | ReportFileError::Unwritable { .. } => true,
            ReportFileError::Write { .. } | ReportFileError::Kept { .. } => false,
        }
    }
}

/// A report file being written.
#[derive(Debug)]
pub struct ReportFile {
    /// The flag that named it (`--json`, `--trace`, `--html`), for sentences.
    flag: &'static str,
    /// The path the user gave.
    path: PathBuf,
    /// The file that is replaced at the end (the link's target for a symbolic link), absolute.
    target: PathBuf,
    /// The permissions the report gets: an ordinary file's under the umask at creation.
    mode: u32,
    temporary: NamedTempFile,
}

impl ReportFile {
    /// Checks `path` (of `--json`) and makes the temporary file beside its target, before
    /// anything runs.
    pub fn create(path: &Path) -> Result<Self, ReportFileError> {
        Self::create_for("--json", path)
    }

    /// The same for the file named by another `flag` (`--trace`, `--html`).
    pub fn create_for(flag: &'static str, path: &Path) -> Result<Self, ReportFileError> {
        if path.as_os_str().is_empty() {
            return Err(ReportFileError::Empty { flag });
        }
        let absolute = std::path::absolute(path).map_err(|source| ReportFileError::Unwritable {
            flag,
            path: path.to_path_buf(),
            directory: PathBuf::from("."),
            source,
        })?;
        let (target, through_descriptor) = resolve_links(&absolute);
        // The path itself first: the kernel follows links /proc's way too (/dev/stdout).
        let existing = fs::metadata(path).or_else(|_| fs::metadata(&target)).ok();
        if let Some(what) = existing.as_ref().and_then(|metadata| not_a_file(metadata)) {
            return Err(ReportFileError::NotAFile {
                flag,
                path: path.to_path_buf(),
                what,
            });
        }
        // What a descriptor names may be any file: stdout redirected to a file would be replaced.
        if through_descriptor {
            return Err(ReportFileError::OpenFile {
                flag,
                path: path.to_path_buf(),
            });
        }
        let directory = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("/"),
        };
        if let Some(owner) = foreign_in_sticky(&target, &directory) {
            return Err(ReportFileError::NotReplaceable {
                flag,
                path: path.to_path_buf(),
                owner,
                directory,
            });
        }
        let mode = 0o666 & !umask();
        let temporary = tempfile::Builder::new()
            .prefix(".quack-report-")
            .suffix(".tmp")
            .tempfile_in(&directory)
            .map_err(|source| ReportFileError::Unwritable {
                flag,
                path: path.to_path_buf(),
                directory,
                source,
            })?;
        Ok(ReportFile {
            flag,
            path: path.to_path_buf(),
            target,
            mode,
            temporary,
        })
    }

    /// The path the user gave.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The temporary file the report is written to until it is renamed into place.
    pub fn temporary_path(&self) -> &Path {
        self.temporary.path()
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

    /// Flushes and syncs the report, gives it an ordinary file's permissions and renames it into
    /// place. A report that is whole but cannot be put in place is kept, and the error names it.
    pub fn persist(self, writer: BufWriter<File>) -> Result<(), ReportFileError> {
        let file = writer
            .into_inner()
            .map_err(|error| self.failed(error.into_error()))?;
        if let Err(source) = file.sync_all() {
            return Err(self.failed(source));
        }
        let ReportFile {
            flag,
            path,
            target,
            mode,
            temporary,
        } = self;
        let placed = match file.set_permissions(fs::Permissions::from_mode(mode)) {
            Ok(()) => temporary
                .persist(&target)
                .map(|_| ())
                .map_err(|error| (error.error, error.file)),
            Err(source) => Err((source, temporary)),
        };
        match placed {
            Ok(()) => Ok(()),
            Err((source, temporary)) => match temporary.keep() {
                Ok((_, kept)) => Err(ReportFileError::Kept {
                    flag,
                    path,
                    kept,
                    source,
                }),
                // Not even kept: the temporary file is gone.
                Err(_) => Err(ReportFileError::Write { flag, path, source }),
            },
        }
    }

    /// The error of a write to this file that failed with `source`.
    pub fn failed(&self, source: io::Error) -> ReportFileError {
        ReportFileError::Write {
            flag: self.flag,
            path: self.path.clone(),
            source,
        }
    }
}

/// What a file is when it is not a regular file (nor a link to one).
fn not_a_file(metadata: &fs::Metadata) -> Option<&'static str> {
    let kind = metadata.file_type();
    if kind.is_dir() {
        Some("a directory")
    } else if kind.is_char_device() || kind.is_block_device() {
        Some("a device")
    } else if kind.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if kind.is_socket() {
        Some("a socket")
    } else {
        None
    }
}

/// The owner of `target` when it is a file this process may not replace: another user's, in a
/// sticky `directory` that is not this user's either, without the capability that overrides
/// that (`CAP_FOWNER`).
fn foreign_in_sticky(target: &Path, directory: &Path) -> Option<u32> {
    let file = fs::symlink_metadata(target).ok()?;
    let dir = fs::metadata(directory).ok()?;
    // SAFETY: geteuid only reads the process's effective user id.
    let user = unsafe { libc::geteuid() };
    let sticky = dir.mode() & libc::S_ISVTX != 0;
    (sticky && file.uid() != user && dir.uid() != user && !has_fowner()).then_some(file.uid())
}

/// Whether this process has `CAP_FOWNER` in its effective set (read from /proc; without /proc,
/// only root is taken to have it).
fn has_fowner() -> bool {
    const CAP_FOWNER: u32 = 3;
    let effective = fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("CapEff:"))
                .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        });
    match effective {
        Some(capabilities) => capabilities & (1 << CAP_FOWNER) != 0,
        // SAFETY: as above.
        None => (unsafe { libc::geteuid() }) == 0,
    }
}

/// `path` with its symbolic links followed as far as they lead (a dangling link: the path it
/// points to, so the report creates it), and whether the way went through a file descriptor's
/// name (`/dev/fd/N`, `/proc/self/fd/N`, as `/dev/stdout` does).
fn resolve_links(path: &Path) -> (PathBuf, bool) {
    let mut current = path.to_path_buf();
    let mut through_descriptor = names_a_descriptor(&current);
    for _ in 0..40 {
        match fs::read_link(&current) {
            Ok(next) => {
                current = match current.parent() {
                    Some(parent) if next.is_relative() => parent.join(next),
                    _ => next,
                };
                through_descriptor |= names_a_descriptor(&current);
            }
            Err(_) => break,
        }
    }
    (current, through_descriptor)
}

/// Whether `path` is the name of an open file descriptor: `/dev/fd/N` or `/proc/PID/fd/N`.
fn names_a_descriptor(path: &Path) -> bool {
    let parts: Vec<_> = path.components().map(|part| part.as_os_str()).collect();
    match parts.as_slice() {
        [_, dev, fd, _] => *dev == "dev" && *fd == "fd",
        [_, proc, _, fd, _] => *proc == "proc" && *fd == "fd",
        _ => false,
    }
}

/// The process's umask: read from /proc, which leaves it alone; without /proc, by setting it and
/// putting it back at once.
fn umask() -> u32 {
    let from_proc = fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Umask:"))
                .and_then(|octal| u32::from_str_radix(octal.trim(), 8).ok())
        });
    from_proc.unwrap_or_else(|| {
        // SAFETY: umask only swaps the process's file mode mask.
        unsafe {
            let mask = libc::umask(0o022);
            libc::umask(mask);
            mask
        }
    })
}

/// Writes `value` as pretty JSON to `path` atomically (see [`ReportFile`]).
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), ReportFileError> {
    let file = ReportFile::create(path)?;
    file.write_whole(|writer| {
        serde_json::to_writer_pretty(&mut *writer, value)
            .map_err(io::Error::from)
            .and_then(|()| writer.write_all(b"\n"))
    })
}

impl ReportFile {
    /// Writes the whole file with `write` and puts it in place.
    pub fn write_whole(
        self,
        write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
    ) -> Result<(), ReportFileError> {
        let mut writer = self.writer()?;
        if let Err(source) = write(&mut writer) {
            return Err(self.failed(source));
        }
        self.persist(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_through_a_descriptor_is_refused_wherever_it_leads() {
        for path in ["/dev/stdout", "/dev/stderr", "/proc/self/fd/0", "/dev/fd/1"] {
            let error = ReportFile::create(Path::new(path)).unwrap_err();
            assert!(error.before_the_run(), "{path}: {error}");
            assert!(
                error.to_string().contains("- for standard output"),
                "{error}"
            );
        }
        assert!(names_a_descriptor(Path::new("/proc/thread-self/fd/7")));
        assert!(!names_a_descriptor(Path::new("/tmp/fd/1")));
    }

    #[test]
    fn a_report_that_cannot_be_put_in_place_is_kept_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        let file = ReportFile::create(&path).unwrap();
        let mut writer = file.writer().unwrap();
        writer.write_all(b"{\"whole\": true}").unwrap();
        // A directory took the report's place while the run went on.
        fs::create_dir(&path).unwrap();
        let error = file.persist(writer).unwrap_err();
        let ReportFileError::Kept { kept, .. } = &error else {
            panic!("not kept: {error}");
        };
        assert_eq!(fs::read_to_string(kept).unwrap(), "{\"whole\": true}");
        assert!(
            error.to_string().contains("the report is kept at"),
            "{error}"
        );
        assert!(!error.before_the_run());
    }
}
