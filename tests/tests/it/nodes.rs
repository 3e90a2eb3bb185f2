//! Workers spread over the several Slurm nodes of the emulated cluster of `scripts/dev-slurm
//! --nodes N` (each node its own network, mount and UTS namespace with its own `slurmd`), and the
//! faults of real clusters done to one node mid-run: its network cut, its host binary broken.
//! These tests skip (with a line on stderr) unless the cluster the tests talk to (`SLURM_CONF`)
//! is that emulated one, and fail instead when `QUACK_REQUIRE_SLURM_NODES` names a node count
//! (CI sets 4), so that they cannot pass there without having run.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use quack_tests::{
    LiveRun, assert_valid_report, host, plugin, plugin_arg, read_report, seed_lines, task_record,
};
use serde_json::Value;

use crate::cluster::{CancelJobs, slurm, wait_until_no_jobs};

/// How long a run on the emulated cluster may take before the test calls it hung (a guard).
const GUARD: Duration = Duration::from_secs(180);

/// What a test needs to know about the emulated cluster.
struct Emulated {
    /// Its nodes, `node1`..`nodeN`.
    nodes: Vec<String>,
    /// The node that cannot see `hidden_dir`, which every other node and this machine see.
    hidden_node: String,
    hidden_dir: PathBuf,
}

/// The `scripts/dev-slurm` of this checkout with `args`.
fn dev_slurm(args: &[&str]) -> std::process::Output {
    Command::new(quack_tests::repo_file("scripts/dev-slurm"))
        .args(args)
        .output()
        .unwrap()
}

/// The emulated cluster, when the tests talk to one of at least `min_nodes` nodes; prints why
/// not, or panics when `QUACK_REQUIRE_SLURM_NODES` asks for one.
fn emulated(min_nodes: usize) -> Option<Emulated> {
    let why_not = match read_emulated() {
        Ok(cluster) if cluster.nodes.len() >= min_nodes => return Some(cluster),
        Ok(cluster) => format!("the emulated cluster has {} nodes", cluster.nodes.len()),
        Err(why) => why,
    };
    let required = std::env::var("QUACK_REQUIRE_SLURM_NODES").ok();
    if let Some(required) = required.filter(|count| !count.is_empty()) {
        panic!(
            "QUACK_REQUIRE_SLURM_NODES={required} but {why_not}; run scripts/dev-slurm --nodes {required} and export the SLURM_CONF it prints"
        );
    }
    eprintln!(
        "skipped: a multi-node test needs the emulated cluster with {min_nodes} nodes or more ({why_not}); run scripts/dev-slurm --nodes 4 and export the SLURM_CONF it prints"
    );
    None
}

fn read_emulated() -> Result<Emulated, String> {
    let output = dev_slurm(&["--emulated"]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_default()
            .to_owned()
    };
    let conf = field("conf");
    if std::env::var_os("SLURM_CONF").is_none_or(|value| value != conf.as_str()) {
        return Err(format!("SLURM_CONF is not {conf}"));
    }
    let hidden = field("hidden");
    let (hidden_node, hidden_dir) = hidden.split_once(' ').unwrap();
    Ok(Emulated {
        nodes: field("nodes").split(' ').map(str::to_owned).collect(),
        hidden_node: hidden_node.to_owned(),
        hidden_dir: PathBuf::from(hidden_dir),
    })
}

/// Undoes a fault done to a node when dropped (the node reboots), so that a failing test leaves
/// the cluster whole.
struct Heal(String);

impl Drop for Heal {
    fn drop(&mut self) {
        let healed = dev_slurm(&["--heal", &self.0]);
        if !healed.status.success() {
            eprintln!(
                "scripts/dev-slurm --heal {} failed: {}",
                self.0,
                String::from_utf8_lossy(&healed.stderr)
            );
        }
    }
}

/// Starts `host` with `args` and the report at `report`.
fn start(args: &[&str], report: &Path, env: &[(&str, &Path)]) -> LiveRun {
    let mut full = args.to_vec();
    full.extend(["--json", report.to_str().unwrap()]);
    let mut command = host(&full);
    for (key, value) in env {
        command.env(key, value);
    }
    LiveRun::start_command(&mut command, GUARD)
}

