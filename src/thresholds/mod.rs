//! Thresholds (k6-style pass/fail criteria for CI): parsing (`parse`) and evaluation on a
//! [`Snapshot`], live (badges in the dashboard, `--abort-on-threshold`) and at the end (exit
//! code 3).
//!
//! Figures are whole-run ones (the same as the statistics table and the stats CSV). A scope
//! without a method (`"/orders: p99 < 1s"`) checks every method with that name and reports
//! the worst. A threshold with nothing to measure yet is *pending* while the test runs and
//! *failed* at the end: CI must not pass on a check that never ran.

mod parse;

use std::time::Duration;

use serde::Serialize;

pub use parse::{
    parse, parse_all, Limit, Metric, Op, Scope, Threshold, ThresholdError, ThresholdProblem, What,
};

use crate::scrape::board::Worst;

use crate::stats::{EntrySnapshot, Snapshot};

/// Exit code of a headless run in which a threshold failed.
pub const EXIT_THRESHOLD: i32 = 3;

/// Outcome of one threshold.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ThresholdResult {
    /// The expression as written.
    pub threshold: String,
    /// `None`: nothing to judge yet (no requests in scope, or no baseline value).
    pub passed: Option<bool>,
    /// The measured value (ms, fraction or req/s).
    pub actual: Option<f64>,
    /// The limit it was held to (after applying the baseline factor).
    pub limit: Option<f64>,
    /// One line for people: `p95 = 432 ms (limit < 500 ms)`.
    pub message: String,
}

/// The value of `metric` for one entry (`None` without requests).
fn value(e: &EntrySnapshot, metric: &Metric) -> Option<f64> {
    if e.num_requests == 0 {
        return None;
    }
    match *metric {
        Metric::Server(_) => None,
        Metric::Percentile(q) => e.percentile(q),
        Metric::Avg => e.avg_ms,
        Metric::Min => e.min_ms,
        Metric::Max => e.max_ms,
        Metric::Rps => Some(e.total_rps),
        Metric::FailRatio => Some(e.fail_ratio()),
    }
}

/// The entries a scope selects (Aggregated without a scope).
fn entries<'a>(snap: &'a Snapshot, scope: &Option<Scope>) -> Vec<&'a EntrySnapshot> {
    match scope {
        None => vec![&snap.total],
        Some(s) => snap
            .entries
            .iter()
            .filter(|e| e.name == s.name && s.method.as_ref().is_none_or(|m| *m == e.method))
            .collect(),
    }
}

/// The worst scraped value of a server threshold's series while the statistics ran
/// (from their start, or the step's reset, to the stop), relative to its comparison: the
/// highest against `<`, the lowest against `>`.
fn server_value(what: &What, op: Op, snap: &Snapshot) -> Result<Worst, String> {
    let Some(board) = &snap.server else {
        return Err("no server metrics in this test (add --metrics URL or [[metrics]])".into());
    };
    let from = snap.stats_start.unwrap_or(f64::NEG_INFINITY);
    let to = snap.stats_end.unwrap_or(f64::INFINITY);
    let high_is_bad = matches!(op, Op::Lt | Op::Le);
    board
        .worst(what, from, to, high_is_bad)
        .ok_or_else(|| match what {
            What::View(k) => format!(
                "nothing scraped for server.{} yet (the target's /metrics must expose it)",
                k.key
            ),
            What::Series(n) => format!("no series \"{n}\" scraped yet"),
        })
}

/// The scope's value: the worst one when several entries match (a server threshold has
/// no scope: see [`server_value`]).
fn scoped_value(t: &Threshold, snap: &Snapshot) -> Option<f64> {
    let values = entries(snap, &t.scope)
        .into_iter()
        .filter_map(|e| value(e, &t.metric));
    if t.metric.higher_is_better() {
        values.reduce(f64::min)
    } else {
        values.reduce(f64::max)
    }
}

