//! [`Task`]: what `run` and `split` take, a whole number `n` or a part `{"n", "from", "to"}` of
//! one, read from JSON by hand so that every bad input gets one clear sentence.

use quack_core::Shape;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};
use serde_json::{Map, Number, Value, json};

/// One task: list the divisors of `n`, all of them or only those in `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Every divisor of the number.
    Whole(u64),
    /// The divisors of `n` in `from..=to`, where `1 <= from <= to <= n`.
    Part {
        /// The number being factorized.
        n: u64,
        /// The first candidate divisor, inclusive.
        from: u64,
        /// The last candidate divisor, inclusive.
        to: u64,
    },
}

impl Task {
    /// A part of `n`, checked: `1 <= from <= to <= n`.
    pub fn part(n: u64, from: u64, to: u64) -> Result<Task, String> {
        if 1 <= from && from <= to && to <= n {
            Ok(Task::Part { n, from, to })
        } else {
            Err(format!(
                "the part from {from} to {to} of {n} is not a range of candidate divisors: \
                 it needs 1 <= from <= to <= n"
            ))
        }
    }

    /// `(n, from, to)`: the number and the inclusive range of candidates to try.
    pub fn bounds(self) -> (u64, u64, u64) {
        match self {
            Task::Whole(n) => (n, 1, n),
            Task::Part { n, from, to } => (n, from, to),
        }
    }
}

impl Shape for Task {
    fn shape() -> String {
        "Task".to_owned()
    }
}

impl Serialize for Task {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            Task::Whole(n) => serializer.serialize_u64(n),
            Task::Part { n, from, to } => {
                json!({"n": n, "from": from, "to": to}).serialize(serializer)
            }
        }
    }
}

impl<'de> Deserialize<'de> for Task {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        task_from_value(&value).map_err(D::Error::custom)
    }
}

/// Reads a task from JSON: a number (or a string holding one), or an object with `n`, `from`, `to`.
pub fn task_from_value(value: &Value) -> Result<Task, String> {
    match value {
        Value::Object(fields) => part_from_object(fields),
        _ => whole(number(value, "the number")?),
    }
}

fn whole(n: u64) -> Result<Task, String> {
    match n {
        0 => Err("the number is 0, which every number divides: give 1 or more".to_owned()),
        n => Ok(Task::Whole(n)),
    }
}

fn part_from_object(fields: &Map<String, Value>) -> Result<Task, String> {
    if let Some(unknown) = fields
        .keys()
        .find(|key| !["n", "from", "to"].contains(&key.as_str()))
    {
        return Err(format!(
            "a part has the fields \"n\", \"from\" and \"to\", not \"{unknown}\""
        ));
    }
    let field = |name: &str| {
        let what = format!("\"{name}\"");
        fields
            .get(name)
            .map(|value| number(value, &what))
            .transpose()
    };
    match (field("n")?, field("from")?, field("to")?) {
        (Some(n), Some(from), Some(to)) => Task::part(n, from, to),
        (Some(n), None, None) => whole(n),
        _ => Err(
            "a part needs \"n\", \"from\" and \"to\" (or only \"n\" for the whole number)".into(),
        ),
    }
}

/// The largest integer up to which every integer is exactly an f64 (2^53).
const EXACT_IN_F64: f64 = 9_007_199_254_740_992.0;

/// Reads a whole number that fits in a u64; `what` names it in the error.
fn number(value: &Value, what: &str) -> Result<u64, String> {
    let number = match value {
        Value::Number(number) => number.clone(),
        Value::String(text) => match serde_json::from_str::<Number>(text.trim()) {
            Ok(number) => number,
            Err(_) => return Err(format!("{what} is the text {value}, which is not a number")),
        },
        Value::Null => return Err(format!("{what} is missing (null): give a whole number")),
        Value::Bool(_) => return Err(format!("{what} is {value}, a boolean, not a number")),
        Value::Array(_) => return Err(format!("{what} is a list, not a number")),
        Value::Object(_) => return Err(format!("{what} is an object, not a number")),
    };
    if let Some(n) = number.as_u64() {
        return Ok(n);
    }
    let float = number.as_f64().unwrap_or(f64::NAN);
    if float < 0.0 {
        Err(format!(
            "{what} is {number}, which is negative: give 1 or more"
        ))
    } else if float.fract() != 0.0 {
        Err(format!("{what} is {number}, which is not a whole number"))
    } else if float >= 18_446_744_073_709_551_616.0 {
        Err(format!(
            "{what} is {number}, beyond the largest supported number, {}",
            u64::MAX
        ))
    } else if float > EXACT_IN_F64 {
        Err(format!(
            "{what} is {number}, too large to be exact when written with a fraction or an \
             exponent: write its digits"
        ))
    } else {
        // Whole, non-negative and at most 2^53: the conversion is exact.
        Ok(float as u64)
    }
}

#[cfg(test)]
mod tests;
