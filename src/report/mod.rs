//! Reports built from snapshots: console tables, Locust CSV files, JSON summary.
//!
//! Every report reads a [`crate::stats::Snapshot`] only (never live statistics) and writes to
//! any [`std::io::Write`], so the same code serves the terminal, files and HTTP downloads.
//!
//! - [`console`]: the periodic table and the final summary of a headless run.
//! - [`csv`]: Locust-compatible `PREFIX_stats.csv`, `_stats_history.csv`, `_failures.csv`,
//!   `_exceptions.csv` (exact headers), and [`CsvFiles`] which manages them during a run.
//! - [`json`]: the documented JSON summary.
//! - [`comparison`]: the console tables (and CSV) of a comparison and of a series.
//! - [`html`]: the data of the self-contained HTML report (thresholds, baseline comparison).
//! - [`page`]: the report's page: its template, inlined scripts and style, and their policy.
//! - [`prometheus`]: Surge's own statistics in Prometheus' text format (`GET /metrics`).
//! - [`server`]: the target's scraped metrics in the console (peaks, means, comparisons).
//! - [`format`](mod@format): number, time and text formatting shared by the others.

pub mod comparison;
pub mod console;
pub mod csv;
pub mod format;
pub mod html;
pub mod json;
pub mod page;
pub mod prometheus;
pub mod server;

pub use self::console::{print_summary, print_table, write_thresholds};
pub use self::csv::{
    write_exceptions, write_failures, write_run_history, write_stats, CsvFiles, HistoryCsv,
};
pub use self::json::{to_json, write_json, write_json_file};
