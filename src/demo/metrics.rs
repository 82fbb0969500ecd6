//! The demo target's `GET /metrics`, in Prometheus' text format, with the names common
//! servers use, so that the server's side of a test can be read next to the load:
//! `http_requests_total{status}` (counted as answers leave), `db_connections_in_use` and
//! `db_connections_max` (the pool and its ceiling), `db_connections_in_use_peak` (the most
//! held at once since the previous scrape), `db_connections_refused_total` (the
//! "Too many connections" answers), and on Linux `process_cpu_seconds_total` and
//! `process_resident_memory_bytes` of the process, which under `surge demo` is Surge itself
//! too (`surge demo --target-only` runs the target alone).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// What the target counts for its metrics.
#[derive(Debug, Default)]
pub struct Counters {
    by_status: Mutex<BTreeMap<u16, u64>>,
    refused: AtomicU64,
}

impl Counters {
    /// One answer with `status` left.
    pub fn answered(&self, status: u16) {
        if let Ok(mut m) = self.by_status.lock() {
            *m.entry(status).or_default() += 1;
        }
    }

    /// One request refused for want of a connection.
    pub fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition: counters so far, and the pool's `in_use` of `max` now (`peak`: the
    /// most in use at once since the previous scrape).
    pub fn exposition(&self, in_use: usize, peak: usize, max: usize) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, samples: Vec<String>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for s in samples {
                let _ = writeln!(out, "{s}");
            }
        };
        let statuses = self.by_status.lock().map(|m| m.clone()).unwrap_or_default();
        family(
            "http_requests_total",
            "counter",
            "Answers sent, by status.",
            statuses
                .iter()
                .map(|(s, n)| format!("http_requests_total{{status=\"{s}\"}} {n}"))
                .collect(),
        );
        family(
            "db_connections_in_use",
            "gauge",
            "Database connections held by requests now.",
            vec![format!("db_connections_in_use {in_use}")],
        );
        family(
            "db_connections_in_use_peak",
            "gauge",
            "The most database connections held at once since the previous scrape of /metrics.",
            vec![format!("db_connections_in_use_peak {peak}")],
        );
        family(
            "db_connections_max",
            "gauge",
            "Size of the connection pool.",
            vec![format!("db_connections_max {max}")],
        );
        family(
            "db_connections_refused_total",
            "counter",
            "Requests answered 500 Too many connections (the pool was full).",
            vec![format!(
                "db_connections_refused_total {}",
                self.refused.load(Ordering::Relaxed)
            )],
        );
        if let Some((cpu, rss)) = process() {
            family(
                "process_cpu_seconds_total",
                "counter",
                "CPU time of the process (user and system).",
                vec![format!("process_cpu_seconds_total {cpu}")],
            );
            family(
                "process_resident_memory_bytes",
                "gauge",
                "Resident memory of the process.",
                vec![format!("process_resident_memory_bytes {rss}")],
            );
        }
        out
    }
}

/// The process's CPU seconds and resident bytes, from `/proc/self` (Linux; 100 ticks a
/// second and 4 KiB pages, as on every Linux Surge runs on).
fn process() -> Option<(f64, u64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(((utime + stime) / 100.0, pages * 4096))
}
