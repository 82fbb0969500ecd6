//! The dashboard in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `.ci/run`) driven over WebDriver. It loads the page, fills
//! the start form, starts a test against an in-process target, sees the statistics rows and
//! the charts change, edits the user count, stops, resets, downloads the requests CSV, then
//! logs in to a token-protected dashboard and runs a test there, and saves screenshots
//! under `target/screenshots/`.
//!
//! Without Chromium the test fails (it is part of CI); set `SURGE_SKIP_BROWSER=1` to skip it
//! on a machine that cannot have a browser.

use crate::support::browser::*;
use crate::support::Target;
use serde_json::json;
use surge::stats::health::{Cause, HostLoad, OverloadRange};
use surge::web::auth::Auth;
use surge::web::{AppState, Defaults, Security};

const STATUS: &str = "document.getElementById('fig-status').textContent.trim()";
const USERS: &str = "document.getElementById('fig-users').textContent.trim()";
/// `# Requests` of the Aggregated row (third cell of the pinned footer row).
const TOTAL: &str = "Number((document.querySelector('#stats-table tfoot tr')?.cells[2]?.textContent || '0').replace(/[^0-9]/g, '') || 0)";
const ROWS: &str = "[...document.querySelectorAll('#stats-table tbody tr')].map(r => r.cells[1].textContent.trim())";
/// A fingerprint of the first chart's pixels.
const CHART: &str = "document.querySelector('#charts canvas')?.toDataURL() || ''";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_a_real_browser() {
    in_browser(120, scenario()).await;
}

