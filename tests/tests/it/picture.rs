//! Pictures of a run: where each unit of work ran, in the report (every attempt, every part of a
//! split task, with its worker and node), and what is drawn from the report alone: the Chrome
//! trace (`--trace`, `host report --trace`), checked here by a strict checker of the trace-event
//! format's fields that Perfetto and chrome://tracing read; and the HTML page (`--html`, `host
//! report --html`, `host compare --html`), loaded in a real headless Chromium, whose DOM after
//! its script ran is checked (a skip where Chromium is missing, a failure under CI).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Command,
};

use quack_tests::{assert_valid_report, plugin_arg, run, run_with_report};
use serde_json::{Value, json};

/// Checks that `trace` is a Chrome trace-event file as its viewers read it, strictly: an object
/// with `traceEvents`, each event with the fields its phase needs and no others, times in
/// non-negative microseconds, every track named by a `thread_name` metadata event. Returns the
/// tracks' names by (pid, tid).
#[track_caller]
fn check_trace(trace: &Value) -> BTreeMap<(u64, u64), String> {
    let top = trace.as_object().expect("a trace is a JSON object");
    for key in top.keys() {
        assert!(
            ["traceEvents", "displayTimeUnit", "otherData"].contains(&key.as_str()),
            "unknown top-level key {key}"
        );
    }
    if let Some(unit) = top.get("displayTimeUnit") {
        assert!(unit == "ms" || unit == "ns", "displayTimeUnit {unit}");
    }
    let events = top["traceEvents"]
        .as_array()
        .expect("traceEvents is an array");
    let mut names = BTreeMap::new();
    let mut used = BTreeSet::new();
    for event in events {
        let event = event.as_object().expect("an event is an object");
        let ph = event["ph"].as_str().expect("ph is a string");
        let allowed: &[&str] = match ph {
            "X" => &["name", "cat", "ph", "ts", "dur", "pid", "tid", "args"],
            "i" => &["name", "cat", "ph", "ts", "pid", "tid", "s", "args"],
            "M" => &["name", "cat", "ph", "ts", "pid", "tid", "args"],
            other => panic!("phase {other} is not one this trace should use"),
        };
        for key in event.keys() {
            assert!(allowed.contains(&key.as_str()), "{key} in a {ph} event");
        }
        for key in ["name", "ph", "pid", "tid"] {
            assert!(event.contains_key(key), "{key} missing in {event:?}");
        }
        assert!(event["name"].is_string(), "{event:?}");
        let pid = event["pid"].as_u64().expect("pid is a whole number");
        let tid = event["tid"].as_u64().expect("tid is a whole number");
        if let Some(cat) = event.get("cat") {
            assert!(cat.is_string(), "{event:?}");
        }
        if let Some(args) = event.get("args") {
            assert!(args.is_object(), "{event:?}");
        }
        let ts = event["ts"].as_f64().expect("ts is a number");
        assert!(ts >= 0.0 && ts.is_finite(), "{event:?}");
        match ph {
            "X" => {
                let dur = event["dur"].as_f64().expect("a complete event has dur");
                assert!(dur >= 0.0 && dur.is_finite(), "{event:?}");
                used.insert((pid, tid));
            }
            "i" => {
                let scope = event["s"].as_str().expect("an instant event has a scope");
                assert!(["t", "p", "g"].contains(&scope), "{event:?}");
                used.insert((pid, tid));
            }
            _ => {
                let name = event["name"].as_str().unwrap();
                let args = &event["args"];
                match name {
                    "process_name" | "thread_name" => {
                        let shown = args["name"].as_str().expect("a name's args.name");
                        if name == "thread_name" {
                            names.insert((pid, tid), shown.to_owned());
                        }
                    }
                    "process_sort_index" | "thread_sort_index" => {
                        assert!(args["sort_index"].is_i64(), "{event:?}");
                    }
                    other => panic!("metadata {other} is not one viewers read"),
                }
            }
        }
    }
    for track in &used {
        assert!(names.contains_key(track), "track {track:?} has no name");
    }
    names
}

