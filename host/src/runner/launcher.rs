//! [`Slurm`]: workers as Slurm job steps. Each worker is one `srun` with one task, whose stdin and
//! stdout carry the protocol's binary frames for as long as the run lasts.
//!
//! The flags, and why each one:
//! - `--nodes=1 --ntasks=1`: one worker process per step.
//! - `--unbuffered`: without it slurmstepd holds the task's stdout until a newline, and a frame
//!   need not end in one (the worker would seem to hang). With it the task's stdout is a
//!   pseudo-terminal without output processing, which passes every byte as written.
//! - `--mpi=none`: a cluster's default MPI plugin (e.g. pmix) has nothing to do for one plain task.
//! - `--exact`: inside an allocation, a step takes only what it asks for, so the allocation's
//!   tasks run side by side instead of one step at a time (harmless outside one).
//! - the user's `--slurm-args` (partition, time, account), then `--` and the worker command.
//!
//! Inside an allocation (`SLURM_JOB_ID` set, as in an `sbatch` script or `salloc`), the steps use
//! it, and the number of workers defaults to its task count. Outside one, each `srun` asks for a
//! job of its own. A request the cluster cannot satisfy may wait forever in the queue: the start
//! limit (`--start-timeout`) ends the wait, with what `srun` said.

use std::ffi::OsString;

/// The launcher program.
pub const SRUN: &str = "srun";

/// The fixed flags before the user's.
const SRUN_FLAGS: [&str; 5] = [
    "--nodes=1",
    "--ntasks=1",
    "--mpi=none",
    "--unbuffered",
    "--exact",
];

/// The Slurm allocation this host runs in, if any.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Slurm {
    /// `SLURM_JOB_ID`: the allocation.
    pub job: Option<String>,
    /// `SLURM_NTASKS`: its number of tasks.
    pub tasks: Option<usize>,
}

impl Slurm {
    /// What the environment says.
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok().filter(|value| !value.is_empty());
        Slurm {
            job: var("SLURM_JOB_ID"),
            tasks: var("SLURM_NTASKS")
                .or_else(|| var("SLURM_NPROCS"))
                .and_then(|tasks| tasks.parse().ok())
                .filter(|&tasks| tasks > 0),
        }
    }

    /// The launcher words: `srun` with its flags, then `extra` (the user's `--slurm-args`), then
    /// `--`.
    pub fn words(&self, extra: &[String]) -> Vec<OsString> {
        std::iter::once(SRUN)
            .chain(SRUN_FLAGS)
            .map(OsString::from)
            .chain(extra.iter().map(OsString::from))
            .chain(std::iter::once(OsString::from("--")))
            .collect()
    }

    /// The number of workers when none is asked for: the allocation's tasks.
    pub fn default_workers(&self) -> Option<usize> {
        self.job.as_ref().and(self.tasks)
    }

    /// Where the workers run, for the reason line: `as Slurm job steps in job 59 (...)`.
    pub fn place(&self, words: &[OsString]) -> String {
        let command = super::worker_command::join(words);
        match (&self.job, self.tasks) {
            (Some(job), Some(tasks)) => format!(
                "as Slurm job steps in job {job} ({tasks} tasks), each started with `{command}`"
            ),
            (Some(job), None) => {
                format!("as Slurm job steps in job {job}, each started with `{command}`")
            }
            (None, _) => {
                format!("as Slurm job steps, each in a new job, started with `{command}`")
            }
        }
    }
}

/// The node that a line of `srun`'s names as where its task failed:
/// `srun: error: node3: task 0: Exited with exit code 13` names `node3`.
pub fn failed_node(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("srun: error: ")?;
    let (node, rest) = rest.split_once(": ")?;
    let plain = !node.is_empty() && !node.contains(char::is_whitespace);
    (plain && rest.starts_with("task ")).then_some(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_of_a_failed_task_is_read_from_srun_s_error_line() {
        assert_eq!(
            failed_node("srun: error: node3: task 0: Exited with exit code 13"),
            Some("node3")
        );
        for other in [
            "srun: error: Unable to allocate resources: Invalid partition name specified",
            "slurmstepd-node3: error: execve(): /opt/host: Permission denied",
            "srun: error: : task 0: Exited",
        ] {
            assert_eq!(failed_node(other), None, "{other}");
        }
    }

    #[test]
    fn the_user_flags_go_between_the_fixed_ones_and_the_command() {
        let slurm = Slurm::default();
        let words = slurm.words(&["-p".to_owned(), "debug".to_owned()]);
        let words: Vec<_> = words.iter().map(|word| word.to_str().unwrap()).collect();
        assert_eq!(
            words,
            [
                "srun",
                "--nodes=1",
                "--ntasks=1",
                "--mpi=none",
                "--unbuffered",
                "--exact",
                "-p",
                "debug",
                "--"
            ]
        );
    }

    #[test]
    fn workers_default_to_the_allocations_tasks_only_inside_one() {
        let outside = Slurm {
            job: None,
            tasks: Some(4),
        };
        assert_eq!(outside.default_workers(), None);
        let inside = Slurm {
            job: Some("59".to_owned()),
            tasks: Some(2),
        };
        assert_eq!(inside.default_workers(), Some(2));
        assert!(
            inside
                .place(&inside.words(&[]))
                .contains("job 59 (2 tasks)")
        );
    }
}
