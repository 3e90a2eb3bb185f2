//! The worker sandbox: what a sandboxed worker may do ([`Policy`]: the files it may read and
//! write, the network, child processes, memory), how that policy travels on a worker's command
//! line ([`Policy::words`]), and how a process restricts itself before any plugin code runs
//! ([`enter`], in `enter.rs`): Landlock for files, TCP and signals, a seccomp filter for what
//! Landlock does not cover (other sockets, ptrace, limits raised back, forks), an rlimit for
//! memory and a pids cgroup for child processes, and a private scratch directory.
//!
//! Nothing here is best effort unless the policy says so: a kernel that lacks a feature the
//! policy needs is a [`SandboxError::Missing`], naming the feature.

mod enter;
mod seccomp;

use std::{ffi::OsString, fmt, path::PathBuf};

pub use enter::{
    Entered, ForChildren, Needs, enter, for_children, program_needs, restrict_children, survey,
    sweep,
};

/// How strictly a sandbox is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Level {
    /// Every restriction asked for is in force, or the worker does not start.
    #[default]
    Strict,
    /// What the kernel can enforce is in force; what it cannot is said, and left out.
    BestEffort,
}

impl Level {
    /// The word on the command line (`--sandbox=strict`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Strict => "strict",
            Level::BestEffort => "best-effort",
        }
    }
}

/// What a sandboxed worker may do beyond running its plugin.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    /// Strict or best effort.
    pub level: Level,
    /// Files and directories it may read (`--allow-read`), besides the system's libraries and
    /// the plugin.
    pub read: Vec<PathBuf>,
    /// Files and directories it may read and write (`--allow-write`), besides its scratch
    /// directory.
    pub write: Vec<PathBuf>,
    /// Whether it may use the network (`--allow-net`).
    pub net: bool,
    /// How many processes and threads its tasks may start beyond the worker's own
    /// (`--max-procs`; 0: no child process at all).
    pub max_procs: u32,
    /// Its memory, in bytes of address space (`--memory`).
    pub memory: Option<u64>,
}

impl Policy {
    /// The policy as words of a `host worker` or `host probe` command line, read back by the
    /// same flags `host run` takes.
    pub fn words(&self) -> Vec<OsString> {
        let mut words = vec![OsString::from(format!("--sandbox={}", self.level.as_str()))];
        for path in &self.read {
            words.push("--allow-read".into());
            words.push(path.clone().into_os_string());
        }
        for path in &self.write {
            words.push("--allow-write".into());
            words.push(path.clone().into_os_string());
        }
        if self.net {
            words.push("--allow-net".into());
        }
        if self.max_procs > 0 {
            words.push("--max-procs".into());
            words.push(self.max_procs.to_string().into());
        }
        if let Some(memory) = self.memory {
            words.push("--memory".into());
            words.push(memory.to_string().into());
        }
        words
    }

    /// Checks what the user granted: every path must exist (a grant of nothing is a mistake,
    /// and Landlock can only grant what it can open).
    pub fn check_grants(&self) -> Result<(), SandboxError> {
        for (path, flag) in self
            .read
            .iter()
            .map(|path| (path, "--allow-read"))
            .chain(self.write.iter().map(|path| (path, "--allow-write")))
        {
            if let Err(error) = std::fs::metadata(path) {
                return Err(SandboxError::Grant(format!(
                    "{flag} {} cannot be granted: {error}; give a file or directory that exists",
                    path.display()
                )));
            }
        }
        if self.memory.is_some_and(|memory| memory < MIN_MEMORY) {
            return Err(SandboxError::Grant(format!(
                "--memory {} is less than the {} a worker needs to start; give at least that",
                human_size(self.memory.unwrap_or(0)),
                human_size(MIN_MEMORY)
            )));
        }
        Ok(())
    }
}

/// What a plugin declares it needs in a sandbox, one phrase each with the flag that grants it;
/// empty when it needs nothing beyond what every sandboxed plugin has.
pub fn declared_needs(needs: &quack_core::SandboxNeeds) -> Vec<(String, &'static str)> {
    let mut phrases = Vec::new();
    if needs.reads_files {
        phrases.push(("reads the files it is given".to_owned(), "--allow-read"));
    }
    if needs.writes_files {
        phrases.push(("writes the files it is given".to_owned(), "--allow-write"));
    }
    if needs.net {
        phrases.push(("uses the network".to_owned(), "--allow-net"));
    }
    if needs.max_procs > 0 {
        phrases.push((
            format!("starts up to {} processes", needs.max_procs),
            "--max-procs",
        ));
    }
    phrases
}

