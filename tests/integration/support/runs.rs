//! Stored runs built by hand, for comparisons with exact figures: the percentiles are saved
//! as given (no histograms), so a loaded run has exactly these numbers.

use surge::stats::{EntrySnapshot, RunState, Snapshot, PERCENTILES};
use surge::store::{RunParameters, RunRecord, RunSource};

/// An endpoint's figures: `n` requests, `fails` failures, `rps`, p50/p95/p99/max in ms.
pub fn figures(
    method: &str,
    name: &str,
    n: u64,
    fails: u64,
    rps: f64,
    p: [f64; 4],
) -> EntrySnapshot {
    let at = |q: f64| match q {
        q if q <= 0.5 => p[0],
        q if q <= 0.95 => p[1],
        q if q < 1.0 => p[2],
        _ => p[3],
    };
    EntrySnapshot {
        method: method.into(),
        name: name.into(),
        num_requests: n,
        num_failures: fails,
        avg_ms: Some(p[0]),
        min_ms: Some(1.0),
        max_ms: Some(p[3]),
        avg_size: 0.0,
        total_rps: rps,
        total_fail_per_sec: 0.0,
        current_rps: 0.0,
        current_fail_per_sec: 0.0,
        percentiles: PERCENTILES.iter().map(|&q| Some(at(q))).collect(),
        current_percentiles: vec![None; PERCENTILES.len()],
    }
}

/// A stored run of the shop plan: 60 s against http://shop.test with `users` users.
pub fn stored_run(label: &str, users: u32, start: f64, entries: Vec<EntrySnapshot>) -> RunRecord {
    let mut entries = entries;
    let total = entries.pop().expect("the Aggregated row last");
    RunRecord {
        id: 0,
        label: label.into(),
        source: RunSource::Headless,
        interrupted: false,
        plan_text: Some("[[scenarios]]\nname = \"shop\"\n".into()),
        params: RunParameters {
            users,
            spawn_rate: Some(10.0),
            rate: None,
            run_time_s: Some(60.0),
            plan_path: Some("shop.toml".into()),
            description: format!("{users} users, 10 started/s"),
        },
        snapshot: Snapshot {
            seq: 60,
            time: start + 60.0,
            state: RunState::Stopped,
            user_count: users,
            run: 1,
            host: "http://shop.test".into(),
            stats_start: Some(start),
            stats_end: Some(start + 60.0),
            drain_start: Some(start + 60.0),
            entries,
            total,
            failures: vec![],
            exceptions: vec![],
            open_model: None,
            warnings: vec![],
            generator: Default::default(),
            first_failure: None,
            last_second: None,
            threshold_crossings: Vec::new(),
            server: None,
            marks: Vec::new(),
        },
        histograms: vec![],
        history: vec![],
        thresholds: vec![],
        surge_version: "test".into(),
        limit: None,
    }
}
