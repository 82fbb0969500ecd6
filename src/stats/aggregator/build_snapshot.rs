//! Building a snapshot at each tick: entries with whole-run and current figures, sorted
//! failures and exceptions, the open model's figures, the generator's health, and one point
//! appended to the bounded history.

use std::collections::VecDeque;

use super::{AggEntry, Aggregator, EntryPoint, RunInfo};
use crate::stats::entry::clamp_ms;
use crate::stats::snapshot::*;

impl Aggregator {
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
        let last_second =
            self.total
                .window
                .last_second(now, &PERCENTILES)
                .map(|f| SecondSnapshot {
                    sec: f.sec,
                    total: EntrySnapshot {
                        method: String::new(),
                        name: "Aggregated".to_string(),
                        num_requests: f.count,
                        num_failures: f.fails,
                        avg_ms: None,
                        min_ms: Some(f.min_ms),
                        max_ms: Some(f.max_ms),
                        avg_size: 0.0,
                        total_rps: f.count as f64,
                        total_fail_per_sec: f.fails as f64,
                        current_rps: f.count as f64,
                        current_fail_per_sec: f.fails as f64,
                        current_percentiles: f.percentiles.clone(),
                        percentiles: f.percentiles,
                    },
                });
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
        let first_failure = failures
            .iter()
            .min_by(|a, b| a.first_seen.total_cmp(&b.first_seen))
            .map(|f| FirstFailure {
                time: f.first_seen,
                users: self.users_after(info, f.first_seen),
                rate: info.target_rate,
                method: f.method.clone(),
                name: f.name.clone(),
                message: f.message.clone(),
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
            first_failure,
            last_second,
            threshold_crossings: Vec::new(),
            server: None,
            marks: Vec::new(),
        };
        let point = HistoryPoint::of(&snapshot);
        push_capped(&mut self.history, point, self.limits.history_points);
        snapshot
    }

    /// The users at the first tick after `time` (the load that met a failure then, within a
    /// second); this tick's when it is that recent. Once found in the history it is kept,
    /// so that the history is not searched again every tick.
    fn users_after(&mut self, info: &RunInfo, time: f64) -> u32 {
        if let Some((t, run, users)) = self.users_after_cache {
            if t == time && run == info.run {
                return users;
            }
        }
        match self
            .history
            .iter()
            .find(|p| p.run == info.run && p.time as f64 > time)
        {
            Some(p) => {
                self.users_after_cache = Some((time, info.run, p.user_count));
                p.user_count
            }
            None => info.user_count,
        }
    }

    /// The last tick's health figures, with each range's warning worded.
    fn generator_snapshot(&self, start: f64) -> GeneratorSnapshot {
        let mut g = self.generator.clone();
        for r in &mut g.ranges {
            r.message = r.describe(start);
        }
        g
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
