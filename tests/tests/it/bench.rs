//! The benchmark's programs, outside the product: `host` has no `bench` command; the rayon peer
//! writes the same task lines as `host run --format jsonl`; `quack-bench peak-rss` runs a program
//! and reports its peak memory.

use std::{
    collections::BTreeSet,
    io::Write,
    process::{Command, Stdio},
};

use quack_tests::{bench_binary, plugin_arg, run};
use serde_json::Value;

#[test]
fn host_has_no_bench_command() {
    let help = run(&["--help"]);
    help.expect_code(0);
    assert!(!help.stdout.contains("bench"), "{}", help.stdout);
    run(&["bench"]).expect_code(2);
}

/// Runs `program` with `args`, feeding `input` on stdin; its stdout lines as JSON.
fn json_lines(program: &std::path::Path, args: &[&str], input: &str) -> Vec<Value> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn the_rayon_peer_writes_the_task_lines_host_writes() {
    let factorize = plugin_arg("factorize");
    let input = "6\n7\n1\n";
    let host = json_lines(
        &quack_tests::host_path(),
        &["run", &factorize, "--input", "-", "--format", "jsonl"],
        input,
    );
    let peer = json_lines(&bench_binary("rayon-peer"), &[&factorize], input);
    assert_eq!(host.len(), 4);
    assert_eq!(peer.len(), 4, "{peer:?}");
    let keys =
        |line: &Value| -> BTreeSet<String> { line.as_object().unwrap().keys().cloned().collect() };
    // Same fields, same values but for the timings and the worker; any order.
    let by_id = |lines: &[Value]| -> Vec<Value> {
        let mut tasks: Vec<Value> = lines[..3].to_vec();
        tasks.sort_by_key(|line| line["id"].as_u64());
        tasks
    };
    for (from_host, from_peer) in by_id(&host).iter().zip(by_id(&peer).iter()) {
        assert_eq!(
            keys(from_host),
            keys(from_peer),
            "{from_host} / {from_peer}"
        );
        for field in ["type", "id", "input", "status", "output"] {
            assert_eq!(from_host[field], from_peer[field], "{field}");
        }
    }
    let summary = &peer[3];
    assert_eq!(summary["type"], "summary");
    assert_eq!(
        (summary["tasks"].as_u64(), summary["ok"].as_u64()),
        (Some(3), Some(3))
    );
}

#[test]
fn peak_rss_runs_a_program_and_reports_its_peak_memory() {
    let host = quack_tests::host_path();
    let output = Command::new(bench_binary("quack-bench"))
        .arg("peak-rss")
        .arg("--")
        .arg(&host)
        .arg("--version")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("host "));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let kib: f64 = stderr
        .lines()
        .find_map(|line| line.strip_prefix("quack-bench: peak-rss-kib "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(kib > 100.0, "{stderr}");
    // The program's exit code comes through.
    let failed = Command::new(bench_binary("quack-bench"))
        .arg("peak-rss")
        .arg("--")
        .arg(&host)
        .arg("frobnicate")
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(2));
}
