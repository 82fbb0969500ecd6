//! The engine tests' target: an axum server on `127.0.0.1:0`, on its own multi-thread tokio
//! runtime (so the load generator and the target do not share a scheduler), with known
//! behaviour and counters the tests read directly (shared `Arc` state, not HTTP):
//!
//! - `GET /ok` → 200 `ok`
//! - `GET /delay?ms=N` → sleeps N ms precisely (or, while a stall is on, until the stall
//!   ends), 200
//! - `GET /status/{code}` → that status with `{"error": "status <code> from the target"}`
//! - `GET /redirect?to=URL` → `302` to URL (`/ok` without `to`)
//! - `GET /fail-every/{n}` → every n-th request (per n) 500 `{"error": "every <n>th request fails"}`
//! - `POST /login` → `{"token": "t-<n>"}` (n counts logins from 1)
//! - `GET /whoami` → echoes the `x-token` header; 401 without it
//! - `GET|POST /echo` → `{"query": {...}, "headers": {...}, "body": "..."}`
//! - `POST /stall?ms=N` → from now on, `/delay` requests wait until N ms from now
//! - `POST /lab/orders` → answers like a Flask + PostgreSQL API out of connections: 400
//!   `{"error": "invalid request", "detail": ...}` unless the JSON body's `user_id` is a
//!   positive integer, else 500 `{"error": "database error", "detail": "connection failed:
//!   ... FATAL:  sorry, too many clients already"}`
//! - `GET /lab/busy` → 503 `service overloaded` as plain text
//! - `GET /capacity?k=K&ms=N` → a server of known capacity: with K requests of this route
//!   already in its hands, 503 `{"error": "over capacity", "detail": "at most K requests at
//!   once"}` at once; else it sleeps N ms and answers 200
//! - `GET /queue?ms=N` → a server with 4 workers: each request waits for a free one, holds
//!   it N ms, then answers 200 (throughput 4 per N ms; latency grows with the queue)
//!
//! Every request is counted per path (and per status) when it arrives.

#![allow(dead_code)]

pub mod binary;
pub mod browser;
pub mod client;
pub mod faults;
pub mod metrics_target;
pub mod precise;
pub mod runs;
pub mod web;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

/// What the target saw, shared with the test.
#[derive(Default)]
pub struct Seen {
    /// Requests per path (without query), counted on arrival.
    hits: Mutex<HashMap<String, u64>>,
    /// Responses per status code.
    statuses: Mutex<HashMap<u16, u64>>,
    /// Per `n` of `/fail-every/{n}`: requests so far.
    fail_every: Mutex<HashMap<u64, u64>>,
    logins: AtomicU64,
    /// `x-token` values seen by `/whoami`.
    pub tokens: Mutex<Vec<String>>,
    /// Query strings seen by `/echo`, parsed.
    pub echo_queries: Mutex<Vec<BTreeMap<String, String>>>,
    /// Headers (lower-case names) seen by `/echo`.
    pub echo_headers: Mutex<Vec<BTreeMap<String, String>>>,
    /// While set, `/delay` requests wait until this instant.
    stall_until: Mutex<Option<Instant>>,
    /// Longest time one `/delay` request spent in the handler, µs.
    max_delay_us: AtomicU64,
    /// Time each `/delay` request spent in the handler, µs.
    delays_us: Mutex<Vec<u64>>,
    /// `/capacity` requests in the handler now.
    in_flight: AtomicU64,
    /// `/queue`'s workers.
    queue: QueueWorkers,
}

/// The 4 workers of `/queue`.
struct QueueWorkers(tokio::sync::Semaphore);

impl Default for QueueWorkers {
    fn default() -> Self {
        QueueWorkers(tokio::sync::Semaphore::new(4))
    }
}

