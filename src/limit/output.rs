//! What a search tells: the plan before it starts (with the longest it can take), one line
//! per step as it ends, then the limit, where it broke and why, the knee and the step table;
//! and the same as JSON (`--json`):
//!
//! ```text
//! { "model": "users" | "rate",
//!   "limit": null | { "users" | "rate": N, "rps", "p50_ms", "p95_ms", "p99_ms", "fail_ratio",
//!                     "confirmed" },
//!   "broke_at": null | { "users" | "rate": N, ..., "reasons": ["fail_ratio < 1%: ..."],
//!                        "top_failures": [{"method", "name", "message", "occurrences"}] },
//!   "knee": null | { "users" | "rate": N, "rps", "ok_rps", "p95_ms", ... },
//!   "inconclusive_at": null | N, "interrupted": false,
//!   "steps": [StepResult] }
//! ```

use std::io::{self, Write};

use serde_json::{json, Value};

use crate::duration::format_duration;
use crate::report::format::{console_ms, console_rate, pad_left, pad_right};

use super::step::StepResult;
use super::{LimitResult, LimitSpec, Model, Verdict};

/// The search's plan: what moves, the range, the step and the longest it can take.
pub fn write_plan<W: Write>(out: &mut W, spec: &LimitSpec) -> io::Result<()> {
    let b = &spec.bounds;
    let what = match spec.model {
        Model::Users { spawn_rate } => format!(
            "users from {} up to {} (ramped at {spawn_rate}/s)",
            b.start, b.max
        ),
        Model::Rate { max_users } => format!(
            "task starts per second from {} up to {} (at most {max_users} users)",
            b.start, b.max
        ),
    };
    writeln!(
        out,
        "Finding the limit: {what}, steps of {} settling then {} measured, resolution {}%.",
        format_duration(spec.step.settle),
        format_duration(spec.step.measure),
        b.resolution * 100.0
    )?;
    let thresholds: Vec<&str> = spec.thresholds.iter().map(|t| t.text.as_str()).collect();
    writeln!(
        out,
        "A step passes when {}. At most {} steps, {} at most.",
        thresholds.join(" and "),
        b.max_steps(),
        format_duration(spec.max_duration())
    )?;
    out.flush()
}

fn verdict_word(s: &StepResult) -> &'static str {
    match s.verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "FAIL",
        Verdict::Inconclusive => "inconclusive",
    }
}

/// One step's line, as it ends.
pub fn write_step<W: Write>(
    out: &mut W,
    model: &Model,
    n: usize,
    s: &StepResult,
) -> io::Result<()> {
    let again = if s.confirmation { " (again)" } else { "" };
    let why = match s.verdict {
        Verdict::Pass => String::new(),
        Verdict::Fail => format!(": {}", s.reasons().join("; ")),
        Verdict::Inconclusive => format!(": {}", s.generator.as_deref().unwrap_or_default()),
    };
    writeln!(
        out,
        "Step {n}: {}{again}: {} req/s, p95 {} ms, {:.2}% failed: {}{why}",
        model.level(s.level),
        console_rate(s.rps),
        console_ms(s.p95_ms),
        s.fail_ratio * 100.0,
        verdict_word(s),
    )?;
    out.flush()
}

/// The answer: the limit, where it broke and why, the knee, then the step table.
pub fn write_result<W: Write>(out: &mut W, r: &LimitResult) -> io::Result<()> {
    let m = &r.model;
    writeln!(out)?;
    let at_least = r.broke_at.is_none() && r.inconclusive_at.is_none() && !r.interrupted;
    match (r.limit, r.step_at(r.limit)) {
        (Some(level), Some(s)) => writeln!(
            out,
            "Limit: {}{}{}: {} req/s, p95 {} ms, {:.2}% failed",
            if at_least { "at least " } else { "" },
            m.level(level),
            if r.confirmed {
                " (passed twice)"
            } else if at_least {
                " (the most tried)"
            } else {
                ""
            },
            console_rate(s.rps),
            console_ms(s.p95_ms),
            s.fail_ratio * 100.0
        )?,
        _ => writeln!(out, "Limit: none: the first step did not pass")?,
    }
    match (r.broke_at, r.step_at(r.broke_at)) {
        (Some(level), Some(s)) => {
            writeln!(
                out,
                "Broke at: {}: {}",
                m.level(level),
                s.reasons().join("; ")
            )?;
            for f in &s.top_failures {
                writeln!(
                    out,
                    "  {} x {} {}: {}",
                    f.occurrences, f.method, f.name, f.message
                )?;
            }
        }
        _ if r.inconclusive_at.is_none() && !r.interrupted => {
            writeln!(out, "Broke at: nothing broke up to the maximum")?
        }
        _ => {}
    }
    if let Some(at) = r.inconclusive_at {
        writeln!(
            out,
            "Inconclusive at {}: Surge could not hold this load, so the step says nothing \
             about the target. Add cores (--workers), run Surge on another machine, or stop \
             the search below it (--max-users / --max-rate).",
            m.level(at)
        )?;
    }
    if let Some(k) = r.knee() {
        writeln!(
            out,
            "Knee: {} ({} successful req/s, p95 {} ms): beyond it more load bought little \
             more throughput",
            m.level(k.level),
            console_rate(k.ok_rps()),
            console_ms(k.p95_ms)
        )?;
    }
    writeln!(out)?;
    write_table(out, r)
}

