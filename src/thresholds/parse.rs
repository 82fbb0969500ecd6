//! Threshold expressions: `"p95 < 500ms"`, `"fail_ratio < 1%"`, `"rps > 100"`, scoped to an
//! endpoint with `"GET /orders: p99 < 1s"`, and relative to a baseline run with
//! `"p95 < baseline * 1.10"`. Parsing never panics; every error says what is wrong and shows
//! an example of what would be right.

use serde::Serialize;

pub use crate::scrape::board::What;
use crate::stats::{PERCENTILES, PERCENTILE_LABELS};

/// What a threshold measures (whole-run figures of its scope).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Response time percentile, as a fraction (0.95); 1.0 is the exact max.
    Percentile(f64),
    Avg,
    Min,
    Max,
    /// Whole-run requests per second.
    Rps,
    /// Failed requests / requests, as a fraction.
    FailRatio,
    /// A series scraped from the target (`server.cpu`, `server["db_connections_in_use"]`),
    /// judged on its worst value in the test (or the step).
    Server(What),
}

impl Metric {
    /// Whether values are response times (ms).
    pub fn is_time(&self) -> bool {
        !matches!(self, Metric::Rps | Metric::FailRatio | Metric::Server(_))
    }

    /// Whether a higher value is better (only throughput).
    pub fn higher_is_better(&self) -> bool {
        matches!(self, Metric::Rps)
    }

    /// The name as written in thresholds (`p95`, `p99.9`, `avg`, `rps`, `server.cpu`, ...).
    pub fn name(&self) -> String {
        match self {
            Metric::Server(What::View(k)) => format!("server.{}", k.key),
            Metric::Server(What::Series(n)) => format!("server[\"{n}\"]"),
            Metric::Percentile(q) => {
                let i = PERCENTILES.iter().position(|p| (p - *q).abs() < 1e-9);
                let label = i.map_or("?", |i| PERCENTILE_LABELS[i]);
                format!("p{}", label.trim_end_matches('%'))
            }
            Metric::Avg => "avg".into(),
            Metric::Min => "min".into(),
            Metric::Max => "max".into(),
            Metric::Rps => "rps".into(),
            Metric::FailRatio => "fail_ratio".into(),
        }
    }

    /// A value of this metric with its unit (`432 ms`, `1.5 %`, `120.3 req/s`).
    pub fn format(&self, v: f64) -> String {
        match self {
            Metric::Server(What::View(k)) => match server_unit(k.key) {
                "" => trim(v, 2),
                "%" => format!("{} %", trim(v, 1)),
                u => format!("{} {u}", trim(v, if v >= 100.0 { 0 } else { 2 })),
            },
            Metric::Server(What::Series(_)) => trim(v, 3),
            Metric::Rps => format!("{} req/s", trim(v, 1)),
            Metric::FailRatio => format!("{} %", trim(v * 100.0, 2)),
            _ => format!("{} ms", trim(v, if v >= 100.0 { 0 } else { 2 })),
        }
    }
}

/// The unit of a `server.KEY` value (as its view charts it).
fn server_unit(key: &str) -> &'static str {
    match key {
        "cpu" => "cores",
        "memory" => "MB",
        "requests" | "errors" => "req/s",
        "latency" => "ms",
        "gc" => "collections/s",
        "node_cpu" => "%",
        _ => "",
    }
}

