//! A whole run without the dashboard: start the engine, print the table every 2 s, append
//! the history CSV every second, and on the end (run time, stages' end or Ctrl-C) write the
//! final files and choose the exit code. Whatever ends the run, the files are complete.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::Settings;
use crate::compare::differences::{differences, RunSettings};
use crate::compare::{self, DEFAULT_NOISE_PCT};
use crate::engine::{Engine, RunParams};
use crate::report::html::{BaselineInput, ReportInput};
use crate::report::{self, CsvFiles};
use crate::stats::{RunState, Snapshot};
use crate::store::capture::{self, RunMeta};
use crate::store::{RunRecord, RunSource};
use crate::thresholds::{self, ThresholdResult, EXIT_THRESHOLD};

/// Exit code for bad usage or an invalid plan.
pub const EXIT_USAGE: i32 = 2;

/// Exit code after a second Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

/// How the run ended.
#[derive(Debug)]
pub struct Outcome {
    pub exit_code: i32,
    pub snapshot: Arc<Snapshot>,
    pub thresholds: Vec<ThresholdResult>,
    /// The run's id in the history, when it was saved.
    pub saved_as: Option<i64>,
}

/// Why a headless run could not start or finish its files.
#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    #[error("{0}")]
    Engine(#[from] crate::engine::EngineError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Baseline(String),
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
/// waiting for them: the files get everything recorded so far (the workers' last flush) and
/// the exit code is 130.
pub async fn run_until<W: Write>(
    settings: Settings,
    out: &mut W,
    interrupt: impl std::future::Future<Output = ()>,
    hurry: impl std::future::Future<Output = ()>,
) -> Result<Outcome, HeadlessError> {
    let config = settings.engine_config();
    for w in &settings.plan.warnings {
        eprintln!("surge: warning: {w}");
    }
    let mut csv = match &settings.csv {
        Some(prefix) => Some(CsvFiles::create(prefix, settings.csv_full_history)?),
        None => None,
    };
    let store = match capture::open_for_run(settings.data_dir.clone()).await {
        Ok(s) => s,
        Err(why) => {
            eprintln!("surge: warning: {why}");
            None
        }
    };
    let baseline: Option<RunRecord> = match &settings.baseline {
        Some(spec) => Some(
            capture::load_baseline(store.clone(), spec)
                .await
                .map_err(HeadlessError::Baseline)?,
        ),
        None => None,
    };
    let baseline_snap = baseline.as_ref().map(|b| &b.snapshot);
    let engine = Engine::new(config)?;
    engine.start(RunParams {
        plan: settings.plan.clone(),
        host: settings.host.clone(),
        load: settings.load.clone(),
        run_time: settings.run_time,
        client: settings.client.clone(),
    })?;
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
                if let Some(csv) = csv.as_mut() {
                    csv.history(&snap)?;
                }
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
                if let Some(rule) = settings.abort {
                    let live = thresholds::evaluate_all(&settings.thresholds, &snap, baseline_snap, false);
                    if let Some(r) = rule.should_abort(&snap, &live) {
                        writeln!(out, "Threshold failed: {} ({}); stopping (--abort-on-threshold)", r.threshold, r.message)?;
                        break;
                    }
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
    tokio::pin!(hurry);
    let mut hurried = false;
    let snapshot = tokio::select! {
        snap = engine.stop() => snap?,
        _ = &mut hurry => {
            hurried = true;
            writeln!(out, "Interrupted again: not waiting for in-flight requests.")?;
            engine.snapshot_now().await?
        }
    };
    if let Some(csv) = csv.as_mut() {
        csv.history(&snapshot)?;
        csv.finish(&snapshot)?;
    }
    if let Some(path) = &settings.json {
        report::write_json_file(path, &snapshot)?;
    }
    report::print_summary(&mut *out, &snapshot)?;
    let results = thresholds::evaluate_all(&settings.thresholds, &snapshot, baseline_snap, true);
    crate::runs_cmd::write_thresholds(out, &results)?;
    let comparison = baseline
        .as_ref()
        .map(|b| compare::compare(&b.snapshot, &snapshot, DEFAULT_NOISE_PCT));
    let params = settings.run_parameters();
    let differ = baseline.as_ref().map_or(Vec::new(), |b| {
        let this = RunSettings::new(&params, settings.plan.text.as_deref(), &snapshot);
        differences(&RunSettings::of(b), &this)
    });
    if let (Some(b), Some(c)) = (&baseline, &comparison) {
        writeln!(out)?;
        compare::text::write_comparison(&mut *out, c, &b.title(), "this run", &differ)?;
    }
    let meta = RunMeta {
        label: settings.label.clone(),
        source: RunSource::Headless,
        plan_text: settings.plan.text.clone(),
        params,
        thresholds: results.clone(),
        interrupted,
    };
    let record = capture::capture(&engine, snapshot.clone(), meta).await;
    if let Some(path) = &settings.html {
        let input = ReportInput {
            snapshot: &snapshot,
            history: &record.history,
            label: &settings.label,
            thresholds: &results,
            baseline: baseline
                .as_ref()
                .zip(comparison.as_ref())
                .map(|(run, comparison)| BaselineInput {
                    run,
                    comparison,
                    differences: &differ,
                }),
        };
        report::html::write_file(path, &input)?;
    }
    let saved_as = match store {
        Some(store) => match capture::save(store, record).await {
            Ok(id) => {
                writeln!(out, "Saved as run #{id} (surge runs show {id})")?;
                Some(id)
            }
            Err(e) => {
                eprintln!("surge: warning: the run could not be saved to the history: {e}");
                None
            }
        },
        None => None,
    };
    let exit_code = if hurried {
        EXIT_INTERRUPTED
    } else if thresholds::any_failed(&results) {
        EXIT_THRESHOLD
    } else if snapshot.total.num_failures > 0 {
        settings.exit_code_on_error
    } else {
        0
    };
    Ok(Outcome {
        exit_code,
        snapshot,
        thresholds: results,
        saved_as,
    })
}
