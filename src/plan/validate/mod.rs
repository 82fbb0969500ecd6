//! Turning the raw file syntax (`schema`) into the validated model: defaults, cross-key rules,
//! value ranges, template and regex compilation, data file loading. Every problem is an
//! [`Issue`] naming the key it is about; the caller adds the file position.

mod hints;
mod load;
mod names;

use std::path::Path;
use std::sync::Arc;

use super::error::{Issue, KeyPath};
use super::model::*;
use super::schema::*;
use super::template::{JsonTemplate, Template, RESPONSE_VARS};
use super::{DEFAULT_MAX_REDIRECTS, DEFAULT_TIMEOUT};
use load::{data, load, positive};
use names::Known;

/// A validation result: the value or the first problem found.
type R<T> = Result<T, Issue>;

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Validate a whole plan; `source` locates relative data files. Returns the plan and the
/// warnings about it (valid text that is probably not what was meant).
pub(crate) fn plan(raw: RawPlan, source: &Path) -> R<(Plan, Vec<Issue>)> {
    let root = KeyPath::default();
    let host = match raw.host {
        Some(h) => Some(check_url(&h, &root.key("host"))?),
        None => None,
    };
    let timeout = match raw.timeout {
        Some(Dur(d)) if d.is_zero() => {
            return Err(Issue::new(
                &root.key("timeout"),
                "must be above 0 (e.g. \"30s\")",
            ))
        }
        Some(Dur(d)) => d,
        None => DEFAULT_TIMEOUT,
    };
    let (load, run_time) = match raw.load {
        Some(l) => load(l, &root.key("load"))?,
        None => (None, None),
    };
    let known = Known::of(raw.scenarios.as_deref().unwrap_or_default());
    let data = match raw.data {
        Some(d) => Some(Arc::new(data(d, source, &root.key("data"))?)),
        None => None,
    };
    let known = match data.as_ref().and_then(|d| d.rows.first()) {
        Some(row) => known.with_columns(row.keys().cloned().collect()),
        None => known,
    };
    let headers = headers(raw.headers, &root.key("headers"), &known)?;
    let raw_scenarios = raw.scenarios.unwrap_or_default();
    if raw_scenarios.is_empty() {
        return Err(Issue::new(
            &root.key("scenarios"),
            "a plan needs at least one scenario ([[scenarios]] with tasks)",
        ));
    }
    let mut scenarios: Vec<Arc<Scenario>> = Vec::new();
    for (i, s) in raw_scenarios.into_iter().enumerate() {
        let at = root.key("scenarios").index(i);
        let s = scenario(s, i, &at, &known)?;
        if scenarios.iter().any(|o| o.name == s.name) {
            return Err(Issue::new(
                &at.key("name"),
                format!(
                    "duplicate scenario name \"{}\" (names must be unique)",
                    s.name
                ),
            ));
        }
        scenarios.push(Arc::new(s));
    }
    let thresholds = raw.thresholds.unwrap_or_default();
    for (i, t) in thresholds.iter().enumerate() {
        if let Err(e) = crate::thresholds::parse(t) {
            return Err(Issue::new(
                &root.key("thresholds").index(i),
                e.problem.to_string(),
            ));
        }
    }
    let mut metrics = Vec::new();
    for (i, m) in raw.metrics.unwrap_or_default().into_iter().enumerate() {
        let at = root.key("metrics").index(i);
        let source = crate::scrape::Source::new(
            &m.url,
            m.name.as_deref(),
            m.every.map(|d| d.0),
            m.series.unwrap_or_default(),
        )
        .map_err(|e| {
            let key = match e {
                crate::scrape::SourceError::TooOften(_) => "every",
                crate::scrape::SourceError::EmptySeries => "series",
                _ => "url",
            };
            Issue::new(&at.key(key), e.to_string())
        })?;
        metrics.push(source);
    }
    crate::scrape::unique_names(&mut metrics);
    let plan = Plan {
        thresholds,
        metrics,
        warnings: Vec::new(),
        source: Some(source.to_path_buf()),
        text: None,
        host,
        headers,
        timeout,
        max_redirects: raw.redirects.unwrap_or(DEFAULT_MAX_REDIRECTS),
        scenarios,
        load,
        run_time,
        data,
    };
    Ok((plan, known.into_warnings()))
}

