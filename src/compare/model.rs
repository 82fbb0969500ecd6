//! The vocabulary of a comparison: the metrics compared, each one's [`Delta`] and
//! [`Change`], an endpoint's [`EndpointComparison`] and [`Verdict`], and the whole
//! [`Comparison`] with its [`Counts`].

use serde::Serialize;

use crate::stats::EntrySnapshot;

/// Whether a metric moved the good way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Better,
    Worse,
    /// Within the noise threshold.
    Same,
    /// One side has no value.
    Unknown,
}

/// Verdict of an endpoint or of the whole comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Better,
    Worse,
    /// Significant changes both ways: a trade-off (fewer failures, but slower).
    Mixed,
    NoSignificantChange,
    /// The endpoint exists only in the "before" run.
    OnlyBefore,
    /// The endpoint exists only in the "after" run.
    OnlyAfter,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::Mixed => "mixed",
            Verdict::NoSignificantChange => "no significant change",
            Verdict::OnlyBefore => "only in before",
            Verdict::OnlyAfter => "only in after",
        }
    }
}

/// One metric of one endpoint in both runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Delta {
    pub before: Option<f64>,
    pub after: Option<f64>,
    pub delta: Option<f64>,
    /// Percent of `before`; `None` when before is 0 or missing.
    pub delta_pct: Option<f64>,
    pub change: Change,
}

/// The compared metrics, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    Rps,
    FailPct,
    P50,
    P95,
    P99,
    Max,
}

impl MetricKind {
    pub const ALL: [MetricKind; 6] = [
        MetricKind::Rps,
        MetricKind::FailPct,
        MetricKind::P50,
        MetricKind::P95,
        MetricKind::P99,
        MetricKind::Max,
    ];
    /// The metrics that decide a verdict, in the order a reason names them.
    pub(super) const DECIDING: [MetricKind; 5] = [
        MetricKind::FailPct,
        MetricKind::P95,
        MetricKind::Rps,
        MetricKind::P99,
        MetricKind::P50,
    ];

    pub fn label(self) -> &'static str {
        match self {
            MetricKind::Rps => "req/s",
            MetricKind::FailPct => "fail %",
            MetricKind::P50 => "p50",
            MetricKind::P95 => "p95",
            MetricKind::P99 => "p99",
            MetricKind::Max => "max",
        }
    }

    pub(super) fn higher_is_better(self) -> bool {
        self == MetricKind::Rps
    }

    pub(super) fn of(self, e: &EntrySnapshot) -> Option<f64> {
        if e.num_requests == 0 {
            return None;
        }
        match self {
            MetricKind::Rps => Some(e.total_rps),
            MetricKind::FailPct => Some(e.fail_ratio() * 100.0),
            MetricKind::P50 => e.percentile(0.5),
            MetricKind::P95 => e.percentile(0.95),
            MetricKind::P99 => e.percentile(0.99),
            MetricKind::Max => e.max_ms,
        }
    }
}

/// One endpoint (or Aggregated) in both runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointComparison {
    pub method: String,
    pub name: String,
    pub requests_before: u64,
    pub requests_after: u64,
    pub rps: Delta,
    pub fail_pct: Delta,
    pub p50: Delta,
    pub p95: Delta,
    pub p99: Delta,
    pub max: Delta,
    pub verdict: Verdict,
    /// Why: `p95 -42.1 % (1 200 → 695 ms)`, `too few requests`, ...
    pub reason: String,
}

impl EndpointComparison {
    pub fn delta(&self, k: MetricKind) -> &Delta {
        match k {
            MetricKind::Rps => &self.rps,
            MetricKind::FailPct => &self.fail_pct,
            MetricKind::P50 => &self.p50,
            MetricKind::P95 => &self.p95,
            MetricKind::P99 => &self.p99,
            MetricKind::Max => &self.max,
        }
    }
}

/// How many endpoints went each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub better: usize,
    pub worse: usize,
    pub mixed: usize,
    pub unchanged: usize,
    pub only_before: usize,
    pub only_after: usize,
}

/// Two runs compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub noise_pct: f64,
    pub endpoints: Vec<EndpointComparison>,
    pub total: EndpointComparison,
    /// The overall verdict: the Aggregated row's, mixed when endpoints went the other way.
    pub verdict: Verdict,
    /// Why the overall verdict: the Aggregated row's reason, or the trade-off with endpoints.
    pub reason: String,
    pub counts: Counts,
}
