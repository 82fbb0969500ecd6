//! The client's protocol features against in-process servers on loopback: TLS and HTTP/2,
//! default headers, cookies, redirects, bodies, error bodies as grouped messages, and the
//! framing cases (chunked, interim, close-delimited, `101`).

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, StatusCode, Version};
use surge::client::{
    describe_status, ClientConfig, ClientShared, RequestError, UserClient, ERROR_EXCERPT_BYTES,
    MAX_KEPT_BODY,
};
use surge::stats::errors::normalise;

use super::{client, default_client};
use crate::support::client::shapes::SHAPES;
use crate::support::client::{get_request as get, post_request as post};
use crate::support::client::{read_head, run_local, start_http, start_https, start_raw, write_raw};

#[test]
fn tls_certificate_checked_unless_insecure() {
    run_local(async {
        let server = start_https(&["http/1.1"]).await;
        let err = default_client()
            .send(get(server.https_url("/hello")), false)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "TLS error: invalid peer certificate: UnknownIssuer"
        );
        let mut c = client(ClientConfig {
            insecure: true,
            ..ClientConfig::default()
        });
        for _ in 0..5 {
            let resp = c.send(get(server.https_url("/hello")), true).await.unwrap();
            assert_eq!(&resp.body[..], b"hello");
        }
        assert_eq!(c.last_version(), Version::HTTP_11);
        assert_eq!(server.connection_count(), 2);
    });
}

#[test]
fn http2_negotiated_by_alpn() {
    run_local(async {
        let server = start_https(&["h2", "http/1.1"]).await;
        let mut c = client(ClientConfig {
            insecure: true,
            ..ClientConfig::default()
        });
        for _ in 0..10 {
            let resp = c.send(get(server.https_url("/echo")), true).await.unwrap();
            let text = String::from_utf8_lossy(&resp.body).to_string();
            assert!(text.starts_with("GET||surge/"), "{text}");
        }
        let resp = c
            .send(post(server.https_url("/r307"), "h2 body"), true)
            .await
            .unwrap();
        assert!(resp.body.ends_with(b"|h2 body"));
        let big = c.send(get(server.https_url("/big?n=3000000")), false).await;
        assert_eq!(big.unwrap().body_len, 3_000_000);
        assert_eq!(c.last_version(), Version::HTTP_2);
        assert_eq!(server.connection_count(), 1);
        let versions = server.versions.lock().unwrap().clone();
        assert!(
            versions.iter().all(|v| *v == Version::HTTP_2),
            "{versions:?}"
        );
    });
}

#[test]
fn plain_http_sends_default_headers() {
    run_local(async {
        let server = start_http().await;
        let mut c = default_client();
        let resp = c.send(get(server.url("/echo")), true).await.unwrap();
        let expected = format!("GET||surge/{}|{}|", env!("CARGO_PKG_VERSION"), server.addr);
        assert_eq!(String::from_utf8_lossy(&resp.body), expected);
        let mut req = post(server.url("/echo"), "payload");
        req.headers
            .insert("user-agent", HeaderValue::from_static("custom"));
        let resp = c.send(req, true).await.unwrap();
        let text = String::from_utf8_lossy(&resp.body).to_string();
        assert!(text.starts_with("POST||custom|"), "{text}");
        assert!(text.ends_with("|payload"), "{text}");
    });
}

#[test]
fn cookies_are_kept_per_user() {
    run_local(async {
        let server = start_http().await;
        let shared = ClientShared::new(ClientConfig::default());
        let mut alice = UserClient::new(shared.clone());
        let mut bob = UserClient::new(shared);
        alice.send(get(server.url("/login")), false).await.unwrap();
        let resp = alice.send(get(server.url("/echo")), true).await.unwrap();
        assert!(resp.body.starts_with(b"GET|sid=42|"));
        let resp = bob.send(get(server.url("/echo")), true).await.unwrap();
        assert!(resp.body.starts_with(b"GET||"));
        // A cookie the request sets itself is combined with the jar's.
        let mut req = get(server.url("/echo"));
        req.headers
            .insert("cookie", HeaderValue::from_static("own=1"));
        let resp = alice.send(req, true).await.unwrap();
        assert!(resp.body.starts_with(b"GET|own=1; sid=42|"));
    });
}

