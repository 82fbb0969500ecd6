//! A fault-injecting HTTP target for the hardening tests: raw tokio TCP (and TLS with a
//! self-signed rcgen certificate) on `127.0.0.1:0`, on its own runtime, misbehaving at the
//! byte level on purpose. Each connection serves requests in a loop; the first path segment
//! picks the behaviour:
//!
//! - `/ok` → `200 ok`, kept alive
//! - `/reset` → a head announcing 100 000 bytes, 1 000 of them, then a TCP reset
//! - `/silent` → never answers (holds the connection until the client gives up)
//! - `/drip?bytes=N` → a head, then an `N`-byte body at one byte per second
//! - `/big?bytes=N` → an `N`-byte body (default 1 GiB) streamed from one static buffer
//! - `/garbage`, `/bad-length`, `/bad-chunk` → malformed HTTP, then close
//! - `/close` → `200 ok` without `connection: close`, then the socket is closed
//! - `/swallow` → reads the request, then closes without answering
//! - `/hop...` → `302` to `/hop/<k>`, `k` never used before (distinct URLs forever)
//! - `/error` → `500` whose message has a short order id, a hex request id and a time
//! - `/distinct-error` → `500` with a message unlike any other (no number in it)
//!
//! Every request is counted on arrival, by first path segment; bytes of `/big` bodies
//! written and TLS handshakes refused by the client are counted too.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Default size of a `/big` body: 1 GiB.
pub const BIG_BODY: u64 = 1 << 30;

/// What the fault target saw, shared with the test.
#[derive(Default)]
pub struct FaultSeen {
    /// Requests per first path segment (`/ok`, `/hop`, ...), counted on arrival.
    hits: Mutex<HashMap<String, u64>>,
    /// Body bytes of `/big` responses written to clients.
    pub big_bytes: AtomicU64,
    /// TLS handshakes that failed (the client refused the certificate).
    pub tls_refused: AtomicU64,
    /// Last `/hop/<k>` handed out (each redirect goes to a new URL).
    pub hops: AtomicU64,
    /// `/error` and `/distinct-error` responses so far (their messages vary with it).
    errors: AtomicU64,
}

impl FaultSeen {
    /// Requests that arrived whose path starts with `/segment`.
    pub fn hits(&self, segment: &str) -> u64 {
        self.hits.lock().unwrap().get(segment).copied().unwrap_or(0)
    }

    fn count(&self, segment: &str) {
        *self
            .hits
            .lock()
            .unwrap()
            .entry(segment.to_string())
            .or_default() += 1;
    }
}

