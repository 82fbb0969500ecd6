//! Who may use the dashboard: anyone who reaches it (the default, on loopback), HTTP basic
//! authentication (`--web-auth user:password`), or a token (`--web-token TOKEN`) that scripts
//! send as `Authorization: Bearer TOKEN` and browsers exchange once, on `/login`, for a
//! session cookie (`HttpOnly`, `SameSite=Strict`, `Secure` over TLS). The cookie holds a
//! random session key made at start, never the token; a restart logs everyone out.
//!
//! Secrets are compared in constant time.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;

use super::pages::Page;
use super::{assets, AppState};

/// Name of the session cookie set by `/login`.
pub const COOKIE: &str = "surge_session";

/// Shortest `--web-token` accepted: a guessable token on a network is no protection.
pub const MIN_TOKEN_LEN: usize = 16;

/// How requests are authenticated.
#[derive(Clone)]
pub enum Auth {
    /// No authentication (loopback, or `--web-insecure-no-auth`).
    Open,
    /// HTTP basic authentication with one user.
    Basic { user: String, password: String },
    /// Bearer token, or the session cookie `/login` hands out for it.
    Token { token: String, session: String },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret.
        f.write_str(match self {
            Auth::Open => "Open",
            Auth::Basic { .. } => "Basic",
            Auth::Token { .. } => "Token",
        })
    }
}

impl Auth {
    /// `--web-auth user:password`.
    pub fn basic(spec: &str) -> Result<Auth, String> {
        match spec.split_once(':') {
            Some((user, password)) if !user.is_empty() && !password.is_empty() => Ok(Auth::Basic {
                user: user.to_string(),
                password: password.to_string(),
            }),
            _ => Err(
                "--web-auth must be USER:PASSWORD, both non-empty (e.g. --web-auth admin:s3cret)"
                    .into(),
            ),
        }
    }

    /// `--web-token TOKEN`, at least [`MIN_TOKEN_LEN`] characters.
    pub fn token(token: &str) -> Result<Auth, String> {
        if token.chars().count() < MIN_TOKEN_LEN || token.chars().any(char::is_whitespace) {
            return Err(format!(
                "--web-token must be at least {MIN_TOKEN_LEN} characters without spaces \
                 (e.g. the output of `openssl rand -hex 16`)"
            ));
        }
        Ok(Auth::Token {
            token: token.to_string(),
            session: new_session_key(),
        })
    }

    /// Whether requests need credentials.
    pub fn is_open(&self) -> bool {
        matches!(self, Auth::Open)
    }

    /// `None` if the request carries valid credentials (or none are needed), else the answer:
    /// 401 JSON with a `WWW-Authenticate` challenge, or, for a browser asking for a page in
    /// token mode, a redirect to the login page.
    pub(crate) fn check(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Option<Response> {
        match self {
            Auth::Open => None,
            Auth::Basic { user, password } => {
                let expected = format!("{user}:{password}");
                let given = authorization(headers, "Basic ")
                    .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
                match given {
                    Some(g) if ct_eq(&g, expected.as_bytes()) => None,
                    _ => Some(unauthorized(
                        "Basic realm=\"Surge\", charset=\"UTF-8\"",
                        "authentication required: this dashboard uses HTTP basic authentication (--web-auth)",
                    )),
                }
            }
            Auth::Token { token, session } => {
                if path == "/login" || path == "/favicon.ico" || path.starts_with("/static/") {
                    return None;
                }
                let bearer = authorization(headers, "Bearer ")
                    .is_some_and(|t| ct_eq(t.as_bytes(), token.as_bytes()));
                if bearer
                    || cookie(headers, COOKIE)
                        .is_some_and(|c| ct_eq(c.as_bytes(), session.as_bytes()))
                {
                    return None;
                }
                let wants_page = method == Method::GET
                    && headers
                        .get(header::ACCEPT)
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|a| a.contains("text/html"));
                if wants_page {
                    Some((StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response())
                } else {
                    Some(unauthorized(
                        "Bearer realm=\"Surge\"",
                        "authentication required: send Authorization: Bearer <token> (--web-token), or log in at /login",
                    ))
                }
            }
        }
    }
}

/// 32 random bytes from the operating system's generator (UUID v4 uses it), as hex.
fn new_session_key() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Equal contents, in time independent of where they differ.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The credentials after `scheme` in the `Authorization` header.
fn authorization<'a>(headers: &'a HeaderMap, scheme: &str) -> Option<&'a str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (s, rest) = v.split_at_checked(scheme.len())?;
    s.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

/// The value of cookie `name` in any `Cookie` header.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

fn unauthorized(challenge: &'static str, message: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, challenge)],
        Json(json!({ "error": message })),
    )
        .into_response()
}

/// The login page (token mode).
#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub asset_version: String,
    /// Shown above the form after a wrong token; empty otherwise.
    pub error: String,
}

/// The login form's one field.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub token: Option<String>,
}

fn login_page_with(status: StatusCode, error: &str) -> Response {
    let page = Page(LoginPage {
        asset_version: assets::version().to_string(),
        error: error.to_string(),
    });
    (status, page).into_response()
}

fn no_login() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "no login here: this dashboard was not started with --web-token"})),
    )
        .into_response()
}

/// `GET /login`: the token form (404 unless `--web-token` is set).
pub async fn login_page(State(state): State<AppState>) -> Response {
    match state.security.auth {
        Auth::Token { .. } => login_page_with(StatusCode::OK, ""),
        _ => no_login(),
    }
}

/// `POST /login`: a right token sets the session cookie and goes to the dashboard; a wrong
/// one shows the form again with 401.
pub async fn login(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let who = super::security::client_in(&extensions);
    let Auth::Token { token, session } = &state.security.auth else {
        return no_login();
    };
    let given = match form {
        Ok(Form(f)) => f.token.unwrap_or_default(),
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return super::security::too_large()
        }
        Err(_) => String::new(),
    };
    if !ct_eq(given.trim().as_bytes(), token.as_bytes()) {
        super::security::penalize(&state, who).await;
        return login_page_with(StatusCode::UNAUTHORIZED, "Wrong token.");
    }
    state.throttle.succeeded(who);
    let secure = if state.security.tls { "; Secure" } else { "" };
    let cookie = format!("{COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict{secure}");
    let mut res = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_equality() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
        assert!(ct_eq(b"", b""));
    }

    #[test]
    fn flag_values_are_checked() {
        assert!(Auth::basic("admin:pw").is_ok());
        assert!(Auth::basic("admin:a:b").is_ok());
        for bad in ["admin", ":pw", "admin:", ""] {
            assert!(Auth::basic(bad).is_err(), "{bad}");
        }
        assert!(Auth::token("0123456789abcdef").is_ok());
        assert!(Auth::token("short").is_err());
        assert!(Auth::token("0123456789 abcdef").is_err());
        assert_eq!(format!("{:?}", Auth::basic("u:secret").unwrap()), "Basic");
    }

    #[test]
    fn cookies_and_authorization_are_parsed() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; surge_session=xyz; b=2".parse().unwrap(),
        );
        h.insert(header::AUTHORIZATION, "bearer  tok".parse().unwrap());
        assert_eq!(cookie(&h, COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
        assert_eq!(authorization(&h, "Bearer "), Some("tok"));
        assert_eq!(authorization(&h, "Basic "), None);
        // Two session keys are never equal.
        assert_ne!(new_session_key(), new_session_key());
        assert_eq!(new_session_key().len(), 64);
    }
}
