//! Command-line arguments: clap's raw flags ([`Cli`]) are turned once into validated settings
//! ([`Settings`]); the engine, the runners and the dashboard never see clap types.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

mod limit;

pub use limit::FindLimitArgs;

use crate::client::ClientConfig;
use crate::config::{Settings, DEFAULT_OPEN_USERS, DEFAULT_TICK, MAX_USERS, MAX_WORKERS};
use crate::duration::parse_duration;
use crate::plan::{self, LoadProfile, Plan};
use crate::targets::AllowTargets;
use crate::web::auth::Auth;
use crate::web::security::{is_loopback, HostPolicy, Security};
use crate::web::server::ServeOptions;

/// Surge: a fast, exact, Locust-style load tester.
#[derive(Debug, Parser)]
#[command(name = "surge", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the built-in demo target (a store API with a connection limit) and the dashboard
    /// with its plan loaded (or, with --headless, run the plan in the console).
    Demo(Box<DemoArgs>),
    /// The run history: list, show, compare, export or delete saved runs.
    Runs(crate::runs_cmd::RunsArgs),
    /// Validate a plan and print the requests it would send (method, URL, headers, body)
    /// without sending anything.
    Check(crate::check_cmd::CheckArgs),
    /// Find the breaking point: step the users (or the arrival rate) up, then bisect, until
    /// the highest level that passes every threshold is known, with why the next one broke.
    FindLimit(Box<FindLimitArgs>),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Serve only the demo target (no load), e.g. to point Locust or another Surge at it.
    #[arg(long)]
    pub target_only: bool,
    /// Port of the demo target (0 = any free port; --target-only defaults to 8080).
    #[arg(long, env = "SURGE_DEMO_PORT")]
    pub port: Option<u16>,
    /// Size of the target's simulated database connection pool; beyond it requests fail with
    /// "500 ... (OperationalError) 1040: Too many connections".
    #[arg(long, default_value_t = 20, env = "SURGE_DEMO_DB_CONNECTIONS")]
    pub db_connections: usize,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(subcommand)]
    pub search: Option<DemoCommand>,
}

/// What `surge demo` runs instead of the dashboard.
#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Find the demo store's breaking point with its plan (thresholds by default
    /// "p95 < 1s" and "fail_ratio < 10%": the plan asks for unknown stores on purpose, about
    /// 5 % of its requests). Try it with --db-connections 5, then 40.
    FindLimit(Box<FindLimitArgs>),
}

