//! Test control, Locust's way: `POST /swarm` starts a test (or edits the running one),
//! `POST /stop` stops it, `POST /stats/reset` clears the statistics.
//!
//! Every form field is checked before the engine hears about it; a bad one is answered with
//! 400 and `{"error", "field"}`; a host outside `--allow-target` with 403. Limits: `user_count` 0..=1 000 000, `spawn_rate` above 0 and
//! at most 10 000, `rate` above 0 and at most 10 000 000, `host` an http(s) URL, `run_time`
//! a duration (`20`, `3m`, `1h20m`), `scenario` a scenario of the loaded plan.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ApiError, AppState, Defaults};
use crate::client::ClientConfig;
use crate::config::{DEFAULT_OPEN_USERS, MAX_USERS};
use crate::duration::parse_duration;
use crate::engine::{EngineError, InvalidRun, RunParams};
use crate::plan::{self, LoadProfile, Plan};
use crate::stats::RunState;

/// Highest ramp rate, users per second.
pub const MAX_SPAWN_RATE: f64 = 10_000.0;
/// Highest open-model rate, task starts per second.
pub const MAX_RATE: f64 = 10_000_000.0;

/// The fields of `POST /swarm`, as text: each is checked by hand so that a bad one is named.
#[derive(Debug, Default, Deserialize)]
pub struct SwarmForm {
    pub user_count: Option<String>,
    pub spawn_rate: Option<String>,
    pub host: Option<String>,
    pub run_time: Option<String>,
    pub rate: Option<String>,
    pub scenario: Option<String>,
    /// The target's Prometheus endpoints to scrape as well (space or comma separated).
    pub metrics: Option<String>,
}

/// The form, validated.
#[derive(Debug, Default)]
struct Swarm {
    users: Option<u32>,
    spawn_rate: Option<f64>,
    host: Option<String>,
    /// `None` = field absent (use the default); `Some(None)` = no run time.
    run_time: Option<Option<Duration>>,
    rate: Option<f64>,
    scenario: Option<String>,
    /// Scraped besides the plan's and `--metrics`.
    metrics: Vec<crate::scrape::Source>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn number(field: &'static str, v: &str, max: f64) -> Result<f64, ApiError> {
    let x: f64 = v
        .parse()
        .map_err(|_| ApiError::field(field, format!("\"{v}\" is not a number")))?;
    if x.is_finite() && x > 0.0 && x <= max {
        Ok(x)
    } else {
        Err(ApiError::field(
            field,
            format!("must be above 0 and at most {max}, got {v}"),
        ))
    }
}

impl SwarmForm {
    fn validate(&self, defaults: &Defaults) -> Result<Swarm, ApiError> {
        let mut s = Swarm::default();
        if let Some(v) = given(&self.user_count) {
            let n: u64 = v.parse().map_err(|_| {
                ApiError::field("user_count", format!("\"{v}\" is not a whole number"))
            })?;
            if n > u64::from(MAX_USERS) {
                return Err(ApiError::field(
                    "user_count",
                    format!("at most {MAX_USERS} users, got {n}"),
                ));
            }
            s.users = Some(n as u32);
        }
        if let Some(v) = given(&self.spawn_rate) {
            s.spawn_rate = Some(number("spawn_rate", v, MAX_SPAWN_RATE)?);
        }
        if let Some(v) = given(&self.rate) {
            s.rate = Some(number("rate", v, MAX_RATE)?);
        }
        if let Some(v) = given(&self.host) {
            crate::base_url::parse(v).map_err(|e| ApiError::field("host", e.to_string()))?;
            s.host = Some(v.to_string());
        }
        if let Some(v) = &self.run_time {
            let v = v.trim();
            s.run_time = Some(if v.is_empty() {
                None
            } else {
                let d =
                    parse_duration(v).map_err(|e| ApiError::field("run_time", e.to_string()))?;
                Some(d).filter(|d| !d.is_zero())
            });
        }
        if let Some(v) = given(&self.scenario) {
            if !defaults.scenarios().iter().any(|n| n == v) {
                return Err(ApiError::field(
                    "scenario",
                    format!(
                        "no scenario \"{v}\" in the plan (scenarios: {})",
                        defaults.scenarios().join(", ")
                    ),
                ));
            }
            s.scenario = Some(v.to_string());
        }
        s.metrics = metrics_field(self.metrics.as_deref())?;
        Ok(s)
    }
}

/// The form's `metrics` field: URLs separated by spaces or commas.
pub(super) fn metrics_field(v: Option<&str>) -> Result<Vec<crate::scrape::Source>, ApiError> {
    v.unwrap_or("")
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|u| !u.is_empty())
        .map(|u| {
            crate::scrape::Source::new(u, None, None, Vec::new())
                .map_err(|e| ApiError::field("metrics", e.to_string()))
        })
        .collect()
}

