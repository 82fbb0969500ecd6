//! CPU time of the calling thread, for the generator's health figures.
//!
//! Read from `/proc/thread-self/stat` (utime + stime, in the kernel's fixed 100 Hz user
//! ticks): one small read per worker flush, no `unsafe`, no extra crate. Elsewhere than
//! Linux the figure is unknown and the health checks use scheduling lag alone.

use std::time::Duration;

/// Clock ticks per second of `/proc` times (`USER_HZ`, 100 on every Linux ABI).
const USER_HZ: u64 = 100;

/// CPU time (user + system) the calling thread has used so far.
pub fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    parse_stat(&stat)
}

/// utime + stime from a `/proc/.../stat` line. The command name (field 2) may hold spaces
/// and parentheses, so fields are counted after its last `)`.
fn parse_stat(stat: &str) -> Option<Duration> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    // After the name: state (3), ppid, pgrp, session, tty_nr, tpgid, flags, minflt,
    // cminflt, majflt, cmajflt, utime (14), stime (15).
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 1000 / USER_HZ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utime_and_stime_after_the_name() {
        let line = "4242 (surge worker) 1) R 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0 1 0";
        assert_eq!(parse_stat(line), Some(Duration::from_millis(1750)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn own_thread_time_is_readable_and_grows_while_busy() {
        let before = thread_cpu_time().expect("readable on Linux");
        let mut x = 0u64;
        let start = std::time::Instant::now();
        let mut now = before;
        // Spin until the kernel has charged a tick to this thread (bounded: 5 s of wall time).
        while now <= before && start.elapsed() < Duration::from_secs(5) {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            now = thread_cpu_time().expect("readable on Linux");
        }
        assert!(now > before, "{before:?} -> {now:?}");
    }
}
