//! Shell integration: completion scripts for bash, zsh and fish, the manual page, and `host -V`
//! and `host --version` with the ABI and worker protocol versions.

use std::{path::Path, process::Command};

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

/// The indented lines of the block of `host completions --help` whose heading starts with
/// `heading`: the commands to type, as documented.
fn documented_lines(heading: &str) -> Vec<String> {
    let help = run(&["completions", "--help"]);
    help.expect_code(0);
    let lines: Vec<&str> = help.stdout.lines().collect();
    let start = lines
        .iter()
        .position(|line| line.starts_with(heading))
        .unwrap_or_else(|| panic!("no `{heading}` in {}", help.stdout));
    lines[start + 1..]
        .iter()
        .take_while(|line| line.starts_with("  "))
        .map(|line| line.trim().to_owned())
        .collect()
}

/// Runs `script` in `shell` (`-c`) with `home` as HOME and the host under test first on PATH.
fn in_home(shell: &str, flags: &[&str], home: &Path, script: &str) -> std::process::Output {
    let host_dir = quack_tests::host_path().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        host_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new(shell)
        .args(flags)
        .arg("-c")
        .arg(script)
        .env("HOME", home)
        .env("PATH", path)
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("ZDOTDIR")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn installed(shell: &str) -> bool {
    Command::new(shell)
        .arg("-c")
        .arg("exit 0")
        .output()
        .is_ok_and(|output| output.status.success())
}

#[test]
fn the_documented_bash_lines_install_completion_in_a_fresh_home() {
    let home = tempfile::tempdir().unwrap();
    let mut lines = documented_lines("Install for bash");
    // No bash-completion package here (nor in CI): ~/.bashrc reads the script, as documented.
    lines.extend(documented_lines("Without the bash-completion package"));
    assert_eq!(lines.len(), 3, "{lines:?}");
    let install = in_home("bash", &["-e"], home.path(), &lines.join("\n"));
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    // An interactive shell reads ~/.bashrc; `complete -p host` names the function.
    let spec = in_home("bash", &["-i"], home.path(), "complete -p host");
    let spec = String::from_utf8_lossy(&spec.stdout).into_owned();
    let function = spec
        .split_whitespace()
        .skip_while(|word| *word != "-F")
        .nth(1)
        .unwrap_or_else(|| panic!("no completion for host: {spec:?}"))
        .to_owned();
    let complete = format!(
        "COMP_WORDS=(host ru); COMP_CWORD=1; COMP_LINE='host ru'; COMP_POINT=7; {function} host ru host; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    );
    let words = in_home("bash", &["-i"], home.path(), &complete);
    let words = String::from_utf8_lossy(&words.stdout).into_owned();
    assert!(words.lines().any(|word| word == "run"), "{words:?}");
    // The README gives the same lines.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    for line in lines
        .iter()
        .chain(&documented_lines("Install for zsh"))
        .chain(&documented_lines("Install for fish"))
    {
        assert!(
            readme.contains(&format!("\n{line}\n")),
            "the README lacks `{line}`"
        );
    }
}

#[test]
fn the_documented_zsh_and_fish_lines_install_completion_where_those_shells_are() {
    for (shell, heading, check, expected) in [
        (
            "zsh",
            "Install for zsh",
            "print -r -- ${_comps[host]}",
            "_host",
        ),
        ("fish", "Install for fish", "complete -C'host ru'", "run"),
    ] {
        if !installed(shell) {
            eprintln!("{shell} is not installed: its install lines are not tried");
            continue;
        }
        let home = tempfile::tempdir().unwrap();
        let lines = documented_lines(heading);
        let install = in_home("sh", &["-e"], home.path(), &lines.join("\n"));
        assert!(
            install.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&install.stderr)
        );
        let flags: &[&str] = if shell == "zsh" { &["-i"] } else { &[] };
        let answer = in_home(shell, flags, home.path(), check);
        let answer = String::from_utf8_lossy(&answer.stdout).into_owned();
        assert!(
            answer
                .lines()
                .any(|line| line.split('\t').next() == Some(expected)),
            "{shell}: {answer:?}"
        );
    }
}

#[test]
fn man_writes_a_page_per_command_and_the_top_page_names_only_pages_that_exist() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("man1");
    let result = run(&["man", "--dir", pages.to_str().unwrap()]);
    result.expect_code(0);
    let mut names: Vec<String> = std::fs::read_dir(&pages)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "host-compare.1",
            "host-completions.1",
            "host-inspect.1",
            "host-list.1",
            "host-man.1",
            "host-new.1",
            "host-report.1",
            "host-run.1",
            "host.1"
        ]
    );
    let top = std::fs::read_to_string(pages.join("host.1")).unwrap();
    let see_also = top
        .split(".SH \"SEE ALSO\"\n")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_else(|| panic!("no SEE ALSO: {top}"));
    let named: Vec<String> = see_also
        .replace("\\-", "-")
        .split(", ")
        .map(|name| name.trim_end_matches("(1)").to_owned())
        .collect();
    assert_eq!(named.len(), 8, "{see_also}");
    for name in named {
        assert!(
            pages.join(format!("{name}.1")).is_file(),
            "SEE ALSO names {name}, which is not there"
        );
    }
    // One page printed by name is the file's page.
    let run_page = run(&["man", "run"]);
    run_page.expect_code(0);
    assert_eq!(
        run_page.stdout,
        std::fs::read_to_string(pages.join("host-run.1")).unwrap()
    );
    assert!(
        run_page.stdout.contains("\n.TH host-run 1"),
        "{}",
        run_page.stdout
    );
    assert!(
        run_page.stdout.contains(".SH EXAMPLES"),
        "{}",
        run_page.stdout
    );
    run(&["man", "frobnicate"]).expect_code(2);
}

#[test]
fn the_exit_codes_render_as_a_list() {
    if !installed("groff") && Command::new("groff").arg("-v").output().is_err() {
        eprintln!("groff is not installed: the page is not rendered");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("host.1");
    std::fs::write(&page, run(&["man"]).stdout).unwrap();
    let rendered = Command::new("groff")
        .args(["-man", "-Tutf8", "-P-cbou"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let text = String::from_utf8_lossy(&rendered.stdout).into_owned();
    let section: Vec<&str> = text
        .lines()
        .skip_while(|line| line.trim() != "EXIT STATUS")
        .skip(1)
        .take_while(|line| line.is_empty() || line.starts_with(' '))
        .collect();
    let item = |code: &str, words: &str| {
        section.iter().any(|line| {
            let line = line.trim_start();
            line.starts_with(&format!("{code} ")) && line.contains(words)
        })
    };
    assert!(item("0", "success: every task ended ok"), "{section:#?}");
    assert!(
        item("1", "the run finished but some tasks failed"),
        "{section:#?}"
    );
    assert!(
        item("141", "the reader of stdout went away"),
        "{section:#?}"
    );
    // Each code starts a line of its own: none runs on into the next.
    assert!(
        !section
            .iter()
            .any(|line| line.contains("success") && line.contains("the run finished"))
    );
}
