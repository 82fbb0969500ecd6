//! Per-worker recording: what one worker thread measured since its last flush.
//!
//! Each worker thread owns one [`WorkerStats`] (no lock, no channel message per request) and
//! hands it to the aggregator on a timer as a delta; the aggregator merges deltas exactly.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::entry::StatsEntry;
use super::errors::{ExceptionKey, FailureKey, Occurrences};
use super::health::WorkerHealth;
use super::slots::Slots;

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
    entries: Entries,
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

/// Per-entry figures. A step whose name is fixed for the run records into its own slot
/// (see `slots`): an index and a pointer comparison per request instead of hashing and
/// comparing the name (with 100 names that lookup was the worker's largest statistics
/// cost). Other names are looked up by name, hashed with foldhash: std's SipHash took about
/// half of such a request's recording (two hashes of the name per request), and foldhash is
/// seeded per process like SipHash, so a target cannot aim names at one bucket.
#[derive(Debug, Default)]
struct Entries {
    slots: Slots,
    /// By name: the order the name was first seen in (within the interval), and its
    /// methods. The order, not the hash's, decides which names keep their own row when a
    /// delta brings more than the aggregator keeps.
    named: foldhash::HashMap<String, (u32, Vec<(String, StatsEntry)>)>,
}

impl WorkerStats {
    /// Record one request of the step with slot number `slot` (see
    /// `engine::step::PreparedStep::slot`), whose name `name` is fixed for the run; without a
    /// slot, as [`record`](Self::record).
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub fn record_step(
        &mut self,
        slot: Option<usize>,
        method: &str,
        name: &Arc<str>,
        us: u64,
        bytes: u64,
        failure: Option<&str>,
        now: f64,
    ) {
        let Some(slot) = slot else {
            return self.record(method, name, us, bytes, failure, now);
        };
        let failed = failure.is_some();
        if !self
            .entries
            .slots
            .record(slot, method, name, us, bytes, failed)
        {
            self.entry_mut(method, name).record(us, bytes, failed);
        }
        self.record_total(method, name, us, bytes, failure, now);
    }

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
        self.record_total(method, name, us, bytes, failure, now);
    }

    /// The part of recording a request that does not depend on its entry: the total, and
    /// the failure's group.
    #[inline]
    fn record_total(
        &mut self,
        method: &str,
        name: &str,
        us: u64,
        bytes: u64,
        failure: Option<&str>,
        now: f64,
    ) {
        self.total.record(us, bytes, failure.is_some());
        if let Some(message) = failure {
            self.record_failure(method, name, message, now);
        }
    }

    fn entry_mut(&mut self, method: &str, name: &str) -> &mut StatsEntry {
        // Keyed by name, then a short list of methods: lookups borrow, no allocation once
        // the entry exists.
        let named = &mut self.entries.named;
        if !named.contains_key(name) {
            let order = named.len() as u32;
            named.insert(name.to_string(), (order, Vec::new()));
        }
        let (_, list) = named.get_mut(name).expect("inserted above");
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

    /// Take everything recorded so far, leaving this empty. Slots stay, each with room for
    /// as many latencies as it took, so the next interval records without growing buffers.
    pub fn take(&mut self) -> WorkerStats {
        let taken_slots = self.entries.slots.take();
        let kept = std::mem::take(&mut self.entries.slots);
        let mut taken = std::mem::take(self);
        taken.entries.slots = taken_slots;
        self.entries.slots = kept;
        self.total = taken.total.emptied();
        taken
    }

    /// The recorded entries, as (method, name, stats): the plan's fixed names first, then
    /// the others in the order they were first seen.
    pub fn into_entries(self) -> (Vec<EntryDelta>, WorkerRest) {
        let mut out: Vec<EntryDelta> = self.entries.slots.into_deltas().collect();
        let mut named: Vec<_> = self.entries.named.into_iter().collect();
        named.sort_unstable_by_key(|(_, (order, _))| *order);
        for (name, (_, list)) in named {
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
    //! Serialise the entries (slots and named) as one flat list; they come back named.
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(entries: &Entries, s: S) -> Result<S::Ok, S::Error> {
        let slots = entries.slots.deltas();
        let mut in_order: Vec<_> = entries.named.iter().collect();
        in_order.sort_unstable_by_key(|(_, (order, _))| *order);
        let named = in_order.into_iter().flat_map(|(name, (_, l))| {
            l.iter().map(|(method, stats)| EntryDelta {
                method: method.clone(),
                name: name.clone(),
                stats: stats.clone(),
            })
        });
        s.collect_seq(
            slots
                .into_iter()
                .chain(named)
                .filter(|e| !e.stats.is_empty()),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Entries, D::Error> {
        let list = Vec::<EntryDelta>::deserialize(d)?;
        let mut entries = Entries::default();
        for e in list {
            let order = entries.named.len() as u32;
            let (_, methods) = entries.named.entry(e.name).or_insert((order, Vec::new()));
            match methods.iter_mut().find(|(m, _)| *m == e.method) {
                Some((_, stats)) => *stats += &e.stats,
                None => methods.push((e.method, e.stats)),
            }
        }
        Ok(entries)
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

    #[test]
    fn slots_record_like_names_and_survive_flushes() {
        let a: Arc<str> = Arc::from("/a");
        let b: Arc<str> = Arc::from("/b");
        let mut w = WorkerStats::default();
        w.record_step(Some(3), "GET", &a, 1000, 1, None, 0.0);
        w.record_step(
            Some(3),
            "GET",
            &a,
            2000,
            1,
            Some("500 Internal Server Error"),
            1.0,
        );
        w.record_step(None, "GET", &b, 3000, 1, None, 0.0);
        // Slot 3 is /a's: another name given slot 3 (a stale number) is kept apart, by name.
        let other_a: Arc<str> = Arc::from("/a2");
        w.record_step(Some(3), "POST", &other_a, 4000, 1, None, 0.0);
        let taken = w.take();
        assert!(w.is_empty());
        let json = serde_json::to_string(&taken).unwrap();
        let back: WorkerStats = serde_json::from_str(&json).unwrap();
        for delta in [taken, back] {
            let (mut entries, rest) = delta.into_entries();
            entries.sort_by(|x, y| x.name.cmp(&y.name));
            let got: Vec<_> = entries
                .iter()
                .map(|e| (e.method.as_str(), e.name.as_str(), e.stats.num_requests))
                .collect();
            assert_eq!(
                got,
                [("GET", "/a", 2), ("POST", "/a2", 1), ("GET", "/b", 1)]
            );
            assert_eq!(entries[0].stats.max_us, 2000);
            assert_eq!(entries[0].stats.num_failures, 1);
            assert_eq!(rest.total.num_requests, 4);
            assert_eq!(rest.failures.len(), 1);
        }
        // The next interval records into the same slot, from zero.
        w.record_step(Some(3), "GET", &a, 5000, 1, None, 2.0);
        let (entries, _) = w.take().into_entries();
        assert_eq!(entries.len(), 1);
        assert_eq!(
            (entries[0].stats.num_requests, entries[0].stats.min_us),
            (1, 5000)
        );
        // Flushed, the slot passes to the step that now has its number (a next run).
        w.record_step(Some(3), "POST", &other_a, 6000, 1, None, 3.0);
        w.record_step(Some(3), "POST", &other_a, 7000, 1, None, 3.0);
        assert!(w.entries.named.is_empty());
        let (entries, _) = w.take().into_entries();
        let got: Vec<_> = entries
            .iter()
            .map(|e| (e.method.as_str(), e.name.as_str(), e.stats.num_requests))
            .collect();
        assert_eq!(got, [("POST", "/a2", 2)]);
    }
}
