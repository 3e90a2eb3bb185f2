//! [`enter`]: the calling process restricts itself to a [`Policy`], for good, before it loads any
//! plugin code; [`survey`] checks, without restricting anything, that this machine can enforce a
//! policy (what `host run` does before it starts a worker).
//!
//! The steps, in this order (each later one would forbid the earlier):
//! 1. a private scratch directory (`quack-scratch-*` in the temporary directory), which becomes
//!    the current directory, `HOME` and `TMPDIR`; it is removed when [`Entered`] is dropped;
//! 2. no core dumps (`RLIMIT_CORE` 0), and `--memory` as `RLIMIT_AS`;
//! 3. `--max-procs N`: a pids cgroup of its own where the machine lets this user make one (the
//!    kernel's count binds root too, which `RLIMIT_NPROC` does not);
//! 4. Landlock: every file right handled, granted only beneath the paths below; TCP connect and
//!    bind handled with no port granted (unless `--allow-net`); signals and abstract unix
//!    sockets scoped to the sandbox; no new privileges;
//! 5. the seccomp filters of `seccomp.rs`, on every thread.
//!
//! Readable: the system's libraries and programs (`/usr`, `/lib*`, `/bin`, `/sbin`), the dynamic
//! loader's configuration, the time zone, this process's own `/proc` directory, the CPU and
//! cgroup files a runtime reads to count cores, `/dev/null`, `/dev/zero` and `/dev/urandom`, the
//! host binary, the plugin file, and `--allow-read`. With the network also the resolver's and
//! TLS's files in `/etc`. Writable: the scratch directory, `/dev/null` and `--allow-write`.
//! Executable: nothing, except a program plugin's interpreter (which must be started).

use std::{
    fs,
    io::Write as _,
    path::{Path, PathBuf},
};

use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd,
    RestrictionStatus, Ruleset, RulesetAttr, RulesetCreated, RulesetCreatedAttr, RulesetStatus,
    Scope,
};

use super::{InForce, Level, Policy, SandboxError, human_size, seccomp};

/// The Landlock ABI whose rights a sandbox asks for: files (with truncate and device ioctls), TCP,
/// and the signal and abstract-socket scopes.
const LANDLOCK_ABI: ABI = ABI::V6;

/// What the sandbox needs of Landlock, for sentences.
const LANDLOCK_NEEDED: &str = "Landlock with the rights of its ABI 6 (files, TCP, signal scoping)";

/// Read beneath these when they exist: what every process needs to start and run.
const SYSTEM_READ: &[&str] = &[
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/libx32",
    "/bin",
    "/sbin",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/proc/self",
    "/sys/devices/system/cpu",
    "/sys/fs/cgroup",
    "/dev/null",
    "/dev/zero",
    "/dev/urandom",
    "/dev/random",
];

/// Where the dynamic loader of a program may be (the `PT_INTERP` of the C library's programs).
const ELF_LOADERS: &[&str] = &[
    "/lib64/ld-linux-x86-64.so.2",
    "/lib/ld-linux-x86-64.so.2",
    "/lib/ld-linux-aarch64.so.1",
    "/lib/ld-linux-riscv64-lp64d.so.1",
];

/// Read too with the network: names, services and certificates.
const NET_READ: &[&str] = &[
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/nsswitch.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
];

/// Where a pids cgroup (version 1) is made.
const PIDS_V1: &str = "/sys/fs/cgroup/pids";

/// The name of a scratch directory, before its process's id.
const SCRATCH_PREFIX: &str = "quack-scratch-";

/// The name of a worker's pids cgroup, before its process's id.
const CGROUP_PREFIX: &str = "quack-worker-";

/// Removes what sandboxed processes that are gone left behind: the scratch directories of
/// processes that no longer exist (a worker that crashed or was killed cannot remove its own)
/// and the empty pids cgroups of workers (one that still has a process cannot be removed, so
/// another run's stay). A worker does it before it makes its own; `host run` at its end.
pub fn sweep() {
    let gone = |name: &str, prefix: &str| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<libc::pid_t>().ok())
            // SAFETY: signal 0 only asks whether the process exists.
            .is_some_and(|pid| unsafe { libc::kill(pid, 0) } != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH))
    };
    if let Ok(entries) = fs::read_dir(std::env::temp_dir()) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let own_dir = entry.file_type().is_ok_and(|kind| kind.is_dir())
                && entry.metadata().is_ok_and(|meta| {
                    std::os::unix::fs::MetadataExt::uid(&meta)
                        // SAFETY: getuid has no memory effects.
                        == unsafe { libc::getuid() }
                });
            if own_dir && gone(&name, SCRATCH_PREFIX) {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
    if let Ok(entries) = fs::read_dir(PIDS_V1) {
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(CGROUP_PREFIX)
            {
                let _ = fs::remove_dir(entry.path());
            }
        }
    }
}

