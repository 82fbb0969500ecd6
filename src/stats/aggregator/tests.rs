//! The aggregator's unit tests: exact merges, caps and overflow rows, rates over the running
//! time, the drain, history points, resets.

use super::*;
use crate::stats::delta::WorkerStats;

fn info() -> RunInfo {
    RunInfo {
        state: RunState::Running,
        user_count: 3,
        run: 1,
        host: "http://x".into(),
        target_rate: None,
    }
}

#[test]
fn percentiles_follow_new_requests_and_are_reused_without() {
    let mut agg = Aggregator::new(Limits::default());
    agg.start(100.0);
    let mut w = WorkerStats::default();
    w.record("GET", "/a", 1_000, 0, None, 100.5);
    agg.merge(w, 100.5);
    let first = agg.snapshot(101.0, &info());
    assert_eq!(first.entries[0].percentile(1.0), Some(1.0));
    let again = agg.snapshot(101.5, &info());
    assert_eq!(again.entries[0].percentiles, first.entries[0].percentiles);
    let mut w = WorkerStats::default();
    w.record("GET", "/a", 9_000, 0, None, 101.7);
    agg.merge(w, 101.7);
    let after = agg.snapshot(102.0, &info());
    assert_eq!(after.entries[0].percentile(1.0), Some(9.0));
    assert_eq!(after.entries[0].percentile(0.5), Some(1.0));
}

#[test]
fn merges_workers_exactly_and_sorts_entries() {
    let mut agg = Aggregator::new(Limits::default());
    agg.start(100.0);
    let mut w1 = WorkerStats::default();
    let mut w2 = WorkerStats::default();
    for i in 0..100u64 {
        w1.record("GET", "/b", 1000 + i, 5, None, 100.5);
        w2.record(
            "GET",
            "/a",
            2000 + i,
            5,
            (i % 4 == 0).then_some("boom 1234567"),
            100.5,
        );
    }
    agg.merge(w1, 100.5);
    agg.merge(w2, 100.6);
    let s = agg.snapshot(110.0, &info());
    assert_eq!(
        s.entries
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>(),
        ["/a", "/b"]
    );
    assert_eq!(s.total.num_requests, 200);
    assert_eq!(s.total.num_failures, 25);
    assert_eq!(s.total.max_ms, Some(2.099));
    assert_eq!(s.total.min_ms, Some(1.0));
    assert_eq!(s.failures.len(), 1);
    assert_eq!(s.failures[0].message, "boom <n>");
    assert_eq!(s.failures[0].occurrences, 25);
    assert!((s.total.total_rps - 20.0).abs() < 1e-9);
    assert_eq!(agg.history().len(), 1);
}

#[test]
fn caps_names_and_failure_groups_with_overflow_rows() {
    let limits = Limits {
        max_names: 10,
        max_failure_groups: 5,
        ..Limits::default()
    };
    let mut agg = Aggregator::new(limits);
    agg.start(0.0);
    let mut w = WorkerStats::default();
    for i in 0..50 {
        w.record(
            "GET",
            &format!("/item/{i}"),
            10,
            0,
            Some(&format!("bad item {i}")),
            1.0,
        );
    }
    agg.merge(w, 1.0);
    let s = agg.snapshot(2.0, &info());
    assert_eq!(s.entries.len(), 11);
    let other = s.entries.iter().find(|e| e.name == OVERFLOW_NAME).unwrap();
    assert_eq!(other.num_requests, 40);
    assert_eq!(s.total.num_requests, 50);
    assert_eq!(s.failures.len(), 6);
    assert_eq!(s.failures.iter().map(|f| f.occurrences).sum::<u64>(), 50);
    assert_eq!(s.warnings.len(), 2);
}

/// Past the cap, the names seen first keep their rows, whatever the hash order of the
/// worker's map (seeded per process): the rows a user sees do not change run to run.
#[test]
fn names_past_the_cap_go_to_the_overflow_in_the_order_first_seen() {
    let mut w = WorkerStats::default();
    let cap = Limits::default().max_names;
    for i in 0..cap + 500 {
        w.record("GET", &format!("/item/{i:05}"), 10, 0, None, 1.0);
    }
    // Through serde too, as a delta from another process arrives.
    let json = serde_json::to_string(&w).unwrap();
    let copy: WorkerStats = serde_json::from_str(&json).unwrap();
    for delta in [w, copy] {
        let mut agg = Aggregator::new(Limits::default());
        agg.start(0.0);
        agg.merge(delta, 1.0);
        let s = agg.snapshot(2.0, &info());
        let own: Vec<String> = s
            .entries
            .iter()
            .filter(|e| e.name != OVERFLOW_NAME)
            .map(|e| e.name.clone())
            .collect();
        let first: Vec<String> = (0..cap).map(|i| format!("/item/{i:05}")).collect();
        assert_eq!(own, first);
        let other = s.entries.iter().find(|e| e.name == OVERFLOW_NAME).unwrap();
        assert_eq!(other.num_requests, 500);
    }
}

