//! An Animal's speech as the one task of a run: [`speak_from`] asks the plugin's `name` and
//! `sound` and makes the task's result a [`Speech`] (`{"name", "sound", "line"}`, the line being
//! "Donald said Quack!"). [`Run::speak`](super::Run::speak) runs that task inline through the same
//! machinery as any other, so a speech has the events, the record and the summary of a run.

use std::time::Instant;

use quack_core::InstanceBox;
use serde::Deserialize;
use serde_json::json;

use super::{Json, Status, TaskRecord, answer, record::CallOutcome};

/// The reason a speech gives for its mode.
pub(crate) const SPEECH_REASON: &str = "inline: an Animal speaks once";

/// What an Animal said: the result of its speech task.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Speech {
    /// What `name()` returned.
    pub name: String,
    /// What `sound()` returned.
    pub sound: String,
    /// "NAME said SOUND".
    pub line: String,
}

impl Speech {
    /// The speech a run's record holds, when the task was a speech that went well.
    pub fn of(record: &TaskRecord) -> Option<Speech> {
        let output = record
            .output
            .as_ref()
            .filter(|_| record.status == Status::Ok)?;
        serde_json::from_str(output.as_str()).ok()
    }

    /// The speech as one JSON Lines object: `{"type": "speech", "name", "sound", "line"}`.
    pub fn to_json_line(&self) -> String {
        json!({"type": "speech", "name": self.name, "sound": self.sound, "line": self.line})
            .to_string()
    }
}

/// Makes the Animal on `instance` speak, a call that starts at `started`: `name()`, then
/// `sound()`, each of which must return a string.
pub(crate) fn speak_from(
    instance: &mut InstanceBox,
    _input: &str,
    started: Instant,
) -> CallOutcome {
    let mut ask = |method: &str| {
        let returned = instance.call(method.into(), "null".into());
        let json = answer::read(&returned, Json::parse)
            .map_err(|error| format!("{method}() failed: {error}"))?;
        serde_json::from_str::<String>(json.as_str())
            .map_err(|error| format!("{method}() did not return a string: {error}"))
    };
    let spoken = ask("name").and_then(|name| Ok((name, ask("sound")?)));
    let result = spoken.map(|(name, sound)| {
        let line = format!("{name} said {sound}");
        Json::from(json!({"name": name, "sound": sound, "line": line}))
    });
    CallOutcome::of_json(result, started, started.elapsed())
}
