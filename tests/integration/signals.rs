//! Never lose a measurement, through the binary: Ctrl-C lets in-flight requests finish and
//! counts them; a second Ctrl-C stops waiting, still writes everything recorded, and exits
//! 130; a dashboard test stopped by its run time or from the page leaves complete files at
//! once (while the dashboard keeps running), and the exit code follows the last test.

use std::path::Path;
use std::time::Duration;

use crate::support::binary::{counts, eventually, http, Surge};
use crate::support::Target;
use serde_json::Value;

/// `--csv DIR/run --json DIR/run.json`.
fn file_args(dir: &Path) -> Vec<String> {
    vec![
        "--csv".into(),
        dir.join("run").display().to_string(),
        "--json".into(),
        dir.join("run.json").display().to_string(),
    ]
}

fn spawn(args: &[&str], dir: &Path) -> Surge {
    let files = file_args(dir);
    let mut all: Vec<&str> = args.to_vec();
    all.extend(files.iter().map(String::as_str));
    Surge::spawn(&all)
}

fn json(dir: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join("run.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// Wait until `n` requests reached the target and none arrived for a while (every user
/// is then blocked on a request the target holds).
fn wait_blocked(target: &Target, at_least: u64) -> u64 {
    let mut last = 0;
    let mut stable = 0;
    eventually(20, "the users to block on the stalled target", || {
        let now = target.seen.total();
        if now >= at_least && now == last {
            stable += 1;
        } else {
            stable = 0;
        }
        last = now;
        (stable >= 5).then_some(now)
    })
}

#[test]
fn interrupt_lets_in_flight_requests_finish_and_counts_them() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/delay?ms=1500", target.url());
    let surge = spawn(
        &[
            "--headless",
            "-H",
            &url,
            "-u",
            "4",
            "-r",
            "100",
            "--workers",
            "1",
            "-s",
            "20s",
            "--only-summary",
        ],
        dir.path(),
    );
    // Every user has a 1.5 s request in flight.
    eventually(20, "4 requests in flight", || {
        (target.seen.hits("/delay") >= 4).then_some(())
    });
    surge.signal("INT");
    let out = surge.wait(30);
    let stdout = &out.stdout;
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(
        stdout.contains("Stopping: letting in-flight requests finish"),
        "{stdout}"
    );
    let (csv, json_count) = counts(dir.path());
    // Each request that reached the target finished and was counted, none failed.
    assert_eq!(csv, json_count);
    assert_eq!(csv, target.seen.hits("/delay"));
    assert_eq!(json(dir.path()).unwrap()["total"]["num_failures"], 0);
}

#[test]
fn a_second_interrupt_stops_waiting_and_still_writes_everything_recorded() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/delay?ms=2", target.url());
    let users: u64 = 3;
    let mut surge = spawn(
        &[
            "--headless",
            "-H",
            &url,
            "-u",
            "3",
            "-r",
            "100",
            "--workers",
            "1",
            "-s",
            "10m",
            "--only-summary",
        ],
        dir.path(),
    );
    eventually(20, "some requests", || {
        (target.seen.total() >= 50).then_some(())
    });
    // From now on the target holds every request for 10 minutes.
    target.seen.stall_for(Duration::from_secs(600));
    let arrived = wait_blocked(&target, 50);
    surge.signal("INT");
    surge.line_starting("Stopping: letting in-flight requests finish");
    // The stop would wait up to 10 minutes for the held requests: interrupt again.
    assert!(surge.running());
    surge.signal("INT");
    let out = surge.wait(30);
    let stdout = &out.stdout;
    assert_eq!(out.code, Some(130), "{out:?}");
    assert!(stdout.contains("Interrupted again"), "{stdout}");
    assert!(stdout.contains("Response time percentiles"), "{stdout}");
    let (csv, json_count) = counts(dir.path());
    assert_eq!(csv, json_count);
    // Every request that completed is in the files; the held ones never completed.
    assert_eq!(csv, arrived - users, "arrived {arrived}");
    let history = std::fs::read_to_string(dir.path().join("run_stats_history.csv")).unwrap();
    assert!(history.lines().count() >= 2, "{history}");
}

/// Requests that finish while the stop waits (a worker waiting for one held request) are in
/// the files after a second interrupt, with those finished in the last moments before it:
/// the lifecycle takes every worker's last figures before it writes.
#[test]
fn a_second_interrupt_keeps_the_requests_finished_during_the_wait() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        r#"
[[scenarios]]
name = "held"
count = 1
[[scenarios.tasks]]
path = "/delay?ms=600000"

