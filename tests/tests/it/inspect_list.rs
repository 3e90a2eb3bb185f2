//! `host inspect` and `host list`: what each plugin has and which interfaces that makes it.

use quack_tests::{plugin, plugin_arg, run};
use serde_json::Value;

fn inspect_json(name: &str) -> Value {
    let result = run(&["inspect", &plugin_arg(name), "--json"]);
    result.expect_code(0);
    serde_json::from_str(&result.stdout).unwrap()
}

fn satisfied(inspection: &Value) -> Vec<String> {
    inspection["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["satisfied"] == true)
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn inspect_finds_each_plugins_interfaces_from_its_methods() {
    for (name, interfaces) in [
        ("dog", vec!["Animal"]),
        ("duck", vec!["Animal"]),
        ("robot", vec!["Animal"]),
        ("factorize", vec!["Workload", "Splittable"]),
        ("slow_io", vec!["Workload"]),
    ] {
        let inspection = inspect_json(name);
        assert_eq!(satisfied(&inspection), interfaces, "{name}: {inspection:#}");
        assert_eq!(inspection["abi_version"], "1.0.0");
        assert!(
            inspection["file"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{name}.so"))
        );
    }
}

#[test]
fn inspect_shows_signatures_and_what_is_missing() {
    let result = run(&["inspect", &plugin_arg("duck")]);
    result.expect_code(0);
    assert!(result.stdout.contains("name() -> string"), "{result:#?}");
    assert!(result.stdout.contains("sound() -> string"), "{result:#?}");
    assert!(
        result
            .stdout
            .contains("Workload    no, missing `run(task) -> result`"),
        "{result:#?}"
    );
    let factorize = run(&["inspect", &plugin_arg("factorize")]);
    assert!(
        factorize
            .stdout
            .contains("run(53541233) -> [1, 5501, 9733, 53541233]"),
        "{factorize:#?}"
    );
    assert!(
        factorize.stdout.contains("hint:          cpu"),
        "{factorize:#?}"
    );
}

#[test]
fn list_shows_plugins_and_goes_on_past_files_that_are_not() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["factorize", "duck"] {
        let from = plugin(name);
        std::fs::copy(&from, dir.path().join(from.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.path().join("libbroken.so"), "not a library").unwrap();
    std::fs::write(dir.path().join("README.txt"), "ignored").unwrap();
    let result = run(&["list", dir.path().to_str().unwrap()]);
    result.expect_code(0);
    let lines: Vec<&str> = result.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{result:#?}");
    assert!(
        lines[0].contains("libbroken.so") && lines[0].contains("not a plugin"),
        "{result:#?}"
    );
    assert!(
        lines[1].contains("libduck.so") && lines[1].ends_with(": Animal"),
        "{result:#?}"
    );
    assert!(
        lines[2].contains("libfactorize.so") && lines[2].ends_with(": Workload, Splittable"),
        "{result:#?}"
    );
}

#[test]
fn list_of_a_missing_directory_is_refused() {
    let result = run(&["list", "/no/such/plugins"]);
    result.expect_code(3);
    result.one_error_line();
}
