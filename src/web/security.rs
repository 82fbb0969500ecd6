//! The dashboard's guard, in front of every route (Locust binds every interface with CORS `*`
//! and no login: anyone who reaches it can aim load anywhere).
//! In order, a request is refused when:
//!
//! 1. its `Host` is not a name the dashboard serves (403): loopback names and addresses, the
//!    bind address (any IP address when bound to `0.0.0.0`/`::`), and `--web-allowed-hosts`.
//!    A DNS-rebinding page sends its own name as `Host`, so it never gets through.
//! 2. its body is larger than [`MAX_BODY`] (413): refused before reading when its length is
//!    declared, cut off at the limit when it is not (tower-http's `RequestBodyLimitLayer`).
//! 3. it changes state (any method but GET/HEAD) and comes from another site: a browser's
//!    `Sec-Fetch-Site` other than `same-origin`/`none`, or, from a client without fetch
//!    metadata, an `Origin` that is not the dashboard's own (403). Scripts that send no
//!    `Origin` (curl) pass.
//! 4. it lacks credentials when authentication is on (401, see [`super::auth`]).
//!
//! Every answer, refusals included, carries a Content-Security-Policy without inline scripts,
//! `nosniff`, `frame-ancestors 'none'` (and `X-Frame-Options`), `Referrer-Policy: no-referrer`
//! and `Cross-Origin-Resource-Policy: same-origin` (tower-http's `SetResponseHeaderLayer`);
//! there are no CORS headers. The quick routes answer within [`REQUEST_TIMEOUT`] (408, see
//! [`super::app`]). All refusals are JSON: `{"error": "..."}`. [`protect`] puts it all in
//! front of the router.

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use super::auth::Auth;
use super::AppState;
use crate::targets::{split_port, AllowTargets};

/// Largest request body accepted (the `/swarm` form is a few hundred bytes).
pub const MAX_BODY: usize = 64 * 1024;

/// Longest a quick route may take, reading its request body included (a form trickled in
/// slower than this is cut off with 408). Not on the event stream, `/stop` (which waits for
/// in-flight requests up to `--stop-timeout`) or the downloads.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The policy of every page but the report: scripts and styles only from the dashboard.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; connect-src 'self'; frame-src 'self'; form-action 'self'; \
    base-uri 'none'; frame-ancestors 'none'";

/// How the dashboard protects itself; built from the command line, or [`Security::default`]
/// (loopback, no login) for tests and local use.
#[derive(Debug, Clone)]
pub struct Security {
    pub auth: Auth,
    /// Which `Host` headers are served.
    pub hosts: HostPolicy,
    /// Served over TLS (the session cookie gets `Secure`).
    pub tls: bool,
    /// `--allow-target`.
    pub targets: AllowTargets,
}

impl Default for Security {
    fn default() -> Security {
        Security {
            auth: Auth::Open,
            hosts: HostPolicy::default(),
            tls: false,
            targets: AllowTargets::default(),
        }
    }
}

/// The `Host` names the dashboard answers to.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    /// The bind address; `None` = every interface (then any IP address is served).
    pub bind: Option<IpAddr>,
    /// `--web-allowed-hosts`: lower-case names, each with an optional port.
    pub extra: Vec<(String, Option<u16>)>,
}

impl Default for HostPolicy {
    fn default() -> HostPolicy {
        HostPolicy {
            bind: Some(IpAddr::from([127, 0, 0, 1])),
            extra: Vec::new(),
        }
    }
}

impl HostPolicy {
    /// The policy for a dashboard bound to `web_host` with `--web-allowed-hosts` values.
    pub fn new(web_host: &str, allowed: &[String]) -> Result<HostPolicy, String> {
        let bind = match web_host.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(ip) if ip.is_unspecified() => None,
            Ok(ip) => Some(ip),
            Err(_) => Some(IpAddr::from([127, 0, 0, 1])),
        };
        let mut extra = Vec::new();
        if web_host.parse::<IpAddr>().is_err() && !web_host.eq_ignore_ascii_case("localhost") {
            extra.push((web_host.to_ascii_lowercase(), None));
        }
        for a in allowed.iter().map(|a| a.trim()).filter(|a| !a.is_empty()) {
            let (name, port) =
                split_port(a).map_err(|e| format!("--web-allowed-hosts \"{a}\": {e}"))?;
            extra.push((name.to_ascii_lowercase(), port));
        }
        Ok(HostPolicy { bind, extra })
    }

    /// Whether a request with this `Host` header value is served.
    pub fn allows(&self, host: &str) -> bool {
        let Ok((name, port)) = split_port(host) else {
            return false;
        };
        let name = name.to_ascii_lowercase();
        if name == "localhost" {
            return true;
        }
        if let Ok(ip) = name.trim_matches(['[', ']']).parse::<IpAddr>() {
            if ip.is_loopback() || self.bind.is_none_or(|b| b == ip) {
                return true;
            }
        }
        self.extra
            .iter()
            .any(|(n, p)| *n == name && p.is_none_or(|p| Some(p) == port))
    }
}