#[test]
fn redirects() {
    run_local(async {
        let server = start_http().await;
        let mut c = default_client();
        // 302 on a POST: followed as a GET without body; its cookie is stored.
        let resp = c
            .send(post(server.url("/r302"), "data"), true)
            .await
            .unwrap();
        assert_eq!(resp.status, StatusCode::OK);
        assert!(
            resp.body.starts_with(b"GET|via=redirect|"),
            "{:?}",
            resp.body
        );
        assert!(resp.body.ends_with(b"|"));
        // 307 and 308 keep the method and body.
        for path in ["/r307", "/r308"] {
            let resp = c.send(post(server.url(path), "data"), true).await.unwrap();
            assert!(resp.body.starts_with(b"POST|"), "{:?}", resp.body);
            assert!(resp.body.ends_with(b"|data"));
        }
        let err = c.send(get(server.url("/loop")), false).await.unwrap_err();
        assert_eq!(err, RequestError::TooManyRedirects(10));
        assert_eq!(err.to_string(), "too many redirects (more than 10)");

        let mut none = client(ClientConfig {
            max_redirects: 0,
            ..ClientConfig::default()
        });
        let resp = none.send(get(server.url("/r302")), false).await.unwrap();
        assert_eq!(resp.status, StatusCode::FOUND);
        assert_eq!(resp.headers["location"], "/echo");

        let mut two = client(ClientConfig {
            max_redirects: 2,
            ..ClientConfig::default()
        });
        let err = two.send(get(server.url("/loop")), false).await.unwrap_err();
        assert_eq!(err, RequestError::TooManyRedirects(2));
        // A redirect status without `location` is returned as is.
        let resp = two.send(get(server.url("/noloc")), true).await.unwrap();
        assert_eq!(resp.status, StatusCode::FOUND);
        assert_eq!(&resp.body[..], b"nowhere");
        assert_eq!(server.connection_count(), 3);
    });
}

#[test]
fn bodies_kept_only_when_asked() {
    run_local(async {
        let server = start_http().await;
        let mut c = default_client();
        let resp = c.send(get(server.url("/hello")), false).await.unwrap();
        assert!(resp.body.is_empty());
        assert_eq!(resp.body_len, 5);
        assert!(!resp.body_truncated);

        let total = 20 * 1024 * 1024;
        let resp = c.send(get(server.url("/big")), false).await.unwrap();
        assert_eq!(resp.body_len, total as u64);
        assert!(resp.body.is_empty());

        let resp = c.send(get(server.url("/big")), true).await.unwrap();
        assert_eq!(resp.body_len, total as u64);
        assert_eq!(resp.body.len(), MAX_KEPT_BODY);
        assert!(resp.body_truncated);

        let resp = c
            .send(get(server.url("/big?n=100000")), true)
            .await
            .unwrap();
        assert_eq!(resp.body.len(), 100_000);
        assert!(!resp.body_truncated);

        // Error statuses keep an excerpt for the failure message.
        let resp = c.send(get(server.url("/error")), false).await.unwrap();
        assert_eq!(
            describe_status(resp.status, &resp.body),
            "500 Internal Server Error: (OperationalError) 1040: Too many connections"
        );
        let resp = c.send(get(server.url("/bigerror")), false).await.unwrap();
        assert_eq!(resp.body.len(), ERROR_EXCERPT_BYTES);
        assert_eq!(resp.body_len, 10_000);
        assert_eq!(server.connection_count(), 1);
    });
}

#[test]
fn works_on_a_multi_thread_runtime_too() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server = start_http().await;
        let shared = ClientShared::new(ClientConfig::default());
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let shared = Arc::clone(&shared);
                let url = server.url("/hello");
                tokio::spawn(async move {
                    let mut c = UserClient::new(shared);
                    for _ in 0..20 {
                        c.send(get(url.clone()), false).await.unwrap();
                    }
                })
            })
            .collect();
        let all = futures::future::join_all(tasks);
        let done = tokio::time::timeout(Duration::from_secs(30), all).await;
        assert!(done.unwrap().into_iter().all(|r| r.is_ok()));
        assert_eq!(server.connection_count(), 4);
    });
}

