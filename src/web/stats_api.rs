//! Locust's read-only JSON routes: `GET /stats/requests` (the statistics table with Locust's
//! field names, so existing exporters keep working), `GET /exceptions`, `GET /tasks` (the
//! Current Ratio tab) and `GET /logs`. Surge's own figures are extra fields, never renamed
//! Locust ones.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Map, Value};

use super::AppState;
use crate::plan::Plan;
use crate::stats::{EntrySnapshot, Snapshot, PERCENTILES};

/// Locust's key suffix for each of [`PERCENTILES`] (Python's `str(float)`).
const PERCENTILE_KEYS: [&str; 11] = [
    "0.5", "0.66", "0.75", "0.8", "0.9", "0.95", "0.98", "0.99", "0.999", "0.9999", "1.0",
];

/// A float as JSON (`null` for NaN/infinity).
fn num(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// Locust writes 0 where there is no figure yet.
fn ms(v: Option<f64>) -> Value {
    num(v.unwrap_or(0.0))
}

/// One row of Locust's `stats` array (plus Surge's whole-run rates).
pub fn locust_row(e: &EntrySnapshot) -> Value {
    let mut row = Map::new();
    row.insert("method".into(), json!(e.method));
    row.insert("name".into(), json!(e.name));
    row.insert("safe_name".into(), json!(html_escape(&e.name)));
    row.insert("num_requests".into(), json!(e.num_requests));
    row.insert("num_failures".into(), json!(e.num_failures));
    row.insert("avg_response_time".into(), ms(e.avg_ms));
    row.insert("min_response_time".into(), ms(e.min_ms));
    row.insert("max_response_time".into(), ms(e.max_ms));
    row.insert("current_rps".into(), num(e.current_rps));
    row.insert("current_fail_per_sec".into(), num(e.current_fail_per_sec));
    row.insert("median_response_time".into(), ms(e.percentile(0.5)));
    row.insert("ninetieth_response_time".into(), ms(e.percentile(0.9)));
    row.insert("ninety_ninth_response_time".into(), ms(e.percentile(0.99)));
    row.insert("avg_content_length".into(), num(e.avg_size));
    for (q, key) in PERCENTILES.iter().zip(PERCENTILE_KEYS) {
        row.insert(
            format!("response_time_percentile_{key}"),
            ms(e.percentile(*q)),
        );
    }
    row.insert("total_rps".into(), num(e.total_rps));
    row.insert("total_fail_per_sec".into(), num(e.total_fail_per_sec));
    Value::Object(row)
}

/// The body of `GET /stats/requests` for a snapshot.
pub fn requests_json(snap: &Snapshot) -> Value {
    let total = &snap.total;
    let stats: Vec<Value> = snap.entries.iter().chain([total]).map(locust_row).collect();
    let errors: Vec<Value> = snap
        .failures
        .iter()
        .map(|f| {
            json!({
                "method": f.method,
                "name": f.name,
                "error": html_escape(&f.message),
                "occurrences": f.occurrences,
            })
        })
        .collect();
    json!({
        "stats": stats,
        "errors": errors,
        // Locust 2.47 names the Aggregated row's current rates both ways.
        "current_rps": num(total.current_rps),
        "current_fail_per_sec": num(total.current_fail_per_sec),
        "total_rps": num(total.current_rps),
        "total_fail_per_sec": num(total.current_fail_per_sec),
        "fail_ratio": num(total.fail_ratio()),
        "total_avg_response_time": ms(total.avg_ms),
        "current_response_time_percentiles": {
            "response_time_percentile_0.5": ms(total.current_percentile(0.5)),
            "response_time_percentile_0.95": ms(total.current_percentile(0.95)),
        },
        "state": snap.state.as_str(),
        "user_count": snap.user_count,
        // Surge's additions.
        "seq": snap.seq,
        "run": snap.run,
        "host": snap.host,
        "rate": snap.open_model.as_ref().map(|o| o.target_rate),
        "open_model": snap.open_model,
        "warnings": snap.warnings,
    })
}

/// Like Flask's `escape`, for the fields Locust sends HTML-escaped.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `GET /stats/requests`: the latest snapshot in Locust's JSON shape.
pub async fn requests(State(state): State<AppState>) -> Json<Value> {
    Json(requests_json(&state.engine.snapshot()))
}

/// `GET /metrics`: Surge's own statistics in Prometheus' text format (see
/// `report::prometheus`), behind the same login as the rest of the dashboard.
pub async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    let entries = state.engine.entry_stats().await.unwrap_or_default();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            crate::report::prometheus::CONTENT_TYPE,
        )],
        crate::report::prometheus::metrics(&state.engine.snapshot(), &entries),
    )
}

