//! The live web dashboard: an axum app serving the page, its assets, a server-sent-event
//! stream and Locust's HTTP API, all driving one [`Engine`].
//!
//! - `api`: `POST /swarm` (start or edit), `/stop`, `/stats/reset`, with validation.
//! - `stats_api`: `GET /stats/requests` (Locust's JSON), `/exceptions`, `/tasks`, `/logs`.
//! - `downloads`: the CSV downloads and the HTML report (`/stats/report`).
//! - `pages`: the dashboard page (`IndexPage`) and the response wrapper of every page.
//! - `assets`: JS and CSS embedded in the binary, under versioned, immutable URLs.
//! - `hub`: the task that serialises each snapshot once and fans it out to browsers.
//! - `sse`: `GET /events`, one stream per browser (state, snapshots, logs, resume).
//! - `thinning`: the history a new browser gets (the current run in full, older thinned).
//! - `logs`: the controller's log lines (bounded ring + broadcast).
//! - `error`: [`ApiError`], turned into 4xx JSON answers.
//! - `security`: the guard in front of every route (Host allow-list, cross-site refusal,
//!   body limit, authentication) and the security headers.
//! - `auth`: basic auth, bearer token, the login page and its session cookie.
//! - `throttle`: wrong credentials slowed down per client address, logged once a streak.
//! - `targets`: `--allow-target`, the hosts the dashboard may load-test.
//! - `tls`: the dashboard over HTTPS (`--tls-cert`, `--tls-key`).
//! - `history_api`: the run history, comparisons, series and live thresholds (`/api/...`).
//! - `limit_api`: the breaking-point search from the page (`/find-limit`).
//! - `server_api`: the target's scraped metrics for the Server charts
//!   (`/api/server-metrics`).
//! - `recorder`: each dashboard test through the lifecycle (files, thresholds, saving).
//! - `server`: the `surge` dashboard command (bind, autostart, Ctrl-C).
//!
//! The page's side of the contract (routes, events, JSON shapes) is in `static/`; the
//! tests under `tests/integration/web_*.rs` and `browser*.rs` hold it.

pub mod api;
pub mod assets;
pub mod auth;
pub mod downloads;
pub mod error;
pub mod history_api;
pub mod hub;
pub mod limit_api;
pub mod logs;
pub mod pages;
pub mod recorder;
pub mod security;
pub mod server;
pub mod server_api;
pub mod sse;
pub mod stats_api;
pub mod thinning;
pub mod throttle;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;

pub use error::ApiError;
pub use hub::Hub;
pub use logs::{Level, LogBuffer};
pub use security::Security;

use crate::client::ClientConfig;
use crate::config::Settings;
use crate::engine::Engine;
use crate::plan::{LoadProfile, Plan};

/// What the start form is filled with, and what a started test uses for the fields the
/// form leaves out (from `-f plan.toml`, `-H`, `-u`, `-r`, `-t`, `--rate`).
#[derive(Debug, Clone)]
pub struct Defaults {
    /// The preloaded plan; `None` means "request exactly the form's host URL".
    pub plan: Option<Arc<Plan>>,
    /// Host in the form (the plan's, or `-H`).
    pub host: Option<String>,
    pub load: LoadProfile,
    pub run_time: Option<Duration>,
    pub client: ClientConfig,
    /// The engine's snapshot interval, for the page's chart axis.
    pub tick: Duration,
    /// `--metrics URL`: scraped in every test, after the plan's `[[metrics]]`.
    pub metrics: Vec<crate::scrape::Source>,
}

impl Defaults {
    /// No plan, no host: one user, the host typed in the form.
    pub fn empty() -> Defaults {
        Defaults {
            plan: None,
            host: None,
            load: LoadProfile::Closed {
                users: 1,
                spawn_rate: 1.0,
            },
            run_time: None,
            client: ClientConfig::default(),
            tick: Duration::from_secs(1),
            metrics: Vec::new(),
        }
    }

    /// Defaults from validated command-line settings. A plan made from `-H URL` alone is not
    /// kept: the form's host makes a fresh one.
    pub fn from_settings(s: &Settings) -> Defaults {
        let from_file = s.plan.source.is_some() || s.plan.text.is_some();
        Defaults {
            plan: from_file.then(|| s.plan.clone()),
            host: s.host.clone().or_else(|| s.plan.host.clone()),
            load: s.load.clone(),
            run_time: s.run_time,
            client: s.client.clone(),
            tick: Duration::from_secs(1),
            metrics: s.metrics.clone(),
        }
    }

    /// Every metrics source of a test of `plan`: the plan's, then `--metrics`.
    pub fn metrics_for(&self, plan: &Plan) -> Vec<crate::scrape::Source> {
        crate::scrape::combine(&plan.metrics, &self.metrics)
    }