/// A running fault target (plain and TLS listeners). Dropping it shuts its runtime down,
/// closing every connection it holds.
pub struct FaultTarget {
    pub addr: SocketAddr,
    pub tls_addr: SocketAddr,
    pub seen: Arc<FaultSeen>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl FaultTarget {
    /// Starts both listeners on `127.0.0.1:0` on a 2-thread runtime of their own.
    pub fn start() -> FaultTarget {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fault-target")
            .enable_all()
            .build()
            .expect("fault target runtime");
        let seen = Arc::new(FaultSeen::default());
        let plain = bind();
        let tls = bind();
        let (addr, tls_addr) = (plain.local_addr().unwrap(), tls.local_addr().unwrap());
        let acceptor = tls_acceptor();
        let s = seen.clone();
        runtime.spawn(async move {
            let listener = TcpListener::from_std(plain).expect("listener");
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, s.clone()));
            }
        });
        let s = seen.clone();
        runtime.spawn(async move {
            let listener = TcpListener::from_std(tls).expect("listener");
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, s) = (acceptor.clone(), s.clone());
                tokio::spawn(async move {
                    match acceptor.accept(stream).await {
                        Ok(stream) => serve(stream, s).await,
                        Err(_) => {
                            s.tls_refused.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        FaultTarget {
            addr,
            tls_addr,
            seen,
            runtime: Some(runtime),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `https://127.0.0.1:PORT` (self-signed certificate for `127.0.0.1`).
    pub fn tls_url(&self) -> String {
        format!("https://{}", self.tls_addr)
    }
}

impl Drop for FaultTarget {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn bind() -> std::net::TcpListener {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.set_nonblocking(true).expect("nonblocking");
    l
}

/// A TLS acceptor with a fresh self-signed certificate for `127.0.0.1` (HTTP/1.1 only).
fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
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
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A stream the target can abort with a TCP reset (RST instead of FIN).
trait Abortable: AsyncRead + AsyncWrite + Unpin + Send {
    fn reset(&self);
}

impl Abortable for TcpStream {
    fn reset(&self) {
        let _ = self.set_zero_linger();
    }
}

impl Abortable for tokio_rustls::server::TlsStream<TcpStream> {
    fn reset(&self) {
        let _ = self.get_ref().0.set_zero_linger();
    }
}

/// One request line: path and query.
struct Head {
    path: String,
    query: String,
}

impl Head {
    fn number(&self, key: &str, default: u64) -> u64 {
        self.query
            .split('&')
            .filter_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .find_map(|v| v.parse().ok())
            .unwrap_or(default)
    }
}

/// Reads one request (head and `content-length` body) from `stream`, keeping any extra
/// bytes in `buf`; `None` at end of stream or on garbage.
async fn read_request<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>) -> Option<Head> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 || !fill(stream, buf).await {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let target = head.lines().next()?.split(' ').nth(1)?.to_string();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        if !fill(stream, buf).await {
            return None;
        }
    }
    buf.drain(..head_end + length);
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    Some(Head {
        path: path.to_string(),
        query: query.to_string(),
    })
}

/// Reads more bytes into `buf`; false at end of stream or on error.
async fn fill<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 4096];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

/// Whether the connection stays open for another request.
enum Next {
    KeepAlive,
    Close,
    Reset,
}

async fn serve<S: Abortable>(mut stream: S, seen: Arc<FaultSeen>) {
    let mut buf = Vec::new();
    while let Some(head) = read_request(&mut stream, &mut buf).await {
        let first = head.path.trim_start_matches('/').split('/').next();
        let segment = format!("/{}", first.unwrap_or(""));
        seen.count(&segment);
        match respond(&mut stream, &head, &segment, &seen).await {
            Ok(Next::KeepAlive) => {}
            Ok(Next::Close) | Err(_) => break,
            Ok(Next::Reset) => {
                // Dropped at once, without a FIN first: the client sees a reset.
                stream.reset();
                return;
            }
        }
    }
    let _ = stream.shutdown().await;
}

/// `200 ok`, kept alive.
const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

async fn respond<S: Abortable>(
    stream: &mut S,
    head: &Head,
    segment: &str,
    seen: &FaultSeen,
) -> std::io::Result<Next> {
    match segment {
        "/ok" => stream.write_all(OK).await.map(|_| Next::KeepAlive),
        "/reset" => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n")
                .await?;
            stream.write_all(&[b'a'; 1000]).await?;
            stream.flush().await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(Next::Reset)
        }
        "/silent" => {
            // Until the client closes (its timeout), reading and ignoring what it sends.
            let mut sink = [0u8; 1024];
            while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
            Ok(Next::Close)
        }
        "/drip" => {
            let bytes = head.number("bytes", 5);
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {bytes}\r\n\r\n");
            stream.write_all(head.as_bytes()).await?;
            stream.flush().await?;
            for _ in 0..bytes {
                tokio::time::sleep(Duration::from_secs(1)).await;
                stream.write_all(b"d").await?;
                stream.flush().await?;
            }
            Ok(Next::KeepAlive)
        }
        "/big" => {
            static CHUNK: [u8; 256 * 1024] = [b'x'; 256 * 1024];
            let total = head.number("bytes", BIG_BODY);
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {total}\r\n\r\n");
            stream.write_all(head.as_bytes()).await?;
            let mut left = total;
            while left > 0 {
                let n = left.min(CHUNK.len() as u64) as usize;
                stream.write_all(&CHUNK[..n]).await?;
                seen.big_bytes.fetch_add(n as u64, Ordering::Relaxed);
                left -= n as u64;
            }
            Ok(Next::KeepAlive)
        }
        "/garbage" => {
            stream.write_all(b"garbage\r\n\r\n").await?;
            Ok(Next::Close)
        }
        "/bad-length" => {
            let bad = b"HTTP/1.1 200 OK\r\ncontent-length: nope\r\n\r\nok";
            stream.write_all(bad).await?;
            Ok(Next::Close)
        }
        "/bad-chunk" => {
            let bad = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nok\r\n";
            stream.write_all(bad).await?;
            Ok(Next::Close)
        }
        "/close" => {
            stream.write_all(OK).await?;
            Ok(Next::Close)
        }
        "/swallow" => Ok(Next::Close),
        "/hop" => {
            let next = seen.hops.fetch_add(1, Ordering::Relaxed) + 1;
            let resp =
                format!("HTTP/1.1 302 Found\r\nlocation: /hop/{next}\r\ncontent-length: 0\r\n\r\n");
            stream
                .write_all(resp.as_bytes())
                .await
                .map(|_| Next::KeepAlive)
        }
        "/error" => {
            let n = seen.errors.fetch_add(1, Ordering::Relaxed);
            // A short order id, a hex request id (with a digit and a letter), a time of day.
            let message = format!(
                "order {} not found (request {}{:06x}{}, at {:02}:{:02}:{:02}.{:03})",
                n % 5000 + 1,
                n % 9 + 1,
                n.wrapping_mul(2_654_435_761) & 0xff_ffff,
                char::from(b'a' + (n % 6) as u8),
                n / 3600 % 24,
                n / 60 % 60,
                n % 60,
                n % 1000,
            );
            error(stream, &message).await
        }
        "/distinct-error" => {
            let n = seen.errors.fetch_add(1, Ordering::Relaxed);
            // The number spelt in letters: nothing in it can be blanked as a variable part.
            let word: String = n
                .to_string()
                .bytes()
                .map(|d| char::from(b'g' + (d - b'0')))
                .collect();
            error(stream, &format!("no such thing: {word}")).await
        }
        _ => {
            let resp = b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\n\r\nno route!";
            stream.write_all(resp).await.map(|_| Next::KeepAlive)
        }
    }
}

/// A `500` with `{"error": message}`, kept alive.
async fn error<S: Abortable>(stream: &mut S, message: &str) -> std::io::Result<Next> {
    let body = serde_json::json!({ "error": message }).to_string();
    let resp = format!(
        "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(resp.as_bytes()).await?;
    Ok(Next::KeepAlive)
}
