//! The duck itself: a name and a quack, in plain Rust.

use serde::Deserialize;

/// The duck's configuration: `--set name=Donald`.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// What the duck is called.
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
    "Daisy".to_owned()
}

/// A duck: it has a name and it quacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duck {
    name: String,
}

impl Duck {
    /// A duck configured by `config`.
    pub fn new(config: Config) -> Self {
        Duck { name: config.name }
    }

    /// The duck's name.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// What the duck says.
    pub fn sound(&self) -> String {
        "Quack!".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_duck_is_daisy_and_quacks() {
        let duck = Duck::new(Config::default());
        assert_eq!(duck.name(), "Daisy");
        assert_eq!(duck.sound(), "Quack!");
    }

    #[test]
    fn unknown_config_fields_are_refused() {
        let result = serde_json::from_str::<Config>(r#"{"nmae": "Donald"}"#);
        assert!(result.is_err());
        let config: Config = serde_json::from_str(r#"{"name": "Donald"}"#).unwrap();
        assert_eq!(Duck::new(config).name(), "Donald");
    }
}
