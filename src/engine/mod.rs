//! The load engine: virtual users on worker threads, driven by one controller.
//!
//! - `controller`: state machine (`ready → spawning → running → stopping → stopped`), ramps,
//!   stages, run time, the single stop/drain path.
//! - `threads`: worker threads (one single-threaded runtime each), per-worker statistics
//!   flushed on a timer, open-model arrival tickets.
//! - `user`: the one user loop every load model runs.
//! - `step`, `outcome`: building requests from the plan; checks, captures, failures.
//! - `urls`: a step's URL from the base URL and its path, and its statistics name.
//! - `mix`: which scenario each new user belongs to.
//! - `publisher`: the task that merges worker statistics (through `stats::Aggregator`) and
//!   publishes snapshots.
//! - `scraper`: the target's Prometheus endpoints, fetched on their own tasks during a test
//!   (read by `crate::scrape` into the test's board).
//!
//! [`Engine`] is the control API used by the headless runner and the dashboard alike.

mod controller;
mod cpu;
pub mod fds;
pub mod mix;
pub mod outcome;
mod precise;
mod publisher;
mod run;
mod scraper;
pub mod step;
mod threads;
mod urls;
mod user;

use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

pub use fds::TooManyUsers;

use crate::base_url::BaseUrlError;
use crate::client::ClientConfig;
use crate::plan::{LoadProfile, Plan};
use crate::stats::{HistoryPoint, Limits, RunState, Snapshot, StatsEntry, WorkerStats};

/// Settings of the engine itself (not of one run).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Worker threads (default: one per core).
    pub workers: usize,
    /// How often a snapshot is published.
    pub tick: Duration,
    /// How long a stop lets in-flight requests finish.
    pub stop_timeout: Duration,
    pub limits: Limits,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            tick: Duration::from_secs(1),
            stop_timeout: Duration::from_secs(10),
            limits: Limits::default(),
        }
    }
}

/// One test to run.
#[derive(Debug, Clone)]
pub struct RunParams {
    pub plan: Arc<Plan>,
    /// Base URL overriding the plan's `host`.
    pub host: Option<String>,
    pub load: LoadProfile,
    pub run_time: Option<Duration>,
    pub client: ClientConfig,
    /// The target's metrics endpoints, scraped while the test runs.
    pub metrics: Vec<crate::scrape::Source>,
}

