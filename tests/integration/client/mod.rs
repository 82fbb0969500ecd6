//! Tests of the per-user HTTP client against in-process servers on loopback: keep-alive,
//! reconnection and transport failures here; TLS, HTTP/2, cookies, redirects, bodies and
//! the rendering of error statuses in [`protocol`].

mod protocol;

use std::time::Duration;

use http::StatusCode;
use surge::client::{ClientConfig, ClientShared, RequestError, UserClient};

use crate::support::client::get_request as get;
use crate::support::client::{read_head, run_local, start_http, start_raw, write_raw};

fn client(config: ClientConfig) -> UserClient {
    UserClient::new(ClientShared::new(config))
}

fn default_client() -> UserClient {
    client(ClientConfig::default())
}

#[test]
fn keep_alive_reuses_one_connection() {
    run_local(async {
        let server = start_http().await;
        let mut c = default_client();
        for _ in 0..50 {
            let resp = c.send(get(server.url("/hello")), true).await.unwrap();
            assert_eq!(resp.status, StatusCode::OK);
            assert_eq!(&resp.body[..], b"hello");
            assert_eq!(resp.body_len, 5);
        }
        assert_eq!(server.connection_count(), 1);
        assert_eq!(c.idle_connections(), 1);
    });
}

#[test]
fn connection_close_responses_reconnect() {
    run_local(async {
        let server = start_http().await;
        let mut c = default_client();
        for _ in 0..10 {
            let resp = c.send(get(server.url("/close")), false).await.unwrap();
            assert_eq!(resp.status, StatusCode::OK);
            assert_eq!(resp.body_len, 3);
        }
        assert_eq!(server.connection_count(), 10);
        // Back to a kept-alive route: no failure after the closes.
        c.send(get(server.url("/hello")), false).await.unwrap();
    });
}

