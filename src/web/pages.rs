//! The two HTML pages, rendered with askama from `templates/`: the dashboard (`IndexPage`)
//! and the self-contained report (`ReportPage`). JSON placed inside `<script>` tags has `</`
//! escaped as `<\/` so no value can close the tag.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::{assets, AppState};
use crate::plan::LoadProfile;
use crate::stats::PERCENTILE_LABELS;

/// The dashboard page.
#[derive(Template)]
#[template(path = "index.html")]
pub struct IndexPage {
    /// Version segment of the asset URLs (`/static/{asset_version}/app.js`).
    pub asset_version: String,
    /// The start form's defaults and page settings, as JSON (see [`config_json`]).
    pub config_json: String,
}

/// The downloadable HTML report: opens offline, everything inlined.
#[derive(Template)]
#[template(path = "report.html")]
pub struct ReportPage {
    pub title: String,
    /// ISO-8601 UTC time of rendering.
    pub generated_at: String,
    pub style: &'static str,
    pub charts_js: &'static str,
    pub report_js: &'static str,
    /// The comparison tables and overlaid charts (shared with the dashboard).
    pub compare_js: &'static str,
    /// See `report::html` for the shape.
    pub data_json: String,
    /// The report's Content-Security-Policy (hashes of its inline script and style), also
    /// kept in the file as a `<meta>` tag (only quotes, hashes and keywords: safe unescaped).
    pub csp: &'static str,
}

impl ReportPage {
    /// A report with the embedded style and scripts; `data_json` already script-safe.
    pub fn new(title: String, generated_at: String, data_json: String) -> ReportPage {
        ReportPage {
            title,
            generated_at,
            style: assets::STYLE_CSS,
            charts_js: assets::CHARTS_JS,
            report_js: assets::REPORT_JS,
            compare_js: assets::COMPARE_JS,
            data_json,
            csp: super::security::report_csp(),
        }
    }
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

/// JSON that is safe inside a `<script>` element.
pub fn script_json(json: &str) -> String {
    json.replace("</", "<\\/")
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_cannot_close_the_script_tag() {
        let v = serde_json::json!({"name": "</script><script>alert(1)</script>"});
        let out = script_json(&v.to_string());
        assert!(!out.contains("</"));
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, v);
    }
}
