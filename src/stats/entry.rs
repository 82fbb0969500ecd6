//! One statistics entry: counts, exact extremes, sum and a latency histogram.
//!
//! Entries are what workers record into and what the aggregator sums: `+=` is exact, and an
//! entry serialises, so entries from other processes (distributed workers) merge the same way.

use std::ops::AddAssign;

use serde::{Deserialize, Serialize};

use super::histogram::LatencyHistogram;
use super::snapshot::PERCENTILES;

/// Requests, failures and response times of one (method, name) or of all requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsEntry {
    pub num_requests: u64,
    pub num_failures: u64,
    /// Sum of response times, µs (for the exact average).
    pub total_us: u64,
    /// Smallest response time, µs (meaningless when `num_requests == 0`).
    pub min_us: u64,
    /// Largest response time, µs: the exact 100th percentile.
    pub max_us: u64,
    /// Sum of response body sizes, bytes.
    pub total_bytes: u64,
    pub hist: LatencyHistogram,
}

impl StatsEntry {
    /// Record one request. Failed requests count in both requests and failures, and their
    /// response time is recorded too (as Locust does).
    #[inline]
    pub fn record(&mut self, us: u64, bytes: u64, failed: bool) {
        if self.num_requests == 0 || us < self.min_us {
            self.min_us = us;
        }
        self.max_us = self.max_us.max(us);
        self.num_requests += 1;
        self.num_failures += failed as u64;
        self.total_us += us;
        self.total_bytes += bytes;
        self.hist.record(us);
    }

    pub fn is_empty(&self) -> bool {
        self.num_requests == 0
    }

    /// An empty entry with room for as many latencies as this one holds: a worker's next
    /// flush interval then records without growing its buffers.
    pub fn emptied(&self) -> StatsEntry {
        StatsEntry {
            hist: LatencyHistogram::with_room_for(self.hist.len()),
            ..StatsEntry::default()
        }
    }

    pub fn avg_ms(&self) -> Option<f64> {
        (self.num_requests > 0).then(|| self.total_us as f64 / self.num_requests as f64 / 1000.0)
    }

    pub fn min_ms(&self) -> Option<f64> {
        (self.num_requests > 0).then(|| self.min_us as f64 / 1000.0)
    }

    pub fn max_ms(&self) -> Option<f64> {
        (self.num_requests > 0).then(|| self.max_us as f64 / 1000.0)
    }

    pub fn avg_size(&self) -> f64 {
        if self.num_requests == 0 {
            0.0
        } else {
            self.total_bytes as f64 / self.num_requests as f64
        }
    }

    /// Locust's percentile set in ms, clamped to the exact min and max so that p100 equals
    /// the max and no percentile lies outside the recorded range.
    pub fn percentiles_ms(&self) -> Vec<Option<f64>> {
        clamp_ms(self.hist.quantiles(&PERCENTILES), self.min_us, self.max_us)
    }
}

impl StatsEntry {
    /// The latency-percentile curve HdrHistogram users read (x: 1 / (1 − q) on a log
    /// scale): (q, ms) at eight points per decade from the median to 99.999 %, then the max.
    pub fn distribution_ms(&self) -> Vec<(f64, f64)> {
        let mut qs: Vec<f64> = (0..=32)
            .map(|k| 1.0 - 0.5 * 10f64.powf(-(k as f64) / 8.0))
            .collect();
        qs.push(1.0);
        let values = clamp_ms(self.hist.quantiles(&qs), self.min_us, self.max_us);
        qs.into_iter()
            .zip(values)
            .filter_map(|(q, v)| Some((q, v?)))
            .collect()
    }
}

/// Convert quantile values (µs) to ms, clamped into [min, max] (µs).
pub fn clamp_ms(values: Vec<Option<u64>>, min_us: u64, max_us: u64) -> Vec<Option<f64>> {
    values
        .into_iter()
        .map(|v| v.map(|us| us.clamp(min_us, max_us.max(min_us)) as f64 / 1000.0))
        .collect()
}

impl AddAssign<&StatsEntry> for StatsEntry {
    fn add_assign(&mut self, other: &StatsEntry) {
        if other.num_requests == 0 {
            return;
        }
        if self.num_requests == 0 || other.min_us < self.min_us {
            self.min_us = other.min_us;
        }
        self.max_us = self.max_us.max(other.max_us);
        self.num_requests += other.num_requests;
        self.num_failures += other.num_failures;
        self.total_us += other.total_us;
        self.total_bytes += other.total_bytes;
        self.hist.add(&other.hist);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p100_is_the_exact_max_and_p_never_exceeds_it() {
        let mut e = StatsEntry::default();
        for us in [10_001u64, 10_003, 10_007, 123_457] {
            e.record(us, 10, false);
        }
        let p = e.percentiles_ms();
        assert_eq!(p.last().copied().flatten(), Some(123.457));
        assert!(p.iter().all(|v| v.unwrap() <= 123.457));
        assert_eq!(e.min_ms(), Some(10.001));
        assert_eq!(e.avg_size(), 10.0);
    }

    #[test]
    fn merge_equals_recording_everything_in_one() {
        let (mut a, mut b, mut all) = (
            StatsEntry::default(),
            StatsEntry::default(),
            StatsEntry::default(),
        );
        for i in 0..1000u64 {
            let us = i * 37 % 5000 + 1;
            let failed = i % 10 == 0;
            if i % 3 == 0 {
                a.record(us, i, failed)
            } else {
                b.record(us, i, failed)
            }
            all.record(us, i, failed);
        }
        a += &b;
        assert_eq!(a, all);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<StatsEntry>(&json).unwrap(), all);
    }

    #[test]
    fn empty_entry_has_no_figures() {
        let e = StatsEntry::default();
        assert_eq!(e.avg_ms(), None);
        assert!(e.percentiles_ms().iter().all(Option::is_none));
    }
}