#[test]
fn server_closing_idle_connections_is_transparent() {
    run_local(async {
        // Answers one request per connection without saying so, then closes.
        let addr = start_raw(|mut s| async move {
            if read_head(&mut s).await {
                write_raw(&mut s, b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
            }
        })
        .await;
        let url = url::Url::parse(&format!("http://{addr}/")).unwrap();
        let mut c = default_client();
        for i in 0..20 {
            let resp = c.send(get(url.clone()), false).await;
            assert_eq!(resp.map(|r| r.status), Ok(StatusCode::OK), "request {i}");
            if i % 2 == 0 {
                // Give the close time to arrive on some iterations, race it on others.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });
}

#[test]
fn refused_connection() {
    run_local(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let url = url::Url::parse(&format!("http://{addr}/x")).unwrap();
        let err = default_client().send(get(url), false).await.unwrap_err();
        assert_eq!(
            err,
            RequestError::ConnectionRefused {
                addr: addr.to_string()
            }
        );
        assert_eq!(err.to_string(), format!("connection refused ({addr})"));
    });
}

#[test]
fn reset_mid_body() {
    run_local(async {
        let addr = start_raw(|mut s| async move {
            if read_head(&mut s).await {
                let head = b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n";
                write_raw(&mut s, head).await;
                write_raw(&mut s, &[b'a'; 1000]).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                let _ = s.set_zero_linger();
                drop(s);
            }
        })
        .await;
        let url = url::Url::parse(&format!("http://{addr}/")).unwrap();
        let err = default_client().send(get(url), false).await.unwrap_err();
        let RequestError::Body(detail) = &err else {
            panic!("expected a body error, got {err:?}");
        };
        assert!(
            detail.contains("reset") || detail.contains("closed"),
            "{err}"
        );
        assert!(err.to_string().starts_with("error reading body: "));
    });
}

#[test]
fn silent_server_times_out() {
    run_local(async {
        let addr = start_raw(|mut s| async move {
            read_head(&mut s).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        })
        .await;
        let url = url::Url::parse(&format!("http://{addr}/")).unwrap();
        let mut c = client(ClientConfig {
            timeout: Duration::from_millis(200),
            ..ClientConfig::default()
        });
        let started = std::time::Instant::now();
        let err = c.send(get(url), false).await.unwrap_err();
        assert_eq!(err, RequestError::Timeout(Duration::from_millis(200)));
        assert_eq!(err.to_string(), "timed out after 200ms");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(c.idle_connections(), 0);
    });
}

#[test]
fn timed_out_connection_is_not_reused() {
    run_local(async {
        let server = start_http().await;
        let mut c = client(ClientConfig {
            timeout: Duration::from_millis(300),
            ..ClientConfig::default()
        });
        c.send(get(server.url("/hello")), false).await.unwrap();
        let err = c.send(get(server.url("/slow?n=2000")), false).await;
        assert_eq!(
            err.unwrap_err(),
            RequestError::Timeout(Duration::from_millis(300))
        );
        let resp = c.send(get(server.url("/slow?n=10")), true).await.unwrap();
        assert_eq!(&resp.body[..], b"slow");
        assert_eq!(server.connection_count(), 2);
    });
}

#[test]
fn every_request_gets_its_whole_timeout() {
    // A user's requests share one timer, re-armed when it fires early: a request that starts
    // late in an earlier one's window still gets its whole timeout, and no more.
    run_local(async {
        let server = start_http().await;
        let limit = Duration::from_millis(400);
        let mut c = client(ClientConfig {
            timeout: limit,
            ..ClientConfig::default()
        });
        c.send(get(server.url("/hello")), false).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        // The first request's deadline passes while this one runs.
        let started = std::time::Instant::now();
        let resp = c.send(get(server.url("/slow?n=250")), true).await.unwrap();
        assert_eq!(&resp.body[..], b"slow");
        assert!(started.elapsed() >= Duration::from_millis(250));
        let started = std::time::Instant::now();
        let err = c.send(get(server.url("/slow?n=3000")), false).await;
        let waited = started.elapsed();
        assert_eq!(err.unwrap_err(), RequestError::Timeout(limit));
        assert!(
            waited >= limit && waited < Duration::from_millis(1500),
            "timed out after {waited:?}"
        );
    });
}

#[test]
fn garbage_is_malformed() {
    run_local(async {
        let addr = start_raw(|mut s| async move {
            if read_head(&mut s).await {
                write_raw(&mut s, b"garbage\r\n\r\n").await;
            }
        })
        .await;
        let url = url::Url::parse(&format!("http://{addr}/")).unwrap();
        let err = default_client().send(get(url), false).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "malformed HTTP response: invalid HTTP version"
        );
    });
}

#[test]
fn closed_without_response() {
    run_local(async {
        let addr = start_raw(|mut s| async move {
            read_head(&mut s).await;
        })
        .await;
        let url = url::Url::parse(&format!("http://{addr}/")).unwrap();
        let err = default_client().send(get(url), false).await.unwrap_err();
        assert_eq!(err, RequestError::ConnectionClosed);
    });
}

#[test]
fn invalid_urls_and_dns() {
    run_local(async {
        let mut c = client(ClientConfig {
            timeout: Duration::from_secs(10),
            ..ClientConfig::default()
        });
        let ftp = url::Url::parse("ftp://example.test/").unwrap();
        let err = c.send(get(ftp), false).await.unwrap_err();
        assert!(matches!(err, RequestError::InvalidUrl(_)), "{err}");
        let nosuch = url::Url::parse("http://nosuch.invalid/").unwrap();
        match c.send(get(nosuch), false).await.unwrap_err() {
            RequestError::Dns { host, .. } => assert_eq!(host, "nosuch.invalid"),
            // A sandbox without a resolver may not answer at all.
            RequestError::Timeout(_) => {}
            other => panic!("expected a DNS error, got {other:?}"),
        }
    });
}
