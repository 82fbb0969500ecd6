//! Plan parsing: TOML and YAML give the same model, errors are located, templates and data
//! files behave as documented, and every example in `plans/` parses.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use surge::plan::data::{DataFile, DataRow, OnEnd};
use surge::plan::template::{JsonTemplate, RenderCtx, Template, Vars};
use surge::plan::{
    json_path, parse, Body, CaptureSource, LoadProfile, Plan, PlanError, Step, WaitTime,
};

fn ok(name: &str, text: &str) -> Plan {
    match parse(text, Path::new(name)) {
        Ok(p) => p,
        Err(e) => panic!("{name} should parse: {e}"),
    }
}

fn err(name: &str, text: &str) -> String {
    match parse(text, Path::new(name)) {
        Ok(_) => panic!("{name} should not parse:\n{text}"),
        Err(PlanError::Invalid(m)) => m,
        Err(e) => panic!("unexpected error kind: {e}"),
    }
}

/// Everything the model holds, as text (templates by source), to compare two plans.
fn summary(p: &Plan) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "host={:?} timeout={:?} redirects={}",
        p.host, p.timeout, p.max_redirects
    );
    for (k, v) in &p.headers {
        let _ = writeln!(s, "header {k}={}", v.source());
    }
    let _ = writeln!(s, "load={:?} run_time={:?}", p.load, p.run_time);
    for sc in &p.scenarios {
        let _ = writeln!(
            s,
            "scenario {} w={} n={:?} wait={:?}",
            sc.name, sc.weight, sc.fixed_count, sc.wait
        );
        for st in &sc.on_start {
            step_summary(&mut s, st);
        }
        for t in &sc.tasks {
            let _ = writeln!(s, " task {} w={}", t.name, t.weight);
            for st in &t.steps {
                step_summary(&mut s, st);
            }
        }
    }
    s
}

fn step_summary(s: &mut String, st: &Step) {
    let body = match &st.body {
        Some(Body::Json(j)) => format!("json {}", j.source()),
        Some(Body::Form(f)) => format!(
            "form {:?}",
            f.iter().map(|(k, v)| (k, v.source())).collect::<Vec<_>>()
        ),
        Some(Body::Raw(r)) => format!("raw {}", r.source()),
        None => "none".into(),
    };
    let mut caps: Vec<String> = st
        .captures
        .iter()
        .map(|c| match &c.source {
            CaptureSource::Json(p) => format!("{}=json:{p}", c.var),
            CaptureSource::Header(h) => format!("{}=header:{h}", c.var),
            CaptureSource::Regex(r) => format!("{}=regex:{}", c.var, r.as_str()),
        })
        .collect();
    caps.sort(); // TOML tables do not keep key order
    let _ = writeln!(
        s,
        "  {} {} name={:?} q={:?} h={:?} body={body} checks={:?} caps={caps:?}",
        st.method,
        st.url.source(),
        st.name,
        st.query
            .iter()
            .map(|(k, v)| (k, v.source()))
            .collect::<Vec<_>>(),
        st.headers
            .iter()
            .map(|(k, v)| (k, v.source()))
            .collect::<Vec<_>>(),
        st.checks,
    );
}

const SHOP_TOML: &str = r#"
host = "http://127.0.0.1:8080"
timeout = 20
redirects = 0
headers = { "user-agent" = "surge", "x-env" = "{{ env('STAGE', 'dev') }}" }

[load]
users = 50
spawn_rate = 10
run_time = "1m30s"

[[scenarios]]
name = "shopper"
weight = 3
wait = { between = [1, 5] }
on_start = [
  { method = "post", path = "/login", json = { user = "demo", password = "demo" },
    capture = { token = { json = "token" }, sid = { header = "X-Session" }, n = { regex = 'n=(\d+)' } } },
]

[[scenarios.tasks]]
weight = 3
path = "/api/stores/{{ random_int(1, 50) }}/stock"
name = "/api/stores/[id]/stock"
query = { page = "{{ random_int(1, 3) }}", size = 10 }
headers = { "x-token" = "{{ token }}" }

