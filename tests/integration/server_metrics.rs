//! The server's side beside the client's: a target's Prometheus endpoint scraped during a
//! test (`--metrics`, `[[metrics]]`). Values the test sets come back as series, counters
//! as rates over the scrape interval, server thresholds judge them, and endpoints that are
//! down, HTML, slow, huge or not metrics each give one warning while the test goes on.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use surge::scrape::{Source, SourceData};
use surge::stats::Snapshot;

use crate::support::metrics_target::MetricsTarget;
use crate::support::{closed, closed_port, engine, url_params, within};

fn every_second(url: &str) -> Source {
    Source::new(url, None, Some(Duration::from_secs(1)), Vec::new()).expect("source")
}

fn values(d: &SourceData, name: &str) -> Vec<f64> {
    d.series
        .iter()
        .filter(|s| s.name == name)
        .flat_map(|s| s.points.as_slice().iter().map(|p| p.value))
        .collect()
}

fn view(d: &SourceData, id: &str, line: &str) -> Vec<f64> {
    d.views
        .iter()
        .find(|v| v.id == id)
        .and_then(|v| v.lines.iter().find(|l| l.label == line))
        .map(|l| l.points.as_slice().iter().map(|p| p.value).collect())
        .unwrap_or_default()
}

fn threshold(text: &str, snap: &Snapshot) -> surge::thresholds::ThresholdResult {
    surge::thresholds::evaluate(&surge::thresholds::parse(text).unwrap(), snap, None, true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scraped_series_equal_the_targets_values_and_counters_become_rates() {
    within(30, async {
        let target = MetricsTarget::start();
        target.values.connections.store(7, Ordering::Relaxed);
        let engine = engine();
        let mut params = url_params(&target.url("/ok"), closed(2, 100.0));
        params.metrics = vec![every_second(&target.url("/metrics"))];
        engine.start(params).unwrap();
        tokio::time::sleep(Duration::from_millis(2600)).await;
        target.values.connections.store(13, Ordering::Relaxed);
        target.values.ok.store(1000, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(2600)).await;
        let snap = engine.stop().await.unwrap();
        let board = snap
            .server
            .as_ref()
            .expect("the snapshot has the server metrics");
        let data = board.data();
        let d = &data[0];
        assert_eq!(d.source, target.addr.to_string());
        assert!(d.scrapes >= 4, "{} scrapes", d.scrapes);
        assert_eq!(d.failed_scrapes, 0, "{:?}", d.warnings);
        // Gauges are what the target said, in order.
        let conns = values(d, "db_connections_in_use");
        assert!(conns.iter().all(|v| *v == 7.0 || *v == 13.0), "{conns:?}");
        assert_eq!(conns.first(), Some(&7.0));
        assert_eq!(conns.last(), Some(&13.0));
        assert!(values(d, "db_connections_max").iter().all(|v| *v == 20.0));
        // A counter growing 10 per second of wall time is a rate of 10/s on every interval
        // (the scrape's own timing is the only error).
        let jobs = values(d, "app_jobs_total");
        assert!(jobs.len() >= 3, "{jobs:?}");
        for r in &jobs {
            assert!((r - 10.0).abs() < 1.0, "rate {r} (all: {jobs:?})");
        }
        let cpu = view(d, "cpu", "process");
        assert!(cpu.iter().all(|c| (c - 0.5).abs() < 0.05), "{cpu:?}");
        assert_eq!(view(d, "connections", "max").last(), Some(&20.0));
        // 1000 answers of 200 appeared between two scrapes: one interval's rate carries them.
        let requests = view(d, "requests", "requests");
        let sum: f64 = requests.iter().sum();
        assert!(
            sum > 500.0 && requests.iter().any(|r| *r > 500.0),
            "{requests:?}"
        );
        assert!(view(d, "requests", "5xx").iter().all(|v| *v == 0.0));

        // Thresholds on server series are judged on the worst value of the test.
        let r = threshold("server[\"db_connections_in_use\"] < 10", &snap);
        assert_eq!(
            (r.passed, r.actual),
            (Some(false), Some(13.0)),
            "{}",
            r.message
        );
        assert_eq!(
            r.message,
            "server[\"db_connections_in_use\"] = 13 (limit < 10)"
        );
        let r = threshold("server.connections <= 13", &snap);
        assert_eq!(r.passed, Some(true), "{}", r.message);
        let r = threshold("server.cpu < 0.9", &snap);
        assert_eq!(r.passed, Some(true), "{}", r.message);
        assert!(r.message.starts_with("server.cpu = 0.5"), "{}", r.message);
        let r = threshold("server.gc < 10", &snap);
        assert_eq!(
            r.passed,
            Some(false),
            "never scraped fails at the end: {}",
            r.message
        );
        assert!(
            r.message.contains("nothing scraped for server.gc"),
            "{}",
            r.message
        );
        // The JSON summary carries every series under `server_metrics`.
        let json = surge::report::json::to_json(&snap);
        let series = json["server_metrics"][0]["series"].as_array().unwrap();
        let jobs = series
            .iter()
            .find(|s| s["name"] == "app_jobs_total")
            .unwrap();
        assert_eq!(jobs["kind"], "counter");
        assert!(jobs["points"][0]["time"].as_f64().unwrap() > 1.7e9);
        assert!(jobs["points"][0]["value"].as_f64().is_some());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_endpoints_warn_once_each_and_the_test_goes_on() {
    within(40, async {
        let target = MetricsTarget::start();
        let engine = engine();
        let mut params = url_params(&target.url("/ok"), closed(2, 100.0));
        let down = format!("http://127.0.0.1:{}/metrics", closed_port());
        let urls = [
            down.clone(),
            target.url("/html"),
            target.url("/slow"),
            target.url("/huge"),
            target.url("/text"),
        ];
        params.metrics = urls.iter().map(|u| every_second(u)).collect();
        surge::scrape::unique_names(&mut params.metrics);
        let started = Instant::now();
        engine.start(params).unwrap();
        tokio::time::sleep(Duration::from_secs(4)).await;
        let stopping = Instant::now();
        let snap = engine.stop().await.unwrap();
        // Scrapes never hold up the stop, and the load went on all along.
        assert!(stopping.elapsed() < Duration::from_secs(2), "{:?}", stopping.elapsed());
        assert!(snap.total.num_requests > 100, "{}", snap.total.num_requests);
        assert_eq!(snap.total.num_failures, 0);
        let expect = [
            (&urls[0], "connection refused"),
            (&urls[1], "answered an HTML page (text/html), not Prometheus metrics"),
            (&urls[2], "no answer within 1s"),
            (&urls[3], "MB, more than the 16 MB read"),
            (&urls[4], "the answer has no Prometheus samples (line 1: bad metric name: \"hello, this is not metrics\")"),
        ];
        for (url, why) in expect {
            let found: Vec<&String> = snap
                .warnings
                .iter()
                .filter(|w| w.starts_with(&format!("server metrics {url}: ")))
                .collect();
            assert_eq!(found.len(), 1, "one warning for {url}: {:#?}", snap.warnings);
            assert!(found[0].contains(why), "{url}: {}", found[0]);
        }
        let data = snap.server.as_ref().unwrap().data();
        assert!(data.iter().all(|d| d.scrapes == 0 && d.failed_scrapes >= 2), "{data:#?}");
        assert!(started.elapsed() < Duration::from_secs(8));
    })
    .await;
}

#[test]
fn metrics_sections_are_checked_where_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let base = "[[scenarios]]\n[[scenarios.tasks]]\npath = \"/\"\n";
    let cases = [
        (
            "[[metrics]]\nurl = \"ftp://x/m\"\n",
            "metrics[0].url",
            "not an http:// or https:// URL",
        ),
        (
            "[[metrics]]\nurl = \"http://h/m\"\nevery = \"500ms\"\n",
            "metrics[0].every",
            "at least 1s",
        ),
        (
            "[[metrics]]\nurl = \"http://h/m\"\nseries = [\"\"]\n",
            "metrics[0].series",
            "empty name",
        ),
        (
            "[[metrics]]\nurl = \"http://h/m\"\nevry = \"5s\"\n",
            "metrics[0].evry",
            "did you mean \"every\"?",
        ),
    ];
    for (metrics, at, why) in cases {
        let text = format!("host = \"http://127.0.0.1:1\"\n{metrics}{base}");
        let e = surge::plan::parse(&text, &dir.path().join("plan.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(at) && e.contains(why), "{metrics}: {e}");
    }
    let ok = "host = \"http://127.0.0.1:1\"\n[[metrics]]\nurl = \"http://127.0.0.1:9/metrics\"\n\
              name = \"api\"\nevery = \"2s\"\nseries = [\"process_*\"]\n\
              [[metrics]]\nurl = \"http://127.0.0.1:9/metrics\"\nname = \"api\"\n";
    let plan = surge::plan::parse(&format!("{ok}{base}"), &dir.path().join("plan.toml")).unwrap();
    let names: Vec<&str> = plan.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["api", "api#2"]);
    assert_eq!(plan.metrics[0].every, Duration::from_secs(2));
    assert_eq!(plan.metrics[0].series, ["process_*"]);
}

/// Through the binary: `--metrics URL` with a server threshold fails the run (exit 3),
/// the console says why, `--json` has the series, and the saved run shows them.
#[test]
fn the_binary_scrapes_judges_and_saves_the_server_side() {
    use crate::support::binary::Surge;
    let target = MetricsTarget::start();
    target.values.connections.store(15, Ordering::Relaxed);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let data = dir.path().join("data");
    let (ok, metrics, data_dir) = (
        target.url("/ok"),
        target.url("/metrics"),
        data.to_str().unwrap(),
    );
    // A headless run of `time` scraping the target, saved in `data`.
    let headless = |time: &str, extra: &[&str]| {
        let mut args = vec![
            "--headless",
            "-H",
            &ok,
            "-u",
            "2",
            "-r",
            "100",
            "-t",
            time,
            "--only-summary",
            "--metrics",
            &metrics,
            "--data-dir",
            data_dir,
        ];
        args.extend_from_slice(extra);
        Surge::spawn(&args).wait(30)
    };
    let out = headless(
        "3s",
        &[
            "--threshold",
            "server[\"db_connections_in_use\"] < 10",
            "--threshold",
            "server.connections < 20",
            "--json",
            json.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, Some(3), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("server[\"db_connections_in_use\"] = 15 (limit < 10)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("server.connections = 15"),
        "{}",
        out.stdout
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let source = &v["server_metrics"][0];
    assert_eq!(source["url"], target.url("/metrics"));
    assert!(source["scrapes"].as_u64().unwrap() >= 1, "{source}");
    let names: Vec<&str> = source["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"db_connections_in_use"), "{names:?}");
    let show = Surge::spawn(&["runs", "show", "last", "--data-dir", data_dir]).wait(10);
    assert_eq!(show.code, Some(0), "{}", show.stderr);
    assert!(
        show.stdout.contains("Server (scraped from"),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout
            .lines()
            .any(|l| l.contains("Connections (in use)") && l.contains(" 15 connections")),
        "{}",
        show.stdout
    );
    // After the fix (5 connections in use), the comparison gives each view's peak.
    target.values.connections.store(5, Ordering::Relaxed);
    let again = headless("2s", &[]);
    assert_eq!(again.code, Some(0), "{}\n{}", again.stdout, again.stderr);
    let cmp = Surge::spawn(&["runs", "compare", "last~1", "last", "--data-dir", data_dir]).wait(10);
    assert_eq!(cmp.code, Some(0), "{}", cmp.stderr);
    let line = cmp
        .stdout
        .lines()
        .find(|l| l.contains("Connections (in use)"))
        .unwrap_or_else(|| panic!("{}", cmp.stdout));
    assert!(
        line.contains("15 connections →") && line.contains("5 connections  -66.7 %"),
        "{line}"
    );
}

/// The dashboard's start form takes metrics URLs too: a bad one is refused on its field,
/// a good one is scraped and served to the Server charts by `/api/server-metrics`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_form_takes_metrics_urls() {
    use crate::support::web::{assert_answer, call, get, local, swarm};
    use axum::http::StatusCode;
    within(30, async {
        let target = MetricsTarget::start();
        target.values.connections.store(4, Ordering::Relaxed);
        let (state, app) = local();
        let host = target.url("/ok");
        let a = swarm(&app, &format!("user_count=1&spawn_rate=10&host={host}&metrics=127.0.0.1:9/m")).await;
        assert_answer(
            &a,
            StatusCode::BAD_REQUEST,
            serde_json::json!({
                "error": "\"127.0.0.1:9/m\" is not an http:// or https:// URL (e.g. http://127.0.0.1:8000/metrics)",
                "field": "metrics",
            }),
        );
        let metrics = target.url("/metrics");
        let a = swarm(&app, &format!("user_count=1&spawn_rate=10&host={host}&metrics={metrics}")).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let answer = loop {
            let m = get(&app, "/api/server-metrics?pick=db_connections_in_use").await.json();
            if m["sources"][0]["series"].as_array().is_some_and(|s| !s.is_empty()) {
                break m;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let source = &answer["sources"][0];
        assert_eq!(source["url"], metrics);
        assert_eq!(source["series"][0]["name"], "db_connections_in_use");
        assert_eq!(source["series"][0]["points"][0]["value"], 4.0);
        let names: Vec<&str> = source["names"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"db_connections_max"), "{names:?}");
        let views: Vec<&str> = source["views"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap()).collect();
        assert!(views.contains(&"connections"), "{views:?}");
        // (Counters are listed from the second scrape on: their rate needs two.)
        // The snapshot says how far scraping got.
        let snap = state.engine.snapshot();
        assert!(snap.server.as_ref().unwrap().version() >= 1);
        call(&app, "POST", "/stop", None).await;
    })
    .await;
}

/// A scrape warning reaches the dashboard's log once per test, even when the test before
/// had as many warnings of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrape_warnings_are_logged_once_per_test() {
    use crate::support::web::{app_with, call, get, swarm};
    within(30, async {
        let target = MetricsTarget::start();
        let down = format!("http://127.0.0.1:{}/metrics", closed_port());
        let mut defaults = surge::web::Defaults::empty();
        defaults.metrics = vec![every_second(&down)];
        let (state, app) = app_with(surge::web::Security::default(), defaults);
        let host = target.url("/ok");
        let logged = |logs: &serde_json::Value| {
            logs["master"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|l| {
                    l.as_str()
                        .unwrap()
                        .contains(&format!("server metrics {down}: cannot scrape"))
                })
                .count()
        };
        for run in 1..=2 {
            let a = swarm(&app, &format!("user_count=1&spawn_rate=10&host={host}")).await;
            assert_eq!(a.status, axum::http::StatusCode::OK, "{}", a.body);
            loop {
                let logs = get(&app, "/logs").await.json();
                if logged(&logs) >= run {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            // More scrapes fail, no more lines.
            tokio::time::sleep(Duration::from_millis(2500)).await;
            assert_eq!(logged(&get(&app, "/logs").await.json()), run);
            call(&app, "POST", "/stop", None).await;
            while state.engine.state() != surge::stats::RunState::Stopped {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    })
    .await;
}
