//! `GET /events` from a real server on `127.0.0.1:0` while a test runs against the
//! in-process target: the `state` event first, then one `snapshot` per tick with ids that
//! increase by one and request counts that grow and end equal to what the target counted;
//! `log` events for the controller's lines; and a reconnect with `Last-Event-ID` that gets
//! `resumed: true` with only the newer history points.

use std::net::SocketAddr;
use std::time::Duration;

use crate::support::*;
use axum::body::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use surge::web::{self, AppState, Defaults};

/// One server-sent event.
#[derive(Debug, Clone)]
struct Sse {
    id: Option<u64>,
    event: String,
    data: Value,
}

/// Reads events off a streaming response body.
struct Events {
    body: Incoming,
    buf: String,
    /// Messages of every `log` event read so far.
    logs: Vec<String>,
}

impl Events {
    async fn next(&mut self) -> Sse {
        loop {
            if let Some(pos) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..pos + 2).collect();
                let (mut id, mut event, mut data) = (None, String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ").or(line.strip_prefix("id:")) {
                        id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event = v.to_string();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if event.is_empty() {
                    continue; // a keep-alive comment
                }
                let data: Value =
                    serde_json::from_str(&data).unwrap_or_else(|e| panic!("{e}: {data}"));
                if event == "log" {
                    self.logs
                        .push(data["message"].as_str().unwrap_or("").to_string());
                }
                return Sse { id, event, data };
            }
            let frame = self
                .body
                .frame()
                .await
                .expect("stream ended")
                .expect("stream error");
            if let Ok(bytes) = frame.into_data() {
                self.buf.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }

    /// The next event of kind `event`, skipping others.
    async fn next_of(&mut self, event: &str) -> Sse {
        loop {
            let e = self.next().await;
            if e.event == event {
                return e;
            }
        }
    }
}

async fn connect(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

async fn events(addr: SocketAddr, last_id: Option<u64>) -> Events {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = Request::get("/events").header("host", addr.to_string());
    if let Some(id) = last_id {
        req = req.header("last-event-id", id.to_string());
    }
    let res = sender
        .send_request(req.body(Empty::<Bytes>::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ctype = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ctype.starts_with("text/event-stream"), "{ctype}");
    Events {
        body: res.into_body(),
        buf: String::new(),
        logs: Vec::new(),
    }
}

async fn post(addr: SocketAddr, path: &str, form: &str) -> Value {
    let mut sender = connect(addr).await;
    let req = Request::post(path)
        .header("host", addr.to_string())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form.to_string())))
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_snapshots_and_resume() {
    let _serial = SERIAL.lock().await;
    within(60, async {
        let target = Target::start();
        let state = AppState::new(engine(), Defaults::empty(), false);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, web::app(state)).await });

        let mut ev = events(addr, None).await;
        let first = ev.next().await;
        assert_eq!(first.event, "state");
        assert_eq!(first.data["resumed"], false);
        assert_eq!(first.data["snapshot"]["state"], "ready");
        assert!(first.data["history"].is_array());
        assert_eq!(first.id, first.data["snapshot"]["seq"].as_u64());

        let url = format!("{}/ok", target.url());
        let started = post(
            addr,
            "/swarm",
            &format!("user_count=2&spawn_rate=100&host={url}"),
        )
        .await;
        assert_eq!(started["success"], true);

        let mut last_id = first.id.unwrap();
        let mut counts = Vec::new();
        let mut logs = Vec::new();
        let mut sizes = Vec::new();
        while counts.len() < 8 {
            let e = ev.next().await;
            match e.event.as_str() {
                "snapshot" => {
                    let id = e.id.unwrap();
                    assert_eq!(id, last_id + 1, "ids increase by one");
                    last_id = id;
                    assert_eq!(e.data["snapshot"]["seq"], id);
                    assert_eq!(e.data["point"]["seq"], id);
                    assert_eq!(e.data["point"]["run"], 1);
                    counts.push(
                        e.data["snapshot"]["total"]["num_requests"]
                            .as_u64()
                            .unwrap(),
                    );
                    sizes.push(e.data.to_string().len());
                }
                "log" => logs.push(e.data["message"].as_str().unwrap().to_string()),
                other => panic!("unexpected {other}"),
            }
        }
        assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
        assert!(counts.last() > counts.first(), "{counts:?}");
        assert!(
            logs.iter().any(|l| l.starts_with("Ramping to 2 users")),
            "{logs:?}"
        );
        eprintln!("snapshot event data: {:?} bytes (2 entries)", sizes.last());
        let mid = last_id;

        post(addr, "/stop", "").await;
        eprintln!("stop answered");
        let stopped = loop {
            let e = ev.next_of("snapshot").await;
            if e.data["snapshot"]["state"] == "stopped" {
                break e;
            }
        };
        assert_eq!(
            stopped.data["snapshot"]["total"]["num_requests"],
            target.seen.hits("/ok"),
            "the final figures match the target"
        );
        eprintln!("stopped at {:?}", stopped.id);
        while !ev.logs.iter().any(|l| l.starts_with("Test stopped")) {
            ev.next().await;
        }
        let after_stop = stopped.id.unwrap();
        drop(ev);

