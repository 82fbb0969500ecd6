//! What a test is judged and kept by, opened once per front end: the run history (or why
//! there is none), the `--baseline` run, the thresholds, `--abort-on-threshold` and the
//! label. The same [`Session`] serves a headless run and every test of a dashboard.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use crate::compare::differences::{differences, RunSettings};
use crate::compare::{self, Comparison, DEFAULT_NOISE_PCT};
use crate::config::Settings;
use crate::stats::{Snapshot, ThresholdCrossing};
use crate::store::{self, RunParameters, RunRecord, Store};
use crate::thresholds::{self, AbortRule, Threshold, ThresholdResult};

use super::LifecycleError;

/// The history, baseline and thresholds of the tests a front end runs.
#[derive(Default)]
pub struct Session {
    /// `None`: runs are not saved (no data directory, or the database could not open).
    pub store: Option<Arc<Store>>,
    /// Why there is no store, for the user (the History tab, a warning).
    pub store_error: Option<String>,
    pub thresholds: Vec<Threshold>,
    pub abort: Option<AbortRule>,
    /// `--baseline`: thresholds' relative limits and the comparison at the end.
    pub baseline: Option<Arc<RunRecord>>,
    /// `--label`, saved with each run.
    pub label: String,
    /// The plan's text, saved with each run (and compared with the baseline's).
    pub plan_text: Option<String>,
    /// Set when an interrupt ends the front end: the test being stopped is saved as
    /// interrupted.
    pub interrupted: AtomicBool,
    /// The first second each threshold failed on, in the current test.
    pub crossings: CrossingLog,
}

/// Per threshold, the first second it failed on that second's figures, for the current
/// test (kept by [`Session::watch`]).
#[derive(Debug, Default)]
pub struct CrossingLog(Mutex<Crossings>);

#[derive(Debug, Default)]
struct Crossings {
    run: u32,
    found: Vec<Option<ThresholdCrossing>>,
}

/// A test's results against the session: its thresholds and, with a baseline, the
/// comparison and how the two runs were asked to differ.
#[derive(Debug, Clone, Default)]
pub struct Judgement {
    pub thresholds: Vec<ThresholdResult>,
    pub comparison: Option<Comparison>,
    pub differences: Vec<String>,
}

impl Session {
    /// Open the history of `settings` (a database that cannot be used only leaves
    /// [`Session::store_error`] set: the test goes on without it) and load the baseline (an
    /// error: the comparison the user asked for cannot be made).
    pub async fn open(
        settings: &Settings,
        plan_text: Option<String>,
    ) -> Result<Session, LifecycleError> {
        let (store, store_error) = match store::open_for_run(settings.data_dir.clone()).await {
            Ok(s) => (s, None),
            Err(why) => (None, Some(why.to_string())),
        };
        let baseline = match &settings.baseline {
            Some(spec) => Some(Arc::new(store::load_baseline(store.clone(), spec).await?)),
            None => None,
        };
        Ok(Session {
            store,
            store_error,
            thresholds: settings.thresholds.clone(),
            abort: settings.abort,
            baseline,
            label: settings.label.clone(),
            plan_text,
            interrupted: AtomicBool::new(false),
            crossings: CrossingLog::default(),
        })
    }

    /// Live (or final) threshold results on `snap`.
    pub fn evaluate(&self, snap: &Snapshot, at_end: bool) -> Vec<ThresholdResult> {
        let baseline = self.baseline.as_ref().map(|b| &b.snapshot);
        thresholds::evaluate_all(&self.thresholds, snap, baseline, at_end)
    }

    /// Judge the last complete second of `snap` against each threshold that takes the whole
    /// test (a threshold on one endpoint is judged on the whole run only), and keep the
    /// first second each one failed. Called with every snapshot of a running test.
    pub fn watch(&self, snap: &Snapshot) {
        let Some(second) = &snap.last_second else {
            return;
        };
        let Ok(mut c) = self.crossings.0.lock() else {
            return;
        };
        if c.run != snap.run || c.found.len() != self.thresholds.len() {
            *c = Crossings {
                run: snap.run,
                found: vec![None; self.thresholds.len()],
            };
        }
        let open = |i: usize| c.found[i].is_none() && self.thresholds[i].scope.is_none();
        if !(0..self.thresholds.len()).any(open) {
            return;
        }
        let probe = Snapshot {
            seq: snap.seq,
            time: snap.time,
            state: snap.state,
            user_count: snap.user_count,
            run: snap.run,
            host: String::new(),
            // A server threshold reads the points scraped since this second began.
            stats_start: Some(second.sec as f64),
            stats_end: Some(snap.time),
            drain_start: snap.drain_start,
            entries: Vec::new(),
            total: second.total.clone(),
            failures: Vec::new(),
            exceptions: Vec::new(),
            open_model: None,
            warnings: Vec::new(),
            generator: Default::default(),
            first_failure: None,
            last_second: None,
            threshold_crossings: Vec::new(),
            server: snap.server.clone(),
            marks: Vec::new(),
        };
        let baseline = self.baseline.as_ref().map(|b| &b.snapshot);
        for (i, t) in self.thresholds.iter().enumerate() {
            if c.found[i].is_some() || t.scope.is_some() {
                continue;
            }
            let r = thresholds::evaluate(t, &probe, baseline, false);
            if r.passed == Some(false) {
                c.found[i] = Some(ThresholdCrossing {
                    threshold: t.text.clone(),
                    time: second.sec as f64,
                    users: snap.user_count,
                    message: r.message,
                });
            }
        }
    }

    /// The crossings [`Session::watch`] found in test `run`, in the thresholds' order.
    pub fn crossings(&self, run: u32) -> Vec<ThresholdCrossing> {
        self.crossings
            .0
            .lock()
            .ok()
            .filter(|c| c.run == run)
            .map(|c| c.found.iter().flatten().cloned().collect())
            .unwrap_or_default()
    }

    /// With `--abort-on-threshold`, the failed threshold that stops the test now.
    pub fn should_abort(&self, snap: &Snapshot) -> Option<ThresholdResult> {
        let rule = self.abort?;
        let live = self.evaluate(snap, false);
        rule.should_abort(snap, &live).cloned()
    }

    /// How a run with `params` differs from the baseline in what it was asked to do.
    pub fn differences(&self, params: &RunParameters, snap: &Snapshot) -> Vec<String> {
        let Some(baseline) = &self.baseline else {
            return Vec::new();
        };
        let this = RunSettings::new(params, self.plan_text.as_deref(), snap);
        differences(&RunSettings::of(baseline), &this)
    }

    /// `snap`'s thresholds, comparison and differences (final ones when `at_end`).
    pub fn judge(&self, snap: &Snapshot, params: &RunParameters, at_end: bool) -> Judgement {
        Judgement {
            thresholds: self.evaluate(snap, at_end),
            comparison: self
                .baseline
                .as_ref()
                .map(|b| compare::compare(&b.snapshot, snap, DEFAULT_NOISE_PCT)),
            differences: self.differences(params, snap),
        }
    }
}