/// Evaluate one threshold on `snap`, with `baseline` for relative limits. `at_end` turns
/// "nothing to judge" into a failure.
pub fn evaluate(
    t: &Threshold,
    snap: &Snapshot,
    baseline: Option<&Snapshot>,
    at_end: bool,
) -> ThresholdResult {
    let name = t.metric.name();
    let limit = match t.limit {
        Limit::Value(v) => Ok(v),
        Limit::Baseline(k) => match baseline {
            None => Err("no baseline run (use --baseline ID|last)".to_string()),
            Some(b) => scoped_value(t, b)
                .map(|v| v * k)
                .ok_or_else(|| format!("the baseline run has no {name} for this scope")),
        },
    };
    let server = match &t.metric {
        Metric::Server(what) => Some(server_value(what, t.op, snap)),
        _ => None,
    };
    let actual = match &server {
        Some(worst) => worst.as_ref().ok().map(|w| w.value),
        None => scoped_value(t, snap),
    };
    let (passed, message) = match (&limit, actual) {
        (Err(why), _) => (None, why.clone()),
        (Ok(_), None) => match &server {
            Some(Err(why)) => (None, why.clone()),
            _ => (None, "no requests yet in this scope".to_string()),
        },
        (Ok(l), Some(a)) if server.is_some() => {
            let on = match (&server, snap.server.as_ref().map(|b| b.len())) {
                (Some(Ok(w)), Some(n)) if n > 1 => format!(" on {}", w.source),
                _ => String::new(),
            };
            (
                Some(t.op.holds(a, *l)),
                format!(
                    "{name} = {}{on} (limit {} {})",
                    t.metric.format(a),
                    t.op.as_str(),
                    t.metric.format(*l)
                ),
            )
        }
        (Ok(l), Some(a)) => (
            Some(t.op.holds(a, *l)),
            format!(
                "{name} = {} (limit {} {})",
                t.metric.format(a),
                t.op.as_str(),
                t.metric.format(*l)
            ),
        ),
    };
    let passed = match passed {
        None if at_end => Some(false),
        p => p,
    };
    ThresholdResult {
        threshold: t.text.clone(),
        passed,
        actual,
        limit: limit.ok(),
        message,
    }
}

/// Evaluate every threshold.
pub fn evaluate_all(
    ts: &[Threshold],
    snap: &Snapshot,
    baseline: Option<&Snapshot>,
    at_end: bool,
) -> Vec<ThresholdResult> {
    ts.iter()
        .map(|t| evaluate(t, snap, baseline, at_end))
        .collect()
}

/// Whether any result failed.
pub fn any_failed(results: &[ThresholdResult]) -> bool {
    results.iter().any(|r| r.passed == Some(false))
}

/// `--abort-on-threshold`: stop the test when a threshold fails, but not before `grace` has
/// passed since the statistics started (the first seconds of a run are noisy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbortRule {
    pub grace: Duration,
}