[[scenarios.tasks]]
name = "checkout"
steps = [
  { method = "POST", path = "/orders", json = { items = [ { sku = "A1", qty = "{{ random_int(1, 5) }}" } ] },
    check = { status = 201, json = true, contains = ["id"], equals = { "items.0.qty" = 2 } },
    capture = { order_id = { json = "id" } } },
  { path = "/orders/{{ order_id }}", name = "/orders/[id]", form = { a = "1" } },
  { method = "PUT", url = "https://other.example/x", body = "raw {{ user_id }}", check = { status = [200, 204] } },
]

[[scenarios]]
name = "admin"
count = 2
wait = { constant_throughput = 0.5 }

[[scenarios.tasks]]
path = "/orders/reports/best-sellers"
"#;

const SHOP_YAML: &str = r#"
host: http://127.0.0.1:8080
timeout: 20s
redirects: 0
headers:
  user-agent: surge
  x-env: "{{ env('STAGE', 'dev') }}"
load: { users: 50, spawn_rate: 10, run_time: 90s }
scenarios:
  - name: shopper
    weight: 3
    wait: { between: [1, 5] }
    on_start:
      - method: POST
        path: /login
        json: { user: demo, password: demo }
        capture:
          token: { json: token }
          sid: { header: X-Session }
          n: { regex: 'n=(\d+)' }
    tasks:
      - weight: 3
        path: "/api/stores/{{ random_int(1, 50) }}/stock"
        name: /api/stores/[id]/stock
        query: { page: "{{ random_int(1, 3) }}", size: 10 }
        headers: { x-token: "{{ token }}" }
      - name: checkout
        steps:
          - method: POST
            path: /orders
            json: { items: [ { sku: A1, qty: "{{ random_int(1, 5) }}" } ] }
            check: { status: 201, json: true, contains: [id], equals: { items.0.qty: 2 } }
            capture: { order_id: { json: id } }
          - { path: "/orders/{{ order_id }}", name: "/orders/[id]", form: { a: "1" } }
          - { method: put, url: "https://other.example/x", body: "raw {{ user_id }}", check: { status: [200, 204] } }
  - name: admin
    count: 2
    wait: { constant_throughput: 0.5 }
    tasks:
      - path: /orders/reports/best-sellers
"#;

#[test]
fn toml_and_yaml_give_the_same_model() {
    let t = ok("shop.toml", SHOP_TOML);
    let y = ok("shop.yaml", SHOP_YAML);
    assert_eq!(summary(&t), summary(&y));
    assert_eq!(t.timeout, Duration::from_secs(20));
    assert_eq!(t.max_redirects, 0);
    assert_eq!(
        t.load,
        Some(LoadProfile::Closed {
            users: 50,
            spawn_rate: 10.0
        })
    );
    assert_eq!(t.run_time, Some(Duration::from_secs(90)));
    let shopper = &t.scenarios[0];
    assert_eq!(shopper.wait, WaitTime::Between(1.0, 5.0));
    assert_eq!(shopper.on_start[0].method, http::Method::POST);
    assert_eq!(shopper.tasks[0].name, "/api/stores/[id]/stock");
    assert_eq!(shopper.tasks[1].steps.len(), 3);
    let checks = &shopper.tasks[1].steps[0].checks;
    assert_eq!(checks.status, vec![201]);
    assert!(checks.is_json);
    assert_eq!(
        checks.json_equals,
        vec![("items.0.qty".to_string(), serde_json::json!(2))]
    );
    assert_eq!(shopper.tasks[1].steps[2].checks.status, vec![200, 204]);
    assert_eq!(t.scenarios[1].fixed_count, Some(2));
    assert_eq!(t.scenarios[1].wait, WaitTime::ConstantThroughput(0.5));
    assert_eq!(t.text.as_deref(), Some(SHOP_TOML));
    assert_eq!(t.source.as_deref(), Some(Path::new("shop.toml")));
    // a task without a name is labelled by its request
    assert_eq!(t.scenarios[1].tasks[0].name, "/orders/reports/best-sellers");
}

