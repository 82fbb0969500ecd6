//! An overloaded stretch of time ([`OverloadRange`]): its peaks, its cause, and the warning
//! shown for it (times as offsets into the test).

use serde::{Deserialize, Serialize};

use super::{Cause, HostLoad, BUSY_CPU_SHARE, HOST_STEAL_SHARE, LAG_MS};

/// A stretch of time during which the generator was overloaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverloadRange {
    /// Unix seconds.
    pub start: f64,
    pub end: f64,
    /// Busiest worker thread's CPU, percent of one core.
    pub peak_cpu_percent: Option<f64>,
    /// Largest scheduling lag, ms.
    pub peak_lag_ms: f64,
    /// Open model: starts later than 1 ms, and starts dropped, within the range.
    pub late_starts: u64,
    pub dropped_starts: u64,
    /// What was the bottleneck (ranges saved before causes were told apart: generator).
    #[serde(default)]
    pub cause: Cause,
    /// The machine in the range's busiest tick (by other processes' CPU), when known.
    #[serde(default)]
    pub host: Option<HostLoad>,
    /// The warning shown to the user (filled in when a snapshot is built).
    pub message: String,
}

impl OverloadRange {
    /// Seconds covered.
    pub fn duration(&self) -> f64 {
        (self.end - self.start).max(0.0)
    }

    /// The warning for this range, with times as offsets from `start` (the statistics'
    /// start, Unix seconds).
    pub fn describe(&self, start: f64) -> String {
        let (from, to) = (offset(self.start - start), offset(self.end - start));
        match self.cause {
            Cause::Generator => format!(
                "Surge itself was the bottleneck from {from} to {to} into the test ({:.0} s): \
                 {}. Figures in that range measure the generator, not the target: give it more \
                 cores (--workers) or lower the load.",
                self.duration(),
                self.reasons()
            ),
            Cause::Host => format!(
                "This machine was busy with other work from {from} to {to} into the test \
                 ({:.0} s): {}. Response times in that range include this machine's delays: \
                 run the target elsewhere or lower the load.",
                self.duration(),
                self.reasons()
            ),
        }
    }

    /// What went wrong, in words: `a worker thread at 100% CPU, scheduling lag up to 180 ms`
    /// or, for the host, `other processes used 1.9 of 2 cores (Surge 0.02), scheduling lag
    /// up to 180 ms`.
    pub fn reasons(&self) -> String {
        let mut out = Vec::new();
        if let (Cause::Host, Some(h)) = (self.cause, &self.host) {
            out.push(format!(
                "other processes used {:.1} of {} cores (Surge {:.2})",
                h.others_cores(),
                h.cores,
                h.surge_cores
            ));
            if h.steal_cores >= HOST_STEAL_SHARE * f64::from(h.cores.max(1)) {
                out.push(format!(
                    "the hypervisor took {:.1} cores' time (steal)",
                    h.steal_cores
                ));
            }
        }
        if let Some(cpu) = self
            .peak_cpu_percent
            .filter(|c| *c >= BUSY_CPU_SHARE * 100.0)
        {
            out.push(format!("a worker thread at {cpu:.0}% CPU"));
        }
        if self.peak_lag_ms >= LAG_MS {
            out.push(format!("scheduling lag up to {:.0} ms", self.peak_lag_ms));
        }
        let starts =
            |n: u64, what: &str| format!("{n} {what} start{}", if n == 1 { "" } else { "s" });
        if self.late_starts > 0 {
            out.push(starts(self.late_starts, "late"));
        }
        if self.dropped_starts > 0 {
            out.push(starts(self.dropped_starts, "dropped"));
        }
        out.join(", ")
    }
}

/// A time into the test as people read it: `m:ss` or `h:mm:ss`.
pub fn offset(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}
