//! Hints for text that is valid but probably not what was meant: single braces around a
//! template function or a plan variable (`/stock/{ random_int(1, 10) }`, a Python f-string
//! habit), which are sent as written instead of being rendered.

use super::names::Known;
use crate::plan::template::{is_function, DEPRECATED_USER_ID, SURGE_VARS};

/// The warning for `src` when it holds `{ ... }` around a function call or a variable the
/// plan defines, outside any `{{ }}`/`{% %}`: `did you mean {{ random_int(1, 10) }}?`.
pub(super) fn single_braces(src: &str, known: &Known) -> Option<String> {
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'{' {
            i += 1;
            continue;
        }
        // Template syntax is skipped whole.
        if matches!(bytes.get(i + 1), Some(b'{' | b'%' | b'#')) {
            let close = match bytes[i + 1] {
                b'{' => "}}",
                b'%' => "%}",
                _ => "#}",
            };
            i = src[i + 2..]
                .find(close)
                .map_or(bytes.len(), |j| i + 2 + j + 2);
            continue;
        }
        let len = src[i + 1..].find(['{', '}'])?;
        let end = i + 1 + len;
        if bytes[end] == b'{' {
            i = end;
            continue;
        }
        let inner = src[i + 1..end].trim();
        if looks_meant(inner, known) {
            return Some(format!(
                "\"{src}\" has {{ {inner} }} in single braces, which is sent as written: did you \
                 mean {{{{ {inner} }}}}?"
            ));
        }
        i = end + 1;
    }
    None
}

/// Whether the inside of single braces reads like a template: a call of a template
/// function, or a variable the plan defines (`token`, `surge.user`, `row.username`).
fn looks_meant(inner: &str, known: &Known) -> bool {
    let ident_end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(inner.len());
    let (name, rest) = inner.split_at(ident_end);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let rest = rest.trim_start();
    if rest.starts_with('(') && rest.ends_with(')') {
        return is_function(name);
    }
    if !rest.is_empty() {
        return false;
    }
    let top = name.split('.').next().unwrap_or_default();
    known.captures(top) || top == SURGE_VARS || top == DEPRECATED_USER_ID || top == "row"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_braces_around_templates_are_flagged() {
        let known = Known::default();
        let hint = single_braces("/stock/{ random_int(1, 10) }", &known).unwrap();
        assert_eq!(
            hint,
            "\"/stock/{ random_int(1, 10) }\" has { random_int(1, 10) } in single braces, which \
             is sent as written: did you mean {{ random_int(1, 10) }}?"
        );
        assert!(single_braces("/users/{user_id}/cart", &known).is_some());
        assert!(single_braces("/users/{surge.user}", &known).is_some());
        for fine in [
            "/stock/{{ random_int(1, 10) }}",
            "/items/{id}",
            "{\"a\": 1}",
            "/x/{ not_a_function(1) }",
            "{% if true %}{ x }{% endif %}",
            "{{ '{' }}",
            "/{",
        ] {
            assert_eq!(single_braces(fine, &known), None, "{fine}");
        }
    }
}