/// What a sandboxed process keeps: its scratch directory (removed when this is dropped) and what
/// is in force.
#[derive(Debug)]
pub struct Entered {
    /// The restrictions in force.
    pub in_force: InForce,
    /// The private scratch directory.
    scratch: Option<tempfile::TempDir>,
}

impl Entered {
    /// The scratch directory.
    pub fn scratch(&self) -> Option<&Path> {
        self.scratch.as_ref().map(tempfile::TempDir::path)
    }
}

/// What a process must reach beyond the policy: the plugin file, and the interpreter a program
/// plugin is started with.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    /// Files to read (the plugin, the program SDK beside it).
    pub read: Vec<PathBuf>,
    /// Files to read and run (a program plugin's interpreter).
    pub execute: Vec<PathBuf>,
}

/// What a program plugin's interpreter needs beyond the policy: the program file and the host's
/// Python SDK beside it to read, its interpreter (and the one `env` finds) to run.
pub fn program_needs(file: &Path) -> Needs {
    let mut read = vec![file.to_path_buf()];
    read.extend(crate::program::python_sdk_dir().map(Path::to_path_buf));
    let execute = crate::program::Program::at(file, file)
        .map(|program| program.executables())
        .unwrap_or_default();
    Needs { read, execute }
}

/// Checks that this machine can enforce `policy` (Landlock with the rights it needs, seccomp,
/// a pids cgroup for `--max-procs`), restricting nothing. A strict policy that cannot be enforced
/// is [`SandboxError::Missing`]; a best-effort one says what it would leave out.
pub fn survey(policy: &Policy) -> Result<InForce, SandboxError> {
    policy.check_grants()?;
    let mut in_force = InForce::default();
    let ruleset = landlock_ruleset(policy, &mut in_force)?;
    drop(ruleset);
    // Set with the Landlock restriction (and by seccomp's filter without it).
    in_force.enforced.push("no new privileges".to_owned());
    seccomp_available(policy.level, &mut in_force)?;
    seccomp::filters(policy)?;
    processes(policy, false, &mut in_force)?;
    memory(policy, false, &mut in_force)?;
    Ok(in_force)
}

/// Makes a scratch directory for this process (removing those of sandboxed processes that are
/// gone first).
fn make_scratch() -> Result<tempfile::TempDir, SandboxError> {
    sweep();
    tempfile::Builder::new()
        .prefix(&format!("{SCRATCH_PREFIX}{}-", std::process::id()))
        .tempdir()
        .map_err(|error| {
            SandboxError::Failed(format!(
                "its scratch directory could not be made in {}: {error}",
                std::env::temp_dir().display()
            ))
        })
}

/// The sandbox of the programs this process starts (a program plugin's interpreter): each one
/// enters it between fork and exec ([`ForChildren::enter_here`]), while this process, the
/// host's own code speaking to it, stays as it is.
#[derive(Debug)]
pub struct ForChildren {
    policy: Policy,
    needs: Needs,
    scratch: PathBuf,
}

static FOR_CHILDREN: std::sync::OnceLock<ForChildren> = std::sync::OnceLock::new();

/// Makes every program this process starts from now on enter `policy`, with `needs` readable
/// and runnable, in a scratch directory of their own (removed when the [`Entered`] returned is
/// dropped). Checks first, in this process, that the kernel can enforce it.
pub fn restrict_children(policy: &Policy, needs: Needs) -> Result<Entered, SandboxError> {
    let in_force = survey(policy)?;
    let scratch = make_scratch()?;
    let children = ForChildren {
        policy: policy.clone(),
        needs,
        scratch: scratch.path().to_path_buf(),
    };
    FOR_CHILDREN
        .set(children)
        .map_err(|_| SandboxError::Failed("a sandbox for programs was set up twice".to_owned()))?;
    Ok(Entered {
        in_force,
        scratch: Some(scratch),
    })
}

/// The sandbox the programs this process starts enter, when there is one.
pub fn for_children() -> Option<&'static ForChildren> {
    FOR_CHILDREN.get()
}

impl ForChildren {
    /// The children's scratch directory: their current directory, `HOME` and `TMPDIR`.
    pub fn scratch(&self) -> &Path {
        &self.scratch
    }

