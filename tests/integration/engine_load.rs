//! Load shape through the engine: users start at the spawn rate (state `spawning` then
//! `running`), live user changes take effect, stages are followed and end the test by
//! themselves, a run time stops the test with a final snapshot counting every request, and
//! a reset clears the statistics while the run goes on.

use std::time::{Duration, Instant};

use crate::support::*;
use surge::stats::RunState;

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// Poll until `f` holds (or `limit` passes); returns whether it held.
async fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        sleep_ms(20).await;
    }
    f()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_start_at_the_spawn_rate_then_change_live() {
    let _serial = SERIAL.lock().await;
    within(30, async {
        let target = Target::start();
        let engine = engine();
        let url = format!("{}/delay?ms=20", target.url());
        engine.start(url_params(&url, closed(20, 10.0))).unwrap();
        let began = Instant::now();
        assert_eq!(engine.state(), RunState::Spawning);
        sleep_ms(1000).await;
        let at_1s = engine.user_count();
        assert!((7..=13).contains(&at_1s), "users after 1 s: {at_1s}");
        assert_eq!(engine.state(), RunState::Spawning);
        assert!(
            eventually(Duration::from_secs(3), || engine.user_count() == 20).await,
            "never reached 20 users"
        );
        assert!(
            began.elapsed() < Duration::from_millis(2200),
            "{:?}",
            began.elapsed()
        );
        assert!(
            eventually(Duration::from_millis(500), || engine.state()
                == RunState::Running)
            .await
        );
        let snap = engine.snapshot_now().await.unwrap();
        assert_eq!(snap.user_count, 20);

        engine.set_users(5, 100.0).unwrap();
        assert!(
            eventually(Duration::from_secs(2), || engine.user_count() == 5).await,
            "user count stuck at {}",
            engine.user_count()
        );
        engine.set_users(15, 100.0).unwrap();
        assert!(
            eventually(Duration::from_secs(2), || engine.user_count() == 15).await,
            "user count stuck at {}",
            engine.user_count()
        );
        assert!(
            eventually(Duration::from_millis(500), || engine.state()
                == RunState::Running)
            .await
        );
        let snap = engine.stop().await.unwrap();
        assert_eq!(snap.state, RunState::Stopped);
        assert_eq!(engine.user_count(), 0);
        assert_eq!(snap.total.num_requests, target.seen.hits("/delay"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_are_followed_and_end_the_test() {
    let _serial = SERIAL.lock().await;
    within(30, async {
        let target = Target::start();
        let dir = tempfile::tempdir().unwrap();
        let plan = parse_plan(
            r#"
[load]
stages = [
  { duration = "2s", users = 4, spawn_rate = 20 },
  { duration = "2s", users = 8, spawn_rate = 20 },
  { duration = "2s", users = 0, spawn_rate = 20 },
]

[[scenarios]]
name = "s"
[[scenarios.tasks]]
path = "/delay?ms=20"
"#,
            dir.path(),
        );
        let load = plan.load.clone().expect("plan load");
        let engine = engine();
        engine
            .start(plan_params(plan, &target.url(), load))
            .unwrap();
        sleep_ms(1200).await;
        assert_eq!(engine.user_count(), 4);
        sleep_ms(2000).await; // 3.2 s
        assert_eq!(engine.user_count(), 8);
        sleep_ms(2000).await; // 5.2 s
        assert_eq!(engine.user_count(), 0);
        assert_ne!(
            engine.state(),
            RunState::Stopped,
            "stopped before the last stage ended"
        );
        tokio::time::timeout(Duration::from_secs(3), engine.wait_stopped())
            .await
            .expect("the test did not stop at the end of the stages");
        assert_eq!(engine.state(), RunState::Stopped);
        let snap = engine.snapshot_now().await.unwrap();
        assert_eq!(snap.state, RunState::Stopped);
        assert_eq!(snap.total.num_requests, target.seen.hits("/delay"));
        assert!(snap.total.num_requests > 100);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_time_stops_the_test_with_a_complete_snapshot() {
    let _serial = SERIAL.lock().await;
    within(30, async {
        let target = Target::start();
        let engine = engine();
        let url = format!("{}/delay?ms=50", target.url());
        let mut params = url_params(&url, closed(5, 100.0));
        params.run_time = Some(Duration::from_secs(2));
        let began = Instant::now();
        engine.start(params).unwrap();
        tokio::time::timeout(Duration::from_secs(5), engine.wait_stopped())
            .await
            .expect("run time did not stop the test");
        let took = began.elapsed();
        assert!(took >= Duration::from_secs(2), "{took:?}");
        assert!(took < Duration::from_millis(3000), "{took:?}");
        assert_eq!(engine.state(), RunState::Stopped);
        let published = engine.snapshot();
        let snap = engine.snapshot_now().await.unwrap();
        assert_eq!(snap.state, RunState::Stopped);
        assert_eq!(snap.user_count, 0);
        assert_eq!(snap.total.num_requests, target.seen.hits("/delay"));
        // The snapshot published at the stop already counts everything.
        assert_eq!(published.state, RunState::Stopped);
        assert_eq!(published.total.num_requests, snap.total.num_requests);
        // 5 users × at most 20 requests/s (50 ms each) × 2 s, and the 5 in flight at the
        // stop, which finish in the drain and count.
        assert!(
            (120..=205).contains(&snap.total.num_requests),
            "{}",
            snap.total.num_requests
        );
        // A stop after the end changes nothing.
        let again = engine.stop().await.unwrap();
        assert_eq!(again.total.num_requests, snap.total.num_requests);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_clears_statistics_and_the_run_goes_on() {
    let _serial = SERIAL.lock().await;
    within(30, async {
        let target = Target::start();
        let engine = engine();
        let url = format!("{}/status/503", target.url());
        engine.start(url_params(&url, closed(4, 100.0))).unwrap();
        sleep_ms(1000).await;
        let before = engine.snapshot_now().await.unwrap();
        assert!(before.total.num_requests > 50);
        assert_eq!(before.failures.len(), 1);

        engine.reset().unwrap();
        let at_reset = target.seen.hits("/status/503");
        // `reset` is a command: wait until a snapshot shows it took effect.
        let mut just_after = engine.snapshot_now().await.unwrap();
        let end = Instant::now() + Duration::from_secs(2);
        while just_after.stats_start == before.stats_start && Instant::now() < end {
            sleep_ms(5).await;
            just_after = engine.snapshot_now().await.unwrap();
        }
        // Only what completed between the reset and this snapshot (a few ms of load).
        assert!(
            just_after.total.num_requests < before.total.num_requests / 4,
            "after reset: {} (before: {})",
            just_after.total.num_requests,
            before.total.num_requests
        );
        assert!(just_after.stats_start.unwrap() > before.stats_start.unwrap());

        sleep_ms(1000).await;
        assert!(engine.state() == RunState::Running);
        assert_eq!(engine.user_count(), 4);
        let snap = engine.stop().await.unwrap();
        let after_reset = target.seen.hits("/status/503") - at_reset;
        assert!(snap.total.num_requests > 50, "the run did not go on");
        // Counted since the reset: at most what the target served since just before it plus
        // the requests in flight at the reset (one per user); nothing recorded before the
        // reset leaks in (unflushed worker buffers hold up to 200 ms of load, hundreds here).
        let counted = snap.total.num_requests;
        assert!(counted <= after_reset + 4, "{counted} vs {after_reset}");
        assert!(
            counted as f64 >= after_reset as f64 * 0.95,
            "{counted} vs {after_reset}"
        );
        assert_eq!(snap.failures.len(), 1);
        assert_eq!(snap.failures[0].occurrences, snap.total.num_failures);
        assert_eq!(snap.total.num_failures, snap.total.num_requests);
    })
    .await;
}