/// Options of a load test (also readable from `SURGE_*` environment variables).
#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    /// Plan file (.toml, .yaml or .yml).
    #[arg(short = 'f', long = "plan", value_name = "FILE", env = "SURGE_PLAN")]
    pub plan: Option<PathBuf>,
    /// Host to load-test. Without a plan, exactly this URL (path and query included) is requested.
    #[arg(short = 'H', long, value_name = "URL", env = "SURGE_HOST")]
    pub host: Option<String>,
    /// Peak number of concurrent users (with --rate: the cap on concurrent users).
    #[arg(short = 'u', long, value_name = "N", env = "SURGE_USERS")]
    pub users: Option<u32>,
    /// Users started (or stopped) per second.
    #[arg(short = 'r', long, value_name = "R", env = "SURGE_SPAWN_RATE")]
    pub spawn_rate: Option<f64>,
    /// Stop after this time: 20, 20s, 3m, 1h20m, ...
    #[arg(short = 't', long, value_name = "DURATION", env = "SURGE_RUN_TIME")]
    pub run_time: Option<String>,
    /// Open model: start this many tasks per second, whatever the response times
    /// (a start that waited for a busy user is measured from when it was due).
    #[arg(long, value_name = "R", env = "SURGE_RATE")]
    pub rate: Option<f64>,
    /// Run without the web dashboard; print statistics to the console.
    #[arg(long, env = "SURGE_HEADLESS")]
    pub headless: bool,
    /// Write PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv and PREFIX_exceptions.csv.
    #[arg(long, value_name = "PREFIX", env = "SURGE_CSV")]
    pub csv: Option<PathBuf>,
    /// Write every entry to the history CSV each second (not only Aggregated).
    #[arg(long, env = "SURGE_CSV_FULL_HISTORY", requires = "csv")]
    pub csv_full_history: bool,
    /// Write the final statistics as JSON to FILE.
    #[arg(long, value_name = "FILE", env = "SURGE_JSON")]
    pub json: Option<PathBuf>,
    /// Exit code when any request failed.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        env = "SURGE_EXIT_CODE_ON_ERROR",
        value_parser = clap::value_parser!(i32).range(0..=255)
    )]
    pub exit_code_on_error: i32,
    /// How long a stop lets in-flight requests finish.
    #[arg(
        short = 's',
        long,
        value_name = "DURATION",
        default_value = "10s",
        env = "SURGE_STOP_TIMEOUT"
    )]
    pub stop_timeout: String,
    /// Reset statistics once all users have started.
    #[arg(long, env = "SURGE_RESET_STATS")]
    pub reset_stats: bool,
    /// Accept any TLS certificate (self-signed targets).
    #[arg(long, env = "SURGE_INSECURE")]
    pub insecure: bool,
    /// Print only the final summary, not the table every 2 s.
    #[arg(long, env = "SURGE_ONLY_SUMMARY")]
    pub only_summary: bool,
    /// Per-request timeout (overrides the plan's `timeout`; default 60s).
    #[arg(long, value_name = "DURATION", env = "SURGE_TIMEOUT")]
    pub timeout: Option<String>,
    /// Worker threads generating load (default: one per core).
    #[arg(long, value_name = "N", env = "SURGE_WORKERS")]
    pub workers: Option<usize>,
    /// How often statistics are published (dashboard updates, history points, history CSV
    /// rows): 100ms to 1m, default 1s.
    #[arg(long, value_name = "DURATION", env = "SURGE_TICK")]
    pub tick: Option<String>,
    /// Address the dashboard listens on (0.0.0.0 exposes it to the network).
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1",
        env = "SURGE_WEB_HOST"
    )]
    pub web_host: String,
    /// Port of the dashboard (0 = any free port).
    #[arg(
        long,
        value_name = "PORT",
        default_value_t = 8089,
        env = "SURGE_WEB_PORT"
    )]
    pub web_port: u16,
    /// With the dashboard: start the test at once (with the plan's or the flags' figures).
    #[arg(long, env = "SURGE_AUTOSTART", conflicts_with = "headless")]
    pub autostart: bool,
    /// Dashboard login with HTTP basic authentication, USER:PASSWORD (prefer the environment
    /// variable: command lines are visible to other users of the machine).
    #[arg(
        long,
        value_name = "USER:PASSWORD",
        env = "SURGE_WEB_AUTH",
        hide_env_values = true,
        conflicts_with_all = ["web_token", "web_insecure_no_auth", "headless"]
    )]
    pub web_auth: Option<String>,
    /// Dashboard login with a token (16+ characters): `Authorization: Bearer TOKEN` for
    /// scripts, a login page for browsers.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "SURGE_WEB_TOKEN",
        hide_env_values = true,
        conflicts_with_all = ["web_insecure_no_auth", "headless"]
    )]
    pub web_token: Option<String>,
    /// Serve a dashboard on a non-loopback --web-host without any login (trusted networks only).
    #[arg(long, env = "SURGE_WEB_INSECURE_NO_AUTH", conflicts_with = "headless")]
    pub web_insecure_no_auth: bool,
    /// Extra names the dashboard answers to in the Host header (e.g. behind a proxy), comma
    /// separated or repeated: NAME or NAME:PORT.
    #[arg(
        long,
        value_name = "HOST",
        env = "SURGE_WEB_ALLOWED_HOSTS",
        value_delimiter = ',',
        conflicts_with = "headless"
    )]
    pub web_allowed_hosts: Vec<String>,
    /// Serve the dashboard over HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(
        long,
        value_name = "FILE",
        env = "SURGE_TLS_CERT",
        requires = "tls_key",
        conflicts_with = "headless"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(
        long,
        value_name = "FILE",
        env = "SURGE_TLS_KEY",
        requires = "tls_cert",
        conflicts_with = "headless"
    )]
    pub tls_key: Option<PathBuf>,
    /// Hosts the dashboard may load-test (repeatable or comma separated): HOST, HOST:PORT or
    /// *.DOMAIN. Without it, any http(s) host.
    #[arg(
        long = "allow-target",
        value_name = "PATTERN",
        env = "SURGE_ALLOW_TARGET",
        value_delimiter = ',',
        conflicts_with = "headless"
    )]
    pub allow_target: Vec<String>,
    /// Pass/fail criterion, repeatable: "p95 < 500ms", "fail_ratio < 1%", "rps > 100",
    /// "GET /orders: p99 < 1s", "p95 < baseline * 1.10". A failed one exits with code 3.
    #[arg(long = "threshold", value_name = "EXPR", env = "SURGE_THRESHOLD")]
    pub thresholds: Vec<String>,
    /// Stop the test as soon as a threshold fails (after the --abort-grace period).
    #[arg(long, env = "SURGE_ABORT_ON_THRESHOLD")]
    pub abort_on_threshold: bool,
    /// With --abort-on-threshold: no abort during the first DURATION of the run.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "10s",
        env = "SURGE_ABORT_GRACE"
    )]
    pub abort_grace: String,
    /// Compare with this saved run at the end (an id, `last` or `last~N`).
    #[arg(long, value_name = "ID", env = "SURGE_BASELINE")]
    pub baseline: Option<String>,
    /// Label saved with the run ("pool=5", "2 instances").
    #[arg(long, value_name = "TEXT", env = "SURGE_LABEL")]
    pub label: Option<String>,
    /// Write the self-contained HTML report to FILE (headless).
    #[arg(long, value_name = "FILE", env = "SURGE_HTML")]
    pub html: Option<PathBuf>,
    /// Directory of the run history database (default: the user's data directory).
    #[arg(long, value_name = "DIR", env = "SURGE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Headless: serve Surge's own statistics for Prometheus at http://ADDR/metrics while
    /// the test runs (the dashboard always has /metrics), e.g. 127.0.0.1:9464.
    #[arg(
        long,
        value_name = "ADDR",
        env = "SURGE_METRICS_LISTEN",
        requires = "headless"
    )]
    pub metrics_listen: Option<String>,
    /// Scrape the target's Prometheus endpoint at URL during the test (repeatable; every
    /// 5 s) and chart it beside the load, e.g. http://127.0.0.1:8000/metrics.
    #[arg(long = "metrics", value_name = "URL")]
    pub metrics: Vec<String>,
}

