//! Before/after comparison of two runs, endpoint by endpoint, with a verdict.
//!
//! Metrics compared: req/s (whole run), failure % (failed / all requests), p50, p95, p99 and
//! max. Δ = after − before; Δ% = Δ / before (none when before is 0).
//!
//! A change is *significant* when |Δ%| exceeds the noise threshold (default 5 %); for the
//! failure % it must also move by at least 0.1 percentage point. The significant changes of
//! failure %, p95, req/s, p99 and p50 decide an endpoint's verdict (max is shown but never
//! decides: one outlier is not a trend): *better* or *worse* when they all agree, *mixed*
//! when some went each way, *no significant change* when there are none; fewer than
//! [`MIN_REQUESTS`] requests in either run gives "no significant change". The overall
//! verdict is the Aggregated row's, *mixed* when endpoints went the other way (`verdict`).
//!
//! - `model`: the types of a comparison (metrics, deltas, verdicts).
//! - `differences`: what the two runs were asked to do differently (users, rate, plan...).
//! - `series`: N runs side by side (req/s, p95, failure % against the run label).
//! - `verdict`: the rules above and the words of each reason.

pub mod differences;
mod model;
pub mod series;
mod verdict;

use crate::stats::{EntrySnapshot, Snapshot};

pub use model::*;

/// Default noise threshold, percent.
pub const DEFAULT_NOISE_PCT: f64 = 5.0;
/// Below this many requests in either run an endpoint gets no verdict.
pub const MIN_REQUESTS: u64 = 20;
/// Smallest failure-% move that can count, in percentage points.
pub const MIN_FAIL_POINTS: f64 = 0.1;

/// Compare one metric.
pub fn delta(kind: MetricKind, before: Option<f64>, after: Option<f64>, noise_pct: f64) -> Delta {
    let (Some(b), Some(a)) = (before, after) else {
        return Delta {
            before,
            after,
            delta: None,
            delta_pct: None,
            change: Change::Unknown,
        };
    };
    let d = a - b;
    let pct = (b != 0.0).then(|| d / b * 100.0);
    let beyond_noise = match pct {
        Some(p) => p.abs() > noise_pct,
        None => d != 0.0,
    };
    let big_enough = kind != MetricKind::FailPct || d.abs() >= MIN_FAIL_POINTS - 1e-12;
    let change = if !(beyond_noise && big_enough) {
        Change::Same
    } else if (d > 0.0) == kind.higher_is_better() {
        Change::Better
    } else {
        Change::Worse
    };
    Delta {
        before,
        after,
        delta: Some(d),
        delta_pct: pct,
        change,
    }
}

/// Compare one endpoint present in both runs (or in one).
pub fn compare_entry(
    before: Option<&EntrySnapshot>,
    after: Option<&EntrySnapshot>,
    noise_pct: f64,
) -> EndpointComparison {
    let any = before.or(after).expect("at least one side");
    let d = |k: MetricKind| {
        delta(
            k,
            before.and_then(|e| k.of(e)),
            after.and_then(|e| k.of(e)),
            noise_pct,
        )
    };
    let n_before = before.map_or(0, |e| e.num_requests);
    let n_after = after.map_or(0, |e| e.num_requests);
    let mut c = EndpointComparison {
        method: any.method.clone(),
        name: any.name.clone(),
        requests_before: n_before,
        requests_after: n_after,
        rps: d(MetricKind::Rps),
        fail_pct: d(MetricKind::FailPct),
        p50: d(MetricKind::P50),
        p95: d(MetricKind::P95),
        p99: d(MetricKind::P99),
        max: d(MetricKind::Max),
        verdict: Verdict::NoSignificantChange,
        reason: String::new(),
    };
    (c.verdict, c.reason) = match (before, after) {
        (Some(_), None) => (Verdict::OnlyBefore, "not requested in the after run".into()),
        (None, Some(_)) => (Verdict::OnlyAfter, "not requested in the before run".into()),
        _ if n_before.min(n_after) < MIN_REQUESTS => (
            Verdict::NoSignificantChange,
            format!("too few requests to judge (fewer than {MIN_REQUESTS} in a run)"),
        ),
        _ => verdict::decide(&c, noise_pct),
    };
    c
}

