//! The SSE hub: the one task that reads the engine's snapshots and prepares everything the
//! browsers receive, so the cost of the dashboard does not grow with the number of browsers.
//!
//! Per tick it serialises the snapshot once into a shared `Arc<str>` frame, appends the
//! history point (bounded, with its `seq`) and the history CSV rows (bounded by bytes), writes
//! log lines for state changes and new warnings, and fans the frame out over a
//! `tokio::sync::broadcast` channel. Streams (see `sse`) read frames; a stream that lags is
//! skipped forward and never holds anything back.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::broadcast;
use tokio_stream::wrappers::WatchStream;
use tokio_stream::StreamExt;

use super::logs::LogBuffer;
use super::thinning;
use crate::engine::Engine;
use crate::report::HistoryCsv;
use crate::stats::{HistoryPoint, RunState, Snapshot};

/// History points kept: 24 h at one per second.
pub use crate::stats::HISTORY_POINTS as MAX_POINTS;
/// Bytes of history CSV rows kept (the oldest rows go first).
pub const MAX_CSV_BYTES: usize = 16 << 20;
/// Frames buffered per stream before a slow browser is skipped forward.
const CHANNEL: usize = 64;

/// One tick as sent to every stream: `{"snapshot": ..., "point": ...}`, serialised once.
#[derive(Debug, Clone)]
pub struct Frame {
    pub seq: u64,
    pub json: Arc<str>,
}

/// A history point and the number of the last log line written before it (for resume).
struct Kept {
    point: HistoryPoint,
    log_mark: u64,
}

struct Inner {
    snapshot: Arc<Snapshot>,
    snapshot_json: Arc<str>,
    history: VecDeque<Kept>,
    /// History CSV rows, each with the run it belongs to.
    csv_rows: VecDeque<(u32, Vec<u8>)>,
    csv_bytes: usize,
    last_state: RunState,
    /// The current run's warnings already logged (a test's warnings come from the
    /// aggregator and from its metrics scrapers, in no fixed order).
    warnings_seen: (u32, std::collections::HashSet<String>),
}

/// The `state` event for one stream, and where that stream then continues.
pub struct StateEvent {
    pub seq: u64,
    pub log_mark: u64,
    pub json: String,
}

/// Shared by every handler through `AppState`.
pub struct Hub {
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Frame>,
    logs: Arc<LogBuffer>,
}

impl Hub {
    /// Create the hub and spawn its task on the current runtime.
    pub fn start(engine: &Engine, logs: Arc<LogBuffer>) -> Arc<Hub> {
        let first = engine.snapshot();
        let (tx, _) = broadcast::channel(CHANNEL);
        let hub = Arc::new(Hub {
            inner: Mutex::new(Inner {
                snapshot_json: to_json(&*first).into(),
                last_state: first.state,
                snapshot: first,
                history: VecDeque::new(),
                csv_rows: VecDeque::new(),
                csv_bytes: 0,
                warnings_seen: (0, std::collections::HashSet::new()),
            }),
            tx,
            logs,
        });
        // The current snapshot, then each one published, until the engine is gone.
        let mut snapshots = WatchStream::new(engine.subscribe());
        let task_hub = hub.clone();
        tokio::spawn(async move {
            while let Some(snap) = snapshots.next().await {
                task_hub.ingest(snap);
            }
        });
        hub
    }

