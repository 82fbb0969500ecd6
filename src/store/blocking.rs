//! The store from async code: every call on a blocking thread (SQLite must never run on the
//! async workers that drive the load or the dashboard), and a finished run's parts put
//! together into a [`RunRecord`].

use std::sync::Arc;

use super::{EndpointStats, RunParameters, RunRecord, RunSource, Store, StoreError};
use crate::stats::{HistoryPoint, Snapshot, StatsEntry};
use crate::thresholds::ThresholdResult;

/// What the runner knows about a run that the engine does not.
#[derive(Debug, Clone)]
pub struct RunMeta {
    pub label: String,
    pub source: RunSource,
    pub plan_text: Option<String>,
    pub params: RunParameters,
    pub thresholds: Vec<ThresholdResult>,
    pub interrupted: bool,
}

/// The record of the run that `snapshot` (a stopped snapshot) ends, from the engine's
/// merged entries (`(method, name, entry)`, Aggregated last) and its per-second history
/// (points of other runs, or outside the run's time, are left out).
pub fn record(
    snapshot: Arc<Snapshot>,
    entries: Vec<(String, String, StatsEntry)>,
    history: Vec<HistoryPoint>,
    meta: RunMeta,
) -> RunRecord {
    let histograms = entries
        .into_iter()
        .map(|(method, name, stats)| EndpointStats {
            method,
            name,
            stats,
        })
        .collect();
    let start = snapshot.stats_start.unwrap_or(snapshot.time).floor() as u64;
    let end = snapshot.stats_end.unwrap_or(snapshot.time).ceil() as u64;
    let history: Vec<_> = history
        .into_iter()
        .filter(|p| p.run == snapshot.run && (start..=end).contains(&p.time))
        .collect();
    let mut params = meta.params;
    let peak = history.iter().map(|p| p.user_count).max().unwrap_or(0);
    params.users = params.users.max(peak);
    RunRecord {
        id: 0,
        label: meta.label,
        source: meta.source,
        interrupted: meta.interrupted,
        plan_text: meta.plan_text,
        params,
        snapshot: (*snapshot).clone(),
        histograms,
        history,
        thresholds: meta.thresholds,
        surge_version: env!("CARGO_PKG_VERSION").to_string(),
        limit: None,
    }
}

/// Save on a blocking thread; returns the new run id.
pub async fn save(store: Arc<Store>, record: RunRecord) -> Result<i64, StoreError> {
    tokio::task::spawn_blocking(move || store.save(&record))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
}

/// Open the store at `dir` on a blocking thread.
pub async fn open(dir: std::path::PathBuf) -> Result<Arc<Store>, StoreError> {
    tokio::task::spawn_blocking(move || Store::open(&dir).map(Arc::new))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
}

/// Run any store call on a blocking thread.
pub async fn blocking<T: Send + 'static>(
    store: Arc<Store>,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
}

/// Why a run cannot use the history: it goes on without it ([`HistoryError::Disabled`]), or
/// the `--baseline` it asked to be compared with cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The database cannot be used; the run is not saved.
    #[error("run history disabled for this run: {0}")]
    Disabled(StoreError),
    /// `--baseline` without a usable history.
    #[error("--baseline {spec}: the run history is not available")]
    NoHistory { spec: String },
    /// `--baseline` names a run that cannot be loaded.
    #[error("--baseline {spec}: {source}")]
    Baseline { spec: String, source: StoreError },
}

/// Open the history for a run: `Ok(None)` when runs are not saved (no directory), `Err`
/// when the database cannot be used (the run goes on without it).
pub async fn open_for_run(
    dir: Option<std::path::PathBuf>,
) -> Result<Option<Arc<Store>>, HistoryError> {
    match dir {
        None => Ok(None),
        Some(dir) => open(dir).await.map(Some).map_err(HistoryError::Disabled),
    }
}

/// Load the `--baseline` run (`12`, `last`, `last~1`).
pub async fn load_baseline(
    store: Option<Arc<Store>>,
    spec: &str,
) -> Result<RunRecord, HistoryError> {
    let store = store.ok_or_else(|| HistoryError::NoHistory {
        spec: spec.to_string(),
    })?;
    let spec_owned = spec.to_string();
    blocking(store, move |s| s.load(s.resolve(&spec_owned)?))
        .await
        .map_err(|source| HistoryError::Baseline {
            spec: spec.to_string(),
            source,
        })
}
