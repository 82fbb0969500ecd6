//! A lean HTTP/1.1 connection driven inline by the user's own task: the request head is
//! encoded into a reused buffer and written with one syscall, the response head is parsed
//! with `httparse` straight from the read buffer (header values share it, no copy), and the
//! body is read to its end (`content-length`, chunked, or until close), counted and kept
//! only up to the caller's cap.
//!
//! Why not hyper's client here: its HTTP/1 connection runs as a second task fed through a
//! channel, so every request costs two task wake-ups, a channel send and a oneshot on top of
//! the socket work. Profiling a closed loop against nginx put that machinery at a third of
//! Surge's user-space CPU per request. HTTP/2 still goes through hyper (see `conn`).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures::FutureExt;
use http::header::{CONTENT_LENGTH, COOKIE, HOST, USER_AGENT};
use http::{HeaderValue, Method, StatusCode, Version};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio_rustls::client::TlsStream;
use url::Position;

use super::body::{Keeper, ReadBody};
use super::error::RequestError;
use super::framing::{BodyKind, Framing};
use super::headers::{self, Headers, MAX_HEADERS};
use super::stamped::Tcp;
use super::{FixedRequest, Request};

/// Largest response head accepted (status line and headers).
const MAX_HEAD: usize = 64 * 1024;
/// Request bodies up to this size are copied behind the head (one write); bigger ones are
/// written on their own.
const INLINE_BODY: usize = 16 * 1024;
/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 16 * 1024;

/// The socket under an HTTP/1.1 connection: plain TCP or rustls over TCP.
pub(crate) enum Stream {
    Plain(Tcp),
    Tls(Box<TlsStream<Tcp>>),
}

