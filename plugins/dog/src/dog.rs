//! The dog itself: a name and a bark, in plain Rust.

use serde::Deserialize;

/// The dog's configuration: `--set name=Fido`.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// What the dog is called.
    #[serde(default = "default_name")]
    pub name: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            name: default_name(),
        }
    }
}

fn default_name() -> String {
    "Rex".to_owned()
}

/// A dog: it has a name and it barks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dog {
    name: String,
}

impl Dog {
    /// A dog configured by `config`.
    pub fn new(config: Config) -> Self {
        Dog { name: config.name }
    }

    /// The dog's name.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// What the dog says.
    pub fn sound(&self) -> String {
        "Woof!".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_dog_is_rex_and_barks() {
        let dog = Dog::new(Config::default());
        assert_eq!(dog.name(), "Rex");
        assert_eq!(dog.sound(), "Woof!");
    }

    #[test]
    fn unknown_config_fields_are_refused() {
        let result = serde_json::from_str::<Config>(r#"{"nmae": "Fido"}"#);
        assert!(result.is_err());
        let config: Config = serde_json::from_str(r#"{"name": "Fido"}"#).unwrap();
        assert_eq!(Dog::new(config).name(), "Fido");
    }
}
