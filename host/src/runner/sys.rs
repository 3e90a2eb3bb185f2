//! What the runner asks of the machine and says about processes: the cores it may use, the host
//! name, how a process ended and how long a limit is, in words, and a relay of a pipe's lines.

use std::{
    io::{BufRead, BufReader, ErrorKind, Read},
    os::unix::process::ExitStatusExt,
    process::ExitStatus,
    time::Duration,
};

/// The number of cores this process may use (asked once: the standard library reads the
/// cgroup's files every time).
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |count| count.get()))
}

/// This machine's host name (`gethostname`), if it has one that is valid text.
pub fn host_name() -> Option<String> {
    let mut buffer = [0u8; 256];
    // SAFETY: gethostname writes at most `buffer.len()` bytes into the buffer it is given.
    let result = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if result != 0 {
        return None;
    }
    let end = buffer
        .iter()
        .position(|&byte| byte == 0)
        .unwrap_or(buffer.len());
    std::str::from_utf8(&buffer[..end])
        .ok()
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
}

/// How a process ended, for people: `SIGSEGV (segmentation fault)`, `exit code 3`.
pub fn describe_exit(status: ExitStatus) -> String {
    if let Some(signal) = status.signal() {
        let name = match signal {
            libc::SIGSEGV => "SIGSEGV (segmentation fault)",
            libc::SIGABRT => "SIGABRT (aborted)",
            libc::SIGKILL => "SIGKILL",
            libc::SIGTERM => "SIGTERM",
            libc::SIGBUS => "SIGBUS (bus error)",
            libc::SIGILL => "SIGILL (illegal instruction)",
            libc::SIGFPE => "SIGFPE (arithmetic error)",
            libc::SIGPIPE => "SIGPIPE (broken pipe)",
            libc::SIGINT => "SIGINT",
            other => return format!("signal {other}"),
        };
        return name.to_owned();
    }
    match status.code() {
        Some(code) => format!("exit code {code}"),
        None => "an unknown cause".to_owned(),
    }
}

/// The signal that a reason written with [`describe_exit`] names (`SIGSEGV (segmentation
/// fault)`, `signal 31`), if it names one.
pub fn signal_named(reason: &str) -> Option<i32> {
    const NAMED: [(&str, i32); 9] = [
        ("SIGSEGV", libc::SIGSEGV),
        ("SIGABRT", libc::SIGABRT),
        ("SIGKILL", libc::SIGKILL),
        ("SIGTERM", libc::SIGTERM),
        ("SIGBUS", libc::SIGBUS),
        ("SIGILL", libc::SIGILL),
        ("SIGFPE", libc::SIGFPE),
        ("SIGPIPE", libc::SIGPIPE),
        ("SIGINT", libc::SIGINT),
    ];
    if let Some((_, signal)) = NAMED.iter().find(|(name, _)| reason.contains(name)) {
        return Some(*signal);
    }
    let (_, after) = reason.split_once("signal ")?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// A limit for people, in the largest unit that shows it whole: `2s`, `500ms`, `250us`, `1ns`;
/// a limit that is not a whole number of any of them is shown in the next unit down.
pub fn human_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    for (unit, size) in [("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)] {
        if nanos % size == 0 {
            return format!("{}{unit}", nanos / size);
        }
    }
    format!("{nanos}ns")
}

/// Calls `line` with each line read from `pipe` (without its newline; bytes that are not UTF-8
/// shown as replacement characters) until the pipe ends or cannot be read.
pub fn for_each_line(pipe: impl Read, mut line: impl FnMut(&str)) {
    let mut reader = BufReader::with_capacity(1 << 16, pipe);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer) {
            Ok(0) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&buffer);
                line(text.strip_suffix('\n').unwrap_or(&text));
            }
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_shown_in_a_unit_that_keeps_it() {
        let cases = [
            (Duration::from_secs(2), "2s"),
            (Duration::from_millis(500), "500ms"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::from_micros(250), "250us"),
            (Duration::from_nanos(1), "1ns"),
            (Duration::from_nanos(1_000_001), "1000001ns"),
            (Duration::ZERO, "0s"),
        ];
        for (duration, shown) in cases {
            assert_eq!(human_duration(duration), shown, "{duration:?}");
        }
    }

    #[test]
    fn lines_are_relayed_without_their_newline_and_the_last_without_one_too() {
        let mut lines = Vec::new();
        for_each_line(&b"one\ntwo \xff\nthree"[..], |line| {
            lines.push(line.to_owned())
        });
        assert_eq!(lines, ["one", "two \u{fffd}", "three"]);
    }
}