    /// Scenario names of the preloaded plan.
    pub fn scenarios(&self) -> Vec<String> {
        self.plan
            .iter()
            .flat_map(|p| p.scenarios.iter().map(|s| s.name.clone()))
            .collect()
    }
}

/// Everything a handler needs; cheap to clone (handles and `Arc`s).
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub defaults: Arc<Defaults>,
    pub logs: Arc<LogBuffer>,
    pub hub: Arc<Hub>,
    /// Who may use the dashboard and what it may load-test.
    pub security: Arc<Security>,
    /// Run history and thresholds (off until [`AppState::with_history`]).
    pub history: Arc<history_api::HistoryState>,
    /// Saves finished tests; `None` until [`AppState::with_history`].
    pub recorder: Option<recorder::Recorder>,
    /// The breaking-point search started from the page, if any.
    pub limit: Arc<limit_api::LimitBoard>,
    /// Wrong credentials per client address.
    pub throttle: Arc<throttle::Throttle>,
}

impl AppState {
    /// Build the state and start the hub task (on the current tokio runtime). `echo_logs`
    /// also prints log lines to stderr.
    pub fn new(engine: Engine, defaults: Defaults, echo_logs: bool) -> AppState {
        let logs = Arc::new(LogBuffer::new(echo_logs));
        let hub = Hub::start(&engine, logs.clone());
        AppState {
            engine,
            defaults: Arc::new(defaults),
            logs,
            hub,
            security: Arc::new(Security::default()),
            history: Arc::default(),
            recorder: None,
            limit: Arc::default(),
            throttle: Arc::default(),
        }
    }

    /// The same state with this security configuration (the default is loopback, no login).
    pub fn with_security(mut self, security: Security) -> AppState {
        self.security = Arc::new(security);
        self
    }

    /// Turn on the run history and thresholds: every test that stops from now on is saved
    /// (starts the recorder task on the current tokio runtime).
    pub fn with_history(self, history: history_api::HistoryState) -> AppState {
        self.with_recording(history, crate::lifecycle::RunFiles::none())
    }

    /// [`AppState::with_history`], each test also writing `files` (`--csv`, `--json`).
    pub fn with_recording(
        mut self,
        history: history_api::HistoryState,
        files: crate::lifecycle::RunFiles,
    ) -> AppState {
        self.history = Arc::new(history);
        self.recorder = Some(recorder::Recorder::start(&self, files));
        self
    }
}

/// The dashboard's router, used by `surge` and by the tests.
pub fn app(state: AppState) -> Router {
    // Routes that answer at once: cut off after `REQUEST_TIMEOUT` (408), the reading of a
    // form's body included.
    let quick = Router::new()
        .route("/", get(pages::index))
        .route("/static/{version}/{file}", get(assets::serve))
        .route("/favicon.ico", get(assets::favicon))
        .route("/swarm", post(api::swarm))
        .route("/stats/reset", post(api::reset))
        .route(
            "/find-limit",
            get(limit_api::progress).post(limit_api::start),
        )
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/stats/requests", get(stats_api::requests))
        .route("/metrics", get(stats_api::metrics))
        .route("/exceptions", get(stats_api::exceptions))
        .route("/tasks", get(stats_api::tasks))
        .route("/logs", get(stats_api::logs))
        .route("/api/runs", get(history_api::list))
        .route(
            "/api/runs/{id}",
            get(history_api::show).delete(history_api::delete),
        )
        .route(
            "/api/runs/{id}/label",
            axum::routing::put(history_api::set_label),
        )
        .route("/api/compare", get(history_api::compare_runs))
        .route("/api/series", get(history_api::series_runs))
        .route("/api/thresholds", get(history_api::live_thresholds))
        .route("/api/server-metrics", get(server_api::server_metrics))
        .route("/api/distribution", get(stats_api::distribution))
        .route_layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            security::REQUEST_TIMEOUT,
        ));
    // Routes without a time limit: the event stream lasts as long as the page is open,
    // `/stop` waits for in-flight requests up to `--stop-timeout`, and the downloads of a
    // long run are large.
    let unlimited = Router::new()
        .route("/events", get(sse::events))
        .route("/stop", post(api::stop))
        .route("/stats/requests/csv", get(downloads::requests_csv))
        .route(
            "/stats/requests_full_history/csv",
            get(downloads::full_history_csv),
        )
        .route("/stats/failures/csv", get(downloads::failures_csv))
        .route("/exceptions/csv", get(downloads::exceptions_csv))
        .route("/stats/report", get(downloads::report))
        .route("/api/runs/{id}/report", get(history_api::report))
        .route("/api/runs/{id}/csv/{kind}", get(history_api::csv));
    // gzip for the page, its scripts and the large JSON and CSV answers, when the client
    // accepts it; never for the event stream (each event must reach the page at once) nor for
    // small answers.
    let compression = CompressionLayer::new().compress_when(
        SizeAbove::new(COMPRESS_FROM)
            .and(NotForContentType::SSE)
            .and(NotForContentType::IMAGES)
            .and(NotForContentType::GRPC),
    );
    let router = quick
        .merge(unlimited)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(compression);
    security::protect(router, &state).with_state(state)
}

