//! The dashboard's routes, in process (`tower::ServiceExt::oneshot` on `web::app`): status
//! codes, content types, Locust's JSON field names and CSV headers, a 400 naming the field
//! for each bad form field, the report carrying the data, and the embedded assets with
//! immutable caching (404 for a wrong version).

use std::sync::Arc;
use std::time::Duration;

use crate::support::web::{call, get, swarm};
use crate::support::*;
use axum::http::{header, StatusCode};
use serde_json::Value;
use surge::web::{self, AppState, Defaults};

const PLAN: &str = r#"
[[scenarios]]
name = "browse"
weight = 3

[[scenarios.tasks]]
path = "/ok"
weight = 3

[[scenarios.tasks]]
path = "/fail-every/2"

[[scenarios]]
name = "other"

[[scenarios.tasks]]
path = "/ok"
"#;

fn state(defaults: Defaults) -> AppState {
    AppState::new(engine(), defaults, false)
}

fn plan_defaults(host: &str) -> Defaults {
    let dir = tempfile::tempdir().unwrap();
    Defaults {
        plan: Some(Arc::new(parse_plan(PLAN, dir.path()))),
        host: Some(host.to_string()),
        ..Defaults::empty()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_form_fields_are_400_naming_the_field() {
    let app = web::app(state(plan_defaults("http://127.0.0.1:1")));
    let cases = [
        ("user_count=abc", "user_count"),
        ("user_count=-1", "user_count"),
        ("user_count=1.5", "user_count"),
        ("user_count=1000001", "user_count"),
        ("spawn_rate=0", "spawn_rate"),
        ("spawn_rate=NaN", "spawn_rate"),
        ("spawn_rate=inf", "spawn_rate"),
        ("spawn_rate=fast", "spawn_rate"),
        ("spawn_rate=10001", "spawn_rate"),
        ("host=ftp://example.com", "host"),
        ("host=not%20a%20url", "host"),
        ("run_time=soon", "run_time"),
        ("rate=0", "rate"),
        ("rate=-5", "rate"),
        ("rate=20000000", "rate"),
        ("rate=10&user_count=0", "user_count"),
        ("scenario=nope", "scenario"),
    ];
    for (form, field) in cases {
        let a = swarm(&app, form).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{form}: {}", a.body);
        assert!(a
            .header(header::CONTENT_TYPE)
            .starts_with("application/json"));
        let j = a.json();
        assert_eq!(j["field"], field, "{form}: {j}");
        assert!(!j["error"].as_str().unwrap_or("").is_empty(), "{form}");
    }
    // No plan and no host: the host is what is missing.
    let app = web::app(state(Defaults::empty()));
    let a = swarm(&app, "user_count=1&spawn_rate=1").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json()["field"], "host");
    // Not a form at all.
    let a = call(&app, "POST", "/swarm", None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.json()["error"].is_string());
    // Nothing ran: stop and reset are fine, unknown routes are JSON 404s.
    let a = call(&app, "POST", "/stop", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["success"], true);
    assert_eq!(get(&app, "/nope").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_and_assets() {
    let app = web::app(state(plan_defaults("http://127.0.0.1:1")));
    let a = get(&app, "/").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.header(header::CONTENT_TYPE).starts_with("text/html"));
    let v = web::assets::version();
    assert_eq!(v.len(), 10);
    for script in ["charts.js", "table.js", "app.js"] {
        assert!(
            a.body.contains(&format!("/static/{v}/{script}")),
            "{script}: {}",
            a.body
        );
    }
    let start = a.body.find("type=\"application/json\">").unwrap() + 24;
    let end = start + a.body[start..].find("</script>").unwrap();
    let config: Value = serde_json::from_str(&a.body[start..end]).unwrap();
    assert_eq!(config["host"], "http://127.0.0.1:1");
    assert_eq!(config["scenarios"], serde_json::json!(["browse", "other"]));
    assert_eq!(config["percentiles"].as_array().unwrap().len(), 11);
    assert_eq!(config["users"], 1);
    for (file, ctype) in [
        ("app.js", "text/javascript"),
        ("charts.js", "text/javascript"),
        ("table.js", "text/javascript"),
        ("style.css", "text/css"),
    ] {
        let a = get(&app, &format!("/static/{v}/{file}")).await;
        assert_eq!(a.status, StatusCode::OK, "{file}");
        assert!(a.header(header::CONTENT_TYPE).starts_with(ctype), "{file}");
        assert_eq!(
            a.header(header::CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(a.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert!(!a.body.is_empty());
    }
    assert_eq!(
        get(&app, "/static/0123456789/app.js").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, &format!("/static/{v}/secret.txt")).await.status,
        StatusCode::NOT_FOUND
    );
    let tasks = get(&app, "/tasks").await.json();
    assert_eq!(tasks["per_class"]["browse"]["ratio"], 0.75);
    assert_eq!(tasks["per_class"]["browse"]["tasks"]["/ok"], 0.75);
    assert_eq!(tasks["total"]["browse"]["tasks"]["/fail-every/2"], 0.1875);
    assert_eq!(tasks["total"]["other"]["ratio"], 0.25);
}

fn csv_header(body: &str) -> &str {
    body.lines().next().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_test_through_the_api() {
    let _serial = SERIAL.lock().await;
    within(60, async {
        let target = Target::start();
        let st = state(plan_defaults(&target.url()));
        let app = web::app(st.clone());
        let a = swarm(
            &app,
            "user_count=2&spawn_rate=100&scenario=browse&run_time=",
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.json()["success"], true);
        assert_eq!(a.json()["host"], target.url());
        // A second start while running edits it; a rate edit on a closed test is refused.
        assert_eq!(swarm(&app, "rate=10").await.json()["field"], "rate");
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let j = get(&app, "/stats/requests").await.json();
            if j["stats"].as_array().unwrap().len() >= 3 && j["state"] == "running" {
                break;
            }
        }
        let a = swarm(&app, "user_count=3&spawn_rate=50").await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        tokio::time::sleep(Duration::from_millis(600)).await;
        let a = call(&app, "POST", "/stop", None).await;
        assert_eq!(a.json()["message"], "Test stopped");
        assert_eq!(
            call(&app, "POST", "/stop", None).await.json()["message"],
            "Test already stopped"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;

        let a = get(&app, "/stats/requests").await;
        assert!(a
            .header(header::CONTENT_TYPE)
            .starts_with("application/json"));
        let j = a.json();
        let stats = j["stats"].as_array().unwrap();
        let last = stats.last().unwrap();
        assert_eq!(last["name"], "Aggregated");
        assert_eq!(last["method"], "");
        let sent = target.seen.hits("/ok") + target.seen.hits("/fail-every/2");
        assert_eq!(last["num_requests"], sent);
        assert_eq!(last["num_failures"], target.seen.hits("/fail-every/2") / 2);
        for key in [
            "method",
            "name",
            "safe_name",
            "num_requests",
            "num_failures",
            "avg_response_time",
            "min_response_time",
            "max_response_time",
            "current_rps",
            "current_fail_per_sec",
            "median_response_time",
            "ninetieth_response_time",
            "ninety_ninth_response_time",
            "avg_content_length",
            "response_time_percentile_0.5",
            "response_time_percentile_0.95",
            "response_time_percentile_0.99",
            "response_time_percentile_1.0",
        ] {
            assert!(last.get(key).is_some(), "no {key} in {last}");
        }
        for key in [
            "errors",
            "current_rps",
            "current_fail_per_sec",
            "total_rps",
            "total_fail_per_sec",
            "fail_ratio",
            "current_response_time_percentiles",
            "state",
            "user_count",
        ] {
            assert!(j.get(key).is_some(), "no {key}");
        }
        assert_eq!(j["state"], "stopped");
        // Locust 2.47: the Aggregated row's current rates, also at the top level.
        assert_eq!(j["current_rps"], last["current_rps"]);
        assert_eq!(j["current_fail_per_sec"], last["current_fail_per_sec"]);
        assert_eq!(j["errors"][0]["name"], "/fail-every/2");
        assert!(
            j["current_response_time_percentiles"]["response_time_percentile_0.95"].is_number()
        );

        let csvs = [
            (
                "/stats/requests/csv",
                "requests_",
                "Type,Name,Request Count",
            ),
            (
                "/stats/failures/csv",
                "failures_",
                "Method,Name,Error,Occurrences",
            ),
            (
                "/exceptions/csv",
                "exceptions_",
                "Count,Message,Traceback,Nodes",
            ),
            (
                "/stats/requests_full_history/csv",
                "requests_full_history_",
                "Timestamp,User Count,Type,Name",
            ),
        ];
        for (uri, file, head) in csvs {
            let a = get(&app, uri).await;
            assert_eq!(a.status, StatusCode::OK, "{uri}");
            assert!(a.header(header::CONTENT_TYPE).starts_with("text/csv"));
            let cd = a.header(header::CONTENT_DISPOSITION);
            assert!(
                cd.starts_with(&format!("attachment; filename=\"{file}")),
                "{cd}"
            );
            assert!(csv_header(&a.body).starts_with(head), "{uri}: {}", a.body);
        }
        let stats = get(&app, "/stats/requests/csv").await.body;
        let agg = stats.lines().last().unwrap();
        assert!(agg.starts_with(&format!(",Aggregated,{sent},")), "{agg}");
        let history = get(&app, "/stats/requests_full_history/csv").await.body;
        assert!(
            history.lines().any(|l| l.contains(",GET,/ok,")),
            "{history}"
        );
        assert!(history.lines().count() > 3);

        let a = get(&app, "/stats/report").await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.header(header::CONTENT_TYPE).starts_with("text/html"));
        assert!(a.header(header::CONTENT_DISPOSITION).is_empty());
        assert!(a.body.contains(&target.url()));
        assert!(a.body.contains(&format!("\"num_requests\":{sent}")));
        assert!(a.body.contains("\"history\":[{"));
        let a = get(&app, "/stats/report?download=1").await;
        assert!(a
            .header(header::CONTENT_DISPOSITION)
            .starts_with("attachment; filename=\"surge_report_"));

        let ex = get(&app, "/exceptions").await.json();
        assert!(ex["exceptions"].as_array().unwrap().is_empty());
        let logs = get(&app, "/logs").await.json();
        let master: Vec<&str> = logs["master"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|l| l.as_str())
            .collect();
        assert!(master
            .iter()
            .any(|l| l.starts_with("Ramping to 2 users at a rate of 100.00 per second")));
        assert!(master.iter().any(|l| l.starts_with("Ramping to 3 users")));
        assert!(master.iter().any(|l| l.starts_with("Test stopped")));
        assert_eq!(logs["logs"][0]["level"], "info");

        let a = call(&app, "POST", "/stats/reset", None).await;
        assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, "ok"));
        tokio::time::sleep(Duration::from_millis(600)).await;
        let j = get(&app, "/stats/requests").await.json();
        assert_eq!(j["stats"].as_array().unwrap().len(), 1);
        assert_eq!(j["stats"][0]["num_requests"], 0);
    })
    .await;
}

/// A dashboard test with thresholds says, live, the first second each one failed on that
/// second's figures (the page marks them on the charts and in the badges' titles).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_second_a_threshold_failed_is_told_live() {
    within(30, async {
        let target = Target::start();
        let history = surge::web::history_api::HistoryState {
            thresholds: vec![
                surge::thresholds::parse("fail_ratio < 1%").unwrap(),
                surge::thresholds::parse("p95 < 10s").unwrap(),
            ],
            ..surge::web::history_api::HistoryState::default()
        };
        let mut defaults = Defaults::empty();
        defaults.host = Some(format!("{}/fail-every/2", target.url()));
        let st = state(defaults).with_history(history);
        let app = web::app(st.clone());
        let a = swarm(&app, "user_count=2&spawn_rate=100").await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let crossings = loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let j = get(&app, "/api/thresholds").await.json();
            if !j["crossings"].as_array().unwrap().is_empty() {
                break j["crossings"].clone();
            }
        };
        call(&app, "POST", "/stop", None).await;
        assert_eq!(crossings.as_array().unwrap().len(), 1, "{crossings}");
        assert_eq!(crossings[0]["threshold"], "fail_ratio < 1%");
        // Every second request fails: about half of each second's requests.
        let message = crossings[0]["message"].as_str().unwrap();
        assert!(
            message.starts_with("fail_ratio = ") && message.ends_with("(limit < 1 %)"),
            "{message}"
        );
        assert!(crossings[0]["users"].as_u64().unwrap() >= 1);
    })
    .await;
}