/// The node each worker of the report ran on, by worker number (the last process of each).
fn nodes_of_workers(report: &Value) -> Vec<(u64, String)> {
    report["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|worker| {
            (
                worker["worker"].as_u64().unwrap(),
                worker["node"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn exclusive_workers_land_one_per_node_and_the_node_that_cannot_see_the_plugin_gets_it_shipped() {
    let Some(cluster) = emulated(2) else {
        return;
    };
    let Some(_cluster_lock) = slurm() else {
        return;
    };
    // The plugin where every node but one sees it; a cache of its own, so the copy is fresh.
    let dir = tempfile::tempdir_in(&cluster.hidden_dir).unwrap();
    let copy = dir.path().join("libmisbehave.so");
    std::fs::copy(plugin("misbehave"), &copy).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let report_dir = tempfile::tempdir().unwrap();
    let report_path = report_dir.path().join("report.json");
    let workers = cluster.nodes.len().to_string();
    // Tasks long enough that every worker takes some before the others are done.
    let mut args = vec![
        "run",
        copy.to_str().unwrap(),
        "--slurm",
        "--workers",
        &workers,
        "--slurm-args",
        "--exclusive",
    ];
    for _ in 0..2 * cluster.nodes.len() {
        args.extend(["--task", "sleep:1500"]);
    }
    let run = start(&args, &report_path, &[("XDG_CACHE_HOME", cache.path())]).finish();
    run.expect_code(0);
    let report = read_report(&report_path, &run);
    assert_valid_report(&report);
    let placed = nodes_of_workers(&report);
    let nodes: BTreeSet<_> = placed.iter().map(|(_, node)| node.clone()).collect();
    let expected: BTreeSet<_> = cluster.nodes.iter().cloned().collect();
    assert_eq!(nodes, expected, "one worker per node: {report:#}");
    for (worker, node) in &placed {
        let shipped = run.stderr.lines().any(|line| {
            line.starts_with(&format!("[worker {worker}] "))
                && line.contains("the host sends the plugin")
        });
        assert_eq!(
            shipped,
            *node == cluster.hidden_node,
            "only the worker on {} needs the plugin sent: worker {worker} ran on {node}; {run:#?}",
            cluster.hidden_node
        );
    }
}

#[test]
fn the_seed_runs_over_every_node_of_the_emulated_cluster() {
    let Some(cluster) = emulated(2) else {
        return;
    };
    let Some(_cluster_lock) = slurm() else {
        return;
    };
    let report_dir = tempfile::tempdir().unwrap();
    let report_path = report_dir.path().join("report.json");
    let workers = cluster.nodes.len().to_string();
    let plugin = plugin_arg("factorize");
    let run = start(
        &[
            "run",
            &plugin,
            "--slurm",
            "--workers",
            &workers,
            "--slurm-args",
            "--exclusive",
        ],
        &report_path,
        &[],
    )
    .finish();
    run.expect_code(0);
    for line in seed_lines() {
        assert_eq!(run.stdout.matches(&line).count(), 1, "{line}: {run:#?}");
    }
    let report = read_report(&report_path, &run);
    for (_, node) in nodes_of_workers(&report) {
        assert!(cluster.nodes.contains(&node), "{node}: {report:#}");
    }
}

#[test]
fn a_node_cut_off_mid_run_loses_its_worker_within_the_heartbeat_limit_and_its_task_runs_elsewhere()
{
    let Some(cluster) = emulated(2) else {
        return;
    };
    let Some(_cluster_lock) = slurm() else {
        return;
    };
    const NAME: &str = "quack-test-node-cut";
    let _cancel = CancelJobs(NAME);
    let report_dir = tempfile::tempdir().unwrap();
    let report_path = report_dir.path().join("report.json");
    let workers = cluster.nodes.len().to_string();
    let job_name = format!("--job-name={NAME} --exclusive");
    let plugin = plugin_arg("misbehave");
    let tasks = 2 * cluster.nodes.len();
    let mut args = vec![
        "run",
        &plugin,
        "--slurm",
        "--workers",
        &workers,
        "--slurm-args",
        &job_name,
        "--heartbeat-timeout",
        "3s",
        "--retries",
        "1",
    ];
    for _ in 0..tasks {
        args.extend(["--task", "announce-sleep:3000"]);
    }
    let mut live = start(&args, &report_path, &[]);
    // Every worker is running its first task; then worker 0's node is cut off the network: srun
    // on this machine waits for it for ever, and only the heartbeat can tell.
    let count = cluster.nodes.len();
    let mut node_of = vec![String::new(); count];
    let mut sleeping = 0;
    while node_of.iter().any(String::is_empty) || sleeping < count {
        let line = live.stderr_line_containing("");
        if let Some((worker, rest)) = line
            .strip_prefix("worker ")
            .and_then(|rest| rest.split_once(" runs on "))
        {
            node_of[worker.parse::<usize>().unwrap()] = rest.split(' ').next().unwrap().to_owned();
        } else if line.contains("misbehave: sleeping") {
            sleeping += 1;
        }
    }
    let cut = node_of[0].clone();
    let heal = Heal(cut.clone());
    let done = dev_slurm(&["--cut", &cut]);
    assert!(done.status.success(), "{done:?}");
    let run = live.finish();
    // Every task is accounted for, and ran to the end: the lost one again, elsewhere.
    run.expect_code(0);
    let report = read_report(&report_path, &run);
    assert_valid_report(&report);
    let mut lost = Vec::new();
    for id in 0..tasks {
        let task = task_record(&report, id as u64);
        assert_eq!(task["status"], "ok", "{report:#}");
        for attempt in task["attempts"].as_array().into_iter().flatten() {
            assert_eq!(attempt["status"], "crashed", "{report:#}");
            lost.push(attempt["error"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        lost.len(),
        1,
        "one task was running on the cut node: {report:#}"
    );
    assert!(
        lost[0].starts_with(&format!("worker 0 on {cut} went silent for 3s")),
        "the sentence names the node: {}",
        lost[0]
    );
    // Once the node is back, Slurm ends the job that was stuck on it: none is left.
    drop(heal);
    wait_until_no_jobs(NAME, &format!("{run:#?}"));
}

/// Replaces the `host` binary on one node alone until dropped: `stand_in` is bound over it in the
/// node's mount namespace, so every worker started there is that file, while the other nodes run
/// the real host.
struct HostReplaced {
    node: String,
    path: String,
}

impl HostReplaced {
    fn on(node: &str, stand_in: &Path) -> Self {
        let path = quack_tests::host_path().display().to_string();
        let stand_in = stand_in.to_str().unwrap();
        let done = dev_slurm(&["--exec", node, "mount", "--bind", stand_in, &path]);
        assert!(done.status.success(), "{done:?}");
        HostReplaced {
            node: node.to_owned(),
            path,
        }
    }
}

impl Drop for HostReplaced {
    fn drop(&mut self) {
        let _ = dev_slurm(&["--exec", &self.node, "umount", &self.path]);
    }
}

/// Runs 8 one-second tasks on 4 workers of the emulated cluster while its first node's host is
/// `stand_in` (Slurm fills the first node first, and a worker that fails there frees its place
/// at once: every replacement would land there again), and checks what any black-hole node
/// must give: every task ok, the node left out once, no worker on it, and `failure` (a failed
/// start's words, naming the node) said for every start that failed.
fn run_beside_a_black_hole(stand_in: &Path, failure: &str) {
    let Some(cluster) = emulated(2) else {
        return;
    };
    let Some(_cluster_lock) = slurm() else {
        return;
    };
    const NAME: &str = "quack-test-black-hole-node";
    let _cancel = CancelJobs(NAME);
    let broken = cluster.nodes[0].clone();
    let _replaced = HostReplaced::on(&broken, stand_in);
    let report_dir = tempfile::tempdir().unwrap();
    let report_path = report_dir.path().join("report.json");
    let job_name = format!("--job-name={NAME}");
    let plugin = plugin_arg("misbehave");
    let tasks = 8;
    let mut args = vec![
        "run",
        &plugin,
        "--slurm",
        "--workers",
        "4",
        "--slurm-args",
        &job_name,
    ];
    for _ in 0..tasks {
        args.extend(["--task", "sleep:1000"]);
    }
    let run = start(&args, &report_path, &[]).finish();
    run.expect_code(0);
    let report = read_report(&report_path, &run);
    assert_valid_report(&report);
    for id in 0..tasks {
        assert_eq!(task_record(&report, id)["status"], "ok", "{report:#}");
    }
    // The node is left out once, saying why; then no worker runs there.
    let left_out = format!(
        "node {broken} is left out of this run's next workers (srun --exclude={broken}): 3 workers in a row failed to start there"
    );
    assert_eq!(
        run.stderr
            .lines()
            .filter(|line| line.starts_with(&left_out))
            .count(),
        1,
        "{run:#?}"
    );
    for (worker, node) in nodes_of_workers(&report) {
        assert_ne!(node, broken, "worker {worker}: {report:#}");
    }
    // Every failed start names its node.
    let failure = failure.replace("NODE", &broken);
    let replaced: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with("worker ") && line.contains(" replaced: "))
        .collect();
    assert!(replaced.len() >= 3, "{run:#?}");
    for line in replaced {
        assert!(line.contains(&failure), "{failure}: {line}");
    }
    wait_until_no_jobs(NAME, &format!("{run:#?}"));
}

#[test]
fn a_node_where_workers_cannot_start_is_left_out_and_the_run_goes_on_on_the_others() {
    // A file that cannot be run, as where the host binary is missing or broken.
    run_beside_a_black_hole(Path::new("/dev/null"), " died on NODE before its hello: ");
}

#[test]
fn a_node_whose_host_speaks_another_protocol_is_left_out_and_the_run_goes_on_on_the_others() {
    if !quack_tests::python3_available() {
        return;
    }
    // A stand-in host that answers like a worker of another protocol version: one hello frame
    // (a little-endian length, then JSON) and nothing more until its stdin closes.
    let dir = tempfile::tempdir().unwrap();
    let stand_in = dir.path().join("old-host");
    let script = r#"#!/usr/bin/env python3
import json, os, socket, struct, sys
hello = {"hello": {"protocol": 1, "pid": os.getpid(), "node": socket.gethostname(),
                   "name": "misbehave", "version": "0.1.0", "sha256": None}}
body = json.dumps(hello).encode()
sys.stdout.buffer.write(struct.pack("<I", len(body)) + body)
sys.stdout.buffer.flush()
sys.stdin.buffer.read()
"#;
    std::fs::write(&stand_in, script).unwrap();
    std::fs::set_permissions(
        &stand_in,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    run_beside_a_black_hole(
        &stand_in,
        " was refused on NODE: it speaks worker protocol 1, this host ",
    );
}