    /// Take in one published snapshot.
    pub fn ingest(&self, snap: Arc<Snapshot>) {
        let point = HistoryPoint::of(&snap);
        let snapshot_json: Arc<str> = to_json(&*snap).into();
        let frame = Frame {
            seq: snap.seq,
            json: format!(
                r#"{{"snapshot":{snapshot_json},"point":{}}}"#,
                to_json(&point)
            )
            .into(),
        };
        let csv = if matches!(
            snap.state,
            RunState::Spawning | RunState::Running | RunState::Stopping
        ) {
            let mut buf = Vec::new();
            let mut w = HistoryCsv::new(&mut buf);
            let ok = w.append(&snap, true).and_then(|_| w.flush()).is_ok();
            drop(w);
            ok.then_some(buf)
        } else {
            None
        };
        let (previous, new_warnings) = {
            let Ok(mut inner) = self.inner.lock() else {
                return;
            };
            if inner.snapshot.seq >= snap.seq && !inner.history.is_empty() {
                return;
            }
            let previous = inner.last_state;
            inner.last_state = snap.state;
            if inner.warnings_seen.0 != snap.run {
                inner.warnings_seen = (snap.run, std::collections::HashSet::new());
            }
            // Only a warning not seen yet is copied (every tick carries them all).
            let mut new_warnings: Vec<String> = Vec::new();
            for w in &snap.warnings {
                if !inner.warnings_seen.1.contains(w) {
                    inner.warnings_seen.1.insert(w.clone());
                    new_warnings.push(w.clone());
                }
            }
            if inner.history.len() >= MAX_POINTS {
                inner.history.pop_front();
            }
            inner.history.push_back(Kept {
                point,
                log_mark: self.logs.last_n(),
            });
            if let Some(row) = csv {
                inner.csv_bytes += row.len();
                inner.csv_rows.push_back((snap.run, row));
                while inner.csv_bytes > MAX_CSV_BYTES {
                    match inner.csv_rows.pop_front() {
                        Some((_, old)) => inner.csv_bytes -= old.len(),
                        None => break,
                    }
                }
            }
            inner.snapshot = snap.clone();
            inner.snapshot_json = snapshot_json;
            // Sent under the lock: a stream that read the state sees every later frame.
            let _ = self.tx.send(frame);
            (previous, new_warnings)
        };
        self.log_changes(previous, &snap, new_warnings);
    }

    fn log_changes(&self, previous: RunState, snap: &Snapshot, warnings: Vec<String>) {
        match (previous, snap.state) {
            (p, RunState::Running) if p != RunState::Running => {
                self.logs
                    .info(format!("All users spawned: {}", snap.user_count));
            }
            (p, RunState::Stopped) if p != RunState::Stopped => {
                self.logs.info(format!(
                    "Test stopped: {} requests, {} failures",
                    snap.total.num_requests, snap.total.num_failures
                ));
            }
            _ => {}
        }
        for w in warnings {
            self.logs.warning(w);
        }
    }

