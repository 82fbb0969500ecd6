//! The per-user HTTP client: each virtual user owns one, with its own connections and cookies.
//!
//! - `error`: [`RequestError`], the small enum every transport failure becomes, and the
//!   rendering of HTTP error statuses into grouped messages.

pub mod error;

pub use error::{describe_status, RequestError};

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};

/// Largest body kept in memory for checks and captures; bigger bodies are counted, not kept.
pub const MAX_KEPT_BODY: usize = 16 * 1024 * 1024;
/// Bytes of an error response kept for the failure message excerpt.
pub const ERROR_EXCERPT_BYTES: usize = 4096;

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
    pub config: ClientConfig,
}

impl ClientShared {
    pub fn new(config: ClientConfig) -> Arc<ClientShared> {
        Arc::new(ClientShared { config })
    }
}

/// A request as the engine hands it over.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub url: url::Url,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A response, with the body kept only when asked (or an excerpt for error statuses).
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
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
}

impl UserClient {
    pub fn new(shared: Arc<ClientShared>) -> UserClient {
        UserClient { shared }
    }

    /// Send one request (following redirects), within the configured timeout.
    pub async fn send(&mut self, req: Request, keep_body: bool) -> Result<Response, RequestError> {
        let _ = (req, keep_body, &self.shared);
        Err(RequestError::Other("client not implemented".into()))
    }
}
