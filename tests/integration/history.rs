//! The run history end to end: a headless run is saved and reloads with identical figures
//! (percentiles recomputed from the stored histograms), an empty file migrates, a corrupt
//! database only warns (the CSV files are still written), thresholds fail with exit code 3
//! through the binary, `surge runs list|show|compare|export|delete` work on saved runs, and
//! a comparison of stored runs built here words a trade-off as MIXED under the settings
//! that differ.

use std::path::Path;
use std::process::Command;

use crate::support::runs::{figures, stored_run};
use crate::support::*;
use surge::cli::RunArgs;
use surge::store::{schema, ListFilter, Store};

fn args(url: &str, data: &Path) -> RunArgs {
    RunArgs {
        host: Some(url.to_string()),
        users: Some(3),
        spawn_rate: Some(100.0),
        run_time: Some("1s".into()),
        stop_timeout: "10s".into(),
        only_summary: true,
        workers: Some(2),
        data_dir: Some(data.to_path_buf()),
        ..RunArgs::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_run_reloads_with_identical_figures() {
    within(30, async {
        let target = Target::start();
        let data = tempfile::tempdir().unwrap();
        let mut a = args(&format!("{}/fail-every/4", target.url()), data.path());
        a.label = Some("pool=5".into());
        a.thresholds = vec!["p95 < 10s".into()];
        let mut out = Vec::new();
        let outcome =
            surge::headless::run(a.settings(None).unwrap(), &mut out, std::future::pending())
                .await
                .unwrap();
        let id = outcome.saved_as.expect("saved");
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(&format!("Saved as run #{id}")), "{text}");
        let store = Store::open(data.path()).unwrap();
        let run = store.load(id).unwrap();
        let snap = &outcome.snapshot;
        assert!(snap.total.num_requests > 20);
        assert_eq!(run.label, "pool=5");
        assert_eq!(run.snapshot.host, snap.host);
        assert_eq!(run.snapshot.stats_start, snap.stats_start);
        assert_eq!(run.snapshot.stats_end, snap.stats_end);
        assert_eq!(run.snapshot.failures, snap.failures);
        assert_eq!(run.snapshot.exceptions, snap.exceptions);
        assert_eq!(run.params.users, 3);
        assert_eq!(run.thresholds, outcome.thresholds);
        assert_eq!(run.thresholds[0].passed, Some(true));
        // Every endpoint and Aggregated: same counts, times and percentiles, the latter
        // recomputed from the stored histograms (one per row).
        assert_eq!(run.histograms.len(), snap.entries.len() + 1);
        for (got, want) in run
            .snapshot
            .entries
            .iter()
            .chain([&run.snapshot.total])
            .zip(snap.entries.iter().chain([&snap.total]))
        {
            assert_eq!(
                (got.method.as_str(), got.name.as_str()),
                (want.method.as_str(), want.name.as_str())
            );
            assert_eq!(
                (got.num_requests, got.num_failures),
                (want.num_requests, want.num_failures)
            );
            assert_eq!(
                (got.avg_ms, got.min_ms, got.max_ms),
                (want.avg_ms, want.min_ms, want.max_ms)
            );
            assert_eq!(got.total_rps, want.total_rps);
            assert_eq!(got.percentiles, want.percentiles, "{}", want.name);
        }
        assert!(!run.history.is_empty());
        assert!(run
            .history
            .iter()
            .all(|p| p.time as f64 >= snap.stats_start.unwrap().floor()));
        let list = store
            .list(&ListFilter {
                label: Some("pool".into()),
                ..ListFilter::default()
            })
            .unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].num_requests, snap.total.num_requests);
        assert_eq!(list[0].thresholds_passed, Some(true));
        store.set_label(id, "pool=6").unwrap();
        assert_eq!(store.resolve("last").unwrap(), id);
        assert!(store.resolve("last~1").is_err());
        store.delete(id).unwrap();
        assert!(store.load(id).is_err());
    })
    .await;
}

