//! Encoding the request head: request line, the user's headers, then the defaults they lack
//! (`host`, `user-agent`, `content-length`) and the jar's cookies; or the same bytes from a
//! head prepared beforehand ([`FixedRequest`]).

use http::header::{CONTENT_LENGTH, COOKIE, HOST, USER_AGENT};
use http::HeaderValue;
use url::Position;

use crate::client::{FixedRequest, Request};

/// Request bodies up to this size are copied behind the head (one write); bigger ones are
/// written on their own.
const INLINE_BODY: usize = 16 * 1024;

/// Encodes the request head: request line, the user's headers, then `host`, `user-agent`,
/// `content-length` and the jar's cookies unless the user set them.
pub(super) fn encode(
    out: &mut Vec<u8>,
    req: &Request,
    host: &HeaderValue,
    cookie: Option<&HeaderValue>,
) {
    let own_cookie = encode_start(out, req, cookie);
    if !req.headers.contains_key(HOST) {
        line(out, b"host", host.as_bytes());
    }
    encode_defaults(out, req);
    encode_end(out, cookie.filter(|_| !own_cookie));
}

/// [`encode`] from a prepared head (when the request has no `cookie` of its own or the jar
/// none to add), with the body behind it when it goes in the same write.
pub(super) fn encode_fixed(
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
pub(crate) fn encode_start(out: &mut Vec<u8>, req: &Request, cookie: Option<&HeaderValue>) -> bool {
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
pub(crate) fn encode_defaults(out: &mut Vec<u8>, req: &Request) {
    if !req.headers.contains_key(USER_AGENT) {
        line(
            out,
            b"user-agent",
            crate::client::DEFAULT_USER_AGENT.as_bytes(),
        );
    }
    if crate::client::wants_length(req) && !req.headers.contains_key(CONTENT_LENGTH) {
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
pub(crate) fn is_inline(body: &[u8]) -> bool {
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
    use bytes::Bytes;
    use http::{HeaderMap, Method};

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
                crate::client::DEFAULT_USER_AGENT
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
