//! Surge: a load tester with exact statistics, headless or driven from a live web dashboard.
//!
//! # Layout
//! - [`plan`]: test plans (TOML/YAML) parsed and validated into the model the engine runs;
//!   templates for dynamic values, CSV data files.
//! - [`client`]: the per-user HTTP client (keep-alive, HTTP/2 by ALPN, rustls, cookies,
//!   redirects, timeouts) and its failure enum.
//! - [`engine`]: virtual users on worker threads, spawn/ramp/stages/open-model scheduling, and
//!   the control API (start, change users or rate, stop, reset, snapshot).
//! - [`scrape`]: the target's Prometheus metrics read into series beside the load
//!   (parsing, rates, built-in views), for the engine's scraper.
//! - [`stats`]: per-worker recording, timed merge, HdrHistogram entries, failure grouping,
//!   per-second history and snapshots.
//! - [`report`]: console tables, Locust-compatible CSV files and the JSON summary.
//! - [`demo`]: the built-in demo target (a store API with a connection limit) and its plan.
//! - [`app`]: the top-level commands (`surge`, `surge demo`), returning exit codes.
//! - [`cli`]: command-line arguments (clap types only) turned into validated settings.
//! - [`config`]: validated run settings and the limits every front end checks against.
//! - [`lifecycle`]: one test's life for every front end: history, baseline, files,
//!   thresholds, stop, final files, report, save.
//! - [`headless`]: a whole run without the dashboard, in the console, through `lifecycle`.
//! - [`limit`]: the breaking-point search: steps judged on their own figures, grow, bisect.
//! - [`limit_cmd`]: `surge find-limit`, its flags and its answer.
//! - [`web`]: the live dashboard: axum routes, SSE hub, Locust's HTTP API, askama pages.
//! - [`store`]: the run history: every finished run saved in an embedded SQLite database.
//! - [`compare`]: two runs compared per endpoint with a verdict; N runs as a series.
//! - [`thresholds`]: k6-style pass/fail criteria (`p95 < 500ms`), evaluated live and at the end.
//! - [`runs_cmd`]: `surge runs list|show|compare|export|delete`.
//! - [`check_cmd`]: `surge check PLAN`: validate a plan and show the requests it would send.
//! - [`base_url`]: the one check of a URL to load-test, with the same message everywhere.
//! - [`duration`]: parsing of `20`, `20s`, `3m`, `1h20m` style durations.

pub mod app;
pub mod base_url;
pub mod check_cmd;
pub mod cli;
pub mod client;
pub mod compare;
pub mod config;
pub mod demo;
pub mod duration;
pub mod engine;
pub mod headless;
pub mod lifecycle;
pub mod limit;
pub mod limit_cmd;
pub mod plan;
pub mod report;
pub mod runs_cmd;
pub mod scrape;
pub mod stats;
pub mod store;
pub mod targets;
pub mod thresholds;
pub mod web;
