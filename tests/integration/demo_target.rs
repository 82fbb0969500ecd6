//! The demo target: every route's happy path and error shapes, the MySQL-like connection limit,
//! and latency growing with concurrency. Timing checks compare orderings only.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use surge::demo::{app, serve, DemoConfig};
use tower::ServiceExt;

/// A fast target for functional tests (latencies scaled down 100×).
fn fast() -> Router {
    app(DemoConfig {
        db_connections: 20,
        latency_scale: 0.01,
    })
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("x-token", t);
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(Body::from(body.unwrap_or("").to_string()))
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), app.clone().oneshot(req))
        .await
        .expect("answer within 10 s")
        .unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

async fn token(app: &Router) -> String {
    let (status, body) = call(
        app,
        "POST",
        "/login",
        None,
        Some(r#"{"user":"ann","password":"pw"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    body["token"].as_str().expect("token string").to_string()
}

#[tokio::test]
async fn login_issues_tokens_and_rejects_missing_fields() {
    let app = fast();
    let t = token(&app).await;
    assert!(!t.is_empty());
    let (status, body) = call(
        &app,
        "POST",
        "/login",
        None,
        Some(r#"{"user":"","password":"pw"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"detail": "user and password are required"}));
    let (status, body) = call(&app, "POST", "/login", None, Some("not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["detail"].is_string());
}

#[tokio::test]
async fn stock_requires_a_token_and_a_known_store() {
    let app = fast();
    let expected = json!({"detail": "missing or invalid x-token"});
    let (status, body) = call(&app, "GET", "/api/stores/1/stock", None, None).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, expected.clone()));
    let (status, body) = call(&app, "GET", "/api/stores/1/stock", Some("forged"), None).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, expected));

    let t = token(&app).await;
    let (status, body) = call(&app, "GET", "/api/stores/50/stock", Some(&t), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body["items"].as_array().unwrap().is_empty());
    assert!(body["items"][0]["sku"].is_string());
    let (status, body) = call(&app, "GET", "/api/stores/77/stock", Some(&t), None).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({"detail": "store not found (ids are 1 to 50)"})
        )
    );
    let (status, _) = call(&app, "GET", "/api/stores/0/stock", Some(&t), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn orders_are_created_read_back_and_validated() {
    let app = fast();
    let t = token(&app).await;
    let order = r#"{"items":[{"sku":"A1","qty":2},{"sku":"C3","qty":1}]}"#;
    let (status, body) = call(&app, "POST", "/orders", Some(&t), Some(order)).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = body["id"].as_u64().expect("numeric id");
    assert_eq!(body["total"].as_f64(), Some(46.9));

    let (status, body) = call(&app, "GET", &format!("/orders/{id}"), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"].as_u64(), Some(id));
    assert_eq!(body["customer"], "ann");
    let (status, body) = call(&app, "GET", "/orders/999999", None, None).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({"detail": "order 999999 not found"})
        )
    );

    for bad in [
        "{}",
        r#"{"items":[]}"#,
        r#"{"items":[{"sku":"Z9","qty":1}]}"#,
        r#"{"items":[{"sku":"A1","qty":0}]}"#,
        r#"{"items":"A1"}"#,
        "][",
    ] {
        let (status, body) = call(&app, "POST", "/orders", None, Some(bad)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(body["detail"].is_string(), "{bad}: {body}");
    }
}

#[tokio::test]
async fn reports_summarise_orders() {
    let app = fast();
    let t = token(&app).await;
    let order = r#"{"items":[{"sku":"B2","qty":3}]}"#;
    assert_eq!(
        call(&app, "POST", "/orders", Some(&t), Some(order)).await.0,
        StatusCode::CREATED
    );
    let (status, body) = call(&app, "GET", "/orders/reports/best-sellers", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["best_sellers"][0],
        json!({"sku": "B2", "name": "Oat milk 1 l", "units": 3})
    );
    let (status, body) = call(&app, "GET", "/orders/reports/highest-spenders", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["highest_spenders"][0]["customer"], "ann");
    let (status, body) = call(&app, "GET", "/nowhere", None, None).await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, json!({"detail": "Not Found"}))
    );
}

