//! The `duck` plugin's boundary: its description, its method table and its export. A duck has a
//! `name` and a `sound`, so the host treats it as an animal without being told.

mod duck;

pub use duck::{Config, Duck};
use quack_core::{BoxError, Description, Example, Methods, Plugin, export_plugin};
use serde_json::json;

impl Plugin for Duck {
    type Config = Config;

    fn describe() -> Description {
        Description::new("duck", env!("CARGO_PKG_VERSION"))
            .summary("A duck with a name (default Daisy) that says Quack!")
            .example(Example::returns("name", json!(null), json!("Daisy")))
            .example(
                Example::returns("name", json!(null), json!("Donald"))
                    .with_config(json!({"name": "Donald"})),
            )
            .example(Example::returns("sound", json!(null), json!("Quack!")))
    }

    fn new(config: Config) -> Result<Self, BoxError> {
        Ok(Duck::new(config))
    }

    fn methods(methods: &mut Methods<Self>) {
        methods.add("name", Duck::name).add("sound", Duck::sound);
    }
}

export_plugin!(Duck);

#[cfg(test)]
mod tests {
    use quack_core::testing::TestPlugin;

    use super::*;

    #[test]
    fn every_example_holds() {
        assert_eq!(TestPlugin::of::<Duck>().assert_examples(), 3);
    }
}
