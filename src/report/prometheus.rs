//! Surge's own statistics in the Prometheus text exposition format (version 0.0.4), for
//! `GET /metrics`: a Prometheus beside the test scrapes the load next to everything else it
//! watches. Names are prefixed `surge_`; per endpoint, labelled by `method` and `name`:
//!
//! - `surge_requests_total`, `surge_failures_total` (counters; they restart at a new test or
//!   a statistics reset, which Prometheus reads as a counter reset);
//! - `surge_response_time_seconds` (a summary: exact p50, p95 and p99 from the HDR data, with
//!   `_sum` and `_count`);
//!
//! and for the test: `surge_users`, `surge_target_rate` (open model), `surge_run`,
//! `surge_state{state}`, `surge_current_rps`, `surge_generator_overloaded`,
//! `surge_generator_lag_seconds`.

use std::fmt::Write as _;

use crate::stats::{EntrySnapshot, RunState, Snapshot};

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

fn labels(e: &EntrySnapshot) -> String {
    format!(
        "method=\"{}\",name=\"{}\"",
        escape(&e.method),
        escape(&e.name)
    )
}

/// The exposition of `snap`.
pub fn metrics(snap: &Snapshot) -> String {
    let mut out = String::new();
    let entries = &snap.entries;
    header(
        &mut out,
        "surge_requests_total",
        "counter",
        "Requests finished, by method and name (since the test started or was reset).",
    );
    for e in entries {
        let _ = writeln!(
            out,
            "surge_requests_total{{{}}} {}",
            labels(e),
            e.num_requests
        );
    }
    header(
        &mut out,
        "surge_failures_total",
        "counter",
        "Requests that failed, by method and name.",
    );
    for e in entries {
        let _ = writeln!(
            out,
            "surge_failures_total{{{}}} {}",
            labels(e),
            e.num_failures
        );
    }
    header(
        &mut out,
        "surge_response_time_seconds",
        "summary",
        "Response times, by method and name: exact quantiles (HdrHistogram).",
    );
    for e in entries {
        let l = labels(e);
        for q in [0.5, 0.95, 0.99] {
            let v = e.percentile(q).map(|ms| ms / 1000.0);
            let _ = writeln!(
                out,
                "surge_response_time_seconds{{{l},quantile=\"{q}\"}} {}",
                value(v)
            );
        }
        let sum = e.avg_ms.map_or(0.0, |a| a * e.num_requests as f64 / 1000.0);
        let _ = writeln!(out, "surge_response_time_seconds_sum{{{l}}} {sum}");
        let _ = writeln!(
            out,
            "surge_response_time_seconds_count{{{l}}} {}",
            e.num_requests
        );
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
        let text = metrics(&Aggregator::new(Limits::default()).snapshot(100.0, &info));
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
