//! Connections of one user: resolving and connecting (DNS, TCP with `TCP_NODELAY`, rustls
//! with ALPN), the hyper HTTP/1.1 or HTTP/2 handshake, the spawned connection driver, and the
//! small per-user pool holding one kept-alive connection per origin.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::HeaderValue;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::task::AbortHandle;
use url::{Host, Url};

use super::error::RequestError;
use super::tls::ALPN_H2;

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

/// The hyper handle requests are sent through.
enum Sender {
    H1(http1::SendRequest<ReqBody>),
    H2(http2::SendRequest<ReqBody>),
}

/// One open connection to an origin. Dropping it stops its driver task, which closes the
/// socket: a connection whose request was abandoned (timeout) is in an unknown state.
pub(crate) struct Conn {
    sender: Sender,
    driver: AbortHandle,
    https: bool,
    host: Box<str>,
    port: u16,
    /// `host[:port]` for the `host` header, computed once per connection.
    pub host_header: HeaderValue,
    /// Whether a request already completed on it (so a failure may mean the peer closed it).
    pub reused: bool,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl Conn {
    /// Whether this connection serves `target`'s origin.
    fn serves(&self, target: &Target<'_>) -> bool {
        self.port == target.port && self.https == target.https && *self.host == *target.host_str
    }

    /// Whether requests go over HTTP/2 (negotiated by ALPN).
    pub fn is_h2(&self) -> bool {
        matches!(self.sender, Sender::H2(_))
    }

    /// Waits until the connection can take a request; false when it was closed meanwhile.
    pub async fn ready(&mut self) -> bool {
        match &mut self.sender {
            Sender::H1(s) => !s.is_closed() && s.ready().await.is_ok(),
            Sender::H2(s) => !s.is_closed() && s.ready().await.is_ok(),
        }
    }

    /// Sends a request and waits for the response head.
    pub async fn send(
        &mut self,
        req: http::Request<ReqBody>,
    ) -> Result<http::Response<Incoming>, RequestError> {
        let result = match &mut self.sender {
            Sender::H1(s) => s.send_request(req).await,
            Sender::H2(s) => s.send_request(req).await,
        };
        result.map_err(|e| RequestError::from_hyper(&e))
    }
}

/// Opens a connection to `target`: DNS (skipped for IP literals), TCP, TLS when https, and
/// the HTTP handshake (HTTP/2 only when the server picked `h2` by ALPN).
pub(crate) async fn connect(
    target: &Target<'_>,
    tls: &Result<Arc<rustls::ClientConfig>, String>,
) -> Result<Conn, RequestError> {
    let stream = connect_tcp(target).await?;
    let _ = stream.set_nodelay(true);
    let (sender, driver) = if target.https {
        let config = tls.as_ref().map_err(|e| RequestError::Tls(e.clone()))?;
        let name = server_name(&target.host)?;
        let tls_stream = tokio_rustls::TlsConnector::from(config.clone())
            .connect(name, stream)
            .await
            .map_err(|e| RequestError::from_tls_io(&e))?;
        let h2 = tls_stream.get_ref().1.alpn_protocol() == Some(ALPN_H2);
        if h2 {
            handshake_h2(TokioIo::new(tls_stream)).await?
        } else {
            handshake_h1(TokioIo::new(tls_stream)).await?
        }
    } else {
        handshake_h1(TokioIo::new(stream)).await?
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
        driver,
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

/// HTTP/1.1 handshake; the connection driver runs as its own task.
async fn handshake_h1<T>(io: TokioIo<T>) -> Result<(Sender, AbortHandle), RequestError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::Builder::new()
        .handshake(io)
        .await
        .map_err(|e| RequestError::from_hyper(&e))?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok((Sender::H1(sender), driver.abort_handle()))
}

/// HTTP/2 handshake, with windows large enough not to throttle big bodies.
async fn handshake_h2<T>(io: TokioIo<T>) -> Result<(Sender, AbortHandle), RequestError>
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
    Ok((Sender::H2(sender), driver.abort_handle()))
}

/// One user's idle connections, at most one per origin (a user sends one request at a
/// time; a connection is taken out while in use and put back once its body was read).
#[derive(Default)]
pub(crate) struct Pool {
    idle: Vec<Conn>,
}

impl Pool {
    /// Takes the idle connection to `target`'s origin, if any.
    pub fn take(&mut self, target: &Target<'_>) -> Option<Conn> {
        let index = self.idle.iter().position(|c| c.serves(target))?;
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