impl Seen {
    /// Requests that arrived for `path` (exact path, no query).
    pub fn hits(&self, path: &str) -> u64 {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    /// All requests that arrived.
    pub fn total(&self) -> u64 {
        self.hits.lock().unwrap().values().sum()
    }

    /// Responses sent with `status`.
    pub fn status_count(&self, status: u16) -> u64 {
        self.statuses
            .lock()
            .unwrap()
            .get(&status)
            .copied()
            .unwrap_or(0)
    }

    /// Make `/delay` requests wait until `d` from now.
    pub fn stall_for(&self, d: Duration) {
        *self.stall_until.lock().unwrap() = Some(Instant::now() + d);
    }

    /// Longest time one `/delay` request spent at the target.
    pub fn max_delay(&self) -> Duration {
        Duration::from_micros(self.max_delay_us.load(Ordering::Relaxed))
    }

    /// Median time a `/delay` request spent at the target, ms.
    pub fn median_delay_ms(&self) -> f64 {
        let mut v = self.delays_us.lock().unwrap().clone();
        v.sort_unstable();
        v.get(v.len().saturating_sub(1) / 2).copied().unwrap_or(0) as f64 / 1000.0
    }

    /// Forget everything counted so far.
    pub fn clear(&self) {
        self.hits.lock().unwrap().clear();
        self.statuses.lock().unwrap().clear();
        self.tokens.lock().unwrap().clear();
        self.echo_queries.lock().unwrap().clear();
        self.echo_headers.lock().unwrap().clear();
    }
}

/// A running target. Dropping it shuts its runtime down.
pub struct Target {
    pub addr: SocketAddr,
    pub seen: Arc<Seen>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Target {
    /// Start the target on `127.0.0.1:0` on its own 2-thread runtime.
    pub fn start() -> Target {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("test-target")
            .enable_all()
            .build()
            .expect("target runtime");
        let seen = Arc::new(Seen::default());
        // Bound here (std) so that `start` works inside or outside a runtime.
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("local addr");
        let app = router(seen.clone());
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
            let _ = axum::serve(listener, app).await;
        });
        Target {
            addr,
            seen,
            runtime: Some(runtime),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    port
}

fn router(seen: Arc<Seen>) -> Router {
    Router::new()
        .route("/ok", get(|| async { "ok" }))
        .route("/delay", get(delay))
        .route("/status/{code}", get(status))
        .route("/redirect", get(redirect))
        .route("/fail-every/{n}", get(fail_every))
        .route("/login", post(login))
        .route("/whoami", get(whoami))
        .route("/echo", get(echo).post(echo))
        .route("/stall", post(stall))
        .route("/lab/orders", post(lab_orders))
        .route("/capacity", get(capacity))
        .route("/queue", get(queue))
        .route(
            "/lab/busy",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "service overloaded\n") }),
        )
        .layer(middleware::from_fn_with_state(seen.clone(), count))
        .with_state(seen)
}

async fn count(State(seen): State<Arc<Seen>>, req: Request, next: Next) -> Response {
    *seen
        .hits
        .lock()
        .unwrap()
        .entry(req.uri().path().to_string())
        .or_default() += 1;
    let resp = next.run(req).await;
    *seen
        .statuses
        .lock()
        .unwrap()
        .entry(resp.status().as_u16())
        .or_default() += 1;
    resp
}

async fn delay(
    State(seen): State<Arc<Seen>>,
    Query(q): Query<HashMap<String, String>>,
) -> &'static str {
    let began = Instant::now();
    let ms: u64 = q.get("ms").and_then(|v| v.parse().ok()).unwrap_or(0);
    let stall = *seen.stall_until.lock().unwrap();
    match stall {
        Some(until) if until > began => tokio::time::sleep_until(until.into()).await,
        // tokio's timer rounds deadlines up to the next millisecond tick and then wakes a
        // little late: `tokio::time::sleep(10 ms)` measured 11–12 ms here (and `sleep(0)`
        // ~1.5 ms). A blocking-pool thread sleeps within ~0.1 ms of the asked time.
        _ if ms > 0 => {
            let _ =
                tokio::task::spawn_blocking(move || std::thread::sleep(Duration::from_millis(ms)))
                    .await;
        }
        _ => {}
    }
    let us = began.elapsed().as_micros() as u64;
    seen.max_delay_us.fetch_max(us, Ordering::Relaxed);
    seen.delays_us.lock().unwrap().push(us);
    "done"
}

fn query_u64(q: &HashMap<String, String>, key: &str) -> u64 {
    q.get(key).and_then(|v| v.parse().ok()).unwrap_or(0)
}

async fn capacity(
    State(seen): State<Arc<Seen>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let k = query_u64(&q, "k");
    let now = seen.in_flight.fetch_add(1, Ordering::SeqCst);
    let resp = if now >= k {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "over capacity", "detail": format!("at most {k} requests at once")})),
        )
            .into_response()
    } else {
        tokio::time::sleep(Duration::from_millis(query_u64(&q, "ms"))).await;
        "done".into_response()
    };
    seen.in_flight.fetch_sub(1, Ordering::SeqCst);
    resp
}

async fn queue(
    State(seen): State<Arc<Seen>>,
    Query(q): Query<HashMap<String, String>>,
) -> &'static str {
    if let Ok(_worker) = seen.queue.0.acquire().await {
        tokio::time::sleep(Duration::from_millis(query_u64(&q, "ms"))).await;
    }
    "done"
}

/// The PostgreSQL error text a psycopg connection gets beyond `max_connections`.
pub const LAB_DB_ERROR: &str = "connection failed: connection to server at \"127.0.0.1\", port 55432 failed: FATAL:  sorry, too many clients already\n";

async fn lab_orders(body: Bytes) -> Response {
    let user = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("user_id").and_then(serde_json::Value::as_i64));
    match user {
        Some(id) if id > 0 => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": "database error", "detail": LAB_DB_ERROR})),
        )
            .into_response(),
        _ => (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"error": "invalid request", "detail": "user_id must be a positive integer"}),
            ),
        )
            .into_response(),
    }
}

/// `302 Found` to the `to` query parameter (`/ok` without one).
async fn redirect(Query(q): Query<HashMap<String, String>>) -> Response {
    let to = q.get("to").map_or("/ok", String::as_str);
    (
        StatusCode::FOUND,
        [(axum::http::header::LOCATION, to.to_string())],
    )
        .into_response()
}

