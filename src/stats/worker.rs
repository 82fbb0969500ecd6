//! Per-worker recording: what one worker thread measured since its last flush.
//!
//! Each worker thread owns one [`WorkerStats`] (no lock, no channel message per request) and
//! hands it to the aggregator on a timer as a delta; the aggregator merges deltas exactly.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::entry::StatsEntry;
use super::errors::{ExceptionKey, FailureKey, Occurrences};
use super::health::WorkerHealth;

/// Statistics of one (method, name) recorded by one worker.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntryDelta {
    pub method: String,
    pub name: String,
    pub stats: StatsEntry,
}

/// Open-model scheduling figures of one worker.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenDelta {
    /// Starts that were due.
    pub scheduled: u64,
    /// Starts that happened later than [`LATE_START_US`] after their intended time.
    pub late: u64,
    /// Largest start lag, µs.
    pub max_lag_us: u64,
    /// Starts dropped because too many were already waiting for a free user.
    pub dropped: u64,
    /// Latency from the actual send (not corrected for coordinated omission), with exact
    /// extremes like every entry.
    pub uncorrected: StatsEntry,
}

/// A start this much behind its intended time (µs) counts as late.
pub const LATE_START_US: u64 = 1_000;

/// Everything one worker measured since its last flush. Serialisable so that remote workers
/// can ship it later.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct WorkerStats {
    #[serde(with = "entries_as_list")]
    entries: HashMap<String, Vec<(String, StatsEntry)>>,
    pub total: StatsEntry,
    #[serde(with = "map_as_pairs")]
    pub failures: HashMap<FailureKey, Occurrences>,
    #[serde(with = "map_as_pairs")]
    pub exceptions: HashMap<ExceptionKey, u64>,
    pub open: OpenDelta,
    /// The worker's own health over the interval (CPU, scheduling lag).
    #[serde(default)]
    pub health: WorkerHealth,
}

impl WorkerStats {
    /// Record one request under (method, name); `failure` is the (unnormalised) message.
    #[inline]
    pub fn record(
        &mut self,
        method: &str,
        name: &str,
        us: u64,
        bytes: u64,
        failure: Option<&str>,
        now: f64,
    ) {
        let failed = failure.is_some();
        self.entry_mut(method, name).record(us, bytes, failed);
        self.total.record(us, bytes, failed);
        if let Some(message) = failure {
            self.record_failure(method, name, message, now);
        }
    }

    fn entry_mut(&mut self, method: &str, name: &str) -> &mut StatsEntry {
        // Keyed by name, then a short list of methods: lookups borrow, no allocation once
        // the entry exists.
        if !self.entries.contains_key(name) {
            self.entries.insert(name.to_string(), Vec::new());
        }
        let list = self.entries.get_mut(name).expect("inserted above");
        let i = match list.iter().position(|(m, _)| m == method) {
            Some(i) => i,
            None => {
                list.push((method.to_string(), StatsEntry::default()));
                list.len() - 1
            }
        };
        &mut list[i].1
    }

    #[cold]
    fn record_failure(&mut self, method: &str, name: &str, message: &str, now: f64) {
        let key = FailureKey {
            method: method.to_string(),
            name: name.to_string(),
            message: super::errors::normalise(message),
        };
        self.failures
            .entry(key)
            .or_insert_with(|| Occurrences::new(now))
            .hit(now);
    }

    /// Record an error of the plan's own logic (template, capture, data file).
    pub fn record_exception(&mut self, message: &str, origin: &str) {
        let key = ExceptionKey {
            message: message.to_string(),
            origin: origin.to_string(),
        };
        *self.exceptions.entry(key).or_default() += 1;
    }

    /// Record an open-model start: `lag_us` behind its intended time.
    pub fn record_start(&mut self, lag_us: u64) {
        self.open.scheduled += 1;
        if lag_us > LATE_START_US {
            self.open.late += 1;
        }
        self.open.max_lag_us = self.open.max_lag_us.max(lag_us);
    }

    /// Record an open-model start that was dropped (backlog full).
    pub fn record_dropped(&mut self) {
        self.open.dropped += 1;
    }

    /// Whether nothing was recorded since the last flush.
    pub fn is_empty(&self) -> bool {
        self.total.is_empty()
            && self.exceptions.is_empty()
            && self.failures.is_empty()
            && self.open.scheduled == 0
            && self.open.dropped == 0
    }

    /// Take everything recorded so far, leaving this empty.
    pub fn take(&mut self) -> WorkerStats {
        std::mem::take(self)
    }

    /// The recorded entries, as (method, name, stats).
    pub fn into_entries(self) -> (Vec<EntryDelta>, WorkerRest) {
        let mut out = Vec::new();
        for (name, list) in self.entries {
            for (method, stats) in list {
                out.push(EntryDelta {
                    method,
                    name: name.clone(),
                    stats,
                });
            }
        }
        (
            out,
            WorkerRest {
                total: self.total,
                failures: self.failures,
                exceptions: self.exceptions,
                open: self.open,
                health: self.health,
            },
        )
    }
}

/// The parts of [`WorkerStats`] besides per-entry figures.
pub struct WorkerRest {
    pub total: StatsEntry,
    pub failures: HashMap<FailureKey, Occurrences>,
    pub exceptions: HashMap<ExceptionKey, u64>,
    pub open: OpenDelta,
    pub health: WorkerHealth,
}

mod map_as_pairs {
    //! Serialise a map with structured keys as a list of (key, value) pairs (JSON maps need
    //! string keys).
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::HashMap;
    use std::hash::Hash;

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        map: &HashMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<HashMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

mod entries_as_list {
    //! Serialise the name → methods map as a flat list of entries.
    use super::*;
    use serde::{Deserializer, Serializer};

    type Map = HashMap<String, Vec<(String, StatsEntry)>>;

    pub fn serialize<S: Serializer>(map: &Map, s: S) -> Result<S::Ok, S::Error> {
        let list: Vec<EntryDelta> = map
            .iter()
            .flat_map(|(name, l)| {
                l.iter().map(|(method, stats)| EntryDelta {
                    method: method.clone(),
                    name: name.clone(),
                    stats: stats.clone(),
                })
            })
            .collect();
        list.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Map, D::Error> {
        let list = Vec::<EntryDelta>::deserialize(d)?;
        let mut map = Map::new();
        for e in list {
            map.entry(e.name).or_default().push((e.method, e.stats));
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_entries_total_and_grouped_failures() {
        let mut w = WorkerStats::default();
        w.record("GET", "/a", 1000, 10, None, 1.0);
        w.record(
            "GET",
            "/a",
            3000,
            10,
            Some("500 Internal Server Error"),
            2.0,
        );
        w.record(
            "POST",
            "/a",
            2000,
            0,
            Some("500 Internal Server Error"),
            3.0,
        );
        assert_eq!(w.total.num_requests, 3);
        assert_eq!(w.total.num_failures, 2);
        assert_eq!(w.failures.len(), 2);
        let taken = w.take();
        assert!(w.is_empty());
        let json = serde_json::to_string(&taken).unwrap();
        let back: WorkerStats = serde_json::from_str(&json).unwrap();
        let (mut entries, rest) = back.into_entries();
        entries.sort_by(|a, b| a.method.cmp(&b.method));
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].stats.num_requests, 2);
        assert_eq!(entries[0].stats.max_us, 3000);
        assert_eq!(rest.total.num_failures, 2);
    }
}
