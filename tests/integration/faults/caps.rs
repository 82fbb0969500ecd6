//! Hostile targets against Surge's caps, through the whole engine: ten thousand distinct
//! redirect targets, URLs and error messages stay under the entry and failure-group caps
//! (the overflow rows say so), and a POST whose connection closes under it is never sent
//! twice.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{
    all_failed_under, assert_healthy, assert_running, only_group, plan_with, run_for, start,
    timeout,
};
use crate::support::faults::FaultTarget;
use crate::support::*;
use surge::stats::aggregator::{OVERFLOW_FAILURE, OVERFLOW_NAME};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_to_ten_thousand_distinct_urls() {
    within(60, async {
        let target = FaultTarget::start();
        let plan = plan_with("[[scenarios.tasks]]\npath = \"/hop\"");
        let engine = start(&target, &plan, 8, timeout(Duration::from_secs(5)));
        while target.seen.hops.load(Ordering::Relaxed) < 10_000 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_running(&engine, 8);
        let snap = engine.stop().await.unwrap();
        let chains = all_failed_under(&snap, "/hop", "too many redirects (more than 10)");
        // Each request is the first URL and 10 followed redirects, all distinct URLs.
        assert_eq!(target.seen.hits("/hop"), chains * 11);
        assert!(target.seen.hops.load(Ordering::Relaxed) >= 10_000);
        // The redirects' URLs are not statistics names.
        assert_eq!(snap.entries.len(), 2, "{:?}", names(&snap));
        assert_healthy(&snap, &target);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_distinct_urls_are_capped_by_name() {
    within(90, async {
        let target = FaultTarget::start();
        let plan = r#"
[[scenarios]]
[[scenarios.tasks]]
path = "/ok/{{ seq() }}"
"#;
        let engine = start(&target, plan, 8, timeout(Duration::from_secs(5)));
        while target.seen.hits("/ok") < 10_000 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_running(&engine, 8);
        let snap = engine.stop().await.unwrap();
        let limits = surge::stats::Limits::default();
        assert_eq!(snap.entries.len(), limits.max_names + 1);
        let other = snap
            .entries
            .iter()
            .find(|e| e.name == OVERFLOW_NAME)
            .unwrap();
        assert!(other.num_requests >= 10_000 - limits.max_names as u64);
        assert_eq!(snap.total.num_requests, target.seen.hits("/ok"));
        assert_eq!(snap.total.num_failures, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_distinct_error_messages() {
    within(120, async {
        let target = FaultTarget::start();
        let plan = plan_with(
            "[[scenarios.tasks]]\npath = \"/error\"\n\
             [[scenarios.tasks]]\npath = \"/distinct-error\"",
        );
        let engine = start(&target, &plan, 8, timeout(Duration::from_secs(5)));
        while target
            .seen
            .hits("/error")
            .min(target.seen.hits("/distinct-error"))
            < 10_000
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_running(&engine, 8);
        let snap = engine.stop().await.unwrap();
        let limits = surge::stats::Limits::default();

        // Order ids, request ids and times vary; the normalised message does not.
        let errors = entry(&snap, "GET", "/error");
        assert_eq!(errors.num_requests, target.seen.hits("/error"));
        assert_eq!(errors.num_failures, errors.num_requests);
        let merged: Vec<_> = snap
            .failures
            .iter()
            .filter(|f| f.name == "/error")
            .collect();
        assert_eq!(merged.len(), 1, "{merged:?}");
        assert_eq!(
            merged[0].message,
            "500 Internal Server Error: order <n> not found (request <id>, at <time>)"
        );
        assert_eq!(merged[0].occurrences, errors.num_requests);

        // Truly distinct messages: groups capped, the overflow row counts the rest.
        let distinct = entry(&snap, "GET", "/distinct-error");
        assert_eq!(distinct.num_requests, target.seen.hits("/distinct-error"));
        assert_eq!(distinct.num_failures, distinct.num_requests);
        assert_eq!(snap.failures.len(), limits.max_failure_groups + 1);
        let overflow = snap
            .failures
            .iter()
            .find(|f| f.message == OVERFLOW_FAILURE)
            .expect("overflow row");
        assert!(overflow.occurrences >= 10_000 - limits.max_failure_groups as u64);
        let grouped: u64 = snap.failures.iter().map(|f| f.occurrences).sum();
        assert_eq!(
            grouped, snap.total.num_failures,
            "every failure is in a group"
        );
        assert!(
            snap.warnings.iter().any(|w| w.contains("failure")),
            "{:?}",
            snap.warnings
        );
        assert_healthy(&snap, &target);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_is_never_sent_twice() {
    within(30, async {
        let target = FaultTarget::start();
        // Each iteration: a GET leaves a kept-alive connection, then a POST on it is read by
        // the target, which closes without answering. Retrying it would send it twice.
        let plan = r#"
[[scenarios]]
[[scenarios.tasks]]
steps = [{ path = "/ok" }, { method = "POST", path = "/swallow", body = "pay 10" }]
"#;
        let engine = start(&target, plan, 2, timeout(Duration::from_secs(5)));
        let snap = run_for(&engine, 2, 1000).await;
        let post = entry(&snap, "POST", "/swallow");
        assert!(post.num_requests > 5, "{}", post.num_requests);
        assert_eq!(post.num_failures, post.num_requests);
        assert_eq!(
            post.num_requests,
            target.seen.hits("/swallow"),
            "sent twice"
        );
        assert_eq!(
            only_group(&snap, "POST", "/swallow").message,
            "connection closed before a complete response"
        );
    })
    .await;
}
