//! Failure and exception groups, and the normalisation that lets equal errors merge.
//!
//! Failures are grouped by (method, name, normalised message), exceptions by (message,
//! origin). Variable parts of a message (memory addresses, UUIDs, times, ids: see
//! [`normalise`]) are blanked so that `order 81723 failed` and `order 4 failed` form one
//! group, while codes and limits (`1040: Too many connections`) keep errors apart.

use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Key of a failure group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FailureKey {
    pub method: String,
    pub name: String,
    pub message: String,
}

/// Count and first/last occurrence of a failure group (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Occurrences {
    pub count: u64,
    pub first_seen: f64,
    pub last_seen: f64,
}

impl Occurrences {
    pub fn new(now: f64) -> Occurrences {
        Occurrences {
            count: 0,
            first_seen: now,
            last_seen: now,
        }
    }

    pub fn hit(&mut self, now: f64) {
        self.count += 1;
        self.first_seen = self.first_seen.min(now);
        self.last_seen = self.last_seen.max(now);
    }

    /// Exact merge of two counts of the same group.
    pub fn merge(&mut self, other: &Occurrences) {
        self.count += other.count;
        self.first_seen = self.first_seen.min(other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
    }
}

/// Key of an exception group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExceptionKey {
    pub message: String,
    pub origin: String,
}

/// Blank the variable parts of an error message so equal errors merge.
///
/// What is blanked, and why: a failure message is grouped by its text, so every part that
/// changes from one request to the next (an order id, a request id, a time) would make each
/// failure its own group. What is *kept* matters as much: short numbers are usually codes,
/// limits or counts that tell errors apart (`1040: Too many connections`, `expected status
/// 200, got 503`, `more than 10`), so a short number is blanked only where it names a thing.
///
/// | Part | Example | Becomes |
/// |---|---|---|
/// | memory address | `0x7ffd5a2b9c10` | `0x…` |
/// | UUID | `3f2504e0-4f89-11d3-9a0c-0305e82c3301` | `<uuid>` |
/// | date and time | `2026-11-22T21:49:53.120Z`, `21:49:53` | `<time>` |
/// | long number (6+ digits) | `8172312` | `<n>` |
/// | hex id (8+ hex digits, with a digit and a letter) | `9f86d081`, `5e8ff9bf55ba3508` | `<id>` |
/// | number in a URL path | `/orders/4821/items` | `/orders/<n>/items` |
/// | number after `#` | `job #42` | `job #<n>` |
/// | list index | `body.items[3].qty` | `body.items[<n>].qty` |
/// | number after an id key | `id=7`, `user_id: 17`, `"orderId": 42` | `id=<n>`, ... |
/// | number after a thing's name | `order 4821`, `user 17`, `session 3` | `order <n>`, ... |
///
/// Everything else (status codes, error codes, limits, IP addresses and ports) is kept.
pub fn normalise(message: &str) -> String {
    static PATTERNS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    static HEX: OnceLock<Option<Regex>> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        [
            (r"0x[0-9a-fA-F]{4,}", "0x…"),
            (
                r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
                "<uuid>",
            ),
            (
                r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?",
                "<time>",
            ),
            (r"\b\d{1,2}:\d{2}:\d{2}(\.\d+)?\b", "<time>"),
            (r"\b\d{6,}\b", "<n>"),
            (r"#\d+\b", "#<n>"),
            // A list index in a field path (`body.items[3].qty`, a validation error's place).
            (r"\[\d+\]", "[<n>]"),
            // `id`, `ID`, `user_id`, `user-id`, `userId`, `uid`, `pid`, then a number.
            (
                r#"\b((?:[A-Za-z]+[_-])?(?:id|ID|Id)|[a-z]+I[dD]|uid|pid|tid)("?\s*[:=]\s*"?|\s+)\d+\b"#,
                "$1$2<n>",
            ),
            // The name of a thing, then its number: `order 4821`, `Users 17`.
            (
                r"(?i)\b(user|order|item|account|customer|product|cart|session|request|job|task|ticket|invoice|record|row|document|file|message|transaction|payment|store|booking|post|comment|object|resource|tenant|project|device|entity|event)(s?\s+)\d+\b",
                "$1$2<n>",
            ),
        ]
        .into_iter()
        .filter_map(|(re, with)| Regex::new(re).ok().map(|re| (re, with)))
        .collect()
    });
    let mut out = std::borrow::Cow::Borrowed(message);
    for (re, with) in patterns {
        if re.is_match(&out) {
            out = std::borrow::Cow::Owned(re.replace_all(&out, *with).into_owned());
        }
    }
    // Hex ids: 8+ hex digits with at least one digit and one letter (all-digit runs were
    // long numbers above; `deadbeef`-like words without a digit stay).
    if let Some(hex) = HEX.get_or_init(|| Regex::new(r"\b[0-9a-fA-F]{8,}\b").ok()) {
        if hex.is_match(&out) {
            let replaced = hex.replace_all(&out, |c: &regex::Captures| {
                let m = &c[0];
                let digit = m.bytes().any(|b| b.is_ascii_digit());
                let letter = m.bytes().any(|b| b.is_ascii_alphabetic());
                if digit && letter {
                    "<id>".to_string()
                } else {
                    m.to_string()
                }
            });
            out = std::borrow::Cow::Owned(replaced.into_owned());
        }
    }
    if out.contains('/') {
        out = std::borrow::Cow::Owned(blank_path_numbers(&out));
    }
    out.into_owned()
}

