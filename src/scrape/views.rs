//! The built-in server charts, chosen by what a target exposes: a view appears once one of
//! the series it reads is present. Each is computed per scrape from that scrape's readings
//! (rates of counters, gauges, histogram increases), before the series cap applies.
//!
//! | view | reads | unit |
//! |---|---|---|
//! | `cpu` | `process_cpu_seconds_total` | cores |
//! | `memory` | `process_resident_memory_bytes` | MB |
//! | `requests` | `http_requests_total`, `http_server_requests_seconds_count`, ... by status | req/s (all, 5xx) |
//! | `latency` | `http_request_duration_seconds`, `http_server_requests_seconds`, ... | ms (p95, or mean of a summary) |
//! | `gc` | `python_gc_collections_total` | collections/s |
//! | `node_cpu` | `node_cpu_seconds_total` (node exporter) | % busy |
//! | `connections` | `db_connections_in_use`/`_max`, `pg_stat_activity_count`/`pg_settings_max_connections`, `hikaricp_connections_active`/`_max`; a `<in use>_peak` gauge too when exposed | connections |

use std::collections::HashMap;

use serde::Serialize;

use super::parse::Sample;

/// Request counters, by preference: the first one present is the request rate.
const REQUEST_COUNTERS: [&str; 7] = [
    "http_requests_total",
    "http_server_requests_seconds_count",
    "http_server_requests_total",
    "flask_http_request_total",
    "http_server_request_duration_seconds_count",
    "starlette_requests_total",
    "http_request_duration_seconds_count",
];
/// Labels that carry a response's status.
const STATUS_LABELS: [&str; 5] = [
    "status",
    "code",
    "status_code",
    "http_status",
    "http_response_status_code",
];
/// Request-duration histograms (or summaries), by preference.
const LATENCY_FAMILIES: [&str; 5] = [
    "http_request_duration_seconds",
    "http_server_requests_seconds",
    "http_server_request_duration_seconds",
    "flask_http_request_duration_seconds",
    "http_request_duration_highr_seconds",
];
/// (in use, limit) gauge pairs of connection pools.
const CONNECTION_GAUGES: [(&str, &str); 3] = [
    ("db_connections_in_use", "db_connections_max"),
    ("pg_stat_activity_count", "pg_settings_max_connections"),
    ("hikaricp_connections_active", "hikaricp_connections_max"),
];

/// The views' order in charts and reports.
pub const ORDER: [&str; 7] = [
    "cpu",
    "memory",
    "requests",
    "latency",
    "gc",
    "node_cpu",
    "connections",
];

/// What one scrape read, for the views.
#[derive(Default)]
pub(crate) struct Readings<'a> {
    /// Counter samples with their per-second rate since the previous scrape.
    pub counters: Vec<(&'a Sample, f64)>,
    pub gauges: Vec<&'a Sample>,
    /// Per histogram family: the increase of each bucket (`le`) since the previous scrape,
    /// summed over label sets.
    pub histograms: HashMap<&'a str, Vec<(f64, f64)>>,
}

/// One view's values at one scrape: (line label, value).
#[derive(Debug, Clone, PartialEq)]
pub struct ViewReading {
    pub id: &'static str,
    pub title: &'static str,
    pub unit: &'static str,
    pub lines: Vec<(&'static str, f64)>,
}

/// What a threshold can name as `server.KEY`: the view and the line it reads (the first of
/// `a|b` the view has; empty: its first line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ViewKey {
    pub key: &'static str,
    pub view: &'static str,
    pub line: &'static str,
}

/// Every `server.KEY` a threshold can use.
pub const KEYS: [ViewKey; 8] = [
    key("cpu", "cpu", "process"),
    key("memory", "memory", "resident"),
    key("requests", "requests", "requests"),
    key("errors", "requests", "5xx"),
    key("latency", "latency", ""),
    key("gc", "gc", "collections"),
    key("node_cpu", "node_cpu", "busy"),
    key("connections", "connections", "peak|in use"),
];

const fn key(key: &'static str, view: &'static str, line: &'static str) -> ViewKey {
    ViewKey { key, view, line }
}

/// The `server.KEY` named `name`.
pub fn view_key(name: &str) -> Option<ViewKey> {
    KEYS.iter().copied().find(|k| k.key == name)
}