/// `v` with at most `decimals` decimals, trailing zeros removed.
fn trim(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

impl Op {
    pub fn holds(self, actual: f64, limit: f64) -> bool {
        match self {
            Op::Lt => actual < limit,
            Op::Le => actual <= limit,
            Op::Gt => actual > limit,
            Op::Ge => actual >= limit,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// The right-hand side: a fixed value (ms, fraction or req/s) or the baseline's value times
/// a factor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    Value(f64),
    Baseline(f64),
}

/// Which requests a threshold looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// `None`: every method with this name.
    pub method: Option<String>,
    pub name: String,
}

/// One parsed threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    /// The text as the user wrote it (shown in badges and reports).
    pub text: String,
    /// `None` = all requests (Aggregated).
    pub scope: Option<Scope>,
    pub metric: Metric,
    pub op: Op,
    pub limit: Limit,
}

impl Threshold {
    /// Whether the limit needs a baseline run.
    pub fn needs_baseline(&self) -> bool {
        matches!(self.limit, Limit::Baseline(_))
    }
}

/// Why a threshold expression cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("threshold \"{text}\": {problem}")]
pub struct ThresholdError {
    pub text: String,
    pub problem: ThresholdProblem,
}

/// What is wrong with a threshold expression (each says what would be right).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdProblem {
    #[error("empty; {SYNTAX}")]
    Empty,
    #[error("no comparison (<, <=, > or >=); {SYNTAX}")]
    NoComparison,
    /// `": p95 < 1s"`.
    #[error("nothing before the colon: write the endpoint, e.g. \"GET /orders: p99 < 1s\"")]
    NoScope,
    #[error("no metric before the comparison; {SYNTAX}")]
    NoMetric,
    /// `p97`: not one of the percentiles Surge keeps.
    #[error("unknown percentile \"{0}\" (known: {known})", known = known_percentiles())]
    UnknownPercentile(String),
    #[error("unknown metric \"{0}\" (known: p50..p100, avg, min, max, rps, fail_ratio)")]
    UnknownMetric(String),
    #[error("no value after the comparison; {SYNTAX}")]
    NoValue,
    /// `baseline + 10`, `baseline * 0`.
    #[error(
        "\"{0}\": write the baseline as \"baseline\" or \"baseline * 1.10\" (a factor above 0)"
    )]
    Baseline(String),
    #[error("\"{0}\" is not a rate (requests per second, e.g. 100)")]
    NotARate(String),
    #[error("\"{0}\" is not a ratio (use a percentage such as 1% or a fraction such as 0.01)")]
    NotARatio(String),
    #[error("\"{0}\" is outside 0%..100%")]
    RatioRange(String),
    #[error("\"{0}\" is not a duration (use e.g. 500ms, 1.5s, 250us)")]
    NotADuration(String),
    /// `server.foo`.
    #[error("unknown server metric \"{0}\" (known: {known}, or server[\"SERIES_NAME\"])", known = known_server())]
    UnknownServer(String),
    /// `server[db_connections]`, `server["a"`.
    #[error("\"{0}\": name the series in quotes, e.g. server[\"db_connections_in_use\"]")]
    ServerSeries(String),
    /// A server threshold with a baseline or a scope.
    #[error(
        "server metrics take a fixed limit, for the whole test (not a baseline or an endpoint)"
    )]
    ServerLimit,
    #[error("\"{0}\" is not a number (the series' own unit: cores, MB, req/s, ...)")]
    NotANumber(String),
    #[error("\"{0}\" is not a size (use e.g. 512MB, 2GB or a number of MB)")]
    NotASize(String),
}

fn known_server() -> String {
    let keys: Vec<String> = crate::scrape::views::KEYS
        .iter()
        .map(|k| format!("server.{}", k.key))
        .collect();
    keys.join(", ")
}

/// The percentiles a threshold can name: `p50, p66, ..., p100`.
fn known_percentiles() -> String {
    let known: Vec<String> = PERCENTILE_LABELS
        .iter()
        .map(|l| format!("p{}", l.trim_end_matches('%')))
        .collect();
    known.join(", ")
}

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const SYNTAX: &str = "expected METRIC OP VALUE, e.g. \"p95 < 500ms\", \"fail_ratio < 1%\", \
                      \"rps > 100\", \"GET /orders: p99 < 1s\" or \"p95 < baseline * 1.10\"";

