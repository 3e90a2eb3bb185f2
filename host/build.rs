//! Records the git commit the host is built from, for `host --version` and the report: the short
//! hash of HEAD, with `-dirty` when tracked files differ from it, as the environment variable
//! `QUACK_GIT_COMMIT`. Outside a git checkout (a crate from a registry, a tarball) or without git,
//! nothing is recorded. The script runs again when HEAD, the branch it points to, the index or
//! the host's own sources change (an edit elsewhere in the workspace shows as `-dirty` from the
//! next of those on).

use std::{path::Path, process::Command};

/// The trimmed standard output of `git ARGS` in the package's directory, if git ran and succeeded.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // Edits to the host's own sources change whether it is dirty (they rebuild it anyway).
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.toml");
    let Some(commit) = git(&["rev-parse", "--short", "HEAD"]).filter(|hash| !hash.is_empty())
    else {
        return;
    };
    // HEAD itself, the branch file it names (packed refs too) and the index, wherever this
    // checkout (or worktree) keeps them.
    let mut watched = vec![
        "HEAD".to_owned(),
        "index".to_owned(),
        "packed-refs".to_owned(),
    ];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--path-format=absolute", "--git-path", &name]) {
            if Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|changes| !changes.is_empty());
    let suffix = if dirty { "-dirty" } else { "" };
    println!("cargo:rustc-env=QUACK_GIT_COMMIT={commit}{suffix}");
}
