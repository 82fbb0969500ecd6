//! The JSON summary of a run (`--json`): a stable, documented shape for scripts and CI.
//!
//! ```text
//! {
//!   "surge_version": "0.1.0",          // version of Surge that wrote it
//!   "state": "stopped",                // ready | spawning | running | stopping | stopped
//!   "run": 1,                          // run number (increases with each new test)
//!   "host": "http://127.0.0.1:8080",
//!   "started_at": "2026-11-22T21:49:53.123Z" | null,   // stats start (test start or reset)
//!   "time": "2026-11-22T21:50:53.123Z",                // when these figures were taken
//!   "ended_at": "2026-11-22T21:50:53.123Z" | null,     // when the test had stopped (null while running)
//!   "duration_s": 60.0,                // seconds the users ran: started_at to the stop
//!                                      // (drain_started_at), or to time while running;
//!                                      // whole-run rates (total_rps, ...) are over it
//!   "drain_started_at": "2026-11-22T21:50:53.123Z" | null, // when the users were told to stop
//!   "drain_s": 0.4,                    // drain_started_at to ended_at: in-flight requests
//!                                      // finishing (counted, but not in current figures)
//!   "user_count": 50,
//!   "stats": [ ENTRY, ... ],           // per (method, name), sorted by name then method
//!   "total": ENTRY,                    // Aggregated (method "", name "Aggregated")
//!   "failures": [ { "method", "name", "message", "occurrences",
//!                   "first_seen", "last_seen" (ISO-8601 UTC) } ],
//!   "exceptions": [ { "message", "origin", "count" } ],
//!   "open_model": null | { "target_rate", "scheduled", "late_starts", "dropped_starts",
//!                          "max_start_lag_ms",
//!                          "uncorrected_percentiles": PERCENTILES },
//!   "warnings": [ "..." ],
//!   "server_metrics": [ SOURCE, ... ]   // the target's /metrics (--metrics, [[metrics]])
//! }
//! SOURCE = { "source": "api", "url": "http://.../metrics", "every_s": 5.0,
//!            "scrapes", "failed_scrapes", "last_scrape": Unix s | null, "warnings": [..],
//!            "views": [ { "id": "cpu", "title", "unit", "lines": [ { "label", "points" } ] } ],
//!            "series": [ { "name", "labels": { .. }, "kind", "points" } ] }
//!   kind: counter (points are per-second rates) | gauge | untyped | histogram (p95 over
//!   each scrape interval) | summary; points = [ { "time": Unix s, "value" } ]
//! ENTRY = { "method", "name", "num_requests", "num_failures", "fail_ratio",
//!           "avg_ms", "min_ms", "max_ms",          // null when no requests
//!           "avg_size",                            // bytes
//!           "total_rps", "total_fail_per_sec",     // whole run
//!           "current_rps", "current_fail_per_sec", // last 10 s window
//!           "percentiles": PERCENTILES }           // whole run
//! PERCENTILES = { "50": ms|null, "66", "75", "80", "90", "95", "98", "99", "99.9", "99.99",
//!                 "100" }
//! ```
//! Times are milliseconds (floats, microsecond precision); rates are per second. Non-finite
//! numbers become `null`. Keys are only ever added, never renamed or removed.

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::format::iso_utc;
use crate::stats::{EntrySnapshot, Snapshot, PERCENTILE_LABELS};

/// A float as JSON: `null` for NaN and infinities.
fn number(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

fn opt_number(v: Option<f64>) -> Value {
    v.map_or(Value::Null, number)
}

/// Percentiles keyed by Locust's label without `%` (`"99.9"`).
fn percentiles(values: &[Option<f64>]) -> Value {
    let map: Map<String, Value> = PERCENTILE_LABELS
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let key = label.trim_end_matches('%').to_string();
            (key, opt_number(values.get(i).copied().flatten()))
        })
        .collect();
    Value::Object(map)
}

