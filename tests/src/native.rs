//! The plugins written in C, C++ and Go (`examples/c`, `examples/cpp`, `examples/go`) and the C
//! fixtures (`tests/native/`), built with the system's compilers once per test run into
//! `target/native/`, exactly as the README's build lines build them.
//!
//! A compiler that is missing skips the tests that need it, with a line saying so, except on CI
//! (`CI=true`), where it fails them: CI installs every compiler (`.ci/run`), so a skip there would
//! hide that the tests never ran.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::Command,
    sync::Mutex,
};

/// The checkout's root directory.
fn root() -> PathBuf {
    super::package_dir()
        .parent()
        .expect("the tests package is inside the checkout")
        .to_path_buf()
}

/// Where the libraries go: `target/native/`.
fn out_dir() -> PathBuf {
    let dir = super::profile_dir()
        .parent()
        .expect("the profile directory is inside target/")
        .join("native");
    std::fs::create_dir_all(&dir).expect("target/native/ made");
    dir
}

/// Whether `program` runs (`--version`).
fn installed(program: &str) -> bool {
    Command::new(program)
        .arg(if program == "go" {
            "version"
        } else {
            "--version"
        })
        .output()
        .is_ok_and(|output| output.status.success())
}

/// `None` (the test skips) when `program` is missing outside CI; on CI, a failure.
fn compiler(program: &str, language: &str) -> Option<()> {
    if installed(program) {
        return Some(());
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "`{program}` is not installed, and CI must run the {language} plugin tests: install it (.ci/run does)"
    );
    eprintln!("skipped: `{program}` is not installed, so the {language} plugin cannot be built");
    None
}

/// Builds `file` in `target/native/` once per test run with `build(output path)`, which runs the
/// compiler; the library is written beside its place and renamed into it when whole.
fn built(file: &str, build: impl FnOnce(&Path) -> Command) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(path) = built.get(file) {
        return path.clone();
    }
    let path = out_dir().join(file);
    let partial = out_dir().join(format!(".{file}.partial"));
    let mut command = build(&partial);
    let output = command.output().expect("the compiler starts");
    assert!(
        output.status.success(),
        "building {file} failed: {command:?}\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::rename(&partial, &path).expect("the library renamed into place");
    built.insert(file.to_owned(), path.clone());
    path
}

/// A C compiler command for a shared library from `source` (relative to the checkout, or
/// absolute), with the `-D` switches `defines`.
fn cc(source: impl AsRef<Path>, defines: &[&str], out: &Path) -> Command {
    let root = root();
    let mut command = Command::new("cc");
    command
        .args(["-O2", "-Wall", "-Werror", "-shared", "-fPIC", "-I"])
        .arg(root.join("sdk/c"))
        .args(defines.iter().map(|define| format!("-D{define}")))
        .arg("-o")
        .arg(out)
        .arg(root.join(source.as_ref()));
    command
}

/// The C plugin whose source is `source`, built as `file` (once per test run).
pub fn c_file(source: &Path, file: &str) -> Option<PathBuf> {
    compiler("cc", "C")?;
    Some(built(file, |out| cc(source, &[], out)))
}

/// `examples/c/factorize.c`: the naive factorizer in C, Splittable.
pub fn c_factorize() -> Option<PathBuf> {
    compiler("cc", "C")?;
    Some(built("libc_factorize.so", |out| {
        cc("examples/c/factorize.c", &[], out)
    }))
}

/// `tests/native/misbehave.c`, its table as the `-D` switch `variant` makes it (`None`: the
/// plain one, whose tasks misbehave on request; `Some("MAJOR_PLUS_ONE")`, ...).
pub fn c_misbehave(variant: Option<&str>) -> Option<PathBuf> {
    compiler("cc", "C")?;
    let file = match variant {
        None => "libc_misbehave.so".to_owned(),
        Some(variant) => format!("libc_misbehave_{}.so", variant.to_lowercase()),
    };
    let defines: Vec<&str> = variant.into_iter().collect();
    Some(built(&file, |out| {
        cc("tests/native/misbehave.c", &defines, out)
    }))
}

/// `examples/cpp/animal.cpp`: an Animal in C++.
pub fn cpp_animal() -> Option<PathBuf> {
    compiler("c++", "C++")?;
    Some(built("libcpp_animal.so", |out| {
        let root = root();
        let mut command = Command::new("c++");
        command
            .args([
                "-O2",
                "-std=c++17",
                "-Wall",
                "-Werror",
                "-shared",
                "-fPIC",
                "-I",
            ])
            .arg(root.join("sdk/c"))
            .arg("-o")
            .arg(out)
            .arg(root.join("examples/cpp/animal.cpp"));
        command
    }))
}

/// `examples/go/factorize`: the seed's Go factorize as a c-shared library.
pub fn go_factorize() -> Option<PathBuf> {
    compiler("go", "Go")?;
    Some(built("libgo_factorize.so", |out| {
        let mut command = Command::new("go");
        command
            .args(["build", "-buildmode=c-shared", "-o"])
            .arg(out)
            .arg(".")
            .current_dir(root().join("examples/go/factorize"))
            .env("CGO_ENABLED", "1");
        // Go keeps its build cache and module path under $HOME; a CI job may have none.
        if std::env::var_os("HOME").is_none() {
            let go = out_dir().join("go");
            command
                .env("GOCACHE", go.join("cache"))
                .env("GOPATH", go.join("path"));
        }
        command
    }))
}
