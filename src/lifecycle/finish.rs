//! The end of a test, the same for every front end: stop it (letting in-flight requests
//! finish, or not once the user insists), then write the final files, judge it (thresholds,
//! comparison with the baseline), write the HTML report and save it to the history.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use crate::engine::{Engine, EngineError};
use crate::report::html::{self, BaselineInput, ReportInput};
use crate::stats::Snapshot;
use crate::store::{self, RunMeta, RunParameters, RunSource, StoreError};

use super::{Judgement, LifecycleError, RunFiles, Session};

/// A stopped test's final snapshot, and whether the stop was cut short.
pub struct Stopped {
    pub snapshot: Arc<Snapshot>,
    /// `hurry` came first: in-flight requests were not waited for (what the workers had
    /// recorded is in the snapshot all the same).
    pub hurried: bool,
}

/// Stop the engine's test: in-flight requests finish up to the stop timeout, unless `hurry`
/// (a second interrupt) resolves first; then `on_hurry` is told, and the snapshot is taken
/// at once, with every worker's last figures flushed into it.
pub async fn stop(
    engine: &Engine,
    hurry: impl Future<Output = ()>,
    on_hurry: impl FnOnce(),
) -> Result<Stopped, EngineError> {
    tokio::pin!(hurry);
    tokio::select! {
        snap = engine.stop() => Ok(Stopped { snapshot: snap?, hurried: false }),
        _ = &mut hurry => {
            on_hurry();
            Ok(Stopped { snapshot: engine.snapshot_flushed().await?, hurried: true })
        }
    }
}

/// What the front end knows of a stopped test that the engine does not.
pub struct Ending {
    pub snapshot: Arc<Snapshot>,
    /// The parameters the run is saved with.
    pub params: RunParameters,
    pub source: RunSource,
    pub interrupted: bool,
    /// `--html FILE`.
    pub html: Option<PathBuf>,
}

/// Whether (and as what) a run was saved.
#[derive(Debug)]
pub enum Saved {
    /// Runs are not kept (no data directory, or the database could not be opened).
    NotKept,
    /// Saved with this id.
    As(i64),
    /// The database refused it.
    Failed(StoreError),
}

/// A finished test: its final snapshot, judgement and record in the history.
pub struct Finished {
    pub snapshot: Arc<Snapshot>,
    pub judgement: Judgement,
    pub saved: Saved,
}

/// Finish the test `end` describes: the final `--csv`/`--json` files, the judgement, the
/// `--html` report and the saved run. A file that cannot be written is reported after the
/// run is saved, so that nothing measured is lost.
pub async fn finish(
    engine: &Engine,
    session: &Session,
    files: &mut RunFiles,
    end: Ending,
) -> Result<Finished, LifecycleError> {
    // The thresholds' first crossings, found second by second, go with the final figures.
    let mut with = (*end.snapshot).clone();
    with.threshold_crossings = session.crossings(with.run);
    let snapshot = Arc::new(with);
    let written = files.write_final(&snapshot);
    let judgement = session.judge(&snapshot, &end.params, true);
    let meta = RunMeta {
        label: session.label.clone(),
        source: end.source,
        plan_text: session.plan_text.clone(),
        params: end.params,
        thresholds: judgement.thresholds.clone(),
        interrupted: end.interrupted,
    };
    let entries = engine.entry_stats().await.unwrap_or_default();
    let history = engine.history().await.unwrap_or_default();
    let record = store::blocking::record(snapshot.clone(), entries, history, meta);
    let report = match &end.html {
        Some(path) => html::write_file(
            path,
            &ReportInput {
                snapshot: &snapshot,
                history: &record.history,
                label: &session.label,
                thresholds: &judgement.thresholds,
                baseline: session
                    .baseline
                    .as_deref()
                    .zip(judgement.comparison.as_ref())
                    .map(|(run, comparison)| BaselineInput {
                        run,
                        comparison,
                        differences: &judgement.differences,
                    }),
            },
        ),
        None => Ok(()),
    };
    let saved = match session.store.clone() {
        Some(store) => match store::save(store, record).await {
            Ok(id) => Saved::As(id),
            Err(e) => Saved::Failed(e),
        },
        None => Saved::NotKept,
    };
    written?;
    report?;
    Ok(Finished {
        snapshot,
        judgement,
        saved,
    })
}

/// The exit code of a finished test: 130 after a hurried stop, 3 when a threshold failed,
/// `on_error` (`--exit-code-on-error`) when any request failed, else 0.
pub fn exit_code(finished: &Finished, hurried: bool, on_error: i32) -> i32 {
    if hurried {
        super::EXIT_INTERRUPTED
    } else if crate::thresholds::any_failed(&finished.judgement.thresholds) {
        crate::thresholds::EXIT_THRESHOLD
    } else if finished.snapshot.total.num_failures > 0 {
        on_error
    } else {
        0
    }
}