/// `GET /metrics`: Surge's own statistics in Prometheus' text format, whose counters equal
/// the final statistics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_in_prometheus_format_equal_the_statistics() {
    within(30, async {
        let target = Target::start();
        let app = web::app(state(plan_defaults(&target.url())));
        let a = swarm(&app, "user_count=2&spawn_rate=100").await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        call(&app, "POST", "/stop", None).await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        let stats = get(&app, "/stats/requests").await.json();
        let m = get(&app, "/metrics").await;
        assert_eq!(m.status, StatusCode::OK);
        assert_eq!(
            m.header(header::CONTENT_TYPE),
            "text/plain; version=0.0.4; charset=utf-8"
        );
        // The same parser that reads targets' endpoints reads Surge's: every line is read,
        // every sample belongs to a declared family.
        let expo = surge::scrape::parse::parse(&m.body);
        assert!(expo.skipped.is_empty(), "{:?}", expo.skipped);
        let mut samples = std::collections::HashMap::new();
        for f in &expo.families {
            assert_ne!(f.kind, surge::scrape::parse::Kind::Untyped, "{}", f.name);
            for x in &f.samples {
                let labels: Vec<String> = x
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{v}\""))
                    .collect();
                let key = if labels.is_empty() {
                    x.name.clone()
                } else {
                    format!("{}{{{}}}", x.name, labels.join(","))
                };
                samples.insert(key, x.value);
            }
        }
        let kind = |name: &str| {
            expo.families
                .iter()
                .find(|f| f.name == name)
                .map(|f| f.kind)
        };
        assert_eq!(
            kind("surge_response_time_seconds"),
            Some(surge::scrape::parse::Kind::Histogram)
        );
        let rows = stats["stats"].as_array().unwrap();
        assert!(rows.len() >= 2, "{stats}");
        for row in rows.iter().filter(|r| r["name"] != "Aggregated") {
            let labels = format!(
                "{{method=\"{}\",name=\"{}\"}}",
                row["method"].as_str().unwrap(),
                row["name"].as_str().unwrap()
            );
            assert_eq!(
                samples[&format!("surge_requests_total{labels}")],
                row["num_requests"].as_f64().unwrap(),
                "{labels}"
            );
            assert_eq!(
                samples[&format!("surge_failures_total{labels}")],
                row["num_failures"].as_f64().unwrap(),
                "{labels}"
            );
            assert_eq!(
                samples[&format!("surge_response_time_seconds_count{labels}")],
                row["num_requests"].as_f64().unwrap()
            );
            let inner = labels.trim_start_matches('{').trim_end_matches('}');
            // Buckets are cumulative and end at the count.
            let buckets: Vec<f64> = surge::report::prometheus::BUCKETS
                .iter()
                .map(|le| {
                    samples[&format!("surge_response_time_seconds_bucket{{{inner},le=\"{le}\"}}")]
                })
                .collect();
            assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
            assert_eq!(
                samples[&format!("surge_response_time_seconds_bucket{{{inner},le=\"+Inf\"}}")],
                row["num_requests"].as_f64().unwrap()
            );
            // Requests of /delay?ms=5 and the like take well under 1 s.
            assert_eq!(
                *buckets.last().unwrap(),
                row["num_requests"].as_f64().unwrap()
            );
            let p50 = samples
                [&format!("surge_response_time_quantile_seconds{{{inner},quantile=\"0.5\"}}")];
            assert!((p50 * 1000.0 - row["median_response_time"].as_f64().unwrap()).abs() < 1.0);
        }
        assert_eq!(samples["surge_state{state=\"stopped\"}"], 1.0);
        assert_eq!(samples["surge_state{state=\"running\"}"], 0.0);
        assert_eq!(samples["surge_run"], 1.0);
    })
    .await;
}

