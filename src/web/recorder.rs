//! The dashboard's recorder task: it follows the engine's published snapshots (so it never
//! slows the load) and gives every test started from the dashboard the one lifecycle: a
//! history CSV row per snapshot while the test is active, `--abort-on-threshold`, and when
//! the test stops, the lifecycle's finish (final `--csv`/`--json` files, thresholds, the
//! saved run).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, watch};

use super::limit_api::LimitBoard;
use super::{AppState, LogBuffer};
use crate::engine::Engine;
use crate::lifecycle::{self, Ending, RunFiles, Saved, Session};
use crate::stats::{RunState, Snapshot};
use crate::store::{RunParameters, RunSource};

/// Handle to the recorder: which run number was last finished, and the way to end it.
#[derive(Clone)]
pub struct Recorder {
    handled: watch::Receiver<u32>,
    end: Arc<Mutex<Option<End>>>,
}

/// What ending the recorder takes: the channel that tells it, and the task.
struct End {
    tell: oneshot::Sender<Option<Arc<Snapshot>>>,
    task: tokio::task::JoinHandle<std::io::Result<Option<Arc<Snapshot>>>>,
}

impl Recorder {
    /// Start the task for `state`'s engine, writing `files`.
    pub fn start(state: &AppState, files: RunFiles) -> Recorder {
        let (tx, handled) = watch::channel(0);
        let (tell, told) = oneshot::channel();
        let task = tokio::spawn(record(
            state.engine.clone(),
            state.history.clone(),
            state.logs.clone(),
            state.limit.clone(),
            files,
            tx,
            told,
        ));
        Recorder {
            handled,
            end: Arc::new(Mutex::new(Some(End { tell, task }))),
        }
    }

    /// Wait until run `run` has been finished (at most `limit`).
    pub async fn wait_for(&self, run: u32, limit: Duration) {
        let mut rx = self.handled.clone();
        let _ = tokio::time::timeout(limit, rx.wait_for(|r| *r >= run)).await;
    }

    /// Stop following the engine and finish the last test if that was not done yet
    /// (`stopped_now`: the final snapshot of a test the shutdown stopped). With no test
    /// ever run, the files are still written (with no requests). Returns the snapshot of
    /// the last test.
    pub async fn finish(
        &self,
        stopped_now: Option<Arc<Snapshot>>,
    ) -> std::io::Result<Option<Arc<Snapshot>>> {
        let end = self.end.lock().ok().and_then(|mut e| e.take());
        let Some(End { tell, task }) = end else {
            return Ok(None);
        };
        let _ = tell.send(stopped_now);
        match task.await {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(e.to_string())),
        }
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

/// The task: one lifecycle per test until told to end.
async fn record(
    engine: Engine,
    session: Arc<Session>,
    logs: Arc<LogBuffer>,
    searches: Arc<LimitBoard>,
    mut files: RunFiles,
    handled: watch::Sender<u32>,
    mut told: oneshot::Receiver<Option<Arc<Snapshot>>>,
) -> std::io::Result<Option<Arc<Snapshot>>> {
    let mut snapshots = engine.subscribe();
    let mut aborted_run = 0;
    let mut last: Option<Arc<Snapshot>> = None;
    // A file that cannot be written is told at once and returned at the end; the tests
    // after it are still saved.
    let mut failed: Option<std::io::Error> = None;
    let mut note = |written: std::io::Result<()>| {
        if let Err(e) = written {
            logs.error(format!("cannot write the statistics files: {e}"));
            failed.get_or_insert(e);
        }
    };
    loop {
        tokio::select! {
            changed = snapshots.changed() => {
                if changed.is_err() {
                    break;
                }
                let snap = snapshots.borrow_and_update().clone();
                match snap.state {
                    RunState::Spawning | RunState::Running | RunState::Stopping => {
                        if snap.run != aborted_run && snap.state != RunState::Stopping {
                            if let Some(r) = session.should_abort(&snap) {
                                aborted_run = snap.run;
                                logs.warning(format!(
                                    "Threshold failed: {} ({}); stopping the test (--abort-on-threshold)",
                                    r.threshold, r.message
                                ));
                                let engine = engine.clone();
                                tokio::spawn(async move { engine.stop().await });
                            }
                        }
                        session.watch(&snap);
                        note(files.row(&snap));
                    }
                    RunState::Stopped if snap.run > *handled.borrow() => {
                        last = Some(snap.clone());
                        // A search's test is saved by the search, as one run of kind `limit`.
                        let done = if searches.owns(snap.run) {
                            files.write_final(&snap)
                        } else {
                            end_test(&engine, &session, &logs, &mut files, snap.clone()).await
                        };
                        note(done);
                        handled.send_replace(snap.run);
                    }
                    _ => {}
                }
            }
            fin = &mut told => {
                let latest = engine.snapshot();
                // The test the shutdown stopped, or one stopped just now and not seen yet.
                let snap = fin.ok().flatten().unwrap_or_else(|| latest.clone());
                if snap.run > *handled.borrow() {
                    last = Some(snap.clone());
                    note(end_test(&engine, &session, &logs, &mut files, snap.clone()).await);
                    handled.send_replace(snap.run);
                } else if *handled.borrow() == 0 {
                    // No test ever ran: the files still exist, with no requests.
                    note(files.write_final(&latest));
                }
                break;
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(last),
    }
}

/// One stopped test through the lifecycle's finish, told in the Logs tab. Tests that never
/// started their statistics are not saved, but their files are written.
async fn end_test(
    engine: &Engine,
    session: &Session,
    logs: &LogBuffer,
    files: &mut RunFiles,
    snap: Arc<Snapshot>,
) -> std::io::Result<()> {
    if snap.stats_start.is_none() {
        return files.write_final(&snap);
    }
    let end = Ending {
        params: parameters(&snap),
        snapshot: snap,
        source: RunSource::Dashboard,
        interrupted: session.interrupted.load(Ordering::Relaxed),
        html: None,
    };
    let writes = files.any();
    match lifecycle::finish(engine, session, files, end).await {
        Ok(finished) => {
            if writes {
                logs.info("Test stopped: final statistics files written");
            }
            match finished.saved {
                Saved::As(id) => logs.info(format!("Run saved to the history as #{id}")),
                Saved::Failed(e) => {
                    logs.error(format!("The run could not be saved to the history: {e}"))
                }
                Saved::NotKept => {}
            }
            Ok(())
        }
        Err(lifecycle::LifecycleError::Io(e)) => Err(e),
        Err(e) => {
            logs.error(format!("cannot finish the test: {e}"));
            Ok(())
        }
    }
}