#[test]
fn an_empty_file_is_migrated_and_a_newer_schema_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("surge.db");
    std::fs::write(&path, b"").unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(store.list(&ListFilter::default()).unwrap().is_empty());
    drop(store);
    assert_eq!(user_version(&path), schema::VERSION);
    // Reopening an up-to-date database changes nothing.
    Store::open(dir.path()).unwrap();
    // A database from a newer Surge is refused with a clear message.
    set_version(&path, schema::VERSION + 1);
    let e = Store::open(dir.path()).unwrap_err().to_string();
    assert!(e.contains("newer Surge"), "{e}");
}

fn user_version(path: &Path) -> i64 {
    let bytes = std::fs::read(path).unwrap();
    // SQLite header: user_version is the big-endian u32 at offset 60.
    i64::from(u32::from_be_bytes([
        bytes[60], bytes[61], bytes[62], bytes[63],
    ]))
}

fn set_version(path: &Path, v: i64) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[60..64].copy_from_slice(&(v as u32).to_be_bytes());
    std::fs::write(path, bytes).unwrap();
}

fn surge_cmd(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_surge"))
        .args(args)
        .env_clear()
        .output()
        .expect("run surge")
}

#[test]
fn a_corrupt_database_warns_and_the_run_still_writes_its_csv() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("surge.db"), vec![b'x'; 4096]).unwrap();
    let prefix = dir.path().join("out");
    let url = format!("{}/ok", target.url());
    let out = surge_cmd(&[
        "--headless",
        "-H",
        &url,
        "-u",
        "2",
        "-r",
        "100",
        "-t",
        "1s",
        "--only-summary",
        "--csv",
        prefix.to_str().unwrap(),
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("run history disabled") && stderr.contains("surge.db"),
        "{stderr}"
    );
    assert!(stderr.contains("not a database"), "{stderr}");
    assert!(dir.path().join("out_stats.csv").exists());
}

