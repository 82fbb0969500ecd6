//! The generator tells on itself: when Surge cannot hold the load it was asked for, the
//! snapshot carries the time range with the reason, and the console summary, the JSON
//! summary and `PREFIX_generator.csv` show it; when it can, none of them blames it; and when
//! the machine is busy with other work while Surge idles, the range is the host's.
//!
//! What other processes do decides the cause, so these tests cannot share the machine with
//! the rest of the suite (a browser test's Chromium is "other work"): they are ignored by a
//! plain `cargo test` and `.ci/run` runs them alone afterwards
//! (`cargo test --test integration -- --ignored --test-threads=1 generator_health::`).

use std::time::Duration;

use crate::support::binary::Surge;
use crate::support::*;
use surge::plan::LoadProfile;
use surge::report::{console, csv, json};
use surge::stats::health::{Cause, GeneratorSnapshot};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the machine to itself (other processes' CPU decides the cause): .ci/run runs it alone"]
async fn an_open_model_rate_the_users_cannot_hold_is_reported_with_its_time_range() {
    let _serial = SERIAL.lock().await;
    within(30, async {
        let target = Target::start();
        let engine = engine();
        // Two users, 20 ms per request: at most ~100 starts/s of the 400/s asked.
        let url = format!("{}/delay?ms=20", target.url());
        let load = LoadProfile::Open {
            rate: 400.0,
            max_users: 2,
        };
        engine.start(url_params(&url, load)).unwrap();
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let snap = engine.stop().await.unwrap();
        let g = &snap.generator;
        assert!(!g.ranges.is_empty(), "no overload range: {g:?}");
        let r = &g.ranges[0];
        assert!(r.late_starts > 0, "{r:?}");
        assert!(r.end > r.start);
        let start = snap.stats_start.unwrap();
        assert!(r.start >= start - 1.0 && r.end <= snap.time + 0.01, "{r:?}");
        assert!(
            r.message
                .starts_with("Surge itself was the bottleneck from 0:0"),
            "{}",
            r.message
        );
        assert!(r.message.contains("late starts"), "{}", r.message);
        assert_eq!(r.cause, Cause::Generator);

        let mut text = Vec::new();
        console::print_summary(&mut text, &snap).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.contains("Generator health\n- WARNING: Surge itself was the bottleneck"),
            "{text}"
        );

        let mut file = Vec::new();
        csv::write_generator(&mut file, &snap).unwrap();
        let file = String::from_utf8(file).unwrap();
        let mut lines = file.lines();
        assert_eq!(lines.next(), Some(csv::GENERATOR_HEADER));
        assert_eq!(lines.count(), g.ranges.len());

        let mut out = Vec::new();
        json::write_json(&mut out, &snap).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            value["generator"]["ranges"][0]["message"].as_str(),
            Some(r.message.as_str())
        );
    })
    .await;
}

/// Processes that keep every core of the machine busy until dropped (bounded by the test).
struct CpuHogs(Vec<std::process::Child>);

impl CpuHogs {
    /// One busy loop per core and one more, at the highest priority the test may give
    /// them (`nice -n -20` as root; without the right, nice runs them at the normal one).
    fn start() -> CpuHogs {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let hogs = (0..=cores)
            .map(|_| {
                std::process::Command::new("nice")
                    .args(["-n", "-20", "sh", "-c", "while :; do :; done"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("start a CPU hog")
            })
            .collect();
        CpuHogs(hogs)
    }
}

impl Drop for CpuHogs {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A light test beside processes that take every core: Surge's threads idle while their
/// timers fire late. The ranges are the host's, worded so, never "Surge itself".
///
/// Through the binary, so that "Surge's CPU" is the CPU of a process that runs nothing else
/// (this test process runs other tests beside it).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the machine to itself (other processes' CPU decides the cause): .ci/run runs it alone"]
async fn a_busy_machine_is_blamed_on_the_host_not_on_surge() {
    let _serial = SERIAL.lock().await;
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("run.json");
    let url = format!("{}/delay?ms=5", target.url());
    let hogs = CpuHogs::start();
    let exit = tokio::task::spawn_blocking({
        let json_path = json_path.clone();
        move || {
            let json_arg = json_path.display().to_string();
            Surge::spawn(&[
                "-H",
                &url,
                "-u",
                "1",
                "-r",
                "100",
                "-t",
                "4s",
                "--headless",
                "--only-summary",
                "--json",
                &json_arg,
            ])
            .wait(40)
        }
    })
    .await
    .unwrap();
    drop(hogs);
    assert_eq!(exit.code, Some(0), "{exit:?}");
    let value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let g: GeneratorSnapshot = serde_json::from_value(value["generator"].clone()).unwrap();
    assert!(
        !g.ranges.is_empty(),
        "no overload range beside the hogs: {g:?}"
    );
    for r in &g.ranges {
        assert_eq!(r.cause, Cause::Host, "{r:?}");
        assert!(
            r.message
                .starts_with("This machine was busy with other work from 0:0"),
            "{}",
            r.message
        );
        assert!(r.message.contains("other processes used"), "{}", r.message);
        let host = r.host.expect("the machine's load");
        assert!(
            host.others_cores() >= 0.5 * f64::from(host.cores),
            "{host:?}"
        );
        assert!(host.surge_cores < 0.5, "{host:?}");
    }
    assert_eq!(value["generator"]["ranges"][0]["cause"], "host");
    assert!(
        !exit.stdout.contains("Surge itself was the bottleneck"),
        "{}",
        exit.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the machine to itself (other processes' CPU decides the cause): .ci/run runs it alone"]
async fn a_rate_the_generator_holds_is_not_blamed_on_it() {
    let _serial = SERIAL.lock().await;
    within(30, async {
        let target = Target::start();
        let engine = engine();
        let url = format!("{}/delay?ms=5", target.url());
        let load = LoadProfile::Open {
            rate: 40.0,
            max_users: 20,
        };
        engine.start(url_params(&url, load)).unwrap();
        tokio::time::sleep(Duration::from_millis(2000)).await;
        let snap = engine.stop().await.unwrap();
        let g = &snap.generator;
        // Scheduling lag and CPU depend on the machine; starts must all have been on time.
        assert!(
            g.ranges
                .iter()
                .all(|r| r.late_starts == 0 && r.dropped_starts == 0),
            "{g:?}"
        );
        if cfg!(target_os = "linux") {
            let cpu = g.cpu_percent.expect("worker CPU measured on Linux");
            assert!((0.0..=100.0).contains(&cpu), "{cpu}");
        }
        let mut text = Vec::new();
        console::print_summary(&mut text, &snap).unwrap();
        let text = String::from_utf8(text).unwrap();
        if g.ranges.is_empty() {
            assert!(
                text.contains("Generator health: Surge was not the bottleneck"),
                "{text}"
            );
        }
    })
    .await;
}