/// Smallest answer compressed, in bytes (gzip's own framing is ~20 bytes).
const COMPRESS_FROM: u16 = 1024;

async fn method_not_allowed(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
    (
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(serde_json::json!({
            "error": format!("{method} is not allowed on {}", uri.path())
        })),
    )
}

async fn not_found() -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
    (
        axum::http::StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({"error": "no such page"})),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineConfig;
    use axum::body::Body;
    use axum::http::{header, Request, Response};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    fn router() -> Router {
        let engine = Engine::new(EngineConfig {
            workers: 1,
            ..EngineConfig::default()
        })
        .unwrap();
        app(AppState::new(engine, Defaults::empty(), false))
    }

    async fn gzip_get(app: &Router, uri: &str) -> Response<Body> {
        let req = Request::get(uri)
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap();
        app.clone().oneshot(req).await.unwrap()
    }

    fn encoding(res: &Response<Body>) -> Option<&str> {
        res.headers()
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
    }

    #[tokio::test]
    async fn the_page_and_its_scripts_are_gzipped_for_clients_that_accept_it() {
        let app = router();
        let script = format!("/static/{}/charts.js", assets::version());
        for uri in ["/", script.as_str()] {
            let res = gzip_get(&app, uri).await;
            assert_eq!(encoding(&res), Some("gzip"), "{uri}");
            assert_eq!(
                res.headers()[header::CONTENT_SECURITY_POLICY],
                security::CSP,
                "{uri}"
            );
            let bytes = res.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(&bytes[..2], &[0x1f, 0x8b], "{uri}: not gzip");
        }
        // Without Accept-Encoding, and for small answers: as they are.
        let res = app
            .clone()
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(encoding(&res), None);
        let res = gzip_get(&app, "/tasks").await;
        assert_eq!(encoding(&res), None);
    }

    #[tokio::test]
    async fn the_event_stream_is_never_compressed() {
        let app = router();
        let res = gzip_get(&app, "/events").await;
        assert_eq!(encoding(&res), None);
        assert!(res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        let frame = res.into_body().frame().await.unwrap().unwrap();
        let text = String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap();
        assert!(text.contains("event: state"), "{text}");
    }

    #[tokio::test]
    async fn the_limits_answer_in_json() {
        let bare = |status| {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = status;
            r
        };
        let res = security::json_refusals(bare(StatusCode::REQUEST_TIMEOUT)).await;
        assert_eq!(res.status(), StatusCode::REQUEST_TIMEOUT);
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            serde_json::json!({"error": "request timed out: no answer within 30 s"})
        );
        let res = security::json_refusals(bare(StatusCode::PAYLOAD_TOO_LARGE)).await;
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            serde_json::json!({"error": "request body too large: at most 65536 bytes"})
        );
        let res = security::json_refusals(bare(StatusCode::NOT_FOUND)).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    /// On paused time: a form whose body never ends is cut off after [`security::REQUEST_TIMEOUT`]
    /// with the JSON 408, while the event stream, which is not timed, keeps going.
    #[tokio::test(start_paused = true)]
    async fn a_request_that_never_ends_is_answered_408_after_the_timeout() {
        let app = router();
        let started = tokio::time::Instant::now();
        let never = futures::stream::pending::<Result<bytes::Bytes, std::io::Error>>();
        let req = Request::post("/swarm")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from_stream(never))
            .unwrap();
        let limit = security::REQUEST_TIMEOUT + Duration::from_secs(10);
        let res = tokio::time::timeout(limit, app.clone().oneshot(req))
            .await
            .expect("no answer: the request was never cut off")
            .unwrap();
        assert_eq!(res.status(), StatusCode::REQUEST_TIMEOUT);
        assert!(started.elapsed() >= security::REQUEST_TIMEOUT);
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            serde_json::json!({"error": "request timed out: no answer within 30 s"})
        );
        let res = gzip_get(&app, "/events").await;
        let mut body = res.into_body();
        body.frame().await.unwrap().unwrap();
        tokio::time::sleep(security::REQUEST_TIMEOUT * 2).await;
        let more = tokio::time::timeout(Duration::from_secs(5), body.frame()).await;
        assert!(
            matches!(more, Ok(Some(Ok(_)))),
            "the stream ended or stalled after the timeout"
        );
    }
}