#[test]
fn a_failed_threshold_exits_3_and_runs_compare_shows_the_verdict() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let url = format!("{}/ok", target.url());
    let run = |extra: &[&str]| {
        let mut a = vec![
            "--headless",
            "-H",
            &url,
            "-u",
            "2",
            "-r",
            "100",
            "-t",
            "1s",
            "--only-summary",
            "--data-dir",
            data,
        ];
        a.extend_from_slice(extra);
        surge_cmd(&a)
    };
    let first = run(&[
        "--label",
        "before",
        "--threshold",
        "fail_ratio < 1%",
        "--threshold",
        "GET /ok: p99 < 10s",
    ]);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert_eq!(first.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("PASS  fail_ratio < 1%"), "{stdout}");
    // Impossible: more than a billion requests per second → exit code 3, saved anyway.
    let html = dir.path().join("report.html");
    let second = run(&[
        "--label",
        "after",
        "--threshold",
        "rps > 1000000000",
        "--baseline",
        "last",
        "--threshold",
        "p95 < baseline * 100",
        "--html",
        html.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert_eq!(
        second.status.code(),
        Some(3),
        "{stdout}\n{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(stdout.contains("FAIL  rps > 1000000000"), "{stdout}");
    assert!(
        stdout.contains("Comparing #1 before (before) with this run"),
        "{stdout}"
    );
    let report = std::fs::read_to_string(&html).unwrap();
    assert!(
        report.contains("rps &gt; 1000000000") || report.contains("rps > 1000000000"),
        "thresholds in the report"
    );
    assert!(
        report.contains("\"comparison\":{"),
        "comparison in the report"
    );
    // Both runs asked for the same load of the same host.
    assert!(
        report.contains("\"differences\":[]"),
        "differences in the report"
    );

    // A bad threshold is a usage error naming it.
    let bad = run(&["--threshold", "p97 < 1s"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown percentile \"p97\""));
    let nobase = run(&["--threshold", "p95 < baseline * 1.1"]);
    assert_eq!(nobase.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&nobase.stderr).contains("--baseline"));

    let list = surge_cmd(&["runs", "list", "--data-dir", data]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.contains("before") && text.contains("after") && text.contains("THRESHOLDS FAILED"),
        "{text}"
    );
    let json = surge_cmd(&["runs", "list", "--json", "--data-dir", data]);
    let runs: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(runs[0]["label"], "after");
    assert_eq!(runs[1]["label"], "before");

    let cmp = surge_cmd(&["runs", "compare", "last~1", "last", "--data-dir", data]);
    let text = String::from_utf8_lossy(&cmp.stdout);
    assert_eq!(
        cmp.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&cmp.stderr)
    );
    assert!(
        text.contains("Comparing #1 before (before) with #2 after (after)"),
        "{text}"
    );
    assert!(
        text.contains("GET /ok") && text.contains("Verdict: "),
        "{text}"
    );
    // Same users, host, plan and duration: nothing to say above the verdict.
    assert!(!text.contains("runs differ"), "{text}");
    let cmp = surge_cmd(&["runs", "compare", "1", "2", "--json", "--data-dir", data]);
    let v: serde_json::Value = serde_json::from_slice(&cmp.stdout).unwrap();
    assert_eq!(v["before"]["label"], "before");
    assert!(v["comparison"]["total"]["p95"]["before"].is_number());
    let csv = surge_cmd(&["runs", "compare", "1", "2", "--csv", "--data-dir", data]);
    assert!(String::from_utf8_lossy(&csv.stdout).starts_with("Method,Name,Metric,Before,After"));

    let show = surge_cmd(&["runs", "show", "2", "--data-dir", data]);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(
        text.contains("Run #2 after")
            && text.contains("Response time percentiles")
            && text.contains("FAIL"),
        "{text}"
    );
    let prefix = dir.path().join("exp");
    let exp = surge_cmd(&[
        "runs",
        "export",
        "1",
        "--csv",
        prefix.to_str().unwrap(),
        "--data-dir",
        data,
    ]);
    assert_eq!(exp.status.code(), Some(0));
    let stats = std::fs::read_to_string(dir.path().join("exp_stats.csv")).unwrap();
    assert!(stats.contains("GET,/ok,"), "{stats}");
    assert!(std::fs::read_to_string(dir.path().join("exp_history.csv"))
        .unwrap()
        .starts_with("Timestamp,Seconds,"));

    let missing = surge_cmd(&["runs", "show", "99", "--data-dir", data]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no run 99"));
    let del = surge_cmd(&["runs", "delete", "last", "--data-dir", data]);
    assert!(String::from_utf8_lossy(&del.stdout).contains("Deleted run #2"));
    let json = surge_cmd(&["runs", "list", "--json", "--data-dir", data]);
    let runs: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 1);
}

