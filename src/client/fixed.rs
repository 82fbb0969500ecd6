//! Requests sent many times unchanged (a plan step whose URL, headers and body are all
//! literal), with their HTTP/1.1 head encoded once.
//!
//! Why: in a plan of a hundred such steps taking turns, each step's memory has left the
//! core's caches by the time it is sent again, and every distinct cache line a send reads is
//! a miss. Encoding a [`Request`] reads the URL's buffer, the header map's index, its entries
//! and every value's buffer, and looks `host`, `user-agent` and `content-length` up in it;
//! finding the pooled connection parses the URL's origin again. Here the origin and the
//! encoded head sit in one buffer read front to back, so a send touches a few adjacent lines
//! instead (and skips the lookups). The plain [`Request`] stays beside it for what is rare:
//! connecting, HTTP/2, redirects, and the jar's cookies merged into a `cookie` header of the
//! step's own.

use http::header::{COOKIE, HOST};
use http::Method;

use super::conn::Target;
use super::error::RequestError;
use super::h1;
use super::Request;

/// A request with its origin and HTTP/1.1 head prepared for repeated sends.
#[derive(Debug, Clone)]
#[repr(C)] // what every send reads first, side by side: the request itself is read rarely
pub struct FixedRequest {
    pub(crate) method: Method,
    /// The URL's host as written (IPv6 in brackets), then the head without `host`, `cookie`
    /// and the blank line: the request line and the request's headers, then (from
    /// `tail_at`) `user-agent` and `content-length` unless the request sets them; then (from
    /// `body_at`) the body when it is sent behind the head.
    buf: Box<[u8]>,
    host_len: u32,
    tail_at: u32,
    body_at: u32,
    pub(crate) port: u16,
    pub(crate) https: bool,
    /// The request sets its own `host` header.
    pub(crate) has_host: bool,
    /// The request sets its own `cookie` header (the jar's are then merged into it, the
    /// rare path through the plain request).
    pub(crate) has_cookie: bool,
    /// The body is in `buf` (small enough to go out with the head in one write).
    pub(crate) inline_body: bool,
    request: Box<Request>,
}

impl FixedRequest {
    /// Prepares `request`; `InvalidUrl` when its URL is not an http(s) URL with a host, or
    /// the request is too large to prepare (over 4 GiB).
    pub fn new(request: Request) -> Result<FixedRequest, RequestError> {
        let target = Target::from_url(&request.url)?;
        let (https, port) = (target.https, target.port);
        let mut buf = target.host_str.as_bytes().to_vec();
        let host_len = buf.len();
        h1::encode_start(&mut buf, &request, None);
        let tail_at = buf.len();
        h1::encode_defaults(&mut buf, &request);
        let body_at = buf.len();
        let inline_body = h1::is_inline(&request.body);
        if inline_body {
            buf.extend_from_slice(&request.body);
        }
        let offset = |n: usize| {
            u32::try_from(n).map_err(|_| {
                RequestError::InvalidUrl(format!("request to {} too large", request.url))
            })
        };
        Ok(FixedRequest {
            method: request.method.clone(),
            host_len: offset(host_len)?,
            tail_at: offset(tail_at)?,
            body_at: offset(body_at)?,
            port,
            https,
            has_host: request.headers.contains_key(HOST),
            has_cookie: request.headers.contains_key(COOKIE),
            inline_body,
            buf: buf.into_boxed_slice(),
            request: Box::new(request),
        })
    }

    /// The request itself.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The URL's host as written, for finding the pooled connection.
    pub(crate) fn host(&self) -> &[u8] {
        &self.buf[..self.host_len as usize]
    }

    /// The head before `host`, the head after it (see `buf`), and the body when it goes
    /// behind the head (empty otherwise).
    pub(crate) fn parts(&self) -> (&[u8], &[u8], &[u8]) {
        let (h, t, b) = (
            self.host_len as usize,
            self.tail_at as usize,
            self.body_at as usize,
        );
        (&self.buf[h..t], &self.buf[t..b], &self.buf[b..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::{HeaderMap, HeaderValue};

    fn request(url: &str, headers: &[(&'static str, &'static str)], body: &'static str) -> Request {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(*k, HeaderValue::from_static(v));
        }
        Request {
            method: if body.is_empty() {
                Method::GET
            } else {
                Method::POST
            },
            url: url::Url::parse(url).unwrap(),
            headers: map,
            body: Bytes::from_static(body.as_bytes()),
        }
    }

    #[test]
    fn keeps_the_origin_and_splits_the_head_around_host() {
        let f = FixedRequest::new(request(
            "http://[::1]:8080/a/b?x=1#frag",
            &[("x-one", "1")],
            "{}",
        ))
        .unwrap();
        assert_eq!((f.https, f.port, f.host()), (false, 8080, &b"[::1]"[..]));
        assert!(!f.has_host && !f.has_cookie);
        let (before, after, body) = f.parts();
        assert_eq!(before, b"POST /a/b?x=1 HTTP/1.1\r\nx-one: 1\r\n");
        assert_eq!(body, b"{}");
        assert!(f.inline_body);
        let ua = format!("user-agent: {}\r\n", crate::client::DEFAULT_USER_AGENT);
        assert_eq!(
            String::from_utf8_lossy(after),
            format!("{ua}content-length: 2\r\n")
        );
        let f = FixedRequest::new(request(
            "https://example.test/",
            &[("host", "other"), ("cookie", "a=1")],
            "",
        ))
        .unwrap();
        assert_eq!(
            (f.https, f.port, f.host()),
            (true, 443, &b"example.test"[..])
        );
        assert!(f.has_host && f.has_cookie);
    }

    #[test]
    fn refuses_what_is_not_an_http_url() {
        let err = FixedRequest::new(request("ftp://example.test/", &[], "")).unwrap_err();
        assert!(err.to_string().contains("unsupported scheme"), "{err}");
    }
}