#[test]
fn defaults_apply() {
    let p = ok(
        "min.toml",
        "[[scenarios]]\n[[scenarios.tasks]]\npath = \"/\"\n",
    );
    assert_eq!(p.timeout, Duration::from_secs(60));
    assert_eq!(p.max_redirects, 10);
    assert!(p.load.is_none() && p.data.is_none() && p.host.is_none());
    let s = &p.scenarios[0];
    assert_eq!(
        (s.name.as_str(), s.weight, s.fixed_count, s.wait),
        ("scenario 1", 1, None, WaitTime::None)
    );
    assert_eq!(s.tasks[0].steps[0].method, http::Method::GET);
    assert!(s.tasks[0].steps[0].checks.status.is_empty());
}

#[test]
fn load_profiles() {
    let open = ok(
        "o.toml",
        "[load]\nrate = 200\nusers = 50\n[[scenarios]]\n[[scenarios.tasks]]\npath = \"/\"\n",
    );
    assert_eq!(
        open.load,
        Some(LoadProfile::Open {
            rate: 200.0,
            max_users: 50
        })
    );
    let stages = ok(
        "s.yaml",
        "load:\n  stages:\n    - { duration: 10s, users: 10 }\n    - { duration: 20, users: 30, spawn_rate: 4 }\n    - { duration: 5s, users: 0 }\nscenarios:\n  - tasks: [ { path: / } ]\n",
    );
    let Some(LoadProfile::Stages(st)) = stages.load else {
        panic!("stages expected")
    };
    assert_eq!(st.len(), 3);
    assert_eq!(
        (st[0].users, st[0].spawn_rate, st[0].duration),
        (10, 1.0, Duration::from_secs(10))
    );
    assert_eq!((st[1].users, st[1].spawn_rate), (30, 4.0));
    assert_eq!((st[2].users, st[2].spawn_rate), (0, 6.0));
}

