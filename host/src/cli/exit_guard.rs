//! A guard against a plugin that ends the host's process itself: a plugin running in the host
//! (inline or thread mode, `describe`, `new`) that calls `exit()` would otherwise end the host
//! with the plugin's exit code (often 0) and none of the output.
//!
//! [`arm`] registers an `atexit` handler before the plugin is loaded and [`disarm`] turns it off
//! when the host itself is about to exit. An exit while armed is the plugin's: the handler writes
//! its sentence to fd 2 with `write(2)` and ends the process with `_exit` and
//! [`EXIT_PLUGIN_EXITED`], flushing nothing (a lock held by the thread that called `exit` would
//! deadlock it). Before that it removes the report's temporary file ([`remove_on_exit`]): no
//! report is written, and none is left half-written.

use std::{
    ffi::CString,
    os::unix::ffi::OsStrExt,
    path::Path,
    sync::{
        Mutex, Once,
        atomic::{AtomicBool, Ordering},
    },
};

use crate::cli::error::EXIT_PLUGIN_EXITED;

static ARMED: AtomicBool = AtomicBool::new(false);
static REGISTERED: Once = Once::new();
/// The sentence to write, prepared in advance (the handler allocates nothing).
static MESSAGE: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// The file to remove when a plugin ends the process: the report's temporary file.
static LEFTOVER: Mutex<Option<CString>> = Mutex::new(None);

const FALLBACK: &[u8] = b"error: a plugin ended the host's process itself (it called exit) before the run finished; run it with --mode process, which contains it\n";

/// Arms the guard for `plugin` (how to name it in the sentence).
pub fn arm(plugin: &str) {
    name(plugin);
    REGISTERED.call_once(|| {
        // SAFETY: registers a handler that only reads atomics, tries a lock, writes and _exits.
        unsafe { libc::atexit(on_exit) };
    });
    ARMED.store(true, Ordering::SeqCst);
}

/// Names the plugin in the sentence from now on.
pub fn name(plugin: &str) {
    let sentence = format!(
        "error: the plugin {plugin} ended the host's process itself (it called exit) before the command finished, so its output is incomplete and no report was written; run it with --mode process, which contains it, and report the bug to the plugin's authors\n"
    );
    if let Ok(mut message) = MESSAGE.lock() {
        *message = sentence.into_bytes();
    }
}

/// Removes `path` if a plugin ends the process while the guard is armed.
pub fn remove_on_exit(path: &Path) {
    if let (Ok(mut leftover), Ok(path)) =
        (LEFTOVER.lock(), CString::new(path.as_os_str().as_bytes()))
    {
        *leftover = Some(path);
    }
}

/// Turns the guard off: the host is exiting on its own.
pub fn disarm() {
    ARMED.store(false, Ordering::SeqCst);
}

/// Disarms the guard when dropped, on return or while a panic of the host's own unwinds.
pub struct DisarmOnDrop;

impl Drop for DisarmOnDrop {
    fn drop(&mut self) {
        disarm();
    }
}

extern "C" fn on_exit() {
    if !ARMED.load(Ordering::SeqCst) {
        return;
    }
    let write = |bytes: &[u8]| {
        // SAFETY: write(2) from a valid buffer; the result is deliberately ignored.
        unsafe { libc::write(libc::STDERR_FILENO, bytes.as_ptr().cast(), bytes.len()) };
    };
    if let Ok(leftover) = LEFTOVER.try_lock() {
        if let Some(path) = leftover.as_ref() {
            // SAFETY: unlink(2) of a valid C string; the result is deliberately ignored.
            unsafe { libc::unlink(path.as_ptr()) };
        }
    }
    crate::report::progress::clear_before_exit();
    match MESSAGE.try_lock() {
        Ok(message) if !message.is_empty() => write(&message),
        _ => write(FALLBACK),
    }
    // SAFETY: ends the process at once, running no more handlers and flushing nothing.
    unsafe { libc::_exit(i32::from(EXIT_PLUGIN_EXITED)) };
}
