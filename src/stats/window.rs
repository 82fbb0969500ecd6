//! The sliding 10-second window behind "current" rates and percentiles.
//!
//! Deltas are added to the second they arrive in; a finished second is kept as a sparse list
//! of histogram buckets, so ten seconds of history cost a few kilobytes per entry. Current
//! figures use complete seconds only and decay to zero when traffic stops.

use std::collections::VecDeque;

use super::entry::{clamp_ms, StatsEntry};
use super::histogram::{bucket_value, sparse_quantiles};

/// Length of the current-rate window, seconds.
pub const WINDOW_SECS: u64 = 10;

#[derive(Debug, Clone, Default)]
struct Second {
    sec: u64,
    count: u64,
    fails: u64,
    min_us: u64,
    max_us: u64,
    /// (highest equivalent value µs, count): ascending once the second is closed; appended
    /// in arrival order while it is being filled.
    buckets: Vec<(u64, u64)>,
}

/// Per-second counts and latencies of the last [`WINDOW_SECS`] seconds.
#[derive(Debug, Clone, Default)]
pub struct Window {
    /// The second being filled, and what it holds so far (sparse: a dense histogram per
    /// entry would double the memory of every entry).
    cur: Second,
    done: VecDeque<Second>,
    /// The buckets of every second in `done`, merged: kept as seconds come and go, so the
    /// current percentiles are one pass over it instead of a merge of ten seconds each tick.
    sum: Vec<(u64, u64)>,
    /// The first second left out of current percentiles (see [`Window::freeze`]).
    frozen: Option<u64>,
}

impl Second {
    fn add(&mut self, delta: &StatsEntry) {
        if delta.num_requests == 0 {
            return;
        }
        if self.count == 0 || delta.min_us < self.min_us {
            self.min_us = delta.min_us;
        }
        self.max_us = self.max_us.max(delta.max_us);
        self.count += delta.num_requests;
        self.fails += delta.num_failures;
        // Appended unsorted: many deltas of one entry can arrive in a second (every worker,
        // every step of that name, each flush), and merging each into a growing list cost
        // more than all the rest of the window. `close` sorts once. A delta of few values
        // adds one pair per value: sorting it here too (`sparse`) cost two allocations and
        // a sort per entry and delta, the largest part of merging a delta of 100 entries.
        match delta.hist.kept_values() {
            Some(values) => self
                .buckets
                .extend(values.iter().map(|&v| (bucket_value(u64::from(v)), 1))),
            None => self.buckets.extend(delta.hist.sparse()),
        }
    }

    /// Sort and merge the buckets appended during the second.
    fn close(&mut self) {
        self.buckets.sort_unstable_by_key(|&(v, _)| v);
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(self.buckets.len());
        for &(v, c) in &self.buckets {
            match out.last_mut() {
                Some((last, count)) if *last == v => *count += c,
                _ => out.push((v, c)),
            }
        }
        self.buckets = out;
    }
}

