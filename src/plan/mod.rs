//! Test plans: files (TOML or YAML, one schema) or a single URL, validated into [`Plan`].
//!
//! - `model`: the validated types the engine runs.
//! - `template`: dynamic values (minijinja) rendered per request with the user's variables.
//! - `data`: CSV data files whose rows are handed to users.

pub mod data;
pub mod json_path;
pub mod model;
pub mod template;

pub use model::*;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Why a plan could not be used. The message names the file, line, column and key.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Per-request timeout when neither the plan nor the CLI sets one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Redirects followed when the plan does not say.
pub const DEFAULT_MAX_REDIRECTS: u32 = 10;

/// A plan that requests exactly `url` (path and query included), like wrk and oha.
pub fn from_url(url: &str) -> Result<Plan, PlanError> {
    let parsed = url::Url::parse(url)
        .map_err(|e| PlanError::Invalid(format!("--host \"{url}\": not a valid URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(PlanError::Invalid(format!(
            "--host \"{url}\": only http:// and https:// URLs can be load-tested"
        )));
    }
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
pub fn parse(_text: &str, path: &Path) -> Result<Plan, PlanError> {
    Err(PlanError::Invalid(format!(
        "{}: plan files are not supported yet",
        path.display()
    )))
}
