//! The per-user HTTP client: each virtual user owns one, with its own connections and cookies.
//!
//! - `conn`: connecting (DNS, TCP, rustls with ALPN), HTTP/1.1 or HTTP/2 handshakes, and the
//!   per-user pool of kept-alive connections (one per origin).
//! - `h1`: Surge's own HTTP/1.1 connection, driven inline by the user's task.
//! - `tls`: the rustls configuration built once per run (webpki roots, or any certificate
//!   for `insecure`).
//! - `body`: reading bodies to their end, counting bytes and keeping at most a cap.
//! - `cookies`: the per-user cookie jar.
//! - `redirect`: how redirects are followed.
//! - `error`: [`RequestError`], the small enum every transport failure becomes, and (from
//!   `status`, reading the body's explanation with `excerpt`) the rendering of HTTP error
//!   statuses into grouped messages.

mod body;
mod conn;
mod cookies;
pub mod error;
mod excerpt;
mod fixed;
mod framing;
mod h1;
pub mod headers;
mod redirect;
mod stamped;
mod status;
mod tls;

pub use error::{describe_status, RequestError};
pub use fixed::FixedRequest;

use std::borrow::Borrow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Version};
use tokio::time::{Instant, Sleep};

use conn::{Pool, Target};

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
    /// Hosts a redirect may lead to (the dashboard's `--allow-target`); `None`: any. Checked
    /// on every hop, so a target cannot point the load at a host the operator did not allow.
    pub allowed_targets: Option<Arc<crate::targets::AllowTargets>>,
    /// End response times at the kernel's receive timestamp of the response's last byte
    /// (Linux, HTTP/1.1) rather than when the user's task read it (see `stamped`). The engine
    /// keeps this on in the open model only.
    pub rx_timestamps: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            timeout: Duration::from_secs(60),
            insecure: false,
            max_redirects: 10,
            rx_timestamps: true,
            allowed_targets: None,
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
    tls: Result<Arc<rustls::ClientConfig>, rustls::Error>,
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
    /// Headers of the final response (a `HeaderMap` through `Deref`, built on first use).
    pub headers: headers::Headers,
    /// The body when `keep_body` was set (up to [`MAX_KEPT_BODY`]), or the first
    /// [`ERROR_EXCERPT_BYTES`] when the status is >= 400; otherwise empty.
    pub body: Bytes,
    /// Whether the kept body was cut at the cap.
    pub body_truncated: bool,
    /// Body bytes received in total (counted even when not kept).
    pub body_len: u64,
    /// When the last byte of the response reached this host (kernel receive timestamp), if
    /// known: the end of the response time, free of the generator's own wake-up delay.
    pub received: Option<tokio::time::Instant>,
}

/// One virtual user's client: its connections (one per origin, kept alive) and cookie jar.
pub struct UserClient {
    shared: Arc<ClientShared>,
    pool: Pool,
    jar: cookies::Jar,
    last_version: Version,
    /// The request timeout's timer (see `send`); made on the first request.
    timer: Option<Pin<Box<Sleep>>>,
}

impl UserClient {
    /// A client with no connections and an empty cookie jar (a fresh virtual user).
    pub fn new(shared: Arc<ClientShared>) -> UserClient {
        UserClient {
            shared,
            pool: Pool::default(),
            jar: cookies::Jar::default(),
            last_version: Version::HTTP_11,
            timer: None,
        }
    }

    /// Send one request (following redirects), within the configured timeout. Takes the
    /// request by reference too: nothing is copied unless a redirect changes it.
    pub async fn send(
        &mut self,
        req: impl Borrow<Request>,
        keep_body: bool,
    ) -> Result<Response, RequestError> {
        self.send_within(req.borrow(), None, keep_body).await
    }

    /// [`send`](Self::send) for a request prepared for repeated sends (a step whose request
    /// is the same every time lends it).
    pub async fn send_fixed(
        &mut self,
        fixed: &FixedRequest,
        keep_body: bool,
    ) -> Result<Response, RequestError> {
        self.send_within(fixed.request(), Some(fixed), keep_body)
            .await
    }