/// Compare two runs' final snapshots: every endpoint of either run, then Aggregated.
pub fn compare(before: &Snapshot, after: &Snapshot, noise_pct: f64) -> Comparison {
    let key = |e: &EntrySnapshot| (e.name.clone(), e.method.clone());
    let mut keys: Vec<(String, String)> = before
        .entries
        .iter()
        .chain(&after.entries)
        .map(key)
        .collect();
    keys.sort();
    keys.dedup();
    let find = |s: &'_ Snapshot, k: &(String, String)| -> Option<EntrySnapshot> {
        s.entries
            .iter()
            .find(|e| e.name == k.0 && e.method == k.1)
            .cloned()
    };
    let endpoints: Vec<EndpointComparison> = keys
        .iter()
        .map(|k| compare_entry(find(before, k).as_ref(), find(after, k).as_ref(), noise_pct))
        .collect();
    let total = compare_entry(Some(&before.total), Some(&after.total), noise_pct);
    let mut counts = Counts::default();
    for e in &endpoints {
        match e.verdict {
            Verdict::Better => counts.better += 1,
            Verdict::Worse => counts.worse += 1,
            Verdict::Mixed => counts.mixed += 1,
            Verdict::NoSignificantChange => counts.unchanged += 1,
            Verdict::OnlyBefore => counts.only_before += 1,
            Verdict::OnlyAfter => counts.only_after += 1,
        }
    }
    let (verdict, reason) = verdict::overall(&total, &endpoints);
    Comparison {
        noise_pct,
        verdict,
        reason,
        endpoints,
        total,
        counts,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::stats::PERCENTILES;

    /// An entry with `n` requests, `fails` failures, `rps` and p50/p95/p99/max as given.
    pub fn entry(
        method: &str,
        name: &str,
        n: u64,
        fails: u64,
        rps: f64,
        p: [f64; 4],
    ) -> EntrySnapshot {
        let pct = PERCENTILES
            .iter()
            .map(|q| {
                Some(match *q {
                    q if q <= 0.5 => p[0],
                    q if q <= 0.95 => p[1],
                    q if q < 1.0 => p[2],
                    _ => p[3],
                })
            })
            .collect();
        EntrySnapshot {
            method: method.into(),
            name: name.into(),
            num_requests: n,
            num_failures: fails,
            avg_ms: Some(p[0]),
            min_ms: Some(0.5),
            max_ms: Some(p[3]),
            avg_size: 0.0,
            total_rps: rps,
            total_fail_per_sec: 0.0,
            current_rps: 0.0,
            current_fail_per_sec: 0.0,
            percentiles: pct,
            current_percentiles: vec![None; PERCENTILES.len()],
        }
    }

    /// A stopped run's snapshot (shared with the thresholds' tests).
    pub(crate) use crate::thresholds::tests::snap;

    #[test]
    fn deltas_by_hand() {
        // p95 200 → 150 ms: Δ −50, Δ% −25 → better (lower latency).
        let d = delta(MetricKind::P95, Some(200.0), Some(150.0), 5.0);
        assert_eq!(
            (d.delta, d.delta_pct, d.change),
            (Some(-50.0), Some(-25.0), Change::Better)
        );
        // req/s 100 → 104: +4 % is inside a 5 % noise threshold.
        assert_eq!(
            delta(MetricKind::Rps, Some(100.0), Some(104.0), 5.0).change,
            Change::Same
        );
        // req/s 100 → 90: −10 % → worse (throughput fell).
        assert_eq!(
            delta(MetricKind::Rps, Some(100.0), Some(90.0), 5.0).change,
            Change::Worse
        );
        // fail % 0 → 0.05: new failures, but below 0.1 percentage point → same.
        let d = delta(MetricKind::FailPct, Some(0.0), Some(0.05), 5.0);
        assert_eq!((d.delta_pct, d.change), (None, Change::Same));
        // fail % 0 → 2 → worse; Δ% undefined.
        assert_eq!(
            delta(MetricKind::FailPct, Some(0.0), Some(2.0), 5.0).change,
            Change::Worse
        );
        assert_eq!(
            delta(MetricKind::P50, None, Some(2.0), 5.0).change,
            Change::Unknown
        );
    }

    #[test]
    fn verdicts_by_hand() {
        // Before: 60 % failures (pool too small); after: none and twice the req/s, but every
        // latency percentile worse. A trade-off: mixed, naming both sides.
        let before = snap(
            vec![
                entry(
                    "GET",
                    "/orders",
                    1000,
                    600,
                    50.0,
                    [10.0, 80.0, 120.0, 300.0],
                ),
                entry("GET", "/old", 100, 0, 5.0, [1.0; 4]),
            ],
            entry(
                "",
                "Aggregated",
                1100,
                600,
                55.0,
                [10.0, 80.0, 120.0, 300.0],
            ),
        );
        let after = snap(
            vec![
                entry("GET", "/orders", 2000, 0, 100.0, [12.0, 95.0, 150.0, 400.0]),
                entry("GET", "/new", 5, 0, 1.0, [1.0; 4]),
            ],
            entry("", "Aggregated", 2005, 0, 101.0, [12.0, 95.0, 150.0, 400.0]),
        );
        let c = compare(&before, &after, 5.0);
        assert_eq!(c.verdict, Verdict::Mixed);
        assert_eq!(
            c.total.fail_pct.before.map(|v| (v * 1000.0).round()),
            Some(54545.0)
        );
        let orders = c.endpoints.iter().find(|e| e.name == "/orders").unwrap();
        assert_eq!(orders.verdict, Verdict::Mixed);
        assert_eq!(
            orders.reason,
            "fail % -100.0 % (60.00 % → 0.00 %), req/s +100.0 %, but p95 +18.8 %, p99 +25.0 %, p50 +20.0 %"
        );
        assert_eq!(orders.p95.change, Change::Worse);
        assert_eq!(orders.p95.delta_pct, Some(18.75));
        assert_eq!(orders.rps.delta_pct, Some(100.0));
        assert_eq!(
            c.reason,
            "fail % -100.0 % (54.55 % → 0.00 %), req/s +83.6 %, but p95 +18.8 %, p99 +25.0 %, p50 +20.0 %"
        );
        assert_eq!(c.reason, c.total.reason);
        let names: Vec<(&str, Verdict)> = c
            .endpoints
            .iter()
            .map(|e| (e.name.as_str(), e.verdict))
            .collect();
        assert_eq!(
            names,
            vec![
                ("/new", Verdict::OnlyAfter),
                ("/old", Verdict::OnlyBefore),
                ("/orders", Verdict::Mixed)
            ]
        );
        assert_eq!(
            c.counts,
            Counts {
                better: 0,
                worse: 0,
                mixed: 1,
                unchanged: 0,
                only_before: 1,
                only_after: 1
            }
        );
        assert_eq!(
            serde_json::to_value(&c).unwrap()["verdict"],
            serde_json::json!("mixed")
        );

        // p95 +8 %: worse at 5 % noise, no significant change at 10 %.
        let a = snap(
            vec![],
            entry("", "Aggregated", 500, 0, 50.0, [10.0, 100.0, 150.0, 200.0]),
        );
        let b = snap(
            vec![],
            entry("", "Aggregated", 500, 0, 50.0, [10.0, 108.0, 150.0, 200.0]),
        );
        assert_eq!(compare(&a, &b, 5.0).verdict, Verdict::Worse);
        let calm = compare(&a, &b, 10.0);
        assert_eq!(calm.verdict, Verdict::NoSignificantChange);
        assert_eq!(calm.reason, "every change within the ±10 % noise threshold");
        // Too few requests: no verdict however large the change.
        let tiny = compare(
            &snap(vec![], entry("", "Aggregated", 5, 0, 1.0, [1.0; 4])),
            &snap(vec![], entry("", "Aggregated", 5, 5, 1.0, [9.0; 4])),
            5.0,
        );
        assert_eq!(tiny.verdict, Verdict::NoSignificantChange);
        assert!(tiny.reason.contains("too few requests"), "{}", tiny.reason);
    }
}
