//! CPU time, for the generator's health figures: of the calling thread (each worker's), of
//! Surge's whole process and of the whole machine (to tell a busy Surge from a busy host).
//!
//! Read from `/proc/thread-self/stat`, `/proc/self/stat` (utime + stime) and `/proc/stat`
//! (every CPU's user, nice, system, idle, iowait, irq, softirq and steal time), all in the
//! kernel's fixed 100 Hz user ticks: small reads, no `unsafe`, no extra crate. Elsewhere
//! than Linux the figures are unknown and the health checks use scheduling lag alone.

use std::time::Duration;

use crate::stats::health::HostLoad;

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

/// Every CPU's times from the first line of `/proc/stat`: (busy, steal, total) in ticks,
/// and the number of `cpuN` lines. Busy is user + nice + system + irq + softirq (guest time
/// is inside user already); total adds idle, iowait and steal.
fn parse_proc_stat(stat: &str) -> Option<(u64, u64, u64, u32)> {
    let mut lines = stat.lines();
    let all = lines.next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = all
        .split_ascii_whitespace()
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let [user, nice, system, idle, iowait, irq, softirq, steal] = v[..] else {
        return None;
    };
    let cores = lines
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count() as u32;
    let busy = user + nice + system + irq + softirq;
    Some((busy, steal, busy + idle + iowait + steal, cores.max(1)))
}

/// One reading of the machine and of Surge's process, to take differences of.
#[derive(Debug, Clone, Copy)]
struct Reading {
    busy: u64,
    steal: u64,
    total: u64,
    cores: u32,
    /// Surge's process: utime + stime, ticks.
    surge: u64,
}

fn read() -> Option<Reading> {
    let (busy, steal, total, cores) =
        parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)?;
    let own = parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
    Some(Reading {
        busy,
        steal,
        total,
        cores,
        surge: own.as_millis() as u64 * USER_HZ / 1000,
    })
}

/// The machine's load between two calls (the aggregator samples it once per tick).
#[derive(Debug, Default)]
pub struct HostSampler {
    last: Option<Reading>,
}

impl HostSampler {
    /// The load since the previous call; `None` on the first call, when nothing moved, or
    /// where `/proc` cannot be read.
    pub fn sample(&mut self) -> Option<HostLoad> {
        let now = read()?;
        let before = self.last.replace(now)?;
        load_between(&before, &now)
    }
}

fn load_between(a: &Reading, b: &Reading) -> Option<HostLoad> {
    let total = b.total.checked_sub(a.total).filter(|t| *t > 0)? as f64;
    let cores = f64::from(b.cores);
    // `total` is summed over every CPU: a share of it times the cores is cores in use.
    let per_core = |ticks: u64| ticks as f64 / total * cores;
    Some(HostLoad {
        cores: b.cores,
        busy_cores: per_core(b.busy.saturating_sub(a.busy)),
        surge_cores: per_core(b.surge.saturating_sub(a.surge)).min(cores),
        steal_cores: per_core(b.steal.saturating_sub(a.steal)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_load_in_cores_from_two_readings() {
        let stat = "cpu  100 10 40 800 20 5 5 20 0 0\ncpu0 50 5 20 400 10 2 3 10 0 0\ncpu1 50 5 20 400 10 3 2 10 0 0\nintr 1 2\n";
        assert_eq!(parse_proc_stat(stat), Some((160, 20, 1000, 2)));
        assert_eq!(parse_proc_stat("garbage"), None);
        let a = Reading {
            busy: 1000,
            steal: 0,
            total: 10_000,
            cores: 2,
            surge: 10,
        };
        // Over 200 ticks of both CPUs (1 s): 190 busy, 10 of them Surge's, 4 stolen.
        let b = Reading {
            busy: 1190,
            steal: 4,
            total: 10_200,
            cores: 2,
            surge: 20,
        };
        let l = load_between(&a, &b).unwrap();
        assert!(
            (l.busy_cores - 1.9).abs() < 1e-9 && (l.surge_cores - 0.1).abs() < 1e-9,
            "{l:?}"
        );
        assert!((l.others_cores() - 1.8).abs() < 1e-9 && (l.steal_cores - 0.04).abs() < 1e-9);
        assert!(l.busy_elsewhere());
        assert_eq!(load_between(&b, &b), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_machine_can_be_sampled() {
        let mut s = HostSampler::default();
        assert_eq!(s.sample(), None);
        std::thread::sleep(Duration::from_millis(50));
        let l = s.sample().expect("a second reading");
        assert!(
            l.cores >= 1 && l.busy_cores <= f64::from(l.cores) + 1e-9,
            "{l:?}"
        );
    }

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
