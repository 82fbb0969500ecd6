//! The demo target's HTTP routes: a small store API shaped like the Flask/FastAPI + MySQL
//! services our users test, with FastAPI-style JSON errors and a MySQL-like connection limit.
//!
//! # Latency model
//! Every request (including errors found while handling it) first takes a "database
//! connection" from a pool of [`DemoConfig::db_connections`]. If none is free it fails at once
//! with `500 {"error": "(OperationalError) 1040: Too many connections"}`, as MySQL does.
//! Otherwise it holds the connection for
//!
//! `latency = base(endpoint) × latency_scale × (1 + busy / db_connections) × jitter`
//!
//! where `busy` is the number of connections already held when this one was taken and `jitter`
//! is uniform in 0.9..1.1. So latency grows linearly with concurrency, up to twice the base
//! just before the pool runs out. Base latencies: `/login` 20 ms, stock 10 ms, `POST /orders`
//! 25 ms, `GET /orders/{id}` 6 ms, best-sellers 150 ms, highest-spenders 250 ms.
//!
//! `GET /metrics` tells the server's side in Prometheus' text format (`demo::metrics`).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::metrics::Counters;
use super::shop::{price_of, stock_of, Connection, OrderLine, Shop, CATALOG};
use super::DemoConfig;

/// Stores that exist: ids `1..=STORES`.
pub const STORES: u64 = 50;
/// Largest quantity accepted on one order line.
const MAX_QTY: u64 = 1000;

/// Base latency of each endpoint, in ms (before load and scale).
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Login,
    Stock,
    CreateOrder,
    GetOrder,
    BestSellers,
    HighestSpenders,
}

impl Endpoint {
    fn base_ms(self) -> f64 {
        match self {
            Endpoint::Login => 20.0,
            Endpoint::Stock => 10.0,
            Endpoint::CreateOrder => 25.0,
            Endpoint::GetOrder => 6.0,
            Endpoint::BestSellers => 150.0,
            Endpoint::HighestSpenders => 250.0,
        }
    }
}

#[derive(Clone)]
struct AppState {
    cfg: Arc<DemoConfig>,
    shop: Arc<Shop>,
    counters: Arc<Counters>,
}

/// Build the router with fresh state (each call is an independent target).
pub fn app(cfg: DemoConfig) -> Router {
    let state = AppState {
        cfg: Arc::new(cfg),
        shop: Arc::new(Shop::default()),
        counters: Arc::default(),
    };
    Router::new()
        .route("/login", post(login))
        .route("/api/stores/{id}/stock", get(stock))
        .route("/orders", post(create_order))
        .route("/orders/{id}", get(get_order))
        .route("/orders/reports/best-sellers", get(best_sellers))
        .route("/orders/reports/highest-spenders", get(highest_spenders))
        .route("/metrics", get(metrics))
        .fallback(|| async { detail(StatusCode::NOT_FOUND, "Not Found") })
        .layer(axum::middleware::from_fn_with_state(state.clone(), count))
        .with_state(state)
}

/// Every answer counted by status, for `/metrics`; a refused connection too.
async fn count(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let res = next.run(req).await;
    state.counters.answered(res.status().as_u16());
    res
}

/// `GET /metrics`: the target's side in Prometheus' text format (see `demo::metrics`).
async fn metrics(State(state): State<AppState>) -> Response {
    let text = state.counters.exposition(
        state.shop.in_flight(),
        state.shop.take_peak(state.cfg.db_connections.max(1)),
        state.cfg.db_connections.max(1),
    );
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// A FastAPI-style error: `{"detail": "..."}`.
fn detail(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({ "detail": msg.into() }))).into_response()
}

/// MySQL's answer when every connection is taken (counted for `/metrics`).
fn too_many_connections(state: &AppState) -> Response {
    state.counters.refused();
    let body = json!({ "error": "(OperationalError) 1040: Too many connections" });
    (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
}

/// Take a connection and hold it for the modelled latency; `None` when the pool is exhausted.
async fn db(state: &AppState, endpoint: Endpoint) -> Option<Connection> {
    let limit = state.cfg.db_connections.max(1);
    let conn = state.shop.acquire(limit)?;
    let load = 1.0 + conn.busy_before as f64 / limit as f64;
    let jitter = 0.9 + fastrand::f64() * 0.2;
    let ms = endpoint.base_ms() * state.cfg.latency_scale * load * jitter;
    if ms.is_finite() && ms > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64((ms / 1000.0).min(3600.0))).await;
    }
    Some(conn)
}

/// What is wrong with a request body; its text is the `detail` answered.
#[derive(Debug, thiserror::Error)]
enum BadBody {
    #[error("body is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("items: must be a list")]
    ItemsNotAList,
    #[error("items: field required")]
    NoItems,
    #[error("items: must contain at least one item")]
    EmptyItems,
    #[error("items[{0}].sku: a string is required")]
    NoSku(usize),
    #[error("items[{index}].sku: unknown sku \"{sku}\"")]
    UnknownSku { index: usize, sku: String },
    #[error("items[{0}].qty: an integer from 1 to {max} is required", max = MAX_QTY)]
    BadQty(usize),
}

