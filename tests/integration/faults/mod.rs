//! Hostile and faulty targets, one test per case, through the whole engine: Surge keeps
//! running (a healthy `/ok` task next to the faulty one keeps counting exactly what the
//! target counted, with no failure), counts every request (equal to the target's own count
//! where it can count), groups each failure under one clear message, and keeps its memory
//! bounded (statistics entries and failure groups stay under their caps; a 1 GiB body is
//! counted, not kept). Transport and protocol faults here; many distinct names, messages
//! and redirects against the caps, and the POST that must not repeat, in [`caps`].

mod caps;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::support::faults::{FaultTarget, BIG_BODY};
use crate::support::*;
use surge::client::ClientConfig;
use surge::engine::Engine;
use surge::stats::{FailureSnapshot, Snapshot};

/// A plan with the given scenarios text, each scenario also running the healthy `/ok`.
fn plan_with(tasks: &str) -> String {
    format!(
        r#"
[[scenarios]]
name = "faulty"
{tasks}

[[scenarios.tasks]]
path = "/ok"
"#
    )
}

/// Starts `plan` against the fault target with `users` users and these client settings.
fn start(target: &FaultTarget, plan: &str, users: u32, client: ClientConfig) -> Engine {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine();
    let mut params = plan_params(
        parse_plan(plan, dir.path()),
        &target.url(),
        closed(users, 100.0),
    );
    params.client = client;
    engine.start(params).unwrap();
    engine
}

/// Default client settings with this request timeout.
fn timeout(timeout: Duration) -> ClientConfig {
    ClientConfig {
        timeout,
        ..ClientConfig::default()
    }
}

/// Lets the run go on for `ms`, checks it is still running with every user, then stops it.
async fn run_for(engine: &Engine, users: u32, ms: u64) -> Arc<Snapshot> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    assert_running(engine, users);
    engine.stop().await.unwrap()
}

/// Surge is still running the test with all its users.
fn assert_running(engine: &Engine, users: u32) {
    assert_eq!(engine.state(), surge::stats::RunState::Running);
    assert_eq!(engine.user_count(), users);
}

/// The healthy task kept working: every `/ok` the target saw is counted, none failed, and
/// the Aggregated row is the sum of the entries.
fn assert_healthy(snap: &Snapshot, target: &FaultTarget) {
    let ok = entry(snap, "GET", "/ok");
    assert!(ok.num_requests > 0, "no /ok request got through");
    assert_eq!(
        ok.num_requests,
        target.seen.hits("/ok"),
        "Surge vs target /ok"
    );
    assert_eq!(ok.num_failures, 0, "{:?}", snap.failures);
    let sum: u64 = snap.entries.iter().map(|e| e.num_requests).sum();
    assert_eq!(snap.total.num_requests, sum);
    assert!(snap.exceptions.is_empty(), "{:?}", snap.exceptions);
}

/// The only failure group, which must be for (`method`, `name`).
fn only_group<'a>(snap: &'a Snapshot, method: &str, name: &str) -> &'a FailureSnapshot {
    assert_eq!(snap.failures.len(), 1, "{:?}", snap.failures);
    let group = &snap.failures[0];
    assert_eq!((group.method.as_str(), group.name.as_str()), (method, name));
    group
}

