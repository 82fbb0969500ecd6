//! N runs as a series (1, 2, 3, 4 instances...): one row per run with its Aggregated
//! req/s, failure % and percentiles, and each run against the first one.

use serde::Serialize;

use super::{compare_entry, Delta, MetricKind, Verdict};
use crate::stats::EntrySnapshot;

/// One run of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesRow {
    pub id: i64,
    /// The run's label (or its id when it has none): the x axis of the series chart.
    pub label: String,
    pub requests: u64,
    pub rps: Option<f64>,
    pub fail_pct: Option<f64>,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    /// Against the first run of the series.
    pub rps_vs_first: Delta,
    pub p95_vs_first: Delta,
    pub verdict_vs_first: Verdict,
}

/// Build the series from `(id, label, Aggregated entry)` in the order given.
pub fn series(runs: &[(i64, String, EntrySnapshot)], noise_pct: f64) -> Vec<SeriesRow> {
    let Some((_, _, first)) = runs.first() else {
        return Vec::new();
    };
    runs.iter()
        .map(|(id, label, e)| {
            let c = compare_entry(Some(first), Some(e), noise_pct);
            let has = e.num_requests > 0;
            SeriesRow {
                id: *id,
                label: if label.is_empty() {
                    format!("#{id}")
                } else {
                    label.clone()
                },
                requests: e.num_requests,
                rps: has.then_some(e.total_rps),
                fail_pct: has.then(|| e.fail_ratio() * 100.0),
                p50: e.percentile(0.5),
                p95: e.percentile(0.95),
                p99: e.percentile(0.99),
                rps_vs_first: *c.delta(MetricKind::Rps),
                p95_vs_first: *c.delta(MetricKind::P95),
                verdict_vs_first: c.verdict,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::tests::entry;

    #[test]
    fn each_run_is_compared_with_the_first() {
        let runs = vec![
            (
                1,
                "1 instance".to_string(),
                entry(
                    "",
                    "Aggregated",
                    1000,
                    0,
                    100.0,
                    [10.0, 200.0, 300.0, 400.0],
                ),
            ),
            (
                2,
                String::new(),
                entry(
                    "",
                    "Aggregated",
                    2000,
                    0,
                    190.0,
                    [10.0, 100.0, 300.0, 400.0],
                ),
            ),
        ];
        let s = series(&runs, 5.0);
        assert_eq!(s[0].verdict_vs_first, Verdict::NoSignificantChange);
        assert_eq!(s[1].label, "#2");
        assert_eq!(s[1].rps_vs_first.delta_pct, Some(90.0));
        assert_eq!(s[1].p95_vs_first.delta_pct, Some(-50.0));
        assert_eq!(s[1].verdict_vs_first, Verdict::Better);
        assert_eq!(s[1].fail_pct, Some(0.0));
    }
}
