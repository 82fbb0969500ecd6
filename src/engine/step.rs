//! Prepared steps: a plan's requests with everything static worked out once per run, and the
//! per-request rendering of the dynamic parts.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, Method};

use super::outcome::{check, Failure};
use super::urls::name_of;
pub use super::urls::{join, JoinError};
use crate::client::{FixedRequest, Request, Response};
use crate::plan::template::{RenderCtx, ResponseVars, Template};
use crate::plan::{json_path, Body, CaptureSource, Step};

/// An error of the plan's own logic at run time: recorded as an exception, not a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanException(pub String);

/// A step ready to run: static URL, name and headers resolved once.
///
/// `repr(C)` keeps [`Hot`] first and in one piece (see there).
#[derive(Debug)]
#[repr(C)]
pub struct PreparedStep {
    hot: Hot,
    pub step: Step,
    /// The full URL when nothing in it is dynamic.
    static_url: Option<url::Url>,
    /// Plan-wide headers merged with the step's, when all are literal.
    static_headers: Option<HeaderMap>,
    /// Plan-wide headers (templates), used when some header is dynamic.
    plan_headers: Vec<(String, Template)>,
    /// Base URL (no trailing slash) for relative paths.
    base: Option<Arc<str>>,
}

/// What every request of a step reads, side by side at the start of the step and aligned to
/// a cache line. With a hundred steps taking turns, a step was last used about a hundred
/// requests ago and its memory has left the core's caches: each distinct cache line a
/// request reads from it is a miss, and they were scattered over the step (the request
/// here, the checks and captures in the plan's `Step`). Gathering them, with the slot log
/// in `stats::slots`, took 2.6 % off the CPU per request of a 100-step plan.
#[derive(Debug)]
#[repr(C, align(64))]
struct Hot {
    /// The whole request when nothing in it is dynamic: lent to every send, never rebuilt,
    /// its head encoded once (what a send reads of it comes first in it).
    static_request: Option<FixedRequest>,
    /// The statistics name when it does not depend on rendering.
    static_name: Option<Arc<str>>,
    /// This step's statistics slot in every worker when its name is fixed for the run
    /// (numbered by [`RunCtx::prepare`](super::run::RunCtx::prepare)).
    slot: Option<usize>,
    /// The checks or captures read the body.
    keep_body: bool,
    /// The only check is the default one (status below 400): a success needs no look at
    /// the checks.
    status_only: bool,
    /// The step captures variables.
    captures: bool,
}

/// A request built for sending (or lent, when the step is static), with its statistics
/// name.
pub struct Built<'a> {
    pub request: Outgoing<'a>,
    /// Lent when fixed: no reference count touched per request.
    pub name: Cow<'a, Arc<str>>,
    /// The step's statistics slot, when `name` is the step's fixed name.
    pub slot: Option<usize>,
}

/// A step's request for one send.
// As large as the `Cow<Request>` it replaced: it lives only for the send, and boxing the
// rendered request would add an allocation to every dynamic request.
#[allow(clippy::large_enum_variant)]
pub enum Outgoing<'a> {
    /// The step's own fixed request, lent.
    Fixed(&'a FixedRequest),
    /// Rendered for this send.
    Built(Request),
}

impl Outgoing<'_> {
    /// The request's method (for its statistics).
    pub fn method(&self) -> &Method {
        match self {
            Outgoing::Fixed(f) => &f.method,
            Outgoing::Built(r) => &r.method,
        }
    }
}

impl PreparedStep {
    pub fn new(step: &Step, base: Option<&Arc<str>>, plan_headers: &[(String, Template)]) -> Self {
        let literal_path = step.url.as_literal().map(str::to_string);
        let static_url = match (&literal_path, step.query.is_empty()) {
            (Some(path), true) => join(base.map(|b| &**b), path).ok(),
            _ => None,
        };
        let static_name = step
            .name
            .as_deref()
            .map(Arc::from)
            .or_else(|| literal_path.as_deref().map(|p| Arc::from(name_of(p))));
        let all_literal = plan_headers
            .iter()
            .chain(step.headers.iter())
            .all(|(_, t)| t.as_literal().is_some());
        let static_headers = if all_literal {
            let ctx_vars = Default::default();
            let ctx = RenderCtx::new(0, &ctx_vars, None);
            headers(plan_headers, &step.headers, &ctx).ok()
        } else {
            None
        };
        let static_body = match &step.body {
            None => Some(Bytes::new()),
            Some(Body::Raw(t)) => t.as_literal().map(|b| Bytes::from(b.to_string())),
            Some(_) => None,
        };
        let static_request = match (&static_url, &static_headers, static_body) {
            // A URL the client refuses is left to the send, which reports it.
            (Some(url), Some(headers), Some(body)) => FixedRequest::new(Request {
                method: step.method.clone(),
                url: url.clone(),
                headers: headers.clone(),
                body,
            })
            .ok(),
            _ => None,
        };
        PreparedStep {
            hot: Hot {
                static_request,
                static_name,
                slot: None,
                keep_body: step.checks.needs_body()
                    || step.checks.message_reads_body()
                    || step.captures.iter().any(|c| c.source.needs_body()),
                status_only: step.checks.status.is_empty() && !step.checks.needs_body(),
                captures: !step.captures.is_empty(),
            },
            step: step.clone(),
            static_url,
            static_headers,
            plan_headers: plan_headers.to_vec(),
            base: base.cloned(),
        }
    }