/// Parse one threshold expression.
pub fn parse(text: &str) -> Result<Threshold, ThresholdError> {
    let err = |problem: ThresholdProblem| ThresholdError {
        text: text.to_string(),
        problem,
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(err(ThresholdProblem::Empty));
    }
    // The expression itself never contains a colon; an endpoint name may (full URLs). A
    // server series' name may too (`server["job:rate"]`): those have no scope.
    let server = trimmed.starts_with("server.") || trimmed.starts_with("server[");
    let (scope, expr) = match trimmed.rsplit_once(':') {
        Some((s, e)) if !server => (Some(scope(s.trim()).map_err(err)?), e.trim()),
        _ => (None, trimmed),
    };
    let op_at = expr
        .find(['<', '>'])
        .ok_or_else(|| err(ThresholdProblem::NoComparison))?;
    let (lhs, rest) = expr.split_at(op_at);
    let (op, rhs) = if let Some(r) = rest.strip_prefix("<=") {
        (Op::Le, r)
    } else if let Some(r) = rest.strip_prefix(">=") {
        (Op::Ge, r)
    } else if let Some(r) = rest.strip_prefix('<') {
        (Op::Lt, r)
    } else {
        (Op::Gt, &rest[1..])
    };
    let metric = metric(lhs.trim()).map_err(err)?;
    if matches!(metric, Metric::Server(_)) && scope.is_some() {
        return Err(err(ThresholdProblem::ServerLimit));
    }
    let limit = limit(&metric, rhs.trim()).map_err(err)?;
    Ok(Threshold {
        text: trimmed.to_string(),
        scope,
        metric,
        op,
        limit,
    })
}

/// Parse every expression; the first error wins.
pub fn parse_all<S: AsRef<str>>(texts: &[S]) -> Result<Vec<Threshold>, ThresholdError> {
    texts.iter().map(|t| parse(t.as_ref())).collect()
}

fn scope(s: &str) -> Result<Scope, ThresholdProblem> {
    if s.is_empty() {
        return Err(ThresholdProblem::NoScope);
    }
    let (first, rest) = s.split_once(char::is_whitespace).unwrap_or((s, ""));
    let upper = first.to_ascii_uppercase();
    if METHODS.contains(&upper.as_str()) && !rest.trim().is_empty() {
        Ok(Scope {
            method: Some(upper),
            name: rest.trim().to_string(),
        })
    } else {
        Ok(Scope {
            method: None,
            name: s.to_string(),
        })
    }
}

/// `server.cpu` or `server["name"]`.
fn server_metric(s: &str) -> Option<Result<Metric, ThresholdProblem>> {
    if let Some(key) = s.strip_prefix("server.") {
        return Some(
            crate::scrape::views::view_key(key.trim())
                .map(|k| Metric::Server(What::View(k)))
                .ok_or_else(|| ThresholdProblem::UnknownServer(s.to_string())),
        );
    }
    let inner = s.strip_prefix("server[")?;
    let name = inner
        .strip_suffix(']')
        .map(str::trim)
        .and_then(|n| {
            n.strip_prefix('"')
                .and_then(|n| n.strip_suffix('"'))
                .or_else(|| n.strip_prefix('\'').and_then(|n| n.strip_suffix('\'')))
        })
        .filter(|n| !n.is_empty());
    Some(
        name.map(|n| Metric::Server(What::Series(n.to_string())))
            .ok_or_else(|| ThresholdProblem::ServerSeries(s.to_string())),
    )
}

fn metric(s: &str) -> Result<Metric, ThresholdProblem> {
    if let Some(m) = server_metric(s) {
        return m;
    }
    let lower = s.to_ascii_lowercase();
    let m = match lower.as_str() {
        "" => return Err(ThresholdProblem::NoMetric),
        "avg" | "mean" => Metric::Avg,
        "min" => Metric::Min,
        "max" => Metric::Max,
        "med" | "median" => Metric::Percentile(0.5),
        "rps" | "req/s" => Metric::Rps,
        "fail_ratio" | "failure_ratio" | "error_rate" => Metric::FailRatio,
        p if p.starts_with('p') => {
            let i = PERCENTILE_LABELS
                .iter()
                .position(|l| l.trim_end_matches('%') == &p[1..]);
            match i {
                Some(i) => Metric::Percentile(PERCENTILES[i]),
                None => return Err(ThresholdProblem::UnknownPercentile(s.to_string())),
            }
        }
        _ => return Err(ThresholdProblem::UnknownMetric(s.to_string())),
    };
    Ok(m)
}

