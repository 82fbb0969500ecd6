//! Surge's integration tests, in one test binary (one link of the library instead of one per
//! file). Each module tests one area end to end; `support` holds the targets, the binary
//! driver, the browser driver and the stored-run builders they share.
//!
//! Every server a test talks to listens on 127.0.0.1 port 0, and every load loop is bounded.
//! Tests that measure time take [`crate::support::SERIAL`] so that they never overlap.

mod support;

// The library's shape: layers point one way.
mod layers;

// The HTTP client and the plan model.
mod client;
mod plan;

// The engine: counting, load shapes, timing, control, faults, the generator's own health.
mod engine_control;
mod engine_counts;
mod engine_load;
mod engine_plan;
mod engine_timing;
mod faults;
mod generator_health;
mod limit;

// Reports, the run history, the headless runner and the binary.
mod demo_target;
mod headless;
mod history;
mod report;
mod server_metrics;
mod signals;

// The dashboard: in-process routes, login, security, the event stream, real browsers.
mod browser;
mod browser_bounds;
mod browser_charts;
mod browser_history;
mod browser_limit;
mod browser_server;
mod browser_table;
mod web_api;
mod web_login;
mod web_security;
mod web_sse;