/// The complete events of `trace` on worker tracks (their category is a status).
fn unit_slices(trace: &Value) -> Vec<&Value> {
    trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["ph"] == "X" && event["cat"] != "phase")
        .collect()
}

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_part_of_a_split_task_is_recorded_with_its_worker_and_node() {
    let (result, report) = run_with_report(&[
        "run",
        &plugin_arg("factorize"),
        "--mode",
        "process",
        "--workers",
        "2",
    ]);
    result.expect_code(0);
    assert_valid_report(&report);
    let nodes: BTreeSet<&str> = report["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|worker| {
            assert!(worker["start_seconds"].as_f64().unwrap() >= 0.0);
            worker["node"].as_str().unwrap()
        })
        .collect();
    let mut workers_of_parts = BTreeSet::new();
    for task in report["tasks"].as_array().unwrap() {
        let parts = task["parts"].as_u64().expect("the seed's tasks are split");
        let runs = task["part_runs"].as_array().expect("each part's run");
        assert_eq!(runs.len() as u64, parts, "{task:#}");
        let (start, duration) = (
            task["start_seconds"].as_f64().unwrap(),
            task["duration_seconds"].as_f64().unwrap(),
        );
        for (index, part) in runs.iter().enumerate() {
            assert_eq!(part["part"], index as u64);
            assert_eq!(part["status"], "ok");
            assert!(nodes.contains(part["node"].as_str().unwrap()), "{part}");
            let part_start = part["start_seconds"].as_f64().unwrap();
            let part_end = part_start + part["duration_seconds"].as_f64().unwrap();
            // The task spans its parts.
            assert!(part_start >= start - 1e-9 && part_end <= start + duration + 1e-6);
            workers_of_parts.insert(part["worker"].as_u64().unwrap());
        }
        assert!(nodes.contains(task["node"].as_str().unwrap()));
    }
    // A task cut into parts ran on both workers, not on the one the task record names.
    assert_eq!(workers_of_parts, BTreeSet::from([0, 1]));
}

#[test]
fn a_crashed_attempt_keeps_its_node_and_the_replacement_is_recorded() {
    let (result, report) = run_with_report(&[
        "run",
        &plugin_arg("misbehave"),
        "--mode",
        "process",
        "--workers",
        "1",
        "--retries",
        "1",
        "--task",
        "segfault",
        "--task",
        "ok",
    ]);
    result.expect_code(1);
    assert_valid_report(&report);
    let crashed = &report["tasks"][0];
    assert_eq!(crashed["status"], "crashed");
    let attempt = &crashed["attempts"][0];
    assert_eq!(attempt["status"], "crashed");
    assert!(attempt["node"].is_string(), "{attempt}");
    let replacements = report["replacements"].as_array().expect("replacements");
    assert_eq!(replacements.len(), 2, "{report:#}");
    assert!(
        replacements
            .iter()
            .all(|r| r["worker"] == 0 && r["reason"].is_string())
    );
    // The first worker and the two that replaced it, each with its start.
    assert_eq!(report["workers"].as_array().unwrap().len(), 3, "{report:#}");
}

