//! Logging in to the dashboard, in process: HTTP basic authentication (`--web-auth`), the
//! token (`--web-token`) as a bearer header or through the login page and its session
//! cookie, each refusal with its exact answer; and, through the binary, the dashboard over
//! TLS (`--tls-cert`, `--tls-key`).

use crate::support::web::{app_with, assert_answer, get, req};
use crate::support::*;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::json;
use surge::web::auth::Auth;
use surge::web::security::Security;
use surge::web::{self, Defaults};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_authentication() {
    let security = Security {
        auth: Auth::basic("admin:s3cret").unwrap(),
        ..Security::default()
    };
    let (_, app) = app_with(security, Defaults::empty());
    let expected = json!({"error": "authentication required: this dashboard uses HTTP basic authentication (--web-auth)"});
    for creds in [None, Some("Basic YWRtaW46d3Jvbmc="), Some("Bearer s3cret")] {
        let headers: Vec<(&str, &str)> = creds.map(|c| ("authorization", c)).into_iter().collect();
        let a = req(&app, "GET", "/stats/requests", &headers, "").await;
        assert_answer(&a, StatusCode::UNAUTHORIZED, expected.clone());
        assert_eq!(
            a.header(header::WWW_AUTHENTICATE),
            "Basic realm=\"Surge\", charset=\"UTF-8\""
        );
    }
    // admin:s3cret
    let ok = [("authorization", "Basic YWRtaW46czNjcmV0")];
    for uri in ["/", "/stats/requests", "/events"] {
        let a = if uri == "/events" {
            // The stream never ends: only its status is read.
            let r = Request::get(uri)
                .header("authorization", ok[0].1)
                .body(Body::empty())
                .unwrap();
            use tower::ServiceExt;
            let res = app.clone().oneshot(r).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            continue;
        } else {
            req(&app, "GET", uri, &ok, "").await
        };
        assert_eq!(a.status, StatusCode::OK, "{uri}");
    }
    // A login page exists only with --web-token.
    let a = get(&app, "/login").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_authentication_and_the_login_page() {
    let token = "0123456789abcdef0123";
    let security = Security {
        auth: Auth::token(token).unwrap(),
        ..Security::default()
    };
    let (_, app) = app_with(security, Defaults::empty());
    // A script without the token.
    let a = get(&app, "/stats/requests").await;
    assert_answer(
        &a,
        StatusCode::UNAUTHORIZED,
        json!({"error": "authentication required: send Authorization: Bearer <token> (--web-token), or log in at /login"}),
    );
    assert_eq!(a.header(header::WWW_AUTHENTICATE), "Bearer realm=\"Surge\"");
    let bearer = format!("Bearer {token}");
    let a = req(
        &app,
        "GET",
        "/stats/requests",
        &[("authorization", &bearer)],
        "",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let a = req(
        &app,
        "POST",
        "/stop",
        &[("authorization", "Bearer wrong-wrong-wrong")],
        "",
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    // A browser asking for the page goes to the login form, which works without a login
    // (with its stylesheet) and has no inline code.
    let a = req(
        &app,
        "GET",
        "/",
        &[("accept", "text/html,application/xhtml+xml")],
        "",
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.header(header::LOCATION), "/login");
    let a = get(&app, "/login").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a
        .body
        .contains("<form class=\"card form\" method=\"post\" action=\"/login\">"));
    assert!(!a.body.contains("<script"));
    let css = format!("/static/{}/style.css", web::assets::version());
    assert!(a.body.contains(&css));
    assert_eq!(get(&app, &css).await.status, StatusCode::OK);
    // A wrong token: the form again, 401.
    let form = ("content-type", "application/x-www-form-urlencoded");
    let a = req(&app, "POST", "/login", &[form], "token=nope").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.body.contains("Wrong token."));
    assert!(!a.headers.contains_key(header::SET_COOKIE));
    // The right one: a session cookie, and the dashboard opens with it.
    let a = req(&app, "POST", "/login", &[form], &format!("token={token}")).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.header(header::LOCATION), "/");
    let cookie = a.header(header::SET_COOKIE).to_string();
    assert!(
        cookie.ends_with("; Path=/; HttpOnly; SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains(token), "the cookie is not the token");
    let session = cookie.split(';').next().unwrap();
    let a = req(&app, "GET", "/", &[("cookie", session)], "").await;
    assert_eq!(a.status, StatusCode::OK);
    let a = req(
        &app,
        "GET",
        "/stats/requests",
        &[("cookie", "surge_session=forged")],
        "",
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    // Logging in from another site is refused like any state change.
    let a = req(
        &app,
        "POST",
        "/login",
        &[
            form,
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:8089"),
        ],
        &format!("token={token}"),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

/// `--tls-cert`/`--tls-key`: the binary serves the dashboard over HTTPS (with the same
/// guard and headers), and a plain HTTP request to that port gets no answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_over_tls() {
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, key.cert.pem()).unwrap();
    std::fs::write(&key_path, key.signing_key.serialize_pem()).unwrap();
    let mut surge = crate::support::binary::Surge::spawn(&[
        "-H",
        "http://127.0.0.1:9/",
        "--web-port",
        "0",
        "--tls-cert",
        cert_path.to_str().unwrap(),
        "--tls-key",
        key_path.to_str().unwrap(),
    ]);
    let url = surge.line_starting("Surge dashboard: ");
    let addr = url
        .strip_prefix("https://")
        .unwrap_or_else(|| panic!("{url}"))
        .to_string();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(key.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    within(20, async {
        let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        let request =
            format!("GET /stats/requests HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        tls.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = tls.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("frame-ancestors 'none'"), "{answer}");
        assert!(answer.contains("\"state\":\"ready\""), "{answer}");
        // Plain HTTP on the TLS port: no HTTP answer.
        let mut plain = tokio::net::TcpStream::connect(&addr).await.unwrap();
        plain
            .write_all(format!("GET / HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut back = Vec::new();
        let _ = plain.read_to_end(&mut back).await;
        assert!(!String::from_utf8_lossy(&back).contains("HTTP/1"));
    })
    .await;
    surge.signal("TERM");
    assert_eq!(surge.wait(20).code, Some(0));
}

/// Wrong credentials in a row from one client wait twice as long each time (100 ms, 200 ms,
/// ...), a right one clears the streak, and only the first of a streak is logged; a first
/// request without credentials (how a browser learns to log in) costs nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_slowed_down_and_logged_once() {
    let token = "0123456789abcdef0123";
    let security = Security {
        auth: Auth::token(token).unwrap(),
        ..Security::default()
    };
    let (state, app) = app_with(security, Defaults::empty());
    let timed = |headers: Vec<(&'static str, String)>| {
        let app = app.clone();
        async move {
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let t = std::time::Instant::now();
            let a = req(&app, "GET", "/stats/requests", &h, "").await;
            (a.status, t.elapsed())
        }
    };
    let wrong = || vec![("authorization", "Bearer wrong-token-000000".to_string())];
    let (status, took) = timed(vec![]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(took < std::time::Duration::from_millis(100), "{took:?}");
    let mut delays = Vec::new();
    for _ in 0..4 {
        let (status, took) = timed(wrong()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        delays.push(took);
    }
    for (took, at_least) in delays.iter().zip([100, 200, 400, 800]) {
        assert!(
            *took >= std::time::Duration::from_millis(at_least),
            "{delays:?}"
        );
    }
    // The right token clears the streak: the next wrong one is back to 100 ms.
    let (status, _) = timed(vec![("authorization", format!("Bearer {token}"))]).await;
    assert_eq!(status, StatusCode::OK);
    let (_, took) = timed(wrong()).await;
    assert!(took < std::time::Duration::from_millis(400), "{took:?}");
    // The login form counts too.
    let a = req(
        &app,
        "POST",
        "/login",
        &[("content-type", "application/x-www-form-urlencoded")],
        "token=nope",
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let lines: Vec<String> = state
        .logs
        .lines()
        .into_iter()
        .map(|l| l.message)
        .filter(|m| m.starts_with("Wrong credentials from"))
        .collect();
    assert_eq!(
        lines,
        ["Wrong credentials from an unknown address: its next attempts are answered slower \
             and slower (up to 5 s) until one is right"; 2],
        "one line per streak"
    );
}