#[test]
fn failure_groups_go_to_the_earliest_messages() {
    let mut agg = Aggregator::new(Limits {
        max_failure_groups: 10,
        ..Limits::default()
    });
    agg.start(0.0);
    let mut w = WorkerStats::default();
    // Recorded latest first; only the ten seen first get their own group.
    for i in (0..100).rev() {
        let message = format!("error {}", "x".repeat(i));
        w.record("GET", "/", 10, 0, Some(&message), 1.0 + i as f64 / 1000.0);
    }
    agg.merge(w, 1.0);
    let s = agg.snapshot(2.0, &info());
    let mut grouped: Vec<_> = s
        .failures
        .iter()
        .filter(|f| f.message != OVERFLOW_FAILURE)
        .map(|f| f.message.len())
        .collect();
    grouped.sort();
    assert_eq!(grouped, (6..16).collect::<Vec<_>>());
}

/// A 30 s run whose stop waits 7 s for slow in-flight requests: rates are over the 30 s
/// users ran, current figures leave the drain out, and the drain's points are marked.
#[test]
fn rates_cover_the_running_time_and_the_drain_is_marked() {
    let mut agg = Aggregator::new(Limits::default());
    agg.start(100.0);
    for sec in 100..130 {
        let mut w = WorkerStats::default();
        for i in 0..12 {
            w.record("GET", "/", 100_000 + i * 1000, 0, None, sec as f64 + 0.5);
        }
        agg.merge(w, sec as f64 + 0.5);
        agg.snapshot(sec as f64 + 1.0, &info());
    }
    agg.stopping(130.0);
    let stopping = RunInfo {
        state: RunState::Stopping,
        ..info()
    };
    // During the drain only a few slow requests finish.
    for sec in 130..137 {
        let mut w = WorkerStats::default();
        w.record("GET", "/", 6_000_000, 0, None, sec as f64 + 0.5);
        agg.merge(w, sec as f64 + 0.5);
        agg.snapshot(sec as f64 + 1.0, &stopping);
    }
    let stopped = RunInfo {
        state: RunState::Stopped,
        ..info()
    };
    let s = agg.snapshot(137.5, &stopped);
    assert_eq!(s.total.num_requests, 30 * 12 + 7);
    // 367 requests over the 30 s users ran (not 367 / 37 = 9.9).
    assert!(
        (s.total.total_rps - 367.0 / 30.0).abs() < 1e-9,
        "{}",
        s.total.total_rps
    );
    assert_eq!((s.drain_start, s.stats_end), (Some(130.0), Some(137.5)));
    // The current rate is what finished in the last 10 s (3 s of 12 and 7 of 1 a second);
    // current percentiles leave the drain out: p100 111 ms, not 6 s.
    assert!(
        (s.total.current_rps - 4.3).abs() < 1e-9,
        "{}",
        s.total.current_rps
    );
    assert_eq!(s.total.current_percentile(1.0), Some(111.0));
    // The whole-run maximum still counts the drain's slow requests.
    assert_eq!(s.total.max_ms, Some(6000.0));
    let history = agg.history();
    let drained: Vec<u64> = history.iter().filter(|p| p.drain).map(|p| p.time).collect();
    // Seven ticks while stopping, and the final snapshot when it had stopped.
    assert_eq!(drained, [131, 132, 133, 134, 135, 136, 137, 137]);
    assert!(history
        .iter()
        .filter(|p| !p.drain)
        .all(|p| p.current_p95_ms < Some(200.0)));
    // Once stopped, later (idle) points are not the drain.
    agg.snapshot(150.0, &stopped);
    assert!(!agg.history().back().unwrap().drain);
    // A new test starts without a drain.
    agg.reset(140.0);
    let fresh = agg.snapshot(141.0, &info());
    assert_eq!(fresh.drain_start, None);
}

#[test]
fn whole_run_rates_freeze_when_the_test_stops() {
    let mut agg = Aggregator::new(Limits::default());
    agg.start(100.0);
    let mut w = WorkerStats::default();
    for _ in 0..80 {
        w.record("GET", "/", 10, 0, None, 104.0);
    }
    agg.merge(w, 104.0);
    let running = agg.snapshot(104.0, &info());
    assert_eq!(running.total.total_rps, 20.0);
    assert_eq!(running.stats_end, None);
    let stopped = RunInfo {
        state: RunState::Stopped,
        ..info()
    };
    let at_stop = agg.snapshot(108.0, &stopped);
    let later = agg.snapshot(130.0, &stopped);
    assert_eq!(at_stop.total.total_rps, 10.0);
    assert_eq!(later.total.total_rps, 10.0);
    assert_eq!(later.stats_end, Some(108.0));
    // A new test (or a reset) starts the clock again.
    agg.reset(140.0);
    assert_eq!(agg.snapshot(141.0, &info()).stats_end, None);
}