/// `POST /swarm`: start a test, or change users/rate of the running one.
pub async fn swarm(
    State(state): State<AppState>,
    form: Result<Form<SwarmForm>, FormRejection>,
) -> Result<Json<Value>, ApiError> {
    let Form(form) = form.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(super::security::MAX_BODY)
        } else {
            ApiError::BadRequest(e.body_text())
        }
    })?;
    if state.limit.running() {
        let e = ApiError::Conflict(
            "a search for the limit is running and sets the load itself: stop it first".into(),
        );
        state.logs.warning(format!("Swarm refused: {e}"));
        return Err(e);
    }
    let result = form
        .validate(&state.defaults)
        .and_then(|s| match state.engine.state() {
            RunState::Spawning | RunState::Running => edit(&state, &s),
            RunState::Stopping => Err(ApiError::Conflict(
                "the test is stopping; start again once it has stopped".into(),
            )),
            RunState::Ready | RunState::Stopped => start(&state, s),
        });
    if let Err(e) = &result {
        state.logs.warning(format!("Swarm refused: {e}"));
    }
    result
}

/// Start a test from the form and the defaults; used by `/swarm` and by `--autostart`.
pub fn start_from_defaults(state: &AppState) -> Result<String, ApiError> {
    start(state, Swarm::default()).map(|j| j["host"].as_str().unwrap_or_default().to_string())
}

fn start(state: &AppState, s: Swarm) -> Result<Json<Value>, ApiError> {
    let (params, host) = params_for(state, &s)?;
    let load = params.load.clone();
    state.engine.start(params).map_err(engine_refusal)?;
    state
        .logs
        .info(describe_start(&load, s.scenario.as_deref()));
    Ok(Json(json!({
        "success": true,
        "message": "Swarming started",
        "host": host.unwrap_or_default(),
    })))
}

/// The engine's refusal of a start, the host's named as the form's field.
pub(super) fn engine_refusal(e: EngineError) -> ApiError {
    match e {
        EngineError::Invalid(e @ (InvalidRun::Host(_) | InvalidRun::NoHost)) => {
            ApiError::field("host", e.to_string())
        }
        other => ApiError::Engine(other),
    }
}

/// The test a start form asks for, from the form and the defaults (plan, client), checked
/// against `--allow-target`; with the host the form shows.
fn params_for(state: &AppState, s: &Swarm) -> Result<(RunParams, Option<String>), ApiError> {
    let d = &state.defaults;
    let host = s.host.clone().or_else(|| d.host.clone());
    let (plan, host_override) = match (&d.plan, &host) {
        (Some(p), h) => (p.clone(), h.clone()),
        (None, Some(h)) => (
            Arc::new(plan::from_url(h).map_err(|e| ApiError::field("host", e.to_string()))?),
            None,
        ),
        (None, None) => {
            return Err(ApiError::field(
                "host",
                "give the URL to load-test (http:// or https://)",
            ))
        }
    };
    let plan = match &s.scenario {
        Some(name) => Arc::new(only_scenario(&plan, name)),
        None => plan,
    };
    let effective_host = host_override.as_deref().or(plan.host.as_deref());
    state
        .security
        .targets
        .check_run(effective_host, &plan)
        .map_err(|e| ApiError::Forbidden {
            field: Some("host"),
            message: e.to_string(),
        })?;
    let load = load_of(s, d)?;
    let metrics = crate::scrape::combine(&d.metrics_for(&plan), &s.metrics);
    // The scraper requests these too: the same allow-list holds for them.
    for m in &metrics {
        state
            .security
            .targets
            .check(m.url.as_str())
            .map_err(|e| ApiError::Forbidden {
                field: Some("host"),
                message: format!("metrics {}: {e}", m.name),
            })?;
    }
    let params = RunParams {
        metrics,
        plan,
        host: host_override,
        load,
        run_time: s.run_time.unwrap_or(d.run_time),
        client: ClientConfig {
            allowed_targets: (state.security.targets.is_restricted())
                .then(|| Arc::new(state.security.targets.clone())),
            ..d.client.clone()
        },
    };
    Ok((params, host))
}

