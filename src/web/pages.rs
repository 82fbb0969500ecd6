//! The dashboard page (`IndexPage`), rendered with askama from `templates/`, and the
//! wrapper that answers any page (the report's is built by `report::page`). JSON placed
//! inside `<script>` tags has `</` escaped as `<\/` so no value can close the tag.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::{assets, AppState};
use crate::plan::LoadProfile;
use crate::report::page::script_json;
use crate::stats::PERCENTILE_LABELS;

/// The dashboard page.
#[derive(Template)]
#[template(path = "index.html")]
pub struct IndexPage {
    /// Version segment of the asset URLs (`/static/{asset_version}/app.js`).
    pub asset_version: String,
    /// The start form's defaults and page settings, as JSON (see [`config_json`]).
    pub config_json: String,
    /// The metrics URLs every test scrapes (the plan's and `--metrics`), for the form's hint.
    pub metrics_note: String,
}

/// Renders an askama template as an HTML response (500 with a short text if it fails).
pub struct Page<T: Template>(pub T);

impl<T: Template> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        match self.0.render() {
            Ok(html) => Html(html).into_response(),
            Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "cannot render the page").into_response(),
        }
    }
}

/// The page's configuration blob.
pub fn config_json(state: &AppState) -> String {
    let d = &state.defaults;
    let (users, spawn_rate, rate) = match &d.load {
        LoadProfile::Closed { users, spawn_rate } => (*users, *spawn_rate, None),
        LoadProfile::Open { rate, max_users } => (*max_users, 1.0, Some(*rate)),
        LoadProfile::Stages(s) => (
            s.iter().map(|st| st.users).max().unwrap_or(1),
            s.first().map_or(1.0, |st| st.spawn_rate),
            None,
        ),
    };
    let value = json!({
        "host": d.host.clone().unwrap_or_default(),
        "users": users,
        "spawn_rate": spawn_rate,
        "run_time": d.run_time.map(crate::duration::format_duration),
        "rate": rate,
        "scenarios": d.scenarios(),
        "tick_ms": d.tick.as_millis() as u64,
        "percentiles": PERCENTILE_LABELS,
        "version": env!("CARGO_PKG_VERSION"),
    });
    script_json(&value.to_string())
}

/// `GET /`: the dashboard.
pub async fn index(State(state): State<AppState>) -> Page<IndexPage> {
    Page(IndexPage {
        asset_version: assets::version().to_string(),
        config_json: config_json(&state),
        metrics_note: metrics_note(&state),
    })
}

/// `api (http://...), http://...`: what every test of this dashboard scrapes.
fn metrics_note(state: &AppState) -> String {
    let d = &state.defaults;
    let sources = match &d.plan {
        Some(p) => d.metrics_for(p),
        None => d.metrics.clone(),
    };
    let names: Vec<String> = sources.iter().map(|s| s.url.to_string()).collect();
    names.join(", ")
}
