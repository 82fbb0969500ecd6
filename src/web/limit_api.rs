//! The breaking-point search from the dashboard: `POST /find-limit` starts one on the
//! dashboard's engine (the start form's "Find limit" choice), `GET /find-limit` is its
//! progress: the steps so far, the step running now (the page shades it on the charts), and
//! at the end the answer, the same JSON as `surge find-limit --json`. Stop ends a search
//! like Ctrl-C: with what it knows. A finished search is saved as one run of kind `limit`.

use std::sync::Mutex;

use axum::extract::{rejection::FormRejection, Form, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{api, ApiError, AppState};
use crate::limit::spec::SpecInput;
use crate::limit::{self, output, Event, StepResult};
use crate::plan::Plan;
use crate::stats::RunState;
use crate::store;

/// What the page shows of the current (or last) search.
#[derive(Debug, Default, Serialize)]
pub struct Board {
    pub running: bool,
    /// The engine's run number of the search's test.
    pub run: u32,
    /// `users` or `rate`.
    pub model: Option<&'static str>,
    /// The search's plan in words (range, step, thresholds, longest time).
    pub plan: Vec<String>,
    pub steps: Vec<StepResult>,
    /// The step running now: number, level, whether it confirms, Unix start time.
    pub current: Option<Value>,
    /// The answer (`--json`'s shape) once the search ended.
    pub result: Option<Value>,
    /// The answer in words (`Limit: ...`, `Broke at: ...`).
    pub summary: Vec<String>,
    pub error: Option<String>,
}

/// The search's board, shared by the task that runs it and the page that reads it.
#[derive(Default)]
pub struct LimitBoard(Mutex<Board>);

impl LimitBoard {
    fn update(&self, f: impl FnOnce(&mut Board)) {
        if let Ok(mut b) = self.0.lock() {
            f(&mut b);
        }
    }

    /// The board as JSON.
    pub fn to_json(&self) -> Value {
        self.0.lock().map(|b| json!(&*b)).unwrap_or(Value::Null)
    }

    /// Whether a search is running now.
    pub fn running(&self) -> bool {
        self.0.lock().is_ok_and(|b| b.running)
    }

    /// Whether run `run` of the engine is a search's (saved by the search, not the
    /// recorder).
    pub fn owns(&self, run: u32) -> bool {
        self.0.lock().is_ok_and(|b| b.run == run && b.run != 0)
    }
}

/// The fields of `POST /find-limit`, as text.
#[derive(Debug, Default, Deserialize)]
pub struct LimitForm {
    pub host: Option<String>,
    /// The target's Prometheus endpoints to scrape as well (space or comma separated).
    pub metrics: Option<String>,
    /// One threshold per line (or separated by `;`).
    pub thresholds: Option<String>,
    pub start: Option<String>,
    pub max_users: Option<String>,
    pub rate_from: Option<String>,
    pub max_rate: Option<String>,
    pub step_time: Option<String>,
    pub resolution: Option<String>,
    pub spawn_rate: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn number(field: &'static str, v: &Option<String>) -> Result<Option<f64>, ApiError> {
    given(v)
        .map(|t| {
            t.parse::<f64>()
                .map_err(|_| ApiError::field(field, format!("\"{t}\" is not a number")))
        })
        .transpose()
}

impl LimitForm {
    fn input(&self, state: &AppState) -> Result<SpecInput, ApiError> {
        let mut thresholds = Vec::new();
        for line in given(&self.thresholds)
            .unwrap_or_default()
            .split(['\n', ';'])
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let t = crate::thresholds::parse(line)
                .map_err(|e| ApiError::field("thresholds", e.to_string()))?;
            thresholds.push(t);
        }
        if thresholds.is_empty() {
            thresholds = state.history.thresholds.clone();
        }
        let max_users = number("max_users", &self.max_users)?.unwrap_or(1000.0);
        if !(max_users.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&max_users)) {
            return Err(ApiError::field(
                "max_users",
                "must be a whole number of users",
            ));
        }
        Ok(SpecInput {
            start: number("start", &self.start)?,
            max_users: max_users as u32,
            rate_from: number("rate_from", &self.rate_from)?,
            max_rate: number("max_rate", &self.max_rate)?,
            step_time: given(&self.step_time).unwrap_or("30s").to_string(),
            resolution: given(&self.resolution).unwrap_or("5%").to_string(),
            spawn_rate: number("spawn_rate", &self.spawn_rate)?,
            thresholds,
        })
    }
}

