//! Duck typing: whatever has `name` and `sound` speaks, whatever it claims to be.

use quack_tests::{plugin_arg, run};

#[test]
fn the_duck_speaks_with_the_name_it_is_given() {
    let result = run(&["run", &plugin_arg("duck"), "--set", "name=Donald"]);
    result.expect_code(0);
    assert_eq!(result.stdout, "Donald said Quack!\n");
}

#[test]
fn the_dog_speaks_with_its_default_name() {
    let result = run(&["run", &plugin_arg("dog")]);
    result.expect_code(0);
    assert_eq!(result.stdout, "Rex said Woof!\n");
}

#[test]
fn the_robot_is_no_animal_yet_it_speaks() {
    let result = run(&["run", &plugin_arg("robot"), "--config", r#"{"name": "R2"}"#]);
    result.expect_code(0);
    assert_eq!(result.stdout, "R2 said Beep!\n");
}

#[test]
fn a_mistyped_config_key_is_refused_by_the_plugin() {
    let result = run(&["run", &plugin_arg("duck"), "--set", "nmae=Donald"]);
    result.expect_code(10);
    let line = result.one_error_line();
    assert!(
        line.contains("refused its configuration") && line.contains("nmae"),
        "{line}"
    );
}