fn label<'a>(s: &'a Sample, name: &str) -> Option<&'a str> {
    s.labels
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn status_of(s: &Sample) -> Option<&str> {
    STATUS_LABELS.iter().find_map(|l| label(s, l))
}

/// The views this scrape's readings give.
pub(crate) fn compute(r: &Readings) -> Vec<ViewReading> {
    let mut out = Vec::new();
    // Sums start at 0.0 (an empty f64 sum is -0.0, which would print as "-0").
    let rates = |name: &str| -> Option<f64> {
        let mut it = r.counters.iter().filter(|(s, _)| s.name == name).peekable();
        it.peek()?;
        Some(it.fold(0.0, |a, (_, v)| a + v))
    };
    let gauge = |name: &str| -> Option<f64> {
        let mut it = r.gauges.iter().filter(|s| s.name == name).peekable();
        it.peek()?;
        Some(it.fold(0.0, |a, s| a + s.value))
    };
    let mut view = |id, title, unit, lines: Vec<(&'static str, f64)>| {
        out.push(ViewReading {
            id,
            title,
            unit,
            lines,
        })
    };
    if let Some(cpu) = rates("process_cpu_seconds_total") {
        view("cpu", "Server CPU", "cores", vec![("process", cpu)]);
    }
    if let Some(rss) = gauge("process_resident_memory_bytes") {
        view(
            "memory",
            "Server memory",
            "MB",
            vec![("resident", rss / 1e6)],
        );
    }
    if let Some(name) = REQUEST_COUNTERS.iter().find(|n| rates(n).is_some()) {
        let of_name = || r.counters.iter().filter(|(s, _)| s.name == *name);
        let mut lines = vec![("requests", of_name().fold(0.0, |a, (_, v)| a + v))];
        if of_name().any(|(s, _)| status_of(s).is_some()) {
            let errors = of_name()
                .filter(|(s, _)| status_of(s).is_some_and(|v| v.starts_with('5')))
                .fold(0.0, |a, (_, v)| a + v);
            lines.push(("5xx", errors));
        }
        view("requests", "Server requests", "req/s", lines);
    }
    let latency = LATENCY_FAMILIES.iter().find_map(|f| {
        if let Some(buckets) = r.histograms.get(f) {
            return Some(quantile(0.95, buckets).map(|s| ("p95", s * 1000.0)));
        }
        let sum = rates(&format!("{f}_sum"))?;
        let count = rates(&format!("{f}_count"))?;
        Some((count > 0.0).then(|| ("mean", sum / count * 1000.0)))
    });
    if let Some(line) = latency {
        // A quiet interval has no latency: the view exists, the point is missing.
        view(
            "latency",
            "Server latency",
            "ms",
            line.into_iter().collect(),
        );
    }
    if let Some(gc) = rates("python_gc_collections_total") {
        view(
            "gc",
            "Python GC",
            "collections/s",
            vec![("collections", gc)],
        );
    }
    let cpu_modes: Vec<&(&Sample, f64)> = r
        .counters
        .iter()
        .filter(|(s, _)| s.name == "node_cpu_seconds_total")
        .collect();
    if !cpu_modes.is_empty() {
        let total = cpu_modes.iter().fold(0.0, |a, (_, v)| a + v);
        let idle = cpu_modes
            .iter()
            .filter(|(s, _)| label(s, "mode") == Some("idle"))
            .fold(0.0, |a, (_, v)| a + v);
        let lines = if total > 0.0 {
            vec![("busy", 100.0 * (1.0 - idle / total))]
        } else {
            vec![]
        };
        view("node_cpu", "Node CPU busy", "%", lines);
    }
    if let Some((used, peak, max)) = CONNECTION_GAUGES
        .iter()
        .find_map(|(u, m)| Some((gauge(u)?, gauge(&format!("{u}_peak")), gauge(m))))
    {
        let mut lines = vec![("in use", used)];
        lines.extend(peak.map(|p| ("peak", p)));
        lines.extend(max.map(|m| ("max", m)));
        view("connections", "Connections", "connections", lines);
    }
    out
}

