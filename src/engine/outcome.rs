//! Request outcomes: the small enum a failed request becomes, rendered to its grouped message.

use std::fmt;

use crate::client::{describe_status, RequestError, Response};
use crate::plan::{json_path, Checks};

/// Why a request counts as failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The target did not answer properly (refused, reset, timeout, TLS, malformed, ...).
    Transport(RequestError),
    /// An error status (>= 400) where none was expected: status, reason and body excerpt.
    Status(String),
    /// A status that is not among the expected ones.
    UnexpectedStatus { got: u16, expected: Vec<u16> },
    /// A body check that did not hold.
    Check(String),
    /// The plan's own words for a failed check (its `message`, rendered).
    Custom(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Transport(e) => write!(f, "{e}"),
            Failure::Status(s) => f.write_str(s),
            Failure::UnexpectedStatus { got, expected } => {
                let list: Vec<String> = expected.iter().map(u16::to_string).collect();
                write!(f, "expected status {}, got {got}", list.join(" or "))
            }
            Failure::Check(s) => write!(f, "check failed: {s}"),
            Failure::Custom(s) => f.write_str(s),
        }
    }
}

/// Evaluate a response against the step's checks; `None` = success.
pub fn check(resp: &Response, checks: &Checks) -> Option<Failure> {
    let status = resp.status.as_u16();
    if checks.status.is_empty() {
        if status >= 400 {
            return Some(Failure::Status(describe_status(resp.status, &resp.body)));
        }
    } else if !checks.status.contains(&status) {
        return Some(if status >= 400 {
            Failure::Status(describe_status(resp.status, &resp.body))
        } else {
            Failure::UnexpectedStatus {
                got: status,
                expected: checks.status.clone(),
            }
        });
    }
    if !checks.needs_body() {
        return None;
    }
    if resp.body_truncated {
        return Some(Failure::Check(format!(
            "body larger than the {} MiB kept for checks",
            crate::client::MAX_KEPT_BODY / (1024 * 1024)
        )));
    }
    for needle in &checks.contains {
        if !contains(&resp.body, needle.as_bytes()) {
            return Some(Failure::Check(format!(
                "body does not contain \"{needle}\""
            )));
        }
    }
    if checks.is_json || !checks.json_equals.is_empty() {
        let json: serde_json::Value = match serde_json::from_slice(&resp.body) {
            Ok(v) => v,
            Err(_) => return Some(Failure::Check("body is not JSON".into())),
        };
        for (path, expected) in &checks.json_equals {
            match json_path::lookup(&json, path) {
                Some(v) if v == expected => {}
                Some(v) => {
                    return Some(Failure::Check(format!(
                        "{path} is {v}, expected {expected}"
                    )))
                }
                None => {
                    return Some(Failure::Check(format!(
                        "{path} is missing, expected {expected}"
                    )))
                }
            }
        }
    }
    None
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}
