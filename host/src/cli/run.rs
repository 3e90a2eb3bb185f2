//! `host run`: load a plugin, find out what it can do, and do it. A Workload runs its tasks (the
//! runner picks the mode and says why); an Animal speaks; anything else is refused with what each
//! interface lacks.
//!
//! The command line is parsed by clap into [`RunArgs`] (`run/args.rs`) and resolved into a
//! [`RunPlan`] (`run/plan.rs`) before the plugin is loaded; what the run writes is in
//! `run/output.rs`. This file loads the plugin, asks [`interfaces::role`] what to do with it and
//! hands it to the runner: a Workload's tasks to [`Run::execute`], an Animal's speech to
//! [`Run::speak`].

mod args;
mod dry_run;
mod output;
mod pictures;
mod plan;

use std::{fs::File, num::NonZeroUsize, sync::Arc, time::Instant};

pub use args::{RunArgs, workers_flag};
use output::{Look, Outputs, ReportTarget, SpeechOutputs};
use plan::RunPlan;

use super::{
    Outcome, exit_guard,
    signals::StopSignals,
    stdio::{self, PluginStdout},
    worker::worker_command,
};
use crate::{
    cli::error::HostError,
    interfaces::{self, Role},
    plugin::{LoadedPlugin, Plugin},
    report::ReportHead,
    runner::{
        DEFAULT_START_TIMEOUT, Mode, Quit, Run, RunEnd, SandboxNote, WorkerCommand, WorkersFlag,
    },
    sandbox::{InForce, Policy},
};

