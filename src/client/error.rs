//! Request failures: the small [`RequestError`] enum every transport problem becomes, the
//! mapping of `std::io` / hyper / rustls errors onto it, and (re-exported from `status`) the
//! rendering of HTTP error statuses into grouped messages.
//!
//! The `Display` of an error is the message failures are grouped by in the statistics, so
//! it must be stable: no memory addresses, no counters, only what identifies the problem.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

pub use super::status::describe_status;

/// Everything a target can do to a request besides answering it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The URL (given, or from a redirect's `location`) cannot be requested.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// The host name did not resolve.
    #[error("DNS lookup failed for {host}: {detail}")]
    Dns {
        /// The host name looked up.
        host: String,
        /// The resolver's explanation.
        detail: String,
    },
    /// Nothing listens at the address (TCP RST on connect).
    #[error("connection refused ({addr})")]
    ConnectionRefused {
        /// The socket address tried last (`ip:port`).
        addr: String,
    },
    /// The peer reset the connection (or it broke) while the request was in flight.
    #[error("connection reset by peer")]
    ConnectionReset,
    /// The peer closed the connection before a complete response head arrived.
    #[error("connection closed before a complete response")]
    ConnectionClosed,
    /// Any other failure to establish the TCP connection.
    #[error("connect error: {0}")]
    Connect(String),
    /// The TLS handshake failed (certificate, protocol, ALPN...).
    #[error("TLS error: {0}")]
    Tls(String),
    /// The whole request (connect, redirects, headers, body) took longer than the timeout.
    #[error("timed out after {}", format_duration(*.0))]
    Timeout(Duration),
    /// The peer did not speak HTTP, or sent an invalid response.
    #[error("malformed HTTP response: {0}")]
    Malformed(String),
    /// A redirect led to a host outside `--allow-target` (why, naming the allowed hosts).
    #[error("redirect refused: {0}")]
    RedirectRefused(crate::targets::TargetError),
    /// More redirects than allowed (the number is the limit).
    #[error("too many redirects (more than {0})")]
    TooManyRedirects(u32),
    /// The response head arrived but reading the body failed.
    #[error("error reading body: {0}")]
    Body(String),
    /// Any other I/O or protocol failure.
    #[error("I/O error: {0}")]
    Io(String),
}

impl RequestError {
    /// Maps an error from establishing the TCP connection to `addr`.
    pub(crate) fn from_connect_io(err: &io::Error, addr: &str) -> RequestError {
        match err.kind() {
            io::ErrorKind::ConnectionRefused => RequestError::ConnectionRefused {
                addr: addr.to_string(),
            },
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                RequestError::ConnectionReset
            }
            io::ErrorKind::TimedOut => RequestError::Connect(format!("timed out ({addr})")),
            _ => RequestError::Connect(format!("{} ({addr})", strip_os_code(err))),
        }
    }

    /// Maps an error from the TLS handshake (rustls errors travel inside `io::Error`).
    pub(crate) fn from_tls_io(err: &io::Error) -> RequestError {
        if let Some(tls) = err
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return RequestError::Tls(tls.to_string());
        }
        match err.kind() {
            io::ErrorKind::UnexpectedEof => {
                RequestError::Tls("connection closed during handshake".to_string())
            }
            _ => RequestError::from_io(err),
        }
    }

    /// Maps an I/O error on an established connection.
    pub(crate) fn from_io(err: &io::Error) -> RequestError {
        if let Some(tls) = err
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return RequestError::Tls(tls.to_string());
        }
        match err.kind() {
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => RequestError::ConnectionReset,
            io::ErrorKind::UnexpectedEof => RequestError::ConnectionClosed,
            _ => RequestError::Io(strip_os_code(err)),
        }
    }

    /// Maps a hyper error from sending a request or awaiting its response head.
    pub(crate) fn from_hyper(err: &hyper::Error) -> RequestError {
        if let Some(io_err) = find_io(err) {
            return RequestError::from_io(io_err);
        }
        if err.is_parse() || err.is_parse_status() || err.is_parse_too_large() {
            return RequestError::Malformed(err.to_string());
        }
        if err.is_incomplete_message() || err.is_canceled() || err.is_closed() {
            return RequestError::ConnectionClosed;
        }
        if err.is_timeout() {
            return RequestError::Io("timeout inside the HTTP connection".to_string());
        }
        RequestError::Io(chain_message(err))
    }

    /// Maps a hyper error from reading the body, wrapped as [`RequestError::Body`].
    pub(crate) fn from_body(err: &hyper::Error) -> RequestError {
        let inner = match find_io(err) {
            Some(io_err) => RequestError::from_io(io_err).to_string(),
            None if err.is_incomplete_message() => {
                "connection closed before the end of the body".to_string()
            }
            // hyper's own text ("error reading a body from connection") repeats the variant.
            None => match err.source() {
                Some(cause) => chain_message(cause),
                None => err.to_string(),
            },
        };
        RequestError::Body(inner)
    }

    /// Whether this failure on a *reused* connection means the peer had closed it, so the
    /// request can be retried once on a fresh connection.
    pub(crate) fn is_stale_connection(&self) -> bool {
        matches!(
            self,
            RequestError::ConnectionClosed | RequestError::ConnectionReset
        )
    }
}

/// A timeout rendered as the user wrote it: `60s`, `250ms`, `1.5s`.
fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else if ms < 1000 {
        format!("{ms}ms")
    } else {
        let text = format!("{}.{:03}", ms / 1000, ms % 1000);
        format!("{}s", text.trim_end_matches('0'))
    }
}

/// The first `io::Error` in an error's source chain.
fn find_io<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a io::Error> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(io_err) = e.downcast_ref::<io::Error>() {
            return Some(io_err);
        }
        current = e.source();
    }
    None
}

/// An error and its sources joined with `: ` (hyper's own Display omits the cause).
fn chain_message(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut current = err.source();
    while let Some(e) = current {
        let text = e.to_string();
        if !text.is_empty() && !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        current = e.source();
    }
    out
}

/// An io error's message without the ` (os error N)` suffix, which adds nothing for grouping.
fn strip_os_code(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error ") {
        Some(pos) => text[..pos].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_stable() {
        let refused = RequestError::from_connect_io(
            &io::Error::from(io::ErrorKind::ConnectionRefused),
            "127.0.0.1:9",
        );
        assert_eq!(refused.to_string(), "connection refused (127.0.0.1:9)");
        assert_eq!(
            RequestError::Timeout(Duration::from_secs(60)).to_string(),
            "timed out after 60s"
        );
        assert_eq!(
            RequestError::Timeout(Duration::from_millis(250)).to_string(),
            "timed out after 250ms"
        );
        assert_eq!(
            RequestError::Timeout(Duration::from_millis(1500)).to_string(),
            "timed out after 1.5s"
        );
        assert_eq!(
            RequestError::from_io(&io::Error::from(io::ErrorKind::BrokenPipe)).to_string(),
            "connection reset by peer"
        );
        assert_eq!(
            RequestError::TooManyRedirects(10).to_string(),
            "too many redirects (more than 10)"
        );
    }

    #[test]
    fn tls_errors_are_unwrapped() {
        let inner = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let err = io::Error::new(io::ErrorKind::InvalidData, inner);
        assert_eq!(
            RequestError::from_tls_io(&err).to_string(),
            "TLS error: invalid peer certificate: UnknownIssuer"
        );
    }

    #[test]
    fn os_codes_are_dropped() {
        let err = io::Error::from_raw_os_error(113);
        assert!(!strip_os_code(&err).contains("os error"));
    }
}