/// `GET /find-limit`: the board.
pub async fn progress(State(state): State<AppState>) -> Json<Value> {
    Json(state.limit.to_json())
}

/// `POST /find-limit`: start a search (the engine must be idle).
pub async fn start(
    State(state): State<AppState>,
    form: Result<Form<LimitForm>, FormRejection>,
) -> Result<Json<Value>, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let result = begin(&state, &form);
    if let Err(e) = &result {
        state.logs.warning(format!("Find limit refused: {e}"));
    }
    result
}

fn begin(state: &AppState, form: &LimitForm) -> Result<Json<Value>, ApiError> {
    if state.limit.running() {
        return Err(ApiError::Conflict(
            "a search is running: stop it before starting another".into(),
        ));
    }
    if !matches!(state.engine.state(), RunState::Ready | RunState::Stopped) {
        return Err(ApiError::Conflict(
            "a test is running: stop it before finding the limit".into(),
        ));
    }
    let spec = form.input(state)?.check().map_err(|e| match e.field {
        limit::spec::SpecField::Threshold => ApiError::field("thresholds", e.to_string()),
        field => ApiError::field(field.name(), e.to_string()),
    })?;
    let (params, host) =
        api::params_for_host(state, form.host.as_deref(), form.metrics.as_deref())?;
    let mut plan_words = Vec::new();
    output::write_plan(&mut plan_words, &spec).map_err(|e| ApiError::Internal(e.to_string()))?;
    let plan_words: Vec<String> = String::from_utf8_lossy(&plan_words)
        .lines()
        .map(str::to_string)
        .collect();
    state.limit.update(|b| {
        *b = Board {
            running: true,
            run: state.engine.snapshot().run + 1,
            model: Some(spec.model.unit()),
            plan: plan_words.clone(),
            ..Board::default()
        }
    });
    for line in &plan_words {
        state.logs.info(line.clone());
    }
    let task_state = state.clone();
    let plan = params.plan.clone();
    tokio::spawn(async move {
        let state = task_state;
        let board = state.limit.clone();
        let logs = state.logs.clone();
        let on = |e: Event<'_>| {
            match e {
                Event::Starting {
                    n,
                    level,
                    confirmation,
                    at,
                } => board.update(|b| {
                    b.current = Some(
                        json!({"n": n, "level": level, "confirmation": confirmation, "at": at}),
                    );
                }),
                Event::Step { n, result } => {
                    let mut line = Vec::new();
                    let _ = output::write_step(&mut line, &spec.model, n, result);
                    logs.info(String::from_utf8_lossy(&line).trim_end().to_string());
                    board.update(|b| b.steps.push(result.clone()));
                }
            }
            Ok(())
        };
        let stopped = {
            let engine = state.engine.clone();
            async move { engine.wait_stopped().await }
        };
        match limit::run_on(&state.engine, params, &spec, on, stopped).await {
            Ok(result) => {
                let mut words = Vec::new();
                let _ = output::write_result(&mut words, &result);
                let summary: Vec<String> = String::from_utf8_lossy(&words)
                    .lines()
                    .take_while(|l| !l.starts_with("step "))
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect();
                let answer = output::to_json(&result);
                board.update(|b| {
                    b.running = false;
                    b.current = None;
                    b.result = Some(answer.clone());
                    b.summary = summary.clone();
                });
                for line in &summary {
                    logs.info(line.clone());
                }
                save(&state, &spec, &result, &plan).await;
            }
            Err(e) => {
                logs.error(format!("Find limit: {e}"));
                board.update(|b| {
                    b.running = false;
                    b.current = None;
                    b.error = Some(e.to_string());
                });
            }
        }
    });
    Ok(Json(json!({
        "success": true,
        "message": "Finding the limit",
        "host": host.unwrap_or_default(),
    })))
}

/// Save a finished search as one run of kind `limit`.
async fn save(state: &AppState, spec: &limit::LimitSpec, result: &limit::LimitResult, plan: &Plan) {
    let Some(db) = state.history.store.clone() else {
        return;
    };
    let record = limit::record(spec, result, state.history.label.clone(), plan);
    match store::save(db, record).await {
        Ok(id) => state
            .logs
            .info(format!("Search saved to the history as #{id}")),
        Err(e) => state
            .logs
            .error(format!("The search could not be saved to the history: {e}")),
    }
}
