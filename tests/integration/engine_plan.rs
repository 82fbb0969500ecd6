//! Plan features run through the engine against the test target: `on_start` login with a
//! captured token reused in a header, templates reaching the server with varying values,
//! each kind of check failing with its exact message, a failed capture recorded as an
//! exception (not a failure), and data files handing consecutive rows to users (and
//! raising "data file exhausted" when `on_end = "stop"` runs out).

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::*;

/// Run `plan` with `users` users for `ms`, then stop.
async fn run(
    target: &Target,
    dir: &std::path::Path,
    plan: &str,
    users: u32,
    ms: u64,
) -> std::sync::Arc<surge::stats::Snapshot> {
    let engine = engine();
    let plan = parse_plan(plan, dir);
    engine
        .start(plan_params(plan, &target.url(), closed(users, 100.0)))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(ms)).await;
    engine.stop().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_token_is_captured_and_reused() {
    within(20, async {
        let target = Target::start();
        let dir = tempfile::tempdir().unwrap();
        let plan = r#"
[[scenarios]]
name = "auth"
wait = { constant = 0.05 }
on_start = [
  { method = "POST", path = "/login", capture = { token = { json = "token" } } },
]
[[scenarios.tasks]]
path = "/whoami"
headers = { "x-token" = "{{ token }}" }
check = { status = 200, json = true }
"#;
        let snap = run(&target, dir.path(), plan, 3, 1000).await;
        assert_eq!(snap.total.num_failures, 0, "{:?}", snap.failures);
        assert!(snap.exceptions.is_empty(), "{:?}", snap.exceptions);
        assert_eq!(entry(&snap, "POST", "/login").num_requests, 3);
        let whoami = entry(&snap, "GET", "/whoami");
        assert!(whoami.num_requests >= 30, "{}", whoami.num_requests);
        let tokens = target.seen.tokens.lock().unwrap().clone();
        assert_eq!(tokens.len() as u64, whoami.num_requests);
        let distinct: BTreeSet<&str> = tokens.iter().map(String::as_str).collect();
        let expected: BTreeSet<&str> = ["t-1", "t-2", "t-3"].into();
        assert_eq!(distinct, expected, "each user sends its own token");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_header_is_captured() {
    // Response headers are parsed into a map only when read: a capture reads them.
    within(20, async {
        let target = Target::start();
        let dir = tempfile::tempdir().unwrap();
        let plan = r#"
[[scenarios]]
name = "header"
wait = { constant = 0.05 }
on_start = [
  { method = "POST", path = "/login", capture = { kind = { header = "Content-Type" } } },
]
[[scenarios.tasks]]
path = "/whoami"
headers = { "x-token" = "{{ kind }}" }
check = { status = 200 }
"#;
        let snap = run(&target, dir.path(), plan, 2, 500).await;
        assert_eq!(snap.total.num_failures, 0, "{:?}", snap.failures);
        assert!(snap.exceptions.is_empty(), "{:?}", snap.exceptions);
        let tokens = target.seen.tokens.lock().unwrap().clone();
        assert!(!tokens.is_empty());
        assert!(tokens.iter().all(|t| t == "application/json"), "{tokens:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_reach_the_server() {
    within(20, async {
        let target = Target::start();
        let dir = tempfile::tempdir().unwrap();
        let plan = r#"
[[scenarios]]
name = "t"
wait = { constant = 0.02 }
[[scenarios.tasks]]
path = "/echo"
name = "/echo"
query = { n = "{{ random_int(1, 1000000) }}", id = "{{ uuid() }}", user = "{{ user_id }}", seq = "{{ seq() }}" }
"#;
        let snap = run(&target, dir.path(), plan, 2, 800).await;
        assert_eq!(snap.total.num_failures, 0, "{:?}", snap.failures);
        let e = entry(&snap, "GET", "/echo");
        let queries = target.seen.echo_queries.lock().unwrap().clone();
        assert_eq!(queries.len() as u64, e.num_requests);
        assert!(queries.len() >= 20);
        let col = |k: &str| -> Vec<String> { queries.iter().map(|q| q[k].clone()).collect() };
        let ns: BTreeSet<u64> = col("n").iter().map(|v| v.parse().unwrap()).collect();
        assert!(ns.len() > queries.len() / 2, "random_int hardly varies: {ns:?}");
        assert!(ns.iter().all(|n| (1..=1_000_000).contains(n)));
        let ids: BTreeSet<String> = col("id").into_iter().collect();
        assert_eq!(ids.len(), queries.len(), "uuid() repeated");
        assert!(ids.iter().all(|id| uuid::Uuid::parse_str(id).is_ok()));
        let users: BTreeSet<String> = col("user").into_iter().collect();
        assert_eq!(users.len(), 2, "two users, two ids: {users:?}");
        let seqs: BTreeSet<u64> = col("seq").iter().map(|v| v.parse().unwrap()).collect();
        assert_eq!(seqs.len(), queries.len(), "seq() repeated");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_fail_with_exact_messages() {
    within(20, async {
        let target = Target::start();
        let dir = tempfile::tempdir().unwrap();
        let plan = r#"
[[scenarios]]
name = "checks"
wait = { constant = 0.05 }

[[scenarios.tasks]]
name = "status"
path = "/ok"
check = { status = 201 }

[[scenarios.tasks]]
name = "contains"
path = "/ok"
check = { contains = "x" }

[[scenarios.tasks]]
name = "json"
path = "/ok"
check = { json = true }

[[scenarios.tasks]]
name = "equals"
method = "POST"
path = "/login"
check = { equals = { token = "nope" } }

[[scenarios.tasks]]
name = "capture"
method = "POST"
path = "/login"
capture = { missing = { json = "data.missing" } }
"#;
        let snap = run(&target, dir.path(), plan, 4, 1500).await;
        let message = |name: &str| -> (String, u64) {
            let f: Vec<_> = snap.failures.iter().filter(|f| f.name == name).collect();
            assert_eq!(f.len(), 1, "{name}: {:?}", snap.failures);
            (f[0].message.clone(), f[0].occurrences)
        };
        for (name, expected) in [
            ("status", "expected status 201, got 200".to_string()),
            (
                "contains",
                "check failed: body does not contain \"x\"".to_string(),
            ),
            ("json", "check failed: body is not JSON".to_string()),
        ] {
            let (msg, n) = message(name);
            assert_eq!(msg, expected);
            let e = entry(&snap, "GET", name);
            assert!(e.num_requests > 0);
            assert_eq!(n, e.num_requests, "{name}: every request fails");
            assert_eq!(e.num_failures, e.num_requests);
        }
        let eq: Vec<_> = snap
            .failures
            .iter()
            .filter(|f| f.name == "equals")
            .collect();
        assert!(!eq.is_empty());
        let msg = &eq[0].message;
        assert!(msg.starts_with("check failed: token is \"t-"), "{msg}");
        assert!(msg.ends_with("\", expected \"nope\""), "{msg}");
        let equals = entry(&snap, "POST", "equals");
        // Tokens differ per login, so the messages differ: one group per message.
        let groups: u64 = snap
            .failures
            .iter()
            .filter(|f| f.name == "equals")
            .map(|f| f.occurrences)
            .sum();
        assert_eq!(groups, equals.num_failures);
        assert_eq!(equals.num_failures, equals.num_requests);
        // A capture that finds nothing is the plan's error: an exception, not a failure.
        let capture = entry(&snap, "POST", "capture");
        assert!(capture.num_requests > 0);
        assert_eq!(capture.num_failures, 0);
        assert_eq!(snap.exceptions.len(), 1, "{:?}", snap.exceptions);
        let x = &snap.exceptions[0];
        assert_eq!(
            x.message,
            "capture \"missing\": no value at JSON path \"data.missing\""
        );
        assert!(x.origin.contains("scenario \"checks\""), "{}", x.origin);
        assert!(x.origin.contains("task \"capture\""), "{}", x.origin);
        assert_eq!(x.count, capture.num_requests);
    })
    .await;
}

/// A Flask + PostgreSQL API out of connections, as a user's plan meets it: the grouped
/// failures carry PostgreSQL's own words, a check's `message` says what the plan means, and
/// a message that cannot be rendered leaves Surge's own and is reported as an exception.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_carry_the_servers_cause_and_the_plans_words() {
    within(20, async {
        let target = Target::start();
        let dir = tempfile::tempdir().unwrap();
        let plan = r#"
[[scenarios]]
name = "lab"
wait = { constant = 0.05 }

[[scenarios.tasks]]
name = "POST /orders"
method = "POST"
path = "/lab/orders"
json = { user_id = "{{ random_int(1, 100) }}", items = { "$for" = "id in random_sample(range(1, 51), random_int(1, 5))", "$each" = { product_id = "{{ id }}", quantity = "{{ random_int(1, 3) }}" } } }

[[scenarios.tasks]]
name = "bad user"
method = "POST"
path = "/lab/orders"
json = { user_id = 0 }

[[scenarios.tasks]]
name = "worded"
method = "POST"
path = "/lab/orders"
json = { user_id = "{{ surge.user + 1 }}" }
check = { status = 201, message = "HTTP {{ status }}: {{ json.detail }}" }

[[scenarios.tasks]]
name = "busy"
path = "/lab/busy"
check = { message = "HTTP {{ status }}: {{ json.detail }}" }
"#;
        let snap = run(&target, dir.path(), plan, 4, 1500).await;
        let groups = |name: &str| -> Vec<String> {
            snap.failures
                .iter()
                .filter(|f| f.name == name)
                .map(|f| f.message.clone())
                .collect()
        };
        assert_eq!(
            groups("POST /orders"),
            vec![r#"500 Internal Server Error: database error: connection failed: connection to server at "127.0.0.1", port 55432 failed: FATAL: sorry, too many clients already"#]
        );
        assert_eq!(
            groups("bad user"),
            vec!["400 Bad Request: invalid request: user_id must be a positive integer"]
        );
        assert_eq!(
            groups("worded"),
            vec![r#"HTTP 500: connection failed: connection to server at "127.0.0.1", port 55432 failed: FATAL: sorry, too many clients already"#]
        );
        // Plain text has no json.detail: Surge's message stays, the plan's error is shown.
        assert_eq!(groups("busy"), vec!["503 Service Unavailable: service overloaded"]);
        let busy = entry(&snap, "GET", "busy");
        assert_eq!(busy.num_failures, busy.num_requests);
        let x: Vec<_> = snap
            .exceptions
            .iter()
            .filter(|x| x.origin.contains("task \"busy\""))
            .collect();
        assert_eq!(x.len(), 1, "{:?}", snap.exceptions);
        assert!(x[0].message.starts_with("check message: "), "{}", x[0].message);
        assert_eq!(x[0].count, busy.num_requests);
        for name in ["POST /orders", "bad user", "worded"] {
            let e = entry(&snap, "POST", name);
            assert!(e.num_requests > 0 && e.num_failures == e.num_requests, "{name}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_rows_go_to_consecutive_users() {
    within(20, async {
        let target = Target::start();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("users.csv"),
            "name,pin\nann,1\nbob,2\ncid,3\n",
        )
        .unwrap();
        let plan = r#"
[data]
file = "users.csv"
on_end = "stop"

[[scenarios]]
name = "rows"
wait = { constant = 0.05 }
[[scenarios.tasks]]
path = "/echo"
name = "/echo"
query = { name = "{{ row.name }}", pin = "{{ row.pin }}" }
"#;
        // 5 users, 3 rows: the last two users raise "data file exhausted" and stop.
        let snap = run(&target, dir.path(), plan, 5, 1000).await;
        assert_eq!(snap.total.num_failures, 0, "{:?}", snap.failures);
        let queries = target.seen.echo_queries.lock().unwrap().clone();
        assert_eq!(
            queries.len() as u64,
            entry(&snap, "GET", "/echo").num_requests
        );
        let pairs: BTreeSet<(String, String)> = queries
            .iter()
            .map(|q| (q["name"].clone(), q["pin"].clone()))
            .collect();
        let expected: BTreeSet<(String, String)> = [("ann", "1"), ("bob", "2"), ("cid", "3")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(pairs, expected, "each row's values arrive together");
        assert_eq!(snap.exceptions.len(), 1, "{:?}", snap.exceptions);
        let x = &snap.exceptions[0];
        assert!(x.message.contains("data file exhausted"), "{}", x.message);
        assert_eq!(x.count, 2, "two users had no row");
    })
    .await;
}