    /// Restricts the calling process, a child between fork and exec (single-threaded, as a
    /// forked child is; the C library's allocator works there after `fork`).
    pub fn enter_here(&self) -> std::io::Result<()> {
        let mut in_force = InForce::default();
        restrict(&self.policy, &self.needs, &self.scratch, &mut in_force)
            .map_err(|error| std::io::Error::other(error.to_string()))
    }
}

/// Restricts this process to `policy`, with `needs` readable (and runnable), for good.
/// Call it while the process has one thread: Landlock binds the calling thread and the threads
/// and processes it starts later.
pub fn enter(policy: &Policy, needs: &Needs) -> Result<Entered, SandboxError> {
    policy.check_grants()?;
    let mut in_force = InForce::default();
    let scratch = make_scratch()?;
    std::env::set_current_dir(scratch.path()).map_err(|error| {
        SandboxError::Failed(format!(
            "its scratch directory {} could not be entered: {error}",
            scratch.path().display()
        ))
    })?;
    // SAFETY: the caller is the process's only thread (see above), so nothing reads the
    // environment meanwhile.
    unsafe {
        std::env::set_var("HOME", scratch.path());
        std::env::set_var("TMPDIR", scratch.path());
    }
    restrict(policy, needs, scratch.path(), &mut in_force)?;
    Ok(Entered {
        in_force,
        scratch: Some(scratch),
    })
}

/// The restrictions themselves (every step but making the scratch directory), for this process
/// or a child about to exec.
fn restrict(
    policy: &Policy,
    needs: &Needs,
    scratch: &Path,
    in_force: &mut InForce,
) -> Result<(), SandboxError> {
    set_limit(libc::RLIMIT_CORE, 0).map_err(|error| {
        SandboxError::Failed(format!("core dumps could not be turned off: {error}"))
    })?;
    memory(policy, true, in_force)?;
    processes(policy, true, in_force)?;

    let mut ruleset = landlock_ruleset(policy, in_force)?;
    let read = AccessFs::ReadFile | AccessFs::ReadDir;
    let all = AccessFs::from_all(LANDLOCK_ABI);
    let mut grants: Vec<(PathBuf, BitFlags<AccessFs>, bool)> = Vec::new();
    let system = SYSTEM_READ
        .iter()
        .chain(if policy.net { NET_READ } else { &[] });
    grants.extend(system.map(|path| (PathBuf::from(path), read, false)));
    if let Ok(exe) = std::env::current_exe() {
        grants.push((exe, read, false));
    }
    grants.push(("/dev/null".into(), read | AccessFs::WriteFile, false));
    grants.extend(needs.read.iter().map(|path| (path.clone(), read, true)));
    grants.extend(
        needs
            .execute
            .iter()
            .map(|path| (path.clone(), read | AccessFs::Execute, true)),
    );
    if !needs.execute.is_empty() {
        // The kernel opens a program's ELF interpreter for execution too.
        grants.extend(
            ELF_LOADERS
                .iter()
                .filter_map(|loader| fs::canonicalize(loader).ok())
                .map(|loader| (loader, read | AccessFs::Execute, false)),
        );
    }
    grants.push((scratch.to_path_buf(), all, true));
    grants.extend(policy.read.iter().map(|path| (path.clone(), read, true)));
    grants.extend(policy.write.iter().map(|path| (path.clone(), all, true)));
    for (path, access, required) in grants {
        let fd = match PathFd::new(&path) {
            Ok(fd) => fd,
            // A system path this machine does not have (/lib32) is nothing to grant.
            Err(_) if !required => continue,
            Err(error) => {
                return Err(SandboxError::Grant(format!(
                    "{} cannot be granted to the sandbox: {error}",
                    path.display()
                )));
            }
        };
        let access = if fs::metadata(&path).is_ok_and(|meta| !meta.is_dir()) {
            access & AccessFs::from_file(LANDLOCK_ABI)
        } else {
            access
        };
        ruleset = ruleset
            .add_rule(PathBeneath::new(fd, access))
            .map_err(|error| {
                SandboxError::Failed(format!(
                    "{} could not be granted to the sandbox: {error}",
                    path.display()
                ))
            })?;
    }
    let status = ruleset.restrict_self().map_err(|error| {
        SandboxError::Missing(format!("Landlock refused to restrict the worker ({error})"))
    })?;
    landlock_enforced(policy.level, &status, in_force)?;

    if seccomp_available(policy.level, in_force)? {
        for filter in seccomp::filters(policy)? {
            if let Err(error) = seccompiler::apply_filter_all_threads(&filter) {
                match policy.level {
                    Level::Strict => {
                        return Err(SandboxError::Missing(format!(
                            "seccomp filters (installing one failed: {error})"
                        )));
                    }
                    Level::BestEffort => {
                        in_force.missing.push(format!(
                            "the seccomp filter (installing it failed: {error})"
                        ));
                        break;
                    }
                }
            }
        }
    }
    Ok(())
}