#[test]
fn the_trace_of_a_split_run_has_a_track_per_worker_and_a_slice_per_part() {
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("run.json");
    let trace_path = dir.path().join("run.trace.json");
    run(&[
        "run",
        &plugin_arg("factorize"),
        "--mode",
        "process",
        "--workers",
        "2",
        "--json",
        report_path.to_str().unwrap(),
    ])
    .expect_code(0);
    let made = run(&[
        "report",
        report_path.to_str().unwrap(),
        "--trace",
        trace_path.to_str().unwrap(),
    ]);
    made.expect_code(0);
    assert!(made.stderr.contains("trace written to"), "{made:#?}");
    let report = read_json(&report_path);
    let trace = read_json(&trace_path);
    let names = check_trace(&trace);
    let node = report["workers"][0]["node"].as_str().unwrap();
    assert!(
        names
            .values()
            .any(|name| *name == format!("worker 0 ({node})")),
        "{names:?}"
    );
    assert!(
        names.values().any(|name| name.starts_with("worker 1 (")),
        "{names:?}"
    );
    let parts: u64 = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|task| task["parts"].as_u64().unwrap())
        .sum();
    let slices = unit_slices(&trace);
    assert_eq!(slices.len() as u64, parts);
    let first = slices
        .iter()
        .find(|slice| slice["args"]["task"] == 0 && slice["args"]["part"] == "1 of 54")
        .expect("the first part of task 0");
    assert_eq!(first["args"]["input"], 53541233);
    assert_eq!(first["args"]["status"], "ok");
    assert_eq!(first["args"]["node"], node);
    // The slices of a worker follow one another on its track, as the worker ran them.
    for tid in [1, 2] {
        let mut track: Vec<(f64, f64)> = slices
            .iter()
            .filter(|slice| slice["tid"] == tid)
            .map(|slice| {
                (
                    slice["ts"].as_f64().unwrap(),
                    slice["dur"].as_f64().unwrap(),
                )
            })
            .collect();
        assert!(!track.is_empty());
        track.sort_by(|a, b| a.0.total_cmp(&b.0));
        for pair in track.windows(2) {
            assert!(pair[0].0 + pair[0].1 <= pair[1].0 + 1.0, "{pair:?} overlap");
        }
    }
    let instants: Vec<&str> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["ph"] == "i")
        .map(|event| event["name"].as_str().unwrap())
        .collect();
    assert_eq!(instants, ["worker started", "worker started"]);
    let phases: Vec<&str> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["cat"] == "phase")
        .map(|event| event["name"].as_str().unwrap())
        .collect();
    assert!(phases.contains(&"running tasks"), "{phases:?}");
}

#[test]
fn a_report_of_an_older_host_draws_one_slice_per_task() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.json");
    let trace_path = dir.path().join("old.trace.json");
    // A report as hosts before the nodes and parts were recorded wrote it.
    let report = json!({
        "format_version": 1, "quack_version": "0.1.0",
        "plugin": {"path": "plugins/libfactorize.so", "name": "factorize", "version": "0.1.0"},
        "config": {}, "runner": {"mode": "thread", "workers": 2, "reason": "auto"},
        "machine": {"cores": 2, "os": "linux", "arch": "x86_64"},
        "tasks": [
            {"id": 0, "input": 6, "status": "ok", "output": [1, 2, 3, 6], "worker": 0,
             "start_seconds": 0.001, "duration_seconds": 0.002},
            {"id": 1, "input": 0, "status": "error", "error": "no divisors of 0", "worker": 1,
             "start_seconds": 0.001, "duration_seconds": 0.001}
        ],
        "summary": {"tasks": 2, "ok": 1, "error": 1, "crashed": 0, "timeout": 0,
                    "cancelled": 0, "wall_seconds": 0.01, "cpu_seconds": 0.01,
                    "tasks_per_second": 200.0}
    });
    std::fs::write(&old, report.to_string()).unwrap();
    run(&[
        "report",
        old.to_str().unwrap(),
        "--trace",
        trace_path.to_str().unwrap(),
    ])
    .expect_code(0);
    let trace = read_json(&trace_path);
    let names = check_trace(&trace);
    assert!(names.values().any(|name| name == "worker 0"), "{names:?}");
    let slices = unit_slices(&trace);
    assert_eq!(slices.len(), 2);
    let failed = slices
        .iter()
        .find(|slice| slice["args"]["task"] == 1)
        .unwrap();
    assert_eq!(failed["cat"], "error");
    assert_eq!(failed["args"]["error"], "no divisors of 0");
}

#[test]
fn host_report_refuses_what_is_not_a_report_and_a_trace_it_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_report = dir.path().join("tasks.json");
    std::fs::write(&not_a_report, "[1, 2, 3]").unwrap();
    let refused = run(&[
        "report",
        not_a_report.to_str().unwrap(),
        "--trace",
        dir.path().join("t.json").to_str().unwrap(),
    ]);
    refused.expect_code(18);
    assert!(refused.one_error_line().contains("not a Quack report"));
    let (_, report) = run_with_report(&["run", &plugin_arg("factorize"), "--task", "6"]);
    let saved = dir.path().join("run.json");
    std::fs::write(&saved, report.to_string()).unwrap();
    let unwritable = run(&[
        "report",
        saved.to_str().unwrap(),
        "--trace",
        "/no/such/dir/t.json",
    ]);
    unwritable.expect_code(26);
    let line = unwritable.one_error_line();
    assert!(line.contains("--trace /no/such/dir/t.json"), "{line}");
    assert!(!line.contains("standard output"), "{line}");
    run(&["report", saved.to_str().unwrap()]).expect_code(2);
}

