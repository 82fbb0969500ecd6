//! What an HTTP/1.x response head's framing headers say: how its body is delimited
//! (RFC 9112 §6.3), whether the connection stays open, and whether it sets cookies. Read in
//! one pass over the parser's raw header slices, with no header map built (see `headers`).

use http::{Method, StatusCode, Version};

use super::error::RequestError;

/// How the body of a response is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// No body: HEAD, 1xx, 204, 304.
    Empty,
    Length(u64),
    Chunked,
    /// Until the server closes the connection (which then cannot be reused).
    UntilClose,
}

/// The framing headers of one head, as raw bytes borrowed from it.
#[derive(Debug, Default)]
pub(crate) struct Framing<'a> {
    /// The last `transfer-encoding` value (the one that says whether chunked comes last).
    transfer_encoding: Option<&'a [u8]>,
    /// The first `content-length` value.
    content_length: Option<&'a [u8]>,
    /// Whether a later `content-length` disagrees with the first.
    conflicting_lengths: bool,
    /// `connection` listed `close` / `keep-alive`.
    close: bool,
    keep_alive: bool,
    /// The head carries at least one `set-cookie`.
    pub set_cookie: bool,
}

impl<'a> Framing<'a> {
    /// Reads the framing headers among `(name, value)` pairs (names in any case).
    pub fn read(headers: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> Framing<'a> {
        let mut f = Framing::default();
        for (name, value) in headers {
            if name.eq_ignore_ascii_case(b"content-length") {
                match f.content_length {
                    None => f.content_length = Some(value),
                    Some(first) => {
                        f.conflicting_lengths |= parse_length(value) != parse_length(first)
                    }
                }
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                f.transfer_encoding = Some(value);
            } else if name.eq_ignore_ascii_case(b"connection") {
                f.close |= contains_token(value, b"close");
                f.keep_alive |= contains_token(value, b"keep-alive");
            } else if name.eq_ignore_ascii_case(b"set-cookie") {
                f.set_cookie = true;
            }
        }
        f
    }

    /// How the body of this response to `method` is delimited.
    pub fn body_kind(&self, method: &Method, status: StatusCode) -> Result<BodyKind, RequestError> {
        if *method == Method::HEAD
            || status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
        {
            return Ok(BodyKind::Empty);
        }
        if let Some(te) = self.transfer_encoding {
            let last = te.rsplit(|b| *b == b',').next().unwrap_or(b"");
            return Ok(if last.trim_ascii().eq_ignore_ascii_case(b"chunked") {
                BodyKind::Chunked
            } else {
                BodyKind::UntilClose
            });
        }
        let Some(first) = self.content_length else {
            return Ok(BodyKind::UntilClose);
        };
        let n = parse_length(first).ok_or_else(|| {
            RequestError::Malformed(format!(
                "invalid content-length {:?}",
                String::from_utf8_lossy(first)
            ))
        })?;
        if self.conflicting_lengths {
            return Err(RequestError::Malformed(
                "conflicting content-length headers".to_string(),
            ));
        }
        Ok(BodyKind::Length(n))
    }

    /// Whether the connection may carry another request after this response.
    pub fn keeps_alive(&self, version: Version) -> bool {
        match version {
            Version::HTTP_10 => !self.close && self.keep_alive,
            _ => !self.close,
        }
    }
}

fn parse_length(value: &[u8]) -> Option<u64> {
    std::str::from_utf8(value).ok()?.trim().parse().ok()
}

/// Whether a comma-separated header value contains `token` (ASCII case-insensitive).
fn contains_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|b| *b == b',')
        .any(|part| part.trim_ascii().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framing<'a>(headers: &'a [(&'a str, &'a str)]) -> Framing<'a> {
        Framing::read(headers.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())))
    }

    fn kind(
        method: Method,
        status: u16,
        headers: &[(&str, &str)],
    ) -> Result<BodyKind, RequestError> {
        framing(headers).body_kind(&method, StatusCode::from_u16(status).unwrap())
    }

    #[test]
    fn body_delimiting_follows_rfc_9112() {
        assert_eq!(
            kind(Method::HEAD, 200, &[("content-length", "5")]),
            Ok(BodyKind::Empty)
        );
        assert_eq!(kind(Method::GET, 204, &[]), Ok(BodyKind::Empty));
        assert_eq!(
            kind(Method::GET, 304, &[("content-length", "5")]),
            Ok(BodyKind::Empty)
        );
        assert_eq!(
            kind(Method::GET, 200, &[("Content-Length", "5")]),
            Ok(BodyKind::Length(5))
        );
        assert_eq!(
            kind(
                Method::GET,
                200,
                &[("content-length", "5"), ("content-length", " 5")]
            ),
            Ok(BodyKind::Length(5))
        );
        assert_eq!(
            kind(
                Method::GET,
                200,
                &[
                    ("transfer-encoding", "gzip, chunked"),
                    ("content-length", "5")
                ]
            ),
            Ok(BodyKind::Chunked)
        );
        assert_eq!(
            kind(
                Method::GET,
                200,
                &[
                    ("transfer-encoding", "chunked"),
                    ("Transfer-Encoding", "gzip")
                ]
            ),
            Ok(BodyKind::UntilClose)
        );
        assert_eq!(kind(Method::GET, 200, &[]), Ok(BodyKind::UntilClose));
        assert_eq!(
            kind(
                Method::GET,
                200,
                &[("content-length", "5"), ("content-length", "6")]
            ),
            Err(RequestError::Malformed(
                "conflicting content-length headers".into()
            ))
        );
        assert_eq!(
            kind(Method::GET, 200, &[("content-length", "-1")]),
            Err(RequestError::Malformed(
                "invalid content-length \"-1\"".into()
            ))
        );
    }

    #[test]
    fn keep_alive_rules() {
        assert!(framing(&[]).keeps_alive(Version::HTTP_11));
        assert!(!framing(&[]).keeps_alive(Version::HTTP_10));
        let keep = [("Connection", "Keep-Alive")];
        assert!(framing(&keep).keeps_alive(Version::HTTP_10));
        let close = [("connection", "upgrade, close")];
        assert!(!framing(&close).keeps_alive(Version::HTTP_11));
        assert!(contains_token(b"keep-alive, Close", b"close"));
        assert!(!contains_token(b"closed", b"close"));
    }

    #[test]
    fn cookies_are_noticed_in_any_case() {
        assert!(!framing(&[("x-set-cookie", "a=1")]).set_cookie);
        assert!(framing(&[("Set-Cookie", "a=1")]).set_cookie);
    }
}
