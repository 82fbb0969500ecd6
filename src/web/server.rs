//! `surge` without `--headless`: serve the dashboard (plain HTTP or TLS, behind the security
//! guard), optionally start the test at once, write the `--csv`/`--json` files whenever a
//! test stops, and on Ctrl-C stop the test, write the files and shut the server down.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::{api, app, tls, AppState, Defaults, Security};
use crate::config::Settings;
use crate::engine::Engine;
use crate::lifecycle::{self, RunFiles, Session, EXIT_INTERRUPTED};
use crate::stats::RunState;

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
    /// The history or the baseline cannot be used.
    #[error("{0}")]
    Session(#[from] lifecycle::LifecycleError),
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
    let session = Session::open(&settings, plan_text).await?;
    if let Some(why) = &session.store_error {
        eprintln!("surge: warning: {why}");
    }
    // The files are created (header lines) now, so a path that cannot be written is
    // reported at start.
    let files = RunFiles::create(&settings)?;
    let state = AppState::new(engine.clone(), defaults, true)
        .with_security(opts.security.clone())
        .with_recording(session, files);
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
            // The client's address reaches the handlers (wrong logins are slowed per address).
            let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
            let _ = axum::serve(listener, service)
                .with_graceful_shutdown(stopped)
                .await;
        }),
    };
    if opts.autostart {
        api::start_from_defaults(&state).map_err(ServeError::Autostart)?;
    }
    interrupt.await;
    let mut hurried = false;
    let stopped_now = match engine.state() {
        RunState::Spawning | RunState::Running | RunState::Stopping => {
            println!("Stopping: letting in-flight requests finish (up to the stop timeout)...");
            state.history.interrupted.store(true, Ordering::Relaxed);
            let stopped = lifecycle::stop(&engine, hurry, || {
                println!("Interrupted again: not waiting for in-flight requests.")
            })
            .await
            .ok();
            hurried = stopped.as_ref().is_some_and(|s| s.hurried);
            stopped.map(|s| s.snapshot)
        }
        _ => None,
    };
    // The last test's files and saved run (the recorder may have finished it already).
    let last = match &state.recorder {
        Some(recorder) => recorder.finish(stopped_now).await?,
        None => None,
    };
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