/// What a plugin declares it needs that `policy` does not grant, as a sentence for a note;
/// `None` when the policy grants it all.
pub fn ungranted(needs: &quack_core::SandboxNeeds, policy: &Policy) -> Option<String> {
    let missing: Vec<String> = declared_needs(needs)
        .into_iter()
        .filter(|(_, flag)| match *flag {
            "--allow-read" => policy.read.is_empty(),
            "--allow-write" => policy.write.is_empty(),
            "--allow-net" => !policy.net,
            _ => policy.max_procs < needs.max_procs,
        })
        .map(|(phrase, flag)| format!("{phrase} ({flag})"))
        .collect();
    (!missing.is_empty()).then(|| missing.join(", "))
}

/// The least `--memory` a worker can start in (its own code, the plugin, the heap and stacks
/// of two threads, as address space).
pub const MIN_MEMORY: u64 = 64 << 20;

/// Reads a size as `--memory` takes it: bytes, or a number with K, M, G or T (powers of 1024, as
/// `ulimit` and `docker run -m` read them; `KiB`, `MiB`... and `KB`, `MB`... are the same).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(format!(
                "`{text}` is not a size; give bytes or a number with K, M, G or T, e.g. 512M or 2G"
            ));
        }
    };
    let value: f64 = number.parse().map_err(|_| {
        format!("`{text}` is not a size; give bytes or a number with K, M, G or T, e.g. 512M")
    })?;
    let bytes = value * (1u64 << shift) as f64;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!(
            "`{text}` is not a size a worker can have; give e.g. 512M or 2G"
        ));
    }
    Ok(bytes as u64)
}

/// A size for people: `512 MiB`, `1.5 GiB`, `4096 bytes`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [(&str, u32); 4] = [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)];
    for (unit, shift) in UNITS {
        let size = 1u64 << shift;
        if bytes >= size {
            let value = bytes as f64 / size as f64;
            return if bytes % size == 0 {
                format!("{} {unit}", bytes / size)
            } else {
                format!("{value:.1} {unit}")
            };
        }
    }
    format!("{bytes} bytes")
}

/// The restrictions in force in a sandboxed process, one phrase each, and what a best-effort
/// sandbox had to leave out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InForce {
    /// What is enforced: `files: ...`, `network: none`, ...
    pub enforced: Vec<String>,
    /// What was asked for and is not enforced (best effort only), with why.
    pub missing: Vec<String>,
}

impl fmt::Display for InForce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.enforced.join("; "))?;
        if !self.missing.is_empty() {
            write!(f, "; NOT enforced: {}", self.missing.join("; "))?;
        }
        Ok(())
    }
}

/// Why a sandbox could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The kernel (or the container around this process) lacks a feature the policy needs.
    #[error(
        "the sandbox cannot be set up: {0}; run on a kernel that has it, or give --sandbox=best-effort to run with what this one enforces"
    )]
    Missing(String),
    /// A grant or a limit the user gave is not usable.
    #[error("{0}")]
    Grant(String),
    /// The sandbox could not be set up for another reason (a scratch directory that cannot be
    /// made).
    #[error("the sandbox cannot be set up: {0}")]
    Failed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_ulimit_reads_them_and_print_for_people() {
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert_eq!(parse_size("512 MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("2g").unwrap(), 2 << 30);
        assert_eq!(parse_size("1.5G").unwrap(), 3 << 29);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        for bad in ["", "M", "lots", "-1G", "0", "1X", "1e400"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(human_size(512 << 20), "512 MiB");
        assert_eq!(human_size(3 << 29), "1.5 GiB");
        assert_eq!(human_size(100), "100 bytes");
    }

    #[test]
    fn a_policy_travels_as_words_of_the_run_flags() {
        let policy = Policy {
            level: Level::BestEffort,
            read: vec!["/data".into()],
            write: vec!["/out dir".into()],
            net: true,
            max_procs: 3,
            memory: Some(1 << 30),
        };
        let words: Vec<String> = policy
            .words()
            .into_iter()
            .map(|word| word.into_string().unwrap())
            .collect();
        assert_eq!(
            words,
            [
                "--sandbox=best-effort",
                "--allow-read",
                "/data",
                "--allow-write",
                "/out dir",
                "--allow-net",
                "--max-procs",
                "3",
                "--memory",
                "1073741824"
            ]
        );
    }

    #[test]
    fn a_grant_of_a_path_that_does_not_exist_is_one_sentence() {
        let policy = Policy {
            read: vec!["/no/such/place".into()],
            ..Policy::default()
        };
        let error = policy.check_grants().unwrap_err().to_string();
        assert!(
            error.starts_with("--allow-read /no/such/place cannot be granted: "),
            "{error}"
        );
    }
}
