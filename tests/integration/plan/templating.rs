//! What templates can read and build: Surge's own `surge.*` variables (and the deprecated
//! `user_id`), check failure messages that see the response, lists built with `$for`, and
//! the warnings a plan gets for text that is valid but probably not meant.

use std::path::Path;

use surge::plan::template::{RenderCtx, ResponseVars, Template, Vars};
use surge::plan::{parse, Body, Plan};

fn plan(text: &str) -> Plan {
    parse(text, Path::new("p.toml")).unwrap_or_else(|e| panic!("should parse: {e}"))
}

fn error(text: &str) -> String {
    match parse(text, Path::new("p.toml")) {
        Ok(_) => panic!("should not parse:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const HEAD: &str = "[[scenarios]]\nname = \"s\"\n[[scenarios.tasks]]\n";

#[test]
fn surge_variables_and_the_deprecated_user_id() {
    let vars = Vars::new();
    let t = Template::compile("{{ surge.user }}/{{ user_id }}").unwrap();
    assert_eq!(t.render(&RenderCtx::new(7, &vars, None)).unwrap(), "7/7");

    // Reading user_id still works, with one warning that names the new name and the place.
    let p = plan(&format!(
        "{HEAD}path = \"/u/{{{{ user_id }}}}\"\nheaders = {{ x = \"{{{{ user_id }}}}\" }}\n"
    ));
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert!(
        p.warnings[0].starts_with("p.toml:4:8: scenarios[0].tasks[0].path: \"/u/{{ user_id }}\" reads \"user_id\", Surge's user number under its old name: write \"surge.user\""),
        "{}",
        p.warnings[0]
    );
    assert!(plan(&format!("{HEAD}path = \"/u/{{{{ surge.user }}}}\"\n"))
        .warnings
        .is_empty());

    // A capture named user_id (the API's field) takes the name over, without a warning.
    let p = plan(
        "[[scenarios]]\nname = \"s\"\n\
         on_start = [{ method = \"POST\", path = \"/login\", capture = { user_id = { json = \"id\" } } }]\n\
         [[scenarios.tasks]]\npath = \"/users/{{ user_id }}/cart\"\n",
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let mut vars = Vars::new();
    vars.insert("user_id".into(), serde_json::json!(4242));
    let t = &p.scenarios[0].tasks[0].steps[0].url;
    assert_eq!(
        t.render(&RenderCtx::new(7, &vars, None)).unwrap(),
        "/users/4242/cart"
    );

    // surge.* is Surge's: no capture takes it, and an unknown field is an error.
    let e = error(&format!(
        "{HEAD}path = \"/x\"\ncapture = {{ surge = {{ json = \"id\" }} }}\n"
    ));
    assert!(e.contains("\"surge\" cannot be a variable name"), "{e}");
    let e = error(&format!("{HEAD}path = \"/x/{{{{ surge.usr }}}}\"\n"));
    assert!(
        e.ends_with("\"/x/{{ surge.usr }}\" reads \"surge.usr\", which Surge does not define (expected surge.user)"),
        "{e}"
    );
}

#[test]
fn single_braces_around_templates_get_a_warning_with_the_place() {
    let p = plan(&format!(
        "{HEAD}path = \"/stock/{{ random_int(1, 10) }}\"\n\
         headers = {{ x-user = \"{{surge.user}}\" }}\n\
         body = '{{\"a\": 1}}'\n"
    ));
    assert_eq!(
        p.warnings,
        vec![
            "p.toml:4:8: scenarios[0].tasks[0].path: \"/stock/{ random_int(1, 10) }\" has { random_int(1, 10) } in single braces, which is sent as written: did you mean {{ random_int(1, 10) }}?".to_string(),
            "p.toml:5:22: scenarios[0].tasks[0].headers.x-user: \"{surge.user}\" has { surge.user } in single braces, which is sent as written: did you mean {{ surge.user }}?".to_string(),
        ]
    );
}

#[test]
fn check_messages_see_the_response_and_are_checked_at_load() {
    let p = plan(&format!(
        "{HEAD}method = \"POST\"\npath = \"/orders\"\n\
         check = {{ status = 201, message = \"HTTP {{{{ status }}}}: {{{{ json.detail | default(text) }}}} (user {{{{ surge.user }}}}, {{{{ headers['x-request-id'] }}}})\" }}\n"
    ));
    let message = p.scenarios[0].tasks[0].steps[0]
        .checks
        .message
        .clone()
        .expect("message kept");
    let vars = Vars::new();
    let mut response = ResponseVars {
        status: 500,
        reason: "500 Internal Server Error: database error".into(),
        json: serde_json::json!({"error": "database error", "detail": "too many clients"}),
        text: String::new(),
        headers: [("x-request-id".to_string(), "r-1".to_string())].into(),
    };
    let render = |response: &ResponseVars| {
        message.render(&RenderCtx {
            response: Some(response),
            ..RenderCtx::new(3, &vars, None)
        })
    };
    assert_eq!(
        render(&response).unwrap(),
        "HTTP 500: too many clients (user 3, r-1)"
    );
    // A body that is not JSON: json is none, and the default filter falls back to the text.
    response.json = serde_json::Value::Null;
    response.text = "upstream timed out".into();
    assert_eq!(
        render(&response).unwrap(),
        "HTTP 500: upstream timed out (user 3, r-1)"
    );

    // Outside a check message the response's names are not defined.
    let e = error(&format!("{HEAD}path = \"/x/{{{{ status }}}}\"\n"));
    assert!(
        e.contains("\"/x/{{ status }}\" reads \"status\", which nothing in the plan defines"),
        "{e}"
    );
    let e = error(&format!(
        "{HEAD}path = \"/x\"\ncheck = {{ message = \"{{{{ stauts }}}}\" }}\n"
    ));
    assert!(
        e.starts_with("p.toml:5:21: scenarios[0].tasks[0].check.message: \"{{ stauts }}\" reads \"stauts\", which nothing in the plan defines — did you mean \"status\"?"),
        "{e}"
    );
}

#[test]
fn for_each_lists_are_checked_at_load() {
    let p = plan(&format!(
        "{HEAD}method = \"POST\"\npath = \"/orders\"\n\
         json = {{ user_id = \"{{{{ random_int(1, 100) }}}}\", items = {{ \"$for\" = \"id in random_sample(range(1, 51), random_int(1, 5))\", \"$each\" = {{ product_id = \"{{{{ id }}}}\", quantity = \"{{{{ random_int(1, 3) }}}}\" }} }} }}\n"
    ));
    let Some(Body::Json(body)) = &p.scenarios[0].tasks[0].steps[0].body else {
        panic!("a JSON body");
    };
    let vars = Vars::new();
    let value = body.render(&RenderCtx::new(0, &vars, None)).unwrap();
    let items = value["items"].as_array().unwrap();
    assert!((1..=5).contains(&items.len()), "{value}");
    assert!(value["user_id"].is_i64(), "{value}");
    // The loop variable is defined only inside its $each.
    let e = error(&format!(
        "{HEAD}path = \"/x\"\njson = {{ a = {{ \"$for\" = \"id in [1]\", \"$each\" = \"{{{{ id }}}}\" }}, b = \"{{{{ id }}}}\" }}\n"
    ));
    assert!(
        e.contains("\"{{ id }}\" reads \"id\", which nothing in the plan defines"),
        "{e}"
    );
    let e = error(&format!(
        "{HEAD}path = \"/x\"\njson = {{ a = {{ \"$for\" = \"id in [1]\" }} }}\n"
    ));
    assert!(
        e.starts_with("p.toml:5:8: scenarios[0].tasks[0].json: an object with \"$for\" or \"$each\" needs exactly those two keys"),
        "{e}"
    );
}
