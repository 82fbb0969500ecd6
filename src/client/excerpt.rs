//! What an error response's body says about its cause, as a list of raw parts in reading
//! order; `status` joins them into the grouped message.
//!
//! Each body shape that common servers and frameworks send has its own reader:
//!
//! - **JSON objects**: every explanatory field, not the first one found: `error`, `title`
//!   (RFC 7807), `message`, `msg`, `detail`, `reason`, `description`, `error_description`
//!   (OAuth), then `errors` (GraphQL's and JSON:API's list: its first item's fields; an
//!   object of field → messages). A field holding an object is read the same way (Google's
//!   `{"error": {"code": 400, "message": ...}}`); a list of validation errors (FastAPI's
//!   `{"detail": [{"loc": [...], "msg": ...}]}`) becomes `loc: msg` items.
//! - **HTML**: the `<title>`, the first `<h1>` and the first `<p>` (Flask/Werkzeug, Django,
//!   Spring's Whitelabel page); when all of them only repeat the status (nginx's `502 Bad
//!   Gateway` page), the first other line of text (nginx's `nginx/1.22.1` signature).
//! - **Plain text**: the first non-empty line (the first that is more than the status).
//!
//! Whether a part repeats the status is the caller's rule, passed in as `repeats`.

use serde_json::{Map, Value};

/// Object fields that explain an error, in the order they are read.
const FIELDS: [&str; 8] = [
    "error",
    "title",
    "message",
    "msg",
    "detail",
    "reason",
    "description",
    "error_description",
];

/// Validation errors listed beyond this many are counted, not shown.
const MAX_LIST_ITEMS: usize = 5;

/// How deep nested error objects are followed (a hostile body can nest without end).
const MAX_DEPTH: usize = 4;

/// The raw parts of a body's explanation; empty when the body says nothing. `repeats` tells
/// whether a text only repeats the status line (used to skip to a more telling line).
pub(super) fn parts(body: &str, repeats: &dyn Fn(&str) -> bool) -> Vec<String> {
    let text = body.trim();
    if text.is_empty() {
        return Vec::new();
    }
    if text.starts_with('{') {
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) {
            let found = object_parts(&map, 0);
            if !found.is_empty() {
                return found;
            }
        }
        // Unknown fields or a cut body: the text itself says more than nothing.
        return first_line(text, repeats).into_iter().collect();
    }
    if looks_html(text) {
        return html_parts(text, repeats);
    }
    first_line(text, repeats).into_iter().collect()
}

/// Every explanatory field of a JSON object, in [`FIELDS`] order, then `errors`.
fn object_parts(map: &Map<String, Value>, depth: usize) -> Vec<String> {
    let mut out = Vec::new();
    if depth > MAX_DEPTH {
        return out;
    }
    for key in FIELDS {
        if let Some(value) = map.get(key) {
            out.extend(value_parts(value, depth + 1));
        }
    }
    match map.get("errors") {
        // GraphQL, JSON:API: the first error's own fields (`message`, or `title` + `detail`).
        Some(Value::Array(items)) => {
            if let Some(first) = items.first() {
                out.extend(value_parts(first, depth + 1));
            }
        }
        // Rails-like `{"errors": {"name": ["can't be blank"]}}`.
        Some(Value::Object(fields)) => out.extend(field_errors(fields)),
        Some(other) => out.extend(value_parts(other, depth + 1)),
        None => {}
    }
    out
}

/// The parts one field's value gives.
fn value_parts(value: &Value, depth: usize) -> Vec<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => vec![s.clone()],
        Value::Object(map) => object_parts(map, depth),
        Value::Array(items) => list_part(items, depth).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// A list of errors as one part: `body.user_id: value is not a valid integer; ...`.
fn list_part(items: &[Value], depth: usize) -> Option<String> {
    let rendered: Vec<String> = items
        .iter()
        .filter_map(|item| match item {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Object(map) => validation_item(map, depth),
            _ => None,
        })
        .collect();
    if rendered.is_empty() {
        return None;
    }
    let mut text = rendered
        .iter()
        .take(MAX_LIST_ITEMS)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if rendered.len() > MAX_LIST_ITEMS {
        text.push_str(&format!(" (+{} more)", rendered.len() - MAX_LIST_ITEMS));
    }
    Some(text)
}

/// One validation error: FastAPI/pydantic's `{"loc": ["body", "items", 0, "qty"], "msg":
/// ...}` becomes `body.items[0].qty: ...`; any other object gives its own fields.
fn validation_item(map: &Map<String, Value>, depth: usize) -> Option<String> {
    let msg = map.get("msg").and_then(Value::as_str);
    let loc = map.get("loc").and_then(Value::as_array);
    match (loc, msg) {
        (Some(loc), Some(msg)) => {
            let mut path = String::new();
            for part in loc {
                match part {
                    Value::Number(n) => path.push_str(&format!("[{n}]")),
                    Value::String(s) => {
                        if !path.is_empty() {
                            path.push('.');
                        }
                        path.push_str(s);
                    }
                    _ => {}
                }
            }
            Some(if path.is_empty() {
                msg.to_string()
            } else {
                format!("{path}: {msg}")
            })
        }
        (None, Some(msg)) => Some(msg.to_string()),
        _ => {
            let own = object_parts(map, depth + 1);
            (!own.is_empty()).then(|| own.join(": "))
        }
    }
}