/// (file, text, expected "file:line:col: key" prefix, expected part of the message)
const ERRORS: &[(&str, &str, &str, &str)] = &[
    (
        "p.toml",
        "[[scenarios]]\nwiat = 3\n",
        "p.toml:2:1: scenarios[0].wiat:",
        "unknown key \"wiat\" — did you mean \"wait\"?",
    ),
    (
        "p.yaml",
        "scenarios:\n  - name: a\n    wiat: 3\n",
        "p.yaml:3:5: scenarios[0].wiat:",
        "did you mean \"wait\"?",
    ),
    (
        "p.toml",
        "[[scenarios]]\n[[scenarios.tasks]]\nmethod = \"GETT\"\npath = \"/\"\n",
        "p.toml:3:10: scenarios[0].tasks[0].method:",
        "\"GETT\" is not an HTTP method (expected GET, POST",
    ),
    (
        "p.yaml",
        "scenarios:\n  - tasks:\n      - method: GETT\n        path: /\n",
        "p.yaml:3:17: scenarios[0].tasks[0].method:",
        "is not an HTTP method",
    ),
    (
        "p.toml",
        "timeout = \"3x\"\n[[scenarios]]\n",
        "p.toml:1:11: timeout:",
        "invalid duration \"3x\"",
    ),
    (
        "p.yaml",
        "load:\n  run_time: soon\n",
        "p.yaml:2:13: load.run_time:",
        "invalid duration \"soon\"",
    ),
    (
        "p.toml",
        "[[scenarios]]\nweight = 0\n[[scenarios.tasks]]\npath = \"/\"\n",
        "p.toml:2:10: scenarios[0].weight:",
        "0 is out of range",
    ),
    (
        "p.yaml",
        "scenarios:\n  - tasks:\n      - path: /\n        weight: 0\n",
        "p.yaml:4:17: scenarios[0].tasks[0].weight:",
        "0 is out of range",
    ),
    (
        "p.toml",
        "[[scenarios]]\n[[scenarios.tasks]]\npath = \"/\"\nurl = \"http://x\"\n",
        "p.toml:4:7: scenarios[0].tasks[0].url:",
        "\"path\" and \"url\" cannot both be set",
    ),
    (
        "p.yaml",
        "scenarios:\n  - tasks:\n      - path: /\n        url: http://x\n",
        "p.yaml:4:14: scenarios[0].tasks[0].url:",
        "cannot both be set",
    ),
    (
        "p.toml",
        "[[scenarios]]\n[[scenarios.tasks]]\npath = \"/{{ foo\"\n",
        "p.toml:3:8: scenarios[0].tasks[0].path:",
        "template syntax error",
    ),
    (
        "p.toml",
        "[[scenarios]]\ntasks = [{ steps = [{ path = \"/\", json = { a = \"{{ 1 + }}\" } }] }]\n",
        "p.toml:2:",
        "scenarios[0].tasks[0].steps[0].json: template syntax error",
    ),
    (
        "p.toml",
        "[[scenarios]]\n[[scenarios.tasks]]\nweight = 2\n",
        "p.toml:2:1: scenarios[0].tasks[0]:",
        "needs a request (path or url) or \"steps\"",
    ),
    (
        "p.toml",
        "[[scenarios]]\n[[scenarios.tasks]]\npath = \"/\"\nsteps = [{ path = \"/\" }]\n",
        "p.toml:3:8: scenarios[0].tasks[0].path:",
        "not both",
    ),
    (
        "p.toml",
        "[[scenarios]]\nweight = 2\ncount = 3\n[[scenarios.tasks]]\npath = \"/\"\n",
        "p.toml:3:9: scenarios[0].count:",
        "cannot both be set",
    ),
    (
        "p.toml",
        "[[scenarios]]\nwait = { between = [5, 1] }\n[[scenarios.tasks]]\npath = \"/\"\n",
        "p.toml:2:20: scenarios[0].wait.between:",
        "must not exceed",
    ),
    (
        "p.toml",
        "[[scenarios]]\nwait = { constant = -1 }\n[[scenarios.tasks]]\npath = \"/\"\n",
        "p.toml:2:21: scenarios[0].wait.constant:",
        "out of range",
    ),
    (
        "p.toml",
        "[[scenarios]]\nwait = { constant_throughput = 0 }\n[[scenarios.tasks]]\npath = \"/\"\n",
        "p.toml:2:32: scenarios[0].wait.constant_throughput:",
        "above 0",
    ),
    (
        "p.toml",
        "[load]\nrate = 5\nstages = [{ duration = 1, users = 1 }]\n[[scenarios]]\n",
        "p.toml:2:8: load.rate:",
        "cannot be combined with \"stages\"",
    ),
    (
        "p.toml",
        "[load]\nrate = 5\n[[scenarios]]\n",
        "p.toml:2:8: load.rate:",
        "needs \"users\"",
    ),
    (
        "p.toml",
        "[load]\nusers = 2000000\n[[scenarios]]\n",
        "p.toml:2:9: load.users:",
        "too many",
    ),
    (
        "p.toml",
        "[load]\nstages = []\n[[scenarios]]\n",
        "p.toml:2:10: load.stages:",
        "at least one stage",
    ),
    (
        "p.toml",
        "[load]\nstages = [{ duration = 0, users = 1 }]\n",
        "p.toml:2:24: load.stages[0].duration:",
        "above 0",
    ),
    (
        "p.toml",
        "host = \"ftp://x\"\n",
        "p.toml:1:8: host:",
        "expected http:// or https://",
    ),
    (
        "p.toml",
        "[[scenarios]]\n[[scenarios.tasks]]\nurl = \"ftp://x/y\"\n",
        "p.toml:3:7: scenarios[0].tasks[0].url:",
        "not supported",
    ),
    (
        "p.toml",
        "[[scenarios]]\n[[scenarios.tasks]]\npath = \"orders\"\n",
        "p.toml:3:8: scenarios[0].tasks[0].path:",
        "must start with \"/\"",
    ),
    (
        "p.toml",
        "[[scenarios]]\n[[scenarios.tasks]]\npath = \"/\"\ncapture = { t = { regex = \"(\" } }\n",
        "p.toml:4:",
        "scenarios[0].tasks[0].capture.t.regex: invalid regex",
    ),
    (
        "p.toml",
        "[[scenarios]]\n[[scenarios.tasks]]\npath = \"/\"\ncheck = { status = 999 }\n",
        "p.toml:4:",
        "scenarios[0].tasks[0].check.status: 999 is not an HTTP status",
    ),
    (
        "p.toml",
        "[[scenarios]]\n[[scenarios.tasks]]\npath = \"/\"\njson = 1\nbody = \"x\"\n",
        "p.toml:5:8: scenarios[0].tasks[0].body:",
        "only one body",
    ),
    (
        "p.toml",
        "[[scenarios]]\n",
        "p.toml:1:1: scenarios[0].tasks:",
        "at least one task",
    ),
    (
        "p.toml",
        "host = \"http://x\"\n",
        "p.toml: scenarios:",
        "at least one scenario",
    ),
    (
        "p.toml",
        "[data]\nfile = \"x.csv\"\non_end = \"wrapp\"\n",
        "p.toml:3:10: data.on_end:",
        "did you mean \"wrap\"?",
    ),
    (
        "p.toml",
        "[data]\nfile = \"does-not-exist.csv\"\n[[scenarios]]\n",
        "p.toml:2:8: data.file:",
        "cannot read data file",
    ),
    ("p.toml", "x = \n", "p.toml:1:5:", "quoted"),
    ("p.yaml", "scenarios: [\n", "p.yaml:", "scenarios"),
];