impl Stream {
    fn tcp(&self) -> &Tcp {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref().0,
        }
    }

    fn tcp_mut(&mut self) -> &mut Tcp {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_mut().0,
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A parsed response head.
pub(crate) struct Head {
    pub status: StatusCode,
    pub version: Version,
    pub headers: Headers,
    pub body: BodyKind,
    /// The connection may carry another request (its `connection` header allows it).
    pub keep_alive: bool,
    /// The head carries a `set-cookie` (the cookie jar reads the headers only then).
    pub set_cookie: bool,
}

/// One HTTP/1.1 connection with its reused buffers.
pub(crate) struct H1Conn {
    io: Stream,
    read_buf: BytesMut,
    write_buf: Vec<u8>,
    /// Set once the connection may not carry another request (close, error, read to EOF).
    broken: bool,
}

impl H1Conn {
    pub fn new(io: Stream) -> H1Conn {
        H1Conn {
            io,
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            write_buf: Vec::with_capacity(512),
            broken: false,
        }
    }

    /// When the data of the latest read arrived (kernel receive timestamp), if known.
    pub fn arrival(&self) -> Option<tokio::time::Instant> {
        self.io.tcp().arrival()
    }

    /// Whether another request may be sent on this connection.
    pub fn is_usable(&self) -> bool {
        !self.broken
    }

    /// Whether the kept-alive connection is still open: a peer that closed it idle (or sent
    /// anything unasked, such as a TLS close alert) has left it readable. Costs no syscall
    /// while the socket is not readable.
    pub fn is_open(&mut self) -> bool {
        if self.broken || !self.read_buf.is_empty() {
            return false;
        }
        let tcp = self.io.tcp().get_ref();
        let mut probe = [0u8; 1];
        match tcp.peek(&mut probe).now_or_never() {
            None => true,
            Some(_) => {
                self.broken = true;
                false
            }
        }
    }

    /// Writes `req` (with the default headers it lacks) and reads the final response head,
    /// skipping interim 1xx responses.
    pub async fn send(
        &mut self,
        req: &Request,
        host: &HeaderValue,
        cookie: Option<&HeaderValue>,
    ) -> Result<Head, RequestError> {
        self.write_buf.clear();
        encode(&mut self.write_buf, req, host, cookie);
        let rest = if is_inline(&req.body) {
            self.write_buf.extend_from_slice(&req.body);
            None
        } else {
            Some(&req.body)
        };
        self.exchange(rest, &req.method).await
    }

    /// [`send`](Self::send) for a request whose head was encoded beforehand: the same bytes,
    /// copied from one buffer.
    pub async fn send_fixed(
        &mut self,
        fixed: &FixedRequest,
        host: &HeaderValue,
        cookie: Option<&HeaderValue>,
    ) -> Result<Head, RequestError> {
        if cookie.is_some() && fixed.has_cookie {
            return self.send(fixed.request(), host, cookie).await;
        }
        self.write_buf.clear();
        encode_fixed(&mut self.write_buf, fixed, host, cookie);
        let rest = (!fixed.inline_body).then(|| &fixed.request().body);
        self.exchange(rest, &fixed.method).await
    }

    /// Writes the head in the write buffer, then `rest` of the body when it did not fit
    /// behind the head, and reads the final response head.
    async fn exchange(
        &mut self,
        rest: Option<&Bytes>,
        method: &Method,
    ) -> Result<Head, RequestError> {
        self.broken = true; // until the exchange completes cleanly
        self.io.tcp_mut().clear_arrival();
        self.io
            .write_all(&self.write_buf)
            .await
            .map_err(|e| RequestError::from_io(&e))?;
        if let Some(body) = rest {
            self.io
                .write_all(body)
                .await
                .map_err(|e| RequestError::from_io(&e))?;
        }
        loop {
            let head = self.read_head(method).await?;
            // 101 switches protocols: nothing more of HTTP/1.1 can be read on it.
            if head.status.is_informational() && head.status != StatusCode::SWITCHING_PROTOCOLS {
                continue;
            }
            return Ok(head);
        }
    }

    /// Reads and parses one response head from the connection.
    async fn read_head(&mut self, method: &Method) -> Result<Head, RequestError> {
        loop {
            if !self.read_buf.is_empty() {
                if let Some(head) = self.parse_head(method)? {
                    return Ok(head);
                }
                if self.read_buf.len() >= MAX_HEAD {
                    return Err(RequestError::Malformed(format!(
                        "response head larger than {} KiB",
                        MAX_HEAD / 1024
                    )));
                }
            }
            if self.fill().await.map_err(|e| RequestError::from_io(&e))? == 0 {
                return Err(RequestError::ConnectionClosed);
            }
        }
    }

    /// Parses a complete head at the start of the read buffer, consuming it; `None` when
    /// more bytes are needed.
    fn parse_head(&mut self, method: &Method) -> Result<Option<Head>, RequestError> {
        let mut slots = headers::slots();
        let (len, parsed) = match headers::parse(&self.read_buf, &mut slots) {
            Ok(Some(complete)) => complete,
            Ok(None) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(RequestError::Malformed(format!(
                    "more than {MAX_HEADERS} headers"
                )))
            }
            Err(e) => return Err(RequestError::Malformed(e.to_string())),
        };
        let code = parsed.code.unwrap_or(0);
        let status = StatusCode::from_u16(code)
            .map_err(|_| RequestError::Malformed(format!("invalid status code {code}")))?;
        let version = if parsed.version == Some(0) {
            Version::HTTP_10
        } else {
            Version::HTTP_11
        };
        let framing = Framing::read(parsed.headers.iter().map(|h| (h.name.as_bytes(), h.value)));
        let body = framing.body_kind(method, status)?;
        let keep_alive = framing.keeps_alive(version);
        let set_cookie = framing.set_cookie;
        // The headers stay in the head's bytes until something reads them (see `headers`).
        let raw = self.read_buf.split_to(len).freeze();
        Ok(Some(Head {
            status,
            version,
            headers: Headers::from_head(raw),
            body,
            keep_alive,
            set_cookie,
        }))
    }

    /// Reads a body delimited by `kind` to its end, counting every byte and keeping the
    /// first `cap`. Afterwards the connection is reusable when `keep_alive` (the response's
    /// `connection` header allows it) and the body did not run to the end of the stream.
    pub async fn read_body(
        &mut self,
        kind: BodyKind,
        keep_alive: bool,
        cap: usize,
    ) -> Result<ReadBody, RequestError> {
        let mut sink = Sink {
            keeper: Keeper::default(),
            cap,
            len: 0,
        };
        match kind {
            BodyKind::Empty => {}
            BodyKind::Length(n) => self.read_exact_body(n, &mut sink).await?,
            BodyKind::Chunked => self.read_chunked(&mut sink).await?,
            BodyKind::UntilClose => loop {
                sink.take(&mut self.read_buf, usize::MAX);
                if self.fill().await.map_err(body_io)? == 0 {
                    return Ok(sink.finish());
                }
            },
        }
        self.broken = !keep_alive;
        Ok(sink.finish())
    }

    async fn read_exact_body(
        &mut self,
        mut remaining: u64,
        sink: &mut Sink,
    ) -> Result<(), RequestError> {
        loop {
            let want = usize::try_from(remaining).unwrap_or(usize::MAX);
            remaining -= sink.take(&mut self.read_buf, want) as u64;
            if remaining == 0 {
                return Ok(());
            }
            self.fill_or_truncated().await?;
        }
    }

    async fn read_chunked(&mut self, sink: &mut Sink) -> Result<(), RequestError> {
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.read_buf) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.read_buf.advance(used);
                        break size;
                    }
                    Ok(httparse::Status::Partial) if self.read_buf.len() < MAX_HEAD => {
                        self.fill_or_truncated().await?
                    }
                    _ => return Err(malformed_chunks()),
                }
            };
            if size == 0 {
                return self.skip_trailers().await;
            }
            self.read_exact_body(size, sink).await?;
            while self.read_buf.len() < 2 {
                self.fill_or_truncated().await?;
            }
            if &self.read_buf[..2] != b"\r\n" {
                return Err(malformed_chunks());
            }
            self.read_buf.advance(2);
        }
    }

    /// Skips the trailer section after the last chunk, up to its empty line.
    async fn skip_trailers(&mut self) -> Result<(), RequestError> {
        loop {
            match self.read_buf.iter().position(|b| *b == b'\n') {
                Some(end) => {
                    let empty = end == 0 || (end == 1 && self.read_buf[0] == b'\r');
                    self.read_buf.advance(end + 1);
                    if empty {
                        return Ok(());
                    }
                }
                None if self.read_buf.len() < MAX_HEAD => self.fill_or_truncated().await?,
                None => return Err(malformed_chunks()),
            }
        }
    }

    /// Reads more bytes; the end of the stream here means the body was cut short.
    async fn fill_or_truncated(&mut self) -> Result<(), RequestError> {
        match self.fill().await.map_err(body_io)? {
            0 => Err(RequestError::Body(
                "connection closed before the end of the body".to_string(),
            )),
            _ => Ok(()),
        }
    }

    /// Appends what the socket has to the read buffer; 0 at the end of the stream.
    async fn fill(&mut self) -> io::Result<usize> {
        self.read_buf.reserve(READ_CHUNK);
        self.io.read_buf(&mut self.read_buf).await
    }
}