    async fn send_within(
        &mut self,
        req: &Request,
        fixed: Option<&FixedRequest>,
        keep_body: bool,
    ) -> Result<Response, RequestError> {
        let limit = self.shared.config.timeout;
        let deadline = Instant::now() + limit;
        // One timer per user, re-armed only when it fires before this request's deadline
        // (it still holds an earlier request's): about once per `limit`, instead of a timer
        // registered and removed for every request.
        let mut timer = self
            .timer
            .take()
            .unwrap_or_else(|| Box::pin(tokio::time::sleep_until(deadline)));
        let result = {
            let exchange = self.send_following(req, fixed, keep_body);
            tokio::pin!(exchange);
            std::future::poll_fn(|cx| {
                if let Poll::Ready(result) = exchange.as_mut().poll(cx) {
                    return Poll::Ready(result);
                }
                while timer.as_mut().poll(cx).is_ready() {
                    if timer.deadline() >= deadline {
                        // The connection in use is dropped with the exchange: it is in an
                        // unknown state.
                        return Poll::Ready(Err(RequestError::Timeout(limit)));
                    }
                    timer.as_mut().reset(deadline);
                }
                Poll::Pending
            })
            .await
        };
        self.timer = Some(timer);
        result
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
        req: &Request,
        fixed: Option<&FixedRequest>,
        keep_body: bool,
    ) -> Result<Response, RequestError> {
        let max = self.shared.config.max_redirects;
        let mut followed = 0;
        // The request as the last redirect changed it (owned only from the first one on).
        let mut redirected: Option<Request> = None;
        loop {
            // The prepared head is `req`'s: a redirected request is encoded afresh.
            let response = match &redirected {
                Some(next) => self.exchange(next, None, keep_body).await?,
                None => self.exchange(req, fixed, keep_body).await?,
            };
            let followable = redirect::is_followed(response.status)
                && response.headers.contains_key(http::header::LOCATION);
            if max == 0 || !followable {
                return Ok(response);
            }
            if followed == max {
                return Err(RequestError::TooManyRedirects(max));
            }
            let mut next = redirected.take().unwrap_or_else(|| req.clone());
            redirect::follow(&mut next, response.status, &response.headers)?;
            if let Some(allowed) = &self.shared.config.allowed_targets {
                allowed
                    .check(next.url.as_str())
                    .map_err(RequestError::RedirectRefused)?;
            }
            redirected = Some(next);
            followed += 1;
        }
    }

    /// One request/response exchange on this user's connection to the request's origin
    /// (`fixed`: `req` prepared, whose origin is known without parsing the URL).
    async fn exchange(
        &mut self,
        req: &Request,
        fixed: Option<&FixedRequest>,
        keep_body: bool,
    ) -> Result<Response, RequestError> {
        let pooled = match fixed {
            Some(f) => self.pool.take(f.https, f.host(), f.port),
            None => {
                let t = Target::from_url(&req.url)?;
                self.pool.take(t.https, t.host_str.as_bytes(), t.port)
            }
        };
        let mut conn = match pooled {
            Some(mut pooled) => {
                if pooled.ready().await {
                    pooled
                } else {
                    drop(pooled);
                    connect(&req.url, &self.shared).await?
                }
            }
            None => connect(&req.url, &self.shared).await?,
        };
        let cookie = self.jar.header_for(&req.url);
        let (head, pending) = match conn.send(req, fixed, cookie.as_ref()).await {
            Ok(sent) => sent,
            // The peer closed the kept-alive connection (idle timeout) before reading the
            // request: once more on a fresh one, unless the request may not be repeated.
            Err(e) if conn.reused && e.is_stale_connection() && is_idempotent(&req.method) => {
                drop(conn);
                conn = connect(&req.url, &self.shared).await?;
                conn.send(req, fixed, cookie.as_ref()).await?
            }
            Err(e) => return Err(e),
        };
        conn.reused = true;
        if head.set_cookie {
            self.jar.store_from(&head.headers, &req.url);
        }
        let cap = if keep_body {
            MAX_KEPT_BODY
        } else if head.status.as_u16() >= 400 {
            ERROR_EXCERPT_BYTES
        } else {
            0
        };
        let (body, reusable) = conn.read_body(&head, pending, cap).await?;
        let received = conn.arrival();
        self.last_version = head.version;
        if reusable {
            self.pool.put(conn);
        }
        Ok(Response {
            status: head.status,
            headers: head.headers,
            body: body.kept,
            body_truncated: body.truncated,
            body_len: body.len,
            received,
        })
    }
}

/// Opens a connection to `url`'s origin, boxed: connecting (DNS, TLS, HTTP/2 handshake) is
/// the rare path, and its large state inline would make every request's future as large
/// (and moved as often).
async fn connect(url: &url::Url, shared: &ClientShared) -> Result<conn::Conn, RequestError> {
    let target = Target::from_url(url)?;
    Box::pin(conn::connect(&target, shared)).await
}

/// Whether a request may be sent again when its connection turned out to be closed
/// (RFC 9110 §9.2.2): repeating a POST could, for instance, create an order twice.
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// Whether the request carries a `content-length` (a body, or a method that expects one).
fn wants_length(req: &Request) -> bool {
    !req.body.is_empty() || matches!(req.method, Method::POST | Method::PUT | Method::PATCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_idempotent_requests_are_retried() {
        assert!(is_idempotent(&Method::GET));
        assert!(is_idempotent(&Method::PUT));
        assert!(!is_idempotent(&Method::POST));
        assert!(!is_idempotent(&Method::PATCH));
    }
}
