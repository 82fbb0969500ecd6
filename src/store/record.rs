//! What is kept of one finished run: its final snapshot (figures per endpoint, failures,
//! exceptions), the latency histograms behind the percentiles, the per-second series, the
//! plan and parameters, thresholds results and the user's label.

use serde::{Deserialize, Serialize};

use crate::stats::{HistoryPoint, Snapshot, StatsEntry};
use crate::thresholds::ThresholdResult;

/// Where the run was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunSource {
    Headless,
    Dashboard,
    /// A breaking-point search (`surge find-limit`): the record's `limit` holds its steps.
    Limit,
}

impl RunSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RunSource::Headless => "headless",
            RunSource::Dashboard => "dashboard",
            RunSource::Limit => "limit",
        }
    }

    pub fn parse(s: &str) -> RunSource {
        match s {
            "dashboard" => RunSource::Dashboard,
            "limit" => RunSource::Limit,
            _ => RunSource::Headless,
        }
    }
}

/// The load a run was asked for (what the list shows as "users/rate").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunParameters {
    /// Peak users (closed model) or the user cap (open model).
    pub users: u32,
    pub spawn_rate: Option<f64>,
    /// Open-model arrival rate, starts per second.
    pub rate: Option<f64>,
    /// Asked run time, seconds.
    pub run_time_s: Option<f64>,
    /// Plan file path, if any.
    pub plan_path: Option<String>,
    /// The command line or form that started it, in words (`-u 50 -r 10 -t 30s`).
    pub description: String,
}

/// Latency statistics of one endpoint (`method` empty for Aggregated), with its histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointStats {
    pub method: String,
    pub name: String,
    pub stats: StatsEntry,
}

/// One run, as saved and loaded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// Database id (0 until saved).
    pub id: i64,
    pub label: String,
    pub source: RunSource,
    /// Stopped by Ctrl-C (or the dashboard closing) rather than by its run time or Stop.
    pub interrupted: bool,
    pub plan_text: Option<String>,
    pub params: RunParameters,
    /// The final figures; percentiles are recomputed from `histograms` when loaded.
    pub snapshot: Snapshot,
    /// Per endpoint and Aggregated: the exact histograms.
    #[serde(skip)]
    pub histograms: Vec<EndpointStats>,
    /// The Aggregated per-second series of this run.
    pub history: Vec<HistoryPoint>,
    pub thresholds: Vec<ThresholdResult>,
    pub surge_version: String,
    /// A breaking-point search's answer and steps (`limit::output::to_json`), for runs of
    /// kind `limit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<serde_json::Value>,
}

impl RunRecord {
    /// When the statistics started (Unix seconds).
    pub fn started_at(&self) -> f64 {
        self.snapshot.stats_start.unwrap_or(self.snapshot.time)
    }

    /// When the test stopped (Unix seconds).
    pub fn ended_at(&self) -> f64 {
        self.snapshot.stats_end.unwrap_or(self.snapshot.time)
    }

    /// A short name for tables: `#12 pool=5`.
    pub fn title(&self) -> String {
        if self.label.is_empty() {
            format!("#{}", self.id)
        } else {
            format!("#{} {}", self.id, self.label)
        }
    }

    /// The summary row of the list.
    pub fn summary(&self) -> RunSummary {
        let t = &self.snapshot.total;
        RunSummary {
            id: self.id,
            started_at: self.started_at(),
            ended_at: self.ended_at(),
            label: self.label.clone(),
            host: self.snapshot.host.clone(),
            source: self.source,
            users: self.params.users,
            rate: self.params.rate,
            duration_s: (self.ended_at() - self.started_at()).max(0.0),
            num_requests: t.num_requests,
            num_failures: t.num_failures,
            rps: t.total_rps,
            p95_ms: t.percentile(0.95),
            fail_ratio: t.fail_ratio(),
            interrupted: self.interrupted,
            thresholds_passed: thresholds_passed(&self.thresholds),
        }
    }
}

/// `None` without thresholds, else whether every one passed.
pub fn thresholds_passed(results: &[ThresholdResult]) -> Option<bool> {
    (!results.is_empty()).then(|| results.iter().all(|r| r.passed == Some(true)))
}

/// One line of `surge runs list` and of the History tab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: i64,
    /// Unix seconds.
    pub started_at: f64,
    pub ended_at: f64,
    pub label: String,
    pub host: String,
    pub source: RunSource,
    pub users: u32,
    pub rate: Option<f64>,
    pub duration_s: f64,
    pub num_requests: u64,
    pub num_failures: u64,
    /// Whole-run requests per second.
    pub rps: f64,
    pub p95_ms: Option<f64>,
    pub fail_ratio: f64,
    pub interrupted: bool,
    /// `None` when the run had no thresholds.
    pub thresholds_passed: Option<bool>,
}

/// Where a saved run started to break, as stored (`runs.breaking`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Breaking {
    #[serde(default)]
    pub first_failure: Option<crate::stats::FirstFailure>,
    #[serde(default)]
    pub threshold_crossings: Vec<crate::stats::ThresholdCrossing>,
    /// The load's changes (edits, stages, resets), for the charts' markers.
    #[serde(default)]
    pub marks: Vec<crate::stats::Mark>,
}

#[cfg(test)]
mod float_tests {
    /// Saved times come back exactly (serde_json's `float_roundtrip`): this one was read
    /// back one ULP off by the default parser, and a saved run's first failure no longer
    /// equalled the live one.
    #[test]
    fn times_survive_the_json_column() {
        let b = super::Breaking {
            first_failure: Some(crate::stats::FirstFailure {
                time: 1796699650.1009197,
                users: 2,
                rate: None,
                method: "GET".into(),
                name: "/x".into(),
                message: "m".into(),
            }),
            ..Default::default()
        };
        let back: super::Breaking =
            serde_json::from_str(&serde_json::to_string(&b).unwrap()).unwrap();
        assert_eq!(
            back.first_failure.unwrap().time.to_bits(),
            1796699650.1009197f64.to_bits()
        );
    }
}
