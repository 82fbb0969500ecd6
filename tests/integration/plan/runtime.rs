//! Run-time parts of plans: template functions and context, JSON typing, data files (wrap,
//! stop, loading next to the plan) and JSON path lookup.

use surge::plan::data::{DataFile, DataRow, OnEnd};
use surge::plan::template::{JsonTemplate, RenderCtx, Template, Vars};
use surge::plan::{json_path, parse, PlanError};

fn render(t: &Template, vars: &Vars, row: Option<&DataRow>) -> Result<String, String> {
    t.render(&RenderCtx::new(7, vars, row)).map_err(|e| e.0)
}

fn compile(src: &str) -> Template {
    Template::compile(src).unwrap_or_else(|e| panic!("{src}: {e}"))
}

#[test]
fn literal_templates_take_the_fast_path() {
    let t = compile("/orders/reports");
    assert_eq!(t.as_literal(), Some("/orders/reports"));
    assert!(compile("/x/{{ user_id }}").as_literal().is_none());
    assert!(compile("{% if true %}a{% endif %}").as_literal().is_none());
    assert_eq!(
        Template::literal("{{ raw }}").as_literal(),
        Some("{{ raw }}")
    );
}

#[test]
fn template_functions() {
    let vars = Vars::new();
    let t = compile("{{ random_int(3, 5) }}");
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let n: i64 = render(&t, &vars, None).unwrap().parse().unwrap();
        seen.insert(n);
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![3, 4, 5]);
    let e = render(&compile("{{ random_int(5, 1) }}"), &vars, None).unwrap_err();
    assert!(e.contains("random_int(5, 1)"), "{e}");

    let c = compile("{{ random_choice(['A1', 'B2']) }}");
    for _ in 0..50 {
        let v = render(&c, &vars, None).unwrap();
        assert!(v == "A1" || v == "B2", "{v}");
    }
    let e = render(&compile("{{ random_choice([]) }}"), &vars, None).unwrap_err();
    assert!(e.contains("empty"), "{e}");

    let u = render(&compile("{{ uuid() }}"), &vars, None).unwrap();
    assert_eq!(uuid::Uuid::parse_str(&u).unwrap().get_version_num(), 4);
    assert_ne!(u, render(&compile("{{ uuid() }}"), &vars, None).unwrap());

    let s = compile("{{ seq() }}");
    let a: u64 = render(&s, &vars, None).unwrap().parse().unwrap();
    let b: u64 = render(&s, &vars, None).unwrap().parse().unwrap();
    assert!(a >= 1 && b > a, "{a} {b}");

    std::env::set_var("SURGE_PLAN_TEST_VAR", "hello");
    assert_eq!(
        render(&compile("{{ env('SURGE_PLAN_TEST_VAR') }}"), &vars, None).unwrap(),
        "hello"
    );
    assert_eq!(
        render(
            &compile("{{ env('SURGE_PLAN_UNSET_VAR', 'dflt') }}"),
            &vars,
            None
        )
        .unwrap(),
        "dflt"
    );
    let e = render(&compile("{{ env('SURGE_PLAN_UNSET_VAR') }}"), &vars, None).unwrap_err();
    assert!(
        e.contains("environment variable SURGE_PLAN_UNSET_VAR is not set"),
        "{e}"
    );
}

#[test]
fn context_variables_and_strict_undefined() {
    let mut vars = Vars::new();
    let t = compile("/u/{{ user_id }}/{{ token }}/{{ row.name }}");
    let row: DataRow = [("name".to_string(), "alice".to_string())].into();
    let e = render(&t, &vars, Some(&row)).unwrap_err();
    assert!(
        e.contains("undefined variable \"token\" (not captured yet?)"),
        "{e}"
    );
    vars.insert("token".into(), serde_json::json!("abc"));
    assert_eq!(render(&t, &vars, Some(&row)).unwrap(), "/u/7/abc/alice");
    let e = render(&t, &vars, None).unwrap_err();
    assert!(e.contains("\"row\""), "{e}");
    let e = render(&compile("{{ row.nope }}"), &vars, Some(&row)).unwrap_err();
    assert!(e.contains("no column \"nope\""), "{e}");
    assert!(Template::compile("{{ oops").is_err());
}

