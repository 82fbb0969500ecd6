//! The history a browser receives when it connects: the current run in full, what came
//! before thinned, so the first event stays small however long the server has run (24 h
//! at one point per second is 86 400 points, some 14 MB of JSON).
//!
//! The last [`FULL_POINTS`] points of the current run are sent as they are. Everything
//! older is cut into at most [`THIN_BUCKETS`] equal stretches of time (never across a
//! change of run), and each stretch keeps its first point and the points with its highest
//! request rate and highest p95: a spike stays visible, as min–max decimation keeps it on
//! the charts. A kept point says with `span` how many seconds it stands for, so the charts
//! join points that far apart instead of breaking the line at each of them.

use serde::Serialize;

use crate::stats::HistoryPoint;

/// Points of the current run sent at full resolution (the last hour).
pub const FULL_POINTS: usize = 3600;

/// Stretches the older history is cut into.
pub const THIN_BUCKETS: usize = 600;

/// A history point as sent to a browser.
#[derive(Debug, Serialize)]
pub struct WirePoint<'a> {
    #[serde(flatten)]
    pub point: &'a HistoryPoint,
    /// Seconds this point stands for when older history was thinned (0: every second).
    #[serde(skip_serializing_if = "is_zero")]
    pub span: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// The points to send for `points` (oldest first), whose current run is `current_run`.
pub fn initial(points: &[HistoryPoint], current_run: u32) -> Vec<WirePoint<'_>> {
    let run_start = points
        .iter()
        .rposition(|p| p.run != current_run)
        .map_or(0, |i| i + 1);
    let full_from = run_start.max(points.len().saturating_sub(FULL_POINTS));
    let (older, full) = points.split_at(full_from);
    let mut out = thin(older);
    out.extend(full.iter().map(|point| WirePoint { point, span: 0 }));
    out
}

/// `older` thinned to at most three points per stretch of time.
fn thin(older: &[HistoryPoint]) -> Vec<WirePoint<'_>> {
    let (Some(first), Some(last)) = (older.first(), older.last()) else {
        return Vec::new();
    };
    if older.len() <= THIN_BUCKETS {
        return older
            .iter()
            .map(|point| WirePoint { point, span: 0 })
            .collect();
    }
    let width = (last.time.saturating_sub(first.time) + 1).div_ceil(THIN_BUCKETS as u64);
    let key = |p: &HistoryPoint| (p.run, p.time.saturating_sub(first.time) / width);
    let mut out = Vec::new();
    let mut start = 0;
    while start < older.len() {
        let k = key(&older[start]);
        let end = older[start..]
            .iter()
            .position(|p| key(p) != k)
            .map_or(older.len(), |n| start + n);
        let group = &older[start..end];
        let top = |f: fn(&HistoryPoint) -> f64| {
            group
                .iter()
                .enumerate()
                .max_by(|a, b| f(a.1).total_cmp(&f(b.1)))
                .map_or(0, |(i, _)| i)
        };
        let mut keep = vec![
            0,
            top(|p| p.current_rps),
            top(|p| p.current_p95_ms.unwrap_or(f64::NEG_INFINITY)),
        ];
        keep.sort_unstable();
        keep.dedup();
        out.extend(keep.into_iter().map(|i| WirePoint {
            point: &group[i],
            span: width,
        }));
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(seq: u64, run: u32, time: u64, rps: f64, p95: f64) -> HistoryPoint {
        HistoryPoint {
            seq,
            run,
            time,
            user_count: 50,
            current_rps: rps,
            current_fail_per_sec: 0.5,
            current_p50_ms: Some(p95 / 3.0),
            current_p95_ms: Some(p95),
            current_p90_ms: None,
            current_p99_ms: None,
            current_p999_ms: None,
            drain: false,
        }
    }

    /// 24 h at one point per second: runs of an hour each, the last one 10 minutes old,
    /// with one spike in an early run.
    fn day() -> Vec<HistoryPoint> {
        let t0 = 1_796_200_000;
        let total = 24 * 3600;
        (0..total)
            .map(|i| {
                let run = if i >= total - 600 { 99 } else { 1 + i / 3600 } as u32;
                let spike = i == 5000;
                let rps = if spike {
                    9000.0
                } else {
                    1234.5 + (i % 7) as f64
                };
                let p95 = if spike { 8000.0 } else { 45.6 + (i % 5) as f64 };
                point(i + 1, run, t0 + i, rps, p95)
            })
            .collect()
    }

    #[test]
    fn a_day_of_history_fits_in_a_megabyte_with_the_current_run_in_full() {
        let points = day();
        let full_json = serde_json::to_string(&points).unwrap();
        assert!(full_json.len() > 10_000_000, "{}", full_json.len());
        let sent = initial(&points, 99);
        let json = serde_json::to_string(&sent).unwrap();
        assert!(
            json.len() <= 1_000_000,
            "first event history: {} bytes",
            json.len()
        );
        // The current run, every second of it, at the end.
        let current: Vec<u64> = sent
            .iter()
            .filter(|w| w.point.run == 99)
            .map(|w| w.point.seq)
            .collect();
        assert_eq!(
            current,
            (points.len() as u64 - 599..=points.len() as u64).collect::<Vec<_>>()
        );
        assert!(sent
            .iter()
            .filter(|w| w.point.run == 99)
            .all(|w| w.span == 0));
        // The spike survives, every earlier run is there, and the order is kept.
        assert!(sent.iter().any(|w| w.point.current_p95_ms == Some(8000.0)));
        assert!(sent.iter().any(|w| w.point.current_rps == 9000.0));
        for run in 1..=23 {
            assert!(sent.iter().any(|w| w.point.run == run), "run {run}");
        }
        assert!(sent.windows(2).all(|w| w[0].point.seq < w[1].point.seq));
        let span = sent[0].span;
        assert!(
            span > 0 && span <= 24 * 3600 / THIN_BUCKETS as u64 + 1,
            "{span}"
        );
        assert!(json.contains(&format!("\"span\":{span}")));
    }

    #[test]
    fn a_long_current_run_keeps_its_last_hour_in_full() {
        let points: Vec<_> = (0..10_000)
            .map(|i| point(i, 1, 1000 + i, 1.0, 1.0))
            .collect();
        let sent = initial(&points, 1);
        let full = sent.iter().filter(|w| w.span == 0).count();
        assert_eq!(full, FULL_POINTS);
        assert!(sent.len() < FULL_POINTS + 3 * THIN_BUCKETS);
        // Short histories are sent as they are.
        let short: Vec<_> = (0..100)
            .map(|i| point(i, 1 + (i / 50) as u32, i, 1.0, 1.0))
            .collect();
        assert_eq!(initial(&short, 2).len(), 100);
        assert!(initial(&[], 1).is_empty());
    }
}
