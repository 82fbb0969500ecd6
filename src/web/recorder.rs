//! The dashboard's recorder task: every test started from the dashboard is saved to the run
//! history when it stops (each start → stop), and `--abort-on-threshold` stops a test whose
//! threshold failed. It reads published snapshots only, so it never slows the load; saving
//! runs on a blocking thread.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::history_api::HistoryState;
use super::{AppState, LogBuffer};
use crate::engine::Engine;
use crate::stats::{RunState, Snapshot};
use crate::store::capture::{self, RunMeta};
use crate::store::{RunParameters, RunSource};

/// Handle to the recorder: which run number was last handled (saved or given up on).
#[derive(Clone)]
pub struct Recorder {
    handled: watch::Receiver<u32>,
}

impl Recorder {
    /// Start the task for `state`'s engine.
    pub fn start(state: &AppState) -> Recorder {
        let (tx, handled) = watch::channel(0);
        tokio::spawn(record(
            state.engine.clone(),
            state.history.clone(),
            state.logs.clone(),
            tx,
        ));
        Recorder { handled }
    }

    /// Wait until run `run` has been handled (at most `limit`).
    pub async fn wait_for(&self, run: u32, limit: Duration) {
        let mut rx = self.handled.clone();
        let _ = tokio::time::timeout(limit, rx.wait_for(|r| *r >= run)).await;
    }
}

async fn record(
    engine: Engine,
    history: Arc<HistoryState>,
    logs: Arc<LogBuffer>,
    handled: watch::Sender<u32>,
) {
    let mut snapshots = engine.subscribe();
    let mut aborted_run = 0;
    while snapshots.changed().await.is_ok() {
        let snap = snapshots.borrow_and_update().clone();
        match snap.state {
            RunState::Spawning | RunState::Running
                if snap.run != aborted_run && should_abort(&history, &snap, &logs) =>
            {
                aborted_run = snap.run;
                let engine = engine.clone();
                tokio::spawn(async move { engine.stop().await });
            }
            RunState::Stopped if snap.run > *handled.borrow() && snap.stats_start.is_some() => {
                save(&engine, &history, &logs, snap.clone()).await;
                handled.send_replace(snap.run);
            }
            _ => {}
        }
    }
}

fn should_abort(history: &HistoryState, snap: &Snapshot, logs: &LogBuffer) -> bool {
    let Some(rule) = history.abort else {
        return false;
    };
    let results = history.evaluate(snap, false);
    match rule.should_abort(snap, &results) {
        Some(r) => {
            logs.warning(format!(
                "Threshold failed: {} ({}); stopping the test (--abort-on-threshold)",
                r.threshold, r.message
            ));
            true
        }
        None => false,
    }
}

/// The parameters a dashboard run is saved with: the users and rate it ran at.
pub fn parameters(snap: &Snapshot) -> RunParameters {
    RunParameters {
        users: snap.user_count,
        rate: snap.open_model.as_ref().map(|o| o.target_rate),
        description: "started from the dashboard".into(),
        ..RunParameters::default()
    }
}

async fn save(engine: &Engine, history: &HistoryState, logs: &LogBuffer, snap: Arc<Snapshot>) {
    let Some(store) = history.store.clone() else {
        return;
    };
    let params = parameters(&snap);
    let meta = RunMeta {
        label: history.label.clone(),
        source: RunSource::Dashboard,
        plan_text: history.plan_text.clone(),
        params,
        thresholds: history.evaluate(&snap, true),
        interrupted: history.interrupted.load(Ordering::Relaxed),
    };
    let record = capture::capture(engine, snap, meta).await;
    match capture::save(store, record).await {
        Ok(id) => logs.info(format!("Run saved to the history as #{id}")),
        Err(e) => logs.error(format!("The run could not be saved to the history: {e}")),
    }
}
