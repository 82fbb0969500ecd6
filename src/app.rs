//! Top-level commands: what `surge` does for each command line, returning the exit code.
//! `main.rs` only parses arguments and calls [`run`].

use std::io::Write;
use std::path::Path;

use crate::cli::{Cli, Command, DemoArgs, DemoCommand, FindLimitArgs, RunArgs};
use crate::config::Settings;
use crate::demo::{self, DemoConfig};
use crate::headless;
use crate::lifecycle::{EXIT_INTERRUPTED, EXIT_USAGE};
use crate::plan;
use crate::web::security::is_loopback;
use crate::web::server;
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
        Some(Command::Check(args)) => {
            match crate::check_cmd::run(&args, &mut std::io::stdout().lock()) {
                Ok(()) => 0,
                Err(e) => usage_error(e),
            }
        }
        Some(Command::FindLimit(args)) => find_limit(&args, None).await,
        None => run_test(&cli.run, None).await,
    }
}

/// `surge find-limit` (and `surge demo find-limit`, with the demo's plan), until Ctrl-C.
async fn find_limit(args: &FindLimitArgs, default_plan: Option<plan::Plan>) -> i32 {
    let (settings, spec) = match args.spec(default_plan) {
        Ok(s) => s,
        Err(e) => return usage_error(e),
    };
    let interrupt = Signals::listen().nth(1);
    match crate::limit_cmd::run(settings, spec, &mut std::io::stdout(), interrupt).await {
        Ok(code) => code,
        Err(e) => usage_error(e),
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
    let opts = match args.serve_options() {
        Ok(o) => o,
        Err(e) => return usage_error(e),
    };
    if !no_target {
        let host = settings.host.as_deref().or(settings.plan.host.as_deref());
        if let Err(e) = opts.security.targets.check_run(host, &settings.plan) {
            return usage_error(e);
        }
    }
    if !is_loopback(&opts.web_host) {
        if opts.security.auth.is_open() {
            eprintln!(
                "surge: warning: --web-insecure-no-auth: anyone who can reach {} can start \
                 load tests",
                opts.web_host
            );
        } else if opts.tls.is_none() {
            eprintln!(
                "surge: warning: without --tls-cert/--tls-key the dashboard's credentials \
                 travel in clear text"
            );
        }
    }
    let signals = Signals::listen();
    let (first, second) = (signals.clone().nth(1), signals.nth(2));
    match server::run_until(settings, defaults, opts, first, second).await {
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
    let signals = Signals::listen();
    let (first, second) = (signals.clone().nth(1), signals.nth(2));
    match headless::run_until(settings, &mut out, first, second).await {
        Ok(outcome) => outcome.exit_code,
        Err(e) => {
            eprintln!("surge: {e}");
            EXIT_USAGE
        }
    }
}

/// Ctrl-C and SIGTERM, counted from the start of the process: the first asks for a stop
/// (in-flight requests finish up to `--stop-timeout`, then the files are written), the
/// second for a stop now (no more waiting; the files still get everything recorded, exit
/// code 130), a third exits at once.
#[derive(Clone)]
struct Signals(tokio::sync::watch::Receiver<u32>);

impl Signals {
    /// Start counting signals (on the current runtime).
    fn listen() -> Signals {
        let (tx, rx) = tokio::sync::watch::channel(0u32);
        tokio::spawn(async move {
            let mut next = match Listener::new() {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("surge: cannot listen for Ctrl-C: {e}");
                    return std::future::pending().await;
                }
            };
            loop {
                next.signal().await;
                let n = *tx.borrow() + 1;
                tx.send_replace(n);
                if n == 2 {
                    eprintln!(
                        "surge: interrupted again: writing what was recorded and exiting \
                         (once more to exit without writing)"
                    );
                } else if n > 2 {
                    eprintln!("surge: interrupted three times, exiting now");
                    std::process::exit(EXIT_INTERRUPTED);
                }
            }
        });
        Signals(rx)
    }

    /// Resolves once `n` signals have arrived.
    async fn nth(mut self, n: u32) {
        if self.0.wait_for(|c| *c >= n).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The process's Ctrl-C (SIGINT) and SIGTERM streams, registered once so that no signal
/// falls between two waits.
struct Listener {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Listener {
    fn new() -> std::io::Result<Listener> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Listener {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Listener {})
        }
    }

    async fn signal(&mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => {}
                _ = self.term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The demo plan, scraping the demo target's own `/metrics` every 2 s: the first run a
/// newcomer sees has the server's side (its connection pool filling up) beside the load.
fn demo_plan(url: &str) -> Result<plan::Plan, String> {
    let mut plan = plan::parse(demo::DEMO_PLAN, Path::new("plans/demo.toml"))
        .map_err(|e| format!("built-in demo plan: {e}"))?;
    let metrics = crate::scrape::Source::new(
        &format!("{url}/metrics"),
        Some("demo target"),
        Some(std::time::Duration::from_secs(2)),
        Vec::new(),
    )
    .map_err(|e| format!("demo metrics: {e}"))?;
    plan.metrics.push(metrics);
    Ok(plan)
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
        Signals::listen().nth(1).await;
        0
    } else if let Some(DemoCommand::FindLimit(search)) = &args.search {
        println!("Demo target listening on {url} (database pool: {} connections); finding its limit with the demo plan.", args.db_connections);
        let plan = match demo_plan(&url) {
            Ok(p) => p,
            Err(e) => return usage_error(e),
        };
        let mut search = (**search).clone();
        search.run.host = Some(url);
        if search.run.thresholds.is_empty() {
            search.run.thresholds = vec!["p95 < 1s".into(), "fail_ratio < 10%".into()];
        }
        find_limit(&search, Some(plan)).await
    } else {
        if args.run.headless {
            println!("Demo target listening on {url}; running the demo plan against it.");
        } else {
            println!("Demo target listening on {url}; the dashboard has the demo plan loaded.");
        }
        let plan = match demo_plan(&url) {
            Ok(p) => p,
            Err(e) => return usage_error(e),
        };
        let mut run = args.run.clone();
        run.host = Some(url);
        run_test(&run, Some(plan)).await
    };
    let _ = stop_tx.send(());
    let _ = server.await;
    code
}