fn limit(metric: &Metric, s: &str) -> Result<Limit, ThresholdProblem> {
    if s.is_empty() {
        return Err(ThresholdProblem::NoValue);
    }
    if let Metric::Server(what) = metric {
        return server_limit(what, s).map(Limit::Value);
    }
    if let Some(rest) = s.strip_prefix("baseline") {
        let rest = rest.trim();
        if rest.is_empty() {
            return Ok(Limit::Baseline(1.0));
        }
        let factor = rest
            .strip_prefix('*')
            .map(str::trim)
            .and_then(|f| f.parse::<f64>().ok())
            .filter(|f| f.is_finite() && *f > 0.0)
            .ok_or_else(|| ThresholdProblem::Baseline(s.to_string()))?;
        return Ok(Limit::Baseline(factor));
    }
    let v = match metric {
        Metric::Rps => {
            let n = s.trim_end_matches("/s").trim_end_matches("req").trim();
            n.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| ThresholdProblem::NotARate(s.to_string()))?
        }
        Metric::FailRatio => ratio(s)?,
        _ => time_ms(s)?,
    };
    Ok(Limit::Value(v))
}

/// A server threshold's limit in its view's unit: `200ms` for latency, `80%` (or 0.8) for
/// node CPU, `512MB`/`2GB` for memory, a plain number otherwise.
fn server_limit(what: &What, s: &str) -> Result<f64, ThresholdProblem> {
    if s.starts_with("baseline") {
        return Err(ThresholdProblem::ServerLimit);
    }
    let number = |n: &str| {
        n.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| ThresholdProblem::NotANumber(s.to_string()))
    };
    match what {
        What::View(k) if k.key == "latency" => time_ms(s),
        What::View(k) if k.key == "node_cpu" => {
            if s.ends_with('%') {
                Ok(ratio(s)? * 100.0)
            } else {
                let v = number(s)?;
                Ok(if v <= 1.0 { v * 100.0 } else { v })
            }
        }
        What::View(k) if k.key == "memory" => {
            let units: [(&str, f64); 6] = [
                ("GiB", 1073.741824),
                ("MiB", 1.048576),
                ("KiB", 0.001024),
                ("GB", 1000.0),
                ("MB", 1.0),
                ("KB", 0.001),
            ];
            let (n, scale) = units
                .iter()
                .find_map(|(u, k)| s.strip_suffix(u).map(|n| (n, *k)))
                .unwrap_or((s, 1.0));
            n.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(|v| v * scale)
                .ok_or_else(|| ThresholdProblem::NotASize(s.to_string()))
        }
        _ => number(s),
    }
}

/// `1%` → 0.01; `0.01` → 0.01.
fn ratio(s: &str) -> Result<f64, ThresholdProblem> {
    let bad = || ThresholdProblem::NotARatio(s.to_string());
    let (n, scale) = match s.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (s, 1.0),
    };
    let v = n.parse::<f64>().map_err(|_| bad())? / scale;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(ThresholdProblem::RatioRange(s.to_string()))
    }
}

