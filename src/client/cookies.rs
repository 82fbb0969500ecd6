//! One user's cookie jar: `set-cookie` headers of every response (redirects included) are
//! stored, and the matching cookies are sent on every later request, like a browser.

use bytes::{BufMut, BytesMut};
use cookie_store::CookieStore;
use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderValue};
use url::Url;

/// The cookies one virtual user received.
#[derive(Default)]
pub(crate) struct Jar {
    store: CookieStore,
    /// Whether anything was ever stored: users of cookie-less targets skip all matching.
    used: bool,
}

impl Jar {
    /// Stores the `set-cookie` headers of a response to `url`; invalid ones are ignored.
    pub fn store_from(&mut self, headers: &HeaderMap, url: &Url) {
        for value in headers.get_all(SET_COOKIE) {
            let Ok(text) = std::str::from_utf8(value.as_bytes()) else {
                continue;
            };
            if self.store.parse(text, url).is_ok() {
                self.used = true;
            }
        }
    }

    /// The `cookie` header value for a request to `url`, when any cookie matches.
    pub fn header_for(&self, url: &Url) -> Option<HeaderValue> {
        if !self.used {
            return None;
        }
        let mut buf = BytesMut::new();
        for (name, value) in self.store.get_request_values(url) {
            if !buf.is_empty() {
                buf.put_slice(b"; ");
            }
            buf.put_slice(name.as_bytes());
            buf.put_u8(b'=');
            buf.put_slice(value.as_bytes());
        }
        if buf.is_empty() {
            return None;
        }
        HeaderValue::from_maybe_shared(buf.freeze()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_matches_by_path() {
        let mut jar = Jar::default();
        let url = Url::parse("http://example.test/login").unwrap();
        assert!(jar.header_for(&url).is_none());
        let mut headers = HeaderMap::new();
        headers.append(SET_COOKIE, HeaderValue::from_static("sid=abc; Path=/"));
        headers.append(SET_COOKIE, HeaderValue::from_static("admin=1; Path=/admin"));
        headers.append(SET_COOKIE, HeaderValue::from_static("=broken"));
        jar.store_from(&headers, &url);
        let home = Url::parse("http://example.test/home").unwrap();
        assert_eq!(jar.header_for(&home).unwrap(), "sid=abc");
        let admin = Url::parse("http://example.test/admin/x").unwrap();
        let both = jar.header_for(&admin).unwrap();
        assert!(both == "sid=abc; admin=1" || both == "admin=1; sid=abc");
        let other = Url::parse("http://other.test/").unwrap();
        assert!(jar.header_for(&other).is_none());
    }
}