/// The Landlock ruleset of `policy`, created (nothing restricted yet); says in `in_force` what
/// it handles.
fn landlock_ruleset(
    policy: &Policy,
    in_force: &mut InForce,
) -> Result<RulesetCreated, SandboxError> {
    let level = match policy.level {
        Level::Strict => CompatLevel::HardRequirement,
        Level::BestEffort => CompatLevel::BestEffort,
    };
    let missing = |error: landlock::RulesetError| {
        SandboxError::Missing(format!(
            "{LANDLOCK_NEEDED}: {}",
            landlock_missing(Some(&error))
        ))
    };
    let mut ruleset = Ruleset::default()
        .set_compatibility(level)
        .handle_access(AccessFs::from_all(LANDLOCK_ABI))
        .map_err(missing)?;
    if !policy.net {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(LANDLOCK_ABI))
            .map_err(missing)?;
    }
    let created = ruleset
        .scope(Scope::from_all(LANDLOCK_ABI))
        .map_err(missing)?
        .create()
        .map_err(missing)?;
    // Best effort on a kernel without all of it: the crate enforces what it can, and says so
    // only once it restricted; said here first, for the survey.
    if kernel_landlock_abi().map_or(true, |version| version < LANDLOCK_ABI as i64) {
        in_force
            .missing
            .push(format!("{LANDLOCK_NEEDED} ({})", landlock_missing(None)));
        in_force.enforced.push(if policy.net {
            "network: allowed (--allow-net)".to_owned()
        } else {
            "network: no socket but TCP (seccomp; TCP needs Landlock)".to_owned()
        });
        return Ok(created);
    }
    in_force.enforced.push(format!(
        "files: read the system's libraries and the plugin{}, write only a private scratch directory{} (Landlock)",
        grants_phrase(&policy.read),
        grants_phrase(&policy.write)
    ));
    in_force.enforced.push(if policy.net {
        "network: allowed (--allow-net)".to_owned()
    } else {
        "network: none (Landlock refuses TCP, seccomp every other socket)".to_owned()
    });
    in_force
        .enforced
        .push("signals: only within the worker (Landlock scope)".to_owned());
    Ok(created)
}

/// `, and /data` for a list of grants.
fn grants_phrase(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return String::new();
    }
    let list: Vec<String> = paths
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    format!(" and {}", list.join(", "))
}

/// The kernel's Landlock ABI version, or the errno of its refusal (ENOSYS: no Landlock;
/// EOPNOTSUPP: not enabled). Asked of the kernel directly for the sentences: the crate keeps its
/// own answer private (and chooses what to enforce by itself, as it should).
fn kernel_landlock_abi() -> Result<i64, i32> {
    /// `LANDLOCK_CREATE_RULESET_VERSION`: asks for the ABI version, creates nothing.
    const VERSION: libc::c_long = 1;
    // SAFETY: with a NULL attribute, size 0 and the version flag, the kernel only answers a
    // number; no memory is read or written.
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            VERSION,
        )
    };
    if version >= 0 {
        Ok(version)
    } else {
        Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::ENOSYS))
    }
}

/// Why Landlock cannot be used, for the sentence.
fn landlock_missing(error: Option<&landlock::RulesetError>) -> String {
    let error = error.map_or_else(String::new, |error| format!(" ({error})"));
    match kernel_landlock_abi() {
        Ok(version) => format!("this kernel has Landlock ABI {version} only{error}"),
        Err(libc::EOPNOTSUPP) => "Landlock is built into this kernel but not enabled (add landlock to the lsm= boot parameter)".to_owned(),
        Err(_) => "this kernel has no Landlock (landlock_create_ruleset: ENOSYS)".to_owned(),
    }
}

/// Checks how Landlock restricted this process; a strict policy needs it whole.
fn landlock_enforced(
    level: Level,
    status: &RestrictionStatus,
    in_force: &mut InForce,
) -> Result<(), SandboxError> {
    let whole = status.ruleset == RulesetStatus::FullyEnforced && status.no_new_privs;
    if whole {
        in_force.enforced.push("no new privileges".to_owned());
        return Ok(());
    }
    if status.ruleset != RulesetStatus::FullyEnforced
        && in_force
            .missing
            .iter()
            .any(|what| what.starts_with(LANDLOCK_NEEDED))
    {
        // Said already, when the ruleset was made.
        return Ok(());
    }
    let what = match status.ruleset {
        RulesetStatus::FullyEnforced => "no new privileges could not be set",
        RulesetStatus::PartiallyEnforced => "Landlock enforced only part of the rules",
        _ => "Landlock enforced nothing",
    };
    match level {
        Level::Strict => Err(SandboxError::Missing(what.to_owned())),
        Level::BestEffort => {
            in_force.missing.push(what.to_owned());
            Ok(())
        }
    }
}