/// Every request of entry `name` failed, all under `message`; returns how many.
fn all_failed_under(snap: &Snapshot, name: &str, message: &str) -> u64 {
    let e = entry(snap, "GET", name);
    assert!(e.num_requests > 0, "no request to {name}");
    assert_eq!(e.num_failures, e.num_requests, "{name}");
    let group = only_group(snap, "GET", name);
    assert_eq!(group.message, message);
    assert_eq!(group.occurrences, e.num_requests);
    e.num_requests
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connection() {
    within(30, async {
        let target = FaultTarget::start();
        let port = closed_port();
        let plan = plan_with(&format!(
            "[[scenarios.tasks]]\nurl = \"http://127.0.0.1:{port}/down\""
        ));
        let engine = start(&target, &plan, 4, timeout(Duration::from_secs(5)));
        let snap = run_for(&engine, 4, 1500).await;
        let message = format!("connection refused (127.0.0.1:{port})");
        let refused = all_failed_under(&snap, "/down", &message);
        assert!(refused > 10, "{refused}");
        assert_healthy(&snap, &target);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_in_the_middle_of_a_body() {
    within(30, async {
        let target = FaultTarget::start();
        let plan = plan_with("[[scenarios.tasks]]\npath = \"/reset\"");
        let engine = start(&target, &plan, 4, timeout(Duration::from_secs(5)));
        let snap = run_for(&engine, 4, 1500).await;
        let resets = all_failed_under(
            &snap,
            "/reset",
            "error reading body: connection reset by peer",
        );
        assert_eq!(resets, target.seen.hits("/reset"));
        assert_healthy(&snap, &target);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_answers() {
    within(30, async {
        let target = FaultTarget::start();
        let plan = plan_with("[[scenarios.tasks]]\npath = \"/silent\"");
        let engine = start(&target, &plan, 4, timeout(Duration::from_millis(500)));
        let snap = run_for(&engine, 4, 2000).await;
        let silent = all_failed_under(&snap, "/silent", "timed out after 500ms");
        assert_eq!(silent, target.seen.hits("/silent"));
        // Each is measured at the timeout, not at the stop.
        let e = entry(&snap, "GET", "/silent");
        assert!(e.min_ms.unwrap() >= 499.0, "{:?}", e.min_ms);
        assert!(e.max_ms.unwrap() < 1500.0, "{:?}", e.max_ms);
        assert_healthy(&snap, &target);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drips_one_byte_per_second() {
    within(40, async {
        let target = FaultTarget::start();
        // One byte arrives within the 2.5 s timeout; five do not.
        let plan = plan_with(
            "[[scenarios.tasks]]\npath = \"/drip?bytes=1\"\n\
             [[scenarios.tasks]]\npath = \"/drip?bytes=5\"",
        );
        let engine = start(&target, &plan, 4, timeout(Duration::from_millis(2500)));
        let snap = run_for(&engine, 4, 6000).await;
        let slow = entry(&snap, "GET", "/drip?bytes=1");
        let stuck = entry(&snap, "GET", "/drip?bytes=5");
        assert_eq!(
            slow.num_requests + stuck.num_requests,
            target.seen.hits("/drip")
        );
        assert!(slow.num_requests > 0 && stuck.num_requests > 0);
        assert_eq!(slow.num_failures, 0);
        assert!(slow.min_ms.unwrap() >= 999.0, "{:?}", slow.min_ms);
        assert_eq!(slow.avg_size, 1.0);
        assert_eq!(stuck.num_failures, stuck.num_requests);
        let group = only_group(&snap, "GET", "/drip?bytes=5");
        assert_eq!(group.message, "timed out after 2.5s");
        assert_eq!(group.occurrences, stuck.num_requests);
        assert_healthy(&snap, &target);
    })
    .await;
}

/// Peak resident memory of this test process (Linux), bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_gigabyte_body_is_counted_not_kept() {
    within(120, async {
        let target = FaultTarget::start();
        // One user fetches the 1 GiB body once (then waits); a 20 MB body with a check must
        // be kept, but only up to the 16 MiB cap.
        let plan = r#"
[[scenarios]]
name = "big"
count = 1
wait = { constant = 600 }
[[scenarios.tasks]]
path = "/big"

[[scenarios]]
name = "checked"
count = 1
wait = { constant = 600 }
[[scenarios.tasks]]
path = "/big?bytes=20000000"
check = { contains = "needle" }

[[scenarios]]
name = "healthy"
count = 2
[[scenarios.tasks]]
path = "/ok"
"#;
        let engine = start(&target, plan, 4, timeout(Duration::from_secs(60)));
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let snap = engine.snapshot_now().await.unwrap();
            let done = |name: &str| {
                snap.entries
                    .iter()
                    .any(|e| e.name == name && e.num_requests == 1)
            };
            if done("/big") && done("/big?bytes=20000000") {
                break;
            }
        }
        assert_running(&engine, 4);
        let snap = engine.stop().await.unwrap();
        let big = entry(&snap, "GET", "/big");
        assert_eq!((big.num_requests, big.num_failures), (1, 0));
        assert_eq!(big.avg_size, BIG_BODY as f64, "Average Content Size");
        let checked = entry(&snap, "GET", "/big?bytes=20000000");
        assert_eq!((checked.num_requests, checked.num_failures), (1, 1));
        assert_eq!(checked.avg_size, 20_000_000.0);
        let group = only_group(&snap, "GET", "/big?bytes=20000000");
        assert_eq!(
            group.message,
            "check failed: body larger than the 16 MiB kept for checks"
        );
        assert_eq!(
            target.seen.big_bytes.load(Ordering::Relaxed),
            BIG_BODY + 20_000_000
        );
        assert_eq!(target.seen.hits("/big"), 2);
        // Nothing near the body's size was ever resident (the test binary included).
        if let Some(peak) = peak_rss() {
            assert!(peak < BIG_BODY / 2, "peak RSS {peak} bytes");
        }
        assert_healthy(&snap, &target);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_http() {
    within(30, async {
        let target = FaultTarget::start();
        let plan = plan_with(
            "[[scenarios.tasks]]\npath = \"/garbage\"\n\
             [[scenarios.tasks]]\npath = \"/bad-length\"\n\
             [[scenarios.tasks]]\npath = \"/bad-chunk\"",
        );
        let engine = start(&target, &plan, 4, timeout(Duration::from_secs(5)));
        let snap = run_for(&engine, 4, 1500).await;
        let expected = [
            ("/garbage", "malformed HTTP response: invalid HTTP version"),
            (
                "/bad-length",
                "malformed HTTP response: invalid content-length \"nope\"",
            ),
            (
                "/bad-chunk",
                "error reading body: malformed chunked encoding",
            ),
        ];
        let mut got: Vec<(&str, &str)> = snap
            .failures
            .iter()
            .map(|f| (f.name.as_str(), f.message.as_str()))
            .collect();
        got.sort();
        let mut want = expected.to_vec();
        want.sort();
        assert_eq!(got, want);
        for (name, _) in expected {
            let e = entry(&snap, "GET", name);
            assert_eq!(e.num_requests, target.seen.hits(name), "{name}");
            assert_eq!(e.num_failures, e.num_requests, "{name}");
            let group = snap.failures.iter().find(|f| f.name == name).unwrap();
            assert_eq!(group.occurrences, e.num_requests);
        }
        assert_healthy(&snap, &target);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_bad_certificate_and_insecure() {
    within(30, async {
        let target = FaultTarget::start();
        let plan = plan_with(&format!(
            "[[scenarios.tasks]]\nurl = \"{}/ok\"\nname = \"tls\"",
            target.tls_url()
        ));
        let engine = start(&target, &plan, 4, timeout(Duration::from_secs(5)));
        let snap = run_for(&engine, 4, 1500).await;
        let refused = all_failed_under(
            &snap,
            "tls",
            "TLS error: invalid peer certificate: UnknownIssuer",
        );
        // The target learns of a refusal after the client has counted it (the client's alert
        // arrives later): wait for its count to settle.
        let seen = || target.seen.tls_refused.load(Ordering::Relaxed);
        for _ in 0..100 {
            if seen() >= refused {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(refused, seen());
        assert_healthy(&snap, &target);

        // The same target with `insecure`: every request succeeds.
        let target = FaultTarget::start();
        let plan = plan_with(&format!(
            "[[scenarios.tasks]]\nurl = \"{}/ok\"\nname = \"tls\"",
            target.tls_url()
        ));
        let insecure = ClientConfig {
            insecure: true,
            ..ClientConfig::default()
        };
        let engine = start(&target, &plan, 4, insecure);
        let snap = run_for(&engine, 4, 1500).await;
        let tls = entry(&snap, "GET", "tls");
        assert!(tls.num_requests > 10, "{}", tls.num_requests);
        assert_eq!(tls.num_failures, 0, "{:?}", snap.failures);
        assert!(snap.failures.is_empty());
        // Plain and TLS requests both end at the target's `/ok`.
        let ok = entry(&snap, "GET", "/ok");
        assert_eq!(ok.num_requests + tls.num_requests, target.seen.hits("/ok"));
        assert_eq!(target.seen.tls_refused.load(Ordering::Relaxed), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closes_the_connection_after_every_response() {
    within(30, async {
        let target = FaultTarget::start();
        let plan = r#"
[[scenarios]]
[[scenarios.tasks]]
path = "/close"
"#;
        let engine = start(&target, plan, 4, timeout(Duration::from_secs(5)));
        let snap = run_for(&engine, 4, 1500).await;
        let e = entry(&snap, "GET", "/close");
        assert!(e.num_requests > 100, "{}", e.num_requests);
        // The close is noticed (or the request retried once on a fresh connection): no
        // failure, and each request reached the target exactly once.
        assert_eq!(e.num_failures, 0, "{:?}", snap.failures);
        assert_eq!(e.num_requests, target.seen.hits("/close"));
    })
    .await;
}