#[test]
fn runs_compare_words_a_trade_off_as_mixed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // The issue's case: without a pool 29.6 % of the orders failed; with pool=5 none do, but
    // they wait for a connection (p50 191 → 2660 ms) and req/s drops by 27 %.
    let no_pool = stored_run(
        "no pool",
        80,
        1_700_000_000.0,
        vec![
            figures("GET", "/health", 600, 0, 10.0, [2.0, 4.0, 5.0, 8.0]),
            figures(
                "GET",
                "/orders",
                1000,
                296,
                16.0,
                [191.0, 900.0, 1500.0, 4000.0],
            ),
            figures(
                "",
                "Aggregated",
                1600,
                296,
                26.0,
                [120.0, 800.0, 1400.0, 4000.0],
            ),
        ],
    );
    let pool = stored_run(
        "pool=5",
        30,
        1_700_000_100.0,
        vec![
            figures("GET", "/health", 600, 0, 10.0, [2.0, 4.0, 5.0, 8.0]),
            figures(
                "GET",
                "/orders",
                730,
                0,
                11.68,
                [2660.0, 3000.0, 3500.0, 4000.0],
            ),
            figures(
                "",
                "Aggregated",
                1330,
                0,
                21.68,
                [1400.0, 2900.0, 3400.0, 4000.0],
            ),
        ],
    );
    assert_eq!(store.save(&no_pool).unwrap(), 1);
    assert_eq!(store.save(&pool).unwrap(), 2);
    drop(store);

    let cmp = surge_cmd(&["runs", "compare", "1", "2", "--data-dir", data]);
    let text = String::from_utf8_lossy(&cmp.stdout);
    assert_eq!(
        cmp.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&cmp.stderr)
    );
    let want = [
        "Comparing #1 no pool (before) with #2 pool=5 (after); noise threshold ±5 %",
        "Times in ms; ✓ better, ✗ worse beyond the noise threshold.",
        "",
        "Endpoint / metric                       before       after           Δ         Δ%",
        "----------------------------------------------------------------------------------",
        "GET /health  → no significant change: every change within the ±5 % noise threshold",
        "  req/s                                   10.0        10.0        +0.0      +0.0%",
        "  fail %                                  0.00        0.00       +0.00       0.0%",
        "  p50                                     2.00        2.00       +0.00      +0.0%",
        "  p95                                     4.00        4.00       +0.00      +0.0%",
        "  p99                                     5.00        5.00       +0.00      +0.0%",
        "  max                                     8.00        8.00       +0.00      +0.0%",
        "GET /orders  → mixed: fail % -100.0 % (29.60 % → 0.00 %), but p95 +233.3 %, req/s -27.0 %, p99 +133.3 %, p50 +1292.7 %",
        "  req/s                                   16.0        11.7        -4.3     -27.0% ✗",
        "  fail %                                 29.60        0.00      -29.60    -100.0% ✓",
        "  p50                                      191        2660       +2469   +1292.7% ✗",
        "  p95                                      900        3000       +2100    +233.3% ✗",
        "  p99                                     1500        3500       +2000    +133.3% ✗",
        "  max                                     4000        4000       +0.00      +0.0%",
        "Aggregated  → mixed: fail % -100.0 % (18.50 % → 0.00 %), but p95 +262.5 %, req/s -16.6 %, p99 +142.9 %, p50 +1066.7 %",
        "  req/s                                   26.0        21.7        -4.3     -16.6% ✗",
        "  fail %                                 18.50        0.00      -18.50    -100.0% ✓",
        "  p50                                      120        1400       +1280   +1066.7% ✗",
        "  p95                                      800        2900       +2100    +262.5% ✗",
        "  p99                                     1400        3400       +2000    +142.9% ✗",
        "  max                                     4000        4000       +0.00      +0.0%",
        "",
        "Endpoints: 0 better, 0 worse, 1 mixed, 1 unchanged, 0 only before, 0 only after",
        "runs differ: users 80 → 30",
        "Verdict: MIXED: fail % -100.0 % (18.50 % → 0.00 %), but p95 +262.5 %, req/s -16.6 %, p99 +142.9 %, p50 +1066.7 %",
    ];
    assert_eq!(text.lines().collect::<Vec<_>>(), want, "{text}");
    assert!(text.ends_with('\n'));

    let cmp = surge_cmd(&["runs", "compare", "1", "2", "--json", "--data-dir", data]);
    let v: serde_json::Value = serde_json::from_slice(&cmp.stdout).unwrap();
    assert_eq!(v["differences"], serde_json::json!(["users 80 → 30"]));
    let c = &v["comparison"];
    assert_eq!(c["verdict"], "mixed");
    assert_eq!(c["total"]["verdict"], "mixed");
    assert_eq!(
        c["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["name"].as_str().unwrap(), e["verdict"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        [("/health", "no_significant_change"), ("/orders", "mixed")]
    );
    assert_eq!(c["counts"]["mixed"], 1);
    assert_eq!(
        c["endpoints"][1]["reason"],
        "fail % -100.0 % (29.60 % → 0.00 %), but p95 +233.3 %, req/s -27.0 %, p99 +133.3 %, p50 +1292.7 %"
    );
}
