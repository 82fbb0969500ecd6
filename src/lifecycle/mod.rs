//! One test's life, for every front end: the headless runner and the dashboard (and the
//! breaking-point search and the distributed controller after them) call this module and
//! none repeats it.
//!
//! - `session`: the history, the baseline, the thresholds and the label, opened once
//!   ([`Session`]), and a test's [`Judgement`] against them.
//! - `files`: the `--csv`/`--json` files, a history row per snapshot and the final files as
//!   soon as a test stops ([`RunFiles`]).
//! - `finish`: stopping a test (with or without waiting for in-flight requests), then the
//!   final files, the judgement, the HTML report and the saved run ([`finish()`]).
//!
//! It stands between the front ends and the layers below: it uses `engine`, `stats`,
//! `report`, `store`, `compare` and `thresholds`; nothing below imports it.

pub mod files;
pub mod finish;
pub mod session;

pub use files::RunFiles;
pub use finish::{exit_code, finish, stop, Ending, Finished, Saved, Stopped};
pub use session::{Judgement, Session};

use crate::config::Settings;
use crate::engine::{Engine, EngineError, RunParams};

/// Exit code for bad usage or an invalid plan.
pub const EXIT_USAGE: i32 = 2;

/// Exit code after a second interrupt (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

pub use crate::thresholds::EXIT_THRESHOLD;

/// Why a test could not start or finish its files.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("{0}")]
    Engine(#[from] EngineError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// `--baseline` names a run that cannot be loaded.
    #[error("{0}")]
    Baseline(#[from] crate::store::HistoryError),
}

/// Start the test `settings` describe on `engine`.
pub fn start(engine: &Engine, settings: &Settings) -> Result<(), EngineError> {
    engine.start(RunParams {
        plan: settings.plan.clone(),
        host: settings.host.clone(),
        load: settings.load.clone(),
        run_time: settings.run_time,
        client: settings.client.clone(),
        metrics: settings.metrics_for(&settings.plan),
    })
}