/// Merge two ascending (value, count) lists, adding counts of equal values.
fn merge_sorted(a: &[(u64, u64)], b: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push((a[i].0, a[i].1 + b[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Take the counts of `b` out of `a` (both ascending, `b` merged into `a` before), dropping
/// buckets left empty.
fn subtract_sorted(a: &mut Vec<(u64, u64)>, b: &[(u64, u64)]) {
    let mut j = 0;
    a.retain_mut(|(v, c)| {
        while j < b.len() && b[j].0 < *v {
            j += 1;
        }
        if j < b.len() && b[j].0 == *v {
            *c -= b[j].1.min(*c);
            j += 1;
        }
        *c > 0
    });
}

/// Current figures of a window.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    pub rps: f64,
    pub fail_per_sec: f64,
    /// Percentiles over the window, ms, one per requested quantile.
    pub percentiles: Vec<Option<f64>>,
}

impl Window {
    /// Add a delta that arrived during second `sec` (Unix seconds).
    pub fn add(&mut self, sec: u64, delta: &StatsEntry) {
        self.roll(sec);
        self.cur.add(delta);
    }

    /// Close the second being filled if `sec` is past it, and forget seconds out of range.
    pub fn roll(&mut self, sec: u64) {
        if sec > self.cur.sec {
            let mut done = std::mem::take(&mut self.cur);
            if done.count > 0 {
                done.close();
                self.sum = merge_sorted(&self.sum, &done.buckets);
                self.done.push_back(done);
            }
            self.cur.sec = sec;
        }
        while self.done.front().is_some_and(|s| s.sec + WINDOW_SECS < sec) {
            if let Some(old) = self.done.pop_front() {
                subtract_sorted(&mut self.sum, &old.buckets);
            }
        }
    }

    /// Leave the seconds from `sec` on out of the current percentiles: the users were told
    /// to stop then, and in the drain that follows only the slowest in-flight requests
    /// finish, which would show a latency the target did not have under load. The drain's
    /// requests still count in the rates (they did finish then) and in whole-run figures.
    pub fn freeze(&mut self, sec: u64) {
        self.frozen.get_or_insert(sec);
    }

    /// Current rates and percentiles at time `now` (Unix seconds), for statistics that
    /// started at `start`: complete seconds within the last [`WINDOW_SECS`] only, and for
    /// the percentiles none from the second the window was frozen at (see `freeze`).
    pub fn current(&mut self, now: f64, start: f64, quantiles: &[f64]) -> Current {
        let now_sec = now.floor() as u64;
        self.roll(now_sec);
        let from = now_sec.saturating_sub(WINDOW_SECS);
        let seconds: Vec<&Second> = self
            .done
            .iter()
            .filter(|s| s.sec >= from && s.sec < now_sec)
            .collect();
        let covered = (now_sec as f64 - start.max(from as f64)).max(0.5);
        let count: u64 = seconds.iter().map(|s| s.count).sum();
        let fails: u64 = seconds.iter().map(|s| s.fails).sum();
        let measured: Vec<&Second> = match self.frozen {
            Some(f) => seconds.iter().copied().filter(|s| s.sec < f).collect(),
            None => seconds,
        };
        let measured_count: u64 = measured.iter().map(|s| s.count).sum();
        let percentiles = if measured_count == 0 {
            vec![None; quantiles.len()]
        } else {
            let min = measured.iter().map(|s| s.min_us).min().unwrap_or(0);
            let max = measured.iter().map(|s| s.max_us).max().unwrap_or(0);
            // After the roll, `done` holds exactly the window's seconds, unless the clock
            // went back or the drain is left out: then merge the seconds that count.
            let values = if measured.len() == self.done.len() {
                sparse_quantiles(self.sum.iter().copied(), measured_count, quantiles)
            } else {
                window_quantiles(&measured, measured_count, quantiles)
            };
            clamp_ms(values, min, max)
        };
        Current {
            rps: count as f64 / covered,
            fail_per_sec: fails as f64 / covered,
            percentiles,
        }
    }
}

/// One complete second's own figures (not the window's).
#[derive(Debug, Clone, PartialEq)]
pub struct SecondFigures {
    /// The second (Unix seconds).
    pub sec: u64,
    pub count: u64,
    pub fails: u64,
    pub min_ms: f64,
    pub max_ms: f64,
    /// One per requested quantile, ms.
    pub percentiles: Vec<Option<f64>>,
}

impl Window {
    /// The figures of the last complete second before `now`, if requests finished in it
    /// and it is not in the drain (see `freeze`).
    pub fn last_second(&mut self, now: f64, quantiles: &[f64]) -> Option<SecondFigures> {
        let now_sec = now.floor() as u64;
        self.roll(now_sec);
        let s = self.done.back().filter(|s| s.sec + 1 == now_sec)?;
        if self.frozen.is_some_and(|f| s.sec >= f) {
            return None;
        }
        let values = sparse_quantiles(s.buckets.iter().copied(), s.count, quantiles);
        Some(SecondFigures {
            sec: s.sec,
            count: s.count,
            fails: s.fails,
            min_ms: s.min_us as f64 / 1000.0,
            max_ms: s.max_us as f64 / 1000.0,
            percentiles: clamp_ms(values, s.min_us, s.max_us),
        })
    }
}

/// Quantiles over the union of several seconds' sparse buckets (ascending quantiles).
fn window_quantiles(seconds: &[&Second], total: u64, qs: &[f64]) -> Vec<Option<u64>> {
    let mut merged: Vec<(u64, u64)> = seconds
        .iter()
        .flat_map(|s| s.buckets.iter().copied())
        .collect();
    // Each second's buckets are already ascending: the stable sort merges those runs.
    merged.sort_by_key(|&(v, _)| v);
    sparse_quantiles(merged, total, qs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(n: u64, us: u64, fails: u64) -> StatsEntry {
        let mut e = StatsEntry::default();
        for i in 0..n {
            e.record(us, 0, i < fails);
        }
        e
    }

    #[test]
    fn rate_over_complete_seconds_and_decay_to_zero() {
        let mut w = Window::default();
        let start = 100.0;
        for sec in 100..110 {
            w.add(sec, &delta(50, 1000, 5));
        }
        let c = w.current(110.2, start, &[0.5]);
        assert_eq!(c.rps, 50.0);
        assert_eq!(c.fail_per_sec, 5.0);
        assert_eq!(c.percentiles, vec![Some(1.0)]);
        // traffic stops: 5 s later half the window is empty, 11 s later all of it.
        assert_eq!(w.current(115.0, start, &[0.5]).rps, 25.0);
        let c = w.current(121.0, start, &[0.5]);
        assert_eq!((c.rps, c.percentiles[0]), (0.0, None));
    }

    #[test]
    fn partial_first_second_counts_only_the_covered_time() {
        let mut w = Window::default();
        w.add(100, &delta(30, 1000, 0));
        w.add(101, &delta(100, 1000, 0));
        // stats started at 100.7: 1.3 s covered by complete seconds 100 and 101
        let c = w.current(102.1, 100.7, &[0.5]);
        assert!((c.rps - 130.0 / 1.3).abs() < 1e-9, "{}", c.rps);
    }

    #[test]
    fn merging_sorted_bucket_lists_adds_equal_values() {
        let merged = merge_sorted(&[(1, 2), (5, 1), (9, 4)], &[(1, 1), (6, 3)]);
        assert_eq!(merged, vec![(1, 3), (5, 1), (6, 3), (9, 4)]);
    }

    #[test]
    fn several_deltas_in_one_second_are_all_counted() {
        let mut w = Window::default();
        w.add(100, &delta(10, 1_000, 1));
        w.add(100, &delta(10, 3_000, 1));
        let c = w.current(101.0, 100.0, &[0.5, 1.0]);
        assert_eq!((c.rps, c.fail_per_sec), (20.0, 2.0));
        assert_eq!(c.percentiles, vec![Some(1.0), Some(3.0)]);
    }

    #[test]
    fn subtracting_a_merged_list_gives_back_the_other() {
        let a = [(1, 2), (5, 1), (9, 4)];
        let b = [(1, 1), (6, 3), (9, 4)];
        let mut merged = merge_sorted(&a, &b);
        subtract_sorted(&mut merged, &b);
        assert_eq!(merged, a);
        subtract_sorted(&mut merged, &a);
        assert!(merged.is_empty());
    }

    #[test]
    fn window_figures_equal_one_histogram_of_the_windows_values() {
        // A minute of varied seconds, each arriving as three overlapping deltas (workers,
        // flushes): at every tick the window's percentiles are those of one histogram of
        // exactly the last ten complete seconds' values.
        let qs = crate::stats::snapshot::PERCENTILES;
        let mut w = Window::default();
        let mut per_sec: Vec<(u64, Vec<u64>)> = Vec::new();
        for sec in 100..160u64 {
            let values: Vec<u64> = (0..(sec % 7) * 40)
                .map(|i| 1_000 + (i * sec * 7919) % 90_000)
                .collect();
            for part in 0..3 {
                let mut d = StatsEntry::default();
                for &v in values.iter().skip(part).step_by(3) {
                    d.record(v, 0, false);
                }
                w.add(sec, &d);
            }
            per_sec.push((sec, values));
            let now = sec as f64 + 0.5;
            let c = w.current(now, 100.0, &qs);
            let mut oracle = StatsEntry::default();
            for (_, vs) in per_sec
                .iter()
                .filter(|(s, _)| s + WINDOW_SECS >= sec && *s < sec)
            {
                for &v in vs {
                    oracle.record(v, 0, false);
                }
            }
            assert_eq!(c.percentiles, oracle.percentiles_ms(), "second {sec}");
            let covered = (sec - 100).clamp(1, WINDOW_SECS) as f64;
            assert_eq!(c.rps, oracle.num_requests as f64 / covered, "second {sec}");
        }
    }

    #[test]
    fn window_percentiles_forget_old_seconds() {
        let mut w = Window::default();
        w.add(100, &delta(100, 50_000, 0));
        for sec in 101..=111 {
            w.add(sec, &delta(100, 2_000, 0));
        }
        let c = w.current(112.0, 100.0, &[0.5, 1.0]);
        assert_eq!(c.percentiles, vec![Some(2.0), Some(2.0)]);
    }
}
