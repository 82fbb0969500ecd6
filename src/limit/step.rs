//! One step of a search on a running engine: move to the level (users ramp at the spawn
//! rate; a rate changes at once), let the target settle, reset the statistics, measure,
//! and judge every threshold on the step's own figures (the statistics since the reset).

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::engine::{Engine, EngineError};
use crate::stats::Snapshot;
use crate::thresholds::{self, Threshold, ThresholdResult};

use super::search::Verdict;
use super::Model;

/// A failure group of a step, for the reasons of a fail.
#[derive(Debug, Clone, Serialize)]
pub struct TopFailure {
    pub method: String,
    pub name: String,
    pub message: String,
    pub occurrences: u64,
}

/// What one step measured and what it was judged.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// Users (closed model) or task starts per second (open model).
    pub level: f64,
    pub verdict: Verdict,
    /// The found limit run once more.
    pub confirmation: bool,
    /// Unix seconds: the measured part of the step (after the ramp and the settling).
    pub measured_from: f64,
    pub measured_to: f64,
    pub users: u32,
    pub requests: u64,
    pub failures: u64,
    pub rps: f64,
    pub fail_ratio: f64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub thresholds: Vec<ThresholdResult>,
    /// The step's largest failure groups, most frequent first (at most 3).
    pub top_failures: Vec<TopFailure>,
    /// Why the step is inconclusive: the generator's or the machine's warning.
    pub generator: Option<String>,
}

impl StepResult {
    /// Judge the step measured in `snap` (the statistics since the step's reset).
    pub fn judge(level: f64, snap: &Snapshot, thresholds: &[Threshold]) -> StepResult {
        let results = thresholds::evaluate_all(thresholds, snap, None, true);
        let generator = snap.generator.ranges.first().map(|r| r.message.clone());
        let verdict = if generator.is_some() {
            Verdict::Inconclusive
        } else if snap.total.num_requests == 0 || thresholds::any_failed(&results) {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        let mut failures: Vec<_> = snap.failures.iter().collect();
        failures.sort_by_key(|f| std::cmp::Reverse(f.occurrences));
        let t = &snap.total;
        StepResult {
            level,
            verdict,
            confirmation: false,
            measured_from: snap.stats_start.unwrap_or(snap.time),
            measured_to: snap.time,
            users: snap.user_count,
            requests: t.num_requests,
            failures: t.num_failures,
            rps: t.total_rps,
            fail_ratio: t.fail_ratio(),
            p50_ms: t.percentile(0.5),
            p95_ms: t.percentile(0.95),
            p99_ms: t.percentile(0.99),
            thresholds: results,
            top_failures: failures
                .into_iter()
                .take(3)
                .map(|f| TopFailure {
                    method: f.method.clone(),
                    name: f.name.clone(),
                    message: f.message.clone(),
                    occurrences: f.occurrences,
                })
                .collect(),
            generator,
        }
    }

    /// Requests per second that did not fail.
    pub fn ok_rps(&self) -> f64 {
        self.rps * (1.0 - self.fail_ratio)
    }

    /// Why a failed step failed: each failed threshold with its figure, or that nothing
    /// finished.
    pub fn reasons(&self) -> Vec<String> {
        if self.requests == 0 {
            return vec!["no request finished during the step".to_string()];
        }
        self.thresholds
            .iter()
            .filter(|r| r.passed == Some(false))
            .map(|r| format!("{}: {}", r.threshold, r.message))
            .collect()
    }
}

/// How long each part of a step takes.
#[derive(Debug, Clone, Copy)]
pub struct StepTime {
    /// Discarded after the level is reached: the target settles (pools fill, caches warm,
    /// queues build up to their steady length).
    pub settle: Duration,
    pub measure: Duration,
}

impl StepTime {
    /// A step of `total`: its first third settles, the rest is measured.
    pub fn of(total: Duration) -> StepTime {
        let settle = total / 3;
        StepTime {
            settle,
            measure: total - settle,
        }
    }
}

/// Move the running test to `level` and wait until it is there (users ramp at the spawn
/// rate, bounded by the ramp's own time and 10 s more).
pub async fn reach(engine: &Engine, model: &Model, level: f64) -> Result<(), EngineError> {
    match *model {
        Model::Users { spawn_rate } => {
            let users = level as u32;
            engine.set_users(users, spawn_rate)?;
            let from = engine.user_count();
            let ramp = f64::from(from.abs_diff(users)) / spawn_rate + 10.0;
            let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(ramp);
            while engine.user_count() != users && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(())
        }
        Model::Rate { max_users } => engine.set_rate(level, max_users),
    }
}

/// Settle, reset the statistics, measure: the step's own figures.
pub async fn measure(engine: &Engine, time: StepTime) -> Result<Arc<Snapshot>, EngineError> {
    tokio::time::sleep(time.settle).await;
    engine.reset()?;
    tokio::time::sleep(time.measure).await;
    engine.snapshot_flushed().await
}
