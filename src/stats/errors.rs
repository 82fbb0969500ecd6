//! Failure and exception groups, and the normalisation that lets equal errors merge.
//!
//! Failures are grouped by (method, name, normalised message), exceptions by (message,
//! origin). Variable parts of a message (memory addresses, UUIDs, timestamps, long numbers)
//! are blanked so that `order 81723 failed` and `order 81724 failed` form one group.

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
pub fn normalise(message: &str) -> String {
    static PATTERNS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
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
            (r"\b\d{6,}\b", "<n>"),
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
    out.into_owned()
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
