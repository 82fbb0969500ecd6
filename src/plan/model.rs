//! The validated test plan: what the engine executes.
//!
//! A plan file (TOML or YAML, see `schema`) or a single `-H URL` is turned into these types once,
//! after every check has passed; the engine never sees raw file syntax.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http::Method;

use super::data::DataFile;
use super::template::{JsonTemplate, Template};

/// A whole test plan, validated and with every template compiled.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Where the plan came from (for error messages and the report); `None` for `-H URL` runs.
    pub source: Option<PathBuf>,
    /// The plan's text, kept so a run can be saved and shown with the plan that produced it.
    pub text: Option<String>,
    /// Base URL that relative request paths are joined to (`http(s)://host[:port][/prefix]`).
    pub host: Option<String>,
    /// Headers sent with every request (a request's own headers override them).
    pub headers: Vec<(String, Template)>,
    /// Per-request timeout (default 60 s).
    pub timeout: Duration,
    /// Redirects followed per request; 0 disables following.
    pub max_redirects: u32,
    /// User classes; weights decide how many users of each run.
    pub scenarios: Vec<Arc<Scenario>>,
    /// Load profile from the plan; the CLI or dashboard may override it.
    pub load: Option<LoadProfile>,
    /// Run time from the plan (`load.run_time`), overridden by `-t`.
    pub run_time: Option<Duration>,
    /// Optional CSV data file whose rows are handed out to users.
    pub data: Option<Arc<DataFile>>,
    /// Threshold expressions (`thresholds = ["p95 < 500ms"]`), validated.
    pub thresholds: Vec<String>,
    /// `[[metrics]]`: the target's Prometheus endpoints to scrape during the test.
    pub metrics: Vec<crate::scrape::Source>,
    /// What is valid but probably not meant, each `FILE:LINE:COL: KEY: message` (single
    /// braces around a template, the deprecated `user_id`): shown when the plan loads.
    pub warnings: Vec<String>,
}

/// A user class (Locust's `User` subclass).
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    /// Relative share of users (ignored when `fixed_count` is set).
    pub weight: u32,
    /// Exactly this many users of this class, taken before weights share out the rest.
    pub fixed_count: Option<u32>,
    pub wait: WaitTime,
    /// Steps run once when a user starts (log in, capture a token).
    pub on_start: Vec<Step>,
    /// Tasks picked at random by weight, one per iteration.
    pub tasks: Vec<Task>,
}

/// One task: a single request or an ordered sequence, picked by weight.
#[derive(Debug, Clone)]
pub struct Task {
    /// Label for the Current Ratio tab (defaults to the first step's stats name).
    pub name: String,
    pub weight: u32,
    pub steps: Vec<Step>,
}

/// A request to send, with its templates, checks and captures.
#[derive(Debug, Clone)]
pub struct Step {
    pub method: Method,
    /// Path (joined to the host) or full URL, as a template.
    pub url: Template,
    pub query: Vec<(String, Template)>,
    pub headers: Vec<(String, Template)>,
    pub body: Option<Body>,
    /// Grouping name in statistics (`/api/stores/[id]/stock`); `None` = the rendered path
    /// (with query) is the name.
    pub name: Option<String>,
    pub checks: Checks,
    pub captures: Vec<Capture>,
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// JSON body; sets `content-type: application/json` unless a header overrides it.
    Json(JsonTemplate),
    /// `application/x-www-form-urlencoded` fields.
    Form(Vec<(String, Template)>),
    /// Raw body text.
    Raw(Template),
}

/// What a response must satisfy to count as a success.
#[derive(Debug, Clone, Default)]
pub struct Checks {
    /// Accepted statuses; empty = any status below 400.
    pub status: Vec<u16>,
    /// The failure message when a check fails (`HTTP {{ status }}: {{ json.detail }}`),
    /// rendered with the response's `status`, `reason`, `json`, `text` and `headers`.
    pub message: Option<Template>,
    /// Body must parse as JSON.
    pub is_json: bool,
    /// Body must contain each of these strings.
    pub contains: Vec<String>,
    /// JSON path (dotted, see `json_path`) → expected JSON value.
    pub json_equals: Vec<(String, serde_json::Value)>,
}

impl Checks {
    /// Whether the body must be kept to evaluate these checks.
    pub fn needs_body(&self) -> bool {
        self.is_json || !self.contains.is_empty() || !self.json_equals.is_empty()
    }

    /// Whether the failure message reads the body (`json` or `text`), which must then be
    /// kept for successful statuses too.
    pub fn message_reads_body(&self) -> bool {
        self.message.as_ref().is_some_and(|m| {
            m.names()
                .iter()
                .any(|n| matches!(n.split('.').next(), Some("json" | "text")))
        })
    }
}

/// Where a captured value comes from.
#[derive(Debug, Clone)]
pub enum CaptureSource {
    /// Dotted JSON path into the response body (`data.token`, `items.0.id`).
    Json(String),
    /// A response header (case-insensitive name).
    Header(String),
    /// First capture group (or whole match) of a regex over the body.
    Regex(regex::Regex),
}

/// A value taken from a response and stored in the user's variables under `var`.
#[derive(Debug, Clone)]
pub struct Capture {
    pub var: String,
    pub source: CaptureSource,
}

impl CaptureSource {
    /// Whether the body must be kept to evaluate this capture.
    pub fn needs_body(&self) -> bool {
        !matches!(self, CaptureSource::Header(_))
    }
}

/// Think time between tasks (Locust's `wait_time`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WaitTime {
    /// No wait: the next task starts as soon as the previous one ends.
    None,
    /// Uniformly random between the two bounds, in seconds.
    Between(f64, f64),
    /// Always this many seconds.
    Constant(f64),
    /// Each task *starts* this many seconds after the previous one started.
    ConstantPacing(f64),
    /// At most this many tasks per second per user (pacing of 1/n seconds).
    ConstantThroughput(f64),
}

/// Most concurrent users a test may ask for, wherever it is asked (a plan, `-u`, the
/// dashboard's form): far above what one machine runs, low enough that a typo is caught.
pub const MAX_USERS: u32 = 1_000_000;

/// How many users run, and how they arrive.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadProfile {
    /// Closed model: a fixed number of users, started at `spawn_rate` per second.
    Closed { users: u32, spawn_rate: f64 },
    /// Closed model following k6-style stages, each ramping to its user count.
    Stages(Vec<Stage>),
    /// Open model: tasks start at `rate` per second, run by at most `max_users` users.
    Open { rate: f64, max_users: u32 },
}

/// One stage: over `duration`, move to `users` at `spawn_rate` users/s.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub duration: Duration,
    pub users: u32,
    pub spawn_rate: f64,
}
