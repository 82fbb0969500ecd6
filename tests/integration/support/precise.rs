//! A minimal HTTP/1.1 target for timing tests: one blocking thread per connection, no async
//! hand-offs. `GET /delay?ms=N` sleeps N ms with `std::thread::sleep` (within ~0.1 ms of
//! the asked time, where tokio's 1 ms timer wheel adds 1–2 ms) and answers `done`; the
//! time each request spent at the target is recorded.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running precise target; its threads end when the test process ends.
pub struct PreciseTarget {
    pub addr: SocketAddr,
    /// Time each request spent at the target, µs.
    pub served_us: Arc<Mutex<Vec<u64>>>,
}

impl PreciseTarget {
    pub fn start() -> PreciseTarget {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("addr");
        let served_us = Arc::new(Mutex::new(Vec::new()));
        let served = served_us.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let served = served.clone();
                std::thread::spawn(move || serve(conn, &served));
            }
        });
        PreciseTarget { addr, served_us }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn count(&self) -> u64 {
        self.served_us.lock().unwrap().len() as u64
    }

    /// Median time a request spent at the target, ms.
    pub fn median_ms(&self) -> f64 {
        let mut v = self.served_us.lock().unwrap().clone();
        v.sort_unstable();
        v.get(v.len().saturating_sub(1) / 2).copied().unwrap_or(0) as f64 / 1000.0
    }
}

fn serve(conn: TcpStream, served: &Mutex<Vec<u64>>) {
    let _ = conn.set_nodelay(true);
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let began = Instant::now();
        let ms: u64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|target| target.split_once("ms="))
            .and_then(|(_, v)| v.split('&').next()?.parse().ok())
            .unwrap_or(0);
        // Skip the headers (GET requests only: no body).
        loop {
            let mut h = String::new();
            match reader.read_line(&mut h) {
                Ok(0) | Err(_) => return,
                Ok(_) if h == "\r\n" || h == "\n" => break,
                Ok(_) => {}
            }
        }
        std::thread::sleep(Duration::from_millis(ms));
        served
            .lock()
            .unwrap()
            .push(began.elapsed().as_micros() as u64);
        let resp = b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\ncontent-type: text/plain\r\n\r\ndone";
        if out.write_all(resp).is_err() {
            return;
        }
    }
}