/// Why the command line cannot be used (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
}

impl RunArgs {
    /// Validate the arguments, loading the plan (or `default_plan` text, for the demo).
    pub fn settings(&self, default_plan: Option<Plan>) -> Result<Settings, UsageError> {
        let invalid = |m: String| UsageError::Invalid(m);
        if let Some(h) = &self.host {
            crate::base_url::parse(h).map_err(|e| invalid(format!("-H/--host: {e}")))?;
        }
        let url_only = self.plan.is_none() && default_plan.is_none();
        let plan = match (&self.plan, default_plan) {
            (Some(path), _) => plan::load(path)?,
            (None, Some(p)) => p,
            (None, None) => match &self.host {
                Some(url) => plan::from_url(url)?,
                None => {
                    return Err(invalid(
                        "nothing to test: give a URL with -H/--host or a plan with -f/--plan"
                            .into(),
                    ))
                }
            },
        };
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 && v <= 10_000_000.0 {
                Ok(v)
            } else {
                Err(invalid(format!(
                    "{name} must be a number above 0 (and at most 10000000), got {v}"
                )))
            }
        };
        if let Some(r) = self.spawn_rate {
            positive("-r/--spawn-rate", r)?;
        }
        if let Some(u) = self.users.filter(|u| *u > MAX_USERS) {
            return Err(invalid(format!(
                "-u/--users must be at most {MAX_USERS}, got {u}"
            )));
        }
        let plan_load = plan.load.clone();
        let load = if let Some(rate) = self.rate {
            let max_users = match (self.users, &plan_load) {
                (Some(u), _) => u,
                (None, Some(LoadProfile::Open { max_users, .. })) => *max_users,
                _ => DEFAULT_OPEN_USERS,
            };
            if max_users == 0 {
                return Err(invalid("--rate needs at least one user (-u)".into()));
            }
            LoadProfile::Open {
                rate: positive("--rate", rate)?,
                max_users,
            }
        } else if self.users.is_some() || self.spawn_rate.is_some() {
            let (pu, pr) = match &plan_load {
                Some(LoadProfile::Closed { users, spawn_rate }) => {
                    (Some(*users), Some(*spawn_rate))
                }
                _ => (None, None),
            };
            LoadProfile::Closed {
                users: self.users.or(pu).unwrap_or(1),
                spawn_rate: self.spawn_rate.or(pr).unwrap_or(1.0),
            }
        } else {
            plan_load.unwrap_or(LoadProfile::Closed {
                users: 1,
                spawn_rate: 1.0,
            })
        };
        let duration =
            |flag: &str, v: &str| parse_duration(v).map_err(|e| invalid(format!("{flag}: {e}")));
        let run_time = match &self.run_time {
            Some(t) => Some(duration("-t/--run-time", t)?).filter(|d| !d.is_zero()),
            None => plan.run_time,
        };
        let timeout = match &self.timeout {
            Some(t) => duration("--timeout", t)?,
            None => plan.timeout,
        };
        if timeout.is_zero() {
            return Err(invalid("--timeout must be above 0".into()));
        }
        if let Some(w) = self.workers.filter(|w| !(1..=MAX_WORKERS).contains(w)) {
            return Err(invalid(format!(
                "--workers must be between 1 and {MAX_WORKERS}, got {w}"
            )));
        }
        let tick = match &self.tick {
            Some(t) => duration("--tick", t)?,
            None => DEFAULT_TICK,
        };
        if !(Duration::from_millis(100)..=Duration::from_secs(60)).contains(&tick) {
            return Err(invalid(format!(
                "--tick must be between 100ms and 1m, got {}",
                crate::duration::format_duration(tick)
            )));
        }
        let mut thresholds = crate::thresholds::parse_all(&plan.thresholds)
            .map_err(|e| invalid(format!("plan thresholds: {e}")))?;
        thresholds.extend(
            crate::thresholds::parse_all(&self.thresholds)
                .map_err(|e| invalid(format!("--threshold: {e}")))?,
        );
        if let Some(t) = thresholds.iter().find(|t| t.needs_baseline()) {
            if self.baseline.is_none() {
                return Err(invalid(format!(
                    "threshold \"{}\" compares with a baseline: add --baseline ID (or last)",
                    t.text
                )));
            }
        }
        let abort = match self.abort_on_threshold {
            true => Some(crate::thresholds::AbortRule {
                grace: duration("--abort-grace", &self.abort_grace)?,
            }),
            false => None,
        };
        let metrics = self
            .metrics
            .iter()
            .map(|u| crate::scrape::Source::new(u, None, None, Vec::new()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(format!("--metrics: {e}")))?;
        Ok(Settings {
            metrics,
            thresholds,
            abort,
            baseline: self.baseline.clone(),
            label: self.label.clone().unwrap_or_default().trim().to_string(),
            html: self.html.clone(),
            data_dir: self.data_dir.clone(),
            metrics_listen: match &self.metrics_listen {
                Some(a) => Some(a.trim().parse().map_err(|_| {
                    invalid(format!(
                        "--metrics-listen: \"{a}\" is not an address and port, like 127.0.0.1:9464"
                    ))
                })?),
                None => None,
            },
            client: ClientConfig {
                timeout,
                insecure: self.insecure,
                max_redirects: plan.max_redirects,
                ..ClientConfig::default()
            },
            host: if url_only { None } else { self.host.clone() },
            plan: Arc::new(plan),
            load,
            run_time,
            stop_timeout: duration("-s/--stop-timeout", &self.stop_timeout)?,
            workers: self.workers,
            tick,
            csv: self.csv.clone(),
            csv_full_history: self.csv_full_history,
            json: self.json.clone(),
            exit_code_on_error: self.exit_code_on_error,
            reset_stats: self.reset_stats,
            only_summary: self.only_summary,
        })
    }
}

