//! Plan errors: each case names the file, the line and column, the key path and what was
//! expected, in TOML and YAML.

use std::path::Path;

use surge::plan::{parse, PlanError};

fn err(name: &str, text: &str) -> String {
    match parse(text, Path::new(name)) {
        Ok(_) => panic!("{name} should not parse:\n{text}"),
        Err(PlanError::Invalid(m)) => m,
        Err(e) => panic!("unexpected error kind: {e}"),
    }
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
        "cannot be load-tested (expected http:// or https://)",
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
        "scenarios[0].tasks[0].capture.t.regex: invalid regex: unclosed group",
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
        "p.toml:1:1: scenarios:",
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
    (
        "p.toml",
        "a = 1\na = 2\n",
        "p.toml:2:1:",
        "duplicate key \"a\" (each key may appear once per table)",
    ),
    (
        "p.yaml",
        "scenarios:\n  - tasks:\n      - path: /\n        path: /x\n",
        "p.yaml:3:9: scenarios[0].tasks[0].path:",
        "duplicate key \"path\"",
    ),
    (
        "p.yaml",
        "scenarios:\n\t- tasks: []\n",
        "p.yaml:2:1: scenarios:",
        "found character that cannot start any token, while scanning for the next token (a tab: YAML indents with spaces only)",
    ),
    (
        "p.yaml",
        "scenarios: [\n",
        "p.yaml:2:1: scenarios:",
        "did not find expected node content, while parsing a flow node",
    ),
    (
        "p.toml",
        "[[scenarios]]\n[[scenarios.tasks]]\npath = \"/\"\nheaders = { x = \"a\\nb\" }\n",
        "p.toml:4:17: scenarios[0].tasks[0].headers.x:",
        "is not a valid header value",
    ),
    // Template names are checked against what the plan defines.
    (
        "p.toml",
        "[[scenarios]]\n[[scenarios.tasks]]\npath = \"/{{ tokn }}\"\ncapture = { token = { json = \"t\" } }\n",
        "p.toml:3:8: scenarios[0].tasks[0].path:",
        "\"/{{ tokn }}\" reads \"tokn\", which nothing in the plan defines — did you mean \"token\"?",
    ),
    (
        "p.yaml",
        "scenarios:\n  - tasks:\n      - path: /\n        headers:\n          x: \"{{ random_itn(1, 2) }}\"\n",
        "p.yaml:5:14: scenarios[0].tasks[0].headers.x:",
        "did you mean \"random_int\"?",
    ),
    (
        "p.toml",
        "[[scenarios]]\n[[scenarios.tasks]]\npath = \"/\"\njson = { qty = \"{{ zzzzzz }}\" }\n",
        "p.toml:4:8: scenarios[0].tasks[0].json:",
        "reads \"zzzzzz\", which nothing in the plan defines (expected surge.user, a captured variable (none) or a function (random_int,",
    ),
    (
        "p.toml",
        "[[scenarios]]\n[[scenarios.tasks]]\npath = \"/{{ row.name }}\"\n",
        "p.toml:3:8: scenarios[0].tasks[0].path:",
        "reads \"row.name\", but the plan has no [data] file",
    ),
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

#[test]
fn data_columns_are_checked_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("users.csv"), "username,password\nann,x\n").unwrap();
    let plan = "[data]\nfile = \"users.csv\"\n[[scenarios]]\n[[scenarios.tasks]]\n\
                path = \"/login/{{ row.usernme }}\"\n";
    let e = match parse(plan, &dir.path().join("p.toml")) {
        Err(PlanError::Invalid(m)) => m,
        other => panic!("expected an error, got {other:?}"),
    };
    assert!(
        e.ends_with(
            "p.toml:5:8: scenarios[0].tasks[0].path: \"/login/{{ row.usernme }}\": \
             the data file has no column \"usernme\" — did you mean \"row.username\"?"
        ),
        "{e}"
    );
}

#[test]
fn names_the_plan_defines_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("users.csv"), "username\nann\n").unwrap();
    // Captured in on_start, used in a task; loop and set variables; built-in and plan
    // functions; data columns; a captured object's field.
    let plan = r#"
[data]
file = "users.csv"
[[scenarios]]
on_start = [{ method = "POST", path = "/login", capture = { token = { json = "token" } } }]
[[scenarios.tasks]]
path = "/{% for i in range(3) %}{{ i }}{{ loop.index }}{% endfor %}{% set x = 1 %}{{ x }}"
headers = { auth = "{{ token }}", u = "{{ row.username }}-{{ user_id }}-{{ token.id }}" }
json = { n = "{{ random_int(1, 5) }}", s = "{{ seq() }}-{{ uuid() }}", d = "{{ dict(a=1).a }}" }
"#;
    if let Err(e) = parse(plan, &dir.path().join("p.toml")) {
        panic!("{e}");
    }
}