/// Fire `n` concurrent requests at `uri`; returns (status, body, elapsed) per request.
async fn burst(app: &Router, uri: &'static str, n: usize) -> Vec<(StatusCode, Value, Duration)> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let start = Instant::now();
                let (s, b) = call(&app, "GET", uri, None, None).await;
                (s, b, start.elapsed())
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test]
async fn too_many_connections_answers_mysql_error_1040() {
    let app = app(DemoConfig {
        db_connections: 2,
        latency_scale: 1.0,
    });
    let results = burst(&app, "/orders/reports/best-sellers", 10).await;
    let ok = results.iter().filter(|r| r.0 == StatusCode::OK).count();
    let refused: Vec<_> = results
        .iter()
        .filter(|r| r.0 == StatusCode::INTERNAL_SERVER_ERROR)
        .collect();
    assert!(
        (1..=2).contains(&ok),
        "at most 2 connections succeed, got {ok}"
    );
    assert_eq!(ok + refused.len(), 10);
    let expected = json!({"error": "(OperationalError) 1040: Too many connections"});
    assert!(refused.iter().all(|r| r.1 == expected));
    // Refusals are immediate: faster than the slowest successful (150 ms base) request.
    let slowest_ok = results
        .iter()
        .filter(|r| r.0 == StatusCode::OK)
        .map(|r| r.2)
        .max()
        .unwrap();
    let fastest_refusal = refused.iter().map(|r| r.2).min().unwrap();
    assert!(fastest_refusal < slowest_ok);
    // Connections are given back: a later request succeeds.
    assert_eq!(
        call(&app, "GET", "/orders/reports/best-sellers", None, None)
            .await
            .0,
        StatusCode::OK
    );
}

/// `GET /metrics`: answers by status, the pool and its ceiling, the refusals, the process.
#[tokio::test]
async fn metrics_tell_the_servers_side() {
    let app = app(DemoConfig {
        db_connections: 2,
        latency_scale: 0.1,
    });
    let results = burst(&app, "/orders/reports/best-sellers", 10).await;
    let refused = results
        .iter()
        .filter(|r| r.0 == StatusCode::INTERNAL_SERVER_ERROR)
        .count();
    let ok = results.len() - refused;
    let res = app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let text = String::from_utf8(body.to_vec()).unwrap();
    let sample = |name: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
            .and_then(|v| v.parse().ok())
    };
    assert_eq!(
        sample("http_requests_total{status=\"200\"}"),
        Some(ok as f64),
        "{text}"
    );
    assert_eq!(
        sample("http_requests_total{status=\"500\"}"),
        Some(refused as f64),
        "{text}"
    );
    assert_eq!(
        sample("db_connections_refused_total"),
        Some(refused as f64),
        "{text}"
    );
    assert_eq!(sample("db_connections_max"), Some(2.0), "{text}");
    assert_eq!(sample("db_connections_in_use"), Some(0.0), "{text}");
    assert!(refused > 0, "{results:?}");
    // The burst filled the pool: its peak says so, though nothing is in use now; the next
    // scrape starts a new period.
    assert_eq!(sample("db_connections_in_use_peak"), Some(2.0), "{text}");
    let again = app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let again = axum::body::to_bytes(again.into_body(), 1 << 20)
        .await
        .unwrap();
    let again = String::from_utf8(again.to_vec()).unwrap();
    assert!(
        again.contains("\ndb_connections_in_use_peak 0\n"),
        "{again}"
    );
    #[cfg(target_os = "linux")]
    {
        assert!(
            sample("process_cpu_seconds_total").is_some_and(|v| v >= 0.0),
            "{text}"
        );
        assert!(
            sample("process_resident_memory_bytes").is_some_and(|v| v > 1e6),
            "{text}"
        );
    }
    // Every sample's family is declared first.
    let mut typed = Vec::new();
    for l in text.lines() {
        match l.strip_prefix("# TYPE ") {
            Some(t) => typed.push(t.split(' ').next().unwrap().to_string()),
            None if !l.starts_with('#') => {
                let fam = l.split(['{', ' ']).next().unwrap();
                assert!(typed.iter().any(|t| t == fam), "{l}");
            }
            None => {}
        }
    }
}

#[tokio::test]
async fn latency_grows_with_concurrency() {
    let app = app(DemoConfig {
        db_connections: 50,
        latency_scale: 0.4,
    });
    let mut alone = Duration::MAX;
    for _ in 0..3 {
        alone = alone.min(burst(&app, "/orders/reports/highest-spenders", 1).await[0].2);
    }
    let crowd = burst(&app, "/orders/reports/highest-spenders", 45).await;
    assert!(crowd.iter().all(|r| r.0 == StatusCode::OK));
    let slowest = crowd.iter().map(|r| r.2).max().unwrap();
    assert!(
        slowest > alone,
        "45 concurrent ({slowest:?}) should be slower than alone ({alone:?})"
    );
}

#[tokio::test]
async fn serves_over_tcp_and_shuts_down() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let cfg = DemoConfig {
        latency_scale: 0.01,
        ..DemoConfig::default()
    };
    let server = tokio::spawn(serve(listener, cfg, async {
        let _ = stopped.await;
    }));
    let exchange = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = "GET /api/stores/1/stock HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
        s.write_all(req.as_bytes()).await.unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).await.unwrap();
        text
    };
    let text = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .unwrap();
    assert!(text.starts_with("HTTP/1.1 401"), "{text}");
    assert!(text.contains("missing or invalid x-token"));
    stop.send(()).unwrap();
    let done = tokio::time::timeout(Duration::from_secs(10), server).await;
    assert!(matches!(done, Ok(Ok(Ok(())))));
}