/// Why the engine refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("a test is already running (state: {0}); stop it first")]
    Busy(&'static str),
    #[error("no test is running")]
    NotRunning,
    #[error(transparent)]
    Invalid(#[from] InvalidRun),
    #[error("the engine has shut down")]
    Closed,
}

/// Why the engine refused a test's settings (what the plan alone cannot check).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRun {
    /// The base URL (`-H`, the dashboard's host field or the plan's `host`) is not one.
    #[error("host: {0}")]
    Host(#[source] BaseUrlError),
    /// The plan has relative paths and no base URL was given.
    #[error("no host: set -H/--host or `host` in the plan")]
    NoHost,
    #[error("spawn rate must be a number above 0")]
    SpawnRate,
    #[error("rate must be a number above 0")]
    Rate,
    #[error("open model needs a rate above 0 and at least one user")]
    OpenModel,
    #[error("stages are empty")]
    NoStages,
    /// More users than the open-file limit leaves room for.
    #[error(transparent)]
    TooManyUsers(#[from] TooManyUsers),
}

/// Commands to the controller task.
pub(crate) enum Command {
    Start(Box<RunParams>),
    SetUsers { users: u32, spawn_rate: f64 },
    SetRate { rate: f64, max_users: u32 },
    Stop(oneshot::Sender<Arc<Snapshot>>),
    Reset,
}

/// Messages to the publisher task (which owns the aggregator).
pub(crate) enum AggMsg {
    Delta(Box<WorkerStats>),
    Start,
    Reset,
    /// The users were told to stop (Unix seconds): the drain begins.
    Stopping(f64),
    Publish(oneshot::Sender<Arc<Snapshot>>),
    History(oneshot::Sender<Vec<HistoryPoint>>),
    EntryStats(oneshot::Sender<Vec<(String, String, StatsEntry)>>),
}

/// Run-level figures shared by the controller, workers and publisher (atomics; the host
/// string behind a lock that is never held across an await).
pub(crate) struct Status {
    state: AtomicU8,
    users: AtomicU32,
    run: AtomicU32,
    host: Mutex<String>,
    rate: Mutex<Option<f64>>,
    /// The current test's scraped server metrics (`None`: it scrapes nothing).
    board: Mutex<Option<Arc<crate::scrape::Board>>>,
    /// The current test's load changes, for the charts' markers (the newest [`MAX_MARKS`]).
    marks: Mutex<Vec<crate::stats::Mark>>,
    state_tx: watch::Sender<RunState>,
}

/// Load changes kept per test.
const MAX_MARKS: usize = 100;

const STATES: [RunState; 5] = [
    RunState::Ready,
    RunState::Spawning,
    RunState::Running,
    RunState::Stopping,
    RunState::Stopped,
];

impl Status {
    fn state(&self) -> RunState {
        STATES[self.state.load(Ordering::Acquire) as usize % STATES.len()]
    }

    fn set_state(&self, s: RunState) {
        self.store_state(s);
        self.state_tx.send_replace(s);
    }

    /// Change the state without notifying the waiters (yet).
    fn store_state(&self, s: RunState) {
        let i = STATES.iter().position(|x| *x == s).unwrap_or(0);
        self.state.store(i as u8, Ordering::Release);
    }

    fn set_rate(&self, rate: Option<f64>) {
        if let Ok(mut r) = self.rate.lock() {
            *r = rate;
        }
    }

    fn begin(&self, p: &RunParams) {
        self.run.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut h) = self.host.lock() {
            *h = p
                .host
                .clone()
                .or_else(|| p.plan.host.clone())
                .unwrap_or_default();
        }
        self.set_rate(match p.load {
            LoadProfile::Open { rate, .. } => Some(rate),
            _ => None,
        });
        if let Ok(mut m) = self.marks.lock() {
            m.clear();
        }
        if let Ok(mut b) = self.board.lock() {
            *b = (!p.metrics.is_empty()).then(|| Arc::new(crate::scrape::Board::new(&p.metrics)));
        }
    }

    /// Note a change of the load now (an edit, a stage, a reset).
    fn mark(&self, label: String) {
        if let Ok(mut m) = self.marks.lock() {
            if m.len() >= MAX_MARKS {
                m.remove(0);
            }
            m.push(crate::stats::Mark {
                time: crate::stats::unix_now(),
                label,
            });
        }
    }

    fn marks(&self) -> Vec<crate::stats::Mark> {
        self.marks.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// The current (or last) test's board.
    fn board(&self) -> Option<Arc<crate::scrape::Board>> {
        self.board.lock().ok().and_then(|b| b.clone())
    }

    fn info(&self) -> crate::stats::RunInfo {
        crate::stats::RunInfo {
            state: self.state(),
            user_count: self.users.load(Ordering::Relaxed),
            run: self.run.load(Ordering::Relaxed),
            host: self.host.lock().map(|h| h.clone()).unwrap_or_default(),
            target_rate: self.rate.lock().ok().and_then(|r| *r),
        }
    }
}

/// Handle to a running engine. Cheap to clone; the engine stops when the last handle drops.
#[derive(Clone)]
pub struct Engine {
    commands: mpsc::UnboundedSender<Command>,
    agg: mpsc::UnboundedSender<AggMsg>,
    /// The worker threads' command channels, for [`Engine::snapshot_now`]'s flush (the
    /// controller may be busy waiting for a stop).
    workers: Arc<[mpsc::UnboundedSender<threads::WorkerCmd>]>,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    states: watch::Receiver<RunState>,
    status: Arc<Status>,
}

impl Engine {
    /// Start the worker threads and the controller and publisher tasks (on the current
    /// tokio runtime).
    pub fn new(config: EngineConfig) -> std::io::Result<Engine> {
        fds::raise_limit();
        let (state_tx, states) = watch::channel(RunState::Ready);
        let status = Arc::new(Status {
            state: AtomicU8::new(0),
            users: AtomicU32::new(0),
            run: AtomicU32::new(0),
            host: Mutex::new(String::new()),
            rate: Mutex::new(None),
            board: Mutex::new(None),
            marks: Mutex::new(Vec::new()),
            state_tx,
        });
        let (agg_tx, agg_rx) = mpsc::unbounded_channel();
        let n = config.workers.max(1);
        let workers = (0..n)
            .map(|i| threads::spawn_worker(i, n, status.clone(), agg_tx.clone()))
            .collect::<std::io::Result<Vec<_>>>()?;
        let (snap_tx, snapshots) = watch::channel(Arc::new(publisher::empty_snapshot(&status)));
        tokio::spawn(publisher::run(
            config.limits,
            config.tick,
            status.clone(),
            agg_rx,
            snap_tx,
        ));
        let (commands, cmd_rx) = mpsc::unbounded_channel();
        let worker_handles: Arc<[_]> = workers.clone().into();
        let controller = controller::Controller::new(
            workers,
            agg_tx.clone(),
            status.clone(),
            config.stop_timeout,
        );
        tokio::spawn(controller.run(cmd_rx));
        Ok(Engine {
            commands,
            agg: agg_tx,
            workers: worker_handles,
            snapshots,
            states,
            status,
        })
    }

    /// Start a test. Refused while one is running.
    pub fn start(&self, params: RunParams) -> Result<(), EngineError> {
        match self.state() {
            RunState::Ready | RunState::Stopped => {}
            s => return Err(EngineError::Busy(s.as_str())),
        }
        validate(&params)?;
        // Mark the start at once so that a caller polling the state sees it.
        self.status.set_state(RunState::Spawning);
        self.send(Command::Start(Box::new(params)))
    }

    /// Change the user count (closed model) while running, at `spawn_rate` users/s.
    pub fn set_users(&self, users: u32, spawn_rate: f64) -> Result<(), EngineError> {
        self.require_running()?;
        fds::check_users(users).map_err(InvalidRun::from)?;
        if !(spawn_rate.is_finite() && spawn_rate > 0.0) {
            return Err(InvalidRun::SpawnRate.into());
        }
        self.send(Command::SetUsers { users, spawn_rate })
    }

    /// Change the arrival rate (open model) while running.
    pub fn set_rate(&self, rate: f64, max_users: u32) -> Result<(), EngineError> {
        self.require_running()?;
        fds::check_users(max_users).map_err(InvalidRun::from)?;
        if !(rate.is_finite() && rate > 0.0) {
            return Err(InvalidRun::Rate.into());
        }
        self.send(Command::SetRate { rate, max_users })
    }

    /// Stop the test and wait until in-flight requests have finished (or the stop timeout
    /// passed); returns the final snapshot, which includes every completed request.
    pub async fn stop(&self) -> Result<Arc<Snapshot>, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Stop(tx))?;
        rx.await.map_err(|_| EngineError::Closed)
    }

    /// Clear the statistics without stopping the test.
    pub fn reset(&self) -> Result<(), EngineError> {
        self.send(Command::Reset)
    }

    /// The latest snapshot (published once per tick).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshots.borrow().clone()
    }

    /// A fresh snapshot built now, including everything the workers flushed so far.
    pub async fn snapshot_now(&self) -> Result<Arc<Snapshot>, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.agg
            .send(AggMsg::Publish(tx))
            .map_err(|_| EngineError::Closed)?;
        rx.await.map_err(|_| EngineError::Closed)
    }

    /// [`Engine::snapshot_now`] after every worker handed over what it recorded since its
    /// last flush (each asked directly, waited for at most a second): what a stop that no
    /// longer waits for in-flight requests writes, so no finished request is left out.
    pub async fn snapshot_flushed(&self) -> Result<Arc<Snapshot>, EngineError> {
        let acks: Vec<_> = self
            .workers
            .iter()
            .filter_map(|w| {
                let (ack, done) = oneshot::channel();
                w.send(threads::WorkerCmd::Flush { ack }).ok().map(|_| done)
            })
            .collect();
        let _ = tokio::time::timeout(Duration::from_secs(1), futures::future::join_all(acks)).await;
        self.snapshot_now().await
    }

    /// Snapshots as they are published.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.snapshots.clone()
    }

    /// The aggregated per-second history (bounded).
    pub async fn history(&self) -> Result<Vec<HistoryPoint>, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.agg
            .send(AggMsg::History(tx))
            .map_err(|_| EngineError::Closed)?;
        rx.await.map_err(|_| EngineError::Closed)
    }

    /// Every entry's merged statistics with its histogram, as (method, name, entry), then
    /// Aggregated (method ""): what a saved run keeps so percentiles reload exactly.
    pub async fn entry_stats(&self) -> Result<Vec<(String, String, StatsEntry)>, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.agg
            .send(AggMsg::EntryStats(tx))
            .map_err(|_| EngineError::Closed)?;
        rx.await.map_err(|_| EngineError::Closed)
    }

    pub fn state(&self) -> RunState {
        self.status.state()
    }

    /// Users running right now.
    pub fn user_count(&self) -> u32 {
        self.status.users.load(Ordering::Relaxed)
    }

    /// Wait until the current test has stopped (by run time, stages' end or a stop call).
    pub async fn wait_stopped(&self) {
        let mut states = self.states.clone();
        let _ = states.wait_for(|s| *s == RunState::Stopped).await;
    }

    fn require_running(&self) -> Result<(), EngineError> {
        match self.state() {
            RunState::Spawning | RunState::Running => Ok(()),
            _ => Err(EngineError::NotRunning),
        }
    }

    fn send(&self, cmd: Command) -> Result<(), EngineError> {
        self.commands.send(cmd).map_err(|_| EngineError::Closed)
    }
}