    /// Give this step statistics slot `slot` (its name must be fixed: see
    /// [`has_fixed_name`](Self::has_fixed_name)).
    pub fn set_slot(&mut self, slot: usize) {
        self.hot.slot = Some(slot);
    }

    /// Whether responses must be read in full (checks or captures look at the body).
    pub fn keep_body(&self) -> bool {
        self.hot.keep_body
    }

    /// Judge a response by the step's checks: `None` = success.
    pub fn judge(&self, resp: &Response) -> Option<Failure> {
        if self.hot.status_only && resp.status.as_u16() < 400 {
            return None;
        }
        check(resp, &self.step.checks)
    }

    /// The failure in the plan's words when the step's check has a `message`: rendered with
    /// the response (and the user's variables in `ctx`). A message that cannot be rendered
    /// leaves Surge's own and is returned as the plan's exception.
    #[cold]
    pub fn explain(
        &self,
        failure: Failure,
        resp: &Response,
        ctx: &RenderCtx,
    ) -> (Failure, Option<PlanException>) {
        let Some(template) = &self.step.checks.message else {
            return (failure, None);
        };
        let response = response_vars(resp, failure.to_string());
        let ctx = RenderCtx {
            response: Some(&response),
            ..*ctx
        };
        match template.render(&ctx) {
            // One line, as every grouped message: a table row, a CSV cell.
            Ok(text) if !text.trim().is_empty() => (
                Failure::Custom(text.split_whitespace().collect::<Vec<_>>().join(" ")),
                None,
            ),
            Ok(_) => (failure, None),
            Err(e) => (failure, Some(PlanException(format!("check message: {e}")))),
        }
    }

    /// Whether every request of this step has the same statistics name.
    pub fn has_fixed_name(&self) -> bool {
        self.hot.static_name.is_some()
    }

    /// Render this step into a request for the user whose variables are in `ctx`.
    pub fn build(&self, ctx: &RenderCtx) -> Result<Built<'_>, PlanException> {
        let hot = &self.hot;
        if let (Some(request), Some(name)) = (&hot.static_request, &hot.static_name) {
            return Ok(Built {
                request: Outgoing::Fixed(request),
                name: Cow::Borrowed(name),
                slot: hot.slot,
            });
        }
        let (request, name) = self.render(ctx)?;
        Ok(Built {
            request: Outgoing::Built(request),
            slot: hot.slot,
            name: Cow::Owned(name),
        })
    }

    /// The whole request this step sends for the user whose variables are in `ctx`, and its
    /// statistics name, rendered even when the step is fixed (what `surge check` shows).
    pub fn render(&self, ctx: &RenderCtx) -> Result<(Request, Arc<str>), PlanException> {
        let hot = &self.hot;
        let (url, name) = match (&self.static_url, &hot.static_name) {
            (Some(url), Some(name)) => (url.clone(), name.clone()),
            _ => {
                let path = self.step.url.render(ctx).map_err(template_err("url"))?;
                let mut url =
                    join(self.base.as_deref(), &path).map_err(|e| PlanException(e.to_string()))?;
                if !self.step.query.is_empty() {
                    let mut pairs = url.query_pairs_mut();
                    for (k, t) in &self.step.query {
                        pairs.append_pair(k, &t.render(ctx).map_err(template_err(k))?);
                    }
                }
                let name = hot
                    .static_name
                    .clone()
                    .unwrap_or_else(|| Arc::from(name_of(&path)));
                (url, name)
            }
        };
        let mut headers = match &self.static_headers {
            Some(h) => h.clone(),
            None => headers(&self.plan_headers, &self.step.headers, ctx)?,
        };
        let body = match &self.step.body {
            None => Bytes::new(),
            Some(Body::Json(t)) => {
                let value = t.render(ctx).map_err(template_err("json"))?;
                set_default(&mut headers, "application/json");
                Bytes::from(serde_json::to_vec(&value).unwrap_or_default())
            }
            Some(Body::Form(fields)) => {
                let mut ser = url::form_urlencoded::Serializer::new(String::new());
                for (k, t) in fields {
                    ser.append_pair(k, &t.render(ctx).map_err(template_err(k))?);
                }
                set_default(&mut headers, "application/x-www-form-urlencoded");
                Bytes::from(ser.finish())
            }
            Some(Body::Raw(t)) => Bytes::from(t.render(ctx).map_err(template_err("body"))?),
        };
        let request = Request {
            method: self.step.method.clone(),
            url,
            headers,
            body,
        };
        Ok((request, name))
    }

    /// Apply the step's captures to the user's variables.
    pub fn capture(
        &self,
        resp: &Response,
        vars: &mut crate::plan::template::Vars,
    ) -> Result<(), PlanException> {
        if !self.hot.captures {
            return Ok(());
        }
        let mut json: Option<serde_json::Value> = None;
        for cap in &self.step.captures {
            let value = match &cap.source {
                CaptureSource::Header(h) => resp
                    .headers
                    .get(h.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(|s| serde_json::Value::String(s.to_string()))
                    .ok_or_else(|| {
                        format!("capture \"{}\": no header \"{h}\" in the response", cap.var)
                    }),
                CaptureSource::Json(path) => {
                    if json.is_none() {
                        json = Some(serde_json::from_slice(&resp.body).map_err(|_| {
                            PlanException(format!(
                                "capture \"{}\": response body is not JSON",
                                cap.var
                            ))
                        })?);
                    }
                    json.as_ref()
                        .and_then(|j| json_path::lookup(j, path))
                        .cloned()
                        .ok_or_else(|| {
                            format!("capture \"{}\": no value at JSON path \"{path}\"", cap.var)
                        })
                }
                CaptureSource::Regex(re) => {
                    let text = String::from_utf8_lossy(&resp.body);
                    re.captures(&text)
                        .and_then(|c| c.get(1).or_else(|| c.get(0)))
                        .map(|m| serde_json::Value::String(m.as_str().to_string()))
                        .ok_or_else(|| {
                            format!(
                                "capture \"{}\": regex /{}/ did not match",
                                cap.var,
                                re.as_str()
                            )
                        })
                }
            }
            .map_err(PlanException)?;
            vars.insert(cap.var.clone(), value);
        }
        Ok(())
    }
}

