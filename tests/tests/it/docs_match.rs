//! The documents say what the binary does: every ```console sample of the README is run, each
//! `$ ` line as a shell command in a fresh directory whose `plugins/` holds the shipped plugins of
//! this build, and what it printed (stderr and stdout, as one terminal shows them) must be the
//! lines shown under it; and docs/architecture.md lists exactly the exit codes `host --help` does.
//!
//! What changes from run to run is masked, the same way on both sides, and nothing else:
//! - every decimal number (`1.06`, `93.6`: rates, ratios) is `<n>`, and a time with its unit
//!   (`103.8 ms`, `2.33 s`) is `<time>`;
//! - RFC 3339 times are `<when>`; a commit or SHA-256 prefix in a report's header is `<hex>`, and
//!   the machine it ran on `<machine>`;
//! - in `host compare`'s `cpu` line, which is not judged, `more` or `less` CPU time is noise too;
//! - the `worker` column of a table row is `<w>`, and the rows of a table are compared in sorted
//!   order (threads finish in any order);
//! - runs of spaces are one space (masked values change the columns' widths).
//!
//! The plugins in C, C++ and Go are built as scripts/setup builds them; where a compiler is
//! missing, the lines naming that plugin are not expected.
//!
//! A block right after a line `<!-- not checked: REASON -->` is left out (a progress line drawn
//! on a terminal). The samples were made on 2 cores, so the commands run on 2 (`taskset`).

use std::{path::Path, process::Command};

use quack_tests::{host_path, native, plugin, run};

const NOT_CHECKED: &str = "<!-- not checked: ";
const STATUSES: [&str; 6] = ["ok", "error", "crashed", "timeout", "cancelled", "not-run"];