#[test]
fn errors_name_file_line_and_key() {
    let mut wrong = Vec::new();
    for (file, text, prefix, part) in ERRORS {
        let e = err(file, text);
        if !e.starts_with(prefix) || !e.contains(part) {
            wrong.push(format!("expected {prefix:?} ... {part:?}\n     got {e}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn unknown_key_without_close_match_lists_the_keys() {
    let e = err("p.toml", "[[scenarios]]\nzzzzzzzz = 1\n");
    assert!(
        e.contains("unknown key \"zzzzzzzz\" (expected one of: name, weight, count"),
        "{e}"
    );
}

#[test]
fn unknown_format_is_an_error() {
    let e = err("plan.json", "{}");
    assert!(
        e.contains("plan.json") && e.contains(".toml, .yaml or .yml"),
        "{e}"
    );
}

#[test]
fn load_reports_io_errors() {
    let e = surge::plan::load(Path::new("/nonexistent/plan.toml")).unwrap_err();
    assert!(matches!(e, PlanError::Io { .. }));
}

fn render(t: &Template, vars: &Vars, row: Option<&DataRow>) -> Result<String, String> {
    t.render(&RenderCtx {
        user_id: 7,
        vars,
        row,
    })
    .map_err(|e| e.0)
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
    let out = j
        .render(&RenderCtx {
            user_id: 3,
            vars: &vars,
            row: None,
        })
        .unwrap();
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
        .render(&RenderCtx {
            user_id: 3,
            vars: &Vars::new(),
            row: None,
        })
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

#[test]
fn every_example_plan_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("plans");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if matches!(ext, "csv" | "md") {
            continue;
        }
        if let Err(e) = surge::plan::load(&path) {
            panic!("{e}");
        }
        count += 1;
    }
    assert!(count >= 5, "only {count} example plans found");
    let locust = surge::plan::load(&dir.join("locust-equivalent.toml")).unwrap();
    let weights: Vec<u32> = locust.scenarios[0].tasks.iter().map(|t| t.weight).collect();
    assert_eq!(weights, [3, 2, 1]);
}
