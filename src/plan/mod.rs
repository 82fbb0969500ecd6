//! Test plans: files (TOML or YAML, one schema) or a single URL, validated into [`Plan`].
//!
//! - `model`: the validated types the engine runs.
//! - `template`: dynamic values (minijinja) rendered per request with the user's variables;
//!   `functions` are the functions templates can call, `json_template` the typed JSON bodies.
//! - `data`: CSV data files whose rows are handed to users.
//! - `json_path`: dotted paths into JSON bodies, for checks and captures.
//! - `schema` (raw file syntax), `validate` (raw → model) and `error` (messages with
//!   file:line:col and key path) are the parser's internals.

pub mod data;
mod error;
mod functions;
pub mod json_path;
mod json_template;
pub mod model;
mod schema;
pub mod template;
mod validate;

pub use error::PlanError;
pub use model::*;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use error::{humanize, line_col, locate, render, Format, KeyPath};

/// Per-request timeout when neither the plan nor the CLI sets one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Redirects followed when the plan does not say.
pub const DEFAULT_MAX_REDIRECTS: u32 = 10;

/// A plan that requests exactly `url` (path and query included), like wrk and oha.
pub fn from_url(url: &str) -> Result<Plan, PlanError> {
    crate::base_url::parse(url).map_err(|e| PlanError::Invalid(e.to_string()))?;
    let step = Step {
        method: http::Method::GET,
        url: template::Template::literal(url),
        query: vec![],
        headers: vec![],
        body: None,
        name: None,
        checks: Checks::default(),
        captures: vec![],
    };
    let task = Task {
        name: "request".into(),
        weight: 1,
        steps: vec![step],
    };
    Ok(Plan {
        thresholds: Vec::new(),
        metrics: Vec::new(),
        warnings: Vec::new(),
        source: None,
        text: None,
        host: Some(url.to_string()),
        headers: vec![],
        timeout: DEFAULT_TIMEOUT,
        max_redirects: DEFAULT_MAX_REDIRECTS,
        scenarios: vec![Arc::new(Scenario {
            name: "default".into(),
            weight: 1,
            fixed_count: None,
            wait: WaitTime::None,
            on_start: vec![],
            tasks: vec![task],
        })],
        load: None,
        run_time: None,
        data: None,
    })
}

/// Read and validate a plan file; the format is chosen by extension (.toml, .yaml/.yml).
pub fn load(path: &Path) -> Result<Plan, PlanError> {
    let text = std::fs::read_to_string(path).map_err(|source| PlanError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Validate plan text as if read from `path` (the extension picks the format; relative data
/// files are resolved against the path's folder).
pub fn parse(text: &str, path: &Path) -> Result<Plan, PlanError> {
    let format = Format::of(path)?;
    let raw = read_raw(text, path, format)?;
    // A missing key has no position: point at the closest enclosing key that exists.
    // Nothing enclosing it either (a top-level key missing): the start of the file.
    let located = |issue: &error::Issue| {
        let pos = (1..=issue.path.0.len())
            .rev()
            .find_map(|n| locate(text, format, &KeyPath(issue.path.0[..n].to_vec())))
            .unwrap_or((1, 1));
        render(path, Some(pos), &issue.path, &issue.msg)
    };
    let (mut plan, warnings) = validate::plan(raw, path).map_err(|issue| located(&issue))?;
    plan.warnings = warnings.iter().map(|w| located(w).to_string()).collect();
    plan.text = Some(text.to_string());
    Ok(plan)
}

/// Deserialize the file into the raw schema, turning serde errors into located messages.
fn read_raw(text: &str, path: &Path, format: Format) -> Result<schema::RawPlan, PlanError> {
    let (key_path, pos, msg) = match format {
        Format::Toml => {
            let de = match toml::Deserializer::parse(text) {
                Ok(de) => de,
                Err(e) => {
                    let pos = e.span().map(|s| line_col(text, s.start));
                    let mut msg = e.message().trim().to_string();
                    // toml says "duplicate key" without naming it: the span covers the key.
                    if msg == "duplicate key" {
                        if let Some(key) = e.span().and_then(|s| text.get(s)) {
                            let key = key.trim().trim_matches('"');
                            msg = format!(
                                "duplicate key \"{key}\" (each key may appear once per table)"
                            );
                        }
                    }
                    return Err(render(path, pos, &KeyPath::default(), &msg));
                }
            };
            match serde_path_to_error::deserialize(de) {
                Ok(raw) => return Ok(raw),
                Err(e) => {
                    let key_path = KeyPath::from_serde(e.path());
                    let inner = e.into_inner();
                    let pos = inner.span().map(|s| line_col(text, s.start));
                    (key_path, pos, inner.message().trim().to_string())
                }
            }
        }
        Format::Yaml => {
            let de = serde_yaml_ng::Deserializer::from_str(text);
            match serde_path_to_error::deserialize(de) {
                Ok(raw) => return Ok(raw),
                Err(e) => {
                    let key_path = KeyPath::from_serde(e.path());
                    let inner = e.into_inner();
                    let pos = inner.location().map(|l| (l.line(), l.column()));
                    let mut msg = yaml_message(&inner);
                    let at = pos.and_then(|(l, c)| {
                        let line = text.lines().nth(l.checked_sub(1)?)?;
                        line.chars().nth(c.checked_sub(1)?)
                    });
                    if at == Some('\t') {
                        msg.push_str(" (a tab: YAML indents with spaces only)");
                    }
                    (key_path, pos, msg)
                }
            }
        }
    };
    let (msg, unknown) = humanize(&msg);
    let key_path = match unknown {
        Some(k) if key_path.0.last() != Some(&error::Seg::Key(k.clone())) => key_path.key(&k),
        _ => key_path,
    };
    Err(render(path, pos, &key_path, &msg))
}

/// serde_yaml_ng's message without its own path prefix and "at line L column C" suffix.
fn yaml_message(e: &serde_yaml_ng::Error) -> String {
    // The position is given separately: drop every " at line L column C" in the text.
    static AT: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let full = e.to_string();
    let full = match AT.get_or_init(|| regex::Regex::new(r" at line \d+ column \d+").ok()) {
        Some(re) => re.replace_all(&full, "").into_owned(),
        None => full,
    };
    let mut msg = full.as_str();
    if let Some((head, rest)) = msg.split_once(": ") {
        let looks_like_path = !head.is_empty()
            && head
                .chars()
                .all(|c| c.is_alphanumeric() || "_-.[]?".contains(c));
        if looks_like_path {
            msg = rest;
        }
    }
    msg.trim().to_string()
}