#[test]
fn uncorrected_p100_is_the_exact_max() {
    let mut agg = Aggregator::new(Limits::default());
    agg.start(0.0);
    let mut w = WorkerStats::default();
    for us in [5_000u64, 984_468, 12_345] {
        w.record_start(0);
        w.open.uncorrected.record(us, 0, false);
    }
    agg.merge(w, 1.0);
    let info = RunInfo {
        target_rate: Some(100.0),
        ..info()
    };
    let om = agg.snapshot(2.0, &info).open_model.unwrap();
    // The histogram bucket of 984.468 ms ends above it; the reported max must not.
    assert_eq!(
        om.uncorrected_percentiles.last().copied().flatten(),
        Some(984.468)
    );
    assert_eq!(om.scheduled, 3);
}

#[test]
fn idle_entries_record_no_history_points() {
    let mut agg = Aggregator::new(Limits::default());
    agg.start(100.0);
    let mut w = WorkerStats::default();
    w.record("GET", "/once", 10, 0, None, 100.5);
    agg.merge(w, 100.5);
    for t in 101..=130 {
        agg.snapshot(t as f64, &info());
    }
    let h = agg.entry_history("GET", "/once").unwrap();
    // busy while second 100 is in the 10 s window (101..=110), then one zero point.
    assert_eq!(h.len(), 11, "{h:?}");
    assert_eq!(h.back().unwrap().rps, 0.0);
    assert_eq!(agg.history().len(), 30);
}

#[test]
fn reset_clears_figures_but_keeps_chart_history() {
    let mut agg = Aggregator::new(Limits::default());
    agg.start(0.0);
    let mut w = WorkerStats::default();
    w.record("GET", "/", 10, 0, None, 1.0);
    agg.merge(w, 1.0);
    agg.snapshot(2.0, &info());
    agg.reset(3.0);
    let s = agg.snapshot(4.0, &info());
    assert_eq!(s.total.num_requests, 0);
    assert!(s.entries.is_empty());
    assert_eq!(agg.history().len(), 2);
    assert_eq!(s.stats_start, Some(3.0));
}

/// What distributed mode rests on: statistics recorded by several workers, shipped as JSON
/// and merged, give exactly (bit for bit) the figures of one process that recorded the same
/// requests: counts, min, max, average and every percentile, whole-run and per endpoint,
/// with latencies from microseconds to minutes (the histograms' dense form).
#[test]
fn workers_merged_through_json_equal_one_process_bit_for_bit() {
    let mut rng = fastrand::Rng::with_seed(22);
    let names = ["/a", "/b", "/c"];
    let mut workers: Vec<WorkerStats> = (0..3).map(|_| WorkerStats::default()).collect();
    let mut single = WorkerStats::default();
    for i in 0..30_000u64 {
        // Mostly milliseconds, a tail to a minute.
        let us = match rng.u32(0..100) {
            0..=89 => rng.u64(200..20_000),
            90..=98 => rng.u64(20_000..2_000_000),
            _ => rng.u64(2_000_000..60_000_000),
        };
        let name = names[rng.usize(0..names.len())];
        let failed = i % 97 == 0;
        let error = failed.then_some("500 Internal Server Error");
        workers[rng.usize(0..3)].record("GET", name, us, 100, error, 1.0);
        single.record("GET", name, us, 100, error, 1.0);
    }
    let mut merged = Aggregator::new(Limits::default());
    merged.start(0.0);
    for w in workers {
        let wire = serde_json::to_string(&w).unwrap();
        merged.merge(serde_json::from_str(&wire).unwrap(), 1.0);
    }
    let mut one = Aggregator::new(Limits::default());
    one.start(0.0);
    one.merge(single, 1.0);
    let (a, b) = (merged.snapshot(2.0, &info()), one.snapshot(2.0, &info()));
    let bits = |e: &crate::stats::EntrySnapshot| {
        let mut v: Vec<Option<u64>> = e.percentiles.iter().map(|p| p.map(f64::to_bits)).collect();
        v.extend([e.avg_ms, e.min_ms, e.max_ms].map(|x| x.map(f64::to_bits)));
        (
            e.method.clone(),
            e.name.clone(),
            e.num_requests,
            e.num_failures,
            v,
        )
    };
    assert_eq!(a.entries.len(), 3);
    assert_eq!(
        a.entries.iter().map(bits).collect::<Vec<_>>(),
        b.entries.iter().map(bits).collect::<Vec<_>>()
    );
    assert_eq!(bits(&a.total), bits(&b.total));
    assert_eq!(a.total.num_requests, 30_000);
    assert_eq!(a.failures, b.failures);
}
