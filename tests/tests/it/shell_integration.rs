//! Shell integration: completion scripts for bash, zsh and fish, the manual page, and `host -V`
//! and `host --version` with the ABI and worker protocol versions.

use std::process::Command;

use quack_tests::run;

#[test]
fn the_bash_completion_script_is_valid_bash() {
    let result = run(&["completions", "bash"]);
    result.expect_code(0);
    assert!(result.stdout.contains("compare"), "{result:#?}");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("host.bash");
    std::fs::write(&script, &result.stdout).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn zsh_and_fish_get_completion_scripts_that_know_the_commands() {
    for shell in ["zsh", "fish"] {
        let result = run(&["completions", shell]);
        result.expect_code(0);
        assert!(result.stdout.contains("run"), "{shell}: {result:#?}");
        assert!(result.stdout.contains("compare"), "{shell}: {result:#?}");
    }
}

#[test]
fn an_unknown_shell_is_a_command_line_error() {
    let result = run(&["completions", "tcsh"]);
    result.expect_code(2);
    assert!(result.stderr.contains("tcsh"), "{result:#?}");
}

#[test]
fn the_manual_page_is_roff() {
    let result = run(&["man"]);
    result.expect_code(0);
    let page = &result.stdout;
    let title = page
        .lines()
        .find(|line| line.starts_with(".TH"))
        .unwrap_or_else(|| panic!("no .TH line: {page}"));
    assert!(title.starts_with(".TH host 1"), "{title}");
    assert!(page.lines().next().unwrap().starts_with('.'), "{page}");
    assert!(page.contains(".SH NAME"), "{page}");
    for command in ["run", "compare", "completions"] {
        assert!(page.contains(command), "{command} is not in the page");
    }
}

#[test]
fn short_version_is_one_line_with_the_commit() {
    let version = env!("CARGO_PKG_VERSION");
    let result = run(&["-V"]);
    result.expect_code(0);
    let lines: Vec<&str> = result.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{result:#?}");
    let line = lines[0];
    // `host 0.1.0 (abc1234)` from a checkout, `host 0.1.0` without one.
    let rest = line
        .strip_prefix(&format!("host {version}"))
        .unwrap_or_else(|| panic!("{line}"));
    assert!(
        rest.is_empty() || (rest.starts_with(" (") && rest.ends_with(')')),
        "{line}"
    );
}

#[test]
fn long_version_lists_the_commit_abi_and_protocol() {
    let result = run(&["--version"]);
    result.expect_code(0);
    let lines: Vec<&str> = result.stdout.lines().collect();
    assert_eq!(lines[0], format!("host {}", env!("CARGO_PKG_VERSION")));
    assert!(lines[1].starts_with("commit: "), "{lines:?}");
    assert!(
        lines.contains(&format!("abi: {}", quack_core::ABI_VERSION).as_str()),
        "{lines:?}"
    );
    assert!(
        lines.contains(
            &format!(
                "protocol: {}",
                quack_host::runner::protocol::PROTOCOL_VERSION
            )
            .as_str()
        ),
        "{lines:?}"
    );
    // The commit -V shows is the one --version shows.
    let short = run(&["-V"]);
    let commit = lines[1].trim_start_matches("commit: ");
    if !commit.starts_with("unknown") {
        assert!(short.stdout.contains(&format!("({commit})")), "{short:#?}");
    }
}
