//! `GET /events`: one server-sent-event stream per browser, fed by the hub.
//!
//! On connect: `event: state` with the whole history (or, with `Last-Event-ID: N`, only what
//! came after snapshot N, `"resumed": true`). Then `event: snapshot` per tick (id = the
//! snapshot's `seq`) and `event: log` per new log line, with a keep-alive comment every 15 s.
//! Frames are serialised once by the hub and shared; a stream that lags behind the broadcast
//! is resynchronised with a `resumed` state event instead of slowing anyone down. The hub's
//! and the log's broadcast channels are read as streams (tokio-stream's `BroadcastStream`).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

use super::hub::{Frame, Hub};
use super::logs::{LogBuffer, LogFrame};
use super::AppState;

/// Interval of the keep-alive comments.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The handler of `GET /events`.
pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let last_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    Sse::new(stream(state.hub.clone(), state.logs.clone(), last_id))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

/// Where one browser's stream is.
struct Conn {
    hub: Arc<Hub>,
    frames: BroadcastStream<Frame>,
    logs: BroadcastStream<LogFrame>,
    /// Seq of the last snapshot sent (in a state or snapshot event).
    last_seq: u64,
    /// Number of the last log line sent.
    last_log: u64,
}

impl Conn {
    /// A `state` event covering everything after `after` (or everything).
    fn state(&mut self, after: Option<u64>) -> Event {
        let s = self.hub.state_event(after);
        self.last_seq = s.seq;
        self.last_log = self.last_log.max(s.log_mark);
        Event::default()
            .id(s.seq.to_string())
            .event("state")
            .data(s.json)
    }

    /// The next event; `None` once the hub or the log is gone.
    async fn next(&mut self) -> Option<Event> {
        loop {
            tokio::select! {
                // Snapshots first: a log line written after a tick follows that tick.
                biased;
                frame = self.frames.next() => match frame? {
                    Ok(f) if f.seq <= self.last_seq => continue,
                    Ok(f) => {
                        self.last_seq = f.seq;
                        return Some(Event::default()
                            .id(f.seq.to_string())
                            .event("snapshot")
                            .data(&*f.json));
                    }
                    Err(BroadcastStreamRecvError::Lagged(_)) => {
                        // Start again at the tail (the old position would lag again at the
                        // next send), and send what was missed as one resumed state.
                        self.frames = BroadcastStream::new(self.hub.subscribe());
                        let after = Some(self.last_seq);
                        return Some(self.state(after));
                    }
                },
                line = self.logs.next() => match line? {
                    Ok(l) if l.n <= self.last_log => continue,
                    Ok(l) => {
                        self.last_log = l.n;
                        return Some(Event::default().event("log").data(&*l.json));
                    }
                    Err(BroadcastStreamRecvError::Lagged(_)) => continue,
                },
            }
        }
    }
}

/// The event stream of one browser (subscribes before reading the state, so nothing is
/// missed between the two).
pub fn stream(
    hub: Arc<Hub>,
    logs: Arc<LogBuffer>,
    last_id: Option<u64>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let mut conn = Conn {
        frames: BroadcastStream::new(hub.subscribe()),
        logs: BroadcastStream::new(logs.subscribe()),
        hub,
        last_seq: 0,
        last_log: 0,
    };
    let first = conn.state(last_id);
    let rest = futures::stream::unfold(conn, |mut conn| async move {
        conn.next().await.map(|e| (e, conn))
    });
    tokio_stream::once(first)
        .chain(rest)
        .map(Ok::<_, Infallible>)
}
