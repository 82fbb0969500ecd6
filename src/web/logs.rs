//! The controller's log: a bounded ring of lines for the Logs tab and `GET /logs`, plus a
//! broadcast so open dashboards receive each new line live (SSE `log` events).
//!
//! Writers never block: the ring sits behind a mutex held only to push or copy, and the
//! broadcast drops lines for a receiver that lags.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::broadcast;

use crate::stats::unix_now;

/// Lines kept for new browsers and `GET /logs`.
pub const MAX_LINES: usize = 1000;

/// Severity, as the page colours it (a warning or error puts a badge on the tab).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// One log line (`LOG` in the web contract).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LogLine {
    /// Position in the log (1, 2, ...): lets a stream skip lines it already sent.
    #[serde(skip)]
    pub n: u64,
    /// Unix time, seconds.
    pub time: f64,
    pub level: Level,
    pub message: String,
}

/// A new line as broadcast to streams: the line and its JSON, serialised once.
#[derive(Debug, Clone)]
pub struct LogFrame {
    pub n: u64,
    pub json: Arc<str>,
}

struct Ring {
    lines: VecDeque<LogLine>,
    next: u64,
}

/// The log shared by handlers, the SSE hub and `app` (which may echo lines to the console).
pub struct LogBuffer {
    ring: Mutex<Ring>,
    tx: broadcast::Sender<LogFrame>,
    /// Also print each line to stderr (the binary does; tests do not).
    echo: bool,
}

impl LogBuffer {
    /// An empty log; `echo` also prints lines to stderr.
    pub fn new(echo: bool) -> LogBuffer {
        let (tx, _) = broadcast::channel(256);
        LogBuffer {
            ring: Mutex::new(Ring {
                lines: VecDeque::new(),
                next: 1,
            }),
            tx,
            echo,
        }
    }

    /// Append a line and send it to every open stream.
    pub fn push(&self, level: Level, message: impl Into<String>) {
        let message = message.into();
        if self.echo {
            eprintln!("[{}] {message}", level_name(level));
        }
        let Ok(mut ring) = self.ring.lock() else {
            return;
        };
        let line = LogLine {
            n: ring.next,
            time: unix_now(),
            level,
            message,
        };
        ring.next += 1;
        if ring.lines.len() >= MAX_LINES {
            ring.lines.pop_front();
        }
        let json: Arc<str> = serde_json::to_string(&line)
            .unwrap_or_else(|_| "{}".into())
            .into();
        let n = line.n;
        ring.lines.push_back(line);
        // Sent under the lock so that streams see lines in order; `send` never waits.
        let _ = self.tx.send(LogFrame { n, json });
    }

    pub fn info(&self, message: impl Into<String>) {
        self.push(Level::Info, message);
    }

    pub fn warning(&self, message: impl Into<String>) {
        self.push(Level::Warning, message);
    }

    pub fn error(&self, message: impl Into<String>) {
        self.push(Level::Error, message);
    }

    /// The lines kept, oldest first.
    pub fn lines(&self) -> Vec<LogLine> {
        self.ring
            .lock()
            .map(|r| r.lines.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Number of the newest line (0 when none yet).
    pub fn last_n(&self) -> u64 {
        self.ring.lock().map(|r| r.next - 1).unwrap_or(0)
    }

    /// The lines kept with a number above `n`, oldest first.
    pub fn lines_after(&self, n: u64) -> Vec<LogLine> {
        self.ring
            .lock()
            .map(|r| r.lines.iter().filter(|l| l.n > n).cloned().collect())
            .unwrap_or_default()
    }

    /// New lines from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LogFrame> {
        self.tx.subscribe()
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Info => "info",
        Level::Warning => "warning",
        Level::Error => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_is_bounded_and_numbered() {
        let log = LogBuffer::new(false);
        let mut rx = log.subscribe();
        for i in 0..(MAX_LINES + 5) {
            log.info(format!("line {i}"));
        }
        let lines = log.lines();
        assert_eq!(lines.len(), MAX_LINES);
        assert_eq!(lines[0].n, 6);
        assert_eq!(lines.last().map(|l| l.n), Some(MAX_LINES as u64 + 5));
        assert!(rx.try_recv().is_err() || log.lines().len() == MAX_LINES);
        let json = serde_json::to_value(&lines[0]).unwrap();
        assert_eq!(json["level"], "info");
        assert!(json.get("n").is_none());
    }
}