/// Parse a JSON body.
fn parse_json(body: &[u8]) -> Result<Value, BadBody> {
    Ok(serde_json::from_slice(body)?)
}

async fn login(State(state): State<AppState>, body: Bytes) -> Response {
    let Some(_conn) = db(&state, Endpoint::Login).await else {
        return too_many_connections(&state);
    };
    let value = match parse_json(&body) {
        Ok(v) => v,
        Err(e) => return detail(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let field = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("");
    let (user, password) = (field("user"), field("password"));
    if user.is_empty() || password.is_empty() {
        return detail(StatusCode::BAD_REQUEST, "user and password are required");
    }
    let token = state.shop.login(user);
    Json(json!({ "token": token })).into_response()
}

/// The user behind a valid `x-token` header.
fn token_user(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let token = headers.get("x-token")?.to_str().ok()?;
    state.shop.user_of(token)
}

async fn stock(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(_conn) = db(&state, Endpoint::Stock).await else {
        return too_many_connections(&state);
    };
    if token_user(&state, &headers).is_none() {
        return detail(StatusCode::UNAUTHORIZED, "missing or invalid x-token");
    }
    let Ok(n) = id.parse::<u64>() else {
        return detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("store id \"{id}\" is not an integer"),
        );
    };
    if !(1..=STORES).contains(&n) {
        return detail(
            StatusCode::NOT_FOUND,
            format!("store not found (ids are 1 to {STORES})"),
        );
    }
    Json(json!({ "store": n, "items": stock_of(n) })).into_response()
}

/// Check an order body: `{"items": [{"sku": "A1", "qty": 2}, ...]}`.
fn order_lines(value: &Value) -> Result<Vec<OrderLine>, BadBody> {
    let items = match value.get("items") {
        Some(Value::Array(items)) => items,
        Some(_) => return Err(BadBody::ItemsNotAList),
        None => return Err(BadBody::NoItems),
    };
    if items.is_empty() {
        return Err(BadBody::EmptyItems);
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let sku = item
                .get("sku")
                .and_then(Value::as_str)
                .ok_or(BadBody::NoSku(i))?;
            let price = price_of(sku).ok_or_else(|| BadBody::UnknownSku {
                index: i,
                sku: sku.to_string(),
            })?;
            let qty = item
                .get("qty")
                .and_then(Value::as_u64)
                .filter(|q| (1..=MAX_QTY).contains(q))
                .ok_or(BadBody::BadQty(i))?;
            Ok(OrderLine {
                sku: sku.to_string(),
                qty,
                price,
            })
        })
        .collect()
}

async fn create_order(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(_conn) = db(&state, Endpoint::CreateOrder).await else {
        return too_many_connections(&state);
    };
    let lines = match parse_json(&body).and_then(|value| order_lines(&value)) {
        Ok(l) => l,
        Err(e) => return detail(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    let customer = token_user(&state, &headers).unwrap_or_else(|| "guest".to_string());
    let order = state.shop.place_order(customer, lines);
    let body = json!({ "id": order.id, "total": order.total, "items": order.items });
    (StatusCode::CREATED, Json(body)).into_response()
}

async fn get_order(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(_conn) = db(&state, Endpoint::GetOrder).await else {
        return too_many_connections(&state);
    };
    let Ok(n) = id.parse::<u64>() else {
        return detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("order id \"{id}\" is not an integer"),
        );
    };
    match state.shop.order(n) {
        Some(order) => Json(order).into_response(),
        None => detail(StatusCode::NOT_FOUND, format!("order {n} not found")),
    }
}

async fn best_sellers(State(state): State<AppState>) -> Response {
    let Some(_conn) = db(&state, Endpoint::BestSellers).await else {
        return too_many_connections(&state);
    };
    let rows: Vec<Value> = state
        .shop
        .best_sellers(10)
        .into_iter()
        .map(|(sku, units)| {
            let name = CATALOG.iter().find(|c| c.0 == sku).map_or("", |c| c.1);
            json!({ "sku": sku, "name": name, "units": units })
        })
        .collect();
    Json(json!({ "best_sellers": rows })).into_response()
}

async fn highest_spenders(State(state): State<AppState>) -> Response {
    let Some(_conn) = db(&state, Endpoint::HighestSpenders).await else {
        return too_many_connections(&state);
    };
    let rows: Vec<Value> = state
        .shop
        .highest_spenders(10)
        .into_iter()
        .map(|(customer, total, orders)| json!({ "customer": customer, "total": total, "orders": orders }))
        .collect();
    Json(json!({ "highest_spenders": rows })).into_response()
}
