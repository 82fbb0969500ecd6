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
