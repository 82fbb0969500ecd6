//! Exact counting through the whole engine: after `stop()`, Surge's request and failure
//! counts equal what the target counted, failures are grouped under the exact message built
//! from the target's answer, the Aggregated row is the sum of the entries, percentiles are
//! monotone with p100 == max, and transport failures (refused, timeout) are grouped under
//! the client's message with every request counted.

use std::time::Duration;

use crate::support::*;
use surge::client::ClientConfig;

const MIXED: &str = r#"
[[scenarios]]
name = "mixed"

[[scenarios.tasks]]
path = "/ok"

[[scenarios.tasks]]
path = "/fail-every/4"

[[scenarios.tasks]]
method = "POST"
path = "/echo"
body = "hello"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_match_the_target_exactly() {
    within(30, async {
        let target = Target::start();
        let dir = tempfile::tempdir().unwrap();
        let plan = parse_plan(MIXED, dir.path());
        let engine = engine();
        engine
            .start(plan_params(plan, &target.url(), closed(8, 100.0)))
            .unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let snap = engine.stop().await.unwrap();
        let seen = &target.seen;

        assert!(
            snap.total.num_requests > 300,
            "too little load: {}",
            snap.total.num_requests
        );
        assert_eq!(
            snap.total.num_requests,
            seen.total(),
            "Surge vs target total"
        );
        assert_eq!(snap.entries.len(), 3, "{:?}", names(&snap));

        let ok = entry(&snap, "GET", "/ok");
        assert_eq!(ok.num_requests, seen.hits("/ok"));
        assert_eq!(ok.num_failures, 0);

        let echo = entry(&snap, "POST", "/echo");
        assert_eq!(echo.num_requests, seen.hits("/echo"));
        assert_eq!(echo.num_failures, 0);

        let fail = entry(&snap, "GET", "/fail-every/4");
        assert_eq!(fail.num_requests, seen.hits("/fail-every/4"));
        assert_eq!(fail.num_failures, seen.status_count(500));
        assert_eq!(fail.num_failures, fail.num_requests / 4, "every 4th fails");
        assert!(fail.num_failures > 0);
        assert_eq!(snap.total.num_failures, fail.num_failures);

        assert_eq!(snap.failures.len(), 1, "{:?}", snap.failures);
        let group = &snap.failures[0];
        assert_eq!(group.method, "GET");
        assert_eq!(group.name, "/fail-every/4");
        assert_eq!(
            group.message,
            "500 Internal Server Error: every 4th request fails"
        );
        assert_eq!(group.occurrences, fail.num_failures);
        assert!(group.first_seen <= group.last_seen);
        assert!(snap.exceptions.is_empty(), "{:?}", snap.exceptions);

        // Aggregated is the sum of the entries.
        let sum: u64 = snap.entries.iter().map(|e| e.num_requests).sum();
        let sum_fail: u64 = snap.entries.iter().map(|e| e.num_failures).sum();
        assert_eq!(snap.total.num_requests, sum);
        assert_eq!(snap.total.num_failures, sum_fail);
        assert_eq!(snap.total.name, "Aggregated");
        assert_eq!(snap.total.method, "");
        let max = snap
            .entries
            .iter()
            .filter_map(|e| e.max_ms)
            .fold(0.0, f64::max);
        let min = snap
            .entries
            .iter()
            .filter_map(|e| e.min_ms)
            .fold(f64::MAX, f64::min);
        assert_eq!(snap.total.max_ms, Some(max));
        assert_eq!(snap.total.min_ms, Some(min));
        // Average of the total is the request-weighted average of the entries.
        let weighted: f64 = snap
            .entries
            .iter()
            .map(|e| e.avg_ms.unwrap() * e.num_requests as f64)
            .sum::<f64>()
            / sum as f64;
        let avg = snap.total.avg_ms.unwrap();
        assert!(
            (avg - weighted).abs() < 0.01,
            "total avg {avg} vs weighted {weighted}"
        );
        // Body sizes: "ok" is 2 bytes.
        assert_eq!(ok.avg_size, 2.0);

        for e in snap.entries.iter().chain([&snap.total]) {
            assert_percentiles_sane(e);
        }
        assert_eq!(snap.state, surge::stats::RunState::Stopped);
        assert_eq!(engine.user_count(), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_status_is_a_failure_with_the_target_message() {
    within(30, async {
        let target = Target::start();
        let engine = engine();
        let url = format!("{}/status/500", target.url());
        engine.start(url_params(&url, closed(4, 100.0))).unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let snap = engine.stop().await.unwrap();

        let e = entry(&snap, "GET", "/status/500");
        assert!(e.num_requests > 50);
        assert_eq!(e.num_requests, target.seen.hits("/status/500"));
        assert_eq!(e.num_failures, e.num_requests);
        assert_eq!(target.seen.status_count(500), e.num_requests);
        assert_eq!(snap.failures.len(), 1);
        assert_eq!(
            snap.failures[0].message,
            "500 Internal Server Error: status 500 from the target"
        );
        assert_eq!(snap.failures[0].occurrences, e.num_requests);
        assert_eq!(snap.total.num_failures, e.num_requests);
        assert_eq!(snap.total.fail_ratio(), 1.0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_is_one_group_counting_every_request() {
    within(30, async {
        let port = closed_port();
        let engine = engine();
        let url = format!("http://127.0.0.1:{port}/ok");
        engine.start(url_params(&url, closed(3, 100.0))).unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let snap = engine.stop().await.unwrap();

        let e = entry(&snap, "GET", "/ok");
        assert!(e.num_requests > 10, "{}", e.num_requests);
        assert_eq!(e.num_failures, e.num_requests);
        assert_eq!(snap.failures.len(), 1, "{:?}", snap.failures);
        assert_eq!(
            snap.failures[0].message,
            format!("connection refused (127.0.0.1:{port})")
        );
        assert_eq!(snap.failures[0].occurrences, e.num_requests);
        assert!(snap.exceptions.is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_are_one_group_and_stop_waits_for_them() {
    within(30, async {
        let target = Target::start();
        let engine = engine();
        let url = format!("{}/delay?ms=2000", target.url());
        let mut params = url_params(&url, closed(2, 100.0));
        params.client = ClientConfig {
            timeout: Duration::from_millis(200),
            ..ClientConfig::default()
        };
        engine.start(params).unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let snap = engine.stop().await.unwrap();

        let e = entry(&snap, "GET", "/delay?ms=2000");
        // 2 users, 200 ms each, ~1.1 s: about 10 requests, all timed out.
        assert!((6..=14).contains(&e.num_requests), "{}", e.num_requests);
        assert_eq!(e.num_failures, e.num_requests);
        assert_eq!(e.num_requests, target.seen.hits("/delay"));
        assert_eq!(snap.failures.len(), 1, "{:?}", snap.failures);
        assert_eq!(snap.failures[0].message, "timed out after 200ms");
        assert_eq!(snap.failures[0].occurrences, e.num_requests);
        // Each timed-out request is measured at about the timeout.
        let min = e.min_ms.unwrap();
        let max = e.max_ms.unwrap();
        assert!(min >= 199.0, "min {min}");
        assert!(max < 400.0, "max {max}");
    })
    .await;
}
