//! How a verdict is reached, and the words that say why.
//!
//! An endpoint: the deciding metrics (failure %, p95, req/s, p99, p50) that changed beyond
//! the noise are its evidence. All of them better → *better*, all worse → *worse*, some
//! each way → *mixed*, none → *no significant change*. The reason names them in that order:
//! one side, `fail % -100.0 % (29.60 % → 0.00 %)`; mixed, the better side, then `, but ` and
//! the worse side (`fail % -100.0 % (29.60 % → 0.00 %), but req/s -27.0 %, p50 +1291.0 %`).
//! The first metric named carries its values.
//!
//! The whole comparison: the Aggregated row's verdict, except that a better (worse)
//! Aggregated row while endpoints went worse (better) is *mixed*, naming those endpoints. An
//! endpoint that is itself mixed does not overturn the Aggregated row: its row says mixed.

use super::{Change, EndpointComparison, MetricKind, Verdict};

/// Endpoints named in the overall reason before "and N more".
const NAMED_ENDPOINTS: usize = 4;

/// A value with its unit, as in reasons: `12.5 req/s`, `0.00 %`, `1200 ms`, `8.40 ms`.
pub(super) fn fmt_value(kind: MetricKind, v: f64) -> String {
    match kind {
        MetricKind::Rps => format!("{v:.1} req/s"),
        MetricKind::FailPct => format!("{v:.2} %"),
        _ if v >= 100.0 => format!("{v:.0} ms"),
        _ => format!("{v:.2} ms"),
    }
}

/// `p95 -42.1 %`, with `(1200 ms → 695 ms)` when `values` or when Δ% is undefined (`new`).
fn describe(c: &EndpointComparison, k: MetricKind, values: bool) -> String {
    let d = c.delta(k);
    let arrow = || {
        format!(
            "({} → {})",
            fmt_value(k, d.before.unwrap_or(0.0)),
            fmt_value(k, d.after.unwrap_or(0.0))
        )
    };
    match d.delta_pct {
        Some(p) if values => format!("{} {p:+.1} % {}", k.label(), arrow()),
        Some(p) => format!("{} {p:+.1} %", k.label()),
        None => format!("{} new {}", k.label(), arrow()),
    }
}

/// The verdict and reason of an endpoint with enough requests in both runs.
pub(super) fn decide(c: &EndpointComparison, noise_pct: f64) -> (Verdict, String) {
    let moved = |want: Change| -> Vec<MetricKind> {
        MetricKind::DECIDING
            .into_iter()
            .filter(|&k| c.delta(k).change == want)
            .collect()
    };
    let (better, worse) = (moved(Change::Better), moved(Change::Worse));
    let verdict = match (better.is_empty(), worse.is_empty()) {
        (true, true) => {
            return (
                Verdict::NoSignificantChange,
                format!("every change within the ±{noise_pct} % noise threshold"),
            )
        }
        (false, true) => Verdict::Better,
        (true, false) => Verdict::Worse,
        (false, false) => Verdict::Mixed,
    };
    let named: Vec<String> = better
        .iter()
        .chain(&worse)
        .enumerate()
        .map(|(i, &k)| describe(c, k, i == 0))
        .collect();
    let reason = if verdict == Verdict::Mixed {
        let (b, w) = named.split_at(better.len());
        format!("{}, but {}", b.join(", "), w.join(", "))
    } else {
        // One side: the first metric decides the words, as it always has.
        named[0].clone()
    };
    (verdict, reason)
}

fn title(e: &EndpointComparison) -> String {
    if e.method.is_empty() {
        e.name.clone()
    } else {
        format!("{} {}", e.method, e.name)
    }
}

/// The overall verdict and reason (see the module docs).
pub(super) fn overall(
    total: &EndpointComparison,
    endpoints: &[EndpointComparison],
) -> (Verdict, String) {
    let against = match total.verdict {
        Verdict::Better => Verdict::Worse,
        Verdict::Worse => Verdict::Better,
        v => return (v, total.reason.clone()),
    };
    let names: Vec<String> = endpoints
        .iter()
        .filter(|e| e.verdict == against)
        .map(title)
        .collect();
    if names.is_empty() {
        return (total.verdict, total.reason.clone());
    }
    let mut list = names[..names.len().min(NAMED_ENDPOINTS)].join(", ");
    if names.len() > NAMED_ENDPOINTS {
        list.push_str(&format!(" and {} more", names.len() - NAMED_ENDPOINTS));
    }
    let endpoints = format!(
        "{} of {} endpoints {} ({list})",
        names.len(),
        endpoints.len(),
        against.as_str()
    );
    let aggregated = format!("Aggregated {}", total.reason);
    let reason = if total.verdict == Verdict::Better {
        format!("{aggregated}, but {endpoints}")
    } else {
        format!("{endpoints}, but {aggregated}")
    };
    (Verdict::Mixed, reason)
}

#[cfg(test)]
mod tests {
    use crate::compare::tests::{entry, snap};
    use crate::compare::{compare, Verdict};
    use crate::stats::EntrySnapshot;

