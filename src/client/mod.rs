//! The per-user HTTP client: each virtual user owns one, with its own connections and cookies.
//!
//! - `conn`: connecting (DNS, TCP, rustls with ALPN), HTTP/1.1 or HTTP/2 handshakes, and the
//!   per-user pool of kept-alive connections (one per origin).
//! - `tls`: the rustls configuration built once per run (webpki roots, or any certificate
//!   for `insecure`).
//! - `body`: reading bodies to their end, counting bytes and keeping at most a cap.
//! - `cookies`: the per-user cookie jar.
//! - `redirect`: how redirects are followed.
//! - `error`: [`RequestError`], the small enum every transport failure becomes, and (from
//!   `status`) the rendering of HTTP error statuses into grouped messages.

mod body;
mod conn;
mod cookies;
pub mod error;
mod redirect;
mod status;
mod tls;

pub use error::{describe_status, RequestError};

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, COOKIE, HOST, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Version};
use http_body_util::Full;
use url::Position;

use conn::{Conn, Pool, ReqBody, Target};

/// Largest body kept in memory for checks and captures; bigger bodies are counted, not kept.
pub const MAX_KEPT_BODY: usize = 16 * 1024 * 1024;
/// Bytes of an error response kept for the failure message excerpt.
pub const ERROR_EXCERPT_BYTES: usize = 4096;

/// `user-agent` sent when the request does not set one.
const DEFAULT_USER_AGENT: &str = concat!("surge/", env!("CARGO_PKG_VERSION"));

/// Settings shared by every user's client.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Whole-request timeout (connect, send, headers and body).
    pub timeout: Duration,
    /// Accept any TLS certificate (self-signed targets).
    pub insecure: bool,
    /// Redirects followed per request; 0 = return the 3xx response.
    pub max_redirects: u32,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            timeout: Duration::from_secs(60),
            insecure: false,
            max_redirects: 10,
        }
    }
}

/// What is built once per run and shared by all users (TLS configuration, settings).
#[derive(Debug)]
pub struct ClientShared {
    /// The run's client settings.
    pub config: ClientConfig,
    /// The rustls configuration (built once: root store parsing and provider setup are not
    /// free), or why it could not be built, reported by every https request.
    tls: Result<Arc<rustls::ClientConfig>, String>,
}

impl ClientShared {
    /// Builds the shared state, including the TLS configuration, once per run.
    pub fn new(config: ClientConfig) -> Arc<ClientShared> {
        let tls = tls::build_config(config.insecure);
        Arc::new(ClientShared { config, tls })
    }
}

/// A request as the engine hands it over.
#[derive(Debug, Clone)]
pub struct Request {
    /// Sent as is; redirects 301/302/303 turn it into GET (HEAD stays HEAD).
    pub method: Method,
    /// Absolute http(s) URL; its fragment is not sent.
    pub url: url::Url,
    /// Sent as given; `host`, `user-agent` and `content-length` are added when absent.
    pub headers: HeaderMap,
    /// The complete request body (empty for none).
    pub body: Bytes,
}

/// A response, with the body kept only when asked (or an excerpt for error statuses).
#[derive(Debug, Clone)]
pub struct Response {
    /// Status of the final response (after redirects).
    pub status: StatusCode,
    /// Headers of the final response.
    pub headers: HeaderMap,
    /// The body when `keep_body` was set (up to [`MAX_KEPT_BODY`]), or the first
    /// [`ERROR_EXCERPT_BYTES`] when the status is >= 400; otherwise empty.
    pub body: Bytes,
    /// Whether the kept body was cut at the cap.
    pub body_truncated: bool,
    /// Body bytes received in total (counted even when not kept).
    pub body_len: u64,
}

/// One virtual user's client: its connections (one per origin, kept alive) and cookie jar.
pub struct UserClient {
    shared: Arc<ClientShared>,
    pool: Pool,
    jar: cookies::Jar,
    last_version: Version,
}

impl UserClient {
    /// A client with no connections and an empty cookie jar (a fresh virtual user).
    pub fn new(shared: Arc<ClientShared>) -> UserClient {
        UserClient {
            shared,
            pool: Pool::default(),
            jar: cookies::Jar::default(),
            last_version: Version::HTTP_11,
        }
    }

    /// Send one request (following redirects), within the configured timeout.
    pub async fn send(&mut self, req: Request, keep_body: bool) -> Result<Response, RequestError> {
        let limit = self.shared.config.timeout;
        match tokio::time::timeout(limit, self.send_following(req, keep_body)).await {
            Ok(result) => result,
            // The connection in use was dropped with the future: it is in an unknown state.
            Err(_) => Err(RequestError::Timeout(limit)),
        }
    }

    /// HTTP version of the last response (HTTP/2 when ALPN negotiated `h2`).
    pub fn last_version(&self) -> Version {
        self.last_version
    }

    /// Idle kept-alive connections this user holds.
    pub fn idle_connections(&self) -> usize {
        self.pool.len()
    }

