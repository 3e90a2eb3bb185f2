//! [`RemoteInstance`]: one plugin instance in a worker process of its own, called one method at a
//! time. An isolated run (`--isolate`, process mode) loads no plugin code into the host, so its
//! `split` and `merge` calls go to such a worker, over the same protocol as the tasks.

use std::{
    io::{BufReader, BufWriter, Write},
    process::{Child, ChildStdin, Stdio},
    sync::mpsc::{self, Receiver},
    thread,
    time::Duration,
};

use serde_json::{
    Value,
    value::{RawValue, to_raw_value},
};

use super::{
    RunContext, RunError, WorkerCommand, describe_exit,
    protocol::{
        FatalStage, FromWorker, Hello, PROTOCOL_VERSION, ToWorker, read_frame, write_frame,
    },
};
use quack_core::{ErrorKind, PluginError};

/// How long one `split` or `merge` call in the worker may take.
const CALL_LIMIT: Duration = Duration::from_secs(60);

/// A plugin instance living in a worker process.
pub(crate) struct RemoteInstance {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    answers: Receiver<Result<FromWorker, String>>,
    next_id: u64,
}

impl RemoteInstance {
    /// Starts a worker with `command` and waits (up to the start limit) for its hello.
    pub(crate) fn start(context: &RunContext, command: &WorkerCommand) -> Result<Self, RunError> {
        let failed = RunError::Splitter;
        // On this machine, where the plugin file is: split and merge need no launcher.
        let command = &command.local();
        let mut process = command.command();
        // What it prints goes straight to the host's stderr.
        process.stderr(Stdio::inherit());
        let mut child = process
            .spawn()
            .map_err(|error| failed(format!("{}: {error}", command.display())))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(failed("its pipes could not be set up".to_owned()));
        };
        let (sender, answers) = mpsc::channel();
        thread::Builder::new()
            .name("quack-splitter".to_owned())
            .spawn(move || {
                let mut reader = BufReader::new(stdout);
                let mut frame = Vec::new();
                loop {
                    let answer = match read_frame(&mut reader, &mut frame) {
                        Ok(true) => serde_json::from_slice::<FromWorker>(&frame).map_err(|error| {
                            format!("a message that is not the protocol's: {error}")
                        }),
                        Ok(false) => Err("it ended".to_owned()),
                        Err(error) => Err(format!("unreadable frame: {error}")),
                    };
                    let last = answer.is_err();
                    if sender.send(answer).is_err() || last {
                        return;
                    }
                }
            })
            .map_err(|error| failed(format!("its reader thread: {error}")))?;
        let mut remote = RemoteInstance {
            child,
            stdin: BufWriter::new(stdin),
            answers,
            next_id: 0,
        };
        let start = ToWorker::Start {
            protocol: PROTOCOL_VERSION,
            worker: 0,
            plugin: std::path::absolute(&context.plugin.path)
                .unwrap_or_else(|_| context.plugin.path.clone()),
            sha256: Some(context.plugin.content().sha256.clone()),
            stamp: None,
            config: context.config.clone(),
        };
        write_frame(&mut remote.stdin, &start)
            .and_then(|()| remote.stdin.flush())
            .map_err(|error| failed(format!("it could not be sent its start: {error}")))?;
        match remote.answer(context.limits.start_timeout) {
            Ok(FromWorker::Hello(hello))
                if hello.sha256.as_ref() == Some(&context.plugin.content().sha256) =>
            {
                Ok(remote)
            }
            Ok(FromWorker::Hello(Hello { name, version, .. })) => Err(failed(format!(
                "it loaded {name} {version}, another plugin than the host's"
            ))),
            Ok(FromWorker::Fatal { stage, error }) => Err(match stage {
                FatalStage::Config => {
                    RunError::Instance(PluginError::new(ErrorKind::InvalidInput, error))
                }
                FatalStage::Instance => {
                    RunError::Instance(PluginError::new(ErrorKind::Failed, error))
                }
                FatalStage::Start | FatalStage::Load => failed(error),
            }),
            Ok(FromWorker::NeedPlugin { reason }) => Err(failed(format!(
                "it cannot find the plugin the host loaded: {reason}"
            ))),
            Ok(FromWorker::Done { .. }) => Err(failed("it answered before its hello".to_owned())),
            Err(reason) => Err(failed(reason)),
        }
    }

    /// The worker's next message, or why there is none.
    fn answer(&mut self, limit: Duration) -> Result<FromWorker, String> {
        match self.answers.recv_timeout(limit) {
            Ok(Ok(message)) => Ok(message),
            Ok(Err(reason)) => Err(self.ended(reason)),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                Err(format!(
                    "it did not answer within {} s and was stopped",
                    limit.as_secs()
                ))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(self.ended("it ended".to_owned())),
        }
    }

    /// `reason`, with how the process ended when it has.
    fn ended(&mut self, reason: String) -> String {
        match self.child.wait() {
            Ok(status) => format!("{reason} ({})", describe_exit(status)),
            Err(_) => reason,
        }
    }

    /// Calls `method(input)` in the worker.
    pub(crate) fn call(&mut self, method: &str, input: &Value) -> Result<Value, String> {
        let id = self.next_id;
        self.next_id += 1;
        let input: Box<RawValue> =
            to_raw_value(input).map_err(|error| format!("{method}: {error}"))?;
        let task = ToWorker::Task {
            id,
            method: Some(method.to_owned()),
            input,
        };
        write_frame(&mut self.stdin, &task)
            .and_then(|()| self.stdin.flush())
            .map_err(|error| format!("{method} could not be sent to its worker: {error}"))?;
        match self.answer(CALL_LIMIT) {
            Ok(FromWorker::Done {
                id: answered,
                ok: Some(raw),
                ..
            }) if answered == id => serde_json::from_str(raw.get())
                .map_err(|error| format!("{method} returned invalid JSON: {error}")),
            Ok(FromWorker::Done {
                id: answered,
                error,
                ..
            }) if answered == id => Err(format!(
                "{method} failed: {}",
                error.unwrap_or_else(|| "no result".to_owned())
            )),
            Ok(_) => Err(format!("{method}: its worker answered out of turn")),
            Err(reason) => Err(format!("{method}: its worker failed: {reason}")),
        }
    }
}

impl Drop for RemoteInstance {
    fn drop(&mut self) {
        // Nothing is left for it to do: it is stopped and reaped, never left as a zombie.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
