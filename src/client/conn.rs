//! Connections of one user: resolving and connecting (DNS, TCP with `TCP_NODELAY`, rustls
//! with ALPN), HTTP/1.1 on Surge's own inline connection (`h1`) or HTTP/2 through hyper (its
//! spawned connection driver), and the small per-user pool holding one kept-alive connection
//! per origin.

use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, COOKIE, USER_AGENT};
use http::{HeaderMap, HeaderValue, Version};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::task::AbortHandle;
use url::{Host, Position, Url};

use super::body::{self, ReadBody};
use super::error::RequestError;
use super::framing::BodyKind;
use super::h1::{H1Conn, Stream};
use super::headers::Headers;
use super::stamped::Tcp;
use super::tls::ALPN_H2;
use super::ClientShared;
use super::{FixedRequest, Request};

/// The body type of every request: the engine hands over complete bodies.
pub(crate) type ReqBody = Full<Bytes>;

/// Most origins one user keeps connections to; the oldest is closed beyond this.
const MAX_POOLED: usize = 16;

/// Where a request goes: scheme, host and port of its URL, borrowed from it.
pub(crate) struct Target<'a> {
    pub https: bool,
    pub host: Host<&'a str>,
    /// The host as written in the URL (IPv6 in brackets), used for pool matching.
    pub host_str: &'a str,
    pub port: u16,
}

impl<'a> Target<'a> {
    /// The origin of `url`, or `InvalidUrl` when it is not an http(s) URL with a host.
    pub fn from_url(url: &'a Url) -> Result<Target<'a>, RequestError> {
        let https = match url.scheme() {
            "http" => false,
            "https" => true,
            other => {
                return Err(RequestError::InvalidUrl(format!(
                    "unsupported scheme '{other}' in {url}"
                )))
            }
        };
        let (Some(host), Some(host_str)) = (url.host(), url.host_str()) else {
            return Err(RequestError::InvalidUrl(format!("no host in {url}")));
        };
        let port = url.port().unwrap_or(if https { 443 } else { 80 });
        Ok(Target {
            https,
            host,
            host_str,
            port,
        })
    }
}

/// How requests travel on a connection.
enum Sender {
    /// HTTP/1.1, driven inline by the user's task.
    H1(H1Conn),
    /// HTTP/2 through hyper; its connection driver runs as a task, stopped on drop.
    H2 {
        sender: http2::SendRequest<ReqBody>,
        driver: AbortHandle,
    },
}

impl Drop for Sender {
    fn drop(&mut self) {
        if let Sender::H2 { driver, .. } = self {
            driver.abort();
        }
    }
}

/// A response head.
pub(crate) struct Head {
    pub status: http::StatusCode,
    pub version: http::Version,
    pub headers: Headers,
    /// The connection may carry another request after this response.
    pub keep_alive: bool,
    /// The head carries a `set-cookie`.
    pub set_cookie: bool,
}

/// What is left to read of a response after its head.
pub(crate) enum PendingBody {
    H1(BodyKind),
    H2(Incoming),
}

/// One open connection to an origin. Dropping it closes the socket: a connection whose
/// request was abandoned (timeout) is in an unknown state.
pub(crate) struct Conn {
    sender: Sender,
    https: bool,
    host: Box<str>,
    port: u16,
    /// `host[:port]` for the `host` header, computed once per connection.
    pub host_header: HeaderValue,
    /// Whether a request already completed on it (so a failure may mean the peer closed it).
    pub reused: bool,
}

impl Conn {
    /// Whether this connection serves the origin `https`, `host` (as written in the URL),
    /// `port`.
    fn serves(&self, https: bool, host: &[u8], port: u16) -> bool {
        self.port == port && self.https == https && self.host.as_bytes() == host
    }

    /// Waits until the connection can take a request; false when it was closed meanwhile.
    pub async fn ready(&mut self) -> bool {
        match &mut self.sender {
            Sender::H1(c) => c.is_open(),
            Sender::H2 { sender, .. } => {
                !sender.is_closed() && Box::pin(sender.ready()).await.is_ok()
            }
        }
    }

    /// When the data of the latest read arrived (kernel receive timestamp), if known.
    pub fn arrival(&self) -> Option<tokio::time::Instant> {
        match &self.sender {
            Sender::H1(c) => c.arrival(),
            Sender::H2 { .. } => None,
        }
    }

