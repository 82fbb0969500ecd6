//! The breaking-point search (`surge find-limit`): one test whose load moves in steps,
//! each judged on its own figures against the thresholds, growing until a step fails and
//! bisecting down to the resolution, so that the answer to "at how many users (or req/s)
//! does it break, and why?" is a number, a reason and a table instead of a guess from charts.
//!
//! - `search`: where the next step goes (pure: levels and verdicts).
//! - `spec`: a search's inputs from a front end, checked (each error names its field).
//! - `step`: one step on the engine: reach the level, settle, reset, measure, judge.
//! - `knee`: where more load stops buying throughput (Kneedle).
//! - `output`: the console lines and table, and the JSON.
//!
//! A step during which Surge (or its machine) could not hold the load is inconclusive, and
//! the search stops there: its figures say nothing about the target.

pub mod knee;
pub mod output;
pub mod search;
pub mod spec;
pub mod step;

use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crate::config::Settings;
use crate::engine::{Engine, EngineError, RunParams};
use crate::lifecycle::LifecycleError;
use crate::plan::LoadProfile;
use crate::stats::{HistoryPoint, Snapshot, StatsEntry};
use crate::store::{RunMeta, RunParameters, RunRecord, RunSource};
use crate::thresholds::Threshold;

pub use search::{Bounds, Next, Search, Verdict};
pub use step::{StepResult, StepTime};

/// What the search moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// Closed model: the number of users, ramped at `spawn_rate` users per second.
    Users { spawn_rate: f64 },
    /// Open model: task starts per second, with at most `max_users` users.
    Rate { max_users: u32 },
}

impl Model {
    /// The level's unit in words and in JSON keys.
    pub fn unit(&self) -> &'static str {
        match self {
            Model::Users { .. } => "users",
            Model::Rate { .. } => "rate",
        }
    }

    /// A level as people read it: `46 users`, `730 req/s`.
    pub fn level(&self, level: f64) -> String {
        match self {
            Model::Users { .. } => format!("{level} users"),
            Model::Rate { .. } => format!("{level} starts/s"),
        }
    }
}

/// A search: what moves, between which levels, how long each step is, what "broken" means.
#[derive(Debug, Clone)]
pub struct LimitSpec {
    pub model: Model,
    pub bounds: Bounds,
    pub step: StepTime,
    pub thresholds: Vec<Threshold>,
}

impl LimitSpec {
    /// The longest the search can take: its most steps, each with its ramp (users at the
    /// spawn rate, from nothing to the maximum at worst) and its settle and measure times.
    pub fn max_duration(&self) -> Duration {
        let steps = self.bounds.max_steps() as u32;
        let per_step = self.step.settle + self.step.measure;
        let ramp = match self.model {
            Model::Users { spawn_rate } => Duration::from_secs_f64(self.bounds.max / spawn_rate),
            Model::Rate { .. } => Duration::ZERO,
        };
        per_step * steps + ramp * steps
    }
}

/// The search's answer.
#[derive(Debug, Clone)]
pub struct LimitResult {
    pub model: Model,
    /// The highest level that passed.
    pub limit: Option<f64>,
    /// The lowest level that failed.
    pub broke_at: Option<f64>,
    /// The limit passed again when run once more.
    pub confirmed: bool,
    /// The level of an inconclusive step, where the search stopped.
    pub inconclusive_at: Option<f64>,
    /// The search was interrupted (Ctrl-C) before it ended.
    pub interrupted: bool,
    /// Every step, in the order run.
    pub steps: Vec<StepResult>,
    /// The final snapshot of the test (the statistics since the last step's reset).
    pub snapshot: Arc<Snapshot>,
    /// The whole search's per-second series (kept across the steps' resets).
    pub history: Vec<HistoryPoint>,
    /// The last step's merged entries with their histograms, for the saved run.
    pub entries: Vec<(String, String, StatsEntry)>,
}

impl LimitResult {
    /// The step that measured the limit (its last run), and the first fail at `broke_at`.
    pub fn step_at(&self, level: Option<f64>) -> Option<&StepResult> {
        let level = level?;
        self.steps.iter().rev().find(|s| s.level == level)
    }

