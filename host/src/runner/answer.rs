//! The one reading of what a plugin's method returned, wherever it ran: its result as JSON, in
//! the form the caller keeps (checked text, a borrowed raw value, a tree), or what went wrong in
//! words: the plugin's own error, or a result that is not JSON. In the host the answer is the
//! ABI's `RResult`; from a worker process it is the `done` frame's `ok` or `error`, which the
//! worker made with this same reading. A result larger than `protocol::MAX_RESULT` is an error
//! here too, so a task fails alike in every mode.

use quack_core::{
    PluginError,
    abi_stable::std_types::{RResult, RString},
};
use serde_json::value::RawValue;

/// What a plugin's method returns across the ABI.
pub(crate) type Returned = RResult<RString, PluginError>;

/// Reads `returned` with `parse`.
pub(crate) fn read<'a, T>(
    returned: &'a Returned,
    parse: impl FnOnce(&'a str) -> Result<T, serde_json::Error>,
) -> Result<T, String> {
    match returned {
        // A result over the bound is the task's error, found from its length before it is
        // parsed or copied into a frame: the same sentence in every mode.
        RResult::ROk(json) => match super::protocol::result_too_large(json.len()) {
            Some(too_large) => Err(too_large),
            None => parse(json.as_str()).map_err(invalid_json),
        },
        RResult::RErr(error) => Err(error.to_string()),
    }
}

/// Reads a worker's answer (a `done` frame's `ok` and `error`) with `parse`.
pub(crate) fn read_done<T>(
    ok: Option<Box<RawValue>>,
    error: Option<String>,
    parse: impl FnOnce(Box<RawValue>) -> Result<T, serde_json::Error>,
) -> Result<T, String> {
    match (ok, error) {
        (Some(raw), _) => parse(raw).map_err(invalid_json),
        (None, error) => Err(error.unwrap_or_else(|| "no result".to_owned())),
    }
}

/// A call whose result is not JSON, in words.
fn invalid_json(error: serde_json::Error) -> String {
    format!("the plugin returned invalid JSON: {error}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use quack_core::ErrorKind;

    #[test]
    fn a_result_an_error_and_text_that_is_not_json_read_the_same_from_either_side() {
        let good: Returned = RResult::ROk(RString::from("[1, 2]"));
        assert_eq!(
            read(&good, serde_json::from_str::<serde_json::Value>),
            Ok(serde_json::json!([1, 2]))
        );
        let bad: Returned = RResult::ROk(RString::from("{oops"));
        let here = read(&bad, serde_json::from_str::<serde_json::Value>).unwrap_err();
        assert!(
            here.starts_with("the plugin returned invalid JSON: "),
            "{here}"
        );
        let refused: Returned = RResult::RErr(PluginError::new(ErrorKind::Failed, "no"));
        let said = read(&refused, serde_json::from_str::<serde_json::Value>).unwrap_err();
        assert_eq!(
            read_done::<serde_json::Value>(None, Some(said.clone()), |raw| serde_json::from_str(
                raw.get()
            )),
            Err(said)
        );
        assert_eq!(
            read_done::<serde_json::Value>(None, None, |raw| serde_json::from_str(raw.get())),
            Err("no result".to_owned())
        );
    }
}