fn check_url(u: &str, at: &KeyPath) -> R<String> {
    crate::base_url::parse(u)
        .map(|_| u.to_string())
        .map_err(|e| Issue::new(at, e.to_string()))
}

fn count(v: i64, at: &KeyPath) -> R<u32> {
    u32::try_from(v).ok().filter(|n| *n >= 1).ok_or_else(|| {
        Issue::new(
            at,
            format!("{v} is out of range (expected a whole number >= 1)"),
        )
    })
}

fn scenario(s: RawScenario, i: usize, at: &KeyPath, known: &Known) -> R<Scenario> {
    let name = s.name.unwrap_or_else(|| format!("scenario {}", i + 1));
    if s.weight.is_some() && s.count.is_some() {
        return Err(Issue::new(
            &at.key("count"),
            "\"weight\" and \"count\" cannot both be set (use one)",
        ));
    }
    let weight = s.weight.map_or(Ok(1), |w| count(w, &at.key("weight")))?;
    let fixed_count = s.count.map(|c| count(c, &at.key("count"))).transpose()?;
    let wait = match s.wait {
        Some(w) => wait(w, &at.key("wait"))?,
        None => WaitTime::None,
    };
    let on_start = steps(s.on_start.unwrap_or_default(), &at.key("on_start"), known)?;
    let raw_tasks = s.tasks.unwrap_or_default();
    if raw_tasks.is_empty() {
        return Err(Issue::new(
            &at.key("tasks"),
            format!("scenario \"{name}\" needs at least one task ([[scenarios.tasks]])"),
        ));
    }
    let tasks = raw_tasks
        .into_iter()
        .enumerate()
        .map(|(j, t)| task(t, &at.key("tasks").index(j), known))
        .collect::<R<Vec<_>>>()?;
    Ok(Scenario {
        name,
        weight,
        fixed_count,
        wait,
        on_start,
        tasks,
    })
}

fn seconds(v: f64, at: &KeyPath) -> R<f64> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(Issue::new(
            at,
            format!("{v} is out of range (expected seconds >= 0)"),
        ))
    }
}

fn wait(w: RawWait, at: &KeyPath) -> R<WaitTime> {
    let mut found = Vec::new();
    if let Some(b) = w.between {
        let at = at.key("between");
        let [lo, hi] = b[..] else {
            return Err(Issue::new(
                &at,
                "expected two numbers [min, max] in seconds",
            ));
        };
        let (lo, hi) = (seconds(lo, &at)?, seconds(hi, &at)?);
        if lo > hi {
            return Err(Issue::new(
                &at,
                format!("[{lo}, {hi}]: the first bound must not exceed the second"),
            ));
        }
        found.push(WaitTime::Between(lo, hi));
    }
    if let Some(c) = w.constant {
        found.push(WaitTime::Constant(seconds(c, &at.key("constant"))?));
    }
    if let Some(c) = w.constant_pacing {
        found.push(WaitTime::ConstantPacing(seconds(
            c,
            &at.key("constant_pacing"),
        )?));
    }
    if let Some(c) = w.constant_throughput {
        let c = positive(c, &at.key("constant_throughput"), f64::MAX)?;
        found.push(WaitTime::ConstantThroughput(c));
    }
    match found[..] {
        [one] => Ok(one),
        _ => Err(Issue::new(
            at,
            "expected exactly one of between = [min, max], constant, constant_pacing or constant_throughput",
        )),
    }
}

