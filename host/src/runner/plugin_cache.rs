//! [`PluginCache`]: where a worker keeps plugins the host shipped to it over the protocol, for
//! nodes that do not share the host's file system (or hold another file at the host's path).
//!
//! A plugin is kept at `ROOT/<sha256>/<file name>`, so that one hash is one file whatever it is
//! called. The root is `$XDG_CACHE_HOME/quack/plugins` (or `~/.cache/quack/plugins`), its
//! directories created 0700. Only when that cannot be written is `quack-<uid>/plugins` under the
//! temporary directory used instead: a name anyone can predict in a directory anyone can write,
//! so it is created 0700 and checked every time, as is each directory below it (owned by this
//! user, a real directory and not a symbolic link, no permission for group or others); one that
//! fails is refused with a sentence, never used.
//!
//! Below the root everything goes through directory descriptors opened without following links
//! (`openat` with `O_NOFOLLOW`), so a planted link cannot point a lookup or a write elsewhere. An
//! entry is opened once, without blocking (a FIFO cannot stall it), must be a regular file of
//! this user of bounded size, and is hashed from that descriptor, which the worker then loads
//! (see [`PluginFile`]). An entry that fails (a FIFO, a link, another content) is only a miss: the
//! host ships the bytes and the store replaces it. A store writes a temporary file in the entry's
//! directory, checks it against the hash, and renames it into place: a reader never sees half a
//! plugin, and two workers storing the same plugin at once both end with the same whole file.

use std::{
    ffi::CString,
    fs::File,
    io::{self, Write},
    os::{
        fd::{AsRawFd, FromRawFd},
        unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt},
    },
    path::{Path, PathBuf},
};

use crate::{
    loader::{PluginFile, refused_open},
    plugin::sha256_hex,
};

/// Why a shipped plugin could not be kept, or the cache not used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The hash is not 64 hex digits (it names a directory, so it is checked).
    #[error("{0:?} is not a SHA-256 in hex")]
    BadHash(String),
    /// The file name is not a plain file name.
    #[error("{0:?} is not a plain file name")]
    BadName(String),
    /// The bytes received are not the plugin the host meant.
    #[error("the plugin's bytes have SHA-256 {got}, not the expected {expected}")]
    Mismatch {
        /// What the host announced.
        expected: String,
        /// What arrived.
        got: String,
    },
    /// A directory of the cache that someone else could change.
    #[error(
        "the plugin cache directory {path} {reason}, so another user could change the plugins workers load; remove it, or set XDG_CACHE_HOME to a directory of your own"
    )]
    Unsafe {
        /// The directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// No cache directory could be written.
    #[error("could not write the plugin cache at {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

/// Where this user's plugin cache may be.
#[derive(Debug, Clone)]
pub struct PluginCache {
    /// The cache in the user's home (or `XDG_CACHE_HOME`), when one is known.
    home: Option<PathBuf>,
    /// The temporary directory that holds `quack-<uid>`, the fallback.
    temp: Option<PathBuf>,
}

impl PluginCache {
    /// The cache of this user: `$XDG_CACHE_HOME/quack/plugins` (or `~/.cache/...`), with the
    /// temporary directory as the fallback.
    pub fn for_user() -> Self {
        let xdg = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|path| path.is_absolute());
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
            .map(|home| home.join(".cache"));
        PluginCache {
            home: xdg.or(home).map(|base| base.join("quack").join("plugins")),
            temp: Some(std::env::temp_dir()),
        }
    }

    /// A cache in `root` only (for tests and tools).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        PluginCache {
            home: Some(root.into()),
            temp: None,
        }
    }

    /// Opens the cache: the home cache when it can be written (its directories made 0700), else
    /// the checked fallback under the temporary directory. The error is one sentence.
    pub fn open(&self) -> Result<CacheRoot, CacheError> {
        let mut home_failure = None;
        if let Some(home) = &self.home {
            match open_home(home) {
                Ok(dir) => {
                    return Ok(CacheRoot {
                        dir,
                        path: home.clone(),
                        temp: self.temp.clone(),
                    });
                }
                Err(error) => home_failure = Some(error),
            }
        }
        match &self.temp {
            Some(temp) => open_fallback(temp),
            None => Err(home_failure.unwrap_or(CacheError::Io {
                path: PathBuf::new(),
                source: io::Error::other("no cache directory is known"),
            })),
        }
    }
}

