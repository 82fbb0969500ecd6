//! The aggregator: merges worker deltas into run totals, keeps the bounded per-second
//! history, and builds snapshots.
//!
//! It is owned by one task; workers never touch it. Memory is bounded whatever the target
//! does: distinct names and failure groups are capped (an overflow row counts the rest) and
//! history keeps a fixed number of points.
//!
//! - `merge`: merging one worker's delta, with the caps on names and failure groups.
//! - `build_snapshot`: building a snapshot (and a history point) at each tick.

mod build_snapshot;
mod merge;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::entry::StatsEntry;
use super::errors::{ExceptionKey, FailureKey, Occurrences};
use super::health::HealthTracker;
use super::snapshot::*;
use super::tracked::TrackedQuantiles;
use super::window::Window;

/// Caps that keep memory bounded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Distinct (method, name) entries; further names go to an overflow entry.
    pub max_names: usize,
    /// Distinct failure groups; further messages go to an overflow group.
    pub max_failure_groups: usize,
    /// Distinct exception groups.
    pub max_exception_groups: usize,
    /// Aggregated history points kept (one per tick).
    pub history_points: usize,
    /// Per-entry history points kept (10 minutes: 1000 names stay under ~20 MB).
    pub entry_history_points: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_names: 1000,
            max_failure_groups: 1000,
            max_exception_groups: 1000,
            history_points: super::HISTORY_POINTS,
            entry_history_points: 600,
        }
    }
}

/// Name of the entry that collects requests beyond [`Limits::max_names`].
pub const OVERFLOW_NAME: &str = "(other names)";
/// Message of the group that collects failures beyond [`Limits::max_failure_groups`].
pub const OVERFLOW_FAILURE: &str = "(other failures: too many distinct messages)";

/// One per-second point of one entry's history (compact: charts only need these). Seconds
/// in which the entry was idle are not stored: a missing second means zero.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct EntryPoint {
    pub time: u64,
    pub rps: f32,
    pub fail_per_sec: f32,
    pub p50_ms: Option<f32>,
    pub p95_ms: Option<f32>,
}

#[derive(Debug, Default)]
struct AggEntry {
    stats: StatsEntry,
    window: Window,
    history: VecDeque<EntryPoint>,
    /// Whole-run percentiles and the request count they were computed at: an entry that got
    /// no request since the last snapshot is not scanned again.
    percentiles: Option<(u64, Vec<Option<f64>>)>,
    /// Where the whole-run percentiles are in `stats`' histogram, followed as deltas merge.
    tracked: TrackedQuantiles,
}

/// What the engine tells the aggregator about the run when a snapshot is built.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub state: RunState,
    pub user_count: u32,
    pub run: u32,
    pub host: String,
    /// Asked arrival rate in open mode.
    pub target_rate: Option<f64>,
}

/// Merged statistics of a run.
pub struct Aggregator {
    limits: Limits,
    entries: BTreeMap<(String, String), AggEntry>,
    total: AggEntry,
    failures: HashMap<FailureKey, Occurrences>,
    exceptions: HashMap<ExceptionKey, u64>,
    scheduled: u64,
    late: u64,
    dropped: u64,
    max_lag_us: u64,
    uncorrected: StatsEntry,
    stats_start: Option<f64>,
    /// When the run was first seen stopped (the drain's end).
    stopped_at: Option<f64>,
    /// When the users were told to stop: whole-run rates end there, and current figures
    /// leave out the drain that follows.
    drain_start: Option<f64>,
    history: VecDeque<HistoryPoint>,
    warnings: Vec<String>,
    health: HealthTracker,
    /// The health figures of the last tick.
    generator: GeneratorSnapshot,
    seq: u64,
    /// The first failure's time, run and the users found after it (see `users_after`).
    users_after_cache: Option<(f64, u32, u32)>,
}

impl Aggregator {
    pub fn new(limits: Limits) -> Aggregator {
        Aggregator {
            limits,
            entries: BTreeMap::new(),
            total: AggEntry::default(),
            failures: HashMap::new(),
            exceptions: HashMap::new(),
            scheduled: 0,
            late: 0,
            dropped: 0,
            max_lag_us: 0,
            uncorrected: StatsEntry::default(),
            stats_start: None,
            stopped_at: None,
            drain_start: None,
            history: VecDeque::new(),
            warnings: Vec::new(),
            health: HealthTracker::default(),
            generator: GeneratorSnapshot::default(),
            seq: 0,
            users_after_cache: None,
        }
    }

    /// Mark the start of statistics (test start or reset) at `now` (Unix seconds).
    pub fn start(&mut self, now: f64) {
        self.stats_start = Some(now);
    }

    /// The users were told to stop at `now`: what finishes from here on is the drain.
    pub fn stopping(&mut self, now: f64) {
        if self.stats_start.is_none() || self.drain_start.is_some() {
            return;
        }
        self.drain_start = Some(now);
        let sec = now.floor() as u64;
        for agg in self.entries.values_mut().chain([&mut self.total]) {
            agg.window.freeze(sec);
        }
    }

    /// Clear all statistics (not the history of charts), starting afresh at `now`.
    pub fn reset(&mut self, now: f64) {
        let history = std::mem::take(&mut self.history);
        let seq = self.seq;
        *self = Aggregator::new(self.limits);
        self.history = history;
        self.seq = seq;
        self.stats_start = Some(now);
    }
    /// The aggregated per-second history (oldest first).
    pub fn history(&self) -> &VecDeque<HistoryPoint> {
        &self.history
    }

    /// One entry's per-second history, if the entry exists.
    pub fn entry_history(&self, method: &str, name: &str) -> Option<&VecDeque<EntryPoint>> {
        self.entries
            .get(&(name.to_string(), method.to_string()))
            .map(|e| &e.history)
    }

    /// The merged totals, for exact comparison and serialisation.
    pub fn total(&self) -> &StatsEntry {
        &self.total.stats
    }

    /// Every entry's merged statistics as (method, name, entry), then Aggregated (method
    /// ""): the histograms a saved run keeps.
    pub fn entry_stats(&self) -> Vec<(String, String, StatsEntry)> {
        let total = (
            String::new(),
            "Aggregated".to_string(),
            self.total.stats.clone(),
        );
        let entries = self.entries.iter();
        entries
            .map(|((name, method), e)| (method.clone(), name.clone(), e.stats.clone()))
            .chain(std::iter::once(total))
            .collect()
    }
}
