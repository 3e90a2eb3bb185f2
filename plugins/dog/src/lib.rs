//! The `dog` plugin's boundary: its description, its method table and its export. A dog has a
//! `name` and a `sound`, so the host treats it as an animal without being told.

mod dog;

pub use dog::{Config, Dog};
use quack_core::{BoxError, Description, Example, Methods, Plugin, export_plugin};
use serde_json::json;

impl Plugin for Dog {
    type Config = Config;

    fn describe() -> Description {
        Description::new("dog", env!("CARGO_PKG_VERSION"))
            .summary("A dog with a name (default Rex) that says Woof!")
            .example(Example::returns("name", json!(null), json!("Rex")))
            .example(
                Example::returns("name", json!(null), json!("Fido"))
                    .with_config(json!({"name": "Fido"})),
            )
            .example(Example::returns("sound", json!(null), json!("Woof!")))
    }

    fn new(config: Config) -> Result<Self, BoxError> {
        Ok(Dog::new(config))
    }

    fn methods(methods: &mut Methods<Self>) {
        methods.add("name", Dog::name).add("sound", Dog::sound);
    }
}

export_plugin!(Dog);

#[cfg(test)]
mod tests {
    use quack_core::testing::TestPlugin;

    use super::*;

    #[test]
    fn every_example_holds() {
        assert_eq!(TestPlugin::of::<Dog>().assert_examples(), 3);
    }
}
