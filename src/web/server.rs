//! `surge` without `--headless`: serve the dashboard, optionally start the test at once,
//! and on Ctrl-C stop the test (writing `--csv`/`--json` files) and shut the server down.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::history_api::HistoryState;
use crate::store::capture;

use super::{api, app, AppState, Defaults};
use crate::cli::Settings;
use crate::engine::Engine;
use crate::report::{self, CsvFiles};
use crate::stats::RunState;

/// Where and how to serve the dashboard.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub web_host: String,
    pub web_port: u16,
    /// Start the test as soon as the server listens.
    pub autostart: bool,
}

/// Why the dashboard could not run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source} (choose another --web-port or --web-host)")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot start the engine: {0}")]
    Engine(std::io::Error),
    #[error("--autostart: {0}")]
    Autostart(super::ApiError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Baseline(String),
}

/// The history and thresholds of the dashboard: the store (or why there is none), the
/// baseline and the label for its runs.
async fn history_state(
    settings: &Settings,
    plan_text: Option<String>,
) -> Result<HistoryState, ServeError> {
    let (store, store_error) = match capture::open_for_run(settings.data_dir.clone()).await {
        Ok(s) => (s, None),
        Err(why) => {
            eprintln!("surge: warning: {why}");
            (None, Some(why))
        }
    };
    let baseline = match &settings.baseline {
        Some(spec) => Some(Arc::new(
            capture::load_baseline(store.clone(), spec)
                .await
                .map_err(ServeError::Baseline)?,
        )),
        None => None,
    };
    Ok(HistoryState {
        store,
        store_error,
        thresholds: settings.thresholds.clone(),
        abort: settings.abort,
        baseline,
        label: settings.label.clone(),
        plan_text,
        ..HistoryState::default()
    })
}

/// Serve the dashboard until `interrupt` resolves; returns the exit code.
pub async fn run(
    settings: Settings,
    defaults: Defaults,
    opts: ServeOptions,
    interrupt: impl Future<Output = ()>,
) -> Result<i32, ServeError> {
    let config = settings.engine_config();
    let defaults = Defaults {
        tick: config.tick,
        ..defaults
    };
    let plan_text = defaults.plan.as_ref().and_then(|p| p.text.clone());
    let engine = Engine::new(config).map_err(ServeError::Engine)?;
    let history = history_state(&settings, plan_text).await?;
    let state = AppState::new(engine.clone(), defaults, true).with_history(history);
    let addr = format!("{}:{}", opts.web_host, opts.web_port);
    let listener = tokio::net::TcpListener::bind((opts.web_host.as_str(), opts.web_port))
        .await
        .map_err(|source| ServeError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let local = listener.local_addr()?;
    println!("Surge dashboard: http://{local}");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let router = app(state.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await
    });
    let csv = match &settings.csv {
        Some(prefix) => Some(history_writer(
            &engine,
            CsvFiles::create(prefix, settings.csv_full_history)?,
        )),
        None => None,
    };
    if opts.autostart {
        api::start_from_defaults(&state).map_err(ServeError::Autostart)?;
    }
    interrupt.await;
    let snapshot = match engine.state() {
        RunState::Spawning | RunState::Running | RunState::Stopping => {
            println!("Stopping: letting in-flight requests finish (up to the stop timeout)...");
            state.history.interrupted.store(true, Ordering::Relaxed);
            engine.stop().await.ok()
        }
        _ => None,
    }
    .unwrap_or_else(|| engine.snapshot());
    // The stopped test is saved by the recorder; wait for it (bounded) before leaving.
    if let Some(recorder) = &state.recorder {
        if snapshot.stats_start.is_some() {
            recorder
                .wait_for(snapshot.run, Duration::from_secs(10))
                .await;
        }
    }
    if let Some((stop, task)) = csv {
        let _ = stop.send(());
        if let Ok(files) = task.await {
            let mut files = files?;
            files.history(&snapshot)?;
            files.finish(&snapshot)?;
        }
    }
    if let Some(path) = &settings.json {
        report::write_json_file(path, &snapshot)?;
    }
    let _ = stop_tx.send(());
    // Open event streams never end by themselves: give them a moment, then leave.
    let _ = tokio::time::timeout(Duration::from_secs(1), server).await;
    Ok(0)
}

/// The task appending `--csv` history rows while a test is active (like a headless run);
/// sending on the returned channel ends it and hands the files back.
fn history_writer(
    engine: &Engine,
    mut files: CsvFiles,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<CsvFiles>>,
) {
    let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
    let mut snapshots = engine.subscribe();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                changed = snapshots.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let snap = snapshots.borrow_and_update().clone();
                    if matches!(snap.state, RunState::Spawning | RunState::Running | RunState::Stopping) {
                        files.history(&snap)?;
                    }
                }
                _ = &mut rx => break,
            }
        }
        Ok(files)
    });
    (tx, task)
}
