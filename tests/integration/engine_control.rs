//! Live control of a running test: the open-model rate changes while running, and a stop
//! lets in-flight requests finish within the stop timeout (they are counted) but cancels
//! them past it (the stop returns on time and nothing half-done is counted).

use std::time::{Duration, Instant};

use crate::support::*;
use surge::engine::{Engine, EngineConfig};
use surge::plan::LoadProfile;
use surge::stats::RunState;

fn engine_with_stop_timeout(stop_timeout: Duration) -> Engine {
    Engine::new(EngineConfig {
        workers: 2,
        tick: Duration::from_millis(250),
        stop_timeout,
        ..EngineConfig::default()
    })
    .expect("engine")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_rate_changes_while_running() {
    let _serial = SERIAL.lock().await;
    within(30, async {
        let target = Target::start();
        let engine = engine();
        let url = format!("{}/delay?ms=2", target.url());
        let load = LoadProfile::Open {
            rate: 100.0,
            max_users: 40,
        };
        engine.start(url_params(&url, load)).unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let before = target.seen.hits("/delay");
        engine.set_rate(300.0, 40).unwrap();
        // Let the new rate settle, then measure it over 3 s.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let from = (target.seen.hits("/delay"), Instant::now());
        tokio::time::sleep(Duration::from_secs(3)).await;
        let after = target.seen.hits("/delay") - from.0;
        let rate = after as f64 / from.1.elapsed().as_secs_f64();
        let snap = engine.stop().await.unwrap();
        assert!(
            (180..=220).contains(&before),
            "first 2 s at 100/s: {before}"
        );
        assert!(
            (rate - 300.0).abs() < 300.0 * 0.05,
            "rate after the change: {rate:.1}/s"
        );
        let om = snap.open_model.as_ref().expect("open model figures");
        assert_eq!(om.target_rate, 300.0);
        assert_eq!(snap.total.num_requests, target.seen.hits("/delay"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_waits_for_in_flight_requests_within_the_stop_timeout() {
    let _serial = SERIAL.lock().await;
    within(30, async {
        let target = Target::start();
        let engine = engine_with_stop_timeout(Duration::from_secs(5));
        let url = format!("{}/delay?ms=1500", target.url());
        engine.start(url_params(&url, closed(4, 100.0))).unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let asked = Instant::now();
        let snap = engine.stop().await.unwrap();
        let took = asked.elapsed();
        // The 4 requests in flight (sent ~0.5 s ago, 1.5 s long) finish and are counted.
        assert!(
            took >= Duration::from_millis(800),
            "stop returned after {took:?}"
        );
        assert!(
            took < Duration::from_secs(4),
            "stop returned after {took:?}"
        );
        assert_eq!(snap.total.num_requests, 4);
        assert_eq!(snap.total.num_failures, 0);
        assert_eq!(snap.state, RunState::Stopped);
        assert_eq!(engine.user_count(), 0);
        // The rate is over the ~0.5 s the users ran, not the ~1.5 s until the last finished;
        // the drain is the time after the stop.
        let (start, stop, end) = (
            snap.stats_start.unwrap(),
            snap.drain_start.expect("drain recorded"),
            snap.stats_end.unwrap(),
        );
        let ran = stop - start;
        assert!((0.3..1.0).contains(&ran), "users ran {ran:.3} s");
        assert!(end - stop >= 0.8, "drain {:.3} s", end - stop);
        assert!(
            (snap.total.total_rps - 4.0 / ran).abs() < 1e-6,
            "{}",
            snap.total.total_rps
        );
        // Current percentiles leave the drain out: all four finished in it.
        assert_eq!(snap.total.current_percentile(0.95), None);
        let history = engine.history().await.unwrap();
        assert!(history.last().unwrap().drain, "{:?}", history.last());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_cancels_requests_past_the_stop_timeout() {
    let _serial = SERIAL.lock().await;
    within(30, async {
        let target = Target::start();
        let engine = engine_with_stop_timeout(Duration::from_millis(200));
        let url = format!("{}/delay?ms=3000", target.url());
        engine.start(url_params(&url, closed(4, 100.0))).unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let asked = Instant::now();
        let snap = engine.stop().await.unwrap();
        let took = asked.elapsed();
        assert!(
            took < Duration::from_millis(1500),
            "stop returned after {took:?}"
        );
        assert_eq!(
            snap.total.num_requests, 0,
            "cancelled requests are not counted"
        );
        assert_eq!(snap.state, RunState::Stopped);
        assert_eq!(engine.user_count(), 0);
        // The engine can run again after a stop.
        let url = format!("{}/ok", target.url());
        engine.start(url_params(&url, closed(2, 100.0))).unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let snap = engine.stop().await.unwrap();
        assert!(snap.total.num_requests > 0);
        assert_eq!(snap.run, 2);
    })
    .await;
}
