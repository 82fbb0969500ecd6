//! Latency and rate figures through the whole engine, against a target with known timing:
//! a fixed 10 ms delay (a blocking-thread target: tokio's timer would add 1–2 ms) is reported with a median between 10 and 11 ms (min never below the
//! delay); the open model achieves its arrival rate within 2 %; and when the target stalls
//! for 1 s the open model's corrected latency shows the stall (coordinated omission is not
//! hidden) while the uncorrected figure is what one request really waited, and late starts
//! are counted. The tests in this file run one at a time (they measure time).

use std::time::{Duration, Instant};

use crate::support::*;
use surge::plan::LoadProfile;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_delay_median_is_the_delay() {
    let _serial = SERIAL.lock().await;
    within(30, async {
        let target = crate::support::precise::PreciseTarget::start();
        let engine = engine();
        let url = format!("{}/delay?ms=10", target.url());
        engine.start(url_params(&url, closed(4, 100.0))).unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        let snap = engine.stop().await.unwrap();

        let e = entry(&snap, "GET", "/delay?ms=10");
        let median = e.percentile(0.5).unwrap();
        let p99 = e.percentile(0.99).unwrap();
        let min = e.min_ms.unwrap();
        eprintln!(
            "fixed 10 ms delay: n={} min={min} median={median} p90={:?} p99={p99} max={:?} \
             (median at the target: {} ms)",
            e.num_requests,
            e.percentile(0.9),
            e.max_ms,
            target.median_ms()
        );
        assert_eq!(e.num_requests, target.count());
        assert_eq!(e.num_failures, 0);
        // 4 users × ~95 requests/s each for 5 s.
        assert!(e.num_requests > 1000, "{}", e.num_requests);
        assert!(min >= 10.0, "min {min} < 10 ms");
        assert!(
            (10.0..=11.0).contains(&median),
            "median {median} not in [10, 11]"
        );
        assert!(p99 < 30.0, "p99 {p99}");
        // Surge adds at most a transport's worth to what the target spent.
        let at_target = target.median_ms();
        assert!(
            median - at_target < 1.0,
            "median {median} vs {at_target} at the target"
        );
        assert_percentiles_sane(e);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_achieves_its_rate() {
    let _serial = SERIAL.lock().await;
    within(40, async {
        let target = Target::start();
        let engine = engine();
        let url = format!("{}/delay?ms=5", target.url());
        let load = LoadProfile::Open {
            rate: 200.0,
            max_users: 50,
        };
        let began = Instant::now();
        engine.start(url_params(&url, load)).unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
        let stop_called = began.elapsed();
        let snap = engine.stop().await.unwrap();

        let served = target.seen.hits("/delay");
        let om = snap.open_model.as_ref().expect("open model figures");
        let expected = 200.0 * stop_called.as_secs_f64();
        let achieved = served as f64 / stop_called.as_secs_f64();
        eprintln!(
            "open model: window={stop_called:?} served={served} scheduled={} late={} dropped={} \
             max_lag={}ms achieved={achieved:.1}/s",
            om.scheduled, om.late_starts, om.dropped_starts, om.max_start_lag_ms
        );
        assert_eq!(snap.total.num_requests, served, "Surge vs target");
        assert_eq!(snap.total.num_failures, 0);
        assert_eq!(om.target_rate, 200.0);
        assert_eq!(om.dropped_starts, 0);
        // Every scheduled start ran (50 users are plenty for 200/s × 5 ms).
        assert!(
            om.scheduled.abs_diff(served) <= 2,
            "scheduled {} vs served {served}",
            om.scheduled
        );
        let err = (served as f64 - expected).abs() / expected;
        assert!(err < 0.02, "served {served}, expected {expected:.0} (±2 %)");
        // Latency is the target's 5 ms, not more (nothing queued).
        let median = snap.total.percentile(0.5).unwrap();
        assert!((5.0..8.0).contains(&median), "median {median}");
        // A free user was there for every start, so no start waited for the target: each is
        // measured from its send, and the corrected figures are exactly the uncorrected ones
        // (the generator's own wake-up lateness is not charged to the target).
        assert_eq!(snap.total.percentiles, om.uncorrected_percentiles);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_shows_in_corrected_latency() {
    let _serial = SERIAL.lock().await;
    within(30, async {
        let target = Target::start();
        let engine = engine();
        let url = format!("{}/delay?ms=5", target.url());
        let load = LoadProfile::Open {
            rate: 100.0,
            max_users: 20,
        };
        engine.start(url_params(&url, load)).unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        target.seen.stall_for(Duration::from_secs(1));
        tokio::time::sleep(Duration::from_secs(2)).await;
        let snap = engine.stop().await.unwrap();

        let e = entry(&snap, "GET", "/delay?ms=5");
        let om = snap.open_model.as_ref().expect("open model figures");
        let uncorrected_max = om.uncorrected_percentiles.last().copied().flatten().unwrap();
        let uncorrected_p90 = om.uncorrected_percentiles[4].unwrap();
        let corrected_max = e.max_ms.unwrap();
        let corrected_p90 = e.percentile(0.9).unwrap();
        let waited = target.seen.max_delay().as_secs_f64() * 1000.0;
        eprintln!(
            "stall: n={} corrected p90={corrected_p90} p99={:?} max={corrected_max}; \
             uncorrected p90={uncorrected_p90} max={uncorrected_max}; longest wait at target={waited:.1}; \
             late={} max_lag={}",
            e.num_requests,
            e.percentile(0.99),
            om.late_starts,
            om.max_start_lag_ms
        );
        assert_eq!(e.num_requests, target.seen.hits("/delay"));
        // Corrected: measured from the intended start, the stall shows in full.
        assert!(corrected_max >= 900.0, "corrected max {corrected_max}");
        assert!(e.percentile(0.99).unwrap() >= 900.0 * 0.5);
        // Uncorrected: what one request waited at most, as the target saw it (+ transport).
        assert!(
            uncorrected_max >= waited && uncorrected_max <= waited + 50.0,
            "uncorrected max {uncorrected_max} vs longest wait at target {waited}"
        );
        assert!(uncorrected_max <= corrected_max);
        // Only the 20 in-flight requests saw the stall uncorrected; ~100 starts were late.
        assert!(
            corrected_p90 > 5.0 * uncorrected_p90,
            "corrected p90 {corrected_p90} vs uncorrected {uncorrected_p90}"
        );
        assert!(om.late_starts >= 50, "late starts {}", om.late_starts);
        assert!(om.max_start_lag_ms >= 700.0, "max start lag {}", om.max_start_lag_ms);
    })
    .await;
}
