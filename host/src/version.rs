//! What this host is: its version, the git commit it was built from (when built from a checkout,
//! see `build.rs`), the plugin ABI and the worker protocol it speaks. `host -V` prints
//! [`short`], `host --version` prints [`long`].

use std::sync::LazyLock;

/// The host's version (the workspace version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit the host was built from (short hash, `-dirty` when tracked files had changes),
/// or `None` when it was not built from a git checkout.
pub const COMMIT: Option<&str> = option_env!("QUACK_GIT_COMMIT");

/// `0.1.0 (abc1234)`, or `0.1.0` without a commit: what `host -V` prints after the name.
pub fn short() -> &'static str {
    static SHORT: LazyLock<String> = LazyLock::new(|| match COMMIT {
        Some(commit) => format!("{VERSION} ({commit})"),
        None => VERSION.to_owned(),
    });
    SHORT.as_str()
}

/// The version, then one `key: value` line each for the commit, the ABI, the worker protocol, the
/// operating system and the architecture: what `host --version` prints after the name.
pub fn long() -> &'static str {
    static LONG: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{VERSION}\ncommit: {}\nabi: {}\nprotocol: {}\nos: {}\narch: {}",
            COMMIT.unwrap_or("unknown (not built from a git checkout)"),
            quack_core::ABI_VERSION,
            crate::runner::protocol::PROTOCOL_VERSION,
            std::env::consts::OS,
            std::env::consts::ARCH,
        )
    });
    LONG.as_str()
}
