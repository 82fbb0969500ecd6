//! Test servers for the client tests, all on 127.0.0.1:0: a hyper server (plain or TLS with
//! a self-signed rcgen certificate and chosen ALPN) with a few routes, and raw TCP servers
//! that misbehave (garbage, resets, silence).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::stream;
use http::{Request, Response, StatusCode, Version};
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

mod bench;
pub mod shapes;

/// A GET of `url` with no headers.
pub fn get_request(url: url::Url) -> surge::client::Request {
    surge::client::Request {
        method: http::Method::GET,
        url,
        headers: http::HeaderMap::new(),
        body: Bytes::new(),
    }
}

/// A POST of `body` to `url` with no headers.
pub fn post_request(url: url::Url, body: &'static str) -> surge::client::Request {
    surge::client::Request {
        method: http::Method::POST,
        url,
        headers: http::HeaderMap::new(),
        body: Bytes::from_static(body.as_bytes()),
    }
}

/// Runs a test the way the engine runs users: a current-thread runtime with a `LocalSet`,
/// bounded in time.
pub fn run_local<F: std::future::Future<Output = ()>>(test: F) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        tokio::time::timeout(Duration::from_secs(60), test)
            .await
            .expect("test took too long");
    });
}

/// A running hyper test server and what it observed.
pub struct Server {
    pub addr: SocketAddr,
    /// Connections accepted so far.
    pub connections: Arc<AtomicUsize>,
    /// HTTP version of every request served.
    pub versions: Arc<Mutex<Vec<Version>>>,
}

impl Server {
    pub fn url(&self, path: &str) -> url::Url {
        url::Url::parse(&format!("http://{}{}", self.addr, path)).unwrap()
    }

    pub fn https_url(&self, path: &str) -> url::Url {
        url::Url::parse(&format!("https://{}{}", self.addr, path)).unwrap()
    }

    pub fn connection_count(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Starts the plain-HTTP test server (HTTP/1.1).
pub async fn start_http() -> Server {
    start(None).await
}

/// Starts the TLS test server offering `alpn` (e.g. `["h2", "http/1.1"]`).
pub async fn start_https(alpn: &[&str]) -> Server {
    let key = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let cert: CertificateDer<'static> = key.cert.der().clone();
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], private)
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    start(Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))).await
}

async fn start(tls: Option<tokio_rustls::TlsAcceptor>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let versions = Arc::new(Mutex::new(Vec::new()));
    let (count, seen) = (connections.clone(), versions.clone());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let seen = seen.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| route(req, seen.clone()));
                let builder = auto::Builder::new(TokioExecutor::new());
                match tls {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(stream).await {
                            let io = TokioIo::new(stream);
                            let _ = builder.serve_connection(io, service).await;
                        }
                    }
                    None => {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
            });
        }
    });
    Server {
        addr,
        connections,
        versions,
    }
}

type Body = BoxBody<Bytes, Infallible>;

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut resp = Response::new(Full::new(body.into()).boxed());
    *resp.status_mut() = status;
    resp
}

fn redirect(status: u16, location: &str) -> Response<Body> {
    let mut resp = text(StatusCode::from_u16(status).unwrap(), "moved");
    resp.headers_mut()
        .insert("location", location.parse().unwrap());
    resp
}

fn query_number(req: &Request<Incoming>, default: usize) -> usize {
    req.uri()
        .query()
        .and_then(|q| q.strip_prefix("n="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// The routes the tests use.
async fn route(
    req: Request<Incoming>,
    versions: Arc<Mutex<Vec<Version>>>,
) -> Result<Response<Body>, Infallible> {
    versions.lock().unwrap().push(req.version());
    let path = req.uri().path().to_string();
    let resp = match path.as_str() {
        "/hello" => text(StatusCode::OK, "hello"),
        p if p.starts_with("/shape/") => {
            let shape = &shapes::SHAPES[p["/shape/".len()..].parse::<usize>().unwrap()];
            let mut resp = text(StatusCode::from_u16(shape.status).unwrap(), shape.body);
            resp.headers_mut()
                .insert("content-type", shape.content_type.parse().unwrap());
            resp
        }
        "/close" => {
            let mut resp = text(StatusCode::OK, "bye");
            resp.headers_mut()
                .insert("connection", "close".parse().unwrap());
            resp
        }
        "/login" => {
            let mut resp = text(StatusCode::OK, "welcome");
            resp.headers_mut()
                .insert("set-cookie", "sid=42; Path=/".parse().unwrap());
            resp
        }
        "/echo" => {
            let method = req.method().to_string();
            let header = |name: &str| {
                req.headers()
                    .get(name)
                    .map(|v| v.to_str().unwrap_or("?").to_string())
                    .unwrap_or_default()
            };
            let (cookie, agent, host) = (header("cookie"), header("user-agent"), header("host"));
            let body = req.into_body().collect().await.unwrap().to_bytes();
            let body = String::from_utf8_lossy(&body).to_string();
            text(
                StatusCode::OK,
                format!("{method}|{cookie}|{agent}|{host}|{body}"),
            )
        }
        "/r302" => {
            let mut resp = redirect(302, "/echo");
            resp.headers_mut()
                .insert("set-cookie", "via=redirect; Path=/".parse().unwrap());
            resp
        }
        "/r307" => redirect(307, "echo"),
        "/r308" => redirect(308, "/echo"),
        "/loop" => redirect(302, "/loop"),
        "/noloc" => text(StatusCode::FOUND, "nowhere"),
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(query_number(&req, 1000) as u64)).await;
            text(StatusCode::OK, "slow")
        }
        "/big" => {
            let total = query_number(&req, 20 * 1024 * 1024);
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            let frames = (0..total.div_ceil(chunk.len())).map(move |i| {
                let len = chunk.len().min(total - i * chunk.len());
                Ok::<_, Infallible>(Frame::data(chunk.slice(..len)))
            });
            Response::new(StreamBody::new(stream::iter(frames)).boxed())
        }
        "/error" => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"error":"(OperationalError) 1040: Too many connections"}"#,
        ),
        "/bigerror" => text(StatusCode::BAD_GATEWAY, vec![b'e'; 10_000]),
        _ => text(StatusCode::NOT_FOUND, "no such route"),
    };
    Ok(resp)
}

/// A raw TCP server running `handler` on every accepted connection.
pub async fn start_raw<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(handler(stream));
        }
    });
    addr
}

/// Reads one request head (up to the blank line) from a raw connection; false on EOF.
pub async fn read_head(stream: &mut TcpStream) -> bool {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    true
}

/// Writes raw bytes, ignoring errors (the peer may be gone).
pub async fn write_raw(stream: &mut TcpStream, bytes: &[u8]) {
    let _ = stream.write_all(bytes).await;
    let _ = stream.flush().await;
}