impl RunArgs {
    /// The dashboard's validated options: where it listens, its security, its TLS. A
    /// non-loopback `--web-host` needs a login or an explicit `--web-insecure-no-auth`.
    pub fn serve_options(&self) -> Result<ServeOptions, UsageError> {
        let invalid = UsageError::Invalid;
        let auth = match (&self.web_auth, &self.web_token) {
            (Some(a), _) => Auth::basic(a).map_err(invalid)?,
            (None, Some(t)) => Auth::token(t).map_err(invalid)?,
            (None, None) => Auth::Open,
        };
        if auth.is_open() && !self.web_insecure_no_auth && !is_loopback(&self.web_host) {
            return Err(invalid(format!(
                "--web-host {} would expose the dashboard to the network without a login, and \
                 anyone who reaches it could aim load anywhere. Add --web-auth USER:PASSWORD or \
                 --web-token TOKEN (with --tls-cert and --tls-key so that they do not travel in \
                 clear text), or --web-insecure-no-auth if every machine that can reach it is \
                 trusted",
                self.web_host
            )));
        }
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(crate::web::tls::load(cert, key).map_err(invalid)?),
            _ => None,
        };
        let security = Security {
            auth,
            hosts: HostPolicy::new(&self.web_host, &self.web_allowed_hosts).map_err(invalid)?,
            tls: tls.is_some(),
            targets: AllowTargets::parse(&self.allow_target).map_err(|e| invalid(e.to_string()))?,
        };
        Ok(ServeOptions {
            web_host: self.web_host.clone(),
            web_port: self.web_port,
            autostart: self.autostart,
            security,
            tls,
        })
    }
}
