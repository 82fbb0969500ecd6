//! The charts' time range in a real browser (headless Chromium over WebDriver, like
//! `browser.rs`): after two tests with an idle gap, "This run" shows the current run only
//! and "Everything" both; a drag across a chart zooms every chart to the same range, the
//! reset button brings the choice back, panning moves it, and the choice and the zoom
//! survive a reload.

use std::time::Duration;

use serde_json::{json, Value};
use surge::web::AppState;

use crate::support::browser::*;
use crate::support::Target;

/// [t0, t1] of every chart's last drawn view.
const VIEWS: &str = "SurgeDash.charts.map(c => c.view ? [c.view.t0, c.view.t1] : null)";
const EXTENT: &str = "SurgeDash.charts[0].extent()";

async fn post(c: &fantoccini::Client, path: &str, body: &str) {
    let script = format!(
        "return fetch('{path}', {{method: 'POST', headers: {{'content-type': \
         'application/x-www-form-urlencoded'}}, body: '{body}'}}).then(r => r.status);"
    );
    let status = c.execute(&script, vec![]).await.expect("post");
    assert_eq!(status, json!(200), "{path} {body}");
}

fn span(v: &Value) -> f64 {
    v[1].as_f64().unwrap() - v[0].as_f64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_time_range_zoom_and_pan_in_a_real_browser() {
    in_browser(120, scenario()).await;
}

async fn scenario() {
    let target = Target::start();
    let engine = dashboard_engine();
    let defaults = dashboard_defaults();
    let state = AppState::new(engine, defaults, false);
    let addr = serve_dashboard(state).await;
    let (_driver, c) = start_driver().await;
    c.goto(&format!("http://{addr}/#charts"))
        .await
        .expect("open");
    c.execute("localStorage.clear()", vec![]).await.unwrap();
    c.refresh().await.unwrap();
    let host = format!("{}/delay?ms=2", target.url());
    let form = format!(
        "user_count=2&spawn_rate=100&host={}",
        host.replace(':', "%3A")
            .replace('/', "%2F")
            .replace('?', "%3F")
            .replace('=', "%3D")
    );

    // Run 1, an idle gap, run 2.
    post(&c, "/swarm", &form).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    post(&c, "/stop", "").await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    post(&c, "/swarm", &form).await;
    let ext = wait_for(&c, "run 2 on the charts", EXTENT, 15, |v| {
        v["runStart"]
            .as_f64()
            .is_some_and(|r| r > v["t0"].as_f64().unwrap() + 5.0)
    })
    .await;
    // An edit of the users is marked on every chart.
    post(&c, "/swarm", "user_count=4&spawn_rate=100").await;
    let marks = wait_for(
        &c,
        "the edit's marker",
        "SurgeDash.charts.map(c => (c.marks || []).map(m => m.label))",
        10,
        |v| {
            v.as_array()
                .unwrap()
                .iter()
                .all(|m| m == &json!(["users → 4 (100 /s)"]))
        },
    )
    .await;
    assert_eq!(marks.as_array().unwrap().len(), 3);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let run_start = ext["runStart"].as_f64().unwrap();
    let first = ext["t0"].as_f64().unwrap();

    // "This run" (the default): every chart starts at run 2.
    assert_eq!(
        js(&c, "document.getElementById('chart-range').value").await,
        json!("run")
    );
    // (Charts repaint on the next animation frame: a busy machine may need a moment.)
    wait_for(&c, "every chart from run 2's start", VIEWS, 10, |views| {
        views.as_array().unwrap().iter().all(|v| {
            v[0].as_f64()
                .is_some_and(|t0| (t0 - run_start).abs() < 0.01)
        })
    })
    .await;
    shot(&c, "charts-this-run.png").await;

    // "Everything": from run 1's first point.
    c.execute(
        "const s = document.getElementById('chart-range'); s.value = 'all'; s.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await
    .unwrap();
    let views = wait_for(&c, "everything", VIEWS, 5, |v| {
        v[0][0].as_f64().is_some_and(|t| (t - first).abs() < 0.01)
    })
    .await;
    let all = views[0].clone();

    // Drag across the middle half of the first chart: every chart zooms to that range.
    const DRAG: &str = "(() => { const cv = document.querySelector('#charts canvas'); \
        const r = cv.getBoundingClientRect(); const y = r.top + r.height / 2; \
        const at = (f) => r.left + 64 + f * (r.width - 76); \
        cv.dispatchEvent(new MouseEvent('mousedown', {clientX: at(0.25), clientY: y, button: 0, bubbles: true})); \
        window.dispatchEvent(new MouseEvent('mousemove', {clientX: at(0.75), clientY: y, bubbles: true})); \
        window.dispatchEvent(new MouseEvent('mouseup', {clientX: at(0.75), clientY: y, bubbles: true})); \
        return true; })()";
    js(&c, DRAG).await;
    let zoomed = wait_for(&c, "zoomed", VIEWS, 5, |v| {
        v[0][0].is_number() && span(&v[0]) < span(&all) * 0.6
    })
    .await;
    let z = zoomed[0].clone();
    assert!(
        (span(&z) - span(&all) / 2.0).abs() < span(&all) * 0.05,
        "{z} of {all}"
    );
    assert!(
        zoomed.as_array().unwrap().iter().all(|v| *v == z),
        "every chart: {zoomed}"
    );
    assert_eq!(
        js(&c, "document.getElementById('chart-reset').hidden").await,
        json!(false)
    );
    shot(&c, "charts-zoomed.png").await;

    // Earlier: half a window back.
    click(&c, "#chart-earlier").await;
    let panned = wait_for(&c, "panned", VIEWS, 5, |v| v[0] != z).await;
    let p = &panned[0];
    assert!(
        (p[0].as_f64().unwrap() - (z[0].as_f64().unwrap() - span(&z) / 2.0)).abs() < 0.01,
        "{p} from {z}"
    );

    // A reload keeps the zoom and the choice.
    c.refresh().await.unwrap();
    let after = wait_for(&c, "zoom after a reload", VIEWS, 10, |v| v[0] == *p).await;
    assert_eq!(after[0], *p);
    assert_eq!(
        js(&c, "document.getElementById('chart-range').value").await,
        json!("all")
    );

    // Reset: back to everything.
    click(&c, "#chart-reset").await;
    wait_for(&c, "reset", VIEWS, 5, |v| {
        v[0][0].as_f64().is_some_and(|t| (t - first).abs() < 0.01)
    })
    .await;
    assert_eq!(
        js(&c, "document.getElementById('chart-reset').hidden").await,
        json!(true)
    );
    // The legend: a click on "99th" shows that percentile line (hidden by default), and the
    // choice survives a reload.
    const LINES: &str =
        "SurgeDash.charts[1].series.map((s, i) => [s.label, !SurgeDash.charts[1].hidden[i]])";
    let lines = js(&c, LINES).await;
    assert_eq!(
        lines,
        json!([
            ["50th percentile", true],
            ["90th", false],
            ["95th percentile", true],
            ["99th", false],
            ["99.9th", false]
        ])
    );
    const CLICK_99: &str = "(() => { const ch = SurgeDash.charts[1]; const h = ch.legendHits.find(h => ch.series[h.s].label === '99th'); \
        const r = ch.canvas.getBoundingClientRect(); \
        ch.canvas.dispatchEvent(new MouseEvent('click', {clientX: r.left + (h.x0 + h.x1) / 2, clientY: r.top + 14, bubbles: true})); return true; })()";
    js(&c, CLICK_99).await;
    wait_for(&c, "99th shown", LINES, 5, |v| v[3][1] == true).await;
    c.refresh().await.unwrap();
    wait_for(&c, "99th shown after a reload", LINES, 10, |v| {
        v[3][1] == true
    })
    .await;
    let p99 = wait_for(
        &c,
        "a p99 value drawn",
        "SurgeDash.charts[1].values[3].filter(Number.isFinite).length",
        10,
        |v| v.as_u64() > Some(0),
    )
    .await;
    assert!(p99.as_u64() > Some(0));
    shot(&c, "charts-p99-shown.png").await;

    // Scrolled down, the tab bar stays under the header: a click on a tab hits the tab.
    const TAB_HIT: &str = "(() => { window.scrollTo(0, document.body.scrollHeight); \
        const t = document.getElementById('tab-logs').getBoundingClientRect(); \
        const hit = document.elementFromPoint(t.left + t.width / 2, t.top + t.height / 2); \
        return [window.scrollY > 200, hit && hit.id, \
                t.top >= document.querySelector('.topbar').getBoundingClientRect().bottom - 1]; })()";
    let hit = js(&c, TAB_HIT).await;
    assert_eq!(
        hit,
        json!([true, "tab-logs", true]),
        "tab bar pinned under the header"
    );
    let errors = console_errors(&c).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    post(&c, "/stop", "").await;
    c.close().await.expect("close");
}
