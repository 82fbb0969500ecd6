//! Rendering of HTTP error statuses into the message failures are grouped by: status code,
//! reason, and a short excerpt the server gave (a JSON `error` / `message` / `detail` field,
//! an HTML page's title or first heading, or the first line of a text body).

use http::StatusCode;
use serde_json::Value;

/// Longest excerpt, in characters, appended to the status.
const EXCERPT_CHARS: usize = 200;

/// The grouped message for an HTTP error status: status, reason and a short excerpt of the
/// body (the `error` / `message` / `detail` field of a JSON body when there is one), e.g.
/// `500 Internal Server Error: (OperationalError) 1040: Too many connections`.
pub fn describe_status(status: StatusCode, body: &[u8]) -> String {
    let mut out = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    // Unknown codes have no reason: do not leave a trailing space.
    let trimmed_len = out.trim_end().len();
    out.truncate(trimmed_len);
    if let Some(excerpt) = excerpt(body) {
        out.push_str(": ");
        out.push_str(&excerpt);
    }
    out
}

/// The short, single-line explanation a body gives, if any.
fn excerpt(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let raw = json_message(text)
        .or_else(|| html_message(text))
        .or_else(|| first_line(text))?;
    let clean = collapse_whitespace(&raw);
    if clean.is_empty() {
        return None;
    }
    Some(cut(&clean, EXCERPT_CHARS))
}

/// The `error`, `message` or `detail` field of a JSON object body.
fn json_message(text: &str) -> Option<String> {
    if !text.starts_with('{') {
        return None;
    }
    let value: Value = serde_json::from_str(text).ok()?;
    let object = value.as_object()?;
    ["error", "message", "detail"]
        .iter()
        .filter_map(|key| object.get(*key))
        .find_map(field_message)
}

/// The text of one error field: a string, an object's `message` (or `msg` / `detail`), or
/// the first item of a list (FastAPI validation errors: `[{"msg": ...}]`).
fn field_message(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Object(map) => ["message", "msg", "detail", "error"]
            .iter()
            .filter_map(|key| map.get(*key))
            .find_map(|v| v.as_str().filter(|s| !s.trim().is_empty()))
            .map(str::to_string),
        Value::Array(items) => items.first().and_then(field_message),
        _ => None,
    }
}

/// For an HTML (or XML) body: the `<title>`, else the first `<h1>`, else the first line of text.
fn html_message(text: &str) -> Option<String> {
    let head: String = text
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    let looks_html = head.starts_with('<')
        || ["<html", "<!doctype", "<body", "<title", "<h1"]
            .iter()
            .any(|tag| head.contains(tag));
    if !looks_html {
        return None;
    }
    let from_tag = |tag: &str| {
        element_text(text, tag)
            .map(|inner| decode_entities(&strip_tags(inner)))
            .filter(|s| !s.trim().is_empty())
    };
    from_tag("title")
        .or_else(|| from_tag("h1"))
        .or_else(|| first_line(&decode_entities(&strip_tags(text))))
}

/// The inner text of the first `<tag ...>...</tag>` (ASCII case-insensitive).
fn element_text<'a>(text: &'a str, tag: &str) -> Option<&'a str> {
    let open = find_ascii_ci(text, &format!("<{tag}"))?;
    let after_open = open + text[open..].find('>')? + 1;
    let close = find_ascii_ci(&text[after_open..], &format!("</{tag}"))?;
    Some(&text[after_open..after_open + close])
}

/// Byte offset of `needle` (lowercase ASCII) in `haystack`, ignoring ASCII case.
fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    let hay = haystack.as_bytes();
    let needle = needle.as_bytes();
    if needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len()).find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// The text with every `<...>` tag (and comment) replaced by a space.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Decodes the handful of entities error pages commonly use.
fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// The first non-blank line, trimmed.
fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(str::to_string)
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

    #[test]
    fn helpers() {
        assert_eq!(cut("héllo", 2), "hé…");
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(collapse_whitespace(" a \t\r b\u{0}c "), "a b c");
        assert_eq!(find_ascii_ci("xx<TITLE>", "<title"), Some(2));
        assert_eq!(strip_tags("<b>bold</b>text"), " bold text");
    }

    #[test]
    fn long_invalid_and_cut_bodies() {
        let status = StatusCode::INTERNAL_SERVER_ERROR;
        let long = "é".repeat(500);
        let message = describe_status(status, long.as_bytes());
        let excerpt = message.strip_prefix("500 Internal Server Error: ").unwrap();
        assert_eq!(excerpt.chars().count(), EXCERPT_CHARS + 1);
        assert!(excerpt.ends_with('…'));
        let lossy = describe_status(status, b"bad \xff bytes");
        assert_eq!(lossy, "500 Internal Server Error: bad \u{fffd} bytes");
        // A JSON body cut at the excerpt size falls back to its text.
        let cut = describe_status(status, br#"{"error":"unfinish"#);
        assert_eq!(cut, r#"500 Internal Server Error: {"error":"unfinish"#);
    }

    #[test]
    fn unknown_status_has_no_trailing_space() {
        let status = StatusCode::from_u16(599).unwrap();
        assert_eq!(describe_status(status, b""), "599");
    }
}