[[scenarios]]
name = "quick"
count = 3
[[scenarios.tasks]]
path = "/delay?ms=700"
"#,
    )
    .unwrap();
    let plan_arg = plan.display().to_string();
    let mut surge = spawn(
        &[
            "--headless",
            "-f",
            &plan_arg,
            "-H",
            &target.url(),
            "-u",
            "4",
            "-r",
            "100",
            "--workers",
            "1",
            "-s",
            "10m",
            "--only-summary",
        ],
        dir.path(),
    );
    // The held user is in its 10-minute request and the quick ones have completed some.
    eventually(20, "the held request and some quick ones", || {
        (target.seen.total() >= 8).then_some(())
    });
    surge.signal("INT");
    surge.line_starting("Stopping: letting in-flight requests finish");
    // The quick users' last requests (700 ms) finish while the stop waits for the held one.
    std::thread::sleep(Duration::from_millis(1500));
    let arrived = target.seen.total();
    assert!(surge.running());
    surge.signal("INT");
    let out = surge.wait(30);
    assert_eq!(out.code, Some(130), "{out:?}");
    let (csv, json_count) = counts(dir.path());
    assert_eq!(csv, json_count);
    // Everything that arrived completed, but the held request.
    assert_eq!(csv, arrived - 1, "arrived {arrived}: {out:?}");
}

#[test]
fn a_dashboard_test_stopped_by_its_run_time_leaves_complete_files_at_once() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/ok", target.url());
    let mut surge = spawn(
        &[
            "-H",
            &url,
            "-u",
            "2",
            "-r",
            "100",
            "--workers",
            "1",
            "--autostart",
            "-t",
            "2s",
            "--web-port",
            "0",
        ],
        dir.path(),
    );
    surge.dashboard();
    let done = eventually(30, "the final JSON", || {
        json(dir.path()).filter(|j| j["state"] == "stopped")
    });
    // Written while the dashboard still runs.
    assert!(surge.running());
    let hits = target.seen.hits("/ok");
    assert!(hits > 10, "{hits}");
    assert_eq!(done["total"]["num_requests"], hits);
    assert_eq!(counts(dir.path()), (hits, hits));
    surge.signal("TERM");
    let out = surge.wait(30);
    assert_eq!(out.code, Some(0), "{out:?}");
    // The exit did not overwrite the files with anything else.
    assert_eq!(counts(dir.path()), (hits, hits));
}

#[test]
fn a_dashboard_test_stopped_from_the_page_leaves_complete_files_and_sets_the_exit_code() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/fail-every/2", target.url());
    let mut surge = spawn(
        &[
            "-H",
            &url,
            "-u",
            "2",
            "-r",
            "100",
            "--workers",
            "1",
            "--autostart",
            "--web-port",
            "0",
            "--exit-code-on-error",
            "3",
        ],
        dir.path(),
    );
    let addr = surge.dashboard();
    eventually(20, "some requests", || {
        (target.seen.hits("/fail-every/2") >= 20).then_some(())
    });
    let answer = http(&addr, "POST", "/stop", &[]);
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
    let done = eventually(20, "the final JSON", || {
        json(dir.path()).filter(|j| j["state"] == "stopped")
    });
    let hits = target.seen.hits("/fail-every/2");
    assert_eq!(done["total"]["num_requests"], hits);
    assert_eq!(done["total"]["num_failures"], hits / 2);
    assert_eq!(counts(dir.path()), (hits, hits));
    let failures = std::fs::read_to_string(dir.path().join("run_failures.csv")).unwrap();
    assert!(failures.contains("every 2th request fails"), "{failures}");
    surge.signal("INT");
    let out = surge.wait(30);
    // The last test had failures: --exit-code-on-error.
    assert_eq!(out.code, Some(3), "{out:?}");
    assert_eq!(counts(dir.path()), (hits, hits));
}

#[test]
fn a_second_interrupt_in_dashboard_mode_also_writes_everything_recorded() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/delay?ms=2", target.url());
    let users: u64 = 2;
    let mut surge = spawn(
        &[
            "-H",
            &url,
            "-u",
            "2",
            "-r",
            "100",
            "--workers",
            "1",
            "--autostart",
            "-s",
            "10m",
            "--web-port",
            "0",
        ],
        dir.path(),
    );
    surge.dashboard();
    eventually(20, "some requests", || {
        (target.seen.total() >= 50).then_some(())
    });
    target.seen.stall_for(Duration::from_secs(600));
    let arrived = wait_blocked(&target, 50);
    surge.signal("TERM");
    surge.line_starting("Stopping: letting in-flight requests finish");
    surge.signal("INT");
    let out = surge.wait(30);
    assert_eq!(out.code, Some(130), "{out:?}");
    assert!(out.stderr.contains("interrupted again"), "{out:?}");
    assert_eq!(counts(dir.path()), (arrived - users, arrived - users));
}