    /// Frames from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Frame> {
        self.tx.subscribe()
    }

    /// The latest snapshot the hub has seen.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.inner.lock().ok().map(|i| i.snapshot.clone())
    }

    /// The history kept of the current (or last) run, oldest first: what its live report
    /// charts.
    pub fn run_history(&self) -> Vec<HistoryPoint> {
        self.inner
            .lock()
            .map(|i| {
                let run = i.snapshot.run;
                i.history
                    .iter()
                    .filter(|k| k.point.run == run)
                    .map(|k| k.point.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The full history CSV of the current (or last) run: the header, then every entry and
    /// Aggregated per tick.
    pub fn history_csv(&self) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut w = HistoryCsv::new(&mut out);
            let _ = w.write_header().and_then(|_| w.flush());
        }
        if let Ok(inner) = self.inner.lock() {
            let run = inner.snapshot.run;
            for (_, row) in inner.csv_rows.iter().filter(|(r, _)| *r == run) {
                out.extend_from_slice(row);
            }
        }
        out
    }

    /// The `state` event: everything (`after = None`, or an id this hub never issued), or
    /// only what came after snapshot `after` (`resumed: true`).
    pub fn state_event(&self, after: Option<u64>) -> StateEvent {
        let (seq, run, snapshot_json, points, resume_mark) = {
            let Ok(inner) = self.inner.lock() else {
                return StateEvent {
                    seq: 0,
                    log_mark: 0,
                    json: "{}".into(),
                };
            };
            let seq = inner.snapshot.seq;
            let run = inner.snapshot.run;
            let after = after.filter(|a| *a <= seq);
            let points: Vec<HistoryPoint> = inner
                .history
                .iter()
                .filter(|k| after.is_none_or(|a| k.point.seq > a))
                .map(|k| k.point.clone())
                .collect();
            let resume_mark = after.map(|a| {
                inner
                    .history
                    .iter()
                    .rev()
                    .find(|k| k.point.seq <= a)
                    .map_or(0, |k| k.log_mark)
            });
            (seq, run, inner.snapshot_json.clone(), points, resume_mark)
        };
        let logs = self.logs.lines_after(resume_mark.unwrap_or(0));
        let log_mark = logs.last().map_or(resume_mark.unwrap_or(0), |l| l.n);
        // A new browser gets the current run in full and what came before thinned; a resumed
        // stream gets every point it missed.
        let history = match resume_mark {
            None => to_json(&thinning::initial(&points, run)),
            Some(_) => to_json(&points),
        };
        let json = format!(
            r#"{{"snapshot":{snapshot_json},"history":{},"logs":{},"resumed":{}}}"#,
            history,
            to_json(&logs),
            resume_mark.is_some()
        );
        StateEvent {
            seq,
            log_mark,
            json,
        }
    }
}

fn to_json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineConfig;

    /// An engine that publishes nothing by itself: the tests feed the hub.
    fn quiet_engine() -> Engine {
        Engine::new(EngineConfig {
            workers: 1,
            tick: std::time::Duration::from_secs(3600),
            ..EngineConfig::default()
        })
        .unwrap()
    }

    #[tokio::test]
    async fn warnings_become_log_lines_once_and_history_is_kept() {
        let engine = quiet_engine();
        let logs = Arc::new(LogBuffer::new(false));
        let hub = Hub::start(&engine, logs.clone());
        let base = engine.snapshot();
        for i in 1..=3u64 {
            let mut s = (*base).clone();
            s.seq = 100 + i;
            s.warnings = vec!["too many names".into()];
            hub.ingest(Arc::new(s));
        }
        let lines = logs.lines();
        let warnings: Vec<_> = lines
            .iter()
            .filter(|l| l.level == super::super::Level::Warning)
            .collect();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].message, "too many names");
        let seqs: Vec<u64> = hub.run_history().iter().map(|p| p.seq).collect();
        assert_eq!(&seqs[seqs.len() - 3..], &[101, 102, 103]);
        let resumed = hub.state_event(Some(102));
        assert_eq!(resumed.seq, 103);
        assert!(resumed.json.contains("\"resumed\":true"));
        assert!(!resumed.json.contains("\"seq\":102,\"run\""));
        // An older snapshot arriving late is ignored.
        let mut old = (*base).clone();
        old.seq = 50;
        hub.ingest(Arc::new(old));
        assert_eq!(hub.snapshot().map(|s| s.seq), Some(103));
    }

    /// The live report's history and the full-history CSV are the current run's, not every
    /// run since the server started; a new browser still gets the earlier runs.
    #[tokio::test]
    async fn report_history_and_csv_hold_the_current_run() {
        let engine = quiet_engine();
        let hub = Hub::start(&engine, Arc::new(LogBuffer::new(false)));
        let base = engine.snapshot();
        for (seq, run) in [(10, 1), (11, 1), (12, 2), (13, 2), (14, 2)] {
            let mut s = (*base).clone();
            s.seq = seq;
            s.run = run;
            s.time = 1_796_238_000.0 + seq as f64;
            s.state = RunState::Running;
            s.host = format!("http://run{run}");
            hub.ingest(Arc::new(s));
        }
        let seqs: Vec<u64> = hub.run_history().iter().map(|p| p.seq).collect();
        assert_eq!(seqs, [12, 13, 14]);
        let csv = String::from_utf8(hub.history_csv()).unwrap();
        let times: Vec<&str> = csv
            .lines()
            .skip(1)
            .map(|r| r.split(',').next().unwrap())
            .collect();
        assert_eq!(times, ["1796238012", "1796238013", "1796238014"], "{csv}");
        let first = hub.state_event(None);
        assert!(
            first.json.contains("\"seq\":10,\"run\":1"),
            "{}",
            first.json
        );
    }
}
