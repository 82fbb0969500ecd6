//! The self-contained HTML report's data: the run (snapshot + per-second series), its
//! thresholds and, with a baseline, the comparison and the baseline's series for the
//! overlaid charts. Rendered with the report template (`report::page::ReportPage`)
//! by `GET /stats/report`, the History tab and `--html FILE`.
//!
//! ```text
//! { "snapshot": SNAPSHOT, "history": [HISTORY_POINT], "label": "pool=40",
//!   "thresholds": [ThresholdResult],
//!   "baseline": null | { "title": "#3 pool=5", "snapshot": SNAPSHOT, "history": [...] },
//!   "comparison": null | Comparison,
//!   "differences": ["users 80 → 30", ...] }   (what the runs were asked to do differently)
//! ```

use std::path::Path;

use askama::Template;
use serde_json::{json, Value};

use super::page::{script_json, ReportPage};
use crate::compare::Comparison;
use crate::stats::{unix_now, HistoryPoint, Snapshot};
use crate::store::RunRecord;
use crate::thresholds::ThresholdResult;

/// A baseline run and this run compared with it.
pub struct BaselineInput<'a> {
    pub run: &'a RunRecord,
    pub comparison: &'a Comparison,
    /// How this run's settings differ from the baseline's (`compare::differences`).
    pub differences: &'a [String],
}

/// Everything a report shows.
pub struct ReportInput<'a> {
    pub snapshot: &'a Snapshot,
    pub history: &'a [HistoryPoint],
    pub label: &'a str,
    pub thresholds: &'a [ThresholdResult],
    pub baseline: Option<BaselineInput<'a>>,
}

/// The report's JSON blob (shape in the module docs).
pub fn report_json(r: &ReportInput<'_>) -> Value {
    let baseline = r.baseline.as_ref().map_or(Value::Null, |b| {
        json!({ "title": b.run.title(), "snapshot": &b.run.snapshot, "history": &b.run.history })
    });
    let comparison = r.baseline.as_ref().map_or(Value::Null, |b| {
        serde_json::to_value(b.comparison).unwrap_or(Value::Null)
    });
    let differences = r.baseline.as_ref().map_or(&[][..], |b| b.differences);
    json!({
        "snapshot": r.snapshot,
        "history": r.history,
        "label": r.label,
        "thresholds": r.thresholds,
        "baseline": baseline,
        "comparison": comparison,
        "differences": differences,
        "server_metrics": r.snapshot.server_views(),
        "server_peaks": r.baseline.as_ref()
            .map(|b| super::server::peak_rows(&b.run.snapshot, r.snapshot))
            .unwrap_or_default(),
    })
}

/// The report page for `input`.
pub fn page(r: &ReportInput<'_>) -> ReportPage {
    let host = if r.snapshot.host.is_empty() {
        "no host"
    } else {
        &r.snapshot.host
    };
    let title = if r.label.is_empty() {
        format!("Surge report: {host}")
    } else {
        format!("Surge report: {host} ({})", r.label)
    };
    ReportPage::new(
        title,
        super::format::iso_utc(unix_now()),
        script_json(&report_json(r).to_string()),
    )
}

/// Write the report to `path` (`--html`); errors name the file.
pub fn write_file(path: &Path, r: &ReportInput<'_>) -> std::io::Result<()> {
    let html = page(r)
        .render()
        .map_err(|e| std::io::Error::other(format!("cannot render the report: {e}")))?;
    std::fs::write(path, html)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}
