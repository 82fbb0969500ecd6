//! The aggregator: merges worker deltas into run totals, keeps the bounded per-second
//! history, and builds snapshots.
//!
//! It is owned by one task; workers never touch it. Memory is bounded whatever the target
//! does: distinct names and failure groups are capped (an overflow row counts the rest) and
//! history keeps a fixed number of points.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::delta::WorkerStats;
use super::entry::{clamp_ms, StatsEntry};
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

    /// Merge one worker's delta that arrived at `now`.
    pub fn merge(&mut self, delta: WorkerStats, now: f64) {
        let sec = now.floor() as u64;
        let (entries, rest) = delta.into_entries();
        for e in entries {
            let key = (e.name, e.method);
            let key =
                if self.entries.contains_key(&key) || self.entries.len() < self.limits.max_names {
                    key
                } else {
                    self.warn_once(format!(
                        "more than {} distinct request names: the rest are counted under \"{}\"; \
                     set `name` on requests whose URL varies (e.g. name = \"/item/[id]\")",
                        self.limits.max_names, OVERFLOW_NAME
                    ));
                    (OVERFLOW_NAME.to_string(), key.1)
                };
            let agg = self.entries.entry(key).or_default();
            agg.tracked.note(&e.stats.hist);
            agg.stats += &e.stats;
            agg.window.add(sec, &e.stats);
        }
        self.total.tracked.note(&rest.total.hist);
        self.total.stats += &rest.total;
        self.total.window.add(sec, &rest.total);
        // Earliest first: when a delta would pass the cap, the groups go to the messages
        // seen first, so a steady error is not pushed into the overflow by a burst of
        // distinct ones that arrived in the same flush.
        let mut failures: Vec<_> = rest.failures.into_iter().collect();
        failures.sort_by(|a, b| a.1.first_seen.total_cmp(&b.1.first_seen));
        for (key, occ) in failures {
            let key = if self.failures.contains_key(&key)
                || self.failures.len() < self.limits.max_failure_groups
            {
                key
            } else {
                self.warn_once(format!(
                    "more than {} distinct failure messages: the rest are counted under \"{}\"",
                    self.limits.max_failure_groups, OVERFLOW_FAILURE
                ));
                FailureKey {
                    method: String::new(),
                    name: String::new(),
                    message: OVERFLOW_FAILURE.to_string(),
                }
            };
            self.failures
                .entry(key)
                .or_insert_with(|| Occurrences { count: 0, ..occ })
                .merge(&occ);
        }
        for (key, n) in rest.exceptions {
            if self.exceptions.contains_key(&key)
                || self.exceptions.len() < self.limits.max_exception_groups
            {
                *self.exceptions.entry(key).or_default() += n;
            }
        }
        self.scheduled += rest.open.scheduled;
        self.late += rest.open.late;
        self.dropped += rest.open.dropped;
        self.max_lag_us = self.max_lag_us.max(rest.open.max_lag_us);
        self.uncorrected += &rest.open.uncorrected;
        if rest.health.wall_us > 0 {
            self.health.report(&rest.health);
        }
    }

    /// Judges the generator's health over the tick ending at `now`, whose own timer fired
    /// `tick_lag_us` late, given the machine's load over it (called once per periodic
    /// snapshot, before it is built).
    pub fn health_tick(
        &mut self,
        now: f64,
        running: bool,
        tick_lag_us: u64,
        host: Option<super::health::HostLoad>,
    ) {
        self.health.tick_lag(tick_lag_us);
        self.generator = self.health.tick(
            now,
            running,
            (self.scheduled, self.late, self.dropped),
            host,
        );
    }

    fn warn_once(&mut self, message: String) {
        if !self.warnings.contains(&message) {
            self.warnings.push(message);
        }
    }

    /// Add a warning shown with the results (kept across resets until the engine clears it).
    pub fn warn(&mut self, message: String) {
        self.warn_once(message);
    }

    /// Build a snapshot at `now` and append one history point.
    pub fn snapshot(&mut self, now: f64, info: &RunInfo) -> Snapshot {
        self.seq += 1;
        let start = self.stats_start.unwrap_or(now);
        match info.state {
            RunState::Stopped => {
                if self.stopped_at.is_none() && self.stats_start.is_some() {
                    // The first snapshot of a stopped run is published right after the drain.
                    self.stopped_at = Some(now);
                }
            }
            // A new test resets the aggregator, which clears the drain.
            RunState::Stopping => {}
            _ => self.stopped_at = None,
        }
        let end = self.drain_start.or(self.stopped_at).unwrap_or(now);
        let span = Span {
            now,
            start,
            elapsed: (end - start).max(1e-9),
        };
        let mut entries = Vec::with_capacity(self.entries.len());
        let cap = self.limits.entry_history_points;
        for ((name, method), agg) in self.entries.iter_mut() {
            let snap = entry_snapshot(method, name, agg, &span);
            // Idle entries record nothing (a missing second reads as zero), so thousands of
            // names hit once do not fill memory with zero points; the first zero is kept to
            // mark where traffic stopped.
            let was_busy = agg.history.back().is_some_and(|p| p.rps > 0.0);
            if snap.current_rps > 0.0 || was_busy {
                push_capped(&mut agg.history, entry_point(now, &snap), cap);
            }
            entries.push(snap);
        }
        let total = entry_snapshot("", "Aggregated", &mut self.total, &span);
        let mut failures: Vec<FailureSnapshot> = self
            .failures
            .iter()
            .map(|(k, o)| FailureSnapshot {
                method: k.method.clone(),
                name: k.name.clone(),
                message: k.message.clone(),
                occurrences: o.count,
                first_seen: o.first_seen,
                last_seen: o.last_seen,
            })
            .collect();
        failures.sort_by(|a, b| {
            b.occurrences.cmp(&a.occurrences).then_with(|| {
                (&a.name, &a.method, &a.message).cmp(&(&b.name, &b.method, &b.message))
            })
        });
        let mut exceptions: Vec<ExceptionSnapshot> = self
            .exceptions
            .iter()
            .map(|(k, n)| ExceptionSnapshot {
                message: k.message.clone(),
                origin: k.origin.clone(),
                count: *n,
            })
            .collect();
        exceptions.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.message.cmp(&b.message))
        });
        let open_model = info.target_rate.map(|rate| OpenModelSnapshot {
            target_rate: rate,
            scheduled: self.scheduled,
            late_starts: self.late,
            dropped_starts: self.dropped,
            max_start_lag_ms: self.max_lag_us as f64 / 1000.0,
            // Exact extremes as for every entry: p100 is the true uncorrected max.
            uncorrected_percentiles: self.uncorrected.percentiles_ms(),
        });
        let snapshot = Snapshot {
            seq: self.seq,
            time: now,
            state: info.state,
            user_count: info.user_count,
            run: info.run,
            host: info.host.clone(),
            stats_start: self.stats_start,
            stats_end: self.stopped_at,
            drain_start: self.drain_start,
            entries,
            total,
            failures,
            exceptions,
            open_model,
            warnings: self.warnings.clone(),
            generator: self.generator_snapshot(start),
        };
        let point = HistoryPoint::of(&snapshot);
        push_capped(&mut self.history, point, self.limits.history_points);
        snapshot
    }

    /// The last tick's health figures, with each range's warning worded.
    fn generator_snapshot(&self, start: f64) -> GeneratorSnapshot {
        let mut g = self.generator.clone();
        for r in &mut g.ranges {
            r.message = r.describe(start);
        }
        g
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

fn push_capped<T>(q: &mut VecDeque<T>, item: T, cap: usize) {
    if q.len() >= cap {
        q.pop_front();
    }
    q.push_back(item);
}

fn entry_point(now: f64, s: &EntrySnapshot) -> EntryPoint {
    EntryPoint {
        time: now.floor() as u64,
        rps: s.current_rps as f32,
        fail_per_sec: s.current_fail_per_sec as f32,
        p50_ms: s.current_percentile(0.5).map(|v| v as f32),
        p95_ms: s.current_percentile(0.95).map(|v| v as f32),
    }
}

/// The times one snapshot's figures are taken over.
struct Span {
    now: f64,
    /// When the statistics started.
    start: f64,
    /// Seconds the users ran: whole-run rates are over this.
    elapsed: f64,
}

fn entry_snapshot(method: &str, name: &str, agg: &mut AggEntry, span: &Span) -> EntrySnapshot {
    let current = agg.window.current(span.now, span.start, &PERCENTILES);
    let elapsed = span.elapsed;
    let count = agg.stats.num_requests;
    let percentiles = match &agg.percentiles {
        Some((at, p)) if *at == count => p.clone(),
        _ => {
            let s = &agg.stats;
            let p = clamp_ms(
                agg.tracked.quantiles(&s.hist, &PERCENTILES),
                s.min_us,
                s.max_us,
            );
            agg.percentiles = Some((count, p.clone()));
            p
        }
    };
    let s = &agg.stats;
    EntrySnapshot {
        method: method.to_string(),
        name: name.to_string(),
        num_requests: s.num_requests,
        num_failures: s.num_failures,
        avg_ms: s.avg_ms(),
        min_ms: s.min_ms(),
        max_ms: s.max_ms(),
        avg_size: s.avg_size(),
        total_rps: s.num_requests as f64 / elapsed,
        total_fail_per_sec: s.num_failures as f64 / elapsed,
        current_rps: current.rps,
        current_fail_per_sec: current.fail_per_sec,
        percentiles,
        current_percentiles: current.percentiles,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> RunInfo {
        RunInfo {
            state: RunState::Running,
            user_count: 3,
            run: 1,
            host: "http://x".into(),
            target_rate: None,
        }
    }

    #[test]
    fn percentiles_follow_new_requests_and_are_reused_without() {
        let mut agg = Aggregator::new(Limits::default());
        agg.start(100.0);
        let mut w = WorkerStats::default();
        w.record("GET", "/a", 1_000, 0, None, 100.5);
        agg.merge(w, 100.5);
        let first = agg.snapshot(101.0, &info());
        assert_eq!(first.entries[0].percentile(1.0), Some(1.0));
        let again = agg.snapshot(101.5, &info());
        assert_eq!(again.entries[0].percentiles, first.entries[0].percentiles);
        let mut w = WorkerStats::default();
        w.record("GET", "/a", 9_000, 0, None, 101.7);
        agg.merge(w, 101.7);
        let after = agg.snapshot(102.0, &info());
        assert_eq!(after.entries[0].percentile(1.0), Some(9.0));
        assert_eq!(after.entries[0].percentile(0.5), Some(1.0));
    }

    #[test]
    fn merges_workers_exactly_and_sorts_entries() {
        let mut agg = Aggregator::new(Limits::default());
        agg.start(100.0);
        let mut w1 = WorkerStats::default();
        let mut w2 = WorkerStats::default();
        for i in 0..100u64 {
            w1.record("GET", "/b", 1000 + i, 5, None, 100.5);
            w2.record(
                "GET",
                "/a",
                2000 + i,
                5,
                (i % 4 == 0).then_some("boom 1234567"),
                100.5,
            );
        }
        agg.merge(w1, 100.5);
        agg.merge(w2, 100.6);
        let s = agg.snapshot(110.0, &info());
        assert_eq!(
            s.entries
                .iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>(),
            ["/a", "/b"]
        );
        assert_eq!(s.total.num_requests, 200);
        assert_eq!(s.total.num_failures, 25);
        assert_eq!(s.total.max_ms, Some(2.099));
        assert_eq!(s.total.min_ms, Some(1.0));
        assert_eq!(s.failures.len(), 1);
        assert_eq!(s.failures[0].message, "boom <n>");
        assert_eq!(s.failures[0].occurrences, 25);
        assert!((s.total.total_rps - 20.0).abs() < 1e-9);
        assert_eq!(agg.history().len(), 1);
    }

    #[test]
    fn caps_names_and_failure_groups_with_overflow_rows() {
        let limits = Limits {
            max_names: 10,
            max_failure_groups: 5,
            ..Limits::default()
        };
        let mut agg = Aggregator::new(limits);
        agg.start(0.0);
        let mut w = WorkerStats::default();
        for i in 0..50 {
            w.record(
                "GET",
                &format!("/item/{i}"),
                10,
                0,
                Some(&format!("bad item {i}")),
                1.0,
            );
        }
        agg.merge(w, 1.0);
        let s = agg.snapshot(2.0, &info());
        assert_eq!(s.entries.len(), 11);
        let other = s.entries.iter().find(|e| e.name == OVERFLOW_NAME).unwrap();
        assert_eq!(other.num_requests, 40);
        assert_eq!(s.total.num_requests, 50);
        assert_eq!(s.failures.len(), 6);
        assert_eq!(s.failures.iter().map(|f| f.occurrences).sum::<u64>(), 50);
        assert_eq!(s.warnings.len(), 2);
    }

    /// Past the cap, the names seen first keep their rows, whatever the hash order of the
    /// worker's map (seeded per process): the rows a user sees do not change run to run.
    #[test]
    fn names_past_the_cap_go_to_the_overflow_in_the_order_first_seen() {
        let mut w = WorkerStats::default();
        let cap = Limits::default().max_names;
        for i in 0..cap + 500 {
            w.record("GET", &format!("/item/{i:05}"), 10, 0, None, 1.0);
        }
        // Through serde too, as a delta from another process arrives.
        let json = serde_json::to_string(&w).unwrap();
        let copy: WorkerStats = serde_json::from_str(&json).unwrap();
        for delta in [w, copy] {
            let mut agg = Aggregator::new(Limits::default());
            agg.start(0.0);
            agg.merge(delta, 1.0);
            let s = agg.snapshot(2.0, &info());
            let own: Vec<String> = s
                .entries
                .iter()
                .filter(|e| e.name != OVERFLOW_NAME)
                .map(|e| e.name.clone())
                .collect();
            let first: Vec<String> = (0..cap).map(|i| format!("/item/{i:05}")).collect();
            assert_eq!(own, first);
            let other = s.entries.iter().find(|e| e.name == OVERFLOW_NAME).unwrap();
            assert_eq!(other.num_requests, 500);
        }
    }

    #[test]
    fn failure_groups_go_to_the_earliest_messages() {
        let mut agg = Aggregator::new(Limits {
            max_failure_groups: 10,
            ..Limits::default()
        });
        agg.start(0.0);
        let mut w = WorkerStats::default();
        // Recorded latest first; only the ten seen first get their own group.
        for i in (0..100).rev() {
            let message = format!("error {}", "x".repeat(i));
            w.record("GET", "/", 10, 0, Some(&message), 1.0 + i as f64 / 1000.0);
        }
        agg.merge(w, 1.0);
        let s = agg.snapshot(2.0, &info());
        let mut grouped: Vec<_> = s
            .failures
            .iter()
            .filter(|f| f.message != OVERFLOW_FAILURE)
            .map(|f| f.message.len())
            .collect();
        grouped.sort();
        assert_eq!(grouped, (6..16).collect::<Vec<_>>());
    }

    /// A 30 s run whose stop waits 7 s for slow in-flight requests: rates are over the 30 s
    /// users ran, current figures leave the drain out, and the drain's points are marked.
    #[test]
    fn rates_cover_the_running_time_and_the_drain_is_marked() {
        let mut agg = Aggregator::new(Limits::default());
        agg.start(100.0);
        for sec in 100..130 {
            let mut w = WorkerStats::default();
            for i in 0..12 {
                w.record("GET", "/", 100_000 + i * 1000, 0, None, sec as f64 + 0.5);
            }
            agg.merge(w, sec as f64 + 0.5);
            agg.snapshot(sec as f64 + 1.0, &info());
        }
        agg.stopping(130.0);
        let stopping = RunInfo {
            state: RunState::Stopping,
            ..info()
        };
        // During the drain only a few slow requests finish.
        for sec in 130..137 {
            let mut w = WorkerStats::default();
            w.record("GET", "/", 6_000_000, 0, None, sec as f64 + 0.5);
            agg.merge(w, sec as f64 + 0.5);
            agg.snapshot(sec as f64 + 1.0, &stopping);
        }
        let stopped = RunInfo {
            state: RunState::Stopped,
            ..info()
        };
        let s = agg.snapshot(137.5, &stopped);
        assert_eq!(s.total.num_requests, 30 * 12 + 7);
        // 367 requests over the 30 s users ran (not 367 / 37 = 9.9).
        assert!(
            (s.total.total_rps - 367.0 / 30.0).abs() < 1e-9,
            "{}",
            s.total.total_rps
        );
        assert_eq!((s.drain_start, s.stats_end), (Some(130.0), Some(137.5)));
        // The current rate is what finished in the last 10 s (3 s of 12 and 7 of 1 a second);
        // current percentiles leave the drain out: p100 111 ms, not 6 s.
        assert!(
            (s.total.current_rps - 4.3).abs() < 1e-9,
            "{}",
            s.total.current_rps
        );
        assert_eq!(s.total.current_percentile(1.0), Some(111.0));
        // The whole-run maximum still counts the drain's slow requests.
        assert_eq!(s.total.max_ms, Some(6000.0));
        let history = agg.history();
        let drained: Vec<u64> = history.iter().filter(|p| p.drain).map(|p| p.time).collect();
        // Seven ticks while stopping, and the final snapshot when it had stopped.
        assert_eq!(drained, [131, 132, 133, 134, 135, 136, 137, 137]);
        assert!(history
            .iter()
            .filter(|p| !p.drain)
            .all(|p| p.current_p95_ms < Some(200.0)));
        // Once stopped, later (idle) points are not the drain.
        agg.snapshot(150.0, &stopped);
        assert!(!agg.history().back().unwrap().drain);
        // A new test starts without a drain.
        agg.reset(140.0);
        let fresh = agg.snapshot(141.0, &info());
        assert_eq!(fresh.drain_start, None);
    }

    #[test]
    fn whole_run_rates_freeze_when_the_test_stops() {
        let mut agg = Aggregator::new(Limits::default());
        agg.start(100.0);
        let mut w = WorkerStats::default();
        for _ in 0..80 {
            w.record("GET", "/", 10, 0, None, 104.0);
        }
        agg.merge(w, 104.0);
        let running = agg.snapshot(104.0, &info());
        assert_eq!(running.total.total_rps, 20.0);
        assert_eq!(running.stats_end, None);
        let stopped = RunInfo {
            state: RunState::Stopped,
            ..info()
        };
        let at_stop = agg.snapshot(108.0, &stopped);
        let later = agg.snapshot(130.0, &stopped);
        assert_eq!(at_stop.total.total_rps, 10.0);
        assert_eq!(later.total.total_rps, 10.0);
        assert_eq!(later.stats_end, Some(108.0));
        // A new test (or a reset) starts the clock again.
        agg.reset(140.0);
        assert_eq!(agg.snapshot(141.0, &info()).stats_end, None);
    }

    #[test]
    fn uncorrected_p100_is_the_exact_max() {
        let mut agg = Aggregator::new(Limits::default());
        agg.start(0.0);
        let mut w = WorkerStats::default();
        for us in [5_000u64, 984_468, 12_345] {
            w.record_start(0);
            w.open.uncorrected.record(us, 0, false);
        }
        agg.merge(w, 1.0);
        let info = RunInfo {
            target_rate: Some(100.0),
            ..info()
        };
        let om = agg.snapshot(2.0, &info).open_model.unwrap();
        // The histogram bucket of 984.468 ms ends above it; the reported max must not.
        assert_eq!(
            om.uncorrected_percentiles.last().copied().flatten(),
            Some(984.468)
        );
        assert_eq!(om.scheduled, 3);
    }

    #[test]
    fn idle_entries_record_no_history_points() {
        let mut agg = Aggregator::new(Limits::default());
        agg.start(100.0);
        let mut w = WorkerStats::default();
        w.record("GET", "/once", 10, 0, None, 100.5);
        agg.merge(w, 100.5);
        for t in 101..=130 {
            agg.snapshot(t as f64, &info());
        }
        let h = agg.entry_history("GET", "/once").unwrap();
        // busy while second 100 is in the 10 s window (101..=110), then one zero point.
        assert_eq!(h.len(), 11, "{h:?}");
        assert_eq!(h.back().unwrap().rps, 0.0);
        assert_eq!(agg.history().len(), 30);
    }

    #[test]
    fn reset_clears_figures_but_keeps_chart_history() {
        let mut agg = Aggregator::new(Limits::default());
        agg.start(0.0);
        let mut w = WorkerStats::default();
        w.record("GET", "/", 10, 0, None, 1.0);
        agg.merge(w, 1.0);
        agg.snapshot(2.0, &info());
        agg.reset(3.0);
        let s = agg.snapshot(4.0, &info());
        assert_eq!(s.total.num_requests, 0);
        assert!(s.entries.is_empty());
        assert_eq!(agg.history().len(), 2);
        assert_eq!(s.stats_start, Some(3.0));
    }
}
