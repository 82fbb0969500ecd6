//! `surge check PLAN [-H URL] [--render N]`: validate a plan and show what it would send,
//! without sending anything.
//!
//! Each task's requests are rendered for users 0, 1, ... (each with its data row, when the
//! plan has a data file) exactly as the engine builds them: method, URL, headers and body.
//! Values that only a response can give (captures) are shown as `$name`. A plan that does
//! not load is the usual positioned error and exit code 2.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use crate::engine::step::PreparedStep;
use crate::plan::template::{RenderCtx, Vars};
use crate::plan::{self, Plan, Step};

/// Most requests `--render` shows per task.
pub const MAX_RENDER: usize = 100;

/// Longest body shown, in bytes (a longer one is cut, with its size).
const MAX_BODY_SHOWN: usize = 2000;

/// The base URL relative paths are joined to when neither `-H` nor the plan has a host; it
/// is never requested (`.invalid` cannot resolve, RFC 2606) and is left out when printed.
const NO_HOST: &str = "http://no-host.invalid";

/// `surge check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Plan file (.toml, .yaml or .yml).
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Host that relative paths are joined to (overrides the plan's `host`).
    #[arg(short = 'H', long, value_name = "URL")]
    pub host: Option<String>,
    /// Requests to render per task (0 = only validate).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub render: usize,
}

/// Why `surge check` could not check (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Validate the plan and print its summary, warnings and rendered requests.
pub fn run(args: &CheckArgs, out: &mut dyn Write) -> Result<(), CheckError> {
    if args.render > MAX_RENDER {
        return Err(CheckError::Usage(format!(
            "--render must be at most {MAX_RENDER}, got {}",
            args.render
        )));
    }
    let host = match &args.host {
        Some(h) => {
            crate::base_url::parse(h).map_err(|e| CheckError::Usage(format!("-H/--host: {e}")))?;
            Some(h.trim().to_string())
        }
        None => None,
    };
    let plan = plan::load(&args.plan)?;
    let base: Arc<str> = host
        .or_else(|| plan.host.clone())
        .unwrap_or_else(|| NO_HOST.to_string())
        .into();
    writeln!(out, "{}: valid ({})", args.plan.display(), summary(&plan))?;
    if &*base == NO_HOST {
        writeln!(
            out,
            "No host (-H or `host` in the plan): relative paths are shown without one."
        )?;
    }
    for w in &plan.warnings {
        writeln!(out, "warning: {w}")?;
    }
    if args.render == 0 {
        return Ok(());
    }
    let captured = placeholders(&plan);
    if !captured.is_empty() {
        let mut names: Vec<&String> = captured.keys().collect();
        names.sort();
        let names: Vec<String> = names.iter().map(|n| format!("${n}")).collect();
        writeln!(
            out,
            "Captured values are shown as {} (a response gives them at run time).",
            names.join(", ")
        )?;
    }
    let rows = plan
        .data
        .as_ref()
        .map(|d| d.rows.clone())
        .unwrap_or_default();
    for scenario in &plan.scenarios {
        writeln!(out)?;
        writeln!(out, "scenario \"{}\"", scenario.name)?;
        let user_ctx = |user: usize| (user as u64, rows.get(user % rows.len().max(1)).cloned());
        if !scenario.on_start.is_empty() {
            let (user, row) = user_ctx(0);
            let ctx = RenderCtx::new(user, &captured, row.as_deref());
            writeln!(out, "  on_start (once per user; user 0):")?;
            for (i, step) in scenario.on_start.iter().enumerate() {
                show(out, &plan, &base, step, &ctx, &format!("{}.", i + 1))?;
            }
        }
        for task in &scenario.tasks {
            writeln!(out, "  task \"{}\" (weight {})", task.name, task.weight)?;
            for n in 0..args.render {
                let (user, row) = user_ctx(n);
                let ctx = RenderCtx::new(user, &captured, row.as_deref());
                for (i, step) in task.steps.iter().enumerate() {
                    let label = match task.steps.len() {
                        1 => format!("user {user}:"),
                        _ => format!("user {user}, step {}:", i + 1),
                    };
                    show(out, &plan, &base, step, &ctx, &label)?;
                }
            }
        }
    }
    Ok(())
}

/// `2 scenarios, 5 tasks, 7 requests, data file of 20 rows, 2 thresholds`.
fn summary(plan: &Plan) -> String {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let tasks: usize = plan.scenarios.iter().map(|s| s.tasks.len()).sum();
    let requests: usize = plan
        .scenarios
        .iter()
        .map(|s| s.on_start.len() + s.tasks.iter().map(|t| t.steps.len()).sum::<usize>())
        .sum();
    let mut parts = vec![
        plural(plan.scenarios.len(), "scenario"),
        plural(tasks, "task"),
        plural(requests, "request"),
    ];
    if let Some(d) = &plan.data {
        parts.push(format!("data file of {}", plural(d.rows.len(), "row")));
    }
    if !plan.thresholds.is_empty() {
        parts.push(plural(plan.thresholds.len(), "threshold"));
    }
    parts.join(", ")
}

/// Every captured name, with `$name` standing for its value.
fn placeholders(plan: &Plan) -> Vars {
    let mut vars = Vars::new();
    let steps = plan.scenarios.iter().flat_map(|s| {
        s.on_start
            .iter()
            .chain(s.tasks.iter().flat_map(|t| t.steps.iter()))
    });
    for step in steps {
        for capture in &step.captures {
            let shown = serde_json::Value::String(format!("${}", capture.var));
            vars.insert(capture.var.clone(), shown);
        }
    }
    vars
}

/// Prints one rendered request (or why it cannot be rendered).
fn show(
    out: &mut dyn Write,
    plan: &Plan,
    base: &Arc<str>,
    step: &Step,
    ctx: &RenderCtx,
    label: &str,
) -> std::io::Result<()> {
    let prepared = PreparedStep::new(step, Some(base), &plan.headers);
    let (request, name) = match prepared.render(ctx) {
        Ok(r) => r,
        Err(e) => {
            return writeln!(
                out,
                "    {label} cannot be rendered (at run time this is an exception): {}",
                e.0
            )
        }
    };
    let url = request.url.as_str();
    let url = url.strip_prefix(NO_HOST).unwrap_or(url);
    writeln!(out, "    {label} {} {url}", request.method)?;
    if name.as_ref() != request.url.path() {
        writeln!(out, "      (statistics name: {name})")?;
    }
    for (k, v) in &request.headers {
        writeln!(out, "      {k}: {}", String::from_utf8_lossy(v.as_bytes()))?;
    }
    if !request.body.is_empty() {
        let shown = &request.body[..request.body.len().min(MAX_BODY_SHOWN)];
        write!(out, "      {}", String::from_utf8_lossy(shown))?;
        if request.body.len() > MAX_BODY_SHOWN {
            write!(out, "… ({} bytes)", request.body.len())?;
        }
        writeln!(out)?;
    }
    Ok(())
}