#[test]
fn json_templates_keep_native_types() {
    let src = serde_json::json!({
        "items": [{"sku": "{{ random_choice(['A1']) }}", "qty": "{{ random_int(2, 2) }}"}],
        "label": "user {{ user_id }}",
        "id": "{{ user_id }}",
        "fixed": {"a": [1, "b"]},
        "flag": "{{ true }}",
        "list": "{{ [1, 2] }}",
        "token": "{{ token }}"
    });
    let j = JsonTemplate::compile(src.clone()).unwrap();
    assert_eq!(j.source(), &src);
    let mut vars = Vars::new();
    vars.insert("token".into(), serde_json::json!({"t": 1}));
    let out = j.render(&RenderCtx::new(3, &vars, None)).unwrap();
    assert_eq!(
        out,
        serde_json::json!({
            "items": [{"sku": "A1", "qty": 2}],
            "label": "user 3",
            "id": 3,
            "fixed": {"a": [1, "b"]},
            "flag": true,
            "list": [1, 2],
            "token": {"t": 1}
        })
    );
    let e = j
        .render(&RenderCtx::new(3, &Vars::new(), None))
        .unwrap_err();
    assert!(e.0.contains("undefined variable \"token\""), "{e}");
    assert!(JsonTemplate::compile(serde_json::json!({"a": "{{ 1 + }}"})).is_err());
}

fn rows(n: usize) -> Vec<DataRow> {
    (0..n)
        .map(|i| [("id".to_string(), i.to_string())].into())
        .collect()
}

#[test]
fn data_file_wraps_or_stops() {
    let wrap = DataFile::new(rows(2), OnEnd::Wrap);
    let ids: Vec<String> = (0..5)
        .map(|_| wrap.next_row().unwrap()["id"].clone())
        .collect();
    assert_eq!(ids, ["0", "1", "0", "1", "0"]);
    let stop = DataFile::new(rows(2), OnEnd::Stop);
    assert!(stop.next_row().is_some() && stop.next_row().is_some());
    assert!(stop.next_row().is_none() && stop.next_row().is_none());
}

#[test]
fn data_file_loads_relative_to_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("u.csv"), "user,pw\nann,1\nben,2\n").unwrap();
    std::fs::write(dir.path().join("empty.csv"), "").unwrap();
    std::fs::write(dir.path().join("header.csv"), "user,pw\n").unwrap();
    std::fs::write(dir.path().join("ragged.csv"), "user,pw\nann\n").unwrap();
    let plan_text = |f: &str, end: &str| {
        format!("[data]\nfile = \"{f}\"\non_end = \"{end}\"\n[[scenarios]]\n[[scenarios.tasks]]\npath = \"/\"\n")
    };
    let path = dir.path().join("plan.toml");
    let p = parse(&plan_text("u.csv", "stop"), &path).unwrap();
    let data = p.data.unwrap();
    assert_eq!(data.on_end, OnEnd::Stop);
    assert_eq!(data.rows.len(), 2);
    assert_eq!(data.rows[1]["user"], "ben");
    assert_eq!(data.rows[1]["pw"], "2");
    for (f, part) in [
        ("empty.csv", "is empty"),
        ("header.csv", "no data rows"),
        ("ragged.csv", "data file"),
        ("nope.csv", "cannot read"),
    ] {
        let e = match parse(&plan_text(f, "wrap"), &path) {
            Err(PlanError::Invalid(m)) => m,
            other => panic!("{f}: {other:?}"),
        };
        assert!(
            e.starts_with(&format!("{}:2:8: data.file:", path.display())),
            "{e}"
        );
        assert!(e.contains(part), "{f}: {e}");
    }
}

#[test]
fn json_path_lookup() {
    let v = serde_json::json!({"data": {"token": "t", "items": [{"id": 4}]}});
    assert_eq!(
        json_path::lookup(&v, "data.token"),
        Some(&serde_json::json!("t"))
    );
    assert_eq!(
        json_path::lookup(&v, "$.data.items.0.id"),
        Some(&serde_json::json!(4))
    );
    assert_eq!(json_path::lookup(&v, "data.items.1.id"), None);
    assert_eq!(json_path::lookup(&v, "nope"), None);
}

/// Regression (found by fuzzing): nested loops kept a render going for minutes; each render
/// is now bounded by minijinja's fuel, and the exception says why.
#[test]
fn endless_templates_stop_with_a_clear_error() {
    let vars = Vars::new();
    let nested =
        "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}";
    let e = render(&compile(nested), &vars, None).unwrap_err();
    assert!(
        e.starts_with("template runs too long (more than 1000000 steps) in \"{% for a"),
        "{e}"
    );
    // A template doing real work stays well inside the bound.
    let big = "{% for a in range(1000) %}{{ a }},{% endfor %}";
    assert!(render(&compile(big), &vars, None)
        .unwrap()
        .ends_with("999,"));
}
