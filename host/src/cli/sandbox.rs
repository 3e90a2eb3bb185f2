//! The sandbox flags (`--sandbox`, `--allow-read`, `--allow-write`, `--allow-net`,
//! `--max-procs`, `--memory`), one clap group shared by `host run` and the hidden `host worker`
//! and `host probe`, which get the same words from [`Policy::words`].

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::sandbox::{Level, Policy, parse_size};

/// `--sandbox` and its grants and limits.
#[derive(Debug, Clone, Default, Args)]
pub struct SandboxArgs {
    /// Run each worker process in a sandbox (implies process mode, no plugin code in the host):
    /// strict (the default: every restriction in force, or exit code 24) or best-effort (what
    /// this machine can enforce, saying what it left out).
    #[arg(
        long,
        value_enum,
        value_name = "HOW",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "strict",
        help_heading = "Sandbox"
    )]
    pub sandbox: Option<LevelArg>,

    /// Let the sandboxed plugin read PATH (a file, or a directory and everything beneath it);
    /// repeat for more.
    #[arg(
        long = "allow-read",
        value_name = "PATH",
        requires = "sandbox",
        help_heading = "Sandbox"
    )]
    pub allow_read: Vec<PathBuf>,

    /// Let the sandboxed plugin read and write PATH (and make and remove files beneath it);
    /// repeat for more.
    #[arg(
        long = "allow-write",
        value_name = "PATH",
        requires = "sandbox",
        help_heading = "Sandbox"
    )]
    pub allow_write: Vec<PathBuf>,

    /// Let the sandboxed plugin use the network (default: no socket but a unix socket pair).
    #[arg(long, requires = "sandbox", help_heading = "Sandbox")]
    pub allow_net: bool,

    /// Let each sandboxed worker's tasks start up to N processes and threads of their own
    /// (default 0: no child process; threads are not counted then). Needs a pids cgroup the
    /// user can make (root: /sys/fs/cgroup/pids).
    #[arg(long, value_name = "N", requires = "sandbox", help_heading = "Sandbox")]
    pub max_procs: Option<u32>,

    /// Each sandboxed worker's memory, as address space: bytes, or with K, M, G or T (powers of
    /// 1024), e.g. 512M. A task that runs out fails with a sentence naming the limit. Default:
    /// no limit.
    #[arg(
        long,
        value_name = "SIZE",
        value_parser = parse_size,
        requires = "sandbox",
        help_heading = "Sandbox"
    )]
    pub memory: Option<u64>,
}

/// The values of `--sandbox`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LevelArg {
    /// Every restriction in force, or the run is refused (exit code 24).
    Strict,
    /// What this machine can enforce; what it cannot is said and left out.
    BestEffort,
}

impl SandboxArgs {
    /// The policy asked for; `None` without `--sandbox`.
    pub fn policy(&self) -> Option<Policy> {
        let level = match self.sandbox? {
            LevelArg::Strict => Level::Strict,
            LevelArg::BestEffort => Level::BestEffort,
        };
        Some(Policy {
            level,
            read: self.allow_read.clone(),
            write: self.allow_write.clone(),
            net: self.allow_net,
            max_procs: self.max_procs.unwrap_or(0),
            memory: self.memory,
        })
    }
}
