//! The plugin cache of workers that must fetch the plugin from the host, against another user on
//! the same machine: the fallback under the temporary directory is used only when the home cache
//! cannot be written and only when it is private; entries planted in the cache (a FIFO, links to
//! an attacker's directory or to `/dev/zero`, a library renamed over a FIFO between the hash and
//! the load) are never what a worker loads, and cost at most a shipping of the plugin.
//!
//! The worker fetches the plugin because a launcher removes the plugin file before it starts the
//! worker (the host has it open and hashed already). The other user is uid 65534 (nobody): tests
//! that need to give it files run only as root (CI runs as root) and say so when skipped.

use std::{
    ffi::CString,
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::Duration,
};

use quack_tests::{LiveRun, assert_valid_report, host, read_report, task_record};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The other user.
const NOBODY: u32 = 65534;

/// What factorize answers for the task 12, and dog never does.
fn factors_of_12() -> Value {
    json!([1, 2, 3, 4, 6, 12])
}

/// A scene for one test: a plugin directory, a home cache (`XDG_CACHE_HOME`) and a temporary
/// directory (`TMPDIR`, where the fallback `quack-<uid>` lives).
struct Scene {
    plugins: TempDir,
    home: TempDir,
    temp: TempDir,
}

impl Scene {
    fn new() -> Self {
        Scene {
            plugins: tempfile::tempdir().unwrap(),
            home: tempfile::tempdir().unwrap(),
            temp: tempfile::tempdir().unwrap(),
        }
    }

    /// A fresh copy of factorize, the plugin every run loads.
    fn plugin(&self) -> PathBuf {
        let path = self.plugins.path().join("libplugin.so");
        std::fs::copy(quack_tests::plugin("factorize"), &path).unwrap();
        path
    }

    /// The hash the host announces for the plugin.
    fn sha256(&self) -> String {
        use sha2::{Digest, Sha256};
        let bytes = std::fs::read(quack_tests::plugin("factorize")).unwrap();
        Sha256::digest(&bytes)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// The home cache's root.
    fn home_root(&self) -> PathBuf {
        self.home.path().join("quack").join("plugins")
    }

    /// The fallback directory, `TMPDIR/quack-<uid>`.
    fn fallback(&self) -> PathBuf {
        // SAFETY: getuid only reads the process's user id.
        let uid = unsafe { libc::getuid() };
        self.temp.path().join(format!("quack-{uid}"))
    }

    /// A home cache that cannot be written: `XDG_CACHE_HOME` names a file.
    fn block_home(&self) -> PathBuf {
        let file = self.home.path().join("not-a-directory");
        std::fs::write(&file, b"a file where the cache would be").unwrap();
        file
    }

    /// Runs task 12 in one worker that must fetch the plugin, with `XDG_CACHE_HOME` at `home`.
    fn run_with_home(&self, home: &Path) -> (quack_tests::Run, Option<Value>) {
        let plugin = self.plugin();
        let hide = format!("sh -c 'rm -f {} && exec \"$@\"' hide", plugin.display());
        let report = self.plugins.path().join("report.json");
        let _ = std::fs::remove_file(&report);
        let mut command = host(&[
            "run",
            plugin.to_str().unwrap(),
            "--launcher",
            &hide,
            "--workers",
            "1",
            "--task",
            "12",
            "--json",
            report.to_str().unwrap(),
        ]);
        command
            .env("XDG_CACHE_HOME", home)
            .env("TMPDIR", self.temp.path());
        limit_memory(&mut command);
        let run = LiveRun::start_command(&mut command, Duration::from_secs(120)).finish();
        let value = report.exists().then(|| read_report(&report, &run));
        (run, value)
    }

    /// [`Scene::run_with_home`] with the scene's own, writable home cache.
    fn run(&self) -> (quack_tests::Run, Option<Value>) {
        self.run_with_home(self.home.path())
    }
}

/// A worker that reads a planted `/dev/zero` to the end must fail, not take the machine with it:
/// the host and its workers get 4 GiB of address space.
fn limit_memory(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe and touches nothing of the parent.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 4 << 30,
                rlim_max: 4 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The run succeeded with factorize's answer: the plugin loaded is the host's.
#[track_caller]
fn assert_factorize_ran(run: &quack_tests::Run, report: &Option<Value>) {
    run.expect_code(0);
    let report = report.as_ref().expect("a report");
    assert_valid_report(report);
    assert_eq!(
        task_record(report, 0)["output"],
        factors_of_12(),
        "{report:#}"
    );
}

/// Whether this test can play the other user; says why not when it cannot.
fn can_be_another_user(test: &str) -> bool {
    // SAFETY: geteuid only reads the process's user id.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        eprintln!("skipped {test}: giving files to uid {NOBODY} needs root (CI runs as root)");
    }
    root
}

fn chown(path: &Path, uid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid)).unwrap();
}

