//! The breaking-point search from the dashboard, in a real browser (headless Chromium over
//! WebDriver, like `browser.rs`): the start form's "Find limit" choice against a server
//! that takes at most 6 requests at once, the Find Limit tab's live step table, its answer
//! and its throughput chart, and the search saved in the history as one run of kind
//! `limit`. Whether a step counts depends on Surge's lag, so it runs alone (like the other
//! searches).

use std::time::Duration;

use serde_json::json;
use surge::store::{ListFilter, RunSource, Store};
use surge::web::history_api::HistoryState;
use surge::web::AppState;

use crate::support::browser::*;
use crate::support::Target;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the machine to itself (Surge's lag decides whether a step counts): .ci/run runs it alone"]
async fn a_search_from_the_start_form_finds_the_limit_live() {
    in_browser(120, scenario()).await;
}

async fn scenario() {
    let target = Target::start();
    let data = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(Store::open(data.path()).unwrap());
    let engine = dashboard_engine();
    let defaults = dashboard_defaults();
    let history = HistoryState {
        store: Some(store.clone()),
        ..HistoryState::default()
    };
    let state = AppState::new(engine, defaults, false).with_history(history);
    let addr = serve_dashboard(state).await;
    let (_driver, c) = start_driver().await;
    c.goto(&format!("http://{addr}/"))
        .await
        .expect("open the dashboard");

    // The choice shows the search's fields instead of the test's.
    click(&c, "input[name=mode][value=limit]").await;
    assert_eq!(
        js(
            &c,
            "document.getElementById('f-users').closest('.field').hidden"
        )
        .await,
        json!(true)
    );
    assert_eq!(
        js(
            &c,
            "document.getElementById('f-thresholds').closest('.mode-limit').hidden"
        )
        .await,
        json!(false)
    );
    fill(
        &c,
        "#f-host",
        &format!("{}/capacity?k=6&ms=20", target.url()),
    )
    .await;
    fill(&c, "#f-thresholds", "fail_ratio < 1%").await;
    fill(&c, "#f-lstart", "3").await;
    fill(&c, "#f-lmax", "20").await;
    fill(&c, "#f-lstep", "1s").await;
    shot(&c, "limit-1-form.png").await;
    click(&c, "#start-form button[type=submit]").await;

    // The tab follows the search live, step by step, then gives the answer.
    wait_for(
        &c,
        "the first step row",
        "document.querySelectorAll('#limit-table tbody tr').length",
        20,
        |v| v.as_u64() >= Some(1),
    )
    .await;
    let summary = wait_for(
        &c,
        "the answer",
        "document.getElementById('limit-summary').textContent",
        90,
        |v| v.as_str().unwrap_or("").contains("Limit:"),
    )
    .await;
    let summary = summary.as_str().unwrap().to_string();
    assert!(
        summary.contains("Limit: 6 users (passed twice)"),
        "{summary}"
    );
    assert!(
        summary.contains("Broke at: 7 users: fail_ratio < 1%"),
        "{summary}"
    );
    let rows = js(&c, "[...document.querySelectorAll('#limit-table tbody tr')].map(r => r.cells[1].textContent + ' ' + r.cells[8].textContent)").await;
    assert_eq!(
        rows,
        json!([
            "3 pass",
            "6 pass",
            "12 fail",
            "9 fail",
            "8 fail",
            "7 fail",
            "6 pass (again)"
        ]),
        "{rows}"
    );
    assert_eq!(
        js(
            &c,
            "document.querySelectorAll('#limit-chart circle').length"
        )
        .await,
        json!(6)
    );
    shot(&c, "limit-2-answer.png").await;
    assert_eq!(console_errors(&c).await, Vec::<String>::new());

    // Saved as one run of kind `limit` (not also as an ordinary dashboard run).
    let runs = wait_for_runs(&store).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].source, RunSource::Limit);
    let run = store.load(runs[0].id).unwrap();
    assert_eq!(run.limit.as_ref().unwrap()["limit"]["users"], 6.0);
}

async fn wait_for_runs(store: &Store) -> Vec<surge::store::RunSummary> {
    for _ in 0..50 {
        let runs = store.list(&ListFilter::default()).unwrap();
        if !runs.is_empty() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            return store.list(&ListFilter::default()).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Vec::new()
}