/// Whether the dashboard's `--web-host` reaches only this machine (`localhost`, `127.x`, `::1`).
pub fn is_loopback(web_host: &str) -> bool {
    web_host.eq_ignore_ascii_case("localhost")
        || web_host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The `Host` of a request: the header, or the URI's authority (HTTP/2).
fn host_of(req: &Request) -> Option<String> {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
}

fn refusal(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// Why a state-changing request from a browser page is not the dashboard's own, if it is not.
///
/// A browser's `Sec-Fetch-Site` (which no page can set) decides when present: the page's own
/// form posts carry `Origin: null` under `Referrer-Policy: no-referrer`, so the `Origin` is
/// only checked for clients that send no fetch metadata.
fn cross_site(headers: &HeaderMap, host: Option<&str>) -> Option<String> {
    let site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none") {
        return None;
    }
    if !site.is_empty() {
        return Some(format!(
            "cross-site request refused (Sec-Fetch-Site: {site}): state-changing requests \
             must come from the dashboard's own page"
        ));
    }
    let origin = headers.get(header::ORIGIN)?;
    let text = origin.to_str().unwrap_or("?");
    let authority = url::Url::parse(text).ok().and_then(|u| {
        let h = u.host_str()?.to_string();
        Some(match u.port() {
            Some(p) => format!("{h}:{p}"),
            None => h,
        })
    });
    match (authority, host) {
        (Some(a), Some(h)) if a.eq_ignore_ascii_case(h) => None,
        _ => Some(format!(
            "cross-origin request refused: Origin \"{text}\" is not this dashboard \
             (state-changing requests must come from the dashboard's own page, or from a \
             script that sends no Origin)"
        )),
    }
}

/// Step 1: a `Host` the dashboard does not serve.
fn refuse_host(hosts: &HostPolicy, req: &Request) -> Option<Response> {
    let h = host_of(req)?;
    if hosts.allows(&h) {
        return None;
    }
    Some(refusal(
        StatusCode::FORBIDDEN,
        format!(
            "Host \"{h}\" is not a name this dashboard serves (protection against DNS \
             rebinding): open it by IP address or as localhost, or allow the name with \
             --web-allowed-hosts"
        ),
    ))
}

/// Steps 3 and 4: a state change from another site, or no credentials.
fn refuse(state: &AppState, req: &Request) -> Option<Response> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        if let Some(why) = cross_site(req.headers(), host_of(req).as_deref()) {
            state.logs.warning(format!(
                "Refused {} {}: {why}",
                req.method(),
                req.uri().path()
            ));
            return Some(refusal(StatusCode::FORBIDDEN, why));
        }
    }
    state
        .security
        .auth
        .check(req.method(), req.uri().path(), req.headers())
}

/// 413 with the limit.
pub fn too_large() -> Response {
    refusal(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("request body too large: at most {MAX_BODY} bytes"),
    )
}

/// The middleware of step 1 (before the body limit).
pub async fn host_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match refuse_host(&state.security.hosts, &req) {
        Some(r) => r,
        None => next.run(req).await,
    }
}

/// The client's address, when the server knows it (`ConnectInfo`, set by `server` and `tls`).
pub fn client_in(extensions: &axum::http::Extensions) -> super::throttle::Client {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Whether the request brought credentials of its own (a first request without any is
/// how a browser learns it must log in: not a wrong attempt).
fn brings_credentials(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION)
        || headers
            .get_all(header::COOKIE)
            .iter()
            .any(|v| v.to_str().is_ok_and(|c| c.contains(super::auth::COOKIE)))
}

/// A wrong attempt from `who`: wait its penalty (logging the first of a streak).
pub async fn penalize(state: &AppState, who: super::throttle::Client) {
    let p = state.throttle.failed(who);
    if p.first {
        state.logs.warning(format!(
            "Wrong credentials from {}: its next attempts are answered slower and slower \
             (up to {} s) until one is right",
            super::throttle::describe(who),
            super::throttle::MAX.as_secs()
        ));
    }
    tokio::time::sleep(p.delay).await;
}

/// The middleware of steps 3 and 4 (after the body limit).
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let who = client_in(req.extensions());
    match refuse(&state, &req) {
        Some(r) => {
            if r.status() == StatusCode::UNAUTHORIZED && brings_credentials(req.headers()) {
                penalize(&state, who).await;
            }
            r
        }
        None => {
            if brings_credentials(req.headers()) && state.throttle.has(who) {
                state.throttle.succeeded(who);
            }
            next.run(req).await
        }
    }
}