/// What a check message sees of a response.
fn response_vars(resp: &Response, reason: String) -> ResponseVars {
    let mut headers = std::collections::BTreeMap::new();
    for (name, value) in resp.headers.iter() {
        let value = String::from_utf8_lossy(value.as_bytes());
        headers
            .entry(name.as_str().to_string())
            .and_modify(|v: &mut String| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    ResponseVars {
        status: resp.status.as_u16(),
        reason,
        json: serde_json::from_slice(&resp.body).unwrap_or(serde_json::Value::Null),
        text: String::from_utf8_lossy(&resp.body).into_owned(),
        headers,
    }
}

fn template_err(what: &str) -> impl Fn(crate::plan::template::TemplateError) -> PlanException + '_ {
    move |e| PlanException(format!("template error in {what}: {e}"))
}

fn set_default(headers: &mut HeaderMap, content_type: &'static str) {
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
}

fn headers(
    plan: &[(String, Template)],
    step: &[(String, Template)],
    ctx: &RenderCtx,
) -> Result<HeaderMap, PlanException> {
    let mut map = HeaderMap::new();
    for (k, t) in plan.iter().chain(step.iter()) {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| PlanException(format!("\"{k}\" is not a valid header name")))?;
        let value = t.render(ctx).map_err(template_err(k))?;
        let value = HeaderValue::from_str(&value).map_err(|_| {
            PlanException(format!("header \"{k}\": value is not valid in a header"))
        })?;
        map.insert(name, value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status: http::StatusCode::from_u16(status).unwrap(),
            headers: crate::client::headers::Headers::from_map(HeaderMap::new()),
            body: Bytes::from(body.to_string()),
            body_truncated: false,
            body_len: body.len() as u64,
            received: None,
        }
    }

    #[test]
    fn judging_matches_the_checks() {
        let plan = crate::plan::parse(
            "[[scenarios]]\nname = \"s\"\n\
             [[scenarios.tasks]]\npath = \"/plain\"\n\
             [[scenarios.tasks]]\npath = \"/created\"\ncheck = { status = [201] }\n\
             [[scenarios.tasks]]\npath = \"/body\"\ncheck = { contains = \"ok\" }\n",
            std::path::Path::new("plan.toml"),
        )
        .unwrap();
        let steps: Vec<PreparedStep> = plan.scenarios[0]
            .tasks
            .iter()
            .map(|t| PreparedStep::new(&t.steps[0], None, &[]))
            .collect();
        let cases = [
            (200, "ok"),
            (201, "ok"),
            (204, ""),
            (302, "no"),
            (404, "ok"),
            (500, "boom"),
        ];
        for step in &steps {
            for (status, body) in cases {
                let resp = response(status, body);
                assert_eq!(
                    step.judge(&resp),
                    check(&resp, &step.step.checks),
                    "{} with {status} {body:?}",
                    step.step.url.as_literal().unwrap()
                );
            }
        }
        assert!(steps[0].judge(&response(500, "")).is_some());
        assert!(steps[1].judge(&response(200, "")).is_some());
        assert!(steps[2].judge(&response(200, "no")).is_some());
    }

    #[test]
    fn names_are_path_and_query() {
        assert_eq!(name_of("http://127.0.0.1:8080/delay?ms=10"), "/delay?ms=10");
        assert_eq!(name_of("/orders"), "/orders");
    }
}