/// `500ms`, `1.5s`, `250us`, `2m`, or a bare number of milliseconds.
fn time_ms(s: &str) -> Result<f64, ThresholdProblem> {
    let units: [(&str, f64); 5] = [
        ("ms", 1.0),
        ("us", 0.001),
        ("µs", 0.001),
        ("s", 1000.0),
        ("m", 60_000.0),
    ];
    let (n, scale) = units
        .iter()
        .find_map(|(u, k)| s.strip_suffix(u).map(|n| (n.trim(), *k)))
        .unwrap_or((s, 1.0));
    n.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v * scale)
        .ok_or_else(|| ThresholdProblem::NotADuration(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_documented_form() {
        let t = parse("p95 < 500ms").unwrap();
        assert_eq!(
            (t.metric, t.op, t.limit, t.scope),
            (Metric::Percentile(0.95), Op::Lt, Limit::Value(500.0), None)
        );
        assert_eq!(parse("fail_ratio < 1%").unwrap().limit, Limit::Value(0.01));
        assert_eq!(parse("fail_ratio<=0.05").unwrap().op, Op::Le);
        let t = parse("rps > 100").unwrap();
        assert_eq!(
            (t.metric, t.op, t.limit),
            (Metric::Rps, Op::Gt, Limit::Value(100.0))
        );
        let t = parse("GET /orders: p99 < 1s").unwrap();
        assert_eq!(
            t.scope,
            Some(Scope {
                method: Some("GET".into()),
                name: "/orders".into()
            })
        );
        assert_eq!(
            (t.metric, t.limit),
            (Metric::Percentile(0.99), Limit::Value(1000.0))
        );
        assert_eq!(
            parse("p95 < baseline * 1.10").unwrap().limit,
            Limit::Baseline(1.1)
        );
        assert_eq!(
            parse("p99.9 <= 2.5s").unwrap().metric,
            Metric::Percentile(0.999)
        );
        assert_eq!(parse("max < 250us").unwrap().limit, Limit::Value(0.25));
        // A full URL as the name keeps its colons.
        let t = parse("GET http://127.0.0.1:8080/: avg < 20").unwrap();
        assert_eq!(t.scope.unwrap().name, "http://127.0.0.1:8080/");
        assert_eq!(
            parse("/login: p50 < 1s").unwrap().scope.unwrap().method,
            None
        );
    }

    #[test]
    fn server_thresholds_read_their_units() {
        let v = |text: &str| match parse(text).unwrap().limit {
            Limit::Value(v) => v,
            l => panic!("{l:?}"),
        };
        assert_eq!(v("server.cpu < 0.9"), 0.9);
        assert_eq!(v("server.latency < 250ms"), 250.0);
        assert_eq!(v("server.latency < 0.5s"), 500.0);
        assert_eq!(v("server.memory < 512MB"), 512.0);
        assert_eq!(v("server.memory < 2GB"), 2000.0);
        assert_eq!(v("server.node_cpu < 80%"), 80.0);
        assert_eq!(v("server.node_cpu < 0.8"), 80.0);
        let t = parse("server[\"job:queue_depth\"] <= 18").unwrap();
        assert_eq!(
            t.metric,
            Metric::Server(What::Series("job:queue_depth".into()))
        );
        assert_eq!(t.scope, None);
        assert_eq!(t.metric.name(), "server[\"job:queue_depth\"]");
        let cases = [
            (
                "server.disk < 1",
                "unknown server metric \"server.disk\" (known: server.cpu",
            ),
            ("server[db] < 1", "name the series in quotes"),
            ("server.cpu < baseline", "fixed limit"),
            ("GET /a: server.cpu < 1", "fixed limit"),
            ("server.cpu < lots", "is not a number"),
            ("server.memory < 5 apples", "is not a size"),
        ];
        for (text, needle) in cases {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let cases = [
            ("", "empty"),
            ("p95 500ms", "no comparison"),
            ("p97 < 1s", "unknown percentile \"p97\""),
            ("latency < 1s", "unknown metric \"latency\""),
            ("p95 < 5oo ms", "\"5oo ms\" is not a duration"),
            ("p95 <", "no value after the comparison"),
            ("fail_ratio < 150%", "outside 0%..100%"),
            ("fail_ratio < lots", "is not a ratio"),
            ("rps > fast", "is not a rate"),
            ("p95 < baseline + 10", "baseline * 1.10"),
            (": p95 < 1s", "nothing before the colon"),
        ];
        for (text, needle) in cases {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
            assert!(e.starts_with(&format!("threshold \"{text}\"")), "{e}");
        }
    }
}