impl AbortRule {
    /// The first failed result if the test should stop now.
    pub fn should_abort<'a>(
        &self,
        snap: &Snapshot,
        results: &'a [ThresholdResult],
    ) -> Option<&'a ThresholdResult> {
        let start = snap.stats_start?;
        if snap.time - start < self.grace.as_secs_f64() {
            return None;
        }
        results.iter().find(|r| r.passed == Some(false))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::stats::{RunState, PERCENTILES};

    fn entry(method: &str, name: &str, n: u64, fails: u64, p95: f64, rps: f64) -> EntrySnapshot {
        EntrySnapshot {
            method: method.into(),
            name: name.into(),
            num_requests: n,
            num_failures: fails,
            avg_ms: Some(p95 / 2.0),
            min_ms: Some(1.0),
            max_ms: Some(p95 * 2.0),
            avg_size: 0.0,
            total_rps: rps,
            total_fail_per_sec: 0.0,
            current_rps: 0.0,
            current_fail_per_sec: 0.0,
            percentiles: PERCENTILES
                .iter()
                .map(|q| Some(if *q == 0.95 { p95 } else { p95 * q }))
                .collect(),
            current_percentiles: vec![None; PERCENTILES.len()],
        }
    }

    /// An Aggregated entry of 10 requests.
    pub(crate) fn snap_total() -> EntrySnapshot {
        entry("", "Aggregated", 10, 0, 100.0, 1.0)
    }

    pub(crate) fn snap(entries: Vec<EntrySnapshot>, total: EntrySnapshot) -> Snapshot {
        Snapshot {
            seq: 1,
            time: 100.0,
            state: RunState::Stopped,
            user_count: 1,
            run: 1,
            host: "http://h".into(),
            stats_start: Some(90.0),
            stats_end: Some(100.0),
            drain_start: None,
            entries,
            total,
            failures: vec![],
            exceptions: vec![],
            open_model: None,
            warnings: vec![],
            generator: Default::default(),
            first_failure: None,
            last_second: None,
            threshold_crossings: Vec::new(),
            server: None,
            marks: Vec::new(),
        }
    }

    #[test]
    fn evaluates_scopes_limits_and_baselines() {
        let s = snap(
            vec![
                entry("GET", "/a", 100, 0, 300.0, 40.0),
                entry("POST", "/a", 100, 10, 900.0, 10.0),
            ],
            entry("", "Aggregated", 200, 10, 600.0, 50.0),
        );
        let r = |text: &str, b: Option<&Snapshot>| evaluate(&parse(text).unwrap(), &s, b, true);
        assert_eq!(r("p95 < 500ms", None).passed, Some(false));
        assert_eq!(
            r("p95 < 500ms", None).message,
            "p95 = 600 ms (limit < 500 ms)"
        );
        assert_eq!(r("p95 < 1s", None).passed, Some(true));
        assert_eq!(r("fail_ratio < 1%", None).passed, Some(false));
        assert_eq!(r("fail_ratio < 6%", None).passed, Some(true));
        assert_eq!(r("rps > 40", None).passed, Some(true));
        assert_eq!(r("GET /a: p95 < 500ms", None).passed, Some(true));
        // Without a method: the worst of GET and POST.
        assert_eq!(r("/a: p95 < 500ms", None).actual, Some(900.0));
        assert_eq!(r("/a: rps > 20", None).actual, Some(10.0));
        // Nothing in scope: failed at the end, pending while running.
        assert_eq!(r("/nope: p95 < 1s", None).passed, Some(false));
        assert_eq!(
            evaluate(&parse("/nope: p95 < 1s").unwrap(), &s, None, false).passed,
            None
        );
        // Baseline: 600 ms now against 500 ms × 1.1 = 550 ms.
        let b = snap(vec![], entry("", "Aggregated", 50, 0, 500.0, 50.0));
        let res = r("p95 < baseline * 1.10", Some(&b));
        assert_eq!((res.passed, res.limit), (Some(false), Some(550.0)));
        assert_eq!(r("p95 < baseline * 1.25", Some(&b)).passed, Some(true));
        assert_eq!(r("p95 < baseline", None).passed, Some(false));
    }

    /// A server threshold reads the worst point scraped while the statistics ran: a step of
    /// a breaking-point search (statistics reset at its start) sees only its own points.
    #[test]
    fn server_thresholds_judge_the_worst_point_of_the_window() {
        use crate::scrape::{parse::parse as expo, Board, ServerBoard, Source};
        let src = Source::new("http://db:9187/metrics", Some("db"), None, vec![]).unwrap();
        let board = Board::new(&[src]);
        for (t, used) in [(80.0, 19.0), (92.0, 6.0), (95.0, 11.0), (99.0, 8.0)] {
            let text = format!("# TYPE pg_stat_activity_count gauge\npg_stat_activity_count{{state=\"active\"}} {used}\npg_stat_activity_count{{state=\"idle\"}} 1\n# TYPE pg_settings_max_connections gauge\npg_settings_max_connections 20\n");
            board.record(0, t, &expo(&text));
        }
        let mut s = snap(vec![], entry("", "Aggregated", 10, 0, 100.0, 1.0));
        s.server = Some(ServerBoard(std::sync::Arc::new(board)));
        // Statistics from 90 to 100: the 20 (19 + 1) at 80 is another step's.
        let r = |text: &str| evaluate(&parse(text).unwrap(), &s, None, true);
        let res = r("server.connections < 12");
        assert_eq!(
            (res.passed, res.actual),
            (Some(false), Some(12.0)),
            "{}",
            res.message
        );
        assert_eq!(res.message, "server.connections = 12 (limit < 12)");
        assert_eq!(r("server.connections < 13").passed, Some(true));
        // Against `>`, the worst is the lowest.
        assert_eq!(r("server.connections > 6").actual, Some(7.0));
        assert_eq!(
            r("server[\"pg_settings_max_connections\"] <= 20").passed,
            Some(true)
        );
        let none = r("server[\"nope\"] < 1");
        assert_eq!(
            (none.passed, none.message.as_str()),
            (Some(false), "no series \"nope\" scraped yet")
        );
        let mut bare = s.clone();
        bare.server = None;
        let res = evaluate(&parse("server.cpu < 1").unwrap(), &bare, None, true);
        assert!(res.message.contains("add --metrics URL"), "{}", res.message);
    }

    #[test]
    fn abort_waits_for_the_grace_period() {
        let s = snap(vec![], entry("", "Aggregated", 10, 5, 100.0, 1.0));
        let res = evaluate_all(&[parse("fail_ratio < 1%").unwrap()], &s, None, false);
        assert!(AbortRule {
            grace: Duration::from_secs(5)
        }
        .should_abort(&s, &res)
        .is_some());
        assert!(AbortRule {
            grace: Duration::from_secs(30)
        }
        .should_abort(&s, &res)
        .is_none());
    }
}