/// Whether this kernel filters system calls with seccomp; says so in `in_force`.
fn seccomp_available(level: Level, in_force: &mut InForce) -> Result<bool, SandboxError> {
    // SAFETY: PR_GET_SECCOMP reads this process's seccomp mode and touches no memory.
    let mode = unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) };
    if mode >= 0 {
        in_force.enforced.push(
            "system calls: no ptrace, no raising limits, no kill of a process group, no administration (seccomp)"
                .to_owned(),
        );
        return Ok(true);
    }
    let error = std::io::Error::last_os_error();
    match level {
        Level::Strict => Err(SandboxError::Missing(format!(
            "seccomp filters (prctl PR_GET_SECCOMP: {error})"
        ))),
        Level::BestEffort => {
            in_force.missing.push(format!(
                "the seccomp filter (this kernel has none: {error})"
            ));
            Ok(false)
        }
    }
}

/// `--memory`: an address-space limit; set it when `apply`.
fn memory(policy: &Policy, apply: bool, in_force: &mut InForce) -> Result<(), SandboxError> {
    let Some(bytes) = policy.memory else {
        in_force
            .enforced
            .push("memory: no limit (--memory)".to_owned());
        return Ok(());
    };
    if apply {
        set_limit(libc::RLIMIT_AS, bytes).map_err(|error| {
            SandboxError::Failed(format!(
                "the memory limit of {} could not be set: {error}",
                human_size(bytes)
            ))
        })?;
    }
    in_force.enforced.push(format!(
        "memory: {} of address space (RLIMIT_AS; seccomp keeps it from being raised)",
        human_size(bytes)
    ));
    Ok(())
}

/// `--max-procs`: none at all is seccomp's; N is a pids cgroup's, made and entered when `apply`.
fn processes(policy: &Policy, apply: bool, in_force: &mut InForce) -> Result<(), SandboxError> {
    if policy.max_procs == 0 {
        in_force
            .enforced
            .push("processes: none may be started (seccomp)".to_owned());
        return Ok(());
    }
    let n = policy.max_procs;
    let writable = Path::new(PIDS_V1).join("cgroup.procs").exists()
        // SAFETY: access reads a path this function owns, a NUL-terminated literal.
        && unsafe { libc::access(c"/sys/fs/cgroup/pids".as_ptr(), libc::W_OK) } == 0;
    if !writable {
        let what = format!(
            "--max-procs {n} needs a pids cgroup this user can make (none writable at {PIDS_V1})"
        );
        return match policy.level {
            Level::Strict => Err(SandboxError::Missing(what)),
            Level::BestEffort => {
                in_force.missing.push(what);
                Ok(())
            }
        };
    }
    if apply {
        join_pids_cgroup(n).map_err(|error| {
            SandboxError::Failed(format!(
                "the pids cgroup for --max-procs {n} could not be set up: {error}"
            ))
        })?;
    }
    in_force.enforced.push(format!(
        "processes: at most {n} beyond the worker's own (pids cgroup)"
    ));
    Ok(())
}

/// Makes a pids cgroup for this process (`quack-worker-PID`), allowing its threads now, one more
/// for its heartbeat and `n` for its tasks, and moves this process into it.
fn join_pids_cgroup(n: u32) -> std::io::Result<()> {
    let pid = std::process::id();
    let dir = Path::new(PIDS_V1).join(format!("{CGROUP_PREFIX}{pid}"));
    match fs::create_dir(&dir) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(error),
    }
    let threads = fs::read_dir("/proc/self/task").map_or(1, Iterator::count);
    let max = threads as u64 + 1 + u64::from(n);
    fs::OpenOptions::new()
        .write(true)
        .open(dir.join("pids.max"))?
        .write_all(max.to_string().as_bytes())?;
    fs::OpenOptions::new()
        .write(true)
        .open(dir.join("cgroup.procs"))?
        .write_all(pid.to_string().as_bytes())
}

/// Sets both the soft and the hard limit of `resource`.
fn set_limit(resource: libc::__rlimit_resource_t, value: u64) -> std::io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: setrlimit reads the struct on this stack frame.
    if unsafe { libc::setrlimit(resource, &limit) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