    /// The verdict and reason of one Aggregated-only comparison.
    fn judge(before: EntrySnapshot, after: EntrySnapshot) -> (Verdict, String) {
        let c = compare(&snap(vec![], before), &snap(vec![], after), 5.0);
        assert_eq!((c.verdict, &c.reason), (c.total.verdict, &c.total.reason));
        (c.verdict, c.reason)
    }

    fn total(n: u64, fails: u64, rps: f64, p: [f64; 4]) -> EntrySnapshot {
        entry("", "Aggregated", n, fails, rps, p)
    }

    #[test]
    fn each_verdict_names_its_evidence() {
        // All significant changes better: p95 and p50 faster, req/s up; the first names it.
        assert_eq!(
            judge(
                total(1000, 0, 100.0, [50.0, 200.0, 300.0, 400.0]),
                total(1200, 0, 120.0, [40.0, 150.0, 300.0, 400.0]),
            ),
            (Verdict::Better, "p95 -25.0 % (200 ms → 150 ms)".into())
        );
        // All worse: new failures lead, whatever else moved the same way.
        assert_eq!(
            judge(
                total(1000, 0, 100.0, [50.0, 200.0, 300.0, 400.0]),
                total(1000, 20, 80.0, [50.0, 260.0, 300.0, 400.0]),
            ),
            (Verdict::Worse, "fail % new (0.00 % → 2.00 %)".into())
        );
        // The "pool=5" against "no pool": no failures any more, but 14 times the
        // median and a quarter fewer requests per second. Max alone never decides.
        assert_eq!(
            judge(
                total(1000, 296, 100.0, [191.0, 3000.0, 3500.0, 4000.0]),
                total(730, 0, 73.0, [2660.0, 3000.0, 3500.0, 9000.0]),
            ),
            (
                Verdict::Mixed,
                "fail % -100.0 % (29.60 % → 0.00 %), but req/s -27.0 %, p50 +1292.7 %".into()
            )
        );
        // Latency worse, throughput better: mixed, better side first.
        assert_eq!(
            judge(
                total(1000, 0, 100.0, [50.0, 200.0, 300.0, 400.0]),
                total(1500, 0, 150.0, [50.0, 240.0, 300.0, 400.0]),
            ),
            (
                Verdict::Mixed,
                "req/s +50.0 % (100.0 req/s → 150.0 req/s), but p95 +20.0 %".into()
            )
        );
        // Inside the noise both ways, and max far off: no significant change.
        assert_eq!(
            judge(
                total(1000, 0, 100.0, [50.0, 200.0, 300.0, 400.0]),
                total(1000, 0, 97.0, [51.0, 196.0, 310.0, 2000.0]),
            ),
            (
                Verdict::NoSignificantChange,
                "every change within the ±5 % noise threshold".into()
            )
        );
    }

    #[test]
    fn endpoints_that_went_the_other_way_make_the_verdict_mixed() {
        let fast = [10.0, 100.0, 150.0, 200.0];
        let slow = [10.0, 130.0, 150.0, 200.0];
        let quick = [10.0, 60.0, 150.0, 200.0];
        let e = |name: &str, p: [f64; 4]| entry("GET", name, 500, 0, 50.0, p);
        let names = ["/a", "/b", "/c", "/d", "/e", "/f"];
        let before = snap(
            names.iter().map(|n| e(n, fast)).collect(),
            total(3000, 0, 300.0, [10.0, 200.0, 300.0, 400.0]),
        );
        // Aggregated p95 better (one endpoint got much faster), but four endpoints slower.
        let after = |slowed: usize| {
            snap(
                names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| match i {
                        _ if i < slowed => e(n, slow),
                        5 => e(n, quick),
                        _ => e(n, fast),
                    })
                    .collect(),
                total(3000, 0, 300.0, [10.0, 150.0, 300.0, 400.0]),
            )
        };
        let c = compare(&before, &after(4), 5.0);
        assert_eq!(c.total.verdict, Verdict::Better);
        assert_eq!(c.verdict, Verdict::Mixed);
        assert_eq!(
            c.reason,
            "Aggregated p95 -25.0 % (200 ms → 150 ms), but 4 of 6 endpoints worse \
             (GET /a, GET /b, GET /c, GET /d)"
        );
        assert_eq!((c.counts.better, c.counts.worse), (1, 4));
        let c = compare(&before, &after(5), 5.0);
        assert_eq!(
            c.reason,
            "Aggregated p95 -25.0 % (200 ms → 150 ms), but 5 of 6 endpoints worse \
             (GET /a, GET /b, GET /c, GET /d and 1 more)"
        );
        // No endpoint slower: the Aggregated row's verdict stands.
        let c = compare(&before, &after(0), 5.0);
        assert_eq!(
            (c.verdict, c.reason.as_str()),
            (Verdict::Better, "p95 -25.0 % (200 ms → 150 ms)")
        );
        // The other way round: Aggregated worse while four endpoints got faster.
        let c = compare(&after(4), &before, 5.0);
        assert_eq!(c.verdict, Verdict::Mixed);
        assert_eq!(
            c.reason,
            "4 of 6 endpoints better (GET /a, GET /b, GET /c, GET /d), \
             but Aggregated p95 +33.3 % (150 ms → 200 ms)"
        );
    }
}