/// `{"name": ["can't be blank"], "email": "is taken"}` → `name: can't be blank`, ...
fn field_errors(fields: &Map<String, Value>) -> Option<String> {
    let items: Vec<String> = fields
        .iter()
        .filter_map(|(field, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => return None,
            };
            (!text.trim().is_empty()).then(|| format!("{field}: {text}"))
        })
        .collect();
    list_part(&items.into_iter().map(Value::String).collect::<Vec<_>>(), 0)
}

/// Whether a body is an HTML (or XML) page rather than text.
fn looks_html(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with('<')
        || ["<html", "<!doctype", "<body", "<title", "<h1"]
            .iter()
            .any(|tag| head.contains(tag))
}

/// The title, the first heading and the first paragraph of a page; the first other line
/// of text when those only repeat the status.
fn html_parts(text: &str, repeats: &dyn Fn(&str) -> bool) -> Vec<String> {
    let visible = without_element(&without_element(text, "script"), "style");
    let found: Vec<String> = ["title", "h1", "p"]
        .iter()
        .filter_map(|tag| element_text(&visible, tag))
        .map(|inner| decode_entities(&strip_tags(inner)))
        .filter(|s| !s.trim().is_empty())
        .collect();
    if found.iter().any(|s| !repeats(s)) {
        return found;
    }
    let plain = decode_entities(&strip_tags(&visible));
    first_line(&plain, repeats).into_iter().collect()
}

/// The page with every `<tag>...</tag>` element removed (scripts and styles are not text).
fn without_element(text: &str, tag: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = find_tag(rest, tag) {
        out.push_str(&rest[..open]);
        let close = format!("</{tag}");
        match find_ascii_ci(&rest[open..], &close) {
            Some(end) => {
                let after = open + end;
                rest = match rest[after..].find('>') {
                    Some(gt) => &rest[after + gt + 1..],
                    None => "",
                };
            }
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

/// The inner text of the first `<tag ...>...</tag>` (ASCII case-insensitive).
fn element_text<'a>(text: &'a str, tag: &str) -> Option<&'a str> {
    let open = find_tag(text, tag)?;
    let after_open = open + text[open..].find('>')? + 1;
    let close = find_ascii_ci(&text[after_open..], &format!("</{tag}"))?;
    Some(&text[after_open..after_open + close])
}

/// Byte offset of the first `<tag` whose name ends there (`<p>` or `<p class=..>`, not
/// `<pre>`).
fn find_tag(text: &str, tag: &str) -> Option<usize> {
    let needle = format!("<{tag}");
    let mut from = 0;
    while let Some(pos) = find_ascii_ci(&text[from..], &needle) {
        let at = from + pos;
        let next = text.as_bytes().get(at + needle.len()).copied();
        if matches!(next, None | Some(b'>' | b'/')) || next.is_some_and(|b| b.is_ascii_whitespace())
        {
            return Some(at);
        }
        from = at + needle.len();
    }
    None
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

/// The text with every `<...>` tag (and comment) removed: a tag that breaks a line in a
/// browser (`<br>`, `<p>`, `<div>`, `<pre>`, headings, ...) becomes a line break, any
/// other a space.
fn strip_tags(text: &str) -> String {
    const BREAKS: [&str; 12] = [
        "br", "p", "div", "pre", "li", "tr", "h1", "h2", "h3", "h4", "hr", "center",
    ];
    let mut out = String::with_capacity(text.len());
    let mut tag: Option<String> = None;
    for c in text.chars() {
        match (&mut tag, c) {
            (None, '<') => tag = Some(String::new()),
            (Some(name), '>') => {
                let name = name.trim_start_matches('/').to_ascii_lowercase();
                let name = name.split(|c: char| c.is_whitespace() || c == '/').next();
                out.push(if name.is_some_and(|n| BREAKS.contains(&n)) {
                    '\n'
                } else {
                    ' '
                });
                tag = None;
            }
            (Some(name), c) => {
                if name.len() < 16 {
                    name.push(c);
                }
            }
            (None, c) => out.push(c),
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
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// The first non-blank line that says more than the status, trimmed.
fn first_line(text: &str, repeats: &dyn Fn(&str) -> bool) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !repeats(line))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never(_: &str) -> bool {
        false
    }

    #[test]
    fn tags_match_whole_names() {
        assert_eq!(find_tag("<pre>x</pre><p>y</p>", "p"), Some(12));
        assert_eq!(find_tag("<P class=a>y</P>", "p"), Some(0));
        assert_eq!(element_text("<pre>x</pre><p>y</p>", "p"), Some("y"));
        assert_eq!(
            without_element("a<script>var x = '<p>no</p>';</script>b", "script"),
            "ab"
        );
        assert_eq!(strip_tags("<b>bold</b>text"), " bold text");
        assert_eq!(
            strip_tags("<pre>Error: x<br> &nbsp;at y</pre>"),
            "\nError: x\n &nbsp;at y\n"
        );
        assert_eq!(find_ascii_ci("xx<TITLE>", "<title"), Some(2));
    }

    #[test]
    fn nested_objects_are_bounded() {
        let mut body = String::new();
        for _ in 0..100 {
            body.push_str(r#"{"error":"#);
        }
        body.push_str(r#""deep""#);
        body.push_str(&"}".repeat(100));
        // Too deep to follow: nothing found in the fields, so the text is used.
        let got = parts(&body, &never);
        assert_eq!(got.len(), 1);
        assert!(got[0].starts_with(r#"{"error":{"#));
    }

    #[test]
    fn field_error_objects() {
        let got = parts(
            r#"{"errors": {"name": ["can't be blank", "is too short"], "email": "is taken"}}"#,
            &never,
        );
        assert_eq!(
            got,
            vec!["email: is taken; name: can't be blank, is too short"]
        );
    }
}