/// An opened, checked cache root.
#[derive(Debug)]
pub struct CacheRoot {
    dir: File,
    path: PathBuf,
    /// Where the fallback may be made when a store into this root fails; `None` for the fallback
    /// itself.
    temp: Option<PathBuf>,
}

impl CacheRoot {
    /// The root's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cached plugin with this hash and file name, opened and hashed: `Ok(None)` when there
    /// is none, `Err` with what is wrong when something there cannot be used (a FIFO, a link,
    /// another content...).
    pub fn lookup(&self, sha256: &str, file_name: &str) -> Result<Option<PluginFile>, String> {
        check(sha256, file_name).map_err(|error| error.to_string())?;
        let dir_path = self.path.join(sha256);
        let dir = match open_dir_at(&self.dir, sha256) {
            Ok(dir) => dir,
            Err(error) if error.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
            Err(error) => return Err(describe_dir_error(&dir_path, &error)),
        };
        if let Err(reason) = private(&dir) {
            return Err(format!("{} {reason}", dir_path.display()));
        }
        let path = dir_path.join(file_name);
        let mut file = match open_entry_at(&dir, file_name, path.clone()) {
            Ok(file) => file,
            Err(crate::loader::FileRefused::Missing { .. }) => return Ok(None),
            Err(refused) => return Err(refused.to_string()),
        };
        let metadata = file.metadata();
        if metadata.uid() != this_user() {
            return Err(format!(
                "{} belongs to another user (uid {})",
                path.display(),
                metadata.uid()
            ));
        }
        if metadata.mode() & 0o022 != 0 {
            return Err(format!(
                "{} can be written by other users (mode {:o})",
                path.display(),
                metadata.mode() & 0o7777
            ));
        }
        match file.hash() {
            Ok(hash) if hash == sha256 => Ok(Some(file)),
            Ok(_) => Err(format!("{} has other content", path.display())),
            Err(refused) => Err(refused.to_string()),
        }
    }

