//! A whole run without the dashboard: start the engine, print the table every 2 s, append
//! the history CSV every second, and on the end (run time, stages' end or Ctrl-C) hand the
//! test to the lifecycle's finish and print the summary. Whatever ends the run, the files
//! are complete.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crate::config::Settings;
use crate::engine::Engine;
use crate::lifecycle::{self, Ending, RunFiles, Saved, Session};
use crate::report;
use crate::stats::{RunState, Snapshot};
use crate::store::RunSource;
use crate::thresholds::ThresholdResult;

pub use crate::lifecycle::{LifecycleError as HeadlessError, EXIT_INTERRUPTED, EXIT_USAGE};

/// How the run ended.
#[derive(Debug)]
pub struct Outcome {
    pub exit_code: i32,
    pub snapshot: Arc<Snapshot>,
    pub thresholds: Vec<ThresholdResult>,
    /// The run's id in the history, when it was saved.
    pub saved_as: Option<i64>,
}

/// Run the test described by `settings`, printing to `out`; returns once the files are
/// written. `interrupt` resolves when the user asks to stop (Ctrl-C).
pub async fn run<W: Write>(
    settings: Settings,
    out: &mut W,
    interrupt: impl std::future::Future<Output = ()>,
) -> Result<Outcome, HeadlessError> {
    run_until(settings, out, interrupt, std::future::pending()).await
}

/// [`run`], where `hurry` (a second Ctrl-C) resolving while in-flight requests finish stops
/// waiting for them: the files get everything recorded so far (the workers' last figures)
/// and the exit code is 130.
pub async fn run_until<W: Write>(
    settings: Settings,
    out: &mut W,
    interrupt: impl std::future::Future<Output = ()>,
    hurry: impl std::future::Future<Output = ()>,
) -> Result<Outcome, HeadlessError> {
    for w in &settings.plan.warnings {
        eprintln!("surge: warning: {w}");
    }
    let mut files = RunFiles::create(&settings)?;
    let session = Session::open(&settings, settings.plan.text.clone()).await?;
    if let Some(why) = &session.store_error {
        eprintln!("surge: warning: {why}");
    }
    let engine = Engine::new(settings.engine_config())?;
    let _metrics = match settings.metrics_listen {
        Some(addr) => Some(serve_metrics(addr, &engine, out).await?),
        None => None,
    };
    lifecycle::start(&engine, &settings)?;
    let mut snapshots = engine.subscribe();
    let mut last_table = tokio::time::Instant::now();
    let mut reset_done = !settings.reset_stats;
    let mut interrupted = false;
    tokio::pin!(interrupt);
    loop {
        tokio::select! {
            changed = snapshots.changed() => {
                if changed.is_err() { break; }
                let snap = snapshots.borrow_and_update().clone();
                files.row(&snap)?;
                session.watch(&snap);
                if !reset_done && snap.state == RunState::Running {
                    reset_done = true;
                    engine.reset()?;
                    writeln!(out, "All users started: statistics reset (--reset-stats)")?;
                }
                if !settings.only_summary && last_table.elapsed() >= Duration::from_secs(2) {
                    last_table = tokio::time::Instant::now();
                    report::print_table(&mut *out, &snap)?;
                    writeln!(out)?;
                }
                if snap.state == RunState::Stopped {
                    break;
                }
                if let Some(r) = session.should_abort(&snap) {
                    writeln!(out, "Threshold failed: {} ({}); stopping (--abort-on-threshold)", r.threshold, r.message)?;
                    break;
                }
            }
            _ = engine.wait_stopped() => break,
            _ = &mut interrupt => {
                interrupted = true;
                writeln!(out, "Stopping: letting in-flight requests finish (up to the stop timeout)...")?;
                break;
            }
        }
    }
    let mut hurried_note = false;
    let stopped = lifecycle::stop(&engine, hurry, || hurried_note = true).await?;
    if hurried_note {
        writeln!(
            out,
            "Interrupted again: not waiting for in-flight requests."
        )?;
    }
    let end = Ending {
        snapshot: stopped.snapshot,
        params: settings.run_parameters(),
        source: RunSource::Headless,
        interrupted,
        html: settings.html.clone(),
    };
    let finished = lifecycle::finish(&engine, &session, &mut files, end).await?;
    let snapshot = &finished.snapshot;
    let judgement = &finished.judgement;
    report::print_summary(&mut *out, snapshot)?;
    report::write_thresholds(out, &judgement.thresholds)?;
    if let (Some(b), Some(c)) = (&session.baseline, &judgement.comparison) {
        writeln!(out)?;
        report::comparison::write_comparison(
            &mut *out,
            c,
            &b.title(),
            "this run",
            &judgement.differences,
        )?;
        report::server::write_server_comparison(&mut *out, &b.snapshot, snapshot)?;
    }
    let saved_as = match &finished.saved {
        Saved::As(id) => {
            writeln!(out, "Saved as run #{id} (surge runs show {id})")?;
            Some(*id)
        }
        Saved::Failed(e) => {
            eprintln!("surge: warning: the run could not be saved to the history: {e}");
            None
        }
        Saved::NotKept => None,
    };
    Ok(Outcome {
        exit_code: lifecycle::exit_code(&finished, stopped.hurried, settings.exit_code_on_error),
        snapshot: finished.snapshot.clone(),
        thresholds: finished.judgement.thresholds.clone(),
        saved_as,
    })
}

/// Serves `GET /metrics` (Surge's statistics for Prometheus, from the latest snapshot) on
/// `addr` until dropped.
struct MetricsServer(tokio::task::JoinHandle<()>);

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn serve_metrics<W: Write>(
    addr: std::net::SocketAddr,
    engine: &Engine,
    out: &mut W,
) -> std::io::Result<MetricsServer> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("--metrics-listen {addr}: {e}")))?;
    let local = listener.local_addr()?;
    if !local.ip().is_loopback() {
        eprintln!(
            "surge: warning: --metrics-listen {local}: anyone who can reach it can read this \
             test's statistics (there is no login)"
        );
    }
    writeln!(out, "Metrics for Prometheus: http://{local}/metrics")?;
    let engine = engine.clone();
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let engine = engine.clone();
            async move {
                let entries = engine.entry_stats().await.unwrap_or_default();
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        crate::report::prometheus::CONTENT_TYPE,
                    )],
                    crate::report::prometheus::metrics(&engine.snapshot(), &entries),
                )
            }
        }),
    );
    Ok(MetricsServer(tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    })))
}
