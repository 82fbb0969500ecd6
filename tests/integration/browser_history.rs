//! The History and Compare tabs in a real browser (headless Chromium over WebDriver, like
//! `browser.rs`): two saved runs of the same endpoint, a slow one ("pool=5", 20 ms)
//! and a fast one ("pool=40", 4 ms), are listed newest first; a test started and stopped
//! in the dashboard is saved too; comparing the two gives the verdict "Better" with the
//! per-endpoint table and the overlaid charts, under the plans that differ; a series of
//! three runs draws its table; a run is deleted from the History tab; two stored runs built
//! by hand (fewer failures but slower, other users) give "Mixed" in its own colour under
//! "Runs differ: users 80 → 30". Screenshots go to `target/screenshots/`.
//!
//! Set `SURGE_SKIP_BROWSER=1` to skip it on a machine without a browser.

use std::path::Path;
use std::time::Duration;

use crate::support::browser::*;
use crate::support::runs::{figures, stored_run};
use crate::support::{parse_plan, Target};
use surge::cli::RunArgs;
use surge::store::Store;
use surge::web::history_api::HistoryState;
use surge::web::AppState;

/// One saved headless run of `/orders` (served by `/delay?ms={ms}`), labelled `label`.
async fn saved_run(url: &str, data: &Path, ms: u64, label: &str) -> i64 {
    let plan_dir = tempfile::tempdir().unwrap();
    let plan = parse_plan(
        &format!("[[scenarios]]\nname = \"s\"\n[[scenarios.tasks]]\npath = \"/delay?ms={ms}\"\nname = \"/orders\"\n"),
        plan_dir.path(),
    );
    let args = RunArgs {
        host: Some(url.to_string()),
        users: Some(4),
        spawn_rate: Some(100.0),
        run_time: Some("2s".into()),
        stop_timeout: "5s".into(),
        only_summary: true,
        workers: Some(2),
        label: Some(label.into()),
        data_dir: Some(data.to_path_buf()),
        ..RunArgs::default()
    };
    let mut out = Vec::new();
    let outcome = surge::headless::run(
        args.settings(Some(plan)).unwrap(),
        &mut out,
        std::future::pending(),
    )
    .await
    .unwrap();
    outcome.saved_as.expect("saved")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_and_compare_in_a_real_browser() {
    in_browser(150, scenario()).await;
}

const RUN_IDS: &str =
    "[...document.querySelectorAll('#runs-table tbody tr')].map(r => Number(r.dataset.id))";

async fn scenario() {
    let target = Target::start();
    let data = tempfile::tempdir().unwrap();
    let slow = saved_run(&target.url(), data.path(), 20, "pool=5").await;
    let fast = saved_run(&target.url(), data.path(), 4, "pool=40").await;

    let engine = dashboard_engine();
    let defaults = dashboard_defaults();
    let store = std::sync::Arc::new(Store::open(data.path()).unwrap());
    let history = HistoryState {
        store: Some(store.clone()),
        thresholds: vec![surge::thresholds::parse("p95 < 10s").unwrap()],
        label: "from the dashboard".into(),
        ..HistoryState::default()
    };
    let state = AppState::new(engine.clone(), defaults, false).with_history(history);
    let addr = serve_dashboard(state).await;
    let (_driver, c) = start_driver().await;
    c.goto(&format!("http://{addr}/#history"))
        .await
        .expect("open the dashboard");

    // The two saved runs, newest first.
    let ids = wait_for(&c, "runs listed", RUN_IDS, 10, |v| {
        v.as_array().is_some_and(|a| a.len() == 2)
    })
    .await;
    assert_eq!(ids, serde_json::json!([fast, slow]));
    let labels = js(
        &c,
        "[...document.querySelectorAll('#runs-table .run-label')].map(td => td.textContent)",
    )
    .await;
    assert_eq!(labels, serde_json::json!(["pool=40", "pool=5"]));
    // Before any test ran here, the History tab is shown instead of the start form.
    let shown = js(&c, "[document.getElementById('dashboard').hidden, document.getElementById('start-panel').hidden]").await;
    assert_eq!(shown, serde_json::json!([false, true]));

    // A test started and stopped in the dashboard is saved with the dashboard's label; its
    // threshold badge shows in the header while it runs.
    let swarm = format!(
        "fetch('/swarm', {{method: 'POST', body: new URLSearchParams({{user_count: '2', spawn_rate: '100', host: '{}/ok'}})}}).then(r => r.status)",
        target.url()
    );
    assert_eq!(js(&c, &swarm).await, serde_json::json!(200));
    wait_for(
        &c,
        "threshold badge",
        "document.querySelector('#threshold-badges .threshold-pass')?.textContent || ''",
        15,
        |v| v.as_str().is_some_and(|s| s.contains("p95 < 10s")),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    engine.stop().await.expect("stop");
    let found = "fetch('/api/runs').then(r => r.json()).then(d => d.runs.filter(r => r.source === 'dashboard').map(r => r.label))";
    wait_for(&c, "dashboard run saved", found, 15, |v| {
        v == &serde_json::json!(["from the dashboard"])
    })
    .await;
    click(&c, "#history-filter button[type=submit]").await;
    wait_for(&c, "three runs", RUN_IDS, 10, |v| {
        v.as_array().is_some_and(|a| a.len() == 3)
    })
    .await;
    shot(&c, "history-1-list.png").await;

    // Open a past run read-only: its report in the frame, with downloads.
    click(&c, &format!("#runs-table tr[data-id='{slow}'] .run-open")).await;
    wait_for(&c, "run report", "document.getElementById('run-frame').contentDocument?.querySelectorAll('#stats-table tbody tr').length || 0", 10, |v| v.as_u64() == Some(1)).await;
    let links = js(
        &c,
        "[...document.querySelectorAll('#run-downloads a')].map(a => a.getAttribute('href'))",
    )
    .await;
    assert!(
        links
            .to_string()
            .contains(&format!("/api/runs/{slow}/csv/stats")),
        "{links}"
    );
    click(&c, "#run-close").await;

    // Select the two saved runs and compare them: the fast one is better.
    click(&c, &format!("#runs-table tr[data-id='{slow}'] .run-pick")).await;
    click(&c, &format!("#runs-table tr[data-id='{fast}'] .run-pick")).await;
    click(&c, "#btn-compare-selected").await;
    let verdict = wait_for(
        &c,
        "verdict",
        "document.getElementById('compare-verdict')?.textContent || ''",
        10,
        |v| v != "",
    )
    .await;
    assert_eq!(verdict, "Better");
    // Each run has its own plan file (and delay): said above the verdict.
    let differs = js(
        &c,
        "document.getElementById('compare-differences')?.textContent || ''",
    )
    .await;
    assert!(
        differs.as_str().unwrap().starts_with("Runs differ: plan "),
        "{differs}"
    );
    let rows = js(&c, "[...document.querySelectorAll('.compare-table tbody tr')].map(r => [r.cells[1].textContent, r.dataset.verdict])").await;
    assert_eq!(rows, serde_json::json!([["/orders", "better"]]));
    let p95 = js(&c, "document.querySelector('.compare-table tbody tr').cells[6].querySelector('.delta').className").await;
    assert!(p95.as_str().unwrap().contains("delta-better"), "{p95}");
    let charts = js(
        &c,
        "document.querySelectorAll('#compare-result .compare-charts canvas').length",
    )
    .await;
    assert!(charts.as_u64().unwrap() >= 2, "{charts}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let path = shot(&c, "history-2-compare.png").await;
    eprintln!("comparison screenshot: {}", path.display());

    // A very large noise threshold turns the verdict into "no significant change".
    c.execute("document.getElementById('c-noise').value = '1000'", vec![])
        .await
        .unwrap();
    click(&c, "#compare-form button[type=submit]").await;
    wait_for(
        &c,
        "calm verdict",
        "document.getElementById('compare-verdict')?.textContent || ''",
        10,
        |v| v == "No significant change",
    )
    .await;

    // A series of all three runs.
    click(&c, "#tab-history").await;
    wait_for(&c, "three runs", RUN_IDS, 10, |v| {
        v.as_array().is_some_and(|a| a.len() == 3)
    })
    .await;
    for id in js(&c, RUN_IDS).await.as_array().unwrap() {
        let checked = js(
            &c,
            &format!(
                "document.querySelector(\"#runs-table tr[data-id='{id}'] .run-pick\").checked"
            ),
        )
        .await;
        if checked != serde_json::json!(true) {
            click(&c, &format!("#runs-table tr[data-id='{id}'] .run-pick")).await;
        }
    }
    click(&c, "#btn-series-selected").await;
    let series = wait_for(
        &c,
        "series rows",
        "document.querySelectorAll('.series-table tbody tr').length",
        10,
        |v| v.as_u64() == Some(3),
    )
    .await;
    assert_eq!(series, serde_json::json!(3));
    shot(&c, "history-3-series.png").await;

    // Relabel and delete the dashboard run from the History tab, through the page's own
    // dialog (the browser's prompt/confirm would block WebDriver: they must not appear).
    click(&c, "#tab-history").await;
    c.execute(
        "window.prompt = window.confirm = () => { throw new Error('native dialog'); }",
        vec![],
    )
    .await
    .unwrap();
    let newest = js(&c, &format!("{RUN_IDS}[0]")).await;
    let row = format!("#runs-table tr[data-id='{newest}']");
    const DIALOG: &str = "[document.getElementById('dialog').open, document.activeElement.id]";
    click(&c, &format!("{row} .run-relabel")).await;
    let opened = wait_for(&c, "relabel dialog", DIALOG, 5, |v| v[0] == true).await;
    assert_eq!(opened[1], "dialog-input", "focus in the field");
    // Escape cancels: nothing changes.
    c.execute(
        "document.getElementById('dialog').dispatchEvent(new Event('cancel', {cancelable: true}))",
        vec![],
    )
    .await
    .unwrap();
    wait_for(&c, "dialog closed", DIALOG, 5, |v| v[0] == false).await;
    click(&c, &format!("{row} .run-relabel")).await;
    wait_for(&c, "relabel dialog again", DIALOG, 5, |v| v[0] == true).await;
    fill(&c, "#dialog-input", "after the fix").await;
    shot(&c, "history-relabel-dialog.png").await;
    click(&c, "#dialog-ok").await;
    wait_for(
        &c,
        "new label",
        &format!("document.querySelector(\"{row} .run-label\")?.textContent"),
        10,
        |v| v == "after the fix",
    )
    .await;
    click(&c, &format!("{row} .run-delete")).await;
    let opened = wait_for(&c, "delete dialog", DIALOG, 5, |v| v[0] == true).await;
    assert_eq!(opened[1], "dialog-ok", "focus on the button");
    assert!(
        js(&c, "document.getElementById('dialog-title').textContent")
            .await
            .as_str()
            .unwrap()
            .starts_with(&format!("Delete run #{newest}"))
    );
    click(&c, "#dialog-ok").await;
    wait_for(&c, "deleted", RUN_IDS, 10, |v| {
        v == &serde_json::json!([fast, slow])
    })
    .await;

    // A trade-off: no failures any more, but slower and fewer req/s, with fewer users.
    let no_pool = store
        .save(&stored_run(
            "no pool",
            80,
            1_700_000_000.0,
            vec![
                figures("GET", "/health", 600, 0, 10.0, [2.0, 4.0, 5.0, 8.0]),
                figures(
                    "GET",
                    "/orders",
                    1000,
                    296,
                    16.0,
                    [191.0, 900.0, 1500.0, 4000.0],
                ),
                figures(
                    "",
                    "Aggregated",
                    1600,
                    296,
                    26.0,
                    [120.0, 800.0, 1400.0, 4000.0],
                ),
            ],
        ))
        .unwrap();
    let pool = store
        .save(&stored_run(
            "pool=5",
            30,
            1_700_000_100.0,
            vec![
                figures("GET", "/health", 600, 0, 10.0, [2.0, 4.0, 5.0, 8.0]),
                figures(
                    "GET",
                    "/orders",
                    730,
                    0,
                    11.68,
                    [2660.0, 3000.0, 3500.0, 4000.0],
                ),
                figures(
                    "",
                    "Aggregated",
                    1330,
                    0,
                    21.68,
                    [1400.0, 2900.0, 3400.0, 4000.0],
                ),
            ],
        ))
        .unwrap();
    click(&c, "#history-filter button[type=submit]").await;
    wait_for(&c, "four runs", RUN_IDS, 10, |v| {
        v.as_array().is_some_and(|a| a.len() == 4)
    })
    .await;
    click(&c, "#tab-compare").await;
    c.execute(
        &format!("document.getElementById('c-before').value = '{no_pool}'; document.getElementById('c-after').value = '{pool}'; document.getElementById('c-noise').value = '5'"),
        vec![],
    )
    .await
    .unwrap();
    click(&c, "#compare-form button[type=submit]").await;
    wait_for(
        &c,
        "mixed verdict",
        "document.getElementById('compare-verdict')?.textContent || ''",
        10,
        |v| v == "Mixed",
    )
    .await;
    let shown = js(
        &c,
        "[document.getElementById('compare-differences')?.textContent, document.querySelector('.compare-reason')?.textContent, [...document.querySelectorAll('.compare-table tbody tr')].map(r => r.dataset.verdict)]",
    )
    .await;
    assert_eq!(
        shown,
        serde_json::json!([
            "Runs differ: users 80 → 30",
            "Mixed: fail % -100.0 % (18.50 % → 0.00 %), but p95 +262.5 %, req/s -16.6 %, p99 +142.9 %, p50 +1066.7 %",
            ["no_significant_change", "mixed"]
        ])
    );
    // Its own colour: neither the green of better nor the red of worse, nor the plain pill.
    let colours = js(
        &c,
        "(() => { const bg = (cls) => { const s = document.createElement('span'); s.className = `verdict ${cls}`; document.body.append(s); const c = getComputedStyle(s).backgroundColor; s.remove(); return c; }; return [getComputedStyle(document.getElementById('compare-verdict')).backgroundColor, bg('verdict-better'), bg('verdict-worse'), bg('')]; })()",
    )
    .await;
    let colours: Vec<&str> = colours
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        !colours[1..].contains(&colours[0]),
        "mixed pill colour among the others: {colours:?}"
    );
    shot(&c, "history-4-mixed.png").await;
    let _ = c.close().await;
}