/// The step table: level, req/s, percentiles, fail %, generator, verdict.
pub fn write_table<W: Write>(out: &mut W, r: &LimitResult) -> io::Result<()> {
    let head = [
        (r.model.unit(), 10),
        ("req/s", 10),
        ("p50 ms", 9),
        ("p95 ms", 9),
        ("p99 ms", 9),
        ("fail %", 8),
        ("generator", 10),
    ];
    let mut line = pad_right("step", 5);
    for (h, w) in head {
        line.push_str(&pad_left(h, w));
    }
    writeln!(out, "{line}  verdict")?;
    for (i, s) in r.steps.iter().enumerate() {
        let cells = [
            format!("{}", s.level),
            console_rate(s.rps),
            console_ms(s.p50_ms),
            console_ms(s.p95_ms),
            console_ms(s.p99_ms),
            format!("{:.2}", s.fail_ratio * 100.0),
            if s.generator.is_some() {
                "overloaded"
            } else {
                "ok"
            }
            .to_string(),
        ];
        let mut line = pad_right(&(i + 1).to_string(), 5);
        for (c, (_, w)) in cells.iter().zip(head) {
            line.push_str(&pad_left(c, w));
        }
        let again = if s.confirmation { " (again)" } else { "" };
        writeln!(out, "{line}  {}{again}", verdict_word(s))?;
    }
    out.flush()
}

fn level_json(m: &Model, s: &StepResult) -> Value {
    let mut v = json!({
        "rps": s.rps,
        "p50_ms": s.p50_ms,
        "p95_ms": s.p95_ms,
        "p99_ms": s.p99_ms,
        "fail_ratio": s.fail_ratio,
    });
    v[m.unit()] = json!(s.level);
    v
}

/// The search as JSON (shape in the module docs).
pub fn to_json(r: &LimitResult) -> Value {
    let m = &r.model;
    let limit = r.step_at(r.limit).map(|s| {
        let mut v = level_json(m, s);
        v["confirmed"] = json!(r.confirmed);
        v
    });
    let broke_at = r.step_at(r.broke_at).map(|s| {
        let mut v = level_json(m, s);
        v["reasons"] = json!(s.reasons());
        v["top_failures"] = json!(s.top_failures);
        v
    });
    json!({
        "model": m.unit(),
        "limit": limit,
        "broke_at": broke_at,
        "knee": r.knee().map(|s| {
            let mut v = level_json(m, s);
            v["ok_rps"] = json!(s.ok_rps());
            v
        }),
        "inconclusive_at": r.inconclusive_at,
        "interrupted": r.interrupted,
        "steps": r.steps,
    })
}

/// Write [`to_json`] to `path`; errors name the file.
pub fn write_json_file(path: &std::path::Path, r: &LimitResult) -> io::Result<()> {
    let text = serde_json::to_string_pretty(&to_json(r)).map_err(io::Error::other)?;
    std::fs::write(path, text + "\n")
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// What a threshold's text names, without its limit: `p95` of `p95 < 500ms`,
/// `GET /orders: p99` of `GET /orders: p99 < 1s`.
fn metric_of(threshold: &str) -> &str {
    threshold
        .split(['<', '>'])
        .next()
        .unwrap_or(threshold)
        .trim()
}

/// What a saved search broke on: the metrics of the failed thresholds at `broke_at`, or
/// "nothing" when nothing broke.
fn broke_on(limit: &Value) -> String {
    let broke = &limit["broke_at"];
    if broke.is_null() {
        return "nothing".to_string();
    }
    let reasons: Vec<&str> = broke["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(metric_of)
        .collect();
    if reasons.is_empty() {
        "no answer".to_string()
    } else {
        reasons.join(" and ")
    }
}

/// How the limit moved between two saved searches (their `to_json`):
/// `limit 46 → 120 users (+161 %), broke on fail_ratio → p95`. `None` unless both are
/// searches of the same model.
pub fn limit_change(before: &Value, after: &Value) -> Option<String> {
    let model = before["model"].as_str()?;
    if after["model"].as_str()? != model {
        return None;
    }
    let level = |v: &Value| v["limit"][model].as_f64();
    let unit = if model == "rate" {
        " starts/s"
    } else {
        " users"
    };
    let show = |v: &Value| match level(v) {
        Some(l) if v["broke_at"].is_null() && v["inconclusive_at"].is_null() => {
            format!("at least {l}")
        }
        Some(l) => format!("{l}"),
        None => "none".to_string(),
    };
    let change = match (level(before), level(after)) {
        (Some(a), Some(b)) if a > 0.0 => format!(" ({:+.0} %)", (b - a) / a * 100.0),
        _ => String::new(),
    };
    Some(format!(
        "limit {} → {}{unit}{change}, broke on {} → {}",
        show(before),
        show(after),
        broke_on(before),
        broke_on(after)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_searches_say_how_the_limit_moved() {
        let before = json!({"model": "users", "limit": {"users": 46.0},
            "broke_at": {"users": 47.0, "reasons": ["fail_ratio < 1%: fail_ratio = 4.2 % (limit < 1 %)"]},
            "inconclusive_at": null});
        let after = json!({"model": "users", "limit": {"users": 120.0},
            "broke_at": {"users": 125.0, "reasons": ["GET /orders: p95 < 500ms: p95 = 612 ms (limit < 500 ms)"]},
            "inconclusive_at": null});
        assert_eq!(
            limit_change(&before, &after).unwrap(),
            "limit 46 → 120 users (+161 %), broke on fail_ratio → GET /orders: p95"
        );
        let open = json!({"model": "users", "limit": {"users": 400.0}, "broke_at": null,
            "inconclusive_at": null});
        assert_eq!(
            limit_change(&before, &open).unwrap(),
            "limit 46 → at least 400 users (+770 %), broke on fail_ratio → nothing"
        );
        let rate = json!({"model": "rate", "limit": {"rate": 700.0}});
        assert_eq!(limit_change(&before, &rate), None);
        assert_eq!(limit_change(&json!({}), &before), None);
    }
}
