//! A response's headers, kept as the raw head they arrived in and turned into a
//! `HeaderMap` only when something reads them.
//!
//! Why: in a load test almost every response is looked at only for its framing
//! (`content-length`, `transfer-encoding`, `connection`, `set-cookie`), which the HTTP/1.1
//! parser reads straight from the raw head. Building the map anyway (a `HeaderName` and a
//! hashed insert per header, then dropping it) was a third of Surge's user-space
//! instructions per request against nginx (callgrind). Checks, captures and redirects still
//! see a full `HeaderMap`, through `Deref`.

use std::fmt;
use std::mem::MaybeUninit;
use std::ops::Deref;
use std::sync::OnceLock;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

/// Most headers a response head may carry (the parser refuses more).
pub(crate) const MAX_HEADERS: usize = 100;

/// Room for the headers of one head.
pub(crate) type Slots<'b> = [MaybeUninit<httparse::Header<'b>>; MAX_HEADERS];

/// Header slots left uninitialised: httparse fills only those it uses, and zeroing 100 of
/// them per response showed in the profile.
pub(crate) fn slots<'b>() -> Slots<'b> {
    [const { MaybeUninit::uninit() }; MAX_HEADERS]
}

/// Parses the response head at the start of `buf` into `slots`: its length and the parsed
/// head when complete, `None` when more bytes are needed. The one parse both the connection
/// (framing) and [`Headers::map`] (the map, later) read a head with.
pub(crate) fn parse<'h, 'b>(
    buf: &'b [u8],
    slots: &'h mut Slots<'b>,
) -> Result<Option<(usize, httparse::Response<'h, 'b>)>, httparse::Error> {
    let mut parsed = httparse::Response::new(&mut []);
    match httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut parsed,
        buf,
        slots,
    )? {
        httparse::Status::Complete(len) => Ok(Some((len, parsed))),
        httparse::Status::Partial => Ok(None),
    }
}

/// The headers of a response; derefs to a `HeaderMap` built on first use.
#[derive(Clone)]
pub struct Headers {
    /// The response head as received (status line and headers), or empty when the map was
    /// given whole (HTTP/2).
    raw: Bytes,
    map: OnceLock<HeaderMap>,
}

impl Headers {
    /// Headers already in a map (HTTP/2 responses, tests).
    pub fn from_map(map: HeaderMap) -> Headers {
        Headers {
            raw: Bytes::new(),
            map: OnceLock::from(map),
        }
    }

    /// Headers of a complete HTTP/1.x head that `httparse` accepted: its names are tokens
    /// and its values free of control characters, so the map built later cannot fail.
    pub(crate) fn from_head(raw: Bytes) -> Headers {
        Headers {
            raw,
            map: OnceLock::new(),
        }
    }

    /// The headers as a map (built from the raw head the first time).
    pub fn map(&self) -> &HeaderMap {
        self.map.get_or_init(|| parse_map(&self.raw))
    }
}

impl Deref for Headers {
    type Target = HeaderMap;

    fn deref(&self) -> &HeaderMap {
        self.map()
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.map().fmt(f)
    }
}

/// Parses the head again, this time into a map whose values share the head's bytes.
fn parse_map(raw: &Bytes) -> HeaderMap {
    let mut slots = slots();
    let mut map = HeaderMap::new();
    let Ok(Some((_, parsed))) = parse(raw, &mut slots) else {
        return map;
    };
    map.reserve(parsed.headers.len());
    for h in parsed.headers.iter() {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_maybe_shared(raw.slice_ref(h.value)),
        ) else {
            continue;
        };
        map.append(name, value);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &[u8] = b"HTTP/1.1 302 Found\r\nLocation: /next\r\nSet-Cookie: a=1\r\n\
        set-cookie: b=2\r\nX-Custom: caf\xc3\xa9\r\ncontent-length: 0\r\n\r\n";

    #[test]
    fn the_map_holds_every_header_of_the_head_in_order() {
        let headers = Headers::from_head(Bytes::from_static(HEAD));
        assert_eq!(headers.len(), 5);
        assert_eq!(headers["location"], "/next");
        let cookies: Vec<_> = headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert_eq!(headers["x-custom"].as_bytes(), "café".as_bytes());
        assert_eq!(headers["content-length"], "0");
    }

    #[test]
    fn a_given_map_is_kept_as_is() {
        let mut map = HeaderMap::new();
        map.insert("x-a", HeaderValue::from_static("1"));
        let headers = Headers::from_map(map.clone());
        assert_eq!(*headers, map);
        assert_eq!(format!("{headers:?}"), format!("{map:?}"));
    }
}
