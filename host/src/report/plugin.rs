//! The plugin part of a report, in both directions: [`write`] puts a [`PluginInfo`] into a report
//! as the report's format has it (path as given, name, version, ABI version, hint, methods,
//! interfaces, the file's size and SHA-256), and [`read`] makes a [`PluginInfo`] of it again,
//! from a report of this host or of an older one (which has no size and SHA-256, and may have
//! only the path, name and version).

use std::path::PathBuf;

use quack_core::{Description, Hint};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de::DeserializeOwned};
use serde_json::Value;

use crate::{
    interfaces::{Interface, Signature},
    plugin::{Content, PluginInfo},
};

/// The report's fields for the plugin, in the order they are written. Reading needs only the
/// path, name and version: the fields after them read as unknown when absent or of a form this
/// host does not know (a hint or an interface of a newer host), as they were ignored before.
#[derive(Serialize, Deserialize)]
struct Reported {
    path: PathBuf,
    name: String,
    version: String,
    #[serde(default, deserialize_with = "or_unknown")]
    abi_version: String,
    #[serde(default, deserialize_with = "or_unknown")]
    hint: Option<Hint>,
    #[serde(default, deserialize_with = "or_unknown")]
    methods: Vec<Signature>,
    #[serde(default, deserialize_with = "or_unknown")]
    interfaces: Vec<Interface>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
}

/// A field read as its type, or as its default when it has another form.
fn or_unknown<'de, D: Deserializer<'de>, T: DeserializeOwned + Default>(
    input: D,
) -> Result<T, D::Error> {
    let value = Value::deserialize(input)?;
    Ok(T::deserialize(value).unwrap_or_default())
}

/// Writes `plugin` as a report's plugin part (reading and hashing the file if that was not yet
/// done).
pub fn write<S: Serializer>(plugin: &PluginInfo, out: S) -> Result<S::Ok, S::Error> {
    let content = plugin.content();
    Reported {
        path: plugin.path.clone(),
        name: plugin.description.name.clone(),
        version: plugin.description.version.clone(),
        abi_version: plugin.abi_version.clone(),
        hint: plugin.description.hint,
        methods: plugin.methods.clone(),
        interfaces: plugin.interfaces.clone(),
        size: Some(content.size),
        sha256: Some(content.sha256.clone()),
    }
    .serialize(out)
}

/// Reads a report's plugin part. What the report does not say stays unknown: the rest of the
/// description is empty, and the content is known only when the report has both the size and
/// the SHA-256.
pub fn read<'de, D: Deserializer<'de>>(input: D) -> Result<PluginInfo, D::Error> {
    let reported = Reported::deserialize(input)?;
    let mut description = Description::new(&reported.name, &reported.version);
    description.hint = reported.hint;
    let mut plugin = PluginInfo::new(
        &reported.path,
        &reported.path,
        reported.abi_version,
        description,
        reported.methods,
    );
    plugin.interfaces = reported.interfaces;
    if let (Some(size), Some(sha256)) = (reported.size, reported.sha256) {
        plugin.record_content(Content { size, sha256 });
    }
    Ok(plugin)
}
