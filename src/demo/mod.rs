//! The built-in demo target and its plan.
//!
//! A newcomer runs Surge against this store API to see realistic statistics: latency that
//! grows with load, 404s from unknown stores, and MySQL-style "Too many connections" errors when
//! concurrency exceeds the connection pool.
//!
//! - [`target`]: the routes and the latency/connection-limit model (documented there).
//! - [`shop`]: the demo shop's in-memory tokens, orders and connection pool.
//! - [`metrics`]: its `GET /metrics` (requests by status, the pool, the process).
//! - [`DEMO_PLAN`]: `plans/demo.toml`, a ready plan exercising every route.

pub mod metrics;
pub mod shop;
pub mod target;

use std::future::Future;

pub use target::app;

/// The demo plan (TOML). Its `host` is `http://127.0.0.1:8080`; the engine replaces it with the
/// address the demo target actually listens on.
pub const DEMO_PLAN: &str = include_str!("../../plans/demo.toml");

/// Settings of a demo target instance.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoConfig {
    /// Size of the simulated database connection pool: requests beyond this many in flight get
    /// `500 (OperationalError) 1040: Too many connections` at once. Default 20; 0 acts as 1.
    pub db_connections: usize,
    /// Multiplies every base latency (1.0 = realistic; tests use small values to run fast).
    pub latency_scale: f64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            db_connections: 20,
            latency_scale: 1.0,
        }
    }
}

/// Serve the demo target on `listener` until `shutdown` completes (then finish in-flight
/// requests and return).
pub async fn serve(
    listener: tokio::net::TcpListener,
    cfg: DemoConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(cfg))
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_plan_is_valid_toml_with_documented_shape() {
        let v: toml::Value = toml::from_str(DEMO_PLAN).expect("demo plan parses as TOML");
        assert_eq!(v["host"].as_str(), Some("http://127.0.0.1:8080"));
        assert_eq!(v["load"]["users"].as_integer(), Some(50));
        assert_eq!(v["load"]["spawn_rate"].as_integer(), Some(10));
        let scenario = &v["scenarios"][0];
        assert_eq!(scenario["tasks"].as_array().map(Vec::len), Some(4));
        assert!(scenario["on_start"][0]["capture"]["token"].is_table());
    }

    #[test]
    fn default_config_has_twenty_connections() {
        assert_eq!(DemoConfig::default().db_connections, 20);
    }
}