/// The `q` quantile of a histogram's bucket increases (`(le, cumulative count)`), by
/// linear interpolation inside the bucket it falls in (as Prometheus'
/// `histogram_quantile`): `None` without observations. A quantile in the `+Inf` bucket is
/// the highest finite bound.
pub fn quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let mut b: Vec<(f64, f64)> = buckets
        .iter()
        .copied()
        .filter(|(le, _)| !le.is_nan())
        .collect();
    b.sort_by(|x, y| x.0.total_cmp(&y.0));
    let total = b.last()?.1;
    if total <= 0.0 || !total.is_finite() {
        return None;
    }
    let rank = q * total;
    let mut lower = 0.0_f64;
    let mut below = 0.0_f64;
    for &(le, count) in &b {
        if count >= rank && count > below {
            if le.is_infinite() {
                return Some(lower);
            }
            let lo = if lower == 0.0 && le < 0.0 { le } else { lower };
            return Some(lo + (le - lo) * (rank - below) / (count - below));
        }
        if le.is_finite() {
            lower = le;
        }
        below = below.max(count);
    }
    Some(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str, labels: &[(&str, &str)], value: f64) -> Sample {
        Sample {
            name: name.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
        }
    }

    #[test]
    fn histogram_quantiles_interpolate_like_prometheus() {
        // 100 observations: 50 under 0.1 s, 40 in (0.1, 0.5], 10 in (0.5, 1].
        let b = [
            (0.1, 50.0),
            (0.5, 90.0),
            (1.0, 100.0),
            (f64::INFINITY, 100.0),
        ];
        assert_eq!(quantile(0.5, &b), Some(0.1));
        // rank 95 is halfway through the (0.5, 1] bucket.
        assert!((quantile(0.95, &b).unwrap() - 0.75).abs() < 1e-12);
        assert!((quantile(0.25, &b).unwrap() - 0.05).abs() < 1e-12);
        // Everything above the last finite bound: that bound.
        assert_eq!(
            quantile(0.95, &[(0.1, 0.0), (f64::INFINITY, 10.0)]),
            Some(0.1)
        );
        assert_eq!(quantile(0.95, &[(0.1, 0.0), (f64::INFINITY, 0.0)]), None);
        assert_eq!(quantile(0.95, &[]), None);
    }

    #[test]
    fn views_appear_for_what_is_exposed() {
        let ok = sample("http_requests_total", &[("status", "200")], 0.0);
        let bad = sample("http_requests_total", &[("status", "503")], 0.0);
        let cpu = sample("process_cpu_seconds_total", &[], 0.0);
        let used = sample("db_connections_in_use", &[], 5.0);
        let max = sample("db_connections_max", &[], 5.0);
        let idle = sample(
            "node_cpu_seconds_total",
            &[("cpu", "0"), ("mode", "idle")],
            0.0,
        );
        let user = sample(
            "node_cpu_seconds_total",
            &[("cpu", "0"), ("mode", "user")],
            0.0,
        );
        let mut r = Readings {
            counters: vec![
                (&ok, 90.0),
                (&bad, 10.0),
                (&cpu, 0.5),
                (&idle, 0.25),
                (&user, 0.75),
            ],
            gauges: vec![&used, &max],
            histograms: HashMap::new(),
        };
        r.histograms.insert(
            "http_request_duration_seconds",
            vec![
                (0.1, 50.0),
                (0.5, 90.0),
                (1.0, 100.0),
                (f64::INFINITY, 100.0),
            ],
        );
        let v = compute(&r);
        let get = |id: &str| v.iter().find(|x| x.id == id).map(|x| x.lines.clone());
        assert_eq!(get("cpu"), Some(vec![("process", 0.5)]));
        assert_eq!(
            get("requests"),
            Some(vec![("requests", 100.0), ("5xx", 10.0)])
        );
        assert_eq!(
            get("connections"),
            Some(vec![("in use", 5.0), ("max", 5.0)])
        );
        assert_eq!(get("node_cpu"), Some(vec![("busy", 75.0)]));
        let p95 = get("latency").unwrap();
        assert_eq!(p95[0].0, "p95");
        assert!((p95[0].1 - 750.0).abs() < 1e-9);
        assert_eq!(get("memory"), None);
        assert_eq!(get("gc"), None);
        // No status label: no 5xx line (it would claim zero errors it cannot see).
        let plain = sample("http_requests_total", &[], 0.0);
        let r = Readings {
            counters: vec![(&plain, 3.0)],
            ..Readings::default()
        };
        assert_eq!(compute(&r)[0].lines, vec![("requests", 3.0)]);
    }
}