/// `GET /api/distribution?method=GET&name=/orders`: one endpoint's latency-percentile
/// curve from its exact histogram (no method and name: Aggregated), for the Charts tab.
pub async fn distribution(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<DistributionQuery>,
) -> Result<Json<Value>, super::ApiError> {
    let method = q.method.unwrap_or_default();
    let name = q.name.unwrap_or_else(|| "Aggregated".into());
    let entries = state
        .engine
        .entry_stats()
        .await
        .map_err(super::ApiError::Engine)?;
    let wanted = |m: &str, n: &str| {
        if method.is_empty() && name == "Aggregated" {
            m.is_empty()
        } else {
            m == method && n == name
        }
    };
    let Some((_, _, e)) = entries.iter().find(|(m, n, _)| wanted(m, n)) else {
        return Err(super::ApiError::field(
            "name",
            format!("no requests named \"{method} {name}\" in this test"),
        ));
    };
    let points: Vec<Value> = e
        .distribution_ms()
        .into_iter()
        .map(|(q, ms)| json!({ "q": q, "ms": ms }))
        .collect();
    Ok(Json(json!({
        "method": method,
        "name": name,
        "count": e.num_requests,
        "points": points,
    })))
}

/// The query of `GET /api/distribution`.
#[derive(Debug, serde::Deserialize)]
pub struct DistributionQuery {
    pub method: Option<String>,
    pub name: Option<String>,
}

/// `GET /exceptions`: Locust's `{"exceptions": [{count, msg, traceback, nodes}]}`.
pub async fn exceptions(State(state): State<AppState>) -> Json<Value> {
    let snap = state.engine.snapshot();
    let rows: Vec<Value> = snap
        .exceptions
        .iter()
        .map(|x| json!({"count": x.count, "msg": x.message, "traceback": x.origin, "nodes": "local"}))
        .collect();
    Json(json!({ "exceptions": rows }))
}

/// Per scenario and in total, the share of each task (from the weights): Locust's
/// `{"per_class": {...}, "total": {...}}`.
pub fn task_ratios(plan: Option<&Plan>) -> Value {
    let Some(plan) = plan else {
        return json!({"per_class": {}, "total": {}});
    };
    let class_sum: f64 = plan.scenarios.iter().map(|s| s.weight as f64).sum();
    let mut per_class = Map::new();
    let mut total = Map::new();
    for s in &plan.scenarios {
        let ratio = if class_sum > 0.0 {
            s.weight as f64 / class_sum
        } else {
            0.0
        };
        let task_sum: f64 = s.tasks.iter().map(|t| t.weight as f64).sum();
        let share = |w: u32| {
            if task_sum > 0.0 {
                w as f64 / task_sum
            } else {
                0.0
            }
        };
        let own: Map<String, Value> = s
            .tasks
            .iter()
            .map(|t| (t.name.clone(), num(share(t.weight))))
            .collect();
        let overall: Map<String, Value> = s
            .tasks
            .iter()
            .map(|t| (t.name.clone(), num(ratio * share(t.weight))))
            .collect();
        per_class.insert(s.name.clone(), json!({"ratio": num(ratio), "tasks": own}));
        total.insert(
            s.name.clone(),
            json!({"ratio": num(ratio), "tasks": overall}),
        );
    }
    json!({"per_class": per_class, "total": total})
}

/// `GET /tasks`: the ratios of the preloaded plan (or of the URL plan of the running test).
pub async fn tasks(State(state): State<AppState>) -> Json<Value> {
    match &state.defaults.plan {
        Some(p) => Json(task_ratios(Some(p))),
        None => {
            let host = state.engine.snapshot().host.clone();
            let plan = crate::plan::from_url(&host).ok();
            Json(task_ratios(plan.as_ref()))
        }
    }
}

/// `GET /logs`: Locust's `{"master": [lines], "workers": {}}`, plus the structured lines.
pub async fn logs(State(state): State<AppState>) -> Json<Value> {
    let lines = state.logs.lines();
    let master: Vec<String> = lines.iter().map(|l| l.message.clone()).collect();
    Json(json!({"master": master, "workers": {}, "logs": lines}))
}