    /// Sends a request (over HTTP/1.1 from its encoded head when `fixed` is `req` prepared)
    /// and waits for the response head.
    pub async fn send(
        &mut self,
        req: &Request,
        fixed: Option<&FixedRequest>,
        cookie: Option<&HeaderValue>,
    ) -> Result<(Head, PendingBody), RequestError> {
        match &mut self.sender {
            Sender::H1(c) => {
                let h = match fixed {
                    Some(f) => c.send_fixed(f, &self.host_header, cookie).await?,
                    None => c.send(req, &self.host_header, cookie).await?,
                };
                let head = Head {
                    status: h.status,
                    version: h.version,
                    headers: h.headers,
                    keep_alive: h.keep_alive,
                    set_cookie: h.set_cookie,
                };
                Ok((head, PendingBody::H1(h.body)))
            }
            Sender::H2 { sender, .. } => {
                // Boxed, like the body read below: HTTP/2's state would otherwise make
                // every HTTP/1.1 request's future as large.
                let response = Box::pin(sender.send_request(build_h2(req, cookie.cloned())?))
                    .await
                    .map_err(|e| RequestError::from_hyper(&e))?;
                let (parts, incoming) = response.into_parts();
                let head = Head {
                    status: parts.status,
                    version: parts.version,
                    set_cookie: parts.headers.contains_key(http::header::SET_COOKIE),
                    headers: Headers::from_map(parts.headers),
                    // HTTP/2 has no connection-level headers (RFC 9113 §8.2.2): the
                    // connection's life is its own.
                    keep_alive: true,
                };
                Ok((head, PendingBody::H2(incoming)))
            }
        }
    }

    /// Reads the rest of a response to its end, keeping its first `cap` bytes. Returns
    /// whether the connection can carry another request.
    pub async fn read_body(
        &mut self,
        head: &Head,
        pending: PendingBody,
        cap: usize,
    ) -> Result<(ReadBody, bool), RequestError> {
        // After `101 Switching Protocols` the connection speaks another protocol.
        let alive = head.keep_alive && head.status != http::StatusCode::SWITCHING_PROTOCOLS;
        match (pending, &mut self.sender) {
            (PendingBody::H1(kind), Sender::H1(c)) => {
                let body = c.read_body(kind, alive, cap).await?;
                Ok((body, c.is_usable()))
            }
            (PendingBody::H2(incoming), _) => {
                let body = Box::pin(body::read(incoming, cap))
                    .await
                    .map_err(|e| RequestError::from_body(&e))?;
                Ok((body, alive))
            }
            (PendingBody::H1(_), Sender::H2 { .. }) => Err(RequestError::Io(
                "an HTTP/1.1 body pending on an HTTP/2 connection".to_string(),
            )),
        }
    }
}

/// Opens a connection to `target`: DNS (skipped for IP literals), TCP, TLS when https, and
/// the HTTP handshake (HTTP/2 only when the server picked `h2` by ALPN).
pub(crate) async fn connect(
    target: &Target<'_>,
    shared: &ClientShared,
) -> Result<Conn, RequestError> {
    let stream = connect_tcp(target).await?;
    let _ = stream.set_nodelay(true);
    let stream = Tcp::new(stream, shared.config.rx_timestamps);
    let sender = if target.https {
        let config = shared
            .tls
            .as_ref()
            .map_err(|e| RequestError::Tls(e.to_string()))?;
        let name = server_name(&target.host)?;
        let tls_stream = tokio_rustls::TlsConnector::from(config.clone())
            .connect(name, stream)
            .await
            .map_err(|e| RequestError::from_tls_io(&e))?;
        if tls_stream.get_ref().1.alpn_protocol() == Some(ALPN_H2) {
            handshake_h2(TokioIo::new(tls_stream)).await?
        } else {
            Sender::H1(H1Conn::new(Stream::Tls(Box::new(tls_stream))))
        }
    } else {
        Sender::H1(H1Conn::new(Stream::Plain(stream)))
    };
    let mut host_header = String::with_capacity(target.host_str.len() + 6);
    host_header.push_str(target.host_str);
    if target.port != if target.https { 443 } else { 80 } {
        host_header.push(':');
        host_header.push_str(&target.port.to_string());
    }
    let host_header = HeaderValue::from_str(&host_header)
        .map_err(|_| RequestError::InvalidUrl(format!("invalid host {}", target.host_str)))?;
    Ok(Conn {
        sender,
        https: target.https,
        host: target.host_str.into(),
        port: target.port,
        host_header,
        reused: false,
    })
}

/// Resolves the host and connects to the first address that accepts.
async fn connect_tcp(target: &Target<'_>) -> Result<TcpStream, RequestError> {
    let addrs: Vec<SocketAddr> = match target.host {
        Host::Ipv4(ip) => vec![SocketAddr::from((ip, target.port))],
        Host::Ipv6(ip) => vec![SocketAddr::from((ip, target.port))],
        Host::Domain(domain) => tokio::net::lookup_host((domain, target.port))
            .await
            .map_err(|e| RequestError::Dns {
                host: domain.to_string(),
                detail: e.to_string(),
            })?
            .collect(),
    };
    let mut last_error = None;
    for addr in &addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = Some(RequestError::from_connect_io(&e, &addr.to_string())),
        }
    }
    Err(last_error.unwrap_or_else(|| RequestError::Dns {
        host: target.host_str.to_string(),
        detail: "no addresses found".to_string(),
    }))
}

