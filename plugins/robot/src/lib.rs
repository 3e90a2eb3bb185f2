//! The `robot` plugin's boundary: its description, its method table and its export. A robot is no
//! animal and says so, but it has `name` and `sound`, so the host lets it speak (duck typing).

mod robot;

use quack_core::{BoxError, Description, Example, Methods, Plugin, export_plugin};
pub use robot::{Config, Robot};
use serde_json::json;

impl Plugin for Robot {
    type Config = Config;

    fn describe() -> Description {
        Description::new("robot", env!("CARGO_PKG_VERSION"))
            .summary("A robot, not an animal: it has a name (default Robo) and says Beep!")
            .example(Example::returns("name", json!(null), json!("Robo")))
            .example(
                Example::returns("name", json!(null), json!("R2"))
                    .with_config(json!({"name": "R2"})),
            )
            .example(Example::returns("sound", json!(null), json!("Beep!")))
    }

    fn new(config: Config) -> Result<Self, BoxError> {
        Ok(Robot::new(config))
    }

    fn methods(methods: &mut Methods<Self>) {
        methods.add("name", Robot::name).add("sound", Robot::sound);
    }
}

export_plugin!(Robot);

#[cfg(test)]
mod tests {
    use quack_core::testing::TestPlugin;

    use super::*;

    #[test]
    fn every_example_holds() {
        assert_eq!(TestPlugin::of::<Robot>().assert_examples(), 3);
    }
}