    /// The knee of successful throughput (req/s that did not fail: fast failures are not
    /// throughput) against level, over the steps that were not inconclusive (the last
    /// measurement of each level).
    pub fn knee(&self) -> Option<&StepResult> {
        let mut by_level: Vec<&StepResult> = Vec::new();
        for s in self
            .steps
            .iter()
            .filter(|s| s.verdict != Verdict::Inconclusive)
        {
            match by_level.iter_mut().find(|b| b.level == s.level) {
                Some(b) => *b = s,
                None => by_level.push(s),
            }
        }
        by_level.sort_by(|a, b| a.level.total_cmp(&b.level));
        let points: Vec<(f64, f64)> = by_level.iter().map(|s| (s.level, s.ok_rps())).collect();
        knee::knee(&points).map(|i| by_level[i])
    }

    /// 0 when a limit was found, 3 when even the first step failed, 4 when the search
    /// stopped on an inconclusive step before any pass (or was interrupted before one).
    pub fn exit_code(&self) -> i32 {
        match (self.limit, self.broke_at) {
            (Some(_), _) if self.inconclusive_at.is_none() && !self.interrupted => 0,
            (None, Some(_)) => crate::thresholds::EXIT_THRESHOLD,
            _ => EXIT_INCONCLUSIVE,
        }
    }
}

/// Exit code of a search that could not conclude: an inconclusive step (Surge or its
/// machine could not hold the load) or an interrupt.
pub const EXIT_INCONCLUSIVE: i32 = 4;

/// What a running search tells as it goes.
#[derive(Debug)]
pub enum Event<'a> {
    /// Step `n` (from 1) starts at `level`, at Unix time `at`.
    Starting {
        n: usize,
        level: f64,
        confirmation: bool,
        at: f64,
    },
    /// Step `n` ended so.
    Step { n: usize, result: &'a StepResult },
}

/// Run the search `spec` describes with `settings` (plan, host, client, workers) on a new
/// engine, telling each step on `out` as it ends; `interrupt` (Ctrl-C) ends it early with
/// what is known.
pub async fn run<W: Write>(
    settings: &Settings,
    spec: &LimitSpec,
    out: &mut W,
    interrupt: impl Future<Output = ()>,
) -> Result<LimitResult, LifecycleError> {
    let engine = Engine::new(settings.engine_config())?;
    output::write_plan(out, spec)?;
    let model = spec.model;
    let params = RunParams {
        plan: settings.plan.clone(),
        host: settings.host.clone(),
        load: settings.load.clone(),
        run_time: None,
        client: settings.client.clone(),
        metrics: settings.metrics_for(&settings.plan),
    };
    let result = run_on(
        &engine,
        params,
        spec,
        |e| match e {
            Event::Step { n, result } => output::write_step(out, &model, n, result),
            Event::Starting { .. } => Ok(()),
        },
        interrupt,
    )
    .await?;
    if result.interrupted {
        writeln!(out, "Interrupted: stopping the search.")?;
    }
    Ok(result)
}

