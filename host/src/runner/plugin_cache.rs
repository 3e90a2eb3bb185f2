//! [`PluginCache`]: where a worker keeps plugins the host shipped to it over the protocol, for
//! nodes that do not share the host's file system (or hold another file at the host's path).
//!
//! A plugin is kept at `ROOT/<sha256>/<file name>`, so that one hash is one file whatever it is
//! called. The root is `$XDG_CACHE_HOME/quack/plugins` (or `~/.cache/quack/plugins`), and
//! `quack-<uid>/plugins` under the temporary directory when that cannot be written. A file is
//! written to a temporary name in its directory, checked against its hash, and renamed into
//! place: a reader never sees half a plugin, and two workers storing the same plugin at once both
//! end with the same whole file.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use crate::loader::sha256_hex;

/// Why a shipped plugin could not be kept.
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
    /// No cache directory could be written.
    #[error("could not write the plugin cache at {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

/// A directory of plugins keyed by content hash.
#[derive(Debug, Clone)]
pub struct PluginCache {
    roots: Vec<PathBuf>,
}

impl PluginCache {
    /// The cache of this user: `$XDG_CACHE_HOME/quack/plugins` (or `~/.cache/...`), with the
    /// temporary directory as a fallback.
    pub fn for_user() -> Self {
        let mut roots = Vec::new();
        let xdg = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|path| path.is_absolute());
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
            .map(|home| home.join(".cache"));
        if let Some(base) = xdg.or(home) {
            roots.push(base.join("quack").join("plugins"));
        }
        // SAFETY: getuid has no memory effects and cannot fail.
        let uid = unsafe { libc::getuid() };
        roots.push(
            std::env::temp_dir()
                .join(format!("quack-{uid}"))
                .join("plugins"),
        );
        PluginCache { roots }
    }

    /// A cache in `root` only (for tests and tools).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        PluginCache {
            roots: vec![root.into()],
        }
    }

    /// The cached plugin with this hash and file name, if one is there with the right content.
    pub fn lookup(&self, sha256: &str, file_name: &str) -> Option<PathBuf> {
        check(sha256, file_name).ok()?;
        self.roots
            .iter()
            .map(|root| root.join(sha256).join(file_name))
            .find(|path| hash_of(path).as_deref() == Some(sha256))
    }

    /// Keeps `bytes` as the plugin `file_name` with hash `sha256` and returns its path. The
    /// bytes are checked against the hash before anything is written.
    pub fn store(
        &self,
        sha256: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<PathBuf, CacheError> {
        check(sha256, file_name)?;
        let got = sha256_hex(bytes);
        if got != sha256 {
            return Err(CacheError::Mismatch {
                expected: sha256.to_owned(),
                got,
            });
        }
        let mut last = None;
        for root in &self.roots {
            match store_in(root, sha256, file_name, bytes) {
                Ok(path) => return Ok(path),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or(CacheError::Io {
            path: PathBuf::new(),
            source: std::io::Error::other("no cache directory"),
        }))
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

fn hash_of(path: &Path) -> Option<String> {
    std::fs::read(path).ok().map(|bytes| sha256_hex(&bytes))
}

fn store_in(
    root: &Path,
    sha256: &str,
    file_name: &str,
    bytes: &[u8],
) -> Result<PathBuf, CacheError> {
    let dir = root.join(sha256);
    let io = |source| CacheError::Io {
        path: dir.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let mut file = tempfile::Builder::new()
        .prefix(".incoming-")
        .tempfile_in(&dir)
        .map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.as_file().sync_all().map_err(io)?;
    let target = dir.join(file_name);
    file.persist(&target).map_err(|error| io(error.error))?;
    // What was renamed into place is checked again: the bytes on disk are the ones loaded.
    if hash_of(&target).as_deref() != Some(sha256) {
        return Err(io(std::io::Error::other(
            "the stored file does not have the expected content",
        )));
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BYTES: &[u8] = b"not really a shared library";

    #[test]
    fn a_stored_plugin_is_found_by_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let cache = PluginCache::at(dir.path());
        let hash = sha256_hex(BYTES);
        assert_eq!(cache.lookup(&hash, "libx.so"), None);
        let path = cache.store(&hash, "libx.so", BYTES).unwrap();
        assert_eq!(path, dir.path().join(&hash).join("libx.so"));
        assert_eq!(std::fs::read(&path).unwrap(), BYTES);
        assert_eq!(cache.lookup(&hash, "libx.so"), Some(path.clone()));
        // Stored twice: the same file, no temporary left behind.
        assert_eq!(cache.store(&hash, "libx.so", BYTES).unwrap(), path);
        let entries = std::fs::read_dir(dir.path().join(&hash)).unwrap().count();
        assert_eq!(entries, 1);
    }

    #[test]
    fn bytes_with_another_hash_are_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let cache = PluginCache::at(dir.path());
        let hash = sha256_hex(b"something else");
        let error = cache.store(&hash, "libx.so", BYTES).unwrap_err();
        assert!(matches!(error, CacheError::Mismatch { .. }), "{error}");
        assert!(!dir.path().join(&hash).exists());
    }

    #[test]
    fn a_damaged_cached_file_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let cache = PluginCache::at(dir.path());
        let hash = sha256_hex(BYTES);
        let path = cache.store(&hash, "libx.so", BYTES).unwrap();
        std::fs::write(&path, b"damaged").unwrap();
        assert_eq!(cache.lookup(&hash, "libx.so"), None);
        // Storing again repairs it.
        cache.store(&hash, "libx.so", BYTES).unwrap();
        assert_eq!(cache.lookup(&hash, "libx.so"), Some(path));
    }

    #[test]
    fn hashes_and_names_that_could_leave_the_cache_are_refused() {
        let cache = PluginCache::at("/nonexistent");
        let hash = sha256_hex(BYTES);
        for name in ["../libx.so", "a/b.so", "..", ".hidden", ""] {
            let error = cache.store(&hash, name, BYTES).unwrap_err();
            assert!(matches!(error, CacheError::BadName(_)), "{name}: {error}");
        }
        let error = cache.store("../../etc", "libx.so", BYTES).unwrap_err();
        assert!(matches!(error, CacheError::BadHash(_)), "{error}");
    }

    #[test]
    fn an_unwritable_root_falls_back_to_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let blocked = dir.path().join("file");
        std::fs::write(&blocked, b"a file where a directory should be").unwrap();
        let cache = PluginCache {
            roots: vec![blocked.join("plugins"), dir.path().join("fallback")],
        };
        let hash = sha256_hex(BYTES);
        let path = cache.store(&hash, "libx.so", BYTES).unwrap();
        assert!(path.starts_with(dir.path().join("fallback")), "{path:?}");
    }
}
