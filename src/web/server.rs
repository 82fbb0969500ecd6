//! `surge` without `--headless`: serve the dashboard (plain HTTP or TLS, behind the security
//! guard), optionally start the test at once, write the `--csv`/`--json` files whenever a
//! test stops, and on Ctrl-C stop the test, write the files and shut the server down.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::history_api::HistoryState;
use crate::store::capture;

use super::{api, app, tls, AppState, Defaults, Security};
use crate::cli::Settings;
use crate::engine::Engine;
use crate::headless::EXIT_INTERRUPTED;
use crate::report::{self, CsvFiles};
use crate::stats::{RunState, Snapshot};

/// Where and how to serve the dashboard.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub web_host: String,
    pub web_port: u16,
    /// Start the test as soon as the server listens.
    pub autostart: bool,
    /// Login, Host allow-list, allowed targets.
    pub security: Security,
    /// Serve HTTPS with this configuration (`--tls-cert`, `--tls-key`).
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl ServeOptions {
    /// Loopback, plain HTTP, no login: what tests and a local `surge` use.
    pub fn local(web_port: u16) -> ServeOptions {
        ServeOptions {
            web_host: "127.0.0.1".into(),
            web_port,
            autostart: false,
            security: Security::default(),
            tls: None,
        }
    }
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
    run_until(settings, defaults, opts, interrupt, std::future::pending()).await
}

/// [`run`], where `hurry` (a second Ctrl-C) resolving while the test stops gives up waiting
/// for in-flight requests: the files get everything recorded so far and the exit code is
/// [`EXIT_INTERRUPTED`].
///
/// Whenever a test stops (from the page, by run time, by its stages' end) the final
/// `--csv`/`--json` files are written at once, so a dashboard killed later loses nothing;
/// on exit they are written again only if a test ran since. The exit code is that of the
/// last test: `--exit-code-on-error` if any of its requests failed, else 0.
pub async fn run_until(
    settings: Settings,
    defaults: Defaults,
    opts: ServeOptions,
    interrupt: impl Future<Output = ()>,
    hurry: impl Future<Output = ()>,
) -> Result<i32, ServeError> {
    let config = settings.engine_config();
    let defaults = Defaults {
        tick: config.tick,
        ..defaults
    };
    let plan_text = defaults.plan.as_ref().and_then(|p| p.text.clone());
    let engine = Engine::new(config).map_err(ServeError::Engine)?;
    let history = history_state(&settings, plan_text).await?;
    let state = AppState::new(engine.clone(), defaults, true)
        .with_security(opts.security.clone())
        .with_history(history);
    for w in &settings.plan.warnings {
        state.logs.warning(format!("plan: {w}"));
    }
    let addr = format!("{}:{}", opts.web_host, opts.web_port);
    let listener = tokio::net::TcpListener::bind((opts.web_host.as_str(), opts.web_port))
        .await
        .map_err(|source| ServeError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let local = listener.local_addr()?;
    let scheme = if opts.tls.is_some() { "https" } else { "http" };
    println!("Surge dashboard: {scheme}://{local}");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let stopped = async {
        let _ = stop_rx.await;
    };
    let router = app(state.clone());
    let server = match opts.tls.clone() {
        Some(tls_config) => tokio::spawn(tls::serve(listener, router, tls_config, stopped)),
        None => tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(stopped)
                .await;
        }),
    };
    let recorder = Recorder::start(&engine, &settings, &state)?;
    if opts.autostart {
        api::start_from_defaults(&state).map_err(ServeError::Autostart)?;
    }
    interrupt.await;
    tokio::pin!(hurry);
    let mut hurried = false;
    let stopped_now = match engine.state() {
        RunState::Spawning | RunState::Running | RunState::Stopping => {
            println!("Stopping: letting in-flight requests finish (up to the stop timeout)...");
            state.history.interrupted.store(true, Ordering::Relaxed);
            tokio::select! {
                snap = engine.stop() => snap.ok(),
                _ = &mut hurry => {
                    hurried = true;
                    println!("Interrupted again: not waiting for in-flight requests.");
                    engine.snapshot_now().await.ok()
                }
            }
        }
        _ => None,
    };
    let last = recorder.finish(stopped_now).await?;
    // The stopped test is saved to the history by its recorder: wait for it (bounded) before
    // leaving, unless a second Ctrl-C asked to leave now (the test never finished stopping).
    if let (Some(saver), false) = (&state.recorder, hurried) {
        let snap = engine.snapshot();
        if snap.stats_start.is_some() {
            saver.wait_for(snap.run, Duration::from_secs(10)).await;
        }
    }
    let _ = stop_tx.send(());
    // Open event streams never end by themselves: give them a moment, then leave.
    let _ = tokio::time::timeout(Duration::from_secs(1), server).await;
    Ok(if hurried {
        EXIT_INTERRUPTED
    } else if last.is_some_and(|s| s.total.num_failures > 0) {
        settings.exit_code_on_error
    } else {
        0
    })
}