/// Where body bytes go: counted, and kept up to the cap.
struct Sink {
    keeper: Keeper,
    cap: usize,
    len: u64,
}

impl Sink {
    /// Takes up to `max` bytes from the front of `buf`; returns how many.
    fn take(&mut self, buf: &mut BytesMut, max: usize) -> usize {
        let n = buf.len().min(max);
        if n == 0 {
            return 0;
        }
        self.len += n as u64;
        if self.cap > 0 {
            self.keeper.push(buf.split_to(n).freeze(), self.cap);
        } else {
            buf.advance(n);
        }
        n
    }

    fn finish(self) -> ReadBody {
        let (kept, truncated) = self.keeper.finish();
        ReadBody {
            kept,
            truncated,
            len: self.len,
        }
    }
}

fn body_io(e: io::Error) -> RequestError {
    RequestError::Body(RequestError::from_io(&e).to_string())
}

fn malformed_chunks() -> RequestError {
    RequestError::Body("malformed chunked encoding".to_string())
}

/// Encodes the request head: request line, the user's headers, then `host`, `user-agent`,
/// `content-length` and the jar's cookies unless the user set them.
fn encode(out: &mut Vec<u8>, req: &Request, host: &HeaderValue, cookie: Option<&HeaderValue>) {
    let own_cookie = encode_start(out, req, cookie);
    if !req.headers.contains_key(HOST) {
        line(out, b"host", host.as_bytes());
    }
    encode_defaults(out, req);
    encode_end(out, cookie.filter(|_| !own_cookie));
}

/// [`encode`] from a prepared head (when the request has no `cookie` of its own or the jar
/// none to add), with the body behind it when it goes in the same write.
fn encode_fixed(
    out: &mut Vec<u8>,
    fixed: &FixedRequest,
    host: &HeaderValue,
    cookie: Option<&HeaderValue>,
) {
    let (before, after, body) = fixed.parts();
    out.extend_from_slice(before);
    if !fixed.has_host {
        line(out, b"host", host.as_bytes());
    }
    out.extend_from_slice(after);
    encode_end(out, cookie);
    out.extend_from_slice(body);
}