/// Numeric segments of URL paths become `<n>`: `GET /orders/4821/items` →
/// `GET /orders/<n>/items`. A path is a word starting with `/` (or containing `://`);
/// `HTTP/2` and `1/3` are not paths.
fn blank_path_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| c.is_whitespace() || "'\"(),;[]<>".contains(c))
            .unwrap_or(rest.len());
        let (word, tail) = rest.split_at(end);
        if word.starts_with('/') || word.contains("://") {
            let path_end = word.find(['?', '#']).unwrap_or(word.len());
            let (path, query) = word.split_at(path_end);
            let start = path.find("://").map_or(0, |i| i + 3);
            out.push_str(&path[..start]);
            for (i, segment) in path[start..].split('/').enumerate() {
                if i > 0 {
                    out.push('/');
                }
                let numeric = !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit());
                // The first part after `://` is the host (and port), never blanked.
                if numeric && !(i == 0 && start > 0) {
                    out.push_str("<n>");
                } else {
                    out.push_str(segment);
                }
            }
            out.push_str(query);
        } else {
            out.push_str(word);
        }
        let delim_len = tail.chars().next().map_or(0, char::len_utf8);
        out.push_str(&tail[..delim_len]);
        rest = &tail[delim_len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_meaningful_numbers_and_blanks_variable_ones() {
        assert_eq!(
            normalise("500 Internal Server Error: (OperationalError) 1040: Too many connections"),
            "500 Internal Server Error: (OperationalError) 1040: Too many connections"
        );
        assert_eq!(
            normalise("order 8172312 not found at 0x7ffd5a2b9c10"),
            "order <n> not found at 0x…"
        );
        assert_eq!(
            normalise(
                "lock 3f2504e0-4f89-11d3-9a0c-0305e82c3301 held since 2026-11-22T21:49:53.120Z"
            ),
            "lock <uuid> held since <time>"
        );
    }

    #[test]
    fn short_ids_merge_when_they_name_a_thing() {
        let same = |a: &str, b: &str, expected: &str| {
            assert_eq!(normalise(a), expected, "{a}");
            assert_eq!(normalise(b), expected, "{b}");
        };
        same(
            "500 Internal Server Error: order 4821 not found",
            "500 Internal Server Error: order 7 not found",
            "500 Internal Server Error: order <n> not found",
        );
        same("Users 17 locked", "Users 3 locked", "Users <n> locked");
        same("job #42 failed", "job #7 failed", "job #<n> failed");
        same(
            r#"{"orderId": 42, "user_id":"17", "id=3"}"#,
            r#"{"orderId": 5, "user_id":"9", "id=8"}"#,
            r#"{"orderId": <n>, "user_id":"<n>", "id=<n>"}"#,
        );
        same(
            "GET /orders/4821/items/2?page=3 failed (http://127.0.0.1:8080/users/12)",
            "GET /orders/5/items/1?page=3 failed (http://127.0.0.1:8080/users/99)",
            "GET /orders/<n>/items/<n>?page=3 failed (http://127.0.0.1:8080/users/<n>)",
        );
        same(
            "422 Unprocessable Entity: body.items[3].qty: Input should be greater than 0",
            "422 Unprocessable Entity: body.items[0].qty: Input should be greater than 0",
            "422 Unprocessable Entity: body.items[<n>].qty: Input should be greater than 0",
        );
        same(
            "request 9f86d081 at 12:01:33.120",
            "request 1a2b3c4d5e6f at 9:59:00",
            "request <id> at <time>",
        );
    }

    #[test]
    fn codes_limits_and_addresses_are_kept() {
        for message in [
            "expected status 200 or 201, got 503",
            "too many redirects (more than 10)",
            "connection refused (127.0.0.1:9)",
            "timed out after 1.5s",
            "check failed: body larger than the 16 MiB kept for checks",
            "HTTP/2 stream 3 reset, retry 1/3",
            "invalid peer certificate: UnknownIssuer",
            "paid 42 times; deadbeef cafe 12345",
            "ORA-00001: unique constraint violated",
            // The cause's words, quotes, address and port all stay.
            r#"500 Internal Server Error: database error: connection failed: connection to server at "127.0.0.1", port 55432 failed: FATAL: sorry, too many clients already"#,
            "502 Bad Gateway: nginx/1.22.1",
            "500 Internal Server Error: Error: connect ECONNREFUSED 127.0.0.1:5432",
        ] {
            assert_eq!(normalise(message), message);
        }
    }

    #[test]
    fn occurrences_merge() {
        let mut a = Occurrences::new(10.0);
        a.hit(10.0);
        let mut b = Occurrences::new(5.0);
        b.hit(5.0);
        b.hit(20.0);
        a.merge(&b);
        assert_eq!((a.count, a.first_seen, a.last_seen), (3, 5.0, 20.0));
    }
}
