//! `host worker` run by hand: with a terminal on stdin, or bytes that are not a host's start
//! message, it says on stderr what it is and exits with the usage code (2), writing nothing on
//! stdout, instead of waiting for frames or answering in binary.

use std::{
    io::Write,
    os::fd::{FromRawFd, OwnedFd},
    process::{Child, Stdio},
    time::{Duration, Instant},
};

use quack_tests::{HANG_GUARD, Run, host};

/// Waits for `child` within [`HANG_GUARD`], killing it (and failing) if it does not end.
fn finish(mut child: Child) -> Run {
    let deadline = Instant::now() + HANG_GUARD;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("host worker waited instead of saying what it is");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap().into()
}

#[track_caller]
fn says_what_it_is(result: &Run, fragment: &str) {
    result.expect_code(2);
    let line = result.one_error_line();
    assert!(
        line.contains("host worker is started by host run") && line.contains(fragment),
        "{result:#?}"
    );
    assert!(result.stdout.is_empty(), "{result:#?}");
}

#[test]
fn host_worker_on_a_terminal_says_what_it_is() {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors, owned below exactly once each.
    let opened = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(opened, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and nothing else owns them.
    let (_master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let child = host(&["worker"])
        .stdin(Stdio::from(slave))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    says_what_it_is(&finish(child), "not run by hand");
}

#[test]
fn host_worker_fed_text_says_what_it_is() {
    let mut child = host(&["worker"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"hello, are you a plugin host?\n")
        .unwrap();
    says_what_it_is(&finish(child), "not a start message from a host");
}
