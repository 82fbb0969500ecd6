//! The Server charts in a real browser (headless Chromium over WebDriver, like
//! `browser.rs`): a dashboard started with `--metrics` against a target whose `/metrics`
//! the test sets, a test from the start form, the Charts tab's Server group drawing the
//! built-in views on the load's time axis, a series picked by name that survives a reload,
//! and no console error.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::json;
use surge::scrape::Source;
use surge::web::AppState;

use crate::support::browser::*;
use crate::support::metrics_target::MetricsTarget;

/// `data-server` keys of the Server charts, in page order.
const SERVER_CHARTS: &str =
    "[...document.querySelectorAll('#server-charts figure')].map(f => f.querySelector('.chart-title').textContent)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_charts_in_a_real_browser() {
    in_browser(90, scenario()).await;
}

async fn scenario() {
    let target = MetricsTarget::start();
    target.values.connections.store(12, Ordering::Relaxed);
    let engine = dashboard_engine();
    let mut defaults = dashboard_defaults();
    defaults.metrics = vec![Source::new(
        &target.url("/metrics"),
        Some("api"),
        Some(Duration::from_secs(1)),
        Vec::new(),
    )
    .unwrap()];
    let state = AppState::new(engine, defaults, false);
    let addr = serve_dashboard(state).await;
    let (_driver, c) = start_driver().await;
    c.goto(&format!("http://{addr}/#charts"))
        .await
        .expect("open the dashboard");
    // Before any test: no Server group.
    assert_eq!(
        js(&c, "document.getElementById('server-section').hidden").await,
        json!(true)
    );
    fill(&c, "#f-users", "2").await;
    fill(&c, "#f-ramp", "100").await;
    fill(&c, "#f-host", &target.url("/ok")).await;
    click(&c, "#start-form button[type=submit]").await;

    // The built-in views appear as the scrapes come in, in their fixed order.
    let titles = wait_for(&c, "server charts", SERVER_CHARTS, 20, |v| {
        v.as_array().is_some_and(|a| a.len() >= 3)
    })
    .await;
    assert_eq!(
        titles,
        json!(["Server CPU", "Server requests", "Connections"]),
        "built-in views"
    );
    wait_for(
        &c,
        "sources line",
        "document.getElementById('server-sources').textContent",
        10,
        |v| {
            v.as_str()
                .is_some_and(|s| s.contains("api (http://") && s.contains("scrapes"))
        },
    )
    .await;
    // The connections chart has drawn its lines (not the "No data yet" canvas).
    const CONN_POINTS: &str = "(() => { const f = [...document.querySelectorAll('#server-charts figure')].find(f => f.querySelector('.chart-title').textContent === 'Connections'); return f ? f.querySelector('canvas').toDataURL().length : 0; })()";
    let drawn = js(&c, CONN_POINTS).await;
    assert!(drawn.as_u64() > Some(2000), "{drawn}");

    // Pick another series by name: its own chart, one line per label set.
    wait_for(
        &c,
        "the picker lists the series",
        "[...document.querySelectorAll('#server-pick option')].map(o => o.value)",
        10,
        |v| {
            v.as_array()
                .is_some_and(|a| a.iter().any(|o| o == "app_jobs_total"))
        },
    )
    .await;
    c.execute(
        "const s = document.getElementById('server-pick'); s.value = 'app_jobs_total'; \
         s.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await
    .expect("pick a series");
    wait_for(&c, "picked chart", SERVER_CHARTS, 10, |v| {
        v.as_array()
            .is_some_and(|a| a.iter().any(|t| t == "app_jobs_total"))
    })
    .await;
    // A few more scrapes, then a picture of the group under the load charts.
    tokio::time::sleep(Duration::from_secs(4)).await;
    c.execute(
        "window.scrollTo(0, document.getElementById('server-section').offsetTop - 70)",
        vec![],
    )
    .await
    .expect("scroll");
    tokio::time::sleep(Duration::from_millis(300)).await;
    shot(&c, "server-charts.png").await;

    // A reload keeps the pick.
    c.refresh().await.expect("reload");
    wait_for(&c, "picked chart after a reload", SERVER_CHARTS, 15, |v| {
        v.as_array()
            .is_some_and(|a| a.iter().any(|t| t == "app_jobs_total"))
    })
    .await;
    let errors = console_errors(&c).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    c.close().await.expect("close the browser");
}
