//! The run history in the dashboard: `GET /api/runs` (list, filter by host/label),
//! `GET /api/runs/{id}` (a whole run), `PUT /api/runs/{id}/label`, `DELETE /api/runs/{id}`,
//! `GET /api/runs/{id}/report` (its HTML report), `GET /api/runs/{id}/csv/{kind}`
//! (`stats`, `failures`, `exceptions`, `history`), `GET /api/compare?before=&after=&noise=`,
//! `GET /api/series?ids=1,2,3&noise=`, and `GET /api/thresholds` (live results for the
//! header badges). Every store call runs on a blocking thread.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::pages::Page;
use super::{ApiError, AppState};
use crate::compare::differences::{differences, RunSettings};
use crate::compare::{self, series, DEFAULT_NOISE_PCT};
use crate::report::html::{self, BaselineInput, ReportInput};
use crate::store::blocking;
use crate::store::{ListFilter, RunRecord, Store, StoreError};
use crate::thresholds::ThresholdResult;

/// What the dashboard knows about history and thresholds: the lifecycle's session.
pub use crate::lifecycle::Session as HistoryState;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(_) | StoreError::BadId(_) => ApiError::NotFound(e.to_string()),
            e => ApiError::Internal(e.to_string()),
        }
    }
}

fn store(state: &AppState) -> Result<Arc<Store>, ApiError> {
    state.history.store.clone().ok_or_else(|| {
        ApiError::Conflict(format!(
            "run history is off: {}",
            state
                .history
                .store_error
                .as_deref()
                .unwrap_or("no data directory")
        ))
    })
}

/// Run a store call on a blocking thread, logging internal errors.
async fn with_store<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    blocking(store(state)?, f).await.map_err(|e| {
        if !matches!(e, StoreError::NotFound(_) | StoreError::BadId(_)) {
            state.logs.error(e.to_string());
        }
        ApiError::from(e)
    })
}

async fn load(state: &AppState, id: String) -> Result<RunRecord, ApiError> {
    with_store(state, move |s| s.load(s.resolve(&id)?)).await
}

/// Query of `GET /api/runs`.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub host: Option<String>,
    pub label: Option<String>,
}

/// `GET /api/runs`: `{"enabled", "error", "runs": [RunSummary]}`, newest first.
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    if state.history.store.is_none() {
        return Ok(Json(
            json!({"enabled": false, "error": state.history.store_error, "runs": []}),
        ));
    }
    let filter = ListFilter {
        host: q.host.filter(|s| !s.trim().is_empty()),
        label: q.label.filter(|s| !s.trim().is_empty()),
        limit: None,
    };
    let runs = with_store(&state, move |s| s.list(&filter)).await?;
    Ok(Json(json!({"enabled": true, "error": null, "runs": runs})))
}

/// `GET /api/runs/{id}`: the whole run (see `runs_cmd` for the shape).
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RunRecord>, ApiError> {
    Ok(Json(load(&state, id).await?))
}

/// Body of `PUT /api/runs/{id}/label`.
#[derive(Debug, Deserialize)]
pub struct LabelBody {
    pub label: String,
}

/// Longest label kept.
pub const MAX_LABEL: usize = 200;

/// `PUT /api/runs/{id}/label` with `{"label": "pool=5"}`.
pub async fn set_label(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<LabelBody>,
) -> Result<Json<Value>, ApiError> {
    if body.label.chars().count() > MAX_LABEL {
        return Err(ApiError::field(
            "label",
            format!("at most {MAX_LABEL} characters"),
        ));
    }
    let label = body.label.trim().to_string();
    let saved = label.clone();
    let id = with_store(&state, move |s| {
        let id = s.resolve(&id)?;
        s.set_label(id, &saved).map(|_| id)
    })
    .await?;
    Ok(Json(json!({"id": id, "label": label})))
}

/// `DELETE /api/runs/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = with_store(&state, move |s| {
        let id = s.resolve(&id)?;
        s.delete(id).map(|_| id)
    })
    .await?;
    state
        .logs
        .info(format!("Run #{id} deleted from the history"));
    Ok(Json(json!({"deleted": id})))
}

/// Query of the report and CSV downloads.
#[derive(Debug, Default, Deserialize)]
pub struct DownloadQuery {
    pub download: Option<String>,
}