    /// Sends `req` and follows up to `max_redirects` redirects.
    async fn send_following(
        &mut self,
        mut req: Request,
        keep_body: bool,
    ) -> Result<Response, RequestError> {
        let max = self.shared.config.max_redirects;
        let mut followed = 0;
        loop {
            let response = self.exchange(&req, keep_body).await?;
            let followable = redirect::is_followed(response.status)
                && response.headers.contains_key(http::header::LOCATION);
            if max == 0 || !followable {
                return Ok(response);
            }
            if followed == max {
                return Err(RequestError::TooManyRedirects(max));
            }
            redirect::follow(&mut req, response.status, &response.headers)?;
            followed += 1;
        }
    }

    /// One request/response exchange on this user's connection to the request's origin.
    async fn exchange(&mut self, req: &Request, keep_body: bool) -> Result<Response, RequestError> {
        let target = Target::from_url(&req.url)?;
        let mut conn = match self.pool.take(&target) {
            Some(mut pooled) => {
                if pooled.ready().await {
                    pooled
                } else {
                    drop(pooled);
                    conn::connect(&target, &self.shared.tls).await?
                }
            }
            None => conn::connect(&target, &self.shared.tls).await?,
        };
        let cookie = self.jar.header_for(&req.url);
        let head = match conn.send(build(req, &conn, cookie.clone())?).await {
            Ok(head) => head,
            Err(e) if conn.reused && e.is_stale_connection() => {
                // The peer closed the kept-alive connection (idle timeout): once more, fresh.
                drop(conn);
                conn = conn::connect(&target, &self.shared.tls).await?;
                conn.send(build(req, &conn, cookie)?).await?
            }
            Err(e) => return Err(e),
        };
        conn.reused = true;
        let (parts, incoming) = head.into_parts();
        self.jar.store_from(&parts.headers, &req.url);
        let cap = if keep_body {
            MAX_KEPT_BODY
        } else if parts.status.as_u16() >= 400 {
            ERROR_EXCERPT_BYTES
        } else {
            0
        };
        let body = body::read(incoming, cap)
            .await
            .map_err(|e| RequestError::from_body(&e))?;
        self.last_version = parts.version;
        if keeps_alive(&parts) {
            self.pool.put(conn);
        }
        Ok(Response {
            status: parts.status,
            headers: parts.headers,
            body: body.kept,
            body_truncated: body.truncated,
            body_len: body.len,
        })
    }
}

/// Whether the connection may serve another request after this response.
fn keeps_alive(parts: &http::response::Parts) -> bool {
    let close = parts
        .headers
        .get_all(CONNECTION)
        .iter()
        .any(|v| contains_token(v.as_bytes(), b"close"));
    match parts.version {
        Version::HTTP_10 => {
            !close
                && parts
                    .headers
                    .get(CONNECTION)
                    .is_some_and(|v| contains_token(v.as_bytes(), b"keep-alive"))
        }
        _ => !close,
    }
}

/// Whether a comma-separated header value contains `token` (ASCII case-insensitive).
fn contains_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|b| *b == b',')
        .any(|part| part.trim_ascii().eq_ignore_ascii_case(token))
}

/// The hyper request for `req` on `conn`: origin-form URI for HTTP/1.1 (absolute for
/// HTTP/2), the user's headers, then `host`, `user-agent`, `content-length` and cookies
/// unless the user set them.
fn build(
    req: &Request,
    conn: &Conn,
    cookie: Option<HeaderValue>,
) -> Result<http::Request<ReqBody>, RequestError> {
    let h2 = conn.is_h2();
    let target = if h2 {
        &req.url[..Position::AfterQuery]
    } else {
        &req.url[Position::BeforePath..Position::AfterQuery]
    };
    let uri = http::Uri::try_from(target)
        .map_err(|e| RequestError::InvalidUrl(format!("{}: {e}", req.url)))?;
    let mut headers = HeaderMap::with_capacity(req.headers.len() + 4);
    for (name, value) in &req.headers {
        headers.append(name.clone(), value.clone());
    }
    if !h2 && !headers.contains_key(HOST) {
        headers.insert(HOST, conn.host_header.clone());
    }
    if !headers.contains_key(USER_AGENT) {
        headers.insert(USER_AGENT, HeaderValue::from_static(DEFAULT_USER_AGENT));
    }
    let wants_length =
        !req.body.is_empty() || matches!(req.method, Method::POST | Method::PUT | Method::PATCH);
    if wants_length && !headers.contains_key(CONTENT_LENGTH) {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(req.body.len()));
    }
    if let Some(cookie) = cookie {
        match headers.get_mut(COOKIE) {
            Some(existing) => {
                let mut joined = existing.as_bytes().to_vec();
                joined.extend_from_slice(b"; ");
                joined.extend_from_slice(cookie.as_bytes());
                if let Ok(value) = HeaderValue::from_bytes(&joined) {
                    *existing = value;
                }
            }
            None => {
                headers.insert(COOKIE, cookie);
            }
        }
    }
    let mut out = http::Request::new(Full::new(req.body.clone()));
    *out.method_mut() = req.method.clone();
    *out.uri_mut() = uri;
    *out.headers_mut() = headers;
    if h2 {
        *out.version_mut() = Version::HTTP_2;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_tokens() {
        assert!(contains_token(b"keep-alive, Close", b"close"));
        assert!(!contains_token(b"closed", b"close"));
    }
}
