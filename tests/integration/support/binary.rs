//! The `surge` binary as a child process: started with arguments, its stdout read line by
//! line on a thread, signals sent with `kill`, waited for with a bound. Killed if a test
//! fails before it exited.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// A running `surge`.
pub struct Surge {
    child: Option<Child>,
    /// Lines of its stdout, as they are printed.
    lines: Receiver<String>,
    /// Every line read so far.
    pub seen: Vec<String>,
}

impl Surge {
    /// Start `surge ARGS` with an empty environment.
    pub fn spawn(args: &[&str]) -> Surge {
        let mut child = Command::new(env!("CARGO_BIN_EXE_surge"))
            .args(args)
            .env_clear()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start surge");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Surge {
            child: Some(child),
            lines,
            seen: Vec::new(),
        }
    }

    /// Wait (at most 20 s) for a stdout line starting with `prefix`; returns the rest.
    pub fn line_starting(&mut self, prefix: &str) -> String {
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no line starting {prefix:?}; saw {:?}", self.seen));
            self.seen.push(line.clone());
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.to_string();
            }
        }
    }

    /// The `host:port` of the dashboard, from its "Surge dashboard: http(s)://..." line.
    pub fn dashboard(&mut self) -> String {
        let url = self.line_starting("Surge dashboard: ");
        url.split_once("://").map(|(_, a)| a.to_string()).unwrap()
    }

    /// Send a signal (`"INT"`, `"TERM"`).
    pub fn signal(&self, name: &str) {
        let id = self.child.as_ref().expect("running").id();
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &id.to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill -{name} {id}");
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Wait (at most `secs`) for it to exit.
    pub fn wait(mut self, secs: u64) -> Exit {
        let child = self.child.take().expect("running");
        let id = child.id();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        let out = match rx.recv_timeout(Duration::from_secs(secs)) {
            Ok(out) => out.expect("wait"),
            Err(_) => {
                let _ = Command::new("kill")
                    .args(["-KILL", &id.to_string()])
                    .status();
                panic!(
                    "surge did not exit within {secs} s; stdout so far: {:?}",
                    self.seen
                );
            }
        };
        // The reader thread ends at the end of the output.
        self.seen.extend(self.lines.iter());
        Exit {
            code: out.status.code(),
            stdout: self.seen.join("\n"),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// How a `surge` process ended.
#[derive(Debug)]
pub struct Exit {
    /// `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Drop for Surge {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// One HTTP/1.0 request to `addr` (`host:port`) with extra header lines; the whole answer.
pub fn http(addr: &str, method: &str, path: &str, headers: &[&str]) -> String {
    let mut conn = std::net::TcpStream::connect(addr).expect("connect to the dashboard");
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut req = format!("{method} {path} HTTP/1.0\r\nHost: {addr}\r\n");
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    if method == "POST" {
        req.push_str("Content-Length: 0\r\n");
    }
    req.push_str("\r\n");
    conn.write_all(req.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer
}

/// Poll `f` every 100 ms until it returns `Some` (at most `secs`).
pub fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The Aggregated request count in `run_stats.csv` and in `run.json`.
pub fn counts(dir: &Path) -> (u64, u64) {
    for suffix in [
        "_stats.csv",
        "_stats_history.csv",
        "_failures.csv",
        "_exceptions.csv",
    ] {
        assert!(
            dir.join(format!("run{suffix}")).exists(),
            "missing run{suffix}"
        );
    }
    let stats = std::fs::read_to_string(dir.join("run_stats.csv")).unwrap();
    let row = stats
        .lines()
        .find(|l| l.starts_with(",Aggregated,"))
        .unwrap_or_else(|| panic!("no Aggregated row in\n{stats}"));
    let csv_count: u64 = row.split(',').nth(2).unwrap().parse().unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    (csv_count, json["total"]["num_requests"].as_u64().unwrap())
}