async fn status(Path(code): Path<u16>) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        Json(json!({ "error": format!("status {code} from the target") })),
    )
        .into_response()
}

async fn fail_every(State(seen): State<Arc<Seen>>, Path(n): Path<u64>) -> Response {
    let i = {
        let mut map = seen.fail_every.lock().unwrap();
        let c = map.entry(n).or_default();
        *c += 1;
        *c
    };
    if n > 0 && i % n == 0 {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": format!("every {n}th request fails") })),
        )
            .into_response()
    } else {
        "ok".into_response()
    }
}

async fn login(State(seen): State<Arc<Seen>>) -> Json<serde_json::Value> {
    let n = seen.logins.fetch_add(1, Ordering::Relaxed) + 1;
    Json(json!({ "token": format!("t-{n}") }))
}

async fn whoami(State(seen): State<Arc<Seen>>, headers: HeaderMap) -> Response {
    match headers.get("x-token").and_then(|v| v.to_str().ok()) {
        Some(t) => {
            seen.tokens.lock().unwrap().push(t.to_string());
            Json(json!({ "token": t })).into_response()
        }
        None => (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "no x-token header" })),
        )
            .into_response(),
    }
}

async fn echo(
    State(seen): State<Arc<Seen>>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Json<serde_json::Value> {
    let h: BTreeMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    seen.echo_queries.lock().unwrap().push(q.clone());
    seen.echo_headers.lock().unwrap().push(h.clone());
    Json(json!({
        "query": q,
        "headers": h,
        "body": String::from_utf8_lossy(&body),
    }))
}

async fn stall(
    State(seen): State<Arc<Seen>>,
    Query(q): Query<HashMap<String, String>>,
) -> StatusCode {
    let ms: u64 = q.get("ms").and_then(|v| v.parse().ok()).unwrap_or(1000);
    seen.stall_for(Duration::from_millis(ms));
    StatusCode::NO_CONTENT
}

// ---------------------------------------------------------------- engine helpers

use surge::client::ClientConfig;
use surge::engine::{Engine, EngineConfig, RunParams};
use surge::plan::{LoadProfile, Plan};
use surge::stats::{EntrySnapshot, Snapshot, PERCENTILES};

/// An engine with 2 workers and a short tick.
pub fn engine() -> Engine {
    Engine::new(EngineConfig {
        workers: 2,
        tick: Duration::from_millis(250),
        stop_timeout: Duration::from_secs(10),
        ..EngineConfig::default()
    })
    .expect("engine")
}

/// Run parameters for a single URL.
pub fn url_params(url: &str, load: LoadProfile) -> RunParams {
    RunParams {
        plan: Arc::new(surge::plan::from_url(url).expect("url plan")),
        host: None,
        load,
        run_time: None,
        client: ClientConfig::default(),
        metrics: Vec::new(),
    }
}

/// Run parameters for a TOML plan, pointed at `host`.
pub fn plan_params(plan: Plan, host: &str, load: LoadProfile) -> RunParams {
    RunParams {
        metrics: plan.metrics.clone(),
        plan: Arc::new(plan),
        host: Some(host.to_string()),
        load,
        run_time: None,
        client: ClientConfig::default(),
    }
}

/// Parse TOML plan text (as if from `plan.toml` in `dir`).
pub fn parse_plan(text: &str, dir: &std::path::Path) -> Plan {
    surge::plan::parse(text, &dir.join("plan.toml")).unwrap_or_else(|e| panic!("plan: {e}"))
}

pub fn closed(users: u32, spawn_rate: f64) -> LoadProfile {
    LoadProfile::Closed { users, spawn_rate }
}

/// The entry for (method, name).
pub fn entry<'a>(snap: &'a Snapshot, method: &str, name: &str) -> &'a EntrySnapshot {
    snap.entries
        .iter()
        .find(|e| e.method == method && e.name == name)
        .unwrap_or_else(|| panic!("no entry {method} {name} in {:?}", names(snap)))
}

pub fn names(snap: &Snapshot) -> Vec<(String, String)> {
    snap.entries
        .iter()
        .map(|e| (e.method.clone(), e.name.clone()))
        .collect()
}

/// Percentiles present, monotone, and the last one equal to the max.
pub fn assert_percentiles_sane(e: &EntrySnapshot) {
    assert_eq!(e.percentiles.len(), PERCENTILES.len());
    let values: Vec<f64> = e
        .percentiles
        .iter()
        .map(|p| p.unwrap_or_else(|| panic!("{}: missing percentile", e.name)))
        .collect();
    for w in values.windows(2) {
        assert!(
            w[0] <= w[1],
            "{}: percentiles not monotone: {values:?}",
            e.name
        );
    }
    let max = e.max_ms.expect("max");
    let min = e.min_ms.expect("min");
    assert_eq!(*values.last().unwrap(), max, "{}: p100 != max", e.name);
    assert!(
        values[0] >= min,
        "{}: median {} < min {min}",
        e.name,
        values[0]
    );
}

/// Bound a test in time.
pub async fn within<F: std::future::Future>(secs: u64, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .expect("test took too long")
}

/// Tests that measure time run one at a time within a test binary.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