        // Reconnect as a browser would after a network blip.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let mut again = events(addr, Some(mid)).await;
        let state = again.next().await;
        assert_eq!(state.event, "state");
        assert_eq!(state.data["resumed"], true);
        let seqs: Vec<u64> = state.data["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(seqs.first(), Some(&(mid + 1)), "{seqs:?}");
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
        assert!(*seqs.last().unwrap() > after_stop);
        assert_eq!(state.id, seqs.last().copied());
        let next = again.next_of("snapshot").await;
        assert_eq!(next.id, Some(state.id.unwrap() + 1));

        // An id this server never issued gets the whole state.
        let mut fresh = events(addr, Some(u64::MAX)).await;
        let full = fresh.next().await;
        assert_eq!(full.data["resumed"], false);
        assert_eq!(full.data["history"][0]["seq"], 1);
    })
    .await;
}

/// Payload size of one tick with many names (printed; bounded so the page stays light).
#[test]
fn snapshot_payload_with_many_names() {
    use surge::stats::{Aggregator, HistoryPoint, Limits, RunInfo, RunState, WorkerStats};
    let mut agg = Aggregator::new(Limits::default());
    agg.start(0.0);
    let mut w = WorkerStats::default();
    for i in 0..1000u64 {
        for j in 0..20u64 {
            w.record("GET", &format!("/item/{i}"), 1000 + j * 37, 512, None, 0.5);
        }
    }
    agg.merge(w, 0.5);
    let info = RunInfo {
        state: RunState::Running,
        user_count: 100,
        run: 1,
        host: "http://127.0.0.1:8080".into(),
        target_rate: None,
    };
    let snap = agg.snapshot(1.0, &info);
    let json = format!(
        r#"{{"snapshot":{},"point":{}}}"#,
        serde_json::to_string(&snap).unwrap(),
        serde_json::to_string(&HistoryPoint::of(&snap)).unwrap()
    );
    eprintln!("snapshot event data with 1000 names: {} bytes", json.len());
    assert!(json.len() < 1_000_000, "{}", json.len());
}

/// The binary serves the dashboard: prints its URL, `--autostart` starts the test, SIGTERM
/// stops it, writes `--json` and the `--csv` files (with history rows) and exits 0.
#[test]
fn the_binary_serves_the_dashboard() {
    use crate::support::binary::{http, Surge};
    let target = Target::start();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let (url, prefix) = (format!("{}/ok", target.url()), dir.path().join("run"));
    let mut surge = Surge::spawn(&[
        "-H",
        &url,
        "-u",
        "2",
        "-r",
        "100",
        "--workers",
        "1",
        "--autostart",
        "--web-port",
        "0",
        "--json",
        json.to_str().unwrap(),
        "--csv",
        prefix.to_str().unwrap(),
    ]);
    let addr = surge.dashboard();
    std::thread::sleep(Duration::from_millis(1500));
    let answer = http(&addr, "GET", "/stats/requests", &[]);
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");
    assert!(
        answer.contains("\"state\":\"running\"") || answer.contains("\"state\":\"spawning\""),
        "{answer}"
    );
    surge.signal("TERM");
    let out = surge.wait(20);
    assert_eq!(out.code, Some(0), "{out:?}");
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(summary["state"], "stopped");
    let hits = target.seen.hits("/ok");
    assert_eq!(summary["total"]["num_requests"], hits);
    let stats = std::fs::read_to_string(dir.path().join("run_stats.csv")).unwrap();
    let last = stats.lines().last().unwrap();
    assert!(last.starts_with(&format!(",Aggregated,{hits},")), "{last}");
    let history = std::fs::read_to_string(dir.path().join("run_stats_history.csv")).unwrap();
    assert!(history.lines().count() >= 2, "{history}");
}

/// A browser that stops reading while many ticks pass is not waited for: when it reads
/// again it gets a `resumed` state with every point it missed, then live snapshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_stream_is_resynchronised() {
    use axum::body::Body;
    use tower::ServiceExt;
    within(30, async {
        let state = AppState::new(engine(), Defaults::empty(), false);
        let app = web::app(state.clone());
        let res = app
            .oneshot(Request::get("/events").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let mut body = res.into_body();
        async fn read_frame(body: &mut Body) -> String {
            let frame = body.frame().await.unwrap().unwrap();
            String::from_utf8_lossy(&frame.into_data().unwrap()).into_owned()
        }
        let first = read_frame(&mut body).await;
        assert!(first.contains("event: state"), "{first}");
        // 200 ticks while this browser reads nothing (the channel holds 64).
        let base = state.engine.snapshot();
        for i in 1..=200u64 {
            let mut s = (*base).clone();
            s.seq = 1_000_000 + i;
            state.hub.ingest(std::sync::Arc::new(s));
        }
        let next = read_frame(&mut body).await;
        assert!(next.contains("event: state"), "{next}");
        assert!(next.contains("\"resumed\":true"), "{}", &next[..200]);
        assert!(next.contains("\"seq\":1000200"));
        assert!(next.contains("\"seq\":1000001"), "no missed point is lost");
        let mut s = (*base).clone();
        s.seq = 1_000_201;
        state.hub.ingest(std::sync::Arc::new(s));
        let live = read_frame(&mut body).await;
        assert!(
            live.contains("id: 1000201") && live.contains("event: snapshot"),
            "{live}"
        );
    })
    .await;
}
