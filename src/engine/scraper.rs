//! The scraper: one task per metrics source, started with a test and aborted when it stops.
//! Each fetches its endpoint every `every` with its own HTTP client (never a virtual user's),
//! parses the answer on a blocking thread and hands it to the test's [`Board`]. Nothing it
//! does waits on the load or holds up the statistics: a slow, failing or huge endpoint only
//! gives a warning (one per kind and source) and the test goes on.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use tokio::task::JoinHandle;

use crate::client::{ClientConfig, ClientShared, Request, RequestError, UserClient};
use crate::scrape::{parse, Board, Source, MAX_BODY};
use crate::stats::unix_now;

/// Longest wait for one scrape's answer (shorter when scrapes are more frequent).
const MAX_WAIT: Duration = Duration::from_secs(10);

/// What a test's scraping is: its tasks, aborted when dropped.
pub struct Scraping(Vec<JoinHandle<()>>);

impl Drop for Scraping {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// Start scraping every source of `board`, with the test's TLS and redirect rules.
pub fn start(board: Arc<Board>, run_client: &ClientConfig) -> Scraping {
    let tasks = (0..board.len())
        .filter_map(|i| {
            let source = board.source(i)?;
            let config = ClientConfig {
                timeout: source.every.min(MAX_WAIT),
                insecure: run_client.insecure,
                max_redirects: 3,
                allowed_targets: run_client.allowed_targets.clone(),
                rx_timestamps: false,
            };
            let board = board.clone();
            Some(tokio::spawn(scrape_loop(board, i, source, config)))
        })
        .collect();
    Scraping(tasks)
}

async fn scrape_loop(board: Arc<Board>, i: usize, source: Source, config: ClientConfig) {
    let mut client = UserClient::new(ClientShared::new(config));
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::ACCEPT,
        HeaderValue::from_static(
            "text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.8,*/*;q=0.1",
        ),
    );
    let request = Request {
        method: Method::GET,
        url: source.url.clone(),
        headers,
        body: Bytes::new(),
    };
    let mut ticker = tokio::time::interval(source.every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        scrape_once(&board, i, &mut client, &request).await;
    }
}

/// One scrape: fetch, check, parse (off the runtime's threads), record.
async fn scrape_once(board: &Arc<Board>, i: usize, client: &mut UserClient, request: &Request) {
    let response = match client.send(request, true).await {
        Ok(r) => r,
        Err(RequestError::Timeout(d)) => {
            let why = format!(
                "no answer within {} (too slow; the test goes on, server charts have gaps)",
                humantime::format_duration(d)
            );
            return board.failed(i, "slow", why);
        }
        Err(e) => {
            let why = format!("cannot scrape: {e} (the test goes on without server metrics)");
            return board.failed(i, "unreachable", why);
        }
    };
    let t = unix_now();
    if !response.status.is_success() {
        let why = format!("answered {} instead of metrics", response.status);
        return board.failed(i, "status", why);
    }
    if response.body_truncated || response.body_len > MAX_BODY as u64 {
        let why = format!(
            "the answer is {:.1} MB, more than the {} MB read: not parsed (keep fewer series \
             on the endpoint)",
            response.body_len as f64 / 1e6,
            MAX_BODY >> 20
        );
        return board.failed(i, "size", why);
    }
    let content_type = response
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("text/html") {
        let why = "answered an HTML page (text/html), not Prometheus metrics: is this the \
                   metrics URL?"
            .to_string();
        return board.failed(i, "format", why);
    }
    let body = response.body;
    let board2 = board.clone();
    let parsed = tokio::task::spawn_blocking(move || {
        let text = String::from_utf8_lossy(&body);
        let expo = parse::parse(&text);
        if expo.sample_count() == 0 {
            let first = expo
                .skipped
                .first()
                .map_or("it is empty".to_string(), |e| format!("{e}"));
            board2.failed(
                i,
                "format",
                format!("the answer has no Prometheus samples ({first})"),
            );
        } else {
            board2.record(i, t, &expo);
        }
    })
    .await;
    if parsed.is_err() {
        board.failed(i, "parse", "reading the answer failed".to_string());
    }
}
