//! Surge's own statistics in the Prometheus text exposition format (version 0.0.4), for
//! `GET /metrics`: a Prometheus beside the test scrapes the load next to everything else it
//! watches. Names are prefixed `surge_`; per endpoint, labelled by `method` and `name`:
//!
//! - `surge_requests_total`, `surge_failures_total` (counters; they restart at a new test or
//!   a statistics reset, which Prometheus reads as a counter reset);
//! - `surge_response_time_seconds` (a histogram, buckets 1 ms to 10 s, read from the HDR
//!   data, with `_sum` and `_count`);
//! - `surge_response_time_quantile_seconds{quantile}` (gauges: the exact p50, p95 and p99);
//!
//! and for the test: `surge_users`, `surge_target_rate` (open model), `surge_run`,
//! `surge_state{state}`, `surge_current_rps`, `surge_generator_overloaded`,
//! `surge_generator_lag_seconds`.

use std::fmt::Write as _;

use crate::stats::{RunState, Snapshot, StatsEntry, PERCENTILES};

/// The content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A label value escaped as the format asks: backslash, double quote and newline.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A sample value: integers as such, `NaN` for none.
fn value(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v}"),
        _ => "NaN".to_string(),
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The histogram's bucket bounds, seconds: 1 ms to 10 s, for HTTP answers.
pub const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn entry_labels(method: &str, name: &str) -> String {
    format!("method=\"{}\",name=\"{}\"", escape(method), escape(name))
}

/// The exposition of `snap`, with each endpoint's counters, histogram and exact quantiles
/// from `entries` (the engine's merged statistics: `Engine::entry_stats`; the Aggregated
/// entry, method "", is left out).
pub fn metrics(snap: &Snapshot, entries: &[(String, String, StatsEntry)]) -> String {
    let mut out = String::new();
    let entries: Vec<(String, &StatsEntry)> = entries
        .iter()
        .filter(|(method, _, _)| !method.is_empty())
        .map(|(method, name, e)| (entry_labels(method, name), e))
        .collect();
    header(
        &mut out,
        "surge_requests_total",
        "counter",
        "Requests finished, by method and name (since the test started or was reset).",
    );
    for (l, e) in &entries {
        let _ = writeln!(out, "surge_requests_total{{{l}}} {}", e.num_requests);
    }
    header(
        &mut out,
        "surge_failures_total",
        "counter",
        "Requests that failed, by method and name.",
    );
    for (l, e) in &entries {
        let _ = writeln!(out, "surge_failures_total{{{l}}} {}", e.num_failures);
    }
    header(
        &mut out,
        "surge_response_time_seconds",
        "histogram",
        "Response times, by method and name (buckets from the HdrHistogram, 3 significant digits).",
    );
    for (l, e) in &entries {
        let buckets = e.hist.sparse();
        let mut below = 0_u64;
        let mut i = 0;
        for le in BUCKETS {
            let le_us = (le * 1e6).round() as u64;
            while i < buckets.len() && buckets[i].0 <= le_us {
                below += buckets[i].1;
                i += 1;
            }
            let _ = writeln!(
                out,
                "surge_response_time_seconds_bucket{{{l},le=\"{le}\"}} {below}"
            );
        }
        let _ = writeln!(
            out,
            "surge_response_time_seconds_bucket{{{l},le=\"+Inf\"}} {}",
            e.num_requests
        );
        let _ = writeln!(
            out,
            "surge_response_time_seconds_sum{{{l}}} {}",
            e.total_us as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "surge_response_time_seconds_count{{{l}}} {}",
            e.num_requests
        );
    }
    header(
        &mut out,
        "surge_response_time_quantile_seconds",
        "gauge",
        "Exact response time quantiles (p50, p95, p99), by method and name, from the HdrHistogram.",
    );
    for (l, e) in &entries {
        let p = e.percentiles_ms();
        for q in [0.5, 0.95, 0.99] {
            let i = PERCENTILES.iter().position(|x| (*x - q).abs() < 1e-9);
            let v = i.and_then(|i| p[i]).map(|ms| ms / 1000.0);
            let _ = writeln!(
                out,
                "surge_response_time_quantile_seconds{{{l},quantile=\"{q}\"}} {}",
                value(v)
            );
        }
    }
    let gauges: [(&str, &str, Option<f64>); 5] = [
        (
            "surge_users",
            "Users running now.",
            Some(f64::from(snap.user_count)),
        ),
        (
            "surge_target_rate",
            "The open model's arrival rate, task starts per second (NaN in the closed model).",
            snap.open_model.as_ref().map(|o| o.target_rate),
        ),
        (
            "surge_run",
            "The test's number since the server started.",
            Some(f64::from(snap.run)),
        ),
        (
            "surge_current_rps",
            "Requests per second over the last complete seconds (all endpoints).",
            Some(snap.total.current_rps),
        ),
        (
            "surge_generator_lag_seconds",
            "Surge's own scheduling lag over the last tick.",
            Some(snap.generator.lag_ms / 1000.0),
        ),
    ];
    for (name, help, v) in gauges {
        header(&mut out, name, "gauge", help);
        let _ = writeln!(out, "{name} {}", value(v));
    }
    header(
        &mut out,
        "surge_generator_overloaded",
        "gauge",
        "1 while Surge (or its machine) cannot hold the load: the figures are then not the target's alone.",
    );
    let _ = writeln!(
        out,
        "surge_generator_overloaded {}",
        u8::from(snap.generator.overloaded)
    );
    header(
        &mut out,
        "surge_state",
        "gauge",
        "1 for the test's state (ready, spawning, running, stopping, stopped).",
    );
    for s in [
        RunState::Ready,
        RunState::Spawning,
        RunState::Running,
        RunState::Stopping,
        RunState::Stopped,
    ] {
        let _ = writeln!(
            out,
            "surge_state{{state=\"{}\"}} {}",
            s.as_str(),
            u8::from(snap.state == s)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::aggregator::{Aggregator, RunInfo};
    use crate::stats::Limits;

    /// Every `surge_...` series the Grafana dashboard in `docs/prometheus/` plots is one this
    /// exposition declares, and the dashboard is valid JSON.
    #[test]
    fn the_grafana_dashboard_plots_only_exported_series() {
        let info = RunInfo {
            state: RunState::Running,
            user_count: 3,
            run: 1,
            host: "http://h".into(),
            target_rate: None,
        };
        let text = metrics(
            &Aggregator::new(Limits::default()).snapshot(100.0, &info),
            &[],
        );
        let declared: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split(' ').next())
            .collect();
        assert!(text.contains("surge_users 3"), "{text}");
        let dashboard = include_str!("../../docs/prometheus/grafana-dashboard.json");
        let json: serde_json::Value = serde_json::from_str(dashboard).unwrap();
        let panels = json["panels"].as_array().unwrap();
        assert!(panels.len() >= 4);
        for p in panels {
            for t in p["targets"].as_array().unwrap() {
                let expr = t["expr"].as_str().unwrap();
                for (i, _) in expr.match_indices("surge_") {
                    let name: String = expr[i..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    assert!(declared.contains(&name.as_str()), "{name} in {expr}");
                }
            }
        }
    }

    #[test]
    fn label_values_are_escaped_and_missing_values_are_nan() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(value(None), "NaN");
        assert_eq!(value(Some(f64::INFINITY)), "NaN");
        assert_eq!(value(Some(3.0)), "3");
        assert_eq!(value(Some(0.25)), "0.25");
    }
}
