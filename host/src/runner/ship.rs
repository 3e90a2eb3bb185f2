//! [`PluginSource`]: the plugin file as the host offers it to its workers: its path and stamp for
//! the start message, its hash when workers may run elsewhere, and its bytes, read once, for a
//! worker that asks for them. The file is opened when the run starts, so a file renamed over
//! the path later does not change what is sent; one changed in place is refused, not sent.

use std::{fs::File, io::Read, path::PathBuf, sync::Arc};

use super::{RunError, client::Start, protocol::FileStamp};
use crate::plugin::{PluginInfo, sha256_hex};

/// The plugin file a run's workers load.
pub(crate) struct PluginSource {
    /// Its path on the host, absolute (workers may start in another directory).
    path: PathBuf,
    /// Its identity here, so that local workers need not hash it again.
    stamp: Option<FileStamp>,
    /// Its SHA-256, which every worker must have loaded: hashed at the start when workers may run
    /// elsewhere, else only once a worker asks for the plugin or tells a hash.
    sha256: Option<String>,
    /// The file, opened at the start.
    file: Option<File>,
    /// Its bytes, read when a worker first asks for them.
    bytes: Option<Arc<Vec<u8>>>,
}

impl PluginSource {
    /// The plugin's file, stamped and opened now; hashed now too when `hash_now` (workers that
    /// may run on another machine cannot use the stamp).
    pub(crate) fn open(plugin: &PluginInfo, hash_now: bool) -> Self {
        let path = plugin.file.clone();
        // The stamp first: a file changed between the two is then hashed by the workers. A local
        // worker finds the very file by its stamp, so the file is hashed (a millisecond or two
        // for a plugin of a megabyte) only for workers that may run elsewhere, or when a worker
        // asks for the plugin.
        let stamp = FileStamp::of(&path);
        let sha256 = hash_now.then(|| plugin.content().sha256.clone());
        let file = File::open(&path).ok();
        PluginSource {
            path,
            stamp,
            sha256,
            file,
            bytes: None,
        }
    }

    /// The start message's part about the plugin, with the instance's `config`.
    pub(crate) fn start<'a>(&'a self, config: &'a str) -> Start<'a> {
        Start {
            plugin: &self.path,
            sha256: self.sha256.clone(),
            stamp: self.stamp,
            config,
            heartbeat: None,
            pause_after_error: false,
        }
    }

    /// The hash, to be filled in by the hello check when a worker tells one first.
    pub(crate) fn sha256_mut(&mut self) -> &mut Option<String> {
        &mut self.sha256
    }

    /// The plugin's bytes and their hash, for a worker that asked: the very file the host
    /// loaded, read once.
    pub(crate) fn bytes(&mut self) -> Result<(Arc<Vec<u8>>, String), RunError> {
        if let (Some(bytes), Some(sha256)) = (&self.bytes, &self.sha256) {
            return Ok((Arc::clone(bytes), sha256.clone()));
        }
        let changed = |reason: String| RunError::PluginChanged {
            path: self.path.clone(),
            reason,
        };
        let mut bytes = Vec::new();
        let read = match &mut self.file {
            Some(file) => file.read_to_end(&mut bytes).map(|_| ()),
            None => std::fs::read(&self.path).map(|read| bytes = read),
        };
        read.map_err(|error| changed(format!("it cannot be read ({error})")))?;
        let hash = sha256_hex(&bytes);
        match &self.sha256 {
            Some(announced) if *announced != hash => {
                return Err(changed("its content is not what was loaded".to_owned()));
            }
            Some(_) => {}
            None => {
                // Hashed only now: the bytes must be those of the file stamped at the start (the
                // file opened then, unchanged since).
                let now = self
                    .file
                    .as_ref()
                    .and_then(|file| file.metadata().ok())
                    .map(|metadata| FileStamp::of_metadata(&metadata));
                let unchanged = match (now, self.stamp) {
                    (Some(now), Some(then)) => now.same_content(&then),
                    _ => false,
                };
                if !unchanged {
                    return Err(changed("it changed since the run started".to_owned()));
                }
                self.sha256 = Some(hash.clone());
            }
        }
        let bytes = Arc::new(bytes);
        self.bytes = Some(Arc::clone(&bytes));
        Ok((bytes, hash))
    }
}
