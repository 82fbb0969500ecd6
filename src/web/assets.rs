//! JS and CSS compiled into the binary and served under `/static/{version}/{file}`, where
//! `version` is a hash of all the assets: the URL changes whenever a file does, so browsers
//! may cache them forever (`immutable`) and never see a stale script after an upgrade.

use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

const JS: &str = "text/javascript; charset=utf-8";

/// `(name, content type, the file in static/)`.
macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        (
            $name,
            $content_type,
            include_bytes!(concat!("../../static/", $name)),
        )
    };
}

/// The embedded files: name, content type, bytes. The dashboard page loads its scripts in
/// the order of `templates/index.html` (see `static/dashboard.js` for what each one does).
pub const FILES: &[(&str, &str, &[u8])] = &[
    asset!("charts.js", JS),
    asset!("charts-draw.js", JS),
    asset!("charts-server.js", JS),
    asset!("table.js", JS),
    asset!("dashboard.js", JS),
    asset!("stats.js", JS),
    asset!("live.js", JS),
    asset!("server.js", JS),
    asset!("endpoint.js", JS),
    asset!("forms.js", JS),
    asset!("tabs.js", JS),
    asset!("limit.js", JS),
    asset!("keys.js", JS),
    asset!("app.js", JS),
    asset!("compare.js", JS),
    asset!("history.js", JS),
    asset!("report.js", JS),
    asset!("style.css", "text/css; charset=utf-8"),
    ("favicon.svg", FAVICON_TYPE, FAVICON),
];

/// The icon browsers show in the tab (also at `/favicon.ico`, where browsers look for it
/// on pages that do not name one: the HTML report).
pub const FAVICON: &[u8] = include_bytes!("../../static/favicon.svg");
const FAVICON_TYPE: &str = "image/svg+xml";

/// `GET /favicon.ico`: the icon (an SVG: every current browser takes one by its type).
pub async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, FAVICON_TYPE),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

/// First 10 hex digits of a hash of every asset (computed once).
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        // SipHash with fixed keys: the same bytes give the same version on every start.
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for (name, _, bytes) in FILES {
            name.hash(&mut h);
            bytes.hash(&mut h);
        }
        format!("{:016x}", h.finish())[..10].to_string()
    })
}

/// `GET /static/{version}/{file}`.
pub async fn serve(Path((v, file)): Path<(String, String)>) -> Response {
    if v != version() {
        return StatusCode::NOT_FOUND.into_response();
    }
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_static_is_embedded_and_every_script_of_the_page_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/static");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(FILES.iter().any(|(n, _, _)| *n == name), "{name}");
        }
        let page = include_str!("../../templates/index.html");
        let scripts: Vec<&str> = page
            .split("/static/{{ asset_version }}/")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').unwrap()])
            .collect();
        assert!(scripts.contains(&"app.js"), "{scripts:?}");
        for s in scripts {
            assert!(FILES.iter().any(|(n, _, _)| *n == s), "{s}");
        }
    }
}