fn mode_of(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

fn mkfifo(path: &Path) {
    let name = CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo reads the NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
}

/// A private entry directory for the plugin's hash in `root` (as a store makes it).
fn entry_dir(root: &Path, sha256: &str) -> PathBuf {
    let dir = root.join(sha256);
    std::fs::create_dir_all(&dir).unwrap();
    for made in [root.parent().unwrap(), root, &dir] {
        std::fs::set_permissions(made, PermissionsExt::from_mode(0o700)).unwrap();
    }
    dir
}

#[test]
fn the_fallback_is_not_looked_in_while_the_home_cache_works() {
    let scene = Scene::new();
    // The very plugin, whole and right, in a private fallback: still the home cache is the only
    // one looked in, so the worker asks for the plugin and keeps it at home.
    let fallback_root = scene.fallback().join("plugins");
    let dir = entry_dir(&fallback_root, &scene.sha256());
    std::fs::copy(quack_tests::plugin("factorize"), dir.join("libplugin.so")).unwrap();
    let (run, report) = scene.run();
    assert_factorize_ran(&run, &report);
    assert!(run.stderr.contains("the host sends the plugin"), "{run:#?}");
    let kept = scene.home_root().join(scene.sha256()).join("libplugin.so");
    assert_eq!(
        std::fs::read(&kept).unwrap(),
        std::fs::read(quack_tests::plugin("factorize")).unwrap()
    );
    // The home cache's directories are made 0700.
    let quack = scene.home.path().join("quack");
    for made in [
        quack.clone(),
        scene.home_root(),
        scene.home_root().join(scene.sha256()),
    ] {
        assert_eq!(mode_of(&made), 0o700, "{made:?}");
    }
}

#[test]
fn a_home_cache_that_cannot_be_written_gives_way_to_a_private_fallback() {
    let scene = Scene::new();
    let blocked = scene.block_home();
    let (run, report) = scene.run_with_home(&blocked);
    assert_factorize_ran(&run, &report);
    let fallback = scene.fallback();
    let root = fallback.join("plugins");
    let kept = root.join(scene.sha256()).join("libplugin.so");
    assert!(kept.is_file(), "{run:#?}");
    for made in [fallback.clone(), root.clone(), root.join(scene.sha256())] {
        assert_eq!(mode_of(&made), 0o700, "{made:?}");
    }
    // The next run finds it there and asks for nothing.
    let (again, report) = scene.run_with_home(&blocked);
    assert_factorize_ran(&again, &report);
    assert!(
        !again.stderr.contains("the host sends the plugin"),
        "{again:#?}"
    );
}

/// The fallback's refusal: exit 1 (the worker could not start) with the sentence naming the
/// directory and what to do.
#[track_caller]
fn assert_fallback_refused(run: &quack_tests::Run, fallback: &Path, reason: &str) {
    assert_ne!(run.code, Some(0), "{run:#?}");
    let expected = format!(
        "the plugin cache directory {} {reason}, so another user could change the plugins workers load; remove it, or set XDG_CACHE_HOME to a directory of your own",
        fallback.display()
    );
    assert!(run.stderr.contains(&expected), "{expected}\n{run:#?}");
    assert!(!run.stderr.contains("panicked at"), "{run:#?}");
}

#[test]
fn a_fallback_directory_of_another_user_is_refused() {
    if !can_be_another_user("a_fallback_directory_of_another_user_is_refused") {
        return;
    }
    let scene = Scene::new();
    let blocked = scene.block_home();
    let fallback = scene.fallback();
    std::fs::create_dir(&fallback).unwrap();
    std::fs::set_permissions(&fallback, PermissionsExt::from_mode(0o700)).unwrap();
    chown(&fallback, NOBODY);
    let (run, _) = scene.run_with_home(&blocked);
    assert_fallback_refused(
        &run,
        &fallback,
        &format!("belongs to another user (uid {NOBODY})"),
    );
    assert_eq!(
        std::fs::read_dir(&fallback).unwrap().count(),
        0,
        "nothing written there"
    );
}

#[test]
fn a_fallback_directory_open_to_others_is_refused() {
    let scene = Scene::new();
    let blocked = scene.block_home();
    let fallback = scene.fallback();
    std::fs::create_dir(&fallback).unwrap();
    std::fs::set_permissions(&fallback, PermissionsExt::from_mode(0o777)).unwrap();
    let (run, _) = scene.run_with_home(&blocked);
    assert_fallback_refused(&run, &fallback, "is open to other users (mode 777)");
    assert_eq!(
        std::fs::read_dir(&fallback).unwrap().count(),
        0,
        "nothing written there"
    );
    // Its plugins directory is checked the same way.
    std::fs::set_permissions(&fallback, PermissionsExt::from_mode(0o700)).unwrap();
    let plugins = fallback.join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    std::fs::set_permissions(&plugins, PermissionsExt::from_mode(0o775)).unwrap();
    let (run, _) = scene.run_with_home(&blocked);
    assert_fallback_refused(&run, &plugins, "is open to other users (mode 775)");
}

#[test]
fn a_fallback_that_is_a_link_to_the_other_users_directory_is_refused() {
    if !can_be_another_user("a_fallback_that_is_a_link_to_the_other_users_directory_is_refused") {
        return;
    }
    let scene = Scene::new();
    let blocked = scene.block_home();
    let attacker = tempfile::tempdir().unwrap();
    std::fs::set_permissions(attacker.path(), PermissionsExt::from_mode(0o777)).unwrap();
    chown(attacker.path(), NOBODY);
    let fallback = scene.fallback();
    std::os::unix::fs::symlink(attacker.path(), &fallback).unwrap();
    chown(&fallback, NOBODY);
    let (run, _) = scene.run_with_home(&blocked);
    assert_fallback_refused(&run, &fallback, "is a symbolic link");
    assert_eq!(
        std::fs::read_dir(attacker.path()).unwrap().count(),
        0,
        "nothing written there"
    );
}

#[test]
fn a_fifo_planted_as_the_entry_neither_stalls_the_worker_nor_is_read() {
    let scene = Scene::new();
    let entry = entry_dir(&scene.home_root(), &scene.sha256()).join("libplugin.so");
    mkfifo(&entry);
    let (run, report) = scene.run();
    assert_factorize_ran(&run, &report);
    assert!(
        run.stderr.contains("is a FIFO (named pipe), not a file")
            && run.stderr.contains("the host sends the plugin"),
        "{run:#?}"
    );
    assert!(
        std::fs::symlink_metadata(&entry).unwrap().is_file(),
        "the FIFO was replaced"
    );
}

#[test]
fn a_link_to_dev_zero_planted_as_the_entry_is_not_read() {
    let scene = Scene::new();
    let entry = entry_dir(&scene.home_root(), &scene.sha256()).join("libplugin.so");
    std::os::unix::fs::symlink("/dev/zero", &entry).unwrap();
    let (run, report) = scene.run();
    assert_factorize_ran(&run, &report);
    assert!(
        run.stderr.contains("is a symbolic link, not a file")
            && run.stderr.contains("the host sends the plugin"),
        "{run:#?}"
    );
    assert!(
        std::fs::symlink_metadata(&entry).unwrap().is_file(),
        "the link was replaced"
    );
}

#[test]
fn a_link_to_the_other_users_directory_cannot_redirect_the_store() {
    let scene = Scene::new();
    // The entry's directory is a link to a directory the other user can write, holding their
    // library under the plugin's name.
    let attacker = tempfile::tempdir().unwrap();
    std::fs::copy(
        quack_tests::plugin("dog"),
        attacker.path().join("libplugin.so"),
    )
    .unwrap();
    std::fs::set_permissions(attacker.path(), PermissionsExt::from_mode(0o777)).unwrap();
    let root = scene.home_root();
    let dir = entry_dir(&root, &scene.sha256());
    std::fs::remove_dir(&dir).unwrap();
    std::os::unix::fs::symlink(attacker.path(), &dir).unwrap();
    if unsafe { libc::geteuid() } == 0 {
        chown(attacker.path(), NOBODY);
        chown(&attacker.path().join("libplugin.so"), NOBODY);
    }
    let (run, report) = scene.run();
    assert_factorize_ran(&run, &report);
    let left: Vec<_> = std::fs::read_dir(attacker.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        ["libplugin.so"],
        "nothing written in the other user's directory"
    );
    assert_eq!(
        std::fs::read(attacker.path().join("libplugin.so")).unwrap(),
        std::fs::read(quack_tests::plugin("dog")).unwrap()
    );
    assert!(
        std::fs::symlink_metadata(&dir).unwrap().is_dir(),
        "a real directory now"
    );
    assert_eq!(mode_of(&dir), 0o700);
}

/// The attack that needs no race: the entry is a FIFO that serves the genuine bytes to whoever
/// hashes it, and before it says end-of-file the attacker renames their own library over the
/// entry. A worker that hashed the path and then loaded the path would run the attacker's code;
/// one that loads what it hashed runs factorize (it refuses the FIFO and fetches the plugin).
#[test]
fn a_library_renamed_over_the_entry_while_it_is_hashed_is_not_loaded() {
    let scene = Scene::new();
    let dir = entry_dir(&scene.home_root(), &scene.sha256());
    let entry = dir.join("libplugin.so");
    mkfifo(&entry);
    let swap = dir.join(".attacker.so");
    std::fs::copy(quack_tests::plugin("dog"), &swap).unwrap();
    let genuine = std::fs::read(quack_tests::plugin("factorize")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let attacker = {
        let (stop, entry) = (Arc::clone(&stop), entry.clone());
        thread::spawn(move || serve_then_swap(&entry, &genuine, &swap, &stop))
    };
    let (run, report) = scene.run();
    stop.store(true, Ordering::Relaxed);
    attacker.join().unwrap();
    assert_factorize_ran(&run, &report);
    assert!(!run.stderr.contains("Woof"), "{run:#?}");
}

/// The attacker's side: waits (polling, without blocking) for a reader of the FIFO at `entry`,
/// writes `genuine` into it, renames `swap` over `entry`, then closes the FIFO.
fn serve_then_swap(entry: &Path, genuine: &[u8], swap: &Path, stop: &AtomicBool) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    while !stop.load(Ordering::Relaxed) {
        // Opening a FIFO for writing without blocking fails until someone opens it to read.
        let opened = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(entry);
        let Ok(mut fifo) = opened else {
            thread::sleep(Duration::from_millis(1));
            continue;
        };
        // Back to blocking writes: the reader takes the bytes at its pace.
        // SAFETY: fcntl on a descriptor this function owns.
        unsafe {
            use std::os::fd::AsRawFd;
            libc::fcntl(fifo.as_raw_fd(), libc::F_SETFL, 0);
        }
        let _ = fifo.write_all(genuine);
        let _ = std::fs::rename(swap, entry);
        drop(fifo);
        return;
    }
}

/// Runs task 12 as the user nobody, in one worker that must fetch the plugin, with the temporary
/// directory `temp` (sticky and open to all, as /tmp is) and a home cache nobody cannot write.
fn run_as_nobody(temp: &Path) -> quack_tests::Run {
    use std::os::unix::process::CommandExt;
    let work = tempfile::tempdir().unwrap();
    std::fs::set_permissions(work.path(), PermissionsExt::from_mode(0o755)).unwrap();
    chown(work.path(), NOBODY);
    let plugin = work.path().join("libplugin.so");
    std::fs::copy(quack_tests::plugin("factorize"), &plugin).unwrap();
    chown(&plugin, NOBODY);
    let unwritable = tempfile::tempdir().unwrap();
    std::fs::set_permissions(unwritable.path(), PermissionsExt::from_mode(0o755)).unwrap();
    let hide = format!("sh -c 'rm -f {} && exec \"$@\"' hide", plugin.display());
    let shared = quack_tests::ForEveryUser::new();
    let mut command = shared.host(&[
        "run",
        plugin.to_str().unwrap(),
        "--launcher",
        &hide,
        "--workers",
        "1",
        "--task",
        "12",
    ]);
    command
        .env("XDG_CACHE_HOME", unwritable.path())
        .env("TMPDIR", temp)
        .current_dir(work.path());
    limit_memory(&mut command);
    // SAFETY: setgroups, setgid and setuid are async-signal-safe and touch nothing of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(NOBODY) != 0
                || libc::setuid(NOBODY) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    LiveRun::start_command(&mut command, Duration::from_secs(120)).finish()
}

/// The attack from the other side: the user is nobody, and root (playing the other user) made
/// nobody's predictable `quack-65534` first, in a temporary directory open to all.
#[test]
fn a_fallback_another_user_made_first_is_refused_by_the_user_it_is_named_for() {
    if !can_be_another_user(
        "a_fallback_another_user_made_first_is_refused_by_the_user_it_is_named_for",
    ) {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(temp.path(), PermissionsExt::from_mode(0o1777)).unwrap();
    // Without the other user's directory: nobody's run makes its own, private.
    let run = run_as_nobody(temp.path());
    run.expect_code(0);
    assert!(run.stdout.contains("12 -> [1, 2, 3, 4, 6, 12]"), "{run:#?}");
    let fallback = temp.path().join(format!("quack-{NOBODY}"));
    let metadata = std::fs::symlink_metadata(&fallback).unwrap();
    assert_eq!((metadata.uid(), metadata.mode() & 0o7777), (NOBODY, 0o700));
    std::fs::remove_dir_all(&fallback).unwrap();

    // Made first by root, readable by all, with a plugins directory inside.
    std::fs::create_dir_all(fallback.join("plugins")).unwrap();
    for made in [fallback.clone(), fallback.join("plugins")] {
        std::fs::set_permissions(&made, PermissionsExt::from_mode(0o755)).unwrap();
    }
    let run = run_as_nobody(temp.path());
    assert_fallback_refused(&run, &fallback, "belongs to another user (uid 0)");
}