fn task(t: RawTask, at: &KeyPath, known: &Known) -> R<Task> {
    let weight = t.weight.map_or(Ok(1), |w| count(w, &at.key("weight")))?;
    let inline = t.request_keys();
    let label = t.name.clone();
    let steps = match t.steps {
        Some(_) if !inline.is_empty() => {
            return Err(Issue::new(
                &at.key(inline[0]),
                format!(
                    "a task has either request keys ({}) or \"steps\", not both",
                    inline.join(", ")
                ),
            ))
        }
        Some(raw) if raw.is_empty() => {
            return Err(Issue::new(&at.key("steps"), "needs at least one step"))
        }
        Some(raw) => steps(raw, &at.key("steps"), known)?,
        None if inline.is_empty() => {
            return Err(Issue::new(
                at,
                "a task needs a request (path or url) or \"steps\"",
            ))
        }
        None => {
            let weight_free = RawTask {
                steps: None,
                weight: None,
                ..t
            };
            vec![step(weight_free.into_step(), at, known)?]
        }
    };
    let name = match label {
        Some(n) => n,
        None => steps
            .first()
            .map(|s| s.name.clone().unwrap_or_else(|| s.url.source().to_string()))
            .unwrap_or_default(),
    };
    Ok(Task {
        name,
        weight,
        steps,
    })
}

fn steps(raw: Vec<RawStep>, at: &KeyPath, known: &Known) -> R<Vec<Step>> {
    raw.into_iter()
        .enumerate()
        .map(|(i, s)| step(s, &at.index(i), known))
        .collect()
}

/// Compiles a template and checks the names it reads against what the plan defines; a
/// function or variable in single braces gets a warning.
fn template(src: &str, at: &KeyPath, known: &Known) -> R<Template> {
    if let Some(hint) = hints::single_braces(src, known) {
        known.warn(at, hint);
    }
    raw_template(src, at, known)
}

/// [`template`] without the single-brace hint (a raw body's braces are usually JSON).
fn raw_template(src: &str, at: &KeyPath, known: &Known) -> R<Template> {
    let t = Template::compile(src).map_err(|e| Issue::new(at, format!("{e} in \"{src}\"")))?;
    known.check(t.names(), src, at)?;
    Ok(t)
}

fn templates(t: Option<Table<Text>>, at: &KeyPath, known: &Known) -> R<Vec<(String, Template)>> {
    let mut out = Vec::new();
    for (k, Text(v)) in t.map(|t| t.0).unwrap_or_default() {
        out.push((k.clone(), template(&v, &at.key(&k), known)?));
    }
    Ok(out)
}

fn headers(t: Option<Table<Text>>, at: &KeyPath, known: &Known) -> R<Vec<(String, Template)>> {
    let out = templates(t, at, known)?;
    for (k, v) in &out {
        if http::HeaderName::from_bytes(k.as_bytes()).is_err() {
            return Err(Issue::new(
                &at.key(k),
                format!("\"{k}\" is not a valid header name"),
            ));
        }
        let literal = v.as_literal();
        if literal.is_some_and(|v| http::HeaderValue::from_str(v).is_err()) {
            return Err(Issue::new(
                &at.key(k),
                format!(
                    "{:?} is not a valid header value (expected visible text: no line breaks or control characters)",
                    v.source()
                ),
            ));
        }
    }
    Ok(out)
}