/// The request line and the user's headers, the jar's `cookie` merged into the user's own;
/// true when it was.
pub(super) fn encode_start(out: &mut Vec<u8>, req: &Request, cookie: Option<&HeaderValue>) -> bool {
    out.extend_from_slice(req.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(req.url[Position::BeforePath..Position::AfterQuery].as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let mut own_cookie = false;
    for (name, value) in &req.headers {
        if name == COOKIE {
            if let Some(jar) = cookie {
                own_cookie = true;
                let mut joined = value.as_bytes().to_vec();
                joined.extend_from_slice(b"; ");
                joined.extend_from_slice(jar.as_bytes());
                line(out, name.as_str().as_bytes(), &joined);
                continue;
            }
        }
        line(out, name.as_str().as_bytes(), value.as_bytes());
    }
    own_cookie
}

/// `user-agent` and `content-length` unless the user set them.
pub(super) fn encode_defaults(out: &mut Vec<u8>, req: &Request) {
    if !req.headers.contains_key(USER_AGENT) {
        line(out, b"user-agent", super::DEFAULT_USER_AGENT.as_bytes());
    }
    if super::wants_length(req) && !req.headers.contains_key(CONTENT_LENGTH) {
        let mut digits = itoa::Buffer::new();
        line(
            out,
            b"content-length",
            digits.format(req.body.len()).as_bytes(),
        );
    }
}

/// The jar's cookies as a header of their own, then the blank line ending the head.
fn encode_end(out: &mut Vec<u8>, cookie: Option<&HeaderValue>) {
    if let Some(jar) = cookie {
        line(out, b"cookie", jar.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// Whether `body` goes out behind the head in the same write.
pub(super) fn is_inline(body: &[u8]) -> bool {
    body.len() <= INLINE_BODY
}

fn line(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    #[test]
    fn request_head_encoding() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("own=1"));
        headers.insert("x-a", HeaderValue::from_static("b"));
        let req = Request {
            method: Method::POST,
            url: url::Url::parse("http://h:8/p/a?q=1#frag").unwrap(),
            headers,
            body: Bytes::from_static(b"xyz"),
        };
        let mut out = Vec::new();
        encode(
            &mut out,
            &req,
            &HeaderValue::from_static("h:8"),
            Some(&HeaderValue::from_static("sid=42")),
        );
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            format!(
                "POST /p/a?q=1 HTTP/1.1\r\ncookie: own=1; sid=42\r\nx-a: b\r\nhost: h:8\r\n\
                 user-agent: {}\r\ncontent-length: 3\r\n\r\n",
                super::super::DEFAULT_USER_AGENT
            )
        );
    }

    /// A prepared head sends the very bytes [`encode`] would, body included, whatever the
    /// request sets itself and whether the jar has cookies.
    #[test]
    fn prepared_heads_send_what_encode_sends() {
        let big = Bytes::from(vec![b'x'; INLINE_BODY + 1]);
        type Case = (
            Method,
            &'static str,
            Vec<(&'static str, &'static str)>,
            Bytes,
        );
        let cases: Vec<Case> = vec![
            (Method::GET, "http://h/", vec![], Bytes::new()),
            (
                Method::GET,
                "http://h:8/a?b=1#f",
                vec![("x-a", "1"), ("x-b", "2")],
                Bytes::new(),
            ),
            (
                Method::POST,
                "https://h/p",
                vec![("host", "other")],
                Bytes::from_static(b"{}"),
            ),
            (
                Method::PUT,
                "http://[::1]:9/",
                vec![("user-agent", "me")],
                Bytes::new(),
            ),
            (
                Method::POST,
                "http://h/",
                vec![("content-length", "3")],
                Bytes::from_static(b"abc"),
            ),
            (Method::POST, "http://h/", vec![], big),
            (
                Method::HEAD,
                "http://h/",
                vec![("cookie", "own=1")],
                Bytes::new(),
            ),
        ];
        let host = HeaderValue::from_static("h:8");
        let jar = HeaderValue::from_static("sid=42");
        for (method, url, headers, body) in cases {
            let mut map = HeaderMap::new();
            for (k, v) in headers {
                map.append(k, HeaderValue::from_static(v));
            }
            let req = Request {
                method,
                url: url::Url::parse(url).unwrap(),
                headers: map,
                body,
            };
            let fixed = FixedRequest::new(req.clone()).unwrap();
            for cookie in [None, Some(&jar)] {
                if cookie.is_some() && fixed.has_cookie {
                    continue; // sent through `encode` itself (see `send_fixed`)
                }
                let mut want = Vec::new();
                encode(&mut want, &req, &host, cookie);
                if is_inline(&req.body) {
                    want.extend_from_slice(&req.body);
                }
                let mut got = Vec::new();
                encode_fixed(&mut got, &fixed, &host, cookie);
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&want),
                    "{url}"
                );
                assert_eq!(fixed.inline_body, is_inline(&req.body), "{url}");
            }
        }
    }
}