    /// Keeps `bytes` as the plugin `file_name` with hash `sha256` and returns the stored file,
    /// open and hashed. The bytes are checked against the hash before anything is written; a
    /// home cache that cannot be written gives way to the fallback.
    pub fn store(
        &self,
        sha256: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<PluginFile, CacheError> {
        check(sha256, file_name)?;
        let got = sha256_hex(bytes);
        if got != sha256 {
            return Err(CacheError::Mismatch {
                expected: sha256.to_owned(),
                got,
            });
        }
        match (self.store_here(sha256, file_name, bytes), &self.temp) {
            (Err(CacheError::Io { .. }), Some(temp)) => {
                open_fallback(temp)?.store_here(sha256, file_name, bytes)
            }
            (stored, _) => stored,
        }
    }

    fn store_here(
        &self,
        sha256: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<PluginFile, CacheError> {
        let dir_path = self.path.join(sha256);
        let io = |source| CacheError::Io {
            path: dir_path.clone(),
            source,
        };
        let dir = entry_dir(&self.dir, sha256, &dir_path)?;
        let (temp_name, mut file) = create_temporary(&dir).map_err(io)?;
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .and_then(|()| rename_at(&dir, &temp_name, file_name));
        if let Err(error) = written {
            // A leftover temporary file would be harmless; this one is removed if it can be.
            let _ = remove_at(&dir, &temp_name);
            return Err(io(error));
        }
        // What was renamed into place is read back from the descriptor that wrote it: the bytes
        // on disk are the ones loaded.
        let path = dir_path.join(file_name);
        let mut stored = PluginFile::from_file(file, path)
            .map_err(|refused| io(io::Error::other(refused.to_string())))?;
        match stored.hash() {
            Ok(hash) if hash == sha256 => Ok(stored),
            Ok(_) => Err(io(io::Error::other(
                "the stored file does not have the expected content",
            ))),
            Err(refused) => Err(io(io::Error::other(refused.to_string()))),
        }
    }
}

fn check(sha256: &str, file_name: &str) -> Result<(), CacheError> {
    if sha256.len() != 64 || !sha256.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(CacheError::BadHash(sha256.to_owned()));
    }
    let plain = Path::new(file_name)
        .file_name()
        .and_then(|name| name.to_str());
    if plain != Some(file_name) || file_name.starts_with('.') {
        return Err(CacheError::BadName(file_name.to_owned()));
    }
    Ok(())
}

/// This process's real user id.
fn this_user() -> u32 {
    // SAFETY: getuid has no memory effects and cannot fail.
    unsafe { libc::getuid() }
}

/// The home cache's root, created with its missing parents 0700. A root of this user that is
/// open to others (as older versions made it) is closed to them; one of another user, or one that
/// cannot be written, is an error (the fallback is used then).
fn open_home(root: &Path) -> Result<File, CacheError> {
    let io = |source| CacheError::Io {
        path: root.to_path_buf(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(root)
        .map_err(io)?;
    let dir = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(root)
        .map_err(io)?;
    let metadata = dir.metadata().map_err(io)?;
    if metadata.uid() != this_user() {
        return Err(io(io::Error::other(format!(
            "it belongs to another user (uid {})",
            metadata.uid()
        ))));
    }
    if metadata.mode() & 0o077 != 0 {
        // SAFETY: fchmod on a descriptor this function owns.
        if unsafe { libc::fchmod(dir.as_raw_fd(), 0o700) } != 0 {
            return Err(io(io::Error::last_os_error()));
        }
    }
    let path = CString::new(root.as_os_str().as_encoded_bytes())
        .map_err(|_| io(io::Error::other("the path holds a NUL byte")))?;
    // SAFETY: access reads the NUL-terminated path.
    if unsafe { libc::access(path.as_ptr(), libc::W_OK | libc::X_OK) } != 0 {
        return Err(io(io::Error::last_os_error()));
    }
    Ok(dir)
}

/// The fallback root `TEMP/quack-<uid>/plugins`, each of its two directories created 0700 or
/// checked to be private.
fn open_fallback(temp: &Path) -> Result<CacheRoot, CacheError> {
    let io = |source| CacheError::Io {
        path: temp.to_path_buf(),
        source,
    };
    let temp_dir = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(temp)
        .map_err(io)?;
    let mine = format!("quack-{}", this_user());
    let mine_path = temp.join(&mine);
    let mine_dir = private_dir_at(&temp_dir, &mine, &mine_path)?;
    let root_path = mine_path.join("plugins");
    let dir = private_dir_at(&mine_dir, "plugins", &root_path)?;
    Ok(CacheRoot {
        dir,
        path: root_path,
        temp: None,
    })
}

/// The directory `name` in `parent`, created 0700 if it is not there, and refused unless it is
/// private to this user.
fn private_dir_at(parent: &File, name: &str, path: &Path) -> Result<File, CacheError> {
    mkdir_unless_there(parent, name).map_err(|source| CacheError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let dir = open_dir_at(parent, name).map_err(|error| unsafe_or_io(path, error))?;
    private(&dir).map_err(|reason| CacheError::Unsafe {
        path: path.to_path_buf(),
        reason,
    })?;
    Ok(dir)
}

/// The directory of one hash in a root, made ready for a store: created 0700, a link or a file
/// planted in its place removed first, its permissions closed to others when it is this user's.
fn entry_dir(root: &File, sha256: &str, path: &Path) -> Result<File, CacheError> {
    let io = |source| CacheError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match open_dir_at(root, sha256) {
        Ok(dir) => dir,
        Err(error) => {
            match error.raw_os_error() {
                Some(libc::ENOENT) => {}
                // A link or a file where the directory should be: unlinked, never followed.
                Some(libc::ELOOP | libc::ENOTDIR) => {
                    remove_at(root, sha256).map_err(io)?;
                }
                _ => return Err(io(error)),
            }
            mkdir_unless_there(root, sha256).map_err(io)?;
            open_dir_at(root, sha256).map_err(|error| unsafe_or_io(path, error))?
        }
    };
    let metadata = dir.metadata().map_err(io)?;
    if metadata.uid() != this_user() {
        return Err(CacheError::Unsafe {
            path: path.to_path_buf(),
            reason: format!("belongs to another user (uid {})", metadata.uid()),
        });
    }
    if metadata.mode() & 0o077 != 0 {
        // SAFETY: fchmod on a descriptor this function owns.
        if unsafe { libc::fchmod(dir.as_raw_fd(), 0o700) } != 0 {
            return Err(io(io::Error::last_os_error()));
        }
    }
    Ok(dir)
}

/// Why a directory is not private to this user, if it is not.
fn private(dir: &File) -> Result<(), String> {
    let metadata = dir
        .metadata()
        .map_err(|error| format!("cannot be read ({error})"))?;
    if metadata.uid() != this_user() {
        return Err(format!("belongs to another user (uid {})", metadata.uid()));
    }
    let mode = metadata.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(format!("is open to other users (mode {mode:o})"));
    }
    Ok(())
}

/// A failed directory open: a link or a non-directory is a planted object, anything else the
/// system's error.
fn unsafe_or_io(path: &Path, error: io::Error) -> CacheError {
    match error.raw_os_error() {
        Some(libc::ELOOP | libc::ENOTDIR) => CacheError::Unsafe {
            path: path.to_path_buf(),
            reason: not_a_directory(path).to_owned(),
        },
        _ => CacheError::Io {
            path: path.to_path_buf(),
            source: error,
        },
    }
}

/// What a failed open of an entry's directory means, as a phrase after its path.
fn describe_dir_error(path: &Path, error: &io::Error) -> String {
    match error.raw_os_error() {
        Some(libc::ELOOP | libc::ENOTDIR) => {
            format!("{} {}", path.display(), not_a_directory(path))
        }
        _ => format!("{} cannot be opened ({error})", path.display()),
    }
}

/// What stands at `path` where a directory was opened without following links (`O_NOFOLLOW`
/// with `O_DIRECTORY` fails the same way for a link and for a file). Read only for the message.
fn not_a_directory(path: &Path) -> &'static str {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => "is a symbolic link",
        _ => "is not a directory",
    }
}

fn c_name(name: &str) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// Opens the directory `name` in `parent` without following a link.
fn open_dir_at(parent: &File, name: &str) -> io::Result<File> {
    let name = c_name(name)?;
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: openat reads the NUL-terminated name; the descriptor returned is owned by the File
    // made from it and by nothing else.
    let fd = unsafe { libc::openat(parent.as_raw_fd(), name.as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd was just opened and nothing else owns it.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// Opens the entry `name` in `dir` once: no link followed, no blocking, closed on exec.
fn open_entry_at(
    dir: &File,
    name: &str,
    path: PathBuf,
) -> Result<PluginFile, crate::loader::FileRefused> {
    let flags =
        libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;
    let opened = c_name(name).and_then(|name| {
        // SAFETY: openat reads the NUL-terminated name; the descriptor returned is owned by the
        // File made from it and by nothing else.
        let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd was just opened and nothing else owns it.
        Ok(unsafe { File::from_raw_fd(fd) })
    });
    match opened {
        Ok(file) => PluginFile::from_file(file, path),
        Err(error) => Err(refused_open(&path, &error)),
    }
}

/// Makes the directory `name` in `parent`, mode 0700.
fn mkdir_at(parent: &File, name: &str) -> io::Result<()> {
    let name = c_name(name)?;
    // SAFETY: mkdirat reads the NUL-terminated name.
    if unsafe { libc::mkdirat(parent.as_raw_fd(), name.as_ptr(), 0o700) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Makes the directory `name` in `parent`, mode 0700, unless something is there already.
fn mkdir_unless_there(parent: &File, name: &str) -> io::Result<()> {
    match mkdir_at(parent, name) {
        Err(error) if error.raw_os_error() == Some(libc::EEXIST) => Ok(()),
        done => done,
    }
}

/// Removes the non-directory `name` in `parent` (a link itself, never what it points to).
fn remove_at(parent: &File, name: &str) -> io::Result<()> {
    let name = c_name(name)?;
    // SAFETY: unlinkat reads the NUL-terminated name.
    if unsafe { libc::unlinkat(parent.as_raw_fd(), name.as_ptr(), 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Renames `from` to `to`, both in `dir`, replacing whatever `to` was (a link is replaced, not
/// followed).
fn rename_at(dir: &File, from: &str, to: &str) -> io::Result<()> {
    let (from, to) = (c_name(from)?, c_name(to)?);
    let fd = dir.as_raw_fd();
    // SAFETY: renameat reads the two NUL-terminated names.
    if unsafe { libc::renameat(fd, from.as_ptr(), fd, to.as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A new file of this user only (0600) in `dir`, under a name no other file has.
fn create_temporary(dir: &File) -> io::Result<(String, File)> {
    let flags = libc::O_RDWR
        | libc::O_CREAT
        | libc::O_EXCL
        | libc::O_NOFOLLOW
        | libc::O_NOCTTY
        | libc::O_CLOEXEC;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let mut last = io::Error::from_raw_os_error(libc::EEXIST);
    for attempt in 0..64u32 {
        let name = format!(".incoming-{}-{nanos:x}-{attempt}", std::process::id());
        let c_name = c_name(&name)?;
        // SAFETY: openat reads the NUL-terminated name; the descriptor returned is owned by the
        // File made from it and by nothing else.
        let fd = unsafe {
            libc::openat(
                dir.as_raw_fd(),
                c_name.as_ptr(),
                flags,
                0o600 as libc::c_uint,
            )
        };
        if fd >= 0 {
            // SAFETY: fd was just opened and nothing else owns it.
            return Ok((name, unsafe { File::from_raw_fd(fd) }));
        }
        last = io::Error::last_os_error();
        if last.raw_os_error() != Some(libc::EEXIST) {
            break;
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    const BYTES: &[u8] = b"not really a shared library";

    fn mode_of(path: &Path) -> u32 {
        std::fs::symlink_metadata(path).unwrap().mode() & 0o7777
    }

    /// A cache whose home root cannot be made (a file stands where a directory should be), with
    /// its fallback under `temp`.
    fn home_blocked(dir: &Path, temp: &Path) -> PluginCache {
        let blocked = dir.join("file");
        std::fs::write(&blocked, b"a file where a directory should be").unwrap();
        PluginCache {
            home: Some(blocked.join("plugins")),
            temp: Some(temp.to_path_buf()),
        }
    }

    fn fallback_of(temp: &Path) -> PathBuf {
        temp.join(format!("quack-{}", this_user()))
    }

    #[test]
    fn a_stored_plugin_is_found_by_its_hash_in_directories_of_mode_0700() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("quack").join("plugins");
        let cache = PluginCache::at(&root).open().unwrap();
        let hash = sha256_hex(BYTES);
        assert!(cache.lookup(&hash, "libx.so").unwrap().is_none());
        let stored = cache.store(&hash, "libx.so", BYTES).unwrap();
        assert_eq!(stored.path(), root.join(&hash).join("libx.so"));
        assert_eq!(stored.sha256(), Some(hash.as_str()));
        assert_eq!(std::fs::read(stored.path()).unwrap(), BYTES);
        let found = cache.lookup(&hash, "libx.so").unwrap().unwrap();
        assert_eq!(found.path(), stored.path());
        for made in [dir.path().join("quack"), root.clone(), root.join(&hash)] {
            assert_eq!(mode_of(&made), 0o700, "{made:?}");
        }
        // Stored twice: the same file, no temporary left behind.
        cache.store(&hash, "libx.so", BYTES).unwrap();
        let entries = std::fs::read_dir(root.join(&hash)).unwrap().count();
        assert_eq!(entries, 1);
    }

    #[test]
    fn bytes_with_another_hash_are_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let cache = PluginCache::at(dir.path()).open().unwrap();
        let hash = sha256_hex(b"something else");
        let error = cache.store(&hash, "libx.so", BYTES).unwrap_err();
        assert!(matches!(error, CacheError::Mismatch { .. }), "{error}");
        assert!(!dir.path().join(&hash).exists());
    }

    #[test]
    fn a_damaged_cached_file_is_not_used_and_a_store_repairs_it() {
        let dir = tempfile::tempdir().unwrap();
        let cache = PluginCache::at(dir.path()).open().unwrap();
        let hash = sha256_hex(BYTES);
        let stored = cache.store(&hash, "libx.so", BYTES).unwrap();
        std::fs::write(stored.path(), b"damaged").unwrap();
        let bad = cache.lookup(&hash, "libx.so").unwrap_err();
        assert!(bad.ends_with("has other content"), "{bad}");
        cache.store(&hash, "libx.so", BYTES).unwrap();
        assert!(cache.lookup(&hash, "libx.so").unwrap().is_some());
    }

    #[test]
    fn hashes_and_names_that_could_leave_the_cache_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = PluginCache::at(dir.path()).open().unwrap();
        let hash = sha256_hex(BYTES);
        for name in ["../libx.so", "a/b.so", "..", ".hidden", ""] {
            let error = cache.store(&hash, name, BYTES).unwrap_err();
            assert!(matches!(error, CacheError::BadName(_)), "{name}: {error}");
        }
        let error = cache.store("../../etc", "libx.so", BYTES).unwrap_err();
        assert!(matches!(error, CacheError::BadHash(_)), "{error}");
    }

    #[test]
    fn an_unwritable_home_falls_back_to_a_private_temporary_directory() {
        let dir = tempfile::tempdir().unwrap();
        let temp = tempfile::tempdir().unwrap();
        let cache = home_blocked(dir.path(), temp.path()).open().unwrap();
        let hash = sha256_hex(BYTES);
        let stored = cache.store(&hash, "libx.so", BYTES).unwrap();
        let fallback = fallback_of(temp.path());
        assert!(stored.path().starts_with(&fallback), "{:?}", stored.path());
        for made in [
            fallback.clone(),
            fallback.join("plugins"),
            fallback.join("plugins").join(&hash),
        ] {
            assert_eq!(mode_of(&made), 0o700, "{made:?}");
        }
    }

    #[test]
    fn a_working_home_cache_is_the_only_one_looked_in() {
        let home = tempfile::tempdir().unwrap();
        let temp = tempfile::tempdir().unwrap();
        let hash = sha256_hex(BYTES);
        // A whole, right entry in the fallback: still not used while the home cache works.
        let blocked = tempfile::tempdir().unwrap();
        let fallback = home_blocked(blocked.path(), temp.path()).open().unwrap();
        fallback.store(&hash, "libx.so", BYTES).unwrap();
        let cache = PluginCache {
            home: Some(home.path().join("plugins")),
            temp: Some(temp.path().to_path_buf()),
        }
        .open()
        .unwrap();
        assert_eq!(cache.path(), home.path().join("plugins"));
        assert!(cache.lookup(&hash, "libx.so").unwrap().is_none());
    }

    #[test]
    fn a_fallback_open_to_others_or_a_link_is_refused_with_a_sentence() {
        let dir = tempfile::tempdir().unwrap();
        let temp = tempfile::tempdir().unwrap();
        let cache = home_blocked(dir.path(), temp.path());
        let fallback = fallback_of(temp.path());
        std::fs::create_dir(&fallback).unwrap();
        std::fs::set_permissions(&fallback, PermissionsExt::from_mode(0o777)).unwrap();
        let error = cache.open().unwrap_err().to_string();
        assert!(
            error.starts_with(&format!(
                "the plugin cache directory {} is open to other users (mode 777)",
                fallback.display()
            )),
            "{error}"
        );
        assert!(error.ends_with("remove it, or set XDG_CACHE_HOME to a directory of your own"));
        std::fs::remove_dir(&fallback).unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), &fallback).unwrap();
        let error = cache.open().unwrap_err().to_string();
        assert!(error.contains("is a symbolic link"), "{error}");
        assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_fifo_or_a_link_at_an_entry_is_a_miss_and_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let cache = PluginCache::at(dir.path()).open().unwrap();
        let hash = sha256_hex(BYTES);
        let entry_dir = dir.path().join(&hash);
        std::fs::create_dir(&entry_dir).unwrap();
        std::fs::set_permissions(&entry_dir, PermissionsExt::from_mode(0o700)).unwrap();
        let entry = entry_dir.join("libx.so");
        let fifo = CString::new(entry.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let bad = cache.lookup(&hash, "libx.so").unwrap_err();
        assert!(bad.contains("is a FIFO (named pipe), not a file"), "{bad}");
        cache.store(&hash, "libx.so", BYTES).unwrap();
        assert_eq!(std::fs::read(&entry).unwrap(), BYTES);

        std::fs::remove_file(&entry).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &entry).unwrap();
        let bad = cache.lookup(&hash, "libx.so").unwrap_err();
        assert!(bad.contains("is a symbolic link"), "{bad}");
        cache.store(&hash, "libx.so", BYTES).unwrap();
        assert!(std::fs::symlink_metadata(&entry).unwrap().is_file());
    }

    #[test]
    fn a_link_planted_for_an_entrys_directory_cannot_redirect_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let attacker = tempfile::tempdir().unwrap();
        let cache = PluginCache::at(dir.path()).open().unwrap();
        let hash = sha256_hex(BYTES);
        std::os::unix::fs::symlink(attacker.path(), dir.path().join(&hash)).unwrap();
        let bad = cache.lookup(&hash, "libx.so").unwrap_err();
        assert!(bad.ends_with("is a symbolic link"), "{bad}");
        let stored = cache.store(&hash, "libx.so", BYTES).unwrap();
        assert_eq!(stored.path(), dir.path().join(&hash).join("libx.so"));
        assert_eq!(std::fs::read_dir(attacker.path()).unwrap().count(), 0);
        assert_eq!(mode_of(&dir.path().join(&hash)), 0o700);
    }
}