/// The body limit's and the time limit's own answers (plain text, or empty) as the
/// dashboard's JSON refusals; JSON answers with these statuses (a form read past the limit)
/// already are.
pub async fn json_refusals(res: Response) -> Response {
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    match res.status() {
        StatusCode::PAYLOAD_TOO_LARGE if !json => too_large(),
        StatusCode::REQUEST_TIMEOUT if !json => refusal(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "request timed out: no answer within {} s",
                REQUEST_TIMEOUT.as_secs()
            ),
        ),
        _ => res,
    }
}

/// `router` behind the checks of this module, in their order, with the security headers on
/// every answer, refusals included. Layers added later run first.
pub fn protect(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let fixed = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    router
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        // Refuses a declared length over the limit before reading anything, and stops a body
        // without one at the limit (the form extractors answer 413 then). The only limit:
        // axum's default one (2 MB) is off.
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(state.clone(), host_guard))
        .layer(middleware::map_response(json_refusals))
        // The report sets its own policy and framing (see `framable_report`).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(fixed(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(fixed(header::REFERRER_POLICY, "no-referrer"))
        .layer(fixed(
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ))
        .layer(fixed(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
}

/// The HTML report's own policy (hashes of its inlined script and style).
pub fn report_csp() -> &'static str {
    crate::report::page::csp()
}

/// [`report_csp`] plus `frame-ancestors 'none'` (only meaningful as a header).
pub fn report_csp_header() -> HeaderValue {
    HeaderValue::from_str(&format!("{}; frame-ancestors 'none'", report_csp()))
        .unwrap_or_else(|_| HeaderValue::from_static(CSP))
}

/// Marks a saved run's report as one the dashboard itself shows in its History tab: its own
/// policy, and framing by the dashboard's pages only (`frame-ancestors 'self'`, `SAMEORIGIN`).
pub fn framable_report(res: &mut Response) {
    let h = res.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&format!("{}; frame-ancestors 'self'", report_csp())) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
        h.insert(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_served() {
        let local = HostPolicy::default();
        for ok in [
            "127.0.0.1:8089",
            "localhost:8089",
            "LOCALHOST",
            "[::1]:8089",
            "127.0.0.2",
        ] {
            assert!(local.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example:8089",
            "10.0.0.5:8089",
            "localhost.evil.example",
            "",
        ] {
            assert!(!local.allows(bad), "{bad}");
        }
        let any =
            HostPolicy::new("0.0.0.0", &["surge.example.com".into(), "proxy:443".into()]).unwrap();
        assert!(any.allows("10.0.0.5:8089"));
        assert!(any.allows("[fe80::1]:8089"));
        assert!(any.allows("Surge.Example.com:8089"));
        assert!(any.allows("proxy:443"));
        assert!(!any.allows("proxy:444"));
        assert!(!any.allows("evil.example"));
        let named = HostPolicy::new("myhost", &[]).unwrap();
        assert!(named.allows("myhost:8089"));
        assert!(HostPolicy::new("0.0.0.0", &["a:b".into()]).is_err());
    }

    #[test]
    fn origins() {
        let mut h = HeaderMap::new();
        assert!(cross_site(&h, Some("127.0.0.1:8089")).is_none());
        h.insert(header::ORIGIN, "http://127.0.0.1:8089".parse().unwrap());
        assert!(cross_site(&h, Some("127.0.0.1:8089")).is_none());
        assert!(cross_site(&h, Some("localhost:8089")).is_some());
        assert!(cross_site(&h, None).is_some());
        h.insert(header::ORIGIN, "https://surge.example.com".parse().unwrap());
        assert!(cross_site(&h, Some("surge.example.com")).is_none());
        h.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(cross_site(&h, Some("127.0.0.1:8089")).is_some());
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(cross_site(&h, Some("x")).is_none());
        // The page's own form post under no-referrer.
        h.insert(header::ORIGIN, "null".parse().unwrap());
        assert!(cross_site(&h, Some("x")).is_none());
        for site in ["same-site", "cross-site", "bogus"] {
            h.insert("sec-fetch-site", site.parse().unwrap());
            assert!(cross_site(&h, Some("x")).is_some(), "{site}");
        }
    }
}