#[test]
fn run_trace_draws_the_run_it_reports() {
    let dir = tempfile::tempdir().unwrap();
    let trace_path = dir.path().join("run.trace.json");
    let (result, report) = run_with_report(&[
        "run",
        &plugin_arg("misbehave"),
        "--mode",
        "process",
        "--workers",
        "1",
        "--timeout",
        "300ms",
        "--task",
        "hang",
        "--task",
        "error",
        "--task",
        "segfault",
        "--task",
        "ok",
        "--trace",
        trace_path.to_str().unwrap(),
    ]);
    result.expect_code(1);
    assert!(result.stderr.contains("trace written to"), "{result:#?}");
    let trace = read_json(&trace_path);
    check_trace(&trace);
    let slices = unit_slices(&trace);
    assert_eq!(slices.len(), report["tasks"].as_array().unwrap().len());
    let statuses: BTreeSet<&str> = slices.iter().map(|s| s["cat"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        BTreeSet::from(["ok", "timeout", "error", "crashed"])
    );
    let events = trace["traceEvents"].as_array().unwrap();
    let timeout = events
        .iter()
        .find(|event| event["ph"] == "i" && event["name"] == "timeout")
        .expect("the timeout is an instant event");
    assert!(
        timeout["args"]["detail"]
            .as_str()
            .unwrap()
            .starts_with("task 0: ")
    );
    assert!(
        events
            .iter()
            .any(|event| event["ph"] == "i" && event["name"] == "crash")
    );
    // The worker stopped after the timeout and the one that crashed were both replaced, since
    // tasks were left for each replacement.
    let replaced = events
        .iter()
        .filter(|event| event["name"] == "worker replaced")
        .count();
    assert_eq!(replaced, 2, "{trace:#}");
}

/// Debian's Chromium (`chromium`, or `chromium-browser` elsewhere), when installed. Without it a
/// browser test is skipped (it says so on stderr), except under CI (`CI=true`), where it fails:
/// CI must not pass without having loaded the pages (.ci/run installs chromium).
fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|path| path.is_file())
        })
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is not installed, and CI must load the HTML reports in it (.ci/run installs it)"
        );
        eprintln!("skipped: chromium is not installed");
    }
    found
}

/// What headless Chromium made of `page`: the DOM after its scripts ran, and the console
/// messages it logged (a script error is one).
struct Loaded {
    dom: String,
    console: Vec<String>,
}

/// Loads `page` in headless Chromium (`browser`), offline, with a profile of its own.
fn load_in(browser: &Path, page: &Path) -> Loaded {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new("timeout")
        .arg("120")
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--proxy-server=127.0.0.1:9",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(output.status.success(), "chromium failed: {output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    Loaded {
        dom: String::from_utf8_lossy(&output.stdout).into_owned(),
        console: stderr
            .lines()
            .filter(|line| line.contains(":CONSOLE"))
            .map(str::to_owned)
            .collect(),
    }
}

/// The values of attribute `name` on the elements of `dom` that have it, in order.
fn attributes<'a>(dom: &'a str, name: &str) -> Vec<&'a str> {
    let marker = format!(" {name}=\"");
    dom.split(&marker)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect()
}