async fn scenario() {
    let target = Target::start();
    let engine = dashboard_engine();
    let defaults = dashboard_defaults();
    let state = AppState::new(engine.clone(), defaults, false);
    let hub = state.hub.clone();
    let addr = serve_dashboard(state).await;
    let (_driver, c) = start_driver().await;
    let page = format!("http://{addr}/");

    // Load the page: the start form fills it; nothing is logged yet.
    c.goto(&page).await.expect("open the dashboard");
    wait_for(&c, "status", STATUS, 10, |v| v == "ready").await;
    const LOGS_NOTE: &str = "document.getElementById('logs-note').textContent";
    assert_eq!(js(&c, LOGS_NOTE).await, json!("No log lines yet."));
    let target_url = format!("{}/delay?ms=5", target.url());
    fill(&c, "#f-users", "4").await;
    fill(&c, "#f-ramp", "100").await;
    fill(&c, "#f-host", &target_url).await;
    shot(&c, "1-start-form.png").await;
    click(&c, "#start-form button[type=submit]").await;

    // Running: rows appear and grow; the request name is the URL's path and query.
    wait_for(&c, "status", STATUS, 10, |v| v == "running").await;
    let first = wait_for(&c, "requests", TOTAL, 10, |v| v.as_u64() > Some(0)).await;
    let rows = js(&c, ROWS).await;
    assert_eq!(rows, json!(["/delay?ms=5"]), "statistics rows");
    wait_for(&c, "requests growing", TOTAL, 10, |v| {
        v.as_u64() > first.as_u64()
    })
    .await;
    let stats_png = shot(&c, "2-statistics-running.png").await;

    // Charts: drawn, and they change as points arrive.
    click(&c, "#tab-charts").await;
    let before = wait_for(&c, "chart drawn", CHART, 10, |v| {
        v.as_str().is_some_and(|s| s.len() > 1000)
    })
    .await;
    let charts_png = shot(&c, "3-charts.png").await;
    wait_for(&c, "chart changes", CHART, 10, |v| *v != before).await;

    // Edit the user count while running.
    click(&c, "#btn-edit").await;
    fill(&c, "#e-users", "7").await;
    click(&c, "#edit-form button[type=submit]").await;
    wait_for(&c, "users after edit", USERS, 10, |v| v == "7").await;
    assert_eq!(engine.user_count(), 7);
    shot(&c, "4-edited.png").await;

    // The lines logged since then replace the "nothing yet" note.
    let lines = js(&c, "document.querySelectorAll('#logs li').length").await;
    assert!(lines.as_u64() > Some(0), "log lines: {lines}");
    assert_eq!(js(&c, LOGS_NOTE).await, json!(""));

    // Stop: the final figures equal what the target served.
    click(&c, "#btn-stop").await;
    wait_for(&c, "status", STATUS, 15, |v| v == "stopped").await;
    let served = target.seen.hits("/delay");
    click(&c, "#tab-stats").await;
    wait_for(&c, "final count", TOTAL, 10, |v| v.as_u64() == Some(served)).await;
    shot(&c, "5-stopped.png").await;

    // Download the requests CSV through the page's own link.
    click(&c, "#tab-download").await;
    let href = js(&c, "document.querySelector('#panel-download a[href*=\"/stats/requests/csv\"]')?.getAttribute('href')").await;
    assert_eq!(href, json!("/stats/requests/csv"), "download link");
    let csv = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);",
            vec![json!("/stats/requests/csv")],
        )
        .await
        .expect("download the CSV");
    let csv = csv.as_str().unwrap_or_default().to_string();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%")
    );
    let agg = csv
        .lines()
        .find(|l| l.starts_with(",Aggregated,"))
        .expect("Aggregated row");
    assert_eq!(agg.split(',').nth(2), Some(served.to_string().as_str()));

    // Reset: the figures go back to zero.
    click(&c, "#tab-stats").await;
    click(&c, "#btn-reset").await;
    wait_for(&c, "count after reset", TOTAL, 10, |v| {
        v.as_u64() == Some(0)
    })
    .await;
    shot(&c, "6-reset.png").await;
    // A whole session of the dashboard without one console error (the favicon included).
    let errors = console_errors(&c).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");

    // Eight overload ranges (the machine busy with other work) are one line, which opens
    // to the list, and the tabs stay where they were.
    let tabs_top = "document.querySelector('[role=tablist]').getBoundingClientRect().top";
    let before = js(&c, tabs_top).await.as_f64().unwrap();
    let mut s = (*hub.snapshot().expect("a snapshot")).clone();
    s.seq += 1_000_000;
    let t0 = s.stats_start.unwrap_or(s.time);
    s.generator.ranges = (0..8)
        .map(|i| {
            let start = t0 + f64::from(i) * 3.0;
            let mut r = OverloadRange {
                start,
                end: start + 2.0,
                peak_cpu_percent: Some(3.0),
                peak_lag_ms: 40.0 + f64::from(i) * 10.0,
                late_starts: 0,
                dropped_starts: 0,
                cause: Cause::Host,
                host: Some(HostLoad {
                    cores: 2,
                    busy_cores: 1.92,
                    surge_cores: 0.02,
                    steal_cores: 0.0,
                }),
                message: String::new(),
            };
            r.message = r.describe(t0);
            r
        })
        .collect();
    hub.ingest(std::sync::Arc::new(s));
    let summary = wait_for(
        &c,
        "overload summary",
        "document.querySelector('#banner details summary')?.textContent || ''",
        10,
        |v| !v.as_str().unwrap_or("").is_empty(),
    )
    .await;
    assert_eq!(
        summary,
        json!("⚠ 8 overloaded ranges (8 machine busy with other work); worst: scheduling lag up to 110 ms. Figures in them are not the target's alone.")
    );
    assert_eq!(
        js(&c, "document.querySelectorAll('#banner details').length").await,
        json!(1)
    );
    let after = js(&c, tabs_top).await.as_f64().unwrap();
    assert!(
        after - before < 60.0,
        "the tabs moved {} px down; the banner: {}",
        after - before,
        js(&c, "document.querySelector('#banner').innerText").await
    );
    // Where the run started to break, said above the tabs (and marked on the charts).
    let mut s = (*hub.snapshot().expect("a snapshot")).clone();
    s.seq += 1;
    s.first_failure = Some(surge::stats::FirstFailure {
        time: t0 + 5.2,
        users: 7,
        rate: None,
        method: "GET".into(),
        name: "/orders".into(),
        message: "500 Internal Server Error: FATAL: sorry, too many clients already".into(),
    });
    hub.ingest(std::sync::Arc::new(s));
    let banner = wait_for(
        &c,
        "the first failure",
        "document.querySelector('#banner').textContent",
        10,
        |v| v.as_str().unwrap_or("").contains("First failure"),
    )
    .await;
    assert!(
        banner.as_str().unwrap_or_default().contains(
            "First failure at 0:05 with 7 users: GET /orders: 500 Internal Server Error: FATAL: sorry, too many clients already"
        ),
        "{banner}"
    );
    click(&c, "#banner details summary").await;
    let items = js(
        &c,
        "[...document.querySelectorAll('#banner details li')].map(l => l.textContent)",
    )
    .await;
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 8);
    assert!(
        items[0]
            .as_str()
            .unwrap()
            .starts_with("This machine was busy with other work from 0:00 to 0:02"),
        "{items:?}"
    );
    click(&c, "#tab-charts").await;
    shot(&c, "6b-overload-ranges.png").await;
    click(&c, "#tab-stats").await;

    // The same engine behind a token login: the page redirects to the login form, the token
    // gives a session cookie, and the page (its event stream and its POSTs, which carry the
    // page's Origin) works under the Content-Security-Policy.
    let token = "browser-test-token-0123";
    let secured = AppState::new(engine.clone(), Defaults::empty(), false).with_security(Security {
        auth: Auth::token(token).expect("token"),
        ..Security::default()
    });
    let secured_addr = serve_dashboard(secured).await;
    c.goto(&format!("http://{secured_addr}/"))
        .await
        .expect("open the secured dashboard");
    wait_for(&c, "login page", "location.pathname", 10, |v| v == "/login").await;
    shot(&c, "7-login.png").await;
    fill(&c, "#token", "wrong").await;
    click(&c, "form button[type=submit]").await;
    wait_for(
        &c,
        "wrong token",
        "document.querySelector('.error')?.textContent || ''",
        10,
        |v| v == "Wrong token.",
    )
    .await;
    fill(&c, "#token", token).await;
    click(&c, "form button[type=submit]").await;
    wait_for(&c, "status after login", STATUS, 10, |v| v == "stopped").await;
    click(&c, "#btn-new").await;
    fill(&c, "#f-users", "2").await;
    fill(&c, "#f-ramp", "100").await;
    fill(&c, "#f-host", &target_url).await;
    click(&c, "#start-form button[type=submit]").await;
    wait_for(&c, "status", STATUS, 10, |v| v == "running").await;
    click(&c, "#btn-stop").await;
    wait_for(&c, "status", STATUS, 15, |v| v == "stopped").await;
    shot(&c, "8-secured-stopped.png").await;

    let _ = c.close().await;
    for p in [stats_png, charts_png] {
        assert!(
            std::fs::metadata(&p)
                .map(|m| m.len() > 10_000)
                .unwrap_or(false),
            "{}",
            p.display()
        );
    }
}
