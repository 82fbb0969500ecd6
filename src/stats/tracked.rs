//! Whole-run percentiles of one entry, kept up to date as its deltas are merged, so that a
//! snapshot of many entries does not rescan every entry's histogram each second.
//!
//! Each quantile has a cursor on the histogram bucket that holds its rank, with the number
//! of values in the buckets below. A merged delta moves each cursor's count by the delta's
//! values below it; a read then steps each cursor the few buckets its rank moved. Without
//! them, a snapshot of 100 entries scanned 100 dense histograms (about 48 KB of counts each)
//! every second: a tenth of the aggregator's instructions, and a sweep through the caches
//! that the workers' request loops paid for too.

use hdrhistogram::Histogram;

use super::histogram::{rank, LatencyHistogram};

/// Cursors for a fixed list of quantiles over one growing histogram.
#[derive(Debug, Default, Clone)]
pub struct TrackedQuantiles {
    /// One per quantile when known; empty when they must be found again (before the first
    /// read of a dense histogram, and after a delta too large to count value by value).
    cursors: Vec<Cursor>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Cursor {
    /// Lowest value of the bucket that holds the quantile's rank.
    low: u64,
    /// Values recorded in the buckets below that one.
    below: u64,
}

impl TrackedQuantiles {
    /// Account for `added`, which is about to be added to (or was just added to) the
    /// tracked histogram.
    pub fn note(&mut self, added: &LatencyHistogram) {
        if self.cursors.is_empty() || added.is_empty() {
            return;
        }
        match added.kept_values() {
            Some(values) => {
                for c in &mut self.cursors {
                    c.below += values.iter().filter(|&&v| u64::from(v) < c.low).count() as u64;
                }
            }
            // Dense deltas come from entries busy enough that a scan per read is small
            // next to their recording: find the cursors again.
            None => self.cursors.clear(),
        }
    }

    /// The value (µs) at each quantile in `qs` (ascending, the same list on every call) of
    /// `hist`, which must have received exactly what [`note`](Self::note) was told about
    /// since the cursors were set. Figures equal [`LatencyHistogram::quantiles`]'.
    pub fn quantiles(&mut self, hist: &LatencyHistogram, qs: &[f64]) -> Vec<Option<u64>> {
        let Some(h) = hist.dense() else {
            // Few values: a sort of at most a thousand, no cursors needed.
            self.cursors.clear();
            return hist.quantiles(qs);
        };
        if h.is_empty() {
            self.cursors.clear();
            return vec![None; qs.len()];
        }
        if self.cursors.len() == qs.len() {
            if let Some(values) = self.step(h, qs) {
                return values;
            }
        }
        // No cursors yet (or, defensively, cursors that lost their place): scan once.
        let values = hist.quantiles(qs);
        let mut below = 0;
        let mut counted_to = 0; // the values below `counted_to` are in `below`
        self.cursors = values
            .iter()
            .map(|v| {
                let low = h.lowest_equivalent(v.unwrap_or(0));
                if low > counted_to {
                    below += h.count_between(counted_to, low - 1);
                    counted_to = low;
                }
                Cursor { low, below }
            })
            .collect();
        values
    }

    /// Moves each cursor to the bucket that holds its quantile's rank now. `None` if one
    /// left the recorded values (the histogram got values `note` was not told about).
    fn step(&mut self, h: &Histogram<u64>, qs: &[f64]) -> Option<Vec<Option<u64>>> {
        let total = h.len();
        let max = h.max();
        qs.iter()
            .zip(&mut self.cursors)
            .map(|(&q, c)| {
                let target = rank(q, total);
                loop {
                    let here = h.count_at(c.low);
                    if target <= c.below {
                        let lower = h.lowest_equivalent(c.low.checked_sub(1)?);
                        c.below = c.below.checked_sub(h.count_at(lower))?;
                        c.low = lower;
                    } else if target > c.below + here {
                        c.below += here;
                        c.low = h.next_non_equivalent(c.low);
                        if c.low > max {
                            return None;
                        }
                    } else {
                        return Some(Some(h.highest_equivalent(c.low)));
                    }
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::snapshot::PERCENTILES;

    /// A deterministic stream of latencies whose distribution shifts over time (so cursors
    /// move both ways), with a gap between two modes.
    fn latency(i: u64, phase: u64) -> u64 {
        let x = i
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407)
            >> 33;
        match phase % 3 {
            0 => 200 + x % 300,
            1 => 5_000 + x % 20_000,
            _ => {
                if x.is_multiple_of(10) {
                    900_000 + x % 1000
                } else {
                    100 + x % 50
                }
            }
        }
    }

    #[test]
    fn cursors_give_the_scans_figures_as_deltas_arrive() {
        let mut hist = LatencyHistogram::default();
        let mut tracked = TrackedQuantiles::default();
        let mut i = 0;
        let mut stepped_rounds = 0;
        for round in 0..60u64 {
            // Mostly small deltas (counted value by value); every 7th a dense one.
            let n = if round % 7 == 6 {
                3_000
            } else {
                40 + round * 3
            };
            let mut delta = LatencyHistogram::default();
            for _ in 0..n {
                delta.record(latency(i, round / 10));
                i += 1;
            }
            tracked.note(&delta);
            hist.add(&delta);
            // Read every other round: cursors must also follow two deltas between reads.
            if round % 2 == 1 {
                // Cursors in place follow the deltas by themselves (no fallback scan).
                let mut stepped = tracked.clone();
                stepped_rounds += usize::from(!stepped.cursors.is_empty());
                if let (Some(h), false) = (hist.dense(), stepped.cursors.is_empty()) {
                    assert_eq!(
                        stepped.step(h, &PERCENTILES),
                        Some(hist.quantiles(&PERCENTILES)),
                        "round {round}"
                    );
                }
                assert_eq!(
                    tracked.quantiles(&hist, &PERCENTILES),
                    hist.quantiles(&PERCENTILES),
                    "round {round}"
                );
            }
        }
        assert!(hist.dense().is_some() && tracked.cursors.len() == PERCENTILES.len());
        assert!(
            stepped_rounds > 15,
            "{stepped_rounds} reads followed the cursors"
        );
    }

    #[test]
    fn empty_and_few_values() {
        let mut tracked = TrackedQuantiles::default();
        let mut hist = LatencyHistogram::default();
        assert_eq!(tracked.quantiles(&hist, &PERCENTILES), vec![None; 11]);
        hist.record(1234);
        assert_eq!(
            tracked.quantiles(&hist, &PERCENTILES),
            hist.quantiles(&PERCENTILES)
        );
    }
}
