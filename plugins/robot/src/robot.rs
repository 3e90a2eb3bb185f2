//! The robot itself: a name and a beep, in plain Rust; no animal.

use serde::Deserialize;

/// The robot's configuration: `--set name=R2`.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// What the robot is called.
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
    "Robo".to_owned()
}

/// A robot: no animal, yet it has a name and it beeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Robot {
    name: String,
}

impl Robot {
    /// A robot configured by `config`.
    pub fn new(config: Config) -> Self {
        Robot { name: config.name }
    }

    /// The robot's name.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// What the robot says.
    pub fn sound(&self) -> String {
        "Beep!".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_robot_is_robo_and_beeps() {
        let robot = Robot::new(Config::default());
        assert_eq!(robot.name(), "Robo");
        assert_eq!(robot.sound(), "Beep!");
    }

    #[test]
    fn unknown_config_fields_are_refused() {
        let result = serde_json::from_str::<Config>(r#"{"nmae": "R2"}"#);
        assert!(result.is_err());
        let config: Config = serde_json::from_str(r#"{"name": "R2"}"#).unwrap();
        assert_eq!(Robot::new(config).name(), "R2");
    }
}
