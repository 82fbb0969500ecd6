//! Validated settings of a run, whatever front end gave them (the command line, later a
//! controller): the [`Settings`] every runner takes, and the limits and defaults that the
//! command line and the dashboard's form both check against. Nothing here knows clap.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::client::ClientConfig;
use crate::plan::{LoadProfile, Plan};

pub use crate::base_url::{BaseUrl, BaseUrlError};
pub use crate::plan::MAX_USERS;

/// Validated settings of one run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub plan: Arc<Plan>,
    pub host: Option<String>,
    pub load: LoadProfile,
    pub run_time: Option<Duration>,
    pub client: ClientConfig,
    pub stop_timeout: Duration,
    pub workers: Option<usize>,
    /// Snapshot interval.
    pub tick: Duration,
    pub csv: Option<PathBuf>,
    pub csv_full_history: bool,
    pub json: Option<PathBuf>,
    pub exit_code_on_error: i32,
    pub reset_stats: bool,
    pub only_summary: bool,
    /// Thresholds from the plan, then from `--threshold`.
    pub thresholds: Vec<crate::thresholds::Threshold>,
    /// `--abort-on-threshold`.
    pub abort: Option<crate::thresholds::AbortRule>,
    /// `--baseline`, unresolved (`12`, `last`, `last~1`).
    pub baseline: Option<String>,
    pub label: String,
    pub html: Option<PathBuf>,
    /// Where runs are saved; `None` = not saved (the binary fills in the default).
    pub data_dir: Option<PathBuf>,
    /// Headless: where to serve `/metrics` (Prometheus) while the test runs.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// `--metrics URL`: the target's endpoints to scrape, after the plan's `[[metrics]]`.
    pub metrics: Vec<crate::scrape::Source>,
}

impl Settings {
    /// Every metrics source of a test of `plan`: the plan's, then `--metrics`.
    pub fn metrics_for(&self, plan: &crate::plan::Plan) -> Vec<crate::scrape::Source> {
        crate::scrape::combine(&plan.metrics, &self.metrics)
    }
}

impl Settings {
    /// The engine settings these run settings ask for.
    pub fn engine_config(&self) -> crate::engine::EngineConfig {
        let mut config = crate::engine::EngineConfig {
            stop_timeout: self.stop_timeout,
            tick: self.tick,
            ..crate::engine::EngineConfig::default()
        };
        if let Some(w) = self.workers {
            config.workers = w;
        }
        config
    }
}

impl Settings {
    /// The run's parameters as saved in the history.
    pub fn run_parameters(&self) -> crate::store::RunParameters {
        let (users, spawn_rate, rate, description) = match &self.load {
            LoadProfile::Closed { users, spawn_rate } => (
                *users,
                Some(*spawn_rate),
                None,
                format!("{users} users, {spawn_rate} started/s"),
            ),
            LoadProfile::Open { rate, max_users } => (
                *max_users,
                None,
                Some(*rate),
                format!("{rate} starts/s, at most {max_users} users"),
            ),
            LoadProfile::Stages(s) => (
                s.iter().map(|st| st.users).max().unwrap_or(0),
                None,
                None,
                format!("{} stages", s.len()),
            ),
        };
        crate::store::RunParameters {
            users,
            spawn_rate,
            rate,
            run_time_s: self.run_time.map(|d| d.as_secs_f64()),
            plan_path: self.plan.source.as_ref().map(|p| p.display().to_string()),
            description,
        }
    }
}

/// Default snapshot interval: one dashboard update and history point per second.
pub const DEFAULT_TICK: Duration = Duration::from_secs(1);

/// Default cap on concurrent users in open mode when `-u` is not given.
pub const DEFAULT_OPEN_USERS: u32 = 100;

/// Most load-generating threads `--workers` may ask for.
pub const MAX_WORKERS: usize = 1024;
