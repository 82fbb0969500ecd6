//! Top-level commands: what `surge` does for each command line, returning the exit code.
//! `main.rs` only parses arguments and calls [`run`].

use std::io::Write;
use std::path::Path;

use crate::cli::{Cli, Command, DemoArgs, RunArgs, Settings};
use crate::demo::{self, DemoConfig};
use crate::headless::{self, EXIT_USAGE};
use crate::plan;
use crate::web::server::{self, ServeOptions};
use crate::web::Defaults;

/// Run the parsed command line; returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    match cli.command {
        Some(Command::Demo(args)) => run_demo(*args).await,
        Some(Command::Runs(args)) => {
            // SQLite is blocking: off the async workers.
            let result = tokio::task::spawn_blocking(move || {
                crate::runs_cmd::run(args, &mut std::io::stdout().lock())
            })
            .await;
            match result {
                Ok(Ok(())) => 0,
                Ok(Err(e)) => usage_error(e),
                Err(e) => usage_error(e),
            }
        }
        None => run_test(&cli.run, None).await,
    }
}

fn usage_error(message: impl std::fmt::Display) -> i32 {
    eprintln!("surge: {message}");
    EXIT_USAGE
}

async fn run_test(args: &RunArgs, default_plan: Option<plan::Plan>) -> i32 {
    if args.headless {
        return match args.settings(default_plan) {
            Ok(s) => headless_run(with_data_dir(s)).await,
            Err(e) => usage_error(e),
        };
    }
    // The dashboard starts even with nothing to test: the host is typed in the form.
    let no_target = args.plan.is_none() && args.host.is_none() && default_plan.is_none();
    let default_plan = if no_target {
        match plan::from_url("http://127.0.0.1/") {
            Ok(p) => Some(p),
            Err(e) => return usage_error(e),
        }
    } else {
        default_plan
    };
    let settings = match args.settings(default_plan) {
        Ok(s) => with_data_dir(s),
        Err(e) => return usage_error(e),
    };
    let mut defaults = Defaults::from_settings(&settings);
    if no_target {
        defaults.plan = None;
        defaults.host = None;
    }
    let opts = ServeOptions {
        web_host: args.web_host.clone(),
        web_port: args.web_port,
        autostart: args.autostart,
    };
    match server::run(settings, defaults, opts, interrupt()).await {
        Ok(code) => code,
        Err(e) => usage_error(e),
    }
}

/// The binary always keeps a history: the user's data directory unless --data-dir says.
fn with_data_dir(mut s: Settings) -> Settings {
    if s.data_dir.is_none() {
        s.data_dir = crate::store::default_data_dir();
        if s.data_dir.is_none() {
            eprintln!(
                "surge: warning: no home directory, so this run is not saved (set --data-dir)"
            );
        }
    }
    s
}

async fn headless_run(settings: Settings) -> i32 {
    let mut out = std::io::stdout();
    match headless::run(settings, &mut out, interrupt()).await {
        Ok(outcome) => outcome.exit_code,
        Err(e) => {
            eprintln!("surge: {e}");
            EXIT_USAGE
        }
    }
}

/// Resolves on the first Ctrl-C (or SIGTERM); a second Ctrl-C exits at once.
async fn interrupt() {
    wait_signal().await;
    tokio::spawn(async {
        wait_signal().await;
        eprintln!("surge: interrupted twice, exiting now");
        std::process::exit(130);
    });
}

async fn wait_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn run_demo(args: DemoArgs) -> i32 {
    let cfg = DemoConfig {
        db_connections: args.db_connections.max(1),
        ..DemoConfig::default()
    };
    let port = args.port.unwrap_or(if args.target_only { 8080 } else { 0 });
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) => {
            return usage_error(format!(
                "cannot listen on 127.0.0.1:{port}: {e} (choose another --port)"
            ))
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => return usage_error(e),
    };
    let url = format!("http://{addr}");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(demo::serve(listener, cfg, async {
        let _ = stop_rx.await;
    }));
    let code = if args.target_only {
        println!(
            "Demo target listening on {url} (database pool: {} connections). Press Ctrl-C to stop.",
            args.db_connections
        );
        let _ = std::io::stdout().flush();
        interrupt().await;
        0
    } else {
        if args.run.headless {
            println!("Demo target listening on {url}; running the demo plan against it.");
        } else {
            println!("Demo target listening on {url}; the dashboard has the demo plan loaded.");
        }
        let plan = match plan::parse(demo::DEMO_PLAN, Path::new("plans/demo.toml")) {
            Ok(p) => p,
            Err(e) => return usage_error(format!("built-in demo plan: {e}")),
        };
        let mut run = args.run.clone();
        run.host = Some(url);
        run_test(&run, Some(plan)).await
    };
    let _ = stop_tx.send(());
    let _ = server.await;
    code
}
