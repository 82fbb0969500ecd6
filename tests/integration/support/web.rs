//! Calling the dashboard's router in process (`tower::ServiceExt::oneshot`): one request in,
//! status, headers and body text out.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use surge::web::{self, AppState, Defaults, Security};
use tower::ServiceExt;

/// A response, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    /// The body as JSON (panics with the body if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// A header as text ("" when absent).
    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// Send `req` to `app` and read the answer.
pub async fn send(app: &Router, req: Request<Body>) -> Answer {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// `method uri`, with `form` as an urlencoded body.
pub async fn call(app: &Router, method: &str, uri: &str, form: Option<&str>) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    let body = match form {
        Some(f) => {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(f.to_string())
        }
        None => Body::empty(),
    };
    send(app, req.body(body).unwrap()).await
}

pub async fn get(app: &Router, uri: &str) -> Answer {
    call(app, "GET", uri, None).await
}

pub async fn swarm(app: &Router, form: &str) -> Answer {
    call(app, "POST", "/swarm", Some(form)).await
}

/// The dashboard's router with this security configuration.
pub fn app_with(security: Security, defaults: Defaults) -> (AppState, Router) {
    let state = AppState::new(super::engine(), defaults, false).with_security(security);
    (state.clone(), web::app(state))
}

/// The dashboard as `surge` serves it by default: loopback, no login.
pub fn local() -> (AppState, Router) {
    app_with(Security::default(), Defaults::empty())
}

/// `method uri` with these headers and body.
pub async fn req(
    app: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut r = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    send(app, r.body(Body::from(body.to_string())).unwrap()).await
}

/// The answer is this status with this JSON body.
pub fn assert_answer(a: &Answer, status: StatusCode, body: serde_json::Value) {
    assert_eq!(a.status, status, "{}", a.body);
    assert!(a
        .header(header::CONTENT_TYPE)
        .starts_with("application/json"));
    assert_eq!(a.json(), body);
}
