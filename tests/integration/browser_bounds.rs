//! The dashboard page's performance bounds, measured in headless Chromium: a redraw of every
//! chart with an hour of data at 1 400 px (target: under 16 ms), and the JS heap over a
//! simulated 30-minute test (1 800 ticks of snapshots with 20 endpoints; target: flat once the
//! bounded buffers are full). Timing on a shared machine is noisy, so this is a benchmark,
//! not a CI test: `bash scripts/bench-page` runs it alone and prints the figures.

use std::time::Duration;

use surge::web::AppState;

use crate::support::browser::*;

/// An hour of points on every chart, then 20 timed redraws of all of them.
const REDRAW: &str = "(() => { const t0 = Math.floor(Date.now() / 1000) - 3600; const pts = []; \
  for (let i = 0; i < 3600; i++) pts.push({seq: i, run: 1, time: t0 + i, user_count: 50 + (i % 7), \
    current_rps: 1000 + 200 * Math.sin(i / 30), current_fail_per_sec: i % 50 ? 0 : 3, \
    current_p50_ms: 10 + Math.sin(i / 10), current_p95_ms: 40 + 5 * Math.cos(i / 7), \
    current_p90_ms: 30, current_p99_ms: 80, current_p999_ms: 120}); \
  SurgeCharts.range.setMode('all'); \
  for (const c of SurgeDash.charts) { c.resize(); c.setPoints(pts); } \
  const times = []; \
  for (let k = 0; k < 20; k++) { const t = performance.now(); for (const c of SurgeDash.charts) c.drawNow(); times.push(performance.now() - t); } \
  times.sort((a, b) => a - b); \
  return {width: SurgeDash.charts[0].cssW, points: SurgeDash.charts[0].len, median_ms: times[10], max_ms: times[19]}; })()";

/// 1 800 ticks (30 minutes at 1 s) of snapshots through the page's per-tick code.
const TICKS: &str = "(() => { const heap = () => { if (window.gc) window.gc(); return performance.memory ? performance.memory.usedJSHeapSize : 0; }; \
  const base = SurgeDash.charts[0].times[SurgeDash.charts[0].len - 1] + 1; \
  const entry = (k) => ({method: 'GET', name: '/e' + k, num_requests: 1, num_failures: 0, current_rps: 10, \
    current_fail_per_sec: 0, current_percentiles: [1,1,1,1,1,2,2,2,3,3,4], percentiles: [1,1,1,1,1,2,2,2,3,3,4]}); \
  const entries = []; for (let k = 0; k < 20; k++) entries.push(entry(k)); \
  const sample = []; \
  for (let i = 0; i < 1800; i++) { \
    const s = {run: 1, time: base + i, state: 'running', entries, total: entry('all'), marks: [], server: null}; \
    for (const c of SurgeDash.charts) c.append({seq: 4000 + i, run: 1, time: base + i, user_count: 50, current_rps: 1000, \
      current_fail_per_sec: 0, current_p50_ms: 10, current_p95_ms: 40}); \
    SurgeDash.renderEndpoint(s); \
    if (i % 300 === 299) sample.push(heap()); } \
  return {heap_bytes_every_5_min: sample}; })()";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: bash scripts/bench-page runs it alone"]
async fn page_bounds_with_an_hour_of_data() {
    if !browser_available() {
        return;
    }
    let target = crate::support::Target::start();
    let state = AppState::new(dashboard_engine(), dashboard_defaults(), false);
    let addr = serve_dashboard(state).await;
    let (_driver, c) = start_driver().await;
    c.goto(&format!("http://{addr}/#charts")).await.unwrap();
    // A light test, so that the dashboard (not the start form) shows.
    fill(&c, "#f-users", "1").await;
    fill(&c, "#f-host", &format!("{}/delay?ms=50", target.url())).await;
    click(&c, "#start-form button[type=submit]").await;
    wait_for(
        &c,
        "running",
        "document.getElementById('fig-status').textContent",
        10,
        |v| v == "running",
    )
    .await;
    click(&c, "#tab-charts").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let redraw = js(&c, REDRAW).await;
    println!("redraw of all charts: {redraw}");
    let heap = js(&c, TICKS).await;
    println!("JS heap over 30 simulated minutes: {heap}");
    let median = redraw["median_ms"].as_f64().unwrap();
    assert!(redraw["width"].as_f64().unwrap() >= 1300.0, "{redraw}");
    assert!(median < 16.0, "redraw {median} ms with an hour of data");
    let h: Vec<f64> = heap["heap_bytes_every_5_min"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    // The endpoint series keep 10 minutes, the charts grow by 1 800 points each (their
    // bound is 200 000): from minute 15 on, the heap is flat within 1 MB.
    let growth = h[h.len() - 1] - h[2];
    println!("heap growth from minute 15 to 30: {:.2} MB", growth / 1e6);
    assert!(growth < 1e6, "heap grew {growth} bytes: {h:?}");
    c.close().await.unwrap();
}
