//! The headless runner and the `surge` binary end to end: the CSV and JSON files are
//! complete whether the run ends by run time or by an interrupt (same Aggregated count in
//! both), the exit code is 0 without failures and `--exit-code-on-error` with some, the
//! console shows the summary blocks, and usage errors exit with code 2 and a message naming
//! the problem (for a plan: the file and line).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::binary::counts;
use crate::support::*;
use surge::cli::RunArgs;

fn args(url: &str, dir: &Path) -> RunArgs {
    RunArgs {
        host: Some(url.to_string()),
        users: Some(3),
        spawn_rate: Some(100.0),
        csv: Some(dir.join("run")),
        json: Some(dir.join("run.json")),
        exit_code_on_error: 7,
        stop_timeout: "10s".into(),
        only_summary: true,
        workers: Some(2),
        ..RunArgs::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_time_end_writes_complete_files_and_exit_0() {
    within(20, async {
        let target = Target::start();
        let dir = tempfile::tempdir().unwrap();
        let mut a = args(&format!("{}/ok", target.url()), dir.path());
        a.run_time = Some("2s".into());
        let settings = a.settings(None).unwrap();
        let mut out = Vec::new();
        let outcome = surge::headless::run(settings, &mut out, std::future::pending())
            .await
            .unwrap();
        assert_eq!(outcome.exit_code, 0);
        let (csv, json) = counts(dir.path());
        assert!(csv > 100, "{csv}");
        assert_eq!(csv, json);
        assert_eq!(csv, outcome.snapshot.total.num_requests);
        assert_eq!(csv, target.seen.hits("/ok"));
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Response time percentiles"), "{text}");
    })
    .await;
}

/// A run that breaks while users ramp up says where: the first failure's time, the users
/// running then and its message, in the console summary and the JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_failure_is_marked_with_its_time_and_user_count() {
    within(20, async {
        let target = Target::start();
        let dir = tempfile::tempdir().unwrap();
        // The target fails every 40th request: the first failure comes while 4 users ramp
        // up at 2 a second.
        let mut a = args(&format!("{}/fail-every/40", target.url()), dir.path());
        a.users = Some(4);
        a.spawn_rate = Some(2.0);
        a.run_time = Some("3s".into());
        a.thresholds = vec!["fail_ratio < 1%".into(), "p95 < 10s".into()];
        a.data_dir = Some(dir.path().join("data"));
        let settings = a.settings(None).unwrap();
        let mut out = Vec::new();
        let outcome = surge::headless::run(settings, &mut out, std::future::pending())
            .await
            .unwrap();
        let first = outcome.snapshot.first_failure.clone().expect("a failure");
        // 1 request in 40 fails: the first whole second with a failure fails the 1 % ratio
        // on its own figures; the p95 threshold never fails.
        let crossings = &outcome.snapshot.threshold_crossings;
        assert_eq!(crossings.len(), 1, "{crossings:?}");
        let c = &crossings[0];
        assert_eq!(c.threshold, "fail_ratio < 1%");
        assert!(
            c.time >= first.time.floor() && c.time <= outcome.snapshot.time,
            "{c:?}"
        );
        assert!(c.message.starts_with("fail_ratio = "), "{c:?}");
        let start = outcome.snapshot.stats_start.unwrap();
        assert!(
            first.time >= start && first.time <= outcome.snapshot.time,
            "{first:?}"
        );
        assert!((1..=4).contains(&first.users), "{first:?}");
        assert_eq!(
            first.message,
            "500 Internal Server Error: every 40th request fails"
        );
        let text = String::from_utf8(out).unwrap();
        let line = format!(
            "First failure at 0:0{} into the test, with {} users: GET /fail-every/40: 500 \
             Internal Server Error: every 40th request fails",
            (first.time - start).round() as u64,
            first.users
        );
        assert!(text.contains(&line), "{line}\n{text}");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("run.json")).unwrap())
                .unwrap();
        assert_eq!(json["first_failure"]["users"], first.users);
        assert_eq!(
            json["threshold_crossings"][0]["threshold"],
            "fail_ratio < 1%"
        );
        // The history keeps both: `surge runs show` tells them again.
        let store = surge::store::Store::open(&dir.path().join("data")).unwrap();
        let saved = store.load(outcome.saved_as.expect("saved")).unwrap();
        assert_eq!(saved.snapshot.first_failure.as_ref(), Some(&first));
        assert_eq!(&saved.snapshot.threshold_crossings, crossings);
        let mut shown = Vec::new();
        surge::report::print_summary(&mut shown, &saved.snapshot).unwrap();
        let shown = String::from_utf8(shown).unwrap();
        assert!(shown.contains(&line), "{shown}");
        assert!(
            text.contains("Threshold \"fail_ratio < 1%\" first failed at 0:0"),
            "{text}"
        );
        assert_eq!(json["first_failure"]["name"], "/fail-every/40");
        assert!(json["first_failure"]["offset_s"].as_f64().unwrap() >= 0.0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_end_writes_complete_files_and_the_error_exit_code() {
    within(20, async {
        let target = Target::start();
        let dir = tempfile::tempdir().unwrap();
        let a = args(&format!("{}/fail-every/3", target.url()), dir.path());
        let settings = a.settings(None).unwrap();
        let mut out = Vec::new();
        let interrupt = tokio::time::sleep(Duration::from_secs(1));
        let outcome = surge::headless::run(settings, &mut out, interrupt)
            .await
            .unwrap();
        assert_eq!(outcome.exit_code, 7);
        let (csv, json) = counts(dir.path());
        assert!(csv > 50, "{csv}");
        assert_eq!(csv, json);
        assert_eq!(csv, target.seen.hits("/fail-every/3"));
        let failures = std::fs::read_to_string(dir.path().join("run_failures.csv")).unwrap();
        assert!(
            failures.contains("500 Internal Server Error: every 3th request fails"),
            "{failures}"
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Response time percentiles"), "{text}");
        assert!(text.contains("Error report"), "{text}");
    })
    .await;
}

fn surge(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_surge"))
        .args(args)
        .env_clear()
        .output()
        .expect("run surge")
}

fn usage_error(args: &[&str], needles: &[&str]) {
    let out = surge(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    for n in needles {
        assert!(
            stderr.contains(n),
            "{args:?}: stderr lacks {n:?}:\n{stderr}"
        );
    }
}

#[test]
fn usage_errors_exit_2_naming_the_problem() {
    let h = "http://127.0.0.1:9/";
    usage_error(
        &["--headless", "-H", h, "-t", "abc"],
        &["-t/--run-time", "abc"],
    );
    usage_error(&["--headless", "-H", h, "--rate", "0"], &["--rate"]);
    usage_error(&["--headless"], &["-H/--host"]);
    usage_error(
        &["--headless", "-H", h, "--tick", "10ms"],
        &["--tick", "100ms"],
    );
    usage_error(&["--headless", "-H", "ftp://x"], &["ftp://x", "http://"]);
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("bad.toml");
    std::fs::write(
        &plan,
        "host = \"http://127.0.0.1:9\"\n\n[[scenarios]]\nnmae = \"x\"\n",
    )
    .unwrap();
    usage_error(
        &["--headless", "-f", plan.to_str().unwrap()],
        &["bad.toml", ":4", "nmae"],
    );
}

/// A host without `http://` gets one message, with the fix, from the CLI, a plan and
/// `surge check` alike.
#[test]
fn a_host_without_a_scheme_says_what_was_meant() {
    for (given, meant) in [
        ("127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("localhost:5000", "http://localhost:5000"),
    ] {
        let message = format!("\"{given}\" has no scheme: did you mean {meant}?");
        usage_error(
            &["--headless", "-H", given],
            &[&format!("surge: -H/--host: {message}")],
        );
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("p.toml");
        std::fs::write(
            &plan,
            format!("host = \"{given}\"\n[[scenarios]]\n[[scenarios.tasks]]\npath = \"/\"\n"),
        )
        .unwrap();
        usage_error(
            &["--headless", "-f", plan.to_str().unwrap()],
            &[&format!("p.toml:1:8: host: {message}")],
        );
        usage_error(
            &["check", plan.to_str().unwrap()],
            &[&format!("p.toml:1:8: host: {message}")],
        );
    }
}

/// `surge check` validates a plan and prints what each task would send, sending nothing;
/// an invalid plan is exit 2 with the positioned error.
#[test]
fn check_renders_requests_without_sending_them() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("shop.toml");
    std::fs::write(
        &plan,
        r#"[[scenarios]]
name = "buyer"
on_start = [{ method = "POST", path = "/login", json = { user = "u{{ surge.user }}" }, capture = { token = { json = "token" } } }]
[[scenarios.tasks]]
name = "order"
method = "POST"
path = "/orders"
headers = { x-token = "{{ token }}" }
json = { items = { "$for" = "id in [3, 1]", "$each" = { product_id = "{{ id }}", quantity = "{{ surge.user + 1 }}" } } }
[[scenarios.tasks]]
path = "/stock/{ random_int(1, 10) }"
"#,
    )
    .unwrap();
    // Nothing listens on port 9: a request sent would fail, but none is.
    let out = surge(&[
        "check",
        plan.to_str().unwrap(),
        "-H",
        "http://127.0.0.1:9",
        "--render",
        "2",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = plan.display();
    let expected = format!(
        r#"{path}: valid (1 scenario, 2 tasks, 3 requests)
warning: {path}:11:8: scenarios[0].tasks[1].path: "/stock/{{ random_int(1, 10) }}" has {{ random_int(1, 10) }} in single braces, which is sent as written: did you mean {{{{ random_int(1, 10) }}}}?
Captured values are shown as $token (a response gives them at run time).

scenario "buyer"
  on_start (once per user; user 0):
    1. POST http://127.0.0.1:9/login
      content-type: application/json
      {{"user":"u0"}}
  task "order" (weight 1)
    user 0: POST http://127.0.0.1:9/orders
      (statistics name: order)
      x-token: $token
      content-type: application/json
      {{"items":[{{"product_id":3,"quantity":1}},{{"product_id":1,"quantity":1}}]}}
    user 1: POST http://127.0.0.1:9/orders
      (statistics name: order)
      x-token: $token
      content-type: application/json
      {{"items":[{{"product_id":3,"quantity":2}},{{"product_id":1,"quantity":2}}]}}
  task "/stock/{{ random_int(1, 10) }}" (weight 1)
    user 0: GET http://127.0.0.1:9/stock/%7B%20random_int(1,%2010)%20%7D
      (statistics name: /stock/{{ random_int(1, 10) }})
    user 1: GET http://127.0.0.1:9/stock/%7B%20random_int(1,%2010)%20%7D
      (statistics name: /stock/{{ random_int(1, 10) }})
"#
    );
    assert_eq!(stdout, expected);
    std::fs::write(
        &plan,
        "[[scenarios]]\n[[scenarios.tasks]]\npath = \"/{{ tokn }}\"\n",
    )
    .unwrap();
    usage_error(
        &["check", plan.to_str().unwrap()],
        &["shop.toml:3:8: scenarios[0].tasks[0].path: \"/{{ tokn }}\" reads \"tokn\""],
    );
}

#[test]
fn the_binary_runs_headless_and_writes_the_csv_files() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("x");
    let url = format!("{}/ok", target.url());
    let out = surge(&[
        "--headless",
        "-H",
        &url,
        "-u",
        "5",
        "-r",
        "100",
        "-t",
        "2s",
        "--csv",
        prefix.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for suffix in [
        "_stats.csv",
        "_stats_history.csv",
        "_failures.csv",
        "_exceptions.csv",
    ] {
        assert!(
            dir.path().join(format!("x{suffix}")).exists(),
            "missing x{suffix}"
        );
    }
    let stats = std::fs::read_to_string(dir.path().join("x_stats.csv")).unwrap();
    let row = stats
        .lines()
        .find(|l| l.starts_with(",Aggregated,"))
        .unwrap();
    let n: u64 = row.split(',').nth(2).unwrap().parse().unwrap();
    assert_eq!(n, target.seen.hits("/ok"));
    assert!(n > 100);
    assert!(stdout.contains("Response time percentiles"), "{stdout}");
}

#[test]
fn every_option_can_come_from_surge_environment_variables() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("env");
    let out = Command::new(env!("CARGO_BIN_EXE_surge"))
        .env_clear()
        .env("SURGE_HEADLESS", "true")
        .env("SURGE_HOST", format!("{}/status/503", target.url()))
        .env("SURGE_USERS", "3")
        .env("SURGE_SPAWN_RATE", "100")
        .env("SURGE_RUN_TIME", "1s")
        .env("SURGE_CSV", prefix.to_str().unwrap())
        .env("SURGE_ONLY_SUMMARY", "true")
        .env("SURGE_EXIT_CODE_ON_ERROR", "9")
        .output()
        .expect("run surge");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Failing requests (503) → the exit code from SURGE_EXIT_CODE_ON_ERROR.
    assert_eq!(out.status.code(), Some(9), "{stdout}");
    // Only the summary: no periodic table, one "Aggregated" per block.
    assert!(stdout.contains("Response time percentiles"), "{stdout}");
    assert!(stdout.matches("Aggregated").count() <= 2, "{stdout}");
    let failures = std::fs::read_to_string(dir.path().join("env_failures.csv")).unwrap();
    assert!(
        failures.contains("GET,/status/503,503 Service Unavailable"),
        "{failures}"
    );
    assert_eq!(
        target.seen.status_count(503),
        target.seen.hits("/status/503")
    );
    assert!(target.seen.hits("/status/503") > 0);
}

#[test]
fn the_tick_reaches_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = args("http://127.0.0.1:9/", dir.path());
    assert_eq!(
        a.settings(None).unwrap().engine_config().tick,
        Duration::from_secs(1)
    );
    a.tick = Some("250ms".into());
    let config = a.settings(None).unwrap().engine_config();
    assert_eq!(config.tick, Duration::from_millis(250));
    assert_eq!(config.workers, 2);
    assert_eq!(config.stop_timeout, Duration::from_secs(10));
}

/// Dashboard flags: a network-facing dashboard needs a login, conflicting or invalid flags
/// are refused before anything listens.
#[test]
fn dashboard_and_conflicting_flags_exit_2_saying_how_to_fix_them() {
    let h = "http://127.0.0.1:9/";
    usage_error(
        &["-H", h, "--web-host", "0.0.0.0"],
        &[
            "--web-host 0.0.0.0 would expose the dashboard",
            "--web-auth USER:PASSWORD",
            "--web-token TOKEN",
            "--web-insecure-no-auth",
        ],
    );
    usage_error(
        &[
            "-H",
            h,
            "--web-auth",
            "a:b",
            "--web-token",
            "0123456789abcdef",
        ],
        &["--web-auth", "--web-token", "cannot be used with"],
    );
    usage_error(
        &["-H", h, "--web-auth", "a:b", "--web-insecure-no-auth"],
        &["cannot be used with"],
    );
    usage_error(&["-H", h, "--web-auth", "nopassword"], &["USER:PASSWORD"]);
    usage_error(
        &["-H", h, "--web-token", "short"],
        &["at least 16 characters"],
    );
    usage_error(&["-H", h, "--tls-cert", "c.pem"], &["--tls-key"]);
    usage_error(
        &[
            "-H",
            h,
            "--tls-cert",
            "/nonexistent/c.pem",
            "--tls-key",
            "/nonexistent/k.pem",
        ],
        &["--tls-cert /nonexistent/c.pem"],
    );
    usage_error(
        &["--headless", "-H", h, "--web-auth", "a:b"],
        &["--headless"],
    );
    usage_error(&["--headless", "-H", h, "--autostart"], &["--autostart"]);
    usage_error(
        &["-H", h, "--allow-target", "ftp://x"],
        &["--allow-target \"ftp://x\""],
    );
    usage_error(
        &["-H", "http://10.9.9.9/", "--allow-target", "127.0.0.1"],
        &["\"http://10.9.9.9/\" is not an allowed target", "127.0.0.1"],
    );
    usage_error(
        &["-H", h, "--web-allowed-hosts", "a:b"],
        &["--web-allowed-hosts \"a:b\""],
    );
    usage_error(&["--headless", "-H", h, "--csv-full-history"], &["--csv"]);
    usage_error(
        &["--headless", "-H", h, "--exit-code-on-error", "300"],
        &["--exit-code-on-error", "300"],
    );
    usage_error(
        &["--headless", "-H", h, "-u", "2000000"],
        &["-u/--users", "1000000"],
    );
    usage_error(
        &["--headless", "-H", h, "--workers", "5000"],
        &["--workers", "1024"],
    );
    // The new flags come from SURGE_* variables too.
    let out = Command::new(env!("CARGO_BIN_EXE_surge"))
        .env_clear()
        .env("SURGE_HOST", h)
        .env("SURGE_WEB_HOST", "0.0.0.0")
        .env("SURGE_WEB_TOKEN", "short")
        .output()
        .expect("run surge");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--web-token must be at least 16 characters"),
        "{stderr}"
    );
}

/// `--metrics-listen`: a headless run serves its statistics for Prometheus while it runs.
#[test]
fn a_headless_run_serves_metrics_for_prometheus() {
    use crate::support::binary::{eventually, http, Surge};
    let target = Target::start();
    let url = format!("{}/delay?ms=5", target.url());
    let mut surge = Surge::spawn(&[
        "--headless",
        "-H",
        &url,
        "-u",
        "2",
        "-r",
        "100",
        "-t",
        "4s",
        "--only-summary",
        "--metrics-listen",
        "127.0.0.1:0",
    ]);
    let at = surge.line_starting("Metrics for Prometheus: http://");
    let addr = at.trim_end_matches("/metrics").to_string();
    let answer = eventually(10, "requests in the metrics", || {
        let a = http(&addr, "GET", "/metrics", &[]);
        // Counters come from the merged statistics, the users from the latest snapshot
        // (published once per tick): wait for both.
        (a.contains("surge_requests_total{method=\"GET\",name=\"/delay?ms=5\"}")
            && a.contains("surge_users 2"))
        .then_some(a)
    });
    assert!(
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );
    assert!(answer.contains("text/plain; version=0.0.4"), "{answer}");
    assert!(answer.contains("surge_users 2"), "{answer}");
    let out = surge.wait(20);
    assert_eq!(out.code, Some(0), "{out:?}");
}
