//! Statistics hot paths: recording one sample in a worker, merging a worker's delta, and
//! building the snapshot the dashboard and reports read (with 500 endpoints).
//!
//! `cargo bench --bench stats`

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use surge::stats::{Aggregator, Limits, RunInfo, RunState, WorkerStats};

fn info() -> RunInfo {
    RunInfo {
        state: RunState::Running,
        user_count: 50,
        run: 1,
        host: "http://127.0.0.1:8080".into(),
        target_rate: None,
    }
}

/// A worker delta with `names` endpoints and `per_name` samples each, latencies 1–50 ms.
fn delta(names: usize, per_name: u64) -> WorkerStats {
    let mut w = WorkerStats::default();
    for n in 0..names {
        let name = format!("/api/endpoint/{n}");
        for i in 0..per_name {
            w.record(
                "GET",
                &name,
                1_000 + (i * 7919 + n as u64 * 104_729) % 49_000,
                512,
                None,
                0.0,
            );
        }
    }
    w
}

/// The next pseudo-random latency (µs, below 60 s) after `us`: a linear congruential step,
/// so recording does not hit the same histogram bucket every time.
fn next_latency(us: u64) -> u64 {
    us.wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        % 60_000_000
}

fn record(c: &mut Criterion) {
    let mut w = WorkerStats::default();
    // warm: the entry exists, as it does for every request after the first
    w.record("GET", "/api/orders", 1_000, 100, None, 0.0);
    let mut us = 1_000u64;
    c.bench_function("record one sample (existing entry)", |b| {
        b.iter(|| {
            us = next_latency(us);
            w.record(
                black_box("GET"),
                black_box("/api/orders"),
                us,
                100,
                None,
                0.0,
            );
        })
    });
}

/// The worker's real pattern: requests spread over 100 names, the delta handed over (and a
/// fresh one started) every 20 000 requests, as a 200 ms flush at 100 000 req/s does.
fn record_many_names(c: &mut Criterion) {
    let names: Vec<String> = (0..100).map(|n| format!("/api/endpoint/{n}")).collect();
    let mut w = WorkerStats::default();
    let mut i = 0usize;
    let mut us = 1_000u64;
    c.bench_function("record one sample (100 names, flushed every 20 000)", |b| {
        b.iter(|| {
            us = next_latency(us);
            i += 1;
            w.record("GET", &names[i % 100], us, 100, None, 0.0);
            if i.is_multiple_of(20_000) {
                black_box(w.take());
            }
        })
    });
}

/// The same through the slots that steps with a fixed name record into (the engine's path
/// for plan steps whose name does not depend on rendering).
fn record_many_slots(c: &mut Criterion) {
    let names: Vec<Arc<str>> = (0..100)
        .map(|n| Arc::from(format!("/api/endpoint/{n}")))
        .collect();
    let mut w = WorkerStats::default();
    let mut i = 0usize;
    let mut us = 1_000u64;
    c.bench_function(
        "record one sample (100 step slots, flushed every 20 000)",
        |b| {
            b.iter(|| {
                us = next_latency(us);
                i += 1;
                let slot = i % 100;
                w.record_step(Some(slot), "GET", &names[slot], us, 100, None, 0.0);
                if i.is_multiple_of(20_000) {
                    black_box(w.take());
                }
            })
        },
    );
}

fn merge(c: &mut Criterion) {
    c.bench_function("merge a 500-endpoint worker delta", |b| {
        b.iter_batched(
            || (Aggregator::new(Limits::default()), delta(500, 20)),
            |(mut agg, d)| agg.merge(d, 1000.5),
            BatchSize::LargeInput,
        )
    });
}

fn snapshot(c: &mut Criterion) {
    let mut agg = Aggregator::new(Limits::default());
    agg.start(1000.0);
    for s in 0..12 {
        agg.merge(delta(500, 20), 1000.0 + s as f64);
    }
    let mut now = 1012.0;
    // Every endpoint gets requests between two snapshots (no entry's percentiles can be
    // reused), one second apart as on the dashboard: the merge is not timed, the build is.
    c.bench_function("build a snapshot with 500 endpoints", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                now += 1.0;
                agg.merge(delta(500, 2), now);
                let started = Instant::now();
                black_box(agg.snapshot(now, &info()));
                spent += started.elapsed();
            }
            spent
        })
    });
    let snap = agg.snapshot(now, &info());
    let json = serde_json::to_string(&snap).expect("serialise");
    println!("snapshot with 500 endpoints: {} bytes of JSON", json.len());
}

criterion_group!(
    benches,
    record,
    record_many_names,
    record_many_slots,
    merge,
    snapshot
);
criterion_main!(benches);