/// The test the form's host and metrics (and the defaults) describe, for a search that sets its own
/// load: `/find-limit`.
pub(super) fn params_for_host(
    state: &AppState,
    host: Option<&str>,
    metrics: Option<&str>,
) -> Result<(RunParams, Option<String>), ApiError> {
    // The start form's own check of the host and metrics fields, and nothing else of it.
    let form = SwarmForm {
        host: host.map(str::to_string),
        metrics: metrics.map(str::to_string),
        ..SwarmForm::default()
    };
    params_for(state, &form.validate(&state.defaults)?)
}

fn only_scenario(plan: &Plan, name: &str) -> Plan {
    let mut p = plan.clone();
    p.scenarios.retain(|s| s.name == name);
    p
}

fn load_of(s: &Swarm, d: &Defaults) -> Result<LoadProfile, ApiError> {
    if let Some(rate) = s.rate {
        let max_users = s.users.unwrap_or(match d.load {
            LoadProfile::Open { max_users, .. } => max_users,
            _ => DEFAULT_OPEN_USERS,
        });
        if max_users == 0 {
            return Err(ApiError::field(
                "user_count",
                "the open model needs at least one user",
            ));
        }
        return Ok(LoadProfile::Open { rate, max_users });
    }
    if s.users.is_none() && s.spawn_rate.is_none() {
        return Ok(d.load.clone());
    }
    let (du, dr) = match d.load {
        LoadProfile::Closed { users, spawn_rate } => (users, spawn_rate),
        _ => (1, 1.0),
    };
    Ok(LoadProfile::Closed {
        users: s.users.unwrap_or(du),
        spawn_rate: s.spawn_rate.unwrap_or(dr),
    })
}

fn describe_start(load: &LoadProfile, scenario: Option<&str>) -> String {
    let what = match load {
        LoadProfile::Closed { users, spawn_rate } => {
            format!("Ramping to {users} users at a rate of {spawn_rate:.2} per second")
        }
        LoadProfile::Open { rate, max_users } => {
            format!("Starting {rate:.2} tasks per second (open model, at most {max_users} users)")
        }
        LoadProfile::Stages(st) => format!("Starting {} load stages", st.len()),
    };
    match scenario {
        Some(s) => format!("{what} (scenario \"{s}\")"),
        None => what,
    }
}

fn edit(state: &AppState, s: &Swarm) -> Result<Json<Value>, ApiError> {
    let open = state.engine.snapshot().open_model.is_some();
    if let Some(rate) = s.rate {
        let max_users = s.users.unwrap_or(match state.defaults.load {
            LoadProfile::Open { max_users, .. } => max_users,
            _ => DEFAULT_OPEN_USERS,
        });
        if !open {
            return Err(ApiError::field(
                "rate",
                "the running test uses the closed model: change user_count instead",
            ));
        }
        state.engine.set_rate(rate, max_users.max(1))?;
        state
            .logs
            .info(format!("Changing the rate to {rate:.2} tasks per second"));
    } else {
        if open {
            return Err(ApiError::field(
                "rate",
                "the running test uses the open model: give the new rate",
            ));
        }
        let users = s
            .users
            .ok_or_else(|| ApiError::field("user_count", "give the new number of users"))?;
        let spawn_rate = s.spawn_rate.unwrap_or(match state.defaults.load {
            LoadProfile::Closed { spawn_rate, .. } => spawn_rate,
            _ => 1.0,
        });
        state.engine.set_users(users, spawn_rate)?;
        state.logs.info(format!(
            "Ramping to {users} users at a rate of {spawn_rate:.2} per second"
        ));
    }
    Ok(Json(json!({
        "success": true,
        "message": "Swarming started",
        "host": state.engine.snapshot().host,
    })))
}

/// `POST /stop`: stop the test, waiting until in-flight requests have finished; stopping a
/// test that is not running is not an error. (Locust also answers `GET /stop`; Surge does
/// not: a link or an image on another page must not be able to stop a test.)
pub async fn stop(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match state.engine.state() {
        RunState::Spawning | RunState::Running | RunState::Stopping => {
            state.logs.info("Stopping the test");
            state.engine.stop().await?;
            Ok(Json(json!({"success": true, "message": "Test stopped"})))
        }
        RunState::Ready | RunState::Stopped => Ok(Json(
            json!({"success": true, "message": "Test already stopped"}),
        )),
    }
}

/// `POST /stats/reset`: clear the statistics; answers `ok` like Locust (POST only, as `/stop`).
pub async fn reset(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.engine.reset()?;
    state.logs.info("Statistics reset");
    Ok("ok")
}