fn attachment(mut r: Response, name: &str) -> Response {
    if let Ok(v) = format!("attachment; filename=\"{name}\"").parse() {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// `GET /api/runs/{id}/report`: the saved run's HTML report (`?download=1` as a file).
pub async fn report(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DownloadQuery>,
) -> Result<Response, ApiError> {
    let run = load(&state, id).await?;
    let page = html::page(&ReportInput {
        snapshot: &run.snapshot,
        history: &run.history,
        label: &run.label,
        thresholds: &run.thresholds,
        baseline: None,
    });
    let mut r = Page(page).into_response();
    super::security::framable_report(&mut r);
    Ok(match q.download.as_deref() {
        Some("1" | "true" | "yes") => attachment(r, &format!("surge_run_{}.html", run.id)),
        _ => r,
    })
}

/// `GET /api/runs/{id}/csv/{kind}`: `stats`, `failures`, `exceptions` (Locust's formats) or
/// `history` (the per-second series).
pub async fn csv(
    State(state): State<AppState>,
    Path((id, kind)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let run = load(&state, id).await?;
    let mut body = Vec::new();
    let written = match kind.as_str() {
        "stats" => crate::report::write_stats(&mut body, &run.snapshot),
        "failures" => crate::report::write_failures(&mut body, &run.snapshot),
        "exceptions" => crate::report::write_exceptions(&mut body, &run.snapshot),
        "history" => crate::report::write_run_history(&mut body, &run),
        _ => {
            return Err(ApiError::NotFound(format!(
                "no CSV \"{kind}\" (stats, failures, exceptions, history)"
            )))
        }
    };
    written.map_err(|e| ApiError::Internal(e.to_string()))?;
    let r = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response();
    Ok(attachment(r, &format!("surge_run_{}_{kind}.csv", run.id)))
}

fn noise(v: Option<f64>) -> Result<f64, ApiError> {
    match v {
        None => Ok(DEFAULT_NOISE_PCT),
        Some(n) if n.is_finite() && (0.0..=1000.0).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::field(
            "noise",
            format!("a percentage from 0 to 1000, got {n}"),
        )),
    }
}

/// Query of `GET /api/compare`.
#[derive(Debug, Deserialize)]
pub struct CompareQuery {
    pub before: String,
    pub after: String,
    pub noise: Option<f64>,
}

fn side(r: &RunRecord) -> Value {
    json!({"summary": r.summary(), "title": r.title(), "history": r.history})
}

/// `GET /api/compare?before=ID&after=ID&noise=PCT`: `{"before": {"summary", "title",
/// "history"}, "after": {...}, "differences": ["users 80 → 30", ...], "comparison":
/// Comparison}`.
pub async fn compare_runs(
    State(state): State<AppState>,
    Query(q): Query<CompareQuery>,
) -> Result<Json<Value>, ApiError> {
    let noise = noise(q.noise)?;
    let before = load(&state, q.before).await?;
    let after = load(&state, q.after).await?;
    let c = compare::compare(&before.snapshot, &after.snapshot, noise);
    let differ = differences(&RunSettings::of(&before), &RunSettings::of(&after));
    Ok(Json(json!({
        "before": side(&before),
        "after": side(&after),
        "differences": differ,
        "comparison": c,
        "server_peaks": crate::report::server::peak_rows(&before.snapshot, &after.snapshot),
    })))
}

/// Query of `GET /api/series`.
#[derive(Debug, Deserialize)]
pub struct SeriesQuery {
    /// Comma-separated run ids, in series order.
    pub ids: String,
    pub noise: Option<f64>,
}

/// `GET /api/series?ids=3,4,5`: `{"series": [SeriesRow]}`.
pub async fn series_runs(
    State(state): State<AppState>,
    Query(q): Query<SeriesQuery>,
) -> Result<Json<Value>, ApiError> {
    let noise = noise(q.noise)?;
    let ids: Vec<String> = q
        .ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if ids.is_empty() {
        return Err(ApiError::field("ids", "give at least one run id"));
    }
    let mut input = Vec::new();
    for id in ids {
        let r = load(&state, id).await?;
        input.push((r.id, r.label.clone(), r.snapshot.total.clone()));
    }
    Ok(Json(
        json!({"series": series::series(&input, noise), "noise_pct": noise}),
    ))
}

/// `GET /api/thresholds`: `{"thresholds": [ThresholdResult], "baseline", "crossings":
/// [ThresholdCrossing]}` on the latest snapshot.
pub async fn live_thresholds(State(state): State<AppState>) -> Json<Value> {
    let snap = state.engine.snapshot();
    Json(json!({
        "thresholds": state.history.evaluate(&snap, false),
        "baseline": state.history.baseline.as_ref().map(|b| b.title()),
        // The first second each threshold failed on that second's figures, this test.
        "crossings": state.history.crossings(snap.run),
    }))
}

/// How the dashboard's current (or last) run differs from `--baseline` in its settings.
pub fn live_differences(state: &AppState, snap: &crate::stats::Snapshot) -> Vec<String> {
    state
        .history
        .differences(&super::recorder::parameters(snap), snap)
}

/// The live report's extra parts: thresholds now, and the comparison with `--baseline` (with
/// the runs' `differences`).
pub fn live_report_input<'a>(
    state: &'a AppState,
    snap: &'a crate::stats::Snapshot,
    history: &'a [crate::stats::HistoryPoint],
    results: &'a [ThresholdResult],
    comparison: &'a Option<compare::Comparison>,
    differences: &'a [String],
) -> ReportInput<'a> {
    ReportInput {
        snapshot: snap,
        history,
        label: &state.history.label,
        thresholds: results,
        baseline: state
            .history
            .baseline
            .as_deref()
            .zip(comparison.as_ref())
            .map(|(run, comparison)| BaselineInput {
                run,
                comparison,
                differences,
            }),
    }
}
