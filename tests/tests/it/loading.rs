//! Loading: each way a file can fail to be a usable plugin gets one sentence on stderr, no panic,
//! no backtrace, and its own exit code.

use std::io::Write;

use quack_tests::{plugin_arg, run, system_library};

#[test]
fn a_missing_file_is_refused_with_exit_code_3() {
    let result = run(&["run", "no/such/libplugin.so"]);
    result.expect_code(3);
    let line = result.one_error_line();
    assert!(
        line.contains("no/such/libplugin.so: no such file"),
        "{line}"
    );
}

#[test]
fn a_text_file_is_not_a_shared_library() {
    let mut file = tempfile::Builder::new().suffix(".so").tempfile().unwrap();
    writeln!(file, "just some text").unwrap();
    let result = run(&["run", file.path().to_str().unwrap()]);
    result.expect_code(4);
    assert!(
        result.one_error_line().contains("is not a shared library"),
        "{result:#?}"
    );
}

#[test]
fn random_bytes_named_so_are_not_a_shared_library() {
    let mut file = tempfile::Builder::new().suffix(".so").tempfile().unwrap();
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    file.write_all(&bytes).unwrap();
    let result = run(&["run", file.path().to_str().unwrap()]);
    result.expect_code(4);
    assert!(
        result.one_error_line().contains("is not a shared library"),
        "{result:#?}"
    );
}

#[test]
fn a_system_library_is_a_shared_library_but_not_a_plugin() {
    let libc = system_library();
    let result = run(&["run", libc.to_str().unwrap()]);
    result.expect_code(5);
    assert!(
        result
            .one_error_line()
            .contains("is a shared library but not a Quack plugin"),
        "{result:#?}"
    );
}

#[test]
fn a_plugin_for_another_abi_names_both_versions() {
    let result = run(&["run", &plugin_arg("abi_v2")]);
    result.expect_code(6);
    let line = result.one_error_line();
    assert!(line.contains("built for Quack ABI 2.0.0"), "{line}");
    assert!(line.contains("this host speaks ABI 1.0.0"), "{line}");
}

#[test]
fn a_plugin_whose_describe_panics_is_refused_with_the_panic_message() {
    let result = run(&["inspect", &plugin_arg("describe_panics")]);
    result.expect_code(7);
    let line = result.one_error_line();
    assert!(line.contains("its describe failed"), "{line}");
    assert!(line.contains("panics on purpose"), "{line}");
}

#[test]
fn a_plugin_that_registers_a_method_twice_is_refused_naming_it() {
    let result = run(&["run", &plugin_arg("duplicate_method"), "--task", "3"]);
    result.expect_code(7);
    let line = result.one_error_line();
    assert!(
        line.contains("its methods failed (method `run` is registered more than once"),
        "{line}"
    );
}

#[test]
fn a_plugin_with_name_but_no_sound_is_refused_naming_sound() {
    let result = run(&["run", &plugin_arg("name_only")]);
    result.expect_code(8);
    let line = result.one_error_line();
    assert!(
        line.contains("not an Animal (missing `sound() -> string`)"),
        "{line}"
    );
    assert!(
        line.contains("not a Workload (missing `run(task) -> result`)"),
        "{line}"
    );
}

#[test]
fn the_same_plugin_loads_twice_and_two_plugins_stay_apart() {
    // abi_stable's load_from_file would hand back the first module for the second path.
    let dir = tempfile::tempdir().unwrap();
    for name in ["dog", "duck", "robot"] {
        let from = quack_tests::plugin(name);
        std::fs::copy(&from, dir.path().join(from.file_name().unwrap())).unwrap();
    }
    let result = run(&["list", dir.path().to_str().unwrap()]);
    result.expect_code(0);
    for name in ["dog", "duck", "robot"] {
        assert!(result.stdout.contains(&format!("  {name} ")), "{result:#?}");
    }
}
