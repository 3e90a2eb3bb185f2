//! [`Json`]: one JSON value kept as its compact text, the form task inputs and results travel in.
//!
//! A task's input is read as text and handed to the plugin as text, and the plugin's result comes
//! back as text and is written out as text: parsing either into a tree only to print it again
//! costs more than the call itself for a trivial task. A `Json` is checked once, when it is made
//! (valid JSON, a single value), and holds no whitespace outside its strings, so it is fit for a
//! JSON Lines line as it is. What the value says is kept exactly: object keys stay in their
//! order and numbers keep their spelling (`1.50`, `1e3`, integers of any size).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, value::RawValue};

/// One JSON value as compact text (see the module documentation).
#[derive(Clone)]
pub struct Json(Box<RawValue>);

impl Json {
    /// The value `text` holds, or why it holds none (not JSON, or more than one value).
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str::<Box<RawValue>>(text).map(Self::compacted)
    }

    /// [`parse`](Self::parse) for bytes, which must be UTF-8.
    pub fn parse_slice(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice::<Box<RawValue>>(bytes).map(Self::compacted)
    }

    /// A value already in memory.
    pub fn from_value(value: &Value) -> Self {
        // A `Value` always serializes (its keys are strings); `null` keeps this free of panics.
        Json(serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned()))
    }

    /// Raw JSON from elsewhere (a worker's answer), with its whitespace taken out.
    pub fn from_raw(raw: Box<RawValue>) -> Self {
        Self::compacted(raw)
    }

    /// The value as a tree, for code that looks inside it (the table, `split` and `merge`).
    pub fn to_value(&self) -> Value {
        // Checked when made, so it parses; `null` keeps this free of panics.
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }

    /// The compact text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The value as serde_json's raw value (for a frame to a worker).
    pub fn as_raw(&self) -> &RawValue {
        &self.0
    }

    /// Takes the whitespace between tokens out of `raw`, when it has any.
    fn compacted(raw: Box<RawValue>) -> Self {
        match compact_text(raw.get()) {
            None => Json(raw),
            // Removing whitespace between tokens keeps valid JSON valid; `raw` keeps this free of
            // panics all the same.
            Some(text) => Json(RawValue::from_string(text).unwrap_or(raw)),
        }
    }
}

/// `text` (valid JSON) without the whitespace outside its strings; `None` when it has none.
fn compact_text(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let first_space = first_space_outside_strings(bytes)?;
    let mut compact = Vec::with_capacity(bytes.len());
    compact.extend_from_slice(&bytes[..first_space]);
    let mut in_string = false;
    let mut escaped = false;
    for &byte in &bytes[first_space..] {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
        } else if is_json_space(byte) {
            continue;
        } else if byte == b'"' {
            in_string = true;
        }
        compact.push(byte);
    }
    // Only ASCII whitespace was removed, between tokens: still UTF-8.
    String::from_utf8(compact).ok()
}

/// Where the first whitespace between tokens is, if there is any.
fn first_space_outside_strings(bytes: &[u8]) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    for (at, &byte) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
        } else if is_json_space(byte) {
            return Some(at);
        } else if byte == b'"' {
            in_string = true;
        }
    }
    None
}

/// The four whitespace characters JSON allows between tokens.
fn is_json_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\n' | b'\r' | b'\t')
}

impl From<Value> for Json {
    fn from(value: Value) -> Self {
        Json::from_value(&value)
    }
}

impl From<&Value> for Json {
    fn from(value: &Value) -> Self {
        Json::from_value(value)
    }
}

impl PartialEq for Json {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Json {}

impl PartialEq<Value> for Json {
    fn eq(&self, other: &Value) -> bool {
        self.to_value() == *other
    }
}

impl fmt::Debug for Json {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl fmt::Display for Json {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(Self::compacted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_text_is_kept_as_it_is() {
        for text in [
            "1",
            "[1,2]",
            r#"{"b":1,"a":[true,null]}"#,
            "1.50",
            "1e3",
            "\"a b\"",
        ] {
            assert_eq!(Json::parse(text).unwrap().as_str(), text);
        }
    }

    #[test]
    fn whitespace_between_tokens_goes_and_strings_keep_theirs() {
        let json = Json::parse(" {\"b\" : [1, 2],\n\t\"a\": \"x y\\\" z\" } \n").unwrap();
        assert_eq!(json.as_str(), r#"{"b":[1,2],"a":"x y\" z"}"#);
        assert_eq!(json.to_value(), json!({"b": [1, 2], "a": "x y\" z"}));
    }

    #[test]
    fn integers_beyond_64_bits_keep_every_digit() {
        let text = "123456789012345678901234567890";
        assert_eq!(Json::parse(text).unwrap().as_str(), text);
    }

    #[test]
    fn not_one_value_is_refused() {
        for text in ["", "nope", "1 2", "[1,", "{\"a\"}"] {
            assert!(Json::parse(text).is_err(), "{text:?}");
        }
        assert!(Json::parse_slice(b"\"\xff\"").is_err());
    }

    #[test]
    fn serializes_as_its_text_inside_other_json() {
        #[derive(Serialize)]
        struct Line {
            input: Json,
        }
        let line = serde_json::to_string(&Line {
            input: Json::parse("{\"z\": 1, \"a\": 2}").unwrap(),
        })
        .unwrap();
        assert_eq!(line, r#"{"input":{"z":1,"a":2}}"#);
    }

    #[test]
    fn from_a_value_and_back() {
        let value = json!({"a": [1, "two", null]});
        assert_eq!(Json::from_value(&value).to_value(), value);
        let read: Json = serde_json::from_str("[ 1 , 2 ]").unwrap();
        assert_eq!(read.as_str(), "[1,2]");
    }

    proptest::proptest! {
        /// Any JSON value, printed pretty or compact: the same value comes back, without
        /// whitespace between tokens.
        #[test]
        fn any_value_survives_compaction(value in any_json(), pretty in proptest::bool::ANY) {
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                serde_json::to_string(&value).unwrap()
            };
            let json = Json::parse(&text).unwrap();
            proptest::prop_assert_eq!(json.to_value(), value.clone());
            proptest::prop_assert_eq!(json.as_str(), serde_json::to_string(&value).unwrap());
        }
    }

    fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[ a-z\"\\\\\n\t\u{e9}]{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map("[a-z ]{0,4}", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }
}
