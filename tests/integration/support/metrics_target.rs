//! A target with a Prometheus endpoint whose values the test sets, and the endpoints a
//! scraper must survive, on `127.0.0.1:0` and its own runtime:
//!
//! - `GET /ok` → 200 `ok`
//! - `GET /metrics` → `app_jobs_total` growing by exactly 10 per second of wall time,
//!   `process_cpu_seconds_total` by 0.5 per second, `db_connections_in_use` (the test's
//!   value) against `db_connections_max` 20, `http_requests_total{status}` (200s and 503s
//!   as the test sets them)
//! - `GET /html` → an HTML page (a login page where the metrics should be)
//! - `GET /slow` → the metrics after 3 s
//! - `GET /huge` → 20 MB of text (more than Surge reads)
//! - `GET /text` → plain text that is not metrics

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

/// What `/metrics` says.
#[derive(Default)]
pub struct Values {
    pub connections: AtomicU64,
    pub ok: AtomicU64,
    pub unavailable: AtomicU64,
}

pub struct MetricsTarget {
    pub addr: SocketAddr,
    pub values: Arc<Values>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// When the counters started (Unix seconds): `app_jobs_total` is 10 × the time since.
fn start_time() -> f64 {
    static START: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *START.get_or_init(surge::stats::unix_now)
}

/// The content type of the text exposition format.
fn text() -> [(header::HeaderName, &'static str); 1] {
    [(header::CONTENT_TYPE, "text/plain; version=0.0.4")]
}

fn metrics(v: &Values) -> String {
    let elapsed = surge::stats::unix_now() - start_time();
    format!(
        "# HELP app_jobs_total Jobs done.\n# TYPE app_jobs_total counter\napp_jobs_total {}\n\
         # TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}\n\
         # TYPE db_connections_in_use gauge\ndb_connections_in_use {}\n\
         # TYPE db_connections_max gauge\ndb_connections_max 20\n\
         # TYPE http_requests_total counter\n\
         http_requests_total{{method=\"GET\",status=\"200\"}} {}\n\
         http_requests_total{{method=\"GET\",status=\"503\"}} {}\n",
        10.0 * elapsed,
        0.5 * elapsed,
        v.connections.load(Ordering::Relaxed),
        v.ok.load(Ordering::Relaxed),
        v.unavailable.load(Ordering::Relaxed),
    )
}

impl MetricsTarget {
    pub fn start() -> MetricsTarget {
        start_time();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("metrics-target")
            .enable_all()
            .build()
            .expect("metrics target runtime");
        let values = Arc::new(Values::default());
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("addr");
        let v = values.clone();
        let v2 = values.clone();
        let app = Router::new()
            .route("/ok", get(|| async { "ok" }))
            .route(
                "/metrics",
                get(move || {
                    let body = metrics(&v);
                    async move { (text(), body) }
                }),
            )
            .route(
                "/slow",
                get(move || {
                    let v = v2.clone();
                    async move {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        (text(), metrics(&v))
                    }
                }),
            )
            .route(
                "/html",
                get(|| async {
                    axum::response::Html(
                        "<!DOCTYPE html>\n<html><body><form>Log in</form></body></html>\n",
                    )
                }),
            )
            .route(
                "/huge",
                get(|| async {
                    let line = "# padding padding padding padding padding padding padding\n";
                    (text(), line.repeat(20_000_000 / line.len())).into_response()
                }),
            )
            .route("/text", get(|| async { "hello, this is not metrics\n" }));
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
            let _ = axum::serve(listener, app).await;
        });
        MetricsTarget {
            addr,
            values,
            runtime: Some(runtime),
        }
    }

    /// `http://127.0.0.1:PORT{path}`
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for MetricsTarget {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
