//! The sandbox's seccomp filters: the system calls Landlock does not govern, refused with an
//! error (never a kill, so a plugin that tries one gets an error it can report as its task's).
//!
//! Always refused (EPERM): `ptrace` and reading or writing another process's memory; raising a
//! limit back (`setrlimit`, `prlimit64` with a new value; root could otherwise raise its own hard
//! limits); `kill` of a process group or of every process (`kill(0, ...)`, `kill(-pgid, ...)`,
//! `kill(-1, ...)`), so a task cannot take its worker's group down with it; what only an
//! administrator does (mounts, namespaces, modules, kexec, reboot, swap, the clock, the host
//! name, BPF, perf events, io ports, keyrings, `open_by_handle_at`, which reads a file by handle
//! past every path rule); and `io_uring`, whose operations bypass seccomp. Without the network:
//! every socket but a TCP one (Landlock refuses a TCP connect or bind; UDP, raw, netlink, unix
//! and the other families are refused here). Without child processes: `fork`, `vfork` and a
//! `clone` that makes a process rather than a thread; `clone3` (whose flags a filter cannot
//! read) is ENOSYS, so the C library falls back to `clone` for its threads.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use super::{Policy, SandboxError};

/// The system calls no sandboxed plugin makes.
const ALWAYS_REFUSED: &[i64] = &[
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_setrlimit,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_reboot,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_iopl,
    libc::SYS_ioperm,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_userfaultfd,
    libc::SYS_settimeofday,
    libc::SYS_clock_settime,
    libc::SYS_clock_adjtime,
    libc::SYS_adjtimex,
    libc::SYS_sethostname,
    libc::SYS_setdomainname,
    libc::SYS_acct,
    libc::SYS_quotactl,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_fork,
    libc::SYS_vfork,
];

/// The filters for `policy`, to install in this order: the one that answers ENOSYS, then the
/// one that answers EPERM.
pub(super) fn filters(policy: &Policy) -> Result<Vec<BpfProgram>, SandboxError> {
    let failed =
        |error: seccompiler::Error| SandboxError::Failed(format!("the seccomp filter: {error}"));
    let condition = |arg, len, op, value| {
        SeccompCondition::new(arg, len, op, value).map_err(seccompiler::Error::Backend)
    };
    let rule = |conditions| SeccompRule::new(conditions).map_err(seccompiler::Error::Backend);
    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(|_| {
        SandboxError::Missing(format!(
            "seccomp filters for {} (only x86_64, aarch64 and riscv64 are known)",
            std::env::consts::ARCH
        ))
    })?;
    let build = || -> Result<(BpfProgram, Option<BpfProgram>), seccompiler::Error> {
        let mut refused: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
        for &call in ALWAYS_REFUSED {
            if policy.max_procs > 0 && matches!(call, libc::SYS_fork | libc::SYS_vfork) {
                continue;
            }
            refused.insert(call, Vec::new());
        }
        // A new limit given (the third argument not NULL): refused; reading one is not.
        refused.insert(
            libc::SYS_prlimit64,
            vec![rule(vec![condition(
                2,
                SeccompCmpArgLen::Qword,
                SeccompCmpOp::Ne,
                0,
            )?])?],
        );
        // kill(0, ...) and kill(-n, ...): a group, or every process.
        refused.insert(
            libc::SYS_kill,
            vec![
                rule(vec![condition(
                    0,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::Eq,
                    0,
                )?])?,
                rule(vec![condition(
                    0,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::MaskedEq(0x8000_0000),
                    0x8000_0000,
                )?])?,
            ],
        );
        if policy.max_procs == 0 {
            // A clone without CLONE_THREAD makes a process.
            refused.insert(
                libc::SYS_clone,
                vec![rule(vec![condition(
                    0,
                    SeccompCmpArgLen::Qword,
                    SeccompCmpOp::MaskedEq(libc::CLONE_THREAD as u64),
                    0,
                )?])?],
            );
        }
        if !policy.net {
            let stream = libc::SOCK_STREAM as u64;
            // Any type but a stream (its low four bits; the high ones are flags).
            let mut other_types = Vec::new();
            for kind in (0..16).filter(|&kind| kind != stream) {
                other_types.push(rule(vec![condition(
                    1,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::MaskedEq(0xf),
                    kind,
                )?])?);
            }
            refused.insert(
                libc::SYS_socket,
                other_types
                    .into_iter()
                    .chain([
                        // Any family but IPv4 and IPv6.
                        rule(vec![
                            condition(
                                0,
                                SeccompCmpArgLen::Dword,
                                SeccompCmpOp::Ne,
                                libc::AF_INET as u64,
                            )?,
                            condition(
                                0,
                                SeccompCmpArgLen::Dword,
                                SeccompCmpOp::Ne,
                                libc::AF_INET6 as u64,
                            )?,
                        ])?,
                        // A protocol other than the default and TCP (SCTP and MPTCP streams).
                        rule(vec![
                            condition(2, SeccompCmpArgLen::Dword, SeccompCmpOp::Ne, 0)?,
                            condition(
                                2,
                                SeccompCmpArgLen::Dword,
                                SeccompCmpOp::Ne,
                                libc::IPPROTO_TCP as u64,
                            )?,
                        ])?,
                    ])
                    .collect(),
            );
        }
        let eperm = SeccompFilter::new(
            refused,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
            arch,
        )?
        .try_into()?;
        let enosys = if policy.max_procs == 0 {
            let clone3: BTreeMap<i64, Vec<SeccompRule>> =
                [(libc::SYS_clone3, Vec::new())].into_iter().collect();
            Some(
                SeccompFilter::new(
                    clone3,
                    SeccompAction::Allow,
                    SeccompAction::Errno(libc::ENOSYS as u32),
                    arch,
                )?
                .try_into()?,
            )
        } else {
            None
        };
        Ok((eperm, enosys))
    };
    let (eperm, enosys) = build().map_err(failed)?;
    Ok(enosys.into_iter().chain(std::iter::once(eperm)).collect())
}
