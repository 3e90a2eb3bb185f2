//! Scenario 10: the C ABI's cost, as the time of one trial division in the naive loop of the C
//! plugin (`examples/c/factorize.c`, called through quack.h's table) against the same loop in the
//! Rust plugin (`plugins/factorize`, through abi_stable), side by side: bare calls of `run` on one
//! instance of each, alternating, on a range of 53,541,233 candidates. The C plugin is built here
//! from its source (compiled into this binary) with the system's C compiler, as the README builds
//! it; without one, the section says so. Every result is checked.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use quack_core::abi_stable::std_types::RResult;
use quack_host::plugin::LoadedPlugin;

use super::factorize::NAIVE;
use crate::{
    drive::RunError,
    error::BenchError,
    suite::{Plan, Setup, summarize},
    table::{Comparison, Row, Section, Target, Unit},
};

const SCENARIO: &str = "c-abi";
/// The C plugin's source and the header it includes.
const C_FACTORIZE: &str = include_str!("../../../examples/c/factorize.c");
const QUACK_H: &str = include_str!("../../../sdk/c/quack.h");
/// The task: every candidate of the seed's largest number, one call.
const N: u64 = 53541233;
const EXPECTED: &str = "[1, 5501, 9733, 53541233]";

pub fn measure(setup: &Setup, plan: Plan) -> Result<Section, BenchError> {
    let mut section = Section::new(
        "10. The C ABI: one trial division of the naive loop, C plugin against Rust plugin (bare calls)",
    );
    let c_plugin = match build(setup.scratch.path())? {
        Ok(path) => LoadedPlugin::load(&path)?,
        Err(why) => {
            section.note(format!("not measured: {why}"));
            return Ok(section);
        }
    };
    let input = format!(r#"{{"n": {N}, "from": 1, "to": {N}}}"#);
    let mut rust = setup
        .factorize
        .instantiate(NAIVE)
        .map_err(RunError::Instance)?;
    let mut c = c_plugin.instantiate(NAIVE).map_err(RunError::Instance)?;
    let repetitions = plan.factorize_repetitions.max(2);
    let (mut rust_ns, mut c_ns) = (Vec::new(), Vec::new());
    // Warm both up, then alternate, so a busy moment of the machine falls on both alike.
    for (name, instance) in [("Rust", &mut rust), ("C", &mut c)] {
        per_division(name, instance, &input)?;
    }
    for _ in 0..repetitions {
        rust_ns.push(per_division("Rust", &mut rust, &input)?);
        c_ns.push(per_division("C", &mut c, &input)?);
    }
    let unit = Unit::Nanoseconds;
    let rust_samples = summarize(rust_ns);
    let rust_median = rust_samples.median;
    section.push(
        Row::new(
            "C plugin, cc -O2 (examples/c/factorize.c)",
            unit,
            summarize(c_ns),
        )
        .target(Target::ratio_at_least(0.95))
        .against(Comparison::here("Rust plugin", rust_median, unit)),
    );
    section.push(Row::new(
        "Rust plugin (plugins/factorize)",
        unit,
        rust_samples,
    ));
    section.note(format!(
        "instance.call(\"run\", {{\"n\": {N}, \"from\": 1, \"to\": {N}}}) on one instance of \
         each plugin, in this process, alternating, {repetitions} repetitions after one warm-up \
         each; the call's time over the {N} candidates tried; the target: the C plugin within 5% \
         of Rust (ratio 0.95 or more)"
    ));
    Ok(section)
}

/// The time of one trial division in one call of `run` on `instance`, checked.
fn per_division(
    name: &str,
    instance: &mut quack_core::InstanceBox,
    input: &str,
) -> Result<f64, BenchError> {
    let started = Instant::now();
    let returned = instance.call("run".into(), input.into());
    let elapsed = started.elapsed();
    match returned {
        RResult::ROk(output) if output.as_str().replace(' ', "") == EXPECTED.replace(' ', "") => {
            Ok(elapsed.as_secs_f64() * 1e9 / N as f64)
        }
        RResult::ROk(output) => Err(BenchError::WrongResult {
            scenario: SCENARIO,
            detail: format!("the {name} plugin's run gave {output}, not {EXPECTED}"),
        }),
        RResult::RErr(error) => Err(BenchError::WrongResult {
            scenario: SCENARIO,
            detail: format!("the {name} plugin's run failed: {error}"),
        }),
    }
}

/// Builds the C plugin in `dir`: its path, or why it could not be built (no C compiler).
fn build(dir: &Path) -> Result<Result<PathBuf, String>, BenchError> {
    let source = dir.join("factorize.c");
    let written = std::fs::write(&source, C_FACTORIZE)
        .and_then(|()| std::fs::write(dir.join("quack.h"), QUACK_H));
    written.map_err(|source| BenchError::Process {
        what: "could not write the C plugin's source".to_owned(),
        source,
    })?;
    let library = dir.join("libc_factorize.so");
    let output = Command::new("cc")
        .args(["-O2", "-shared", "-fPIC", "-I"])
        .arg(dir)
        .arg("-o")
        .arg(&library)
        .arg(&source)
        .output();
    match output {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Err(
            "there is no C compiler (cc) to build the C plugin with".to_owned(),
        )),
        Err(source) => Err(BenchError::Process {
            what: "could not run cc".to_owned(),
            source,
        }),
        Ok(output) if !output.status.success() => Err(BenchError::ChildFailed {
            what: "cc building examples/c/factorize.c".to_owned(),
            status: output.status,
            stderr: format!(": {}", String::from_utf8_lossy(&output.stderr).trim()),
        }),
        Ok(_) => Ok(Ok(library)),
    }
}
