//! The dashboard's security checks, in process (`oneshot` on `web::app`), each with its
//! exact answer: Host allow-list (DNS rebinding), cross-site refusal of state-changing
//! requests, POST-only control routes, body limit, security headers on every answer (and
//! the report's hash-based policy matching its inline code), `--allow-target`, and absurd
//! `/swarm` values. Logins and TLS: `web_login.rs`.

use crate::support::web::{app_with, assert_answer, get, local, req, swarm};
use crate::support::*;
use axum::http::{header, StatusCode};
use serde_json::json;
use surge::stats::RunState;
use surge::targets::AllowTargets;
use surge::web::auth::Auth;
use surge::web::security::{HostPolicy, Security, CSP};
use surge::web::{self, Defaults};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_the_dashboard_does_not_serve_is_refused() {
    let (_, app) = local();
    let a = req(
        &app,
        "GET",
        "/stats/requests",
        &[("host", "evil.example:8089")],
        "",
    )
    .await;
    assert_answer(
        &a,
        StatusCode::FORBIDDEN,
        json!({"error": "Host \"evil.example:8089\" is not a name this dashboard serves \
            (protection against DNS rebinding): open it by IP address or as localhost, or \
            allow the name with --web-allowed-hosts"}),
    );
    for ok in ["127.0.0.1:8089", "localhost:8089", "[::1]:8089"] {
        let a = req(&app, "GET", "/stats/requests", &[("host", ok)], "").await;
        assert_eq!(a.status, StatusCode::OK, "{ok}");
    }
    // An address on the network is served only when bound to it (or to every interface).
    let a = req(&app, "GET", "/", &[("host", "10.0.0.7:8089")], "").await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let security = Security {
        hosts: HostPolicy::new("0.0.0.0", &["surge.test".into()]).unwrap(),
        auth: Auth::basic("u:p").unwrap(),
        ..Security::default()
    };
    let (_, app) = app_with(security, Defaults::empty());
    let basic = "Basic dTpw"; // u:p
    for ok in ["10.0.0.7:8089", "surge.test:8089", "SURGE.test"] {
        let a = req(
            &app,
            "GET",
            "/stats/requests",
            &[("host", ok), ("authorization", basic)],
            "",
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{ok}");
    }
    let a = req(&app, "GET", "/", &[("host", "rebind.evil.example")], "").await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_state_changes_are_refused_and_scripts_without_origin_pass() {
    let target = Target::start();
    let defaults = Defaults {
        host: Some(format!("{}/ok", target.url())),
        ..Defaults::empty()
    };
    let (state, app) = app_with(Security::default(), defaults);
    let host = ("host", "127.0.0.1:8089");
    let form = ("content-type", "application/x-www-form-urlencoded");
    let a = req(
        &app,
        "POST",
        "/swarm",
        &[host, form, ("origin", "http://evil.example")],
        "user_count=1",
    )
    .await;
    assert_answer(
        &a,
        StatusCode::FORBIDDEN,
        json!({"error": "cross-origin request refused: Origin \"http://evil.example\" is not \
            this dashboard (state-changing requests must come from the dashboard's own page, \
            or from a script that sends no Origin)"}),
    );
    let a = req(
        &app,
        "POST",
        "/swarm",
        &[host, form, ("sec-fetch-site", "cross-site")],
        "user_count=1",
    )
    .await;
    assert_answer(
        &a,
        StatusCode::FORBIDDEN,
        json!({"error": "cross-site request refused (Sec-Fetch-Site: cross-site): \
            state-changing requests must come from the dashboard's own page"}),
    );
    // Another port of the same machine is another origin.
    let a = req(
        &app,
        "POST",
        "/stop",
        &[host, ("origin", "http://127.0.0.1:3000")],
        "",
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = req(
        &app,
        "POST",
        "/stats/reset",
        &[host, ("origin", "null")],
        "",
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(state.engine.state(), RunState::Ready, "nothing was started");
    // The page's own requests and scripts without Origin work.
    let a = req(
        &app,
        "POST",
        "/swarm",
        &[
            host,
            form,
            ("origin", "http://127.0.0.1:8089"),
            ("sec-fetch-site", "same-origin"),
        ],
        "user_count=1&spawn_rate=10",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let a = req(&app, "POST", "/stop", &[host], "").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.json()["message"], "Test stopped");
    // A form post of the page itself: the browser says same-origin, the Origin is "null"
    // (Referrer-Policy: no-referrer).
    let own = [host, ("origin", "null"), ("sec-fetch-site", "same-origin")];
    let a = req(&app, "POST", "/stats/reset", &own, "").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let a = req(
        &app,
        "POST",
        "/stop",
        &[host, ("sec-fetch-site", "same-site")],
        "",
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    // Refusals are logged for the Logs tab.
    let logs = get(&app, "/logs").await.json();
    assert!(logs.to_string().contains("Refused POST /swarm"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_and_reset_are_post_only() {
    let (_, app) = local();
    for uri in ["/stop", "/stats/reset", "/swarm"] {
        let a = get(&app, uri).await;
        assert_answer(
            &a,
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": format!("GET is not allowed on {uri}")}),
        );
        assert_eq!(a.header(header::ALLOW), "POST");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_are_limited() {
    let (_, app) = local();
    let big = format!("user_count=1&host={}", "a".repeat(100_000));
    let expected = json!({"error": "request body too large: at most 65536 bytes"});
    // Declared length: refused before the body is read.
    let len = big.len().to_string();
    let a = req(&app, "POST", "/swarm", &[("content-length", &len)], &big).await;
    assert_answer(&a, StatusCode::PAYLOAD_TOO_LARGE, expected.clone());
    // No declared length (a streamed body): refused while reading the form.
    let a = swarm(&app, &big).await;
    assert_answer(&a, StatusCode::PAYLOAD_TOO_LARGE, expected);
    // Under the limit: an ordinary answer.
    let a = swarm(&app, "user_count=abc").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    // The login form too.
    let security = Security {
        auth: Auth::token("0123456789abcdef").unwrap(),
        ..Security::default()
    };
    let (_, app) = app_with(security, Defaults::empty());
    let big_token = format!("token={}", "a".repeat(100_000));
    let a = crate::support::web::call(&app, "POST", "/login", Some(&big_token)).await;
    assert_answer(
        &a,
        StatusCode::PAYLOAD_TOO_LARGE,
        json!({"error": "request body too large: at most 65536 bytes"}),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers_and_no_cors() {
    let (_, app) = local();
    let v = web::assets::version();
    let uris = [
        "/",
        "/stats/requests",
        "/nope",
        "/logs",
        "/stats/requests/csv",
    ];
    let asset = format!("/static/{v}/app.js");
    for uri in uris.iter().copied().chain([asset.as_str()]) {
        let a = req(&app, "GET", uri, &[("origin", "http://evil.example")], "").await;
        assert_eq!(a.header(header::CONTENT_SECURITY_POLICY), CSP, "{uri}");
        assert_eq!(a.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{uri}");
        assert_eq!(a.header(header::REFERRER_POLICY), "no-referrer", "{uri}");
        assert_eq!(a.header(header::X_FRAME_OPTIONS), "DENY", "{uri}");
        assert!(
            !a.headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN),
            "{uri}"
        );
    }
    // Refusals too.
    let a = req(&app, "GET", "/", &[("host", "evil.example")], "").await;
    assert_eq!(a.header(header::CONTENT_SECURITY_POLICY), CSP);
    assert!(CSP.contains("frame-ancestors 'none'"));
    assert!(CSP.contains("script-src 'self';"));
    assert!(!CSP.contains("unsafe-inline"));
    // The dashboard page has no inline code the policy would block: every script is either
    // loaded from /static or a JSON data block, and no element has an inline handler or style.
    let page = get(&app, "/").await.body;
    for tag in page.split("<script").skip(1) {
        let open = &tag[..tag.find('>').unwrap()];
        assert!(
            open.contains(" src=\"/static/") || open.contains("type=\"application/json\""),
            "inline script: <script{open}>"
        );
    }
    let inline_attr = regex::Regex::new(r#"\s(on[a-z]+|style)\s*="#).unwrap();
    assert!(
        !inline_attr.is_match(&page),
        "inline handler or style in the page"
    );
}

/// `'sha256-…'` of `text`, computed here independently of the server.
fn csp_hash(text: &str) -> String {
    use base64::Engine as _;
    let d = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(d.as_ref())
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_allows_exactly_its_own_inline_code() {
    let (_, app) = local();
    for uri in ["/stats/report", "/stats/report?download=1"] {
        let a = get(&app, uri).await;
        assert_eq!(a.status, StatusCode::OK);
        let policy = a.header(header::CONTENT_SECURITY_POLICY).to_string();
        assert!(policy.ends_with("; frame-ancestors 'none'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        let body = &a.body;
        // The same policy travels inside the file, for when it is opened from disk.
        let meta = policy.trim_end_matches("; frame-ancestors 'none'");
        assert!(
            body.contains(&format!(
                "<meta http-equiv=\"Content-Security-Policy\" content=\"{meta}\">"
            )),
            "no meta policy in the report: {}",
            &body[..body.find("</head>").unwrap()]
        );
        let mut inline = 0;
        let mut rest = body.as_str();
        while let Some(open) = rest.find("<script>") {
            let code = &rest[open + 8..];
            let end = code.find("</script>").unwrap();
            assert!(
                policy.contains(&csp_hash(&code[..end])),
                "a script the policy would block"
            );
            inline += 1;
            rest = &code[end..];
        }
        assert_eq!(inline, 3, "charts.js, compare.js and report.js");
        let style = &body[body.find("<style>").unwrap() + 7..body.find("</style>").unwrap()];
        assert!(policy.contains(&format!("style-src {}", csp_hash(style))));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_target_refuses_other_hosts_with_a_403_that_says_why() {
    let target = Target::start();
    let security = Security {
        targets: AllowTargets::parse(&[target.addr.to_string(), "*.staging.test".into()]).unwrap(),
        ..Security::default()
    };
    let (state, app) = app_with(security, Defaults::empty());
    let a = swarm(&app, "user_count=1&spawn_rate=1&host=http://10.1.2.3/").await;
    assert_answer(
        &a,
        StatusCode::FORBIDDEN,
        json!({
            "error": format!("\"http://10.1.2.3/\" is not an allowed target: this dashboard \
                may only load-test {}, *.staging.test (--allow-target)", target.addr),
            "field": "host",
        }),
    );
    assert_eq!(state.engine.state(), RunState::Ready);
    let a = swarm(
        &app,
        &format!("user_count=1&spawn_rate=10&host={}/ok", target.url()),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    within(20, async {
        while target.seen.hits("/ok") == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    state.engine.stop().await.unwrap();
}

/// The scraper requests the metrics URLs too: `--allow-target` holds for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_target_covers_the_metrics_urls() {
    let target = Target::start();
    let security = Security {
        targets: AllowTargets::parse(&[target.addr.to_string()]).unwrap(),
        ..Security::default()
    };
    let mut defaults = Defaults::empty();
    defaults.metrics =
        vec![surge::scrape::Source::new("http://10.9.9.9/metrics", None, None, vec![]).unwrap()];
    let (state, app) = app_with(security, defaults);
    let a = swarm(
        &app,
        &format!("user_count=1&spawn_rate=1&host={}/ok", target.url()),
    )
    .await;
    assert_answer(
        &a,
        StatusCode::FORBIDDEN,
        json!({
            "error": format!("metrics 10.9.9.9:80: \"http://10.9.9.9/metrics\" is not an allowed \
                target: this dashboard may only load-test {} (--allow-target)", target.addr),
            "field": "host",
        }),
    );
    assert_eq!(state.engine.state(), RunState::Ready);
}

/// A target cannot bounce the load to a host outside `--allow-target`: the redirect is not
/// followed, and each attempt is a failure that says why. Redirects within the allowed hosts
/// are followed as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_target_refuses_redirects_to_other_hosts() {
    let allowed = Target::start();
    let elsewhere = Target::start();
    let security = Security {
        targets: AllowTargets::parse(&[allowed.addr.to_string()]).unwrap(),
        ..Security::default()
    };
    let (state, app) = app_with(security, Defaults::empty());
    let away = format!("{}/ok", elsewhere.url());
    let host = format!("{}/redirect?to={away}", allowed.url());
    let form = format!("user_count=2&spawn_rate=10&host={}", urlencode(&host));
    let a = swarm(&app, &form).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    within(20, async {
        while allowed.seen.hits("/redirect") < 20 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    let snap = state.engine.stop().await.unwrap();
    assert_eq!(
        elsewhere.seen.total(),
        0,
        "the load reached a host not allowed"
    );
    assert_eq!(snap.total.num_requests, allowed.seen.hits("/redirect"));
    assert_eq!(snap.total.num_failures, snap.total.num_requests);
    let messages: Vec<&str> = snap.failures.iter().map(|f| f.message.as_str()).collect();
    let expected = format!(
        "redirect refused: \"{away}\" is not an allowed target: this dashboard may only \
         load-test {} (--allow-target)",
        allowed.addr
    );
    assert_eq!(messages, [expected.as_str()]);

    // A redirect to the allowed host itself is followed.
    let host = format!("{}/redirect?to=/ok", allowed.url());
    let form = format!("user_count=1&spawn_rate=10&host={}", urlencode(&host));
    assert_eq!(swarm(&app, &form).await.status, StatusCode::OK);
    within(20, async {
        while allowed.seen.hits("/ok") < 5 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    let snap = state.engine.stop().await.unwrap();
    assert_eq!(snap.total.num_failures, 0);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_swarm_values_are_refused_naming_the_field() {
    let (state, app) = app_with(
        Security::default(),
        Defaults {
            host: Some("http://127.0.0.1:1".into()),
            ..Defaults::empty()
        },
    );
    let cases = [
        (
            "user_count=-5",
            "user_count",
            "\"-5\" is not a whole number",
        ),
        (
            "rate=1e12",
            "rate",
            "must be above 0 and at most 10000000, got 1e12",
        ),
        (
            "spawn_rate=-1",
            "spawn_rate",
            "must be above 0 and at most 10000, got -1",
        ),
        (
            "run_time=abc",
            "run_time",
            "invalid duration \"abc\": expected a number (examples: 20, 20s, 250ms, 3m, 1h20m)",
        ),
        (
            "host=javascript:alert(1)",
            "host",
            "\"javascript:alert(1)\": scheme \"javascript\" cannot be load-tested (expected http:// or https://)",
        ),
        (
            "host=file:///etc/passwd",
            "host",
            "\"file:///etc/passwd\": scheme \"file\" cannot be load-tested (expected http:// or https://)",
        ),
        (
            "host=127.0.0.1:5000",
            "host",
            "\"127.0.0.1:5000\" has no scheme: did you mean http://127.0.0.1:5000?",
        ),
    ];
    for (form, field, error) in cases {
        let a = swarm(&app, form).await;
        assert_answer(
            &a,
            StatusCode::BAD_REQUEST,
            json!({"error": error, "field": field}),
        );
    }
    assert_eq!(state.engine.state(), RunState::Ready);
}
