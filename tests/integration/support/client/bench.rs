//! Throughput benchmark (ignored by default): the client next to hand-written keep-alive
//! loops on raw sockets against the same server.

use std::sync::Arc;
use std::time::Duration;

use surge::client::{ClientConfig, ClientShared, UserClient};

use super::{get_request as get, run_local, start_http};

/// Throughput of 50 users on one current-thread worker against a one-thread hyper server,
/// next to hand-written keep-alive loops on raw sockets (the ceiling, like wrk). Run with
/// `cargo test --release --test integration -- --ignored --nocapture throughput`
/// (in this module so `client.rs` stays small).
#[test]
#[ignore]
fn throughput_against_raw_sockets() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            addr_tx.send(start_http().await.addr).unwrap();
            std::future::pending::<()>().await;
        });
    });
    let addr = addr_rx.recv().unwrap();
    let users = 50;
    let window = Duration::from_secs(3);

    let done = Arc::new(AtomicU64::new(0));
    let count = done.clone();
    run_local(async move {
        let shared = ClientShared::new(ClientConfig::default());
        let url = url::Url::parse(&format!("http://{addr}/hello")).unwrap();
        let stop = tokio::time::Instant::now() + window;
        let tasks: Vec<_> = (0..users)
            .map(|_| {
                let (shared, url, count) = (shared.clone(), url.clone(), count.clone());
                tokio::task::spawn_local(async move {
                    let mut c = UserClient::new(shared);
                    while tokio::time::Instant::now() < stop {
                        c.send(get(url.clone()), false).await.unwrap();
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        futures::future::join_all(tasks).await;
    });
    let client_rate = done.load(Ordering::Relaxed) as f64 / window.as_secs_f64();

    let done = Arc::new(AtomicU64::new(0));
    let count = done.clone();
    run_local(async move {
        let stop = tokio::time::Instant::now() + window;
        let tasks: Vec<_> = (0..users)
            .map(|_| {
                let count = count.clone();
                tokio::task::spawn_local(async move {
                    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                    s.set_nodelay(true).unwrap();
                    let mut buf = vec![0u8; 4096];
                    while tokio::time::Instant::now() < stop {
                        s.write_all(b"GET /hello HTTP/1.1\r\nhost: x\r\n\r\n")
                            .await
                            .unwrap();
                        let mut have = 0;
                        loop {
                            have += s.read(&mut buf[have..]).await.unwrap();
                            let head = buf[..have].windows(4).position(|w| w == b"\r\n\r\n");
                            if head.is_some_and(|end| have >= end + 4 + 5) {
                                break;
                            }
                        }
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        futures::future::join_all(tasks).await;
    });
    let raw_rate = done.load(Ordering::Relaxed) as f64 / window.as_secs_f64();
    eprintln!(
        "{users} users: client {client_rate:.0} req/s, raw sockets {raw_rate:.0} req/s ({:.0}%)",
        100.0 * client_rate / raw_rate
    );
}
