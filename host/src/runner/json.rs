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

/// The deepest nesting of arrays and objects a `Json` may have: serde_json's own limit, so that
/// every value Quack accepts (and writes into a report) reads back.
pub const MAX_DEPTH: usize = 127;

/// One JSON value as compact text (see the module documentation).
#[derive(Clone)]
pub struct Json(Box<RawValue>);

impl Json {
    /// The value `text` holds, or why it holds none (not JSON, more than one value, or nested
    /// deeper than [`MAX_DEPTH`]).
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        let raw = serde_json::from_str::<Box<RawValue>>(text)?;
        Self::checked(raw).map_err(|()| too_deep(text))
    }

    /// [`parse`](Self::parse) for bytes, which must be UTF-8.
    pub fn parse_slice(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        let raw = serde_json::from_slice::<Box<RawValue>>(bytes)?;
        Self::checked(raw).map_err(|()| too_deep(String::from_utf8_lossy(bytes).as_ref()))
    }

    /// A value already in memory.
    pub fn from_value(value: &Value) -> Self {
        // A `Value` always serializes (its keys are strings); `null` keeps this free of panics.
        Json(serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned()))
    }

    /// Raw JSON from elsewhere (a worker's answer), with its whitespace taken out; an error when
    /// it is nested deeper than [`MAX_DEPTH`].
    pub fn from_raw(raw: Box<RawValue>) -> Result<Self, serde_json::Error> {
        let text = raw.get().to_owned();
        Self::checked(raw).map_err(|()| too_deep(&text))
    }

    /// The value as a tree, for code that looks inside it (the table, `split` and `merge`).
    pub fn to_value(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }

    /// The compact text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The value as serde_json's raw value (for a frame to a worker).
    pub fn as_raw(&self) -> &RawValue {
        &self.0
    }

    /// `raw` without the whitespace between its tokens; `Err` when it is nested too deep.
    fn checked(raw: Box<RawValue>) -> Result<Self, ()> {
        let shape = shape(raw.get().as_bytes());
        if shape.depth > MAX_DEPTH {
            return Err(());
        }
        match shape.first_space {
            None => Ok(Json(raw)),
            // Removing whitespace between tokens keeps valid JSON valid; `raw` keeps this free
            // of panics all the same.
            Some(at) => {
                let compact = without_spaces(raw.get(), at);
                Ok(Json(RawValue::from_string(compact).unwrap_or(raw)))
            }
        }
    }
}

/// serde_json's own error for `text` nested too deep ("recursion limit exceeded").
fn too_deep(text: &str) -> serde_json::Error {
    match serde_json::from_str::<Value>(text) {
        Err(error) => error,
        // Not reached (the nesting is past serde_json's limit); a sentence all the same.
        Ok(_) => serde::de::Error::custom(format!("nested deeper than {MAX_DEPTH} levels")),
    }
}

/// What one pass over a valid JSON text finds: where its first whitespace between tokens is,
/// and how deep its arrays and objects nest.
struct Shape {
    first_space: Option<usize>,
    depth: usize,
}

fn shape(bytes: &[u8]) -> Shape {
    let mut shape = Shape {
        first_space: None,
        depth: 0,
    };
    let mut depth = 0usize;
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
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                shape.depth = shape.depth.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            byte if is_json_space(byte) => {
                shape.first_space.get_or_insert(at);
            }
            _ => {}
        }
    }
    shape
}

/// `text` (valid JSON) without the whitespace outside its strings, from `first_space` on.
fn without_spaces(text: &str, first_space: usize) -> String {
    let bytes = text.as_bytes();
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
    // Only ASCII whitespace between tokens was removed: still UTF-8.
    String::from_utf8(compact)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
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
        self.to_value().is_ok_and(|value| value == *other)
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
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Self::checked(raw).map_err(|()| {
            serde::de::Error::custom(format!("a value nested deeper than {MAX_DEPTH} levels"))
        })
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
        assert_eq!(
            json.to_value().unwrap(),
            json!({"b": [1, 2], "a": "x y\" z"})
        );
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

    /// Nesting past serde_json's own limit is refused with serde_json's words, so everything
    /// Quack writes into a report reads back; up to the limit is fine.
    #[test]
    fn nesting_deeper_than_serde_json_reads_is_refused() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let deepest = Json::parse(&nested(MAX_DEPTH)).unwrap();
        assert!(deepest.to_value().is_ok());
        let error = Json::parse(&nested(MAX_DEPTH + 1)).unwrap_err();
        assert!(error.to_string().contains("recursion limit"), "{error}");
        assert!(Json::parse_slice(nested(MAX_DEPTH + 1).as_bytes()).is_err());
        let raw = RawValue::from_string(nested(1000)).unwrap();
        assert!(Json::from_raw(raw).is_err());
        // Brackets inside strings are text, not nesting.
        let text = format!("\"{}\"", "[".repeat(1000));
        assert_eq!(Json::parse(&text).unwrap().as_str(), text);
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
        assert_eq!(Json::from_value(&value).to_value().unwrap(), value);
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
            proptest::prop_assert_eq!(json.to_value().unwrap(), value.clone());
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
