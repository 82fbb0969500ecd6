//! Plan parsing: TOML and YAML give the same model, errors are located, templates and data
//! files behave as documented, and every example in `plans/` parses.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use surge::plan::{parse, Body, CaptureSource, LoadProfile, Plan, Step, WaitTime};

/// Templates, data files and JSON paths: what the engine calls while running.
mod runtime;

/// The template reference in plans/README.md, rendered example by example.
mod reference;

/// Surge's variables, check messages, `$for` lists and the plan's warnings.
mod templating;

/// Every kind of mistake gives `FILE:LINE:COL: KEY: message`.
mod errors;

fn ok(name: &str, text: &str) -> Plan {
    match parse(text, Path::new(name)) {
        Ok(p) => p,
        Err(e) => panic!("{name} should parse: {e}"),
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
fn plans_can_be_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Plan>();
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

#[test]
fn every_example_plan_parses_without_warnings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("plans");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if matches!(ext, "csv" | "md") {
            continue;
        }
        match surge::plan::load(&path) {
            Ok(p) => assert!(p.warnings.is_empty(), "{:?}", p.warnings),
            Err(e) => panic!("{e}"),
        }
        count += 1;
    }
    assert!(count >= 5, "only {count} example plans found");
    let locust = surge::plan::load(&dir.join("locust-equivalent.toml")).unwrap();
    let weights: Vec<u32> = locust.scenarios[0].tasks.iter().map(|t| t.weight).collect();
    assert_eq!(weights, [3, 2, 1]);
}