#[test]
fn the_html_page_draws_a_bar_per_part_in_a_real_browser() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("run.html");
    let (result, report) = run_with_report(&[
        "run",
        &plugin_arg("factorize"),
        "--mode",
        "process",
        "--workers",
        "2",
        "--html",
        page.to_str().unwrap(),
    ]);
    result.expect_code(0);
    assert!(
        result.stderr.contains("HTML report written to"),
        "{result:#?}"
    );
    let text = std::fs::read_to_string(&page).unwrap();
    // One file: nothing it would fetch.
    for fetch in ["src=", "href=", "url(", "@import"] {
        assert!(!text.contains(fetch), "the page fetches something: {fetch}");
    }
    let loaded = load_in(&browser, &page);
    assert!(loaded.console.is_empty(), "console: {:?}", loaded.console);
    assert_eq!(attributes(&loaded.dom, "data-drawn"), ["yes"]);
    let parts: u64 = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|task| task["parts"].as_u64().unwrap())
        .sum();
    assert_eq!(attributes(&loaded.dom, "data-bars"), [parts.to_string()]);
    let bars = attributes(&loaded.dom, "class")
        .into_iter()
        .filter(|class| class.starts_with("bar "))
        .count() as u64;
    assert_eq!(bars, parts);
    // Both workers have their row and their share; the histogram has its bins. Whether a task
    // is in the slow tail depends on the times of this run (a busy machine stretches them), so
    // only that the page says one way or the other is checked here; the rule itself is the
    // html module's unit test.
    assert!(loaded.dom.contains("worker 0 ("), "{}", loaded.dom);
    assert!(loaded.dom.contains("worker 1 ("));
    assert_eq!(loaded.dom.matches("<tr class=\"worker\">").count(), 2);
    let bins = attributes(&loaded.dom, "class")
        .into_iter()
        .filter(|class| class.starts_with("bin"))
        .count();
    assert_eq!(bins, 20);
    assert!(
        loaded.dom.contains("Slow tail (") || loaded.dom.contains("No slow tail: "),
        "{}",
        loaded.dom
    );
    assert!(loaded.dom.contains("None: every task ended ok."));
}

#[test]
fn a_hostile_task_cannot_script_the_html_page() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("hostile.html");
    let (result, report) = run_with_report(&[
        "run",
        &plugin_arg("misbehave"),
        "--task",
        r#""<script>document.title='pwned'</script>""#,
        "--task",
        r#""<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">""#,
        "--task",
        r#""</script><script>document.title='pwned'</script>""#,
    ]);
    result.expect_code(1);
    let saved = dir.path().join("hostile.json");
    std::fs::write(&saved, report.to_string()).unwrap();
    run(&[
        "report",
        saved.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ])
    .expect_code(0);
    let loaded = load_in(&browser, &page);
    assert!(loaded.console.is_empty(), "console: {:?}", loaded.console);
    assert_eq!(attributes(&loaded.dom, "data-drawn"), ["yes"]);
    assert!(attributes(&loaded.dom, "data-pwned").is_empty());
    assert!(!loaded.dom.contains("<title>pwned"), "{}", loaded.dom);
    assert!(!loaded.dom.contains("<img"), "an input became an element");
    // The failed tasks are listed with their inputs and reasons, as text.
    assert_eq!(loaded.dom.matches("<tr class=\"failed-task\">").count(), 3);
    assert!(
        loaded
            .dom
            .contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;")
    );
    assert_eq!(attributes(&loaded.dom, "data-bars"), ["3"]);
}

#[test]
fn compare_html_shows_both_runs_side_by_side() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.json");
    let new = dir.path().join("new.json");
    let page = dir.path().join("compared.html");
    for (path, workers) in [(&old, "1"), (&new, "2")] {
        run(&[
            "run",
            &plugin_arg("factorize"),
            "--mode",
            "thread",
            "--no-split",
            "--workers",
            workers,
            "-q",
            "--json",
            path.to_str().unwrap(),
        ])
        .expect_code(0);
    }
    let compared = run(&[
        "compare",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert!(
        compared.code == Some(0) || compared.code == Some(1),
        "{compared:#?}"
    );
    let loaded = load_in(&browser, &page);
    assert!(loaded.console.is_empty(), "console: {:?}", loaded.console);
    assert_eq!(attributes(&loaded.dom, "data-bars"), ["4", "4"]);
    assert!(loaded.dom.contains("verdict:"), "{}", loaded.dom);
    let modes: Vec<&str> = loaded
        .dom
        .split("<dd class=\"mode\">")
        .skip(1)
        .filter_map(|rest| rest.split('<').next())
        .collect();
    assert_eq!(modes, ["thread, 1 worker", "thread, 2 workers"]);
}