fn step(s: RawStep, at: &KeyPath, known: &Known) -> R<Step> {
    let method = match &s.method {
        None => http::Method::GET,
        Some(m) => {
            let upper = m.trim().to_ascii_uppercase();
            if !METHODS.contains(&upper.as_str()) {
                return Err(Issue::new(
                    &at.key("method"),
                    format!("\"{m}\" is not an HTTP method (expected GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS)"),
                ));
            }
            http::Method::from_bytes(upper.as_bytes()).map_err(|_| {
                Issue::new(&at.key("method"), format!("\"{m}\" is not an HTTP method"))
            })?
        }
    };
    let url = match (&s.path, &s.url) {
        (Some(_), Some(_)) => {
            return Err(Issue::new(
                &at.key("url"),
                "\"path\" and \"url\" cannot both be set (use one)",
            ))
        }
        (None, None) => return Err(Issue::new(at, "a request needs \"path\" or \"url\"")),
        (Some(p), None) => {
            let t = template(p, &at.key("path"), known)?;
            if t.as_literal().is_some() && !p.starts_with('/') {
                return Err(Issue::new(
                    &at.key("path"),
                    format!("\"{p}\" must start with \"/\" (or use url = \"http://...\" for a full URL)"),
                ));
            }
            t
        }
        (None, Some(u)) => {
            let t = template(u, &at.key("url"), known)?;
            if t.as_literal().is_some() {
                check_url(u, &at.key("url"))?;
            }
            t
        }
    };
    let bodies: Vec<&str> = [
        ("json", s.json.is_some()),
        ("form", s.form.is_some()),
        ("body", s.body.is_some()),
    ]
    .iter()
    .filter(|(_, on)| *on)
    .map(|(k, _)| *k)
    .collect();
    if bodies.len() > 1 {
        return Err(Issue::new(
            &at.key(bodies[1]),
            format!(
                "only one body is allowed, found {} (use one of json, form or body)",
                bodies.join(" and ")
            ),
        ));
    }
    let body = if let Some(j) = s.json {
        let j = JsonTemplate::compile(j).map_err(|e| Issue::new(&at.key("json"), e.0))?;
        for leaf in j.names() {
            let scope: Vec<&str> = leaf.in_scope.iter().map(String::as_str).collect();
            known.check_in(&leaf.names, &leaf.source, &at.key("json"), &scope)?;
        }
        Some(Body::Json(j))
    } else if s.form.is_some() {
        Some(Body::Form(templates(s.form, &at.key("form"), known)?))
    } else if let Some(b) = &s.body {
        Some(Body::Raw(raw_template(b, &at.key("body"), known)?))
    } else {
        None
    };
    Ok(Step {
        method,
        url,
        query: templates(s.query, &at.key("query"), known)?,
        headers: headers(s.headers, &at.key("headers"), known)?,
        body,
        name: s.name,
        checks: s
            .check
            .map(|c| checks(c, &at.key("check"), known))
            .transpose()?
            .unwrap_or_default(),
        captures: captures(s.capture, &at.key("capture"))?,
    })
}

fn checks(c: RawCheck, at: &KeyPath, known: &Known) -> R<Checks> {
    let mut status = Vec::new();
    for s in c.status.map(|s| s.0).unwrap_or_default() {
        match u16::try_from(s) {
            Ok(code) if (100..=599).contains(&code) => status.push(code),
            _ => {
                return Err(Issue::new(
                    &at.key("status"),
                    format!("{s} is not an HTTP status (expected 100 to 599)"),
                ))
            }
        }
    }
    let message = match &c.message {
        Some(src) => {
            let at = at.key("message");
            let t =
                Template::compile(src).map_err(|e| Issue::new(&at, format!("{e} in \"{src}\"")))?;
            known.check_in(t.names(), src, &at, &RESPONSE_VARS)?;
            Some(t)
        }
        None => None,
    };
    Ok(Checks {
        status,
        message,
        is_json: c.json.unwrap_or(false),
        contains: c.contains.map(|c| c.0).unwrap_or_default(),
        json_equals: c.equals.map(|e| e.0).unwrap_or_default(),
    })
}

fn captures(c: Option<Table<RawCapture>>, at: &KeyPath) -> R<Vec<Capture>> {
    let mut out = Vec::new();
    for (var, raw) in c.map(|c| c.0).unwrap_or_default() {
        let at = at.key(&var);
        let ident = var
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ident || var == "row" || var == crate::plan::template::SURGE_VARS {
            return Err(Issue::new(
                &at,
                format!(
                    "\"{var}\" cannot be a variable name (letters, digits and _; not row or surge)"
                ),
            ));
        }
        let source = match (raw.json, raw.header, raw.regex) {
            (Some(p), None, None) => CaptureSource::Json(p),
            (None, Some(h), None) => CaptureSource::Header(h.to_ascii_lowercase()),
            (None, None, Some(r)) => CaptureSource::Regex(regex::Regex::new(&r).map_err(|e| {
                Issue::new(&at.key("regex"), format!(
                    "invalid regex: {}",
                    e.to_string().lines().last().unwrap_or_default().trim_start_matches("error: ")
                ))
            })?),
            _ => {
                return Err(Issue::new(
                    &at,
                    "expected exactly one of json = \"dotted.path\", header = \"name\" or regex = '...'",
                ))
            }
        };
        out.push(Capture { var, source });
    }
    Ok(out)
}
