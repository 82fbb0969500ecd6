//! Merging one worker's delta into the run's totals. Distinct names and failure groups are
//! capped: past a cap, requests go to an overflow row and a warning says why.

use super::{Aggregator, OVERFLOW_FAILURE, OVERFLOW_NAME};
use crate::stats::delta::WorkerStats;
use crate::stats::errors::{FailureKey, Occurrences};
use crate::stats::health::HostLoad;

impl Aggregator {
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
        host: Option<HostLoad>,
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
}
