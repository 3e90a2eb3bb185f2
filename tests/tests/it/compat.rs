//! The ABI promise: a plugin built against an earlier ABI crate of the same major version, or with
//! a quack-core of another crate version, loads and runs in today's host; a layout that changed
//! under the same version is refused with a sentence naming the difference. The plugins come from
//! the small workspaces under `tests/compat/` (see `quack_tests::compat_plugin`).

use quack_tests::{compat_plugin, run};

#[test]
fn a_plugin_built_against_the_frozen_abi_1_0_0_loads_and_runs() {
    let plugin = compat_plugin("abi-1.0.0", "compat_abi_1_0_0");
    let result = run(&[
        "run",
        plugin.to_str().unwrap(),
        "--task",
        "21",
        "--task",
        "5",
    ]);
    result.expect_code(0);
    assert!(result.stdout.contains("21 -> 42"), "{result:#?}");
    assert!(result.stdout.contains("5 -> 10"), "{result:#?}");
}

#[test]
fn a_plugin_from_a_much_newer_quack_core_with_the_same_abi_loads_and_runs() {
    let plugin = compat_plugin("core-0.9", "compat_core_0_9");
    let inspect = run(&["inspect", plugin.to_str().unwrap()]);
    inspect.expect_code(0);
    assert!(inspect.stdout.contains("new-multiplier"), "{inspect:#?}");
    let result = run(&["run", plugin.to_str().unwrap()]);
    result.expect_code(0);
    assert!(
        result.stdout.contains(r#"{"n": 6, "times": 7} -> 42"#),
        "{result:#?}"
    );
}

#[test]
fn a_layout_changed_under_the_same_abi_version_is_refused_naming_the_difference() {
    let plugin = compat_plugin("abi-1.0.0-changed", "compat_abi_changed");
    let result = run(&["run", plugin.to_str().unwrap()]);
    result.expect_code(6);
    let line = result.one_error_line();
    assert!(
        line.contains("declares Quack ABI 1.0.0, as this host does, but its ABI types differ"),
        "{line}"
    );
    assert!(
        line.contains("`PluginError`: too many fields, 2 in the host and 3 in the plugin"),
        "{line}"
    );
    assert!(!line.contains("but this host speaks ABI 1.0.0"), "{line}");
}