/// The TLS server name (SNI and certificate check) for a host.
fn server_name(host: &Host<&str>) -> Result<ServerName<'static>, RequestError> {
    match host {
        Host::Domain(domain) => ServerName::try_from(domain.to_string())
            .map_err(|_| RequestError::Tls(format!("invalid server name {domain}"))),
        Host::Ipv4(ip) => Ok(ServerName::IpAddress(std::net::IpAddr::V4(*ip).into())),
        Host::Ipv6(ip) => Ok(ServerName::IpAddress(std::net::IpAddr::V6(*ip).into())),
    }
}

/// HTTP/2 handshake, with windows large enough not to throttle big bodies.
async fn handshake_h2<T>(io: TokioIo<T>) -> Result<Sender, RequestError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http2::Builder::new(TokioExecutor::new())
        .initial_stream_window_size(4 * 1024 * 1024)
        .initial_connection_window_size(8 * 1024 * 1024)
        .handshake(io)
        .await
        .map_err(|e| RequestError::from_hyper(&e))?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(Sender::H2 {
        sender,
        driver: driver.abort_handle(),
    })
}

/// One user's idle connections, at most one per origin (a user sends one request at a
/// time; a connection is taken out while in use and put back once its body was read).
#[derive(Default)]
pub(crate) struct Pool {
    idle: Vec<Conn>,
}

impl Pool {
    /// Takes the idle connection to the origin `https`, `host` (as written in the URL),
    /// `port`, if any.
    pub fn take(&mut self, https: bool, host: &[u8], port: u16) -> Option<Conn> {
        let index = self.idle.iter().position(|c| c.serves(https, host, port))?;
        Some(self.idle.swap_remove(index))
    }

    /// Keeps a connection for the next request to its origin.
    pub fn put(&mut self, conn: Conn) {
        if self.idle.len() >= MAX_POOLED {
            self.idle.remove(0);
        }
        self.idle.push(conn);
    }

    /// Number of idle connections (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.idle.len()
    }
}

/// The hyper request for `req` on HTTP/2: absolute URI, the user's headers, then
/// `user-agent`, `content-length` and the jar's cookies unless the user set them.
fn build_h2(
    req: &Request,
    cookie: Option<HeaderValue>,
) -> Result<http::Request<ReqBody>, RequestError> {
    let uri = http::Uri::try_from(&req.url[..Position::AfterQuery])
        .map_err(|e| RequestError::InvalidUrl(format!("{}: {e}", req.url)))?;
    let mut headers = HeaderMap::with_capacity(req.headers.len() + 3);
    for (name, value) in &req.headers {
        headers.append(name.clone(), value.clone());
    }
    if !headers.contains_key(USER_AGENT) {
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(super::DEFAULT_USER_AGENT),
        );
    }
    if super::wants_length(req) && !headers.contains_key(CONTENT_LENGTH) {
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
    *out.version_mut() = Version::HTTP_2;
    Ok(out)
}
