//! Downloads: Locust's CSV files (written by `report::csv` from the latest snapshot, or from
//! the hub's bounded history rows) and the self-contained HTML report, each with a
//! `content-disposition` naming the file.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::pages::Page;
use super::{security, ApiError, AppState};
use crate::report;
use crate::report::page::ReportPage;
use crate::stats::{unix_now, Snapshot};

fn attachment(name: &str, content_type: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

fn csv(
    state: &AppState,
    kind: &str,
    write: fn(&mut Vec<u8>, &Snapshot) -> std::io::Result<()>,
) -> Result<Response, ApiError> {
    let snap = state.engine.snapshot();
    let mut body = Vec::new();
    write(&mut body, &snap).map_err(|e| {
        state.logs.error(format!("cannot write {kind} CSV: {e}"));
        ApiError::Internal(e.to_string())
    })?;
    let name = format!("{kind}_{}.csv", unix_now() as u64);
    Ok(attachment(&name, "text/csv; charset=utf-8", body))
}

/// `GET /stats/requests/csv`: the stats CSV (one row per entry, then Aggregated).
pub async fn requests_csv(State(state): State<AppState>) -> Result<Response, ApiError> {
    csv(&state, "requests", |w, s| report::write_stats(w, s))
}

/// `GET /stats/failures/csv`.
pub async fn failures_csv(State(state): State<AppState>) -> Result<Response, ApiError> {
    csv(&state, "failures", |w, s| report::write_failures(w, s))
}

/// `GET /exceptions/csv`.
pub async fn exceptions_csv(State(state): State<AppState>) -> Result<Response, ApiError> {
    csv(&state, "exceptions", |w, s| report::write_exceptions(w, s))
}

/// `GET /stats/requests_full_history/csv`: every entry and Aggregated, once per tick, of the
/// current (or last) run, for the ticks the hub kept (bounded).
pub async fn full_history_csv(State(state): State<AppState>) -> Response {
    let name = format!("requests_full_history_{}.csv", unix_now() as u64);
    attachment(&name, "text/csv; charset=utf-8", state.hub.history_csv())
}

/// Query of `GET /stats/report`.
#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    /// `1` (or `true`) → served as an attachment.
    pub download: Option<String>,
}

/// The report page for the latest snapshot and the kept history, with the thresholds and,
/// with `--baseline`, the comparison.
pub fn report_page(state: &AppState) -> ReportPage {
    let snap = state
        .hub
        .snapshot()
        .unwrap_or_else(|| state.engine.snapshot());
    let history = state.hub.run_history();
    let results = state
        .history
        .evaluate(&snap, snap.state == crate::stats::RunState::Stopped);
    let comparison =
        state.history.baseline.as_ref().map(|b| {
            crate::compare::compare(&b.snapshot, &snap, crate::compare::DEFAULT_NOISE_PCT)
        });
    let differences = super::history_api::live_differences(state, &snap);
    let input = super::history_api::live_report_input(
        state,
        &snap,
        &history,
        &results,
        &comparison,
        &differences,
    );
    crate::report::html::page(&input)
}

/// `GET /stats/report` (`?download=1` → attachment).
pub async fn report(State(state): State<AppState>, Query(q): Query<ReportQuery>) -> Response {
    let mut page = Page(report_page(&state)).into_response();
    page.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        security::report_csp_header(),
    );
    let download = matches!(q.download.as_deref(), Some("1" | "true" | "yes"));
    if download && page.status().is_success() {
        let name = format!("surge_report_{}.html", unix_now() as u64);
        if let Ok(v) = format!("attachment; filename=\"{name}\"").parse() {
            page.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        page
    } else {
        page
    }
}
