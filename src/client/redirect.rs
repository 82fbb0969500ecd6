//! Following redirects: which statuses are followed, how the method and body change, and
//! resolving the `location` against the current URL.

use http::header::{
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, LOCATION, TRANSFER_ENCODING,
};
use http::{HeaderMap, Method, StatusCode};

use super::error::RequestError;
use super::Request;

/// Whether a status is a redirect this client follows.
pub(crate) fn is_followed(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Rewrites `req` into the request the redirect response asks for. Returns false (leaving
/// `req` untouched) when the response has no `location`, so it is returned as is.
pub(crate) fn follow(
    req: &mut Request,
    status: StatusCode,
    headers: &HeaderMap,
) -> Result<bool, RequestError> {
    let Some(location) = headers.get(LOCATION) else {
        return Ok(false);
    };
    let location = String::from_utf8_lossy(location.as_bytes());
    let next = req
        .url
        .join(location.trim())
        .map_err(|e| RequestError::InvalidUrl(format!("redirect location '{location}': {e}")))?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(RequestError::InvalidUrl(format!(
            "redirect to unsupported scheme '{}'",
            next.scheme()
        )));
    }
    let same_origin = next.origin() == req.url.origin();
    if !same_origin {
        // Credentials meant for one host are not handed to another.
        req.headers.remove(AUTHORIZATION);
        req.headers.remove(COOKIE);
    }
    if matches!(status.as_u16(), 301..=303) && req.method != Method::HEAD {
        req.method = Method::GET;
        req.body = bytes::Bytes::new();
        req.headers.remove(CONTENT_LENGTH);
        req.headers.remove(CONTENT_TYPE);
        req.headers.remove(TRANSFER_ENCODING);
    }
    req.url = next;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::HeaderValue;

    fn post(url: &str) -> Request {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        Request {
            method: Method::POST,
            url: url::Url::parse(url).unwrap(),
            headers,
            body: Bytes::from_static(b"data"),
        }
    }

    fn location(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(LOCATION, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn see_other_becomes_get_and_resolves_relative() {
        let mut req = post("http://a.test/x/y?q=1");
        assert!(follow(&mut req, StatusCode::SEE_OTHER, &location("../z")).unwrap());
        assert_eq!(req.url.as_str(), "http://a.test/z");
        assert_eq!(req.method, Method::GET);
        assert!(req.body.is_empty());
        assert!(req.headers.get(CONTENT_TYPE).is_none());
        assert!(req.headers.get(AUTHORIZATION).is_some());
    }

    #[test]
    fn temporary_redirect_keeps_post_and_cross_origin_drops_auth() {
        let mut req = post("http://a.test/x");
        let status = StatusCode::TEMPORARY_REDIRECT;
        assert!(follow(&mut req, status, &location("https://b.test/y")).unwrap());
        assert_eq!(req.method, Method::POST);
        assert_eq!(&req.body[..], b"data");
        assert!(req.headers.get(AUTHORIZATION).is_none());
    }

    #[test]
    fn missing_or_bad_location() {
        let mut req = post("http://a.test/x");
        assert!(!follow(&mut req, StatusCode::FOUND, &HeaderMap::new()).unwrap());
        let err = follow(&mut req, StatusCode::FOUND, &location("ftp://a.test/")).unwrap_err();
        assert!(matches!(err, RequestError::InvalidUrl(_)));
    }
}
