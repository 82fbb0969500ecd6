//! Rendering of HTTP error statuses into the message failures are grouped by: the status
//! code and reason, then what the server said about the cause (see `excerpt` for where in
//! a JSON, HTML or text body that is found), e.g.
//! `500 Internal Server Error: database error: connection failed: ... FATAL: sorry, too
//! many clients already`.
//!
//! The parts a body gives are joined with `: ` after three cleanups: whitespace collapses
//! to single spaces, a part that only repeats the status line (`Internal Server Error`,
//! `Server Error (500)`, `Error`) is dropped, and so is a part already said by an earlier one
//! (an `<h1>` that repeats the `<title>`). The excerpt is capped at [`EXCERPT_CHARS`].

use http::StatusCode;

use super::excerpt;

/// Longest excerpt, in characters, appended to the status.
pub const EXCERPT_CHARS: usize = 300;

/// Words that say nothing beside a status line (`Error`, `HTTP Status 500`).
const FILLER_WORDS: [&str; 5] = ["error", "http", "status", "code", "response"];

/// The grouped message for an HTTP error status: status, reason and every explanatory part
/// of the body, e.g. `400 Bad Request: invalid request: user_id must be a positive integer`.
pub fn describe_status(status: StatusCode, body: &[u8]) -> String {
    let mut out = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    // Unknown codes have no reason: do not leave a trailing space.
    let trimmed_len = out.trim_end().len();
    out.truncate(trimmed_len);
    let text = String::from_utf8_lossy(body);
    let repeats = |part: &str| repeats_status(part, status);
    let mut kept: Vec<String> = Vec::new();
    for raw in excerpt::parts(&text, &repeats) {
        let part = collapse_whitespace(&raw);
        if part.is_empty() || repeats(&part) {
            continue;
        }
        let folded = part.to_lowercase();
        if kept.iter().any(|k| k.to_lowercase().contains(&folded)) {
            continue;
        }
        // A later part that includes an earlier one says it better.
        kept.retain(|k| !folded.contains(&k.to_lowercase()));
        kept.push(part);
    }
    if !kept.is_empty() {
        out.push_str(": ");
        out.push_str(&cut(&join(&kept), EXCERPT_CHARS));
    }
    out
}

/// Whether `part` says nothing the status line does not: without the code and filler words
/// (`error`, `http`, ...), its letters are part of the reason's (`Server Error (500)` beside
/// `500 Internal Server Error`, nginx's `504 Gateway Time-out` beside `504 Gateway Timeout`).
fn repeats_status(part: &str, status: StatusCode) -> bool {
    let code = status.as_u16().to_string();
    let reason: String = status
        .canonical_reason()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let rest: String = part
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| !w.is_empty() && *w != code && !FILLER_WORDS.contains(&w.as_str()))
        .collect();
    rest.is_empty() || (!reason.is_empty() && reason.contains(&rest))
}

/// The kept parts joined with `: `; a part's closing `.` or `:` is dropped before the
/// next one (`You do not have enough credit: Your current balance is 30, ...`).
fn join(parts: &[String]) -> String {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            let end = out.trim_end_matches(['.', ':']).len();
            out.truncate(end);
            out.push_str(": ");
        }
        out.push_str(part);
    }
    out
}

/// Runs of whitespace and control characters become one space; ends trimmed.
fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// At most `max` characters, with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((byte, _)) => {
            let mut out = text[..byte].trim_end().to_string();
            out.push('…');
            out
        }
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> StatusCode {
        StatusCode::from_u16(code).unwrap()
    }

    #[test]
    fn helpers() {
        assert_eq!(cut("héllo", 2), "hé…");
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(collapse_whitespace(" a \t\r b\u{0}c "), "a b c");
    }

    #[test]
    fn what_repeats_the_status() {
        let s500 = status(500);
        for same in [
            "Internal Server Error",
            "500 Internal Server Error",
            "Server Error (500)",
            "Error",
            "HTTP Status 500 – Internal Server Error",
            "(500)",
        ] {
            assert!(repeats_status(same, s500), "{same}");
        }
        for telling in ["database error", "Whitelabel Error Page", "nginx/1.22.1"] {
            assert!(!repeats_status(telling, s500), "{telling}");
        }
        assert!(repeats_status("502 Bad Gateway", status(502)));
        assert!(repeats_status("504 Gateway Time-out", status(504)));
        assert!(!repeats_status("Not Found", status(500)));
    }

    #[test]
    fn long_invalid_and_cut_bodies() {
        let s500 = status(500);
        let long = "é".repeat(500);
        let message = describe_status(s500, long.as_bytes());
        let excerpt = message.strip_prefix("500 Internal Server Error: ").unwrap();
        assert_eq!(excerpt.chars().count(), EXCERPT_CHARS + 1);
        assert!(excerpt.ends_with('…'));
        let lossy = describe_status(s500, b"bad \xff bytes");
        assert_eq!(lossy, "500 Internal Server Error: bad \u{fffd} bytes");
        // A JSON body cut short falls back to its text.
        let cut = describe_status(s500, br#"{"error":"unfinish"#);
        assert_eq!(cut, r#"500 Internal Server Error: {"error":"unfinish"#);
    }

    #[test]
    fn parts_join_without_repeats() {
        let s500 = status(500);
        // A later part that contains an earlier one replaces it.
        assert_eq!(
            describe_status(
                s500,
                br#"{"error":"database error","detail":"database error: pool exhausted"}"#
            ),
            "500 Internal Server Error: database error: pool exhausted"
        );
        // An earlier part that contains a later one keeps it out (case-insensitive).
        assert_eq!(
            describe_status(
                s500,
                br#"{"message":"Pool exhausted (20 of 20)","reason":"pool EXHAUSTED"}"#
            ),
            "500 Internal Server Error: Pool exhausted (20 of 20)"
        );
        assert_eq!(
            describe_status(s500, b"Internal Server Error\n\nthe cache is cold\n"),
            "500 Internal Server Error: the cache is cold"
        );
    }

    #[test]
    fn unknown_status_has_no_trailing_space() {
        let status = StatusCode::from_u16(599).unwrap();
        assert_eq!(describe_status(status, b""), "599");
        assert_eq!(describe_status(status, b"599"), "599");
    }
}
