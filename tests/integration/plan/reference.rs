//! The template reference in `plans/README.md` is true and complete: every example in its
//! tables renders to what the table says (or, where it says *e.g.*, renders at all), and
//! every function, filter and test a template can use is listed.

use surge::plan::data::DataRow;
use surge::plan::template::{RenderCtx, Template, Vars, PLAN_FUNCTIONS};

/// minijinja's own filters and tests (with the `json` and `urlencode` features), as the
/// reference must list them.
const FILTERS: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "chain",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "format",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "pprint",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "tojson",
    "trim",
    "unique",
    "upper",
    "urlencode",
    "zip",
];
const TESTS: &[&str] = &[
    "boolean",
    "defined",
    "divisibleby",
    "endingwith",
    "eq",
    "equalto",
    "escaped",
    "even",
    "false",
    "filter",
    "float",
    "ge",
    "greaterthan",
    "gt",
    "in",
    "int",
    "integer",
    "iterable",
    "le",
    "lessthan",
    "lower",
    "lt",
    "mapping",
    "ne",
    "none",
    "number",
    "odd",
    "safe",
    "sameas",
    "sequence",
    "startingwith",
    "string",
    "test",
    "true",
    "undefined",
    "upper",
];
const GLOBALS: &[&str] = &["range", "dict", "namespace", "debug"];

/// One row of a reference table.
struct Row {
    section: String,
    names: Vec<String>,
    example: Option<String>,
    gives: String,
}

/// The cells of a Markdown table row (`\|` is a `|` inside a cell).
fn cells(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.trim().trim_start_matches('|').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                out.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out.pop();
    out.into_iter().map(|c| c.trim().to_string()).collect()
}

/// The texts between backticks.
fn code_spans(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn reference_rows() -> Vec<Row> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/plans/README.md");
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find("\n## Templates\n").expect("a Templates section");
    let end = text[start + 1..]
        .find("\n## ")
        .map_or(text.len(), |i| start + 1 + i);
    let mut rows = Vec::new();
    let mut section = String::new();
    for line in text[start..end].lines() {
        if let Some(h) = line.strip_prefix("### ") {
            section = h.to_string();
            continue;
        }
        if !line.starts_with('|') || line.starts_with("|---") {
            continue;
        }
        let c = cells(line);
        if c.len() != 4 || c[2] == "Example" {
            continue;
        }
        rows.push(Row {
            section: section.clone(),
            names: code_spans(&c[0])
                .iter()
                .map(|n| n.split('(').next().unwrap_or_default().to_string())
                .collect(),
            example: code_spans(&c[2]).into_iter().next(),
            gives: c[3].clone(),
        });
    }
    rows
}

#[test]
fn every_example_of_the_template_reference_renders_as_documented() {
    std::env::remove_var("SURGE_DOC_UNSET");
    let mut vars = Vars::new();
    vars.insert("token".into(), serde_json::json!("abc123"));
    let row: DataRow = [
        ("username".to_string(), "alice".to_string()),
        ("pin".to_string(), "0042".to_string()),
    ]
    .into();
    let ctx = RenderCtx::new(7, &vars, Some(&row));
    let rows = reference_rows();
    assert!(rows.len() > 60, "only {} rows read", rows.len());
    let mut wrong = Vec::new();
    for r in &rows {
        let Some(example) = &r.example else { continue };
        let got = Template::compile(example).and_then(|t| t.render(&ctx));
        let got = match got {
            Ok(g) => g,
            Err(e) => {
                wrong.push(format!("{example}: {e}"));
                continue;
            }
        };
        if r.gives.starts_with("*e.g.*") {
            continue;
        }
        let expected = code_spans(&r.gives)
            .into_iter()
            .next()
            .unwrap_or_default()
            .replace("\\n", "\n");
        if got != expected {
            wrong.push(format!(
                "{example}: gives {got:?}, the reference says {expected:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_template_reference_lists_every_name() {
    let rows = reference_rows();
    let listed = |section: &str, name: &str| {
        rows.iter()
            .any(|r| r.section == section && r.names.iter().any(|n| n == name))
    };
    let mut missing = Vec::new();
    for f in PLAN_FUNCTIONS.iter().chain(GLOBALS) {
        if !listed("Functions", f) {
            missing.push(format!("function {f}"));
        }
    }
    for f in FILTERS {
        if !listed("Filters", f) {
            missing.push(format!("filter {f}"));
        }
    }
    for t in TESTS {
        if !listed("Tests", t) {
            missing.push(format!("test {t}"));
        }
    }
    for v in ["surge.user", "row", "user_id"] {
        if !listed("Variables", v) {
            missing.push(format!("variable {v}"));
        }
    }
    assert!(missing.is_empty(), "not in plans/README.md: {missing:?}");
    // And each listed filter and test exists: an unknown one is a template error.
    let vars = Vars::new();
    let ctx = RenderCtx::new(0, &vars, None);
    for f in FILTERS {
        let src = format!("{{{{ '{f}' is filter }}}}");
        let got = Template::compile(&src).unwrap().render(&ctx).unwrap();
        assert_eq!(got, "True", "filter {f}");
    }
    for t in TESTS {
        let src = format!("{{{{ '{t}' is test }}}}");
        let got = Template::compile(&src).unwrap().render(&ctx).unwrap();
        assert_eq!(got, "True", "test {t}");
    }
}
