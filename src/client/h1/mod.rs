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
//!
//! - `stream`: the socket under a connection (plain TCP or TLS).
//! - `encode`: the request head's bytes.
//! - `response_body`: reading a body to its end (length, chunked, until close).

mod encode;
mod response_body;
mod stream;

use std::io;

use bytes::{Bytes, BytesMut};
use futures::FutureExt;
use http::{HeaderValue, Method, StatusCode, Version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::error::RequestError;
use super::framing::{BodyKind, Framing};
use super::headers::{self, Headers, MAX_HEADERS};
use super::{FixedRequest, Request};
use encode::{encode, encode_fixed};

pub(super) use encode::{encode_defaults, encode_start, is_inline};
pub(crate) use stream::Stream;

/// Largest response head accepted (status line and headers).
const MAX_HEAD: usize = 64 * 1024;
/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 16 * 1024;

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
    /// Appends what the socket has to the read buffer; 0 at the end of the stream.
    async fn fill(&mut self) -> io::Result<usize> {
        self.read_buf.reserve(READ_CHUNK);
        self.io.read_buf(&mut self.read_buf).await
    }
}