/// Check what the plan alone cannot: a host for relative paths, sane load figures.
fn validate(p: &RunParams) -> Result<(), InvalidRun> {
    let host = p.host.as_deref().or(p.plan.host.as_deref());
    if let Some(h) = host {
        crate::base_url::parse(h).map_err(InvalidRun::Host)?;
    } else {
        let relative = p.plan.scenarios.iter().any(|s| {
            s.tasks
                .iter()
                .flat_map(|t| t.steps.iter())
                .chain(s.on_start.iter())
                .any(|st| !crate::base_url::is_absolute(st.url.source()))
        });
        if relative {
            return Err(InvalidRun::NoHost);
        }
    }
    match &p.load {
        LoadProfile::Closed { spawn_rate, .. }
            if !(spawn_rate.is_finite() && *spawn_rate > 0.0) =>
        {
            Err(InvalidRun::SpawnRate)
        }
        LoadProfile::Open { rate, max_users }
            if !(rate.is_finite() && *rate > 0.0) || *max_users == 0 =>
        {
            Err(InvalidRun::OpenModel)
        }
        LoadProfile::Stages(s) if s.is_empty() => Err(InvalidRun::NoStages),
        _ => Ok(()),
    }?;
    let peak_users = match &p.load {
        LoadProfile::Closed { users, .. } => *users,
        LoadProfile::Open { max_users, .. } => *max_users,
        LoadProfile::Stages(s) => s.iter().map(|s| s.users).max().unwrap_or(0),
    };
    Ok(fds::check_users(peak_users)?)
}