fn document(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// A sample: its commands, each with the lines shown under it.
type Sample = Vec<(String, Vec<String>)>;

/// The README's console samples, except those marked as not checked.
fn samples(readme: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut lines = readme.lines().peekable();
    let mut previous = "";
    while let Some(line) = lines.next() {
        if line == "```console" {
            let mut sample: Sample = Vec::new();
            for line in lines.by_ref().take_while(|line| *line != "```") {
                match line.strip_prefix("$ ") {
                    Some(command) => sample.push((command.to_owned(), Vec::new())),
                    None => match sample.last_mut() {
                        Some((_, shown)) => shown.push(line.to_owned()),
                        None => panic!("output before any command in a sample: {line}"),
                    },
                }
            }
            if !previous.starts_with(NOT_CHECKED) {
                samples.push(sample);
            }
        }
        if !line.trim().is_empty() {
            previous = line;
        }
    }
    samples
}

/// `line` with what changes between runs masked (see the module's docs); `worker_column` says
/// whether table rows carry a worker.
fn normalised(line: &str, worker_column: bool) -> String {
    let header = line.starts_with("old: ") || line.starts_with("new: ");
    let cpu = line.trim_start().starts_with("cpu ");
    let mut words: Vec<String> = Vec::new();
    let mut after = "";
    for word in line.split_whitespace() {
        let masked = if header && after == "on" {
            "<machine>,".to_owned()
        } else if header && after == "(sha256" {
            "<hex>),".to_owned()
        } else if word.len() > 20 && word.as_bytes()[4] == b'-' && word.contains('T') {
            "<when>".to_owned()
        } else if cpu && (word == "more" || word == "less") {
            "<more-or-less>".to_owned()
        } else if header && after == "0.1.0" && is_commit(word) {
            "(<hex>),".to_owned()
        } else {
            decimals_masked(word)
        };
        after = word;
        words.push(masked);
    }
    // A time is its number and its unit, which changes with it (`103.8 ms`, `2.33 s`).
    let mut timed: Vec<String> = Vec::new();
    for word in words {
        let unit = word.trim_end_matches([',', ')']);
        if timed.last().is_some_and(|last| last == "<n>") && ["ms", "s", "us", "µs"].contains(&unit)
        {
            let rest = &word[unit.len()..];
            if let Some(last) = timed.last_mut() {
                *last = format!("<time>{rest}");
            }
        } else {
            timed.push(word);
        }
    }
    let mut words = timed;
    let row = words.len() > 3
        && words[0].bytes().all(|byte| byte.is_ascii_digit())
        && STATUSES.contains(&words[1].as_str());
    if row && worker_column {
        words[3] = "<w>".to_owned();
    }
    words.join(" ")
}

/// Whether `word` is a commit in parentheses, `(86abf34),` or `(86abf34-dirty),`.
fn is_commit(word: &str) -> bool {
    let inner = word.trim_start_matches('(').trim_end_matches([')', ',']);
    let hex = inner.strip_suffix("-dirty").unwrap_or(inner);
    word.starts_with('(') && hex.len() >= 7 && hex.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// `word` with each decimal number in it (digits, a point, digits) as `<n>`.
fn decimals_masked(word: &str) -> String {
    let bytes = word.as_bytes();
    let mut out = String::new();
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        while at < bytes.len() && bytes[at].is_ascii_digit() {
            at += 1;
        }
        let digits = at > start;
        if digits && at + 1 < bytes.len() && bytes[at] == b'.' && bytes[at + 1].is_ascii_digit() {
            at += 1;
            while at < bytes.len() && bytes[at].is_ascii_digit() {
                at += 1;
            }
            out.push_str("<n>");
            continue;
        }
        if digits {
            out.push_str(&word[start..at]);
            continue;
        }
        let next = word[at..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&word[at..at + next]);
        at += next;
    }
    out
}

/// The lines as compared: masked, and each table's rows sorted.
fn comparable(lines: &[String]) -> Vec<String> {
    let worker_column = lines
        .iter()
        .any(|line| line.contains(" task ") || line.trim_start().starts_with("task "))
        && lines.iter().any(|line| line.contains(" worker "));
    let mut out: Vec<String> = lines
        .iter()
        .map(|line| normalised(line, worker_column))
        .collect();
    let is_row = |line: &String| {
        let words: Vec<&str> = line.split(' ').collect();
        words.len() > 2
            && words[0].bytes().all(|byte| byte.is_ascii_digit())
            && STATUSES.contains(&words[1])
    };
    let mut at = 0;
    while at < out.len() {
        let end = at + out[at..].iter().take_while(|line| is_row(line)).count();
        out[at..end].sort();
        at = end.max(at + 1);
    }
    out
}

/// The exit code a sample's command says it ends with (`# exit code 1: ...`), else 0.
fn expected_code(command: &str) -> i32 {
    command
        .split_once("# exit code ")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

#[test]
fn every_readme_sample_is_what_the_binary_prints() {
    let cores = std::thread::available_parallelism().map_or(1, |count| count.get());
    let taskset = Command::new("taskset").arg("-V").output().is_ok();
    if cores < 2 || (cores > 2 && !taskset) {
        eprintln!("the samples were made on 2 cores; this machine cannot run them on 2");
        return;
    }
    let host_dir = host_path().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        host_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let samples = samples(&document("README.md"));
    assert!(samples.len() >= 4, "{} samples", samples.len());
    for sample in samples {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("plugins")).unwrap();
        for name in ["dog", "duck", "robot", "factorize", "slow_io"] {
            let file = format!("lib{name}.so");
            std::fs::copy(plugin(name), dir.path().join("plugins").join(file)).unwrap();
        }
        // What the repository keeps in plugins/ besides the Rust crates (the Python plugins).
        let kept = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins");
        for entry in std::fs::read_dir(&kept).unwrap() {
            let path = entry.unwrap().path();
            let crate_dir = path.join("Cargo.toml").exists();
            let built = path.extension().is_some_and(|extension| extension == "so");
            if !crate_dir && !built {
                let name = path.file_name().unwrap();
                std::os::unix::fs::symlink(&path, dir.path().join("plugins").join(name)).unwrap();
            }
        }
        // The plugins in C, C++ and Go, as scripts/setup builds them where their compiler is.
        let mut missing = Vec::new();
        for (file, built) in [
            (
                "libc_factorize.so",
                native::c_factorize as fn() -> Option<std::path::PathBuf>,
            ),
            ("libcpp_animal.so", native::cpp_animal),
            ("libgo_factorize.so", native::go_factorize),
        ] {
            match built() {
                Some(path) => {
                    std::fs::copy(path, dir.path().join("plugins").join(file)).unwrap();
                }
                None => missing.push(file),
            }
        }
        for (command, mut shown) in sample {
            // What a plugin that could not be built here would have printed is not expected.
            shown.retain(|line| !missing.iter().any(|file| line.contains(file)));
            let mut shell = if cores > 2 {
                let mut taskset = Command::new("taskset");
                taskset.args(["-c", "0,1", "sh"]);
                taskset
            } else {
                Command::new("sh")
            };
            let output = shell
                .arg("-c")
                .arg(format!("exec 2>&1\n{command}"))
                .current_dir(dir.path())
                .env("PATH", &path)
                .env("NO_COLOR", "1")
                .env_remove("QUACK_LOG")
                .env_remove("RUST_LOG")
                .env_remove("COLUMNS")
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap();
            let printed: Vec<String> = String::from_utf8_lossy(&output.stdout)
                .lines()
                .map(str::to_owned)
                .collect();
            assert_eq!(
                output.status.code(),
                Some(expected_code(&command)),
                "`{command}` printed:\n{}",
                printed.join("\n")
            );
            assert_eq!(
                comparable(&printed),
                comparable(&shown),
                "`{command}`: the README shows\n{}\nbut it printed\n{}",
                shown.join("\n"),
                printed.join("\n")
            );
        }
    }
}

#[test]
fn the_masks_hide_only_what_changes() {
    let lines = |text: &str| text.lines().map(str::to_owned).collect::<Vec<_>>();
    let a = lines(
        "  task  status   time worker  input -> result\n     1  ok   300.4 ms      1  0.3 -> 0.3\n     0  ok   1.20 s      0  0.3 -> 0.3",
    );
    let b = lines(
        "  task  status   time worker  input -> result\n     0  ok   9.99 s      1  0.3 -> 0.3\n     1  ok   301.8 ms      0  0.3 -> 0.3",
    );
    assert_eq!(comparable(&a), comparable(&b));
    // A changed result, status or count shows.
    let c = lines(
        "  task  status   time worker  input -> result\n     0  error   301.8 ms      1  0.3 -> 0.3\n     1  ok   9.99 s      0  0.3 -> 0.3",
    );
    assert_ne!(comparable(&a), comparable(&c));
    assert_ne!(
        normalised("4 tasks (4 ok), 0 failed", false),
        normalised("4 tasks (3 ok), 1 failed", false)
    );
    assert_eq!(
        normalised(
            "old: old.json: slow-io 0.1.0 (sha256 2edba8909f5a), started 2026-12-03T11:58:21.590Z on vm, host 0.1.0 (86abf34), thread with 10 workers",
            false
        ),
        normalised(
            "old: old.json: slow-io 0.1.0 (sha256 0123456789ab), started 2027-01-01T00:00:00.000Z on node7, host 0.1.0 (fedcba9), thread with 10 workers",
            false
        ),
    );
    assert_eq!(
        expected_code("host compare a b    # exit code 1: regressed"),
        1
    );
    assert_eq!(expected_code("host list"), 0);
}

/// The exit codes a text lists, from its lines that start with a code (`  0  success`).
fn help_codes(help: &str) -> Vec<u32> {
    help.lines()
        .skip_while(|line| *line != "Exit codes:")
        .skip(1)
        .filter_map(|line| line.split_whitespace().next()?.parse().ok())
        .collect()
}

/// The exit codes docs/architecture.md's "Exit codes" section lists: each clause (between
/// semicolons) starts with its codes, `3`, `16-20` or `129, 130, 143`.
fn architecture_codes(text: &str) -> Vec<u32> {
    let section = text
        .split("\n## Exit codes\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/architecture.md has an Exit codes section");
    let mut codes = Vec::new();
    for clause in section.split(';') {
        for word in clause.split_whitespace() {
            let word = word.trim_end_matches(',');
            let range = word.split_once('-').unwrap_or((word, word));
            match (range.0.parse::<u32>(), range.1.parse::<u32>()) {
                (Ok(from), Ok(to)) => codes.extend(from..=to),
                _ => break,
            }
        }
    }
    codes
}

#[test]
fn the_architecture_documents_exactly_the_binarys_exit_codes() {
    let help = run(&["--help"]);
    help.expect_code(0);
    let mut binary = help_codes(&help.stdout);
    let mut documented = architecture_codes(&document("docs/architecture.md"));
    binary.sort_unstable();
    documented.sort_unstable();
    documented.dedup();
    assert!(binary.len() > 20, "{binary:?}");
    assert_eq!(
        documented, binary,
        "docs/architecture.md's exit codes against host --help's"
    );
}
