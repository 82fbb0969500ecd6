//! `surge find-limit` through the binary, against targets of known capacity: a server that
//! takes at most K requests at once (503 beyond) has its limit found exactly, with the 503's
//! message as the reason; a server whose latency grows with its queue breaks on a latency
//! threshold and has its knee where throughput stops growing; a rate Surge cannot hold is
//! inconclusive, never a pass or a fail.
//!
//! Whether a step is inconclusive depends on what else the machine does (Surge's lag), so
//! these tests run alone after the rest, like the generator-health tests.

use std::path::Path;

use serde_json::Value;

use crate::support::binary::Surge;
use crate::support::Target;

fn find_limit(
    target: &Target,
    path: &str,
    args: &[&str],
    dir: &Path,
) -> (Option<i32>, String, Value) {
    let url = format!("{}{path}", target.url());
    let json = dir.join("limit.json").display().to_string();
    let mut all = vec![
        "find-limit",
        "-H",
        &url,
        "--step-time",
        "2s",
        "--json",
        &json,
    ];
    all.extend_from_slice(args);
    let out = Surge::spawn(&all).wait(120);
    let value = std::fs::read_to_string(&json)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (out.code, format!("{}\n{}", out.stdout, out.stderr), value)
}

#[test]
#[ignore = "needs the machine to itself (Surge's lag decides whether a step counts): .ci/run runs it alone"]
fn a_server_of_known_capacity_has_its_limit_found_exactly_with_the_reason() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let (code, out, json) = find_limit(
        &target,
        "/capacity?k=12&ms=20",
        &[
            "--threshold",
            "fail_ratio < 1%",
            "--start",
            "3",
            "--max-users",
            "100",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(0), "{out}");
    // Resolution 5 % of 12 users is under one user: the search bisects to the exact count.
    assert_eq!(json["limit"]["users"], 12.0, "{out}");
    assert_eq!(json["limit"]["confirmed"], true, "{out}");
    assert_eq!(json["broke_at"]["users"], 13.0, "{out}");
    let reasons = json["broke_at"]["reasons"][0].as_str().unwrap_or_default();
    assert!(reasons.starts_with("fail_ratio < 1%"), "{out}");
    let top = &json["broke_at"]["top_failures"][0];
    assert_eq!(
        top["message"], "503 Service Unavailable: over capacity: at most 12 requests at once",
        "{out}"
    );
    assert!(out.contains("Limit: 12 users (passed twice)"), "{out}");
    assert!(out.contains("Broke at: 13 users: fail_ratio < 1%"), "{out}");
    assert!(
        out.contains("GET /capacity?k=12&ms=20: 503 Service Unavailable: over capacity"),
        "{out}"
    );
    let levels: Vec<f64> = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["level"].as_f64().unwrap())
        .collect();
    assert_eq!(
        levels,
        [3.0, 6.0, 12.0, 24.0, 18.0, 15.0, 14.0, 13.0, 12.0],
        "{out}"
    );
}

#[test]
#[ignore = "needs the machine to itself (Surge's lag decides whether a step counts): .ci/run runs it alone"]
fn latency_growing_with_load_breaks_on_a_latency_threshold_past_the_knee() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    // 4 workers of 20 ms: 200 req/s at most, reached with 4 users; past that each user
    // adds 5 ms of queueing, so p95 < 110 ms holds up to about 21 users.
    let (code, out, json) = find_limit(
        &target,
        "/queue?ms=20",
        &[
            "--threshold",
            "p95 < 110ms",
            "--start",
            "2",
            "--max-users",
            "64",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(0), "{out}");
    let limit = json["limit"]["users"].as_f64().unwrap_or_default();
    let broke = json["broke_at"]["users"].as_f64().unwrap_or_default();
    assert!((16.0..=23.0).contains(&limit), "limit {limit}: {out}");
    assert!(
        broke > limit && broke - limit <= 1.0,
        "{limit}..{broke}: {out}"
    );
    assert!(
        json["broke_at"]["reasons"][0]
            .as_str()
            .unwrap_or_default()
            .starts_with("p95 < 110ms"),
        "{out}"
    );
    let knee = json["knee"]["users"].as_f64().unwrap_or_default();
    assert!((4.0..=8.0).contains(&knee), "knee {knee}: {out}");
    assert!(out.contains("Knee: "), "{out}");
}

#[test]
#[ignore = "needs the machine to itself (Surge's lag decides whether a step counts): .ci/run runs it alone"]
fn a_rate_surge_cannot_hold_is_inconclusive_not_a_verdict() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    // Two users of 20 ms hold at most ~100 starts/s: 400/s leaves most starts late.
    let (code, out, json) = find_limit(
        &target,
        "/delay?ms=20",
        &[
            "--threshold",
            "fail_ratio < 1%",
            "--rate-from",
            "400",
            "--max-rate",
            "800",
            "--max-users",
            "2",
            "--workers",
            "1",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(4), "{out}");
    assert_eq!(json["inconclusive_at"], 400.0, "{out}");
    assert_eq!(json["steps"][0]["verdict"], "inconclusive", "{out}");
    assert!(json["limit"].is_null(), "{out}");
    assert!(out.contains("Step 1: 400 starts/s"), "{out}");
    assert!(out.contains("Inconclusive at 400 starts/s"), "{out}");
}

#[test]
#[ignore = "needs the machine to itself (Surge's lag decides whether a step counts): .ci/run runs it alone"]
fn a_search_is_saved_and_two_searches_compare_by_their_limits() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().display().to_string();
    for (k, label) in [(6, "pool=6"), (12, "pool=12")] {
        let url = format!("{}/capacity?k={k}&ms=20", target.url());
        let out = Surge::spawn(&[
            "find-limit",
            "-H",
            &url,
            "--threshold",
            "fail_ratio < 1%",
            "--start",
            "3",
            "--max-users",
            "50",
            "--step-time",
            "1s",
            "--data-dir",
            &data,
            "--label",
            label,
        ])
        .wait(120);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert!(out.stdout.contains("Saved as run #"), "{out:?}");
    }
    let show = Surge::spawn(&["runs", "show", "last", "--json", "--data-dir", &data]).wait(30);
    let run: Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(run["source"], "limit", "{show:?}");
    assert_eq!(run["limit"]["limit"]["users"], 12.0, "{show:?}");
    assert!(
        run["limit"]["steps"].as_array().unwrap().len() >= 5,
        "{show:?}"
    );
    let cmp = Surge::spawn(&["runs", "compare", "last~1", "last", "--data-dir", &data]).wait(30);
    assert!(
        cmp.stdout
            .contains("Search: limit 6 → 12 users (+100 %), broke on fail_ratio → fail_ratio"),
        "{cmp:?}"
    );
    let cmp = Surge::spawn(&[
        "runs",
        "compare",
        "last~1",
        "last",
        "--json",
        "--data-dir",
        &data,
    ])
    .wait(30);
    let v: Value = serde_json::from_str(&cmp.stdout).unwrap();
    assert_eq!(
        v["limit"],
        "limit 6 → 12 users (+100 %), broke on fail_ratio → fail_ratio"
    );
}