fn entry(e: &EntrySnapshot) -> Value {
    json!({
        "method": e.method,
        "name": e.name,
        "num_requests": e.num_requests,
        "num_failures": e.num_failures,
        "fail_ratio": number(e.fail_ratio()),
        "avg_ms": opt_number(e.avg_ms),
        "min_ms": opt_number(e.min_ms),
        "max_ms": opt_number(e.max_ms),
        "avg_size": number(e.avg_size),
        "total_rps": number(e.total_rps),
        "total_fail_per_sec": number(e.total_fail_per_sec),
        "current_rps": number(e.current_rps),
        "current_fail_per_sec": number(e.current_fail_per_sec),
        "percentiles": percentiles(&e.percentiles),
    })
}

/// The documented JSON summary of a snapshot (see the module docs for the shape).
pub fn to_json(snap: &Snapshot) -> Value {
    let end = snap.drain_start.or(snap.stats_end).unwrap_or(snap.time);
    let duration = snap.stats_start.map_or(0.0, |start| (end - start).max(0.0));
    let drain = snap
        .drain_start
        .map_or(0.0, |d| (snap.stats_end.unwrap_or(snap.time) - d).max(0.0));
    let failures: Vec<Value> = snap
        .failures
        .iter()
        .map(|f| {
            json!({
                "method": f.method,
                "name": f.name,
                "message": f.message,
                "occurrences": f.occurrences,
                "first_seen": iso_utc(f.first_seen),
                "last_seen": iso_utc(f.last_seen),
            })
        })
        .collect();
    let exceptions: Vec<Value> = snap
        .exceptions
        .iter()
        .map(|x| json!({ "message": x.message, "origin": x.origin, "count": x.count }))
        .collect();
    let open_model = snap.open_model.as_ref().map_or(Value::Null, |om| {
        json!({
            "target_rate": number(om.target_rate),
            "scheduled": om.scheduled,
            "late_starts": om.late_starts,
            "dropped_starts": om.dropped_starts,
            "max_start_lag_ms": number(om.max_start_lag_ms),
            "uncorrected_percentiles": percentiles(&om.uncorrected_percentiles),
        })
    });
    let time = iso_utc(snap.time);
    json!({
        "surge_version": env!("CARGO_PKG_VERSION"),
        "state": snap.state.as_str(),
        "run": snap.run,
        "host": snap.host,
        "started_at": snap.stats_start.map(iso_utc),
        "time": time,
        "ended_at": snap.stats_end.map(iso_utc),
        "duration_s": number(duration),
        "drain_started_at": snap.drain_start.map(iso_utc),
        "drain_s": number(drain),
        "user_count": snap.user_count,
        "stats": snap.entries.iter().map(entry).collect::<Vec<_>>(),
        "total": entry(&snap.total),
        "failures": failures,
        "exceptions": exceptions,
        "open_model": open_model,
        "warnings": snap.warnings,
        "server_metrics": snap.server_metrics(),
        "generator": snap.generator,
        "threshold_crossings": snap.threshold_crossings.iter().map(|c| {
            let mut v = json!(c);
            v["offset_s"] = json!(c.time - snap.stats_start.unwrap_or(c.time));
            v
        }).collect::<Vec<_>>(),
        "first_failure": snap.first_failure.as_ref().map(|f| {
            let mut v = json!(f);
            v["offset_s"] = json!(f.time - snap.stats_start.unwrap_or(f.time));
            v
        }),
    })
}

/// Write the JSON summary, pretty-printed, followed by a newline.
pub fn write_json<W: Write>(mut w: W, snap: &Snapshot) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut w, &to_json(snap))?;
    writeln!(w)?;
    w.flush()
}

/// Write the JSON summary to the file at `path` (`--json`); errors name the file.
pub fn write_json_file(path: &std::path::Path, snap: &Snapshot) -> io::Result<()> {
    let file = std::fs::File::create(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    write_json(io::BufWriter::new(file), snap)
}
