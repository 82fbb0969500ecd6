//! The generator's own health: whether Surge itself, or the machine it runs on, was the
//! bottleneck while it measured.
//!
//! Every worker reports, with each flush, how much CPU its thread used and how late its
//! periodic timer fired (the event loop's scheduling lag); the aggregator adds its own tick's
//! lateness, in the open model the starts that came late or were dropped, and the machine's
//! load over the tick ([`HostLoad`]: all processes' CPU, Surge's own, steal time). Each tick
//! is judged against fixed thresholds, and overloaded ticks are joined into time ranges that
//! the dashboard, the console, the CSV files and the JSON summary show beside the results.
//!
//! A range has a [`Cause`]. Surge's own worker thread saturated is the *generator*: the
//! figures describe Surge, and more `--workers` (cores) help. Lag while Surge's threads are
//! mostly idle and the machine is busy with other processes (the target beside Surge, as on
//! most laptops) or its virtual CPUs are stolen is the *host*: response times include this
//! machine's delays, and more workers would not help.
//!
//! - `range`: an overloaded stretch of time and its warning in words.
//! - `tracker`: the per-tick judgement that opens and extends the ranges.

mod range;
mod tracker;

use serde::{Deserialize, Serialize};

pub use range::{offset, OverloadRange};
pub use tracker::HealthTracker;

/// A worker thread busier than this share of one core is saturated.
pub const BUSY_CPU_SHARE: f64 = 0.95;
/// Scheduling lag (ms) from which latencies may include the generator's own delay.
pub const LAG_MS: f64 = 20.0;
/// Share of open-model starts that may come late before the rate is no longer held.
pub const LATE_START_SHARE: f64 = 0.01;
/// Late starts within one tick below this many are noise (a descheduled thread), not an
/// overload.
pub const LATE_START_MIN: u64 = 5;
/// The machine is busy with other work when all processes but Surge use this share of its
/// cores (or more)...
pub const HOST_BUSY_SHARE: f64 = 0.5;
/// ... or when the hypervisor takes this share of its virtual CPUs' time (steal).
pub const HOST_STEAL_SHARE: f64 = 0.1;

/// What was the bottleneck in an overloaded range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cause {
    /// Surge's own threads were busy: the figures measure the generator.
    #[default]
    Generator,
    /// Surge's threads were mostly idle while the machine was busy with other processes (or
    /// had its CPUs stolen): response times include this machine's delays.
    Host,
}

/// The whole machine over one tick, in cores (1.0 = one core busy for the whole tick).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct HostLoad {
    /// Cores the machine has.
    pub cores: u32,
    /// Cores busy with any process (Surge included), steal excluded.
    pub busy_cores: f64,
    /// Cores Surge's own process used.
    pub surge_cores: f64,
    /// Cores' worth of time the hypervisor took (steal).
    pub steal_cores: f64,
}

impl HostLoad {
    /// Cores used by every process but Surge.
    pub fn others_cores(&self) -> f64 {
        (self.busy_cores - self.surge_cores).max(0.0)
    }

    /// Whether the machine was busy with work other than Surge's.
    pub fn busy_elsewhere(&self) -> bool {
        let cores = f64::from(self.cores.max(1));
        self.others_cores() >= HOST_BUSY_SHARE * cores
            || self.steal_cores >= HOST_STEAL_SHARE * cores
    }
}

/// What one worker measured about itself since its last flush.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerHealth {
    /// Which worker (CPU shares are per thread, not summed across threads).
    pub worker: u32,
    /// CPU time its thread used, µs (`None` where the platform cannot tell).
    pub cpu_us: Option<u64>,
    /// Wall time the CPU time covers, µs.
    pub wall_us: u64,
    /// Largest lateness of its periodic timer, µs.
    pub max_lag_us: u64,
}

impl WorkerHealth {
    /// Adds a later interval of the same worker.
    pub fn add(&mut self, other: &WorkerHealth) {
        self.worker = other.worker;
        self.cpu_us = match (self.cpu_us, other.cpu_us) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.wall_us += other.wall_us;
        self.max_lag_us = self.max_lag_us.max(other.max_lag_us);
    }
}

/// The generator's health as a snapshot shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GeneratorSnapshot {
    /// Busiest worker thread's CPU over the last tick, percent of one core.
    pub cpu_percent: Option<f64>,
    /// Largest scheduling lag over the last tick (workers' timers and the snapshot tick), ms.
    pub lag_ms: f64,
    /// Whether the last tick was overloaded.
    pub overloaded: bool,
    /// What was the bottleneck in the last tick, when it was overloaded.
    pub cause: Option<Cause>,
    /// The machine over the last tick, when known.
    pub host: Option<HostLoad>,
    /// Every overloaded stretch of the run, oldest first.
    pub ranges: Vec<OverloadRange>,
}