/// `POST /find-limit`: a bad field is a 400 naming it; while a search runs, another search
/// and `/swarm` are refused (it sets the load itself); Stop ends it with what it knows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_from_the_api_is_checked_guarded_and_stoppable() {
    within(40, async {
        let target = Target::start();
        let app = web::app(state(Defaults::empty()));
        let host = format!("{}/ok", target.url());
        for (form, field) in [
            (
                format!("host={host}&thresholds=p95+%3C&step_time=1s"),
                "thresholds",
            ),
            (
                format!("host={host}&thresholds=p95+%3C+1s&resolution=0%25"),
                "resolution",
            ),
            (
                format!("host={host}&thresholds=p95+%3C+1s&step_time=soon"),
                "step_time",
            ),
            (
                format!("host={host}&thresholds=p95+%3C+1s&max_users=1.5"),
                "max_users",
            ),
            ("host=localhost:1&thresholds=p95+%3C+1s".to_string(), "host"),
        ] {
            let a = call(&app, "POST", "/find-limit", Some(&form)).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{form}: {}", a.body);
            assert_eq!(a.json()["field"], field, "{form}: {}", a.body);
        }
        let form = format!("host={host}&thresholds=p95+%3C+1s&start=2&max_users=64&step_time=2s");
        let a = call(&app, "POST", "/find-limit", Some(&form)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let again = call(&app, "POST", "/find-limit", Some(&form)).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
        let s = swarm(&app, "user_count=5&spawn_rate=5").await;
        assert_eq!(s.status, StatusCode::CONFLICT, "{}", s.body);
        let board = get(&app, "/find-limit").await.json();
        assert_eq!(board["running"], true, "{board}");
        assert_eq!(board["model"], "users");
        assert!(board["plan"][0]
            .as_str()
            .unwrap()
            .starts_with("Finding the limit: users from 2 up to 64"));
        // Let the first step (2 s) end, then stop.
        tokio::time::sleep(Duration::from_millis(3500)).await;
        call(&app, "POST", "/stop", None).await;
        let board = loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let b = get(&app, "/find-limit").await.json();
            if b["running"] == false {
                break b;
            }
        };
        assert_eq!(board["result"]["interrupted"], true, "{board}");
        assert!(!board["steps"].as_array().unwrap().is_empty(), "{board}");
        assert!(board["error"].is_null(), "{board}");
    })
    .await;
}
