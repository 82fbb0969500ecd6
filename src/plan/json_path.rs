//! Dotted JSON paths (`data.token`, `items.0.qty`, optional leading `$.`) used by checks and
//! captures to reach into response bodies.

/// Find the value at `path`; numeric segments index arrays (and also match object keys that
/// are numbers). An empty path (or `$`) is the whole value.
pub fn lookup<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let path = path.trim();
    let path = path.strip_prefix("$.").unwrap_or(path);
    if path.is_empty() || path == "$" {
        return Some(v);
    }
    path.split('.').try_fold(v, |cur, seg| match cur {
        serde_json::Value::Object(map) => map.get(seg),
        serde_json::Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::lookup;
    use serde_json::json;

    #[test]
    fn walks_objects_and_arrays() {
        let v = json!({"data": {"token": "t"}, "items": [{"qty": 2}, {"qty": 3}], "5": "five"});
        assert_eq!(lookup(&v, "data.token"), Some(&json!("t")));
        assert_eq!(lookup(&v, "$.items.1.qty"), Some(&json!(3)));
        assert_eq!(lookup(&v, "5"), Some(&json!("five")));
        assert_eq!(lookup(&v, "$"), Some(&v));
        assert_eq!(lookup(&v, "items.9.qty"), None);
        assert_eq!(lookup(&v, "items.x"), None);
        assert_eq!(lookup(&v, "data.token.deeper"), None);
    }
}
