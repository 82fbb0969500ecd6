//! The self-contained HTML report page: the askama template `templates/report.html` with the
//! stylesheet and the chart, comparison and report scripts inlined (so that a downloaded
//! file opens offline), and the Content-Security-Policy that allows exactly those inline
//! sources by hash. The dashboard serves the same page; it does not build it.

use std::sync::OnceLock;

use askama::Template;
use base64::Engine as _;

/// The stylesheet, inlined in the HTML report.
pub const STYLE_CSS: &str = include_str!("../../static/style.css");
/// The chart code (the charts, their drawing and the server charts, in this order), inlined in the HTML report
/// as one script: one hash in its Content-Security-Policy.
pub const CHARTS_JS: &str = concat!(
    include_str!("../../static/charts.js"),
    include_str!("../../static/charts-draw.js"),
    include_str!("../../static/charts-server.js")
);
/// The report's own script, inlined in the HTML report.
pub const REPORT_JS: &str = include_str!("../../static/report.js");
/// The comparison renderer, inlined in the HTML report.
pub const COMPARE_JS: &str = include_str!("../../static/compare.js");

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
            style: STYLE_CSS,
            charts_js: CHARTS_JS,
            report_js: REPORT_JS,
            compare_js: COMPARE_JS,
            data_json,
            csp: csp(),
        }
    }
}

/// JSON that is safe inside a `<script>` element: `</` is written `<\/`, so no value can
/// close the tag.
pub fn script_json(json: &str) -> String {
    json.replace("</", "<\\/")
}

/// `'sha256-...'` of an inline script or style.
fn source_hash(text: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(d.as_ref())
    )
}

/// The HTML report's policy: it inlines its script and style, which are allowed by hash,
/// never as "any inline code". Also placed in the report as a `<meta>` tag, so the saved
/// file keeps it.
pub fn csp() -> &'static str {
    static POLICY: OnceLock<String> = OnceLock::new();
    POLICY.get_or_init(|| {
        format!(
            "default-src 'none'; script-src {} {} {}; style-src {}; img-src data: blob:; \
             base-uri 'none'; form-action 'none'",
            source_hash(CHARTS_JS),
            source_hash(COMPARE_JS),
            source_hash(REPORT_JS),
            source_hash(STYLE_CSS)
        )
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

    #[test]
    fn report_policy_hashes_the_inlined_code() {
        let p = csp();
        assert_eq!(p.matches("'sha256-").count(), 4, "{p}");
        assert!(!p.contains("unsafe-inline"));
        // SHA-256 of the empty string, as `openssl dgst -sha256 -binary | base64` gives it.
        assert_eq!(
            source_hash(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
    }
}
