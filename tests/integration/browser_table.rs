//! The statistics table in a real browser (headless Chromium over WebDriver, like
//! `browser.rs`): at 1 400 px the default columns fit without a sideways scroll, at 1 000 px
//! the Name column stays in view when the table scrolls, a hidden column stays hidden after
//! a reload, and the filter narrows the rows by name.

use std::time::Duration;

use serde_json::json;
use surge::web::AppState;

use crate::support::browser::*;
use crate::support::{parse_plan, Target};

const ROWS: &str =
    "[...document.querySelectorAll('#stats-table tbody tr')].map(r => r.querySelector('.name').textContent)";
const HEADERS: &str =
    "[...document.querySelectorAll('#stats-table thead th')].map(th => th.textContent.trim())";
/// [scrollWidth, clientWidth] of the table's frame.
const FIT: &str = "(() => { const w = document.querySelector('#panel-stats .table-wrap'); return [w.scrollWidth, w.clientWidth]; })()";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_table_fits_pins_hides_and_filters() {
    in_browser(90, scenario()).await;
}

async fn scenario() {
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    // Names as long as a real API's, and counts in the hundreds of thousands.
    let plan = parse_plan(
        &format!(
            "host = \"{}\"\n[[scenarios]]\n\
             [[scenarios.tasks]]\npath = \"/delay?ms=1\"\nname = \"/api/v1/stores/[store_id]/products/[product_id]/stock\"\n\
             [[scenarios.tasks]]\npath = \"/ok\"\nname = \"/api/v1/orders/reports/best-sellers\"\n\
             [[scenarios.tasks]]\nmethod = \"POST\"\npath = \"/echo\"\nname = \"/api/v1/orders\"\n",
            target.url()
        ),
        dir.path(),
    );
    let engine = dashboard_engine();
    let mut defaults = dashboard_defaults();
    defaults.host = Some(target.url());
    defaults.plan = Some(std::sync::Arc::new(plan));
    let state = AppState::new(engine, defaults, false);
    let addr = serve_dashboard(state).await;
    let (_driver, c) = start_driver().await;
    c.goto(&format!("http://{addr}/")).await.expect("open");
    c.execute("localStorage.clear()", vec![]).await.unwrap();
    c.refresh().await.unwrap();
    fill(&c, "#f-users", "8").await;
    fill(&c, "#f-ramp", "100").await;
    click(&c, "#start-form button[type=submit]").await;
    wait_for(&c, "three rows", ROWS, 15, |v| {
        v.as_array().is_some_and(|a| a.len() == 3)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    // 1 400 px: every default column without a sideways scroll.
    shot(&c, "table-1400.png").await;
    let fit = js(&c, FIT).await;
    assert!(
        fit[0].as_u64() <= fit[1].as_u64(),
        "scrollWidth, clientWidth at 1400 px: {fit}"
    );
    let headers = js(&c, HEADERS).await;
    assert!(
        headers
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h == "Current Failures/s"),
        "{headers}"
    );
    shot(&c, "table-1400.png").await;

    // 1 000 px: the table scrolls sideways, the Name column stays at its left edge.
    c.set_window_size(1000, 900).await.expect("resize");
    tokio::time::sleep(Duration::from_millis(300)).await;
    const PINNED: &str = "(() => { const w = document.querySelector('#panel-stats .table-wrap'); \
        w.scrollLeft = w.scrollWidth; const name = document.querySelector('#stats-table tbody .name'); \
        return [w.scrollLeft > 0, Math.round(name.getBoundingClientRect().left - w.getBoundingClientRect().left)]; })()";
    let pinned = wait_for(&c, "pinned name", PINNED, 5, |v| v[0] == true).await;
    assert!(
        pinned[1].as_i64().unwrap().abs() <= 2,
        "Name column at the frame's left edge: {pinned}"
    );
    shot(&c, "table-1000-scrolled.png").await;
    c.set_window_size(1400, 1000).await.expect("resize");

    // Hide a column: gone now and after a reload.
    click(&c, "#col-menu summary").await;
    click(&c, "#col-options input[value=size]").await;
    let gone = |v: &serde_json::Value| {
        v.as_array()
            .is_some_and(|a| !a.iter().any(|h| h == "Average size (bytes)"))
    };
    wait_for(&c, "size column hidden", HEADERS, 5, gone).await;
    c.refresh().await.unwrap();
    wait_for(&c, "rows after the reload", ROWS, 15, |v| {
        v.as_array().is_some_and(|a| a.len() == 3)
    })
    .await;
    let headers = js(&c, HEADERS).await;
    assert!(gone(&headers), "{headers}");
    assert_eq!(
        js(
            &c,
            "document.querySelector('#col-options input[value=size]').checked"
        )
        .await,
        json!(false)
    );

    // The filter keeps the rows whose name matches; the note says how many.
    fill(&c, "#stats-filter", "orders").await;
    let rows = wait_for(&c, "filtered", ROWS, 5, |v| {
        v.as_array().is_some_and(|a| a.len() == 2)
    })
    .await;
    assert_eq!(
        rows,
        json!(["/api/v1/orders", "/api/v1/orders/reports/best-sellers"])
    );
    assert_eq!(
        js(&c, "document.getElementById('stats-note').textContent").await,
        json!("2 of 3 names")
    );
    shot(&c, "table-filtered.png").await;

    // One endpoint's charts: picked by name, its distribution from its own histogram.
    c.execute(&format!("({KEY0})('2')", KEY0 = "(k) => document.body.dispatchEvent(new KeyboardEvent('keydown', {key: k, bubbles: true, cancelable: true}))"), vec![])
        .await
        .unwrap();
    // From the table: a click on the row's name.
    c.execute(&format!("({KEY0})('1')", KEY0 = "(k) => document.body.dispatchEvent(new KeyboardEvent('keydown', {key: k, bubbles: true, cancelable: true}))"), vec![])
        .await
        .unwrap();
    c.execute(
        "[...document.querySelectorAll('#stats-table tbody .name')].find(n => n.textContent === '/api/v1/orders/reports/best-sellers').click()",
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(
        js(&c, "[document.getElementById('tab-charts').getAttribute('aria-selected'), \
                 [...document.querySelectorAll('#endpoint-picked button')].map(b => b.textContent)]").await,
        json!(["true", ["Aggregated ✕", "GET /api/v1/orders/reports/best-sellers ✕"]])
    );
    // And one more from the picker: each is a line of its own.
    c.execute(
        "const s = document.getElementById('endpoint-pick'); s.value = 'POST /api/v1/orders'; s.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await
    .unwrap();
    let lines = wait_for(
        &c,
        "three endpoint lines",
        "[...document.querySelectorAll('#endpoint-charts figure')].length",
        5,
        |v| v == 3,
    )
    .await;
    assert_eq!(lines, 3);

    let note = wait_for(
        &c,
        "the endpoint's distribution",
        "document.getElementById('distribution-note').textContent",
        10,
        |v| {
            v.as_str().is_some_and(|t| {
                t.contains("GET /api/v1/orders/reports/best-sellers: ")
                    && t.contains("POST /api/v1/orders: ")
            })
        },
    )
    .await;
    assert!(note.as_str().unwrap().contains("requests, max"), "{note}");
    assert!(
        js(
            &c,
            "Number(document.getElementById('distribution').dataset.points)"
        )
        .await
        .as_u64()
            > Some(10)
    );
    wait_for(
        &c,
        "the endpoint's rate chart",
        "SurgeDash.charts.length && document.querySelectorAll('#endpoint-charts canvas').length",
        5,
        |v| v == 3,
    )
    .await;
    c.execute(
        "document.getElementById('endpoint-section').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    shot(&c, "endpoint-distribution.png").await;
    c.execute(&format!("({KEY0})('1')", KEY0 = "(k) => document.body.dispatchEvent(new KeyboardEvent('keydown', {key: k, bubbles: true, cancelable: true}))"), vec![])
        .await
        .unwrap();

    // A phone (390 px): the first screen shows the state and the figures.
    c.set_window_size(390, 844).await.expect("resize");
    tokio::time::sleep(Duration::from_millis(400)).await;
    c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    const FIRST_SCREEN: &str = "['fig-status', 'fig-users', 'fig-rps', 'fig-fail'].map(id => \
        document.getElementById(id).getBoundingClientRect().bottom <= window.innerHeight)";
    assert_eq!(js(&c, FIRST_SCREEN).await, json!([true, true, true, true]));
    shot(&c, "phone-390.png").await;
    // Scrolled, the tab bar is at the top (the header scrolls away on a phone).
    let top = js(&c, "(() => { document.body.style.minHeight = '3000px'; window.scrollTo(0, 400); return Math.round(document.querySelector('.tabs').getBoundingClientRect().top); })()").await;
    assert!(
        top.as_i64().is_some_and(|t| t.abs() <= 1),
        "tab bar at {top}"
    );
    c.set_window_size(1400, 1000).await.expect("resize");

    // Keyboard: "?" lists the shortcuts, Escape closes the list, "2" opens the second tab.
    const KEY: &str = "(k) => document.body.dispatchEvent(new KeyboardEvent('keydown', {key: k, bubbles: true, cancelable: true}))";
    c.execute(
        &format!("document.getElementById('stats-filter').blur(); ({KEY})('?')"),
        vec![],
    )
    .await
    .unwrap();
    let listed = wait_for(
        &c,
        "shortcuts listed",
        "[document.getElementById('keys-dialog').open, [...document.querySelectorAll('#keys-list kbd')].map(k => k.textContent)]",
        5,
        |v| v[0] == true,
    )
    .await;
    assert_eq!(listed[1][0], "s", "{listed}");
    assert!(
        listed[1].as_array().unwrap().iter().any(|k| k == "2"),
        "{listed}"
    );
    shot(&c, "keyboard-shortcuts.png").await;
    c.execute("document.getElementById('keys-close').click()", vec![])
        .await
        .unwrap();
    c.execute(&format!("({KEY})('2')"), vec![]).await.unwrap();
    wait_for(
        &c,
        "charts tab by key",
        "document.getElementById('tab-charts').getAttribute('aria-selected')",
        5,
        |v| v == "true",
    )
    .await;
    c.execute(&format!("({KEY})('1')"), vec![]).await.unwrap();

    // Notifications on: "s" stops the test, the end is told and the tab's icon gets a dot.
    c.execute(
        "window.__told = []; window.Notification = class { static get permission() { return 'granted'; } \
         static requestPermission() { return Promise.resolve('granted'); } \
         constructor(title) { window.__told.push(title); } }; \
         document.getElementById('btn-notify').click();",
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(
        js(
            &c,
            "document.getElementById('btn-notify').getAttribute('aria-pressed')"
        )
        .await,
        json!("true")
    );
    c.execute(&format!("({KEY})('s')"), vec![]).await.unwrap();
    let told = wait_for(&c, "the end told", "window.__told", 15, |v| {
        v.as_array()
            .is_some_and(|a| a.iter().any(|t| t == "Surge: run #1 ended"))
    })
    .await;
    assert_eq!(told.as_array().unwrap().len(), 1, "{told}");
    wait_for(
        &c,
        "icon badge",
        "document.querySelector('link[rel=icon]').href.slice(0, 22)",
        5,
        |v| v == "data:image/png;base64,",
    )
    .await;
    let errors = console_errors(&c).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    c.close().await.expect("close");
}