/// Runs `host run` as `args` ask.
pub(super) fn exec(args: RunArgs) -> Result<Outcome, HostError> {
    let plan = RunPlan::resolve(args)?;
    // Before any thread starts, so that every thread inherits the blocked signals.
    StopSignals::install()?;
    // Before the plugin is loaded: its stdin, its stdout and its exit are taken care of.
    if !plan.reads_stdin() {
        stdio::stdin_from_null();
    }
    let file_name = plan.plugin.file_name().map_or_else(
        || plan.plugin.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let captured = PluginStdout::capture(&file_name).map_err(HostError::Output)?;
    let quack_stdout = captured.quack_stdout().map_err(HostError::Output)?;
    exit_guard::arm(&plan.plugin.display().to_string());
    if let Some(ReportTarget::File(file)) = &plan.report {
        exit_guard::remove_on_exit(file.temporary_path());
    }
    for path in plan.pictures.temporary_paths() {
        exit_guard::remove_on_exit(&path);
    }
    let result = load_and_run(plan, &captured, quack_stdout);
    captured.finish();
    result
}

/// Loads the plugin (or, isolated, has a probe describe it) and runs it in its role.
fn load_and_run(
    plan: RunPlan,
    captured: &PluginStdout,
    quack_stdout: File,
) -> Result<Outcome, HostError> {
    let loading = Instant::now();
    // Isolated (worker processes only): no plugin code runs in the host, not even its loading;
    // a probe in a child process says what the plugin is.
    let plugin = if plan.isolated() {
        let sandbox = plan.sandbox.as_ref().map(|(policy, _)| policy);
        Plugin::from(super::probe::probe_in(
            &plan.plugin,
            DEFAULT_START_TIMEOUT,
            sandbox,
        )?)
    } else {
        Plugin::from(LoadedPlugin::load_to_run(&plan.plugin)?)
    };
    tracing::debug!("phase load: {:.3} s", loading.elapsed().as_secs_f64());
    let info = plugin.info();
    captured.set_name(&info.description.name);
    if let (Some((policy, _)), Some(needs)) = (&plan.sandbox, &info.description.sandbox) {
        if let Some(missing) = crate::sandbox::ungranted(needs, policy) {
            stdio::note(format_args!(
                "note: {} says it needs what this sandbox does not grant: {missing}; its tasks may fail for want of it",
                info.description.name
            ));
        }
    }
    exit_guard::name(&format!(
        "{} ({})",
        info.description.name,
        info.path.display()
    ));
    let choice =
        interfaces::role(&info.methods, plan.role).map_err(|error| HostError::NotRunnable {
            path: info.path.clone(),
            name: info.description.name.clone(),
            details: error.to_string(),
        })?;
    if choice.chosen_of_two {
        stdio::note(format_args!(
            "{} is a Workload and an Animal: it runs as a Workload (--as animal makes it speak)",
            info.description.name
        ));
    }
    match choice.role {
        Role::Workload => run_workload(plan, plugin, quack_stdout),
        Role::Animal => {
            plan.refuse_workload_options(info)?;
            speak(plan, plugin, &quack_stdout)
        }
    }
}

/// Runs a Workload's tasks and reports them.
fn run_workload(
    mut plan: RunPlan,
    plugin: Plugin,
    quack_stdout: File,
) -> Result<Outcome, HostError> {
    let info = Arc::clone(plugin.info());
    let mut input = plan.task_input(&info)?;
    let program = match &plan.worker_program {
        Some(program) => program.clone(),
        None => std::env::current_exe().map_err(HostError::WorkerProgram)?,
    };
    let limits = plan.limits();
    let launch = plan.launch.take();
    let signals = StopSignals::install()?;
    // Daemons a task starts (a session of their own) become the host's, and go with the run.
    crate::runner::orphans::adopt();
    let allocation_workers = launch.as_ref().and_then(|launch| launch.default_workers);
    let workers_start = workers(program, launch, plan.sandbox.as_ref());
    // A launcher makes it process mode (the runner says so in its reason).
    let run = Run::new(plugin)
        .config(plan.config.clone())
        .mode(plan.mode)
        .workers(plan.workers.map(NonZeroUsize::get).or(allocation_workers))
        .workers_flag(match (plan.workers, allocation_workers) {
            (None, Some(_)) => WorkersFlag::Allocation,
            _ => plan.workers_flag,
        })
        .isolate(plan.isolate)
        .limits(limits)
        .split(plan.split)
        .worker_command(workers_start.clone())
        .cancel_flag(signals.cancel_flag());
    // Made only for a report: its plugin part reads and hashes the plugin file.
    let head = || ReportHead::new(&info, plan.config.clone());
    let mut look = Look::new(plan.table, &info, &quack_stdout);
    let (choice, split) = run.plan(input.count);
    look.background_flush = split || (choice.mode == Mode::Inline && input.count != Some(1));
    if plan.dry_run {
        return dry_run::show(
            &dry_run::Plan {
                plugin: &info,
                choice: &choice,
                split,
                workers_start: &workers_start,
                retries: plan.retries,
                timeout: plan.timeout,
            },
            &mut input,
            &quack_stdout,
        );
    }
    let mut outputs = Outputs::new(
        plan.format,
        plan.report.take(),
        head,
        &quack_stdout,
        look,
        std::mem::take(&mut plan.logs),
        &info.description.name,
    )?;
    let stopper = run.stopper();
    stdio::watch_reader(&quack_stdout, move || stopper.stop(Quit::OutputClosed));
    let running = Instant::now();
    let mut drawing = std::mem::take(&mut plan.pictures).around(&mut outputs, head);
    let outcome = run.execute(&mut input, &mut drawing);
    let drawn = drawing.done();
    tracing::debug!("phase run: {:.3} s", running.elapsed().as_secs_f64());
    let finishing = Instant::now();
    // Stopped by it, or found closed by the last write: either way the host ends as a shell
    // tool ends on SIGPIPE.
    let output_closed =
        outputs.stdout_closed || matches!(outcome.end, RunEnd::Stopped(Quit::OutputClosed));
    outputs.finish(output_closed)?;
    drawn.finish(output_closed)?;
    tracing::debug!("phase report: {:.3} s", finishing.elapsed().as_secs_f64());
    if plan.sandbox.is_some() {
        // The scratch directories and cgroups of workers that died (a crash, a time limit).
        crate::sandbox::sweep();
    }
    if let Some(error) = outcome.error {
        return Err(plan.run_failed(error));
    }
    if let Some(error) = input.take_error() {
        return Err(error.into());
    }
    Ok(match outcome.end {
        RunEnd::Interrupted => Outcome::Interrupted(signals.received()),
        _ if output_closed => Outcome::OutputClosed,
        _ if outcome.summary.failed() == 0 => Outcome::Success,
        _ => Outcome::TasksFailed,
    })
}

/// The command that starts each worker: `program worker`, in the sandbox when there is one,
/// through the launcher when there is one.
fn workers(
    program: std::path::PathBuf,
    launch: Option<super::launch::Launch>,
    sandbox: Option<&(Policy, InForce)>,
) -> WorkerCommand {
    let mut command = worker_command(program, Vec::new(), sandbox.map(|(policy, _)| policy));
    if let Some((policy, in_force)) = sandbox {
        command = command.with_sandbox(SandboxNote {
            in_force: in_force.to_string(),
            memory: policy.memory,
        });
    }
    match launch {
        Some(launch) => launch.command(command),
        None => command,
    }
}

/// An Animal speaks once, "Donald said Quack!": a run of one task through the runner.
fn speak(mut plan: RunPlan, plugin: Plugin, quack_stdout: &File) -> Result<Outcome, HostError> {
    let signals = StopSignals::install()?;
    crate::runner::orphans::adopt();
    let head = ReportHead::new(plugin.info(), plan.config.clone());
    let mut outputs = SpeechOutputs::new(
        plan.format,
        plan.report.take(),
        head,
        &plugin.info().description.name,
        quack_stdout,
    )?;
    let outcome = Run::new(plugin)
        .config(plan.config.clone())
        .cancel_flag(signals.cancel_flag())
        .speak(&mut outputs);
    outputs.finish()?;
    if let Some(error) = outcome.error {
        return Err(plan.run_failed(error));
    }
    Ok(match outcome.end {
        RunEnd::Interrupted => Outcome::Interrupted(signals.received()),
        _ if outcome.summary.failed() == 0 => Outcome::Success,
        _ => Outcome::TasksFailed,
    })
}
