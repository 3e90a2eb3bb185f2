//! Scenario 7: JSON Lines input against JSON array input, as whole `host run` processes. Trivial
//! tasks (`1`) from a file (`--input FILE`) in inline, thread and process mode, and a thousand
//! waits of 0.1 s (slow-io) in the runner's own choice, fed as JSON Lines on stdin or given as a
//! JSON array file. JSON Lines input is streamed; a JSON array is read whole first.

use std::{fs, path::Path};

use crate::{
    error::BenchError,
    process::{self, Feed, Ran, Spawn},
    suite::{Plan, Setup, summarize},
    table::{Comparison, Row, Section, Unit, thousands},
};

const SCENARIO: &str = "JSON Lines or JSON array input";
/// The trivial task counts.
const COUNTS: [usize; 2] = [10_000, 100_000];
/// The modes, as `--mode` and `--workers` arguments.
const MODES: [(&str, &[&str]); 3] = [
    ("inline", &["--mode", "inline"]),
    ("thread, 2 workers", &["--mode", "thread", "--workers", "2"]),
    (
        "process, 2 workers",
        &["--mode", "process", "--workers", "2"],
    ),
];
/// The waits of the slow-io rows.
const WAITS: usize = 1_000;

pub fn measure(setup: &Setup, plan: Plan) -> Result<Section, BenchError> {
    let write = |name: &str, text: String| {
        let path = setup.scratch.path().join(name);
        fs::write(&path, text)
            .map(|()| path)
            .map_err(|source| BenchError::Process {
                what: format!("could not write the input file {name}"),
                source,
            })
    };
    let unit = Unit::Seconds;
    let mut section =
        Section::new("7. JSON Lines or JSON array input: host run, whole process, spawn to exit");
    for count in COUNTS {
        let lines = write(&format!("ones-{count}.jsonl"), "1\n".repeat(count))?;
        let array = write(&format!("ones-{count}.json"), array_of("1", count))?;
        for (mode, mode_args) in MODES {
            let (mut from_lines, mut from_array) = (Vec::new(), Vec::new());
            for _ in 0..plan.race_repetitions {
                from_lines.push(
                    from_file(setup, &setup.host_factorize, &lines, mode_args, count)?
                        .wall
                        .as_secs_f64(),
                );
                from_array.push(
                    from_file(setup, &setup.host_factorize, &array, mode_args, count)?
                        .wall
                        .as_secs_f64(),
                );
            }
            let from_array = summarize(from_array);
            section.push(
                Row::new(
                    format!(
                        "{} x run(1), {mode}: JSON Lines file",
                        thousands(count as u64)
                    ),
                    unit,
                    summarize(from_lines),
                )
                .against(Comparison::here(
                    "JSON array file",
                    from_array.median,
                    unit,
                )),
            );
        }
    }
    let array = write("waits.json", array_of("0.1", WAITS))?;
    let (mut on_stdin, mut from_array) = (Vec::new(), Vec::new());
    let (mut stdin_runner, mut array_runner) = (None, None);
    for _ in 0..plan.race_repetitions {
        let spawn = Spawn::new("host run <slow-io> --input -", &setup.host, &["run"])
            .args([setup.host_slow_io.as_os_str()])
            .args(["--input", "-", "--format", "jsonl"])
            .feed(Feed::Repeat {
                line: b"0.1\n",
                count: WAITS,
            });
        let ran = process::run(spawn)?;
        process::check_jsonl(SCENARIO, WAITS, &ran)?;
        on_stdin.push(ran.wall.as_secs_f64());
        stdin_runner = process::runner_of(&ran);
        let ran = from_file(setup, &setup.host_slow_io, &array, &[], WAITS)?;
        from_array.push(ran.wall.as_secs_f64());
        array_runner = process::runner_of(&ran);
    }
    let unknown = || "?".to_owned();
    let (stdin_runner, array_runner) = (
        stdin_runner.unwrap_or_else(unknown),
        array_runner.unwrap_or_else(unknown),
    );
    section.push(
        Row::new(
            format!(
                "{} x 0.1 s, auto ({stdin_runner}): JSON Lines on stdin",
                thousands(WAITS as u64)
            ),
            unit,
            summarize(on_stdin),
        )
        .against(Comparison::here(
            format!("JSON array file ({array_runner})"),
            summarize(from_array).median,
            unit,
        )),
    );
    section.note(
        "host run <plugin> --input FILE (or -) --format jsonl; every output checked (a line per \
         task, all ok, and the summary); ratio above 1: JSON Lines faster",
    );
    Ok(section)
}

/// A JSON array of `count` values, one a line (`[\n1,\n1\n]`): an array that goes on past its
/// first line, which is how the host tells a list of tasks from JSON Lines.
fn array_of(value: &str, count: usize) -> String {
    let mut text = String::with_capacity(count * (value.len() + 2) + 3);
    text.push_str("[\n");
    for index in 0..count {
        if index > 0 {
            text.push_str(",\n");
        }
        text.push_str(value);
    }
    text.push_str("\n]\n");
    text
}

/// `host run PLUGIN --input FILE --format jsonl MODE_ARGS`, checked.
fn from_file(
    setup: &Setup,
    plugin: &Path,
    input: &Path,
    mode_args: &[&str],
    count: usize,
) -> Result<Ran, BenchError> {
    let spawn = Spawn::new(
        format!("host run --input {}", input.display()),
        &setup.host,
        &["run"],
    )
    .args([plugin.as_os_str()])
    .args([
        "--input".as_ref(),
        input.as_os_str(),
        "--format".as_ref(),
        "jsonl".as_ref(),
    ])
    .args(mode_args.iter().copied());
    let ran = process::run(spawn)?;
    process::check_jsonl(SCENARIO, count, &ran)?;
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::array_of;

    #[test]
    fn arrays_are_json() {
        assert_eq!(array_of("1", 3), "[\n1,\n1,\n1\n]\n");
        assert_eq!(array_of("0.1", 0), "[\n\n]\n");
    }
}