/// [`run`] on `engine` (the dashboard's) with the test `params` describe (their load and
/// run time are the search's), telling `on` as each step starts and ends. A stop from
/// elsewhere (the dashboard's Stop) ends the search like an interrupt.
pub async fn run_on(
    engine: &Engine,
    params: RunParams,
    spec: &LimitSpec,
    mut on: impl FnMut(Event<'_>) -> std::io::Result<()>,
    interrupt: impl Future<Output = ()>,
) -> Result<LimitResult, LifecycleError> {
    let mut search = Search::new(spec.bounds);
    let first = match search.next() {
        Next::Step(level) => *level,
        _ => spec.bounds.start,
    };
    let mut start = params;
    start.run_time = None;
    start.load = match spec.model {
        Model::Users { spawn_rate } => LoadProfile::Closed {
            users: first as u32,
            spawn_rate,
        },
        Model::Rate { max_users } => LoadProfile::Open {
            rate: first,
            max_users,
        },
    };
    engine.start(start)?;
    let mut steps = Vec::new();
    let mut interrupted = false;
    tokio::pin!(interrupt);
    loop {
        let (level, confirmation) = match search.next() {
            Next::Step(l) => (*l, false),
            Next::Confirm(l) => (*l, true),
            Next::Done { .. } | Next::Stopped { .. } => break,
        };
        on(Event::Starting {
            n: steps.len() + 1,
            level,
            confirmation,
            at: crate::stats::unix_now(),
        })?;
        let measured = tokio::select! {
            m = async {
                step::reach(engine, &spec.model, level).await?;
                step::measure(engine, spec.step).await
            } => match m {
                Ok(m) => m,
                // Stopped from elsewhere.
                Err(EngineError::NotRunning) => {
                    interrupted = true;
                    break;
                }
                Err(e) => return Err(e.into()),
            },
            _ = &mut interrupt => {
                interrupted = true;
                break;
            }
        };
        let mut result = StepResult::judge(level, &measured, &spec.thresholds);
        result.confirmation = confirmation;
        on(Event::Step {
            n: steps.len() + 1,
            result: &result,
        })?;
        search.record(result.verdict);
        steps.push(result);
    }
    let (limit, broke_at, confirmed, inconclusive_at) = match search.next() {
        Next::Done {
            limit,
            broke_at,
            confirmed,
        } => (*limit, *broke_at, *confirmed, None),
        Next::Stopped { at } => {
            let (pass, fail) = so_far(&steps);
            (pass, fail, false, Some(*at))
        }
        // Interrupted mid-search: what passed and failed so far.
        Next::Step(_) | Next::Confirm(_) => {
            let (pass, fail) = so_far(&steps);
            (pass, fail, false, None)
        }
    };
    let snapshot = engine.stop().await?;
    let entries = engine.entry_stats().await.unwrap_or_default();
    let history = engine
        .history()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.run == snapshot.run)
        .collect();
    Ok(LimitResult {
        model: spec.model,
        limit,
        broke_at,
        confirmed,
        inconclusive_at,
        interrupted,
        steps,
        snapshot,
        history,
        entries,
    })
}

/// The search as one run of kind `limit` for the history: the last step's statistics, the
/// whole series, and the answer with its steps (`output::to_json`).
pub fn record(
    spec: &LimitSpec,
    result: &LimitResult,
    label: String,
    plan: &crate::plan::Plan,
) -> RunRecord {
    let description = match result.limit {
        Some(l) => format!("find-limit: limit {}", spec.model.level(l)),
        None => "find-limit: no limit found".to_string(),
    };
    let meta = RunMeta {
        label,
        source: RunSource::Limit,
        plan_text: plan.text.clone(),
        params: RunParameters {
            users: result.steps.iter().map(|s| s.users).max().unwrap_or(0),
            rate: match spec.model {
                Model::Rate { .. } => result.limit,
                Model::Users { .. } => None,
            },
            plan_path: plan.source.as_ref().map(|p| p.display().to_string()),
            description,
            ..RunParameters::default()
        },
        thresholds: result
            .step_at(result.broke_at)
            .or(result.step_at(result.limit))
            .map(|s| s.thresholds.clone())
            .unwrap_or_default(),
        interrupted: result.interrupted,
    };
    let mut record = crate::store::blocking::record(
        result.snapshot.clone(),
        result.entries.clone(),
        Vec::new(),
        meta,
    );
    record.history = result.history.clone();
    record.limit = Some(output::to_json(result));
    record
}

/// The highest pass and the lowest fail among `steps`.
fn so_far(steps: &[StepResult]) -> (Option<f64>, Option<f64>) {
    let levels = |v: Verdict| {
        steps
            .iter()
            .filter(move |s| s.verdict == v)
            .map(|s| s.level)
    };
    (
        levels(Verdict::Pass).reduce(f64::max),
        levels(Verdict::Fail).reduce(f64::min),
    )
}