/// The `--csv`/`--json` files of a dashboard session: history rows appended while a test is
/// active (like a headless run), final files written as soon as a test stops.
struct Recorder {
    /// Ends the task; carries the final snapshot of a test stopped by the shutdown.
    finish: tokio::sync::oneshot::Sender<Option<Arc<Snapshot>>>,
    /// Hands back the snapshot last written as final.
    task: tokio::task::JoinHandle<std::io::Result<Option<Arc<Snapshot>>>>,
}

/// What a recorder writes to.
struct Files {
    csv: Option<CsvFiles>,
    json: Option<std::path::PathBuf>,
}

impl Files {
    /// The final files for `snap` (the history gets its last row first).
    fn write_final(&mut self, snap: &Snapshot) -> std::io::Result<()> {
        if let Some(csv) = self.csv.as_mut() {
            csv.history(snap)?;
            csv.finish(snap)?;
        }
        if let Some(path) = &self.json {
            report::write_json_file(path, snap)?;
        }
        Ok(())
    }
}

impl Recorder {
    /// Create the CSV files (header lines) now, so a path that cannot be written is reported
    /// at start, and follow the engine's snapshots.
    fn start(engine: &Engine, settings: &Settings, state: &AppState) -> std::io::Result<Recorder> {
        let csv = match &settings.csv {
            Some(prefix) => Some(CsvFiles::create(prefix, settings.csv_full_history)?),
            None => None,
        };
        let mut files = Files {
            csv,
            json: settings.json.clone(),
        };
        let writes = files.csv.is_some() || files.json.is_some();
        let (finish, mut finish_rx) = tokio::sync::oneshot::channel::<Option<Arc<Snapshot>>>();
        let mut snapshots = engine.subscribe();
        let engine = engine.clone();
        let logs = state.logs.clone();
        let task = tokio::spawn(async move {
            // The test (engine run number) whose final files were written last.
            let mut written_run = 0;
            let mut last: Option<Arc<Snapshot>> = None;
            let result = loop {
                tokio::select! {
                    changed = snapshots.changed() => {
                        if changed.is_err() {
                            break Ok(());
                        }
                        let snap = snapshots.borrow_and_update().clone();
                        let written = match snap.state {
                            RunState::Spawning | RunState::Running | RunState::Stopping => {
                                match files.csv.as_mut() {
                                    Some(csv) => csv.history(&snap),
                                    None => Ok(()),
                                }
                            }
                            RunState::Stopped if snap.run != written_run => {
                                written_run = snap.run;
                                last = Some(snap.clone());
                                let w = files.write_final(&snap);
                                if w.is_ok() && writes {
                                    logs.info("Test stopped: final statistics files written");
                                }
                                w
                            }
                            _ => Ok(()),
                        };
                        if let Err(e) = written {
                            break Err(e);
                        }
                    }
                    fin = &mut finish_rx => {
                        let latest = engine.snapshot();
                        let snap = match fin.ok().flatten() {
                            // The test the shutdown stopped.
                            Some(s) => Some(s),
                            // Stopped just now, not seen yet.
                            None if latest.run != written_run => Some(latest.clone()),
                            None => None,
                        };
                        let result = match snap {
                            Some(snap) => {
                                last = Some(snap.clone());
                                files.write_final(&snap)
                            }
                            // No test ever ran: the files still exist, with no requests.
                            None if written_run == 0 => files.write_final(&latest),
                            None => Ok(()),
                        };
                        break result;
                    }
                }
            };
            if let Err(e) = &result {
                logs.error(format!("cannot write the statistics files: {e}"));
            }
            result.map(|_| last)
        });
        Ok(Recorder { finish, task })
    }

    /// Stop following the engine and write the final files if a test ran since they were
    /// last written (`stopped_now`: the final snapshot of a test the shutdown stopped).
    /// Returns the snapshot of the last test.
    async fn finish(
        self,
        stopped_now: Option<Arc<Snapshot>>,
    ) -> Result<Option<Arc<Snapshot>>, ServeError> {
        let _ = self.finish.send(stopped_now);
        match self.task.await {
            Ok(result) => Ok(result?),
            Err(e) => Err(ServeError::Io(std::io::Error::other(e.to_string()))),
        }
    }
}