/// Every error body shape common servers send, through the client from a local target,
/// becomes its exact grouped failure message (the server's cause, never hidden).
#[test]
fn error_bodies_become_grouped_messages_with_the_cause() {
    run_local(async {
        let server = start_http().await;
        let mut c = default_client();
        let mut wrong = Vec::new();
        for (i, shape) in SHAPES.iter().enumerate() {
            let resp = c
                .send(get(server.url(&format!("/shape/{i}"))), false)
                .await
                .unwrap();
            assert_eq!(resp.status.as_u16(), shape.status, "{}", shape.what);
            let message = normalise(&describe_status(resp.status, &resp.body));
            if message != shape.expected {
                wrong.push(format!(
                    "{}:\n  got      {message}\n  expected {}",
                    shape.what, shape.expected
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    });
}

#[test]
fn post_is_not_repeated_on_a_connection_closed_under_it() {
    run_local(async {
        // Answers one request per connection without saying so, then closes after a while:
        // a POST racing that close must fail, never be sent twice.
        let posts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = posts.clone();
        let addr = start_raw(move |mut s| {
            let seen = seen.clone();
            async move {
                if read_head(&mut s).await {
                    seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    write_raw(&mut s, b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
                }
                // Keep the socket open a moment, then close without a word.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        let url = url::Url::parse(&format!("http://{addr}/")).unwrap();
        let mut c = default_client();
        assert_eq!(
            c.send(post(url.clone(), "a"), false).await.unwrap().status,
            StatusCode::OK
        );
        // The connection is still open: this POST goes out on it and the peer never answers.
        // (Unread, it makes the close a reset.)
        let err = c.send(post(url.clone(), "b"), false).await.unwrap_err();
        assert!(
            matches!(
                err,
                RequestError::ConnectionClosed | RequestError::ConnectionReset
            ),
            "{err}"
        );
        // Once the close has arrived, the next POST sees it first and opens a fresh connection.
        assert_eq!(
            c.send(post(url.clone(), "c"), false).await.unwrap().status,
            StatusCode::OK
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            c.send(post(url, "d"), false).await.unwrap().status,
            StatusCode::OK
        );
        assert_eq!(posts.load(std::sync::atomic::Ordering::SeqCst), 3);
    });
}

#[test]
fn chunked_interim_and_close_delimited_bodies() {
    run_local(async {
        let addr = start_raw(|mut s| async move {
            if read_head(&mut s).await {
                write_raw(
                    &mut s,
                    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
                      5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nx-trailer: 1\r\n\r\n",
                )
                .await;
            }
            if read_head(&mut s).await {
                write_raw(&mut s, b"HTTP/1.1 204 No Content\r\n\r\n").await;
            }
            if read_head(&mut s).await {
                write_raw(&mut s, b"HTTP/1.0 200 OK\r\n\r\nuntil the end").await;
            }
        })
        .await;
        let url = url::Url::parse(&format!("http://{addr}/")).unwrap();
        let mut c = default_client();
        let resp = c.send(get(url.clone()), true).await.unwrap();
        assert_eq!(resp.status, StatusCode::OK);
        assert_eq!(&resp.body[..], b"hello, world");
        assert_eq!(resp.body_len, 12);
        let resp = c.send(get(url.clone()), true).await.unwrap();
        assert_eq!(resp.status, StatusCode::NO_CONTENT);
        assert_eq!(resp.body_len, 0);
        let resp = c.send(get(url), true).await.unwrap();
        assert_eq!(&resp.body[..], b"until the end");
        assert_eq!(c.last_version(), Version::HTTP_10);
        assert_eq!(
            c.idle_connections(),
            0,
            "a close-delimited body ends the connection"
        );
    });
}

#[test]
fn truncated_chunked_body_is_a_body_error() {
    run_local(async {
        let addr = start_raw(|mut s| async move {
            if read_head(&mut s).await {
                write_raw(
                    &mut s,
                    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10\r\nshort",
                )
                .await;
            }
        })
        .await;
        let url = url::Url::parse(&format!("http://{addr}/")).unwrap();
        let err = default_client().send(get(url), false).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "error reading body: connection closed before the end of the body"
        );
    });
}

/// A `101 Switching Protocols` answer ends HTTP/1.1 on that connection: it is returned as is
/// and the connection is not reused for the next request (which would read the other
/// protocol's bytes as a response).
#[test]
fn switching_protocols_is_not_reused() {
    run_local(async {
        let addr = start_raw(|mut s| async move {
            if read_head(&mut s).await {
                write_raw(
                    &mut s,
                    b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\
                      connection: upgrade\r\n\r\n\x81\x05hello",
                )
                .await;
                // Hold the connection open, speaking the other protocol.
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        })
        .await;
        let url = url::Url::parse(&format!("http://{addr}/")).unwrap();
        let mut c = default_client();
        let resp = c.send(get(url), false).await.unwrap();
        assert_eq!(resp.status, StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(c.idle_connections(), 0);
    });
}
