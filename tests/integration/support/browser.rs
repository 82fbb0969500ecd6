//! WebDriver helpers shared by the browser tests: headless Chromium (Debian's `chromium` and
//! `chromium-driver`) driven with fantoccini, page scripts, polling and screenshots under
//! `target/screenshots/`.

use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// Whether to run a browser test: `false` (with a note) when `SURGE_SKIP_BROWSER` is set;
/// panics when the browser is missing (the test is part of CI).
pub fn browser_available() -> bool {
    if std::env::var_os("SURGE_SKIP_BROWSER").is_some() {
        eprintln!("SURGE_SKIP_BROWSER is set: browser test skipped");
        return false;
    }
    assert!(
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists(),
        "the browser test needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium \
         chromium-driver; .ci/run installs them)"
    );
    true
}

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Kills chromedriver however the test ends.
pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

pub async fn start_driver() -> (Driver, Client) {
    // fantoccini's TLS stack enables a second rustls provider; pick one for the process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child);
    let profile = tempfile::tempdir().expect("profile dir").keep();
    let caps = json!({
        "browserName": "chrome",
        // The page's console and failed loads, read by `console_errors`.
        "goog:loggingPrefs": { "browser": "ALL" },
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync",
                "--window-size=1400,1000", format!("--user-data-dir={}", profile.display()),
                // performance.memory to the byte, and gc(), for the page's heap bound.
                "--enable-precise-memory-info", "--js-flags=--expose-gc",
            ],
        },
    });
    let caps = match caps {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    let url = format!("http://127.0.0.1:{port}");
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        match ClientBuilder::rustls()
            .expect("rustls client")
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => return (driver, c),
            Err(e) if Instant::now() < end => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("cannot start a WebDriver session: {e}"),
        }
    }
}

/// ChromeDriver's log of the browser (console messages, failed loads) since the last read.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(r#"{"type":"browser"}"#.to_string()),
        )
    }
}

/// Every console error (and failed resource load, such as a missing favicon) the browser
/// logged since the last call.
pub async fn console_errors(c: &Client) -> Vec<String> {
    let log = c.issue_cmd(BrowserLog).await.expect("read the browser log");
    log.as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|e| e["level"] == "SEVERE")
                .map(|e| e["message"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Evaluate `expr` (a JS expression) in the page.
pub async fn js(c: &Client, expr: &str) -> Value {
    c.execute(&format!("return ({expr});"), vec![])
        .await
        .unwrap_or_else(|e| panic!("script {expr}: {e}"))
}

/// Poll `expr` until `ok` holds for its value; panics with the last value after `secs`.
pub async fn wait_for(
    c: &Client,
    what: &str,
    expr: &str,
    secs: u64,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        let v = match c.execute(&format!("return ({expr});"), vec![]).await {
            Ok(v) => v,
            // Between two documents (a form was just submitted) the old page may still answer,
            // without the element asked for: look again until the deadline.
            Err(e) => Value::String(format!("script error: {e}")),
        };
        if ok(&v) {
            return v;
        }
        if Instant::now() > end {
            panic!("{what}: still {v} after {secs} s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn shot(c: &Client, name: &str) -> PathBuf {
    let png = c.screenshot().await.expect("screenshot");
    let path = screenshots().join(name);
    std::fs::write(&path, png).expect("write screenshot");
    path
}

pub async fn fill(c: &Client, css: &str, value: &str) {
    let el = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    el.clear().await.expect("clear");
    el.send_keys(value).await.expect("type");
}

pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// The engine a browser test's dashboard drives: 2 workers, a half-second tick (charts move
/// fast enough to watch in a short test), a 5 s stop timeout.
pub fn dashboard_engine() -> surge::engine::Engine {
    surge::engine::Engine::new(surge::engine::EngineConfig {
        workers: 2,
        tick: Duration::from_millis(500),
        stop_timeout: Duration::from_secs(5),
        ..surge::engine::EngineConfig::default()
    })
    .expect("engine")
}

/// Empty dashboard defaults with the page's chart axis at [`dashboard_engine`]'s tick.
pub fn dashboard_defaults() -> surge::web::Defaults {
    let mut defaults = surge::web::Defaults::empty();
    defaults.tick = Duration::from_millis(500);
    defaults
}

/// Serve `state`'s dashboard on 127.0.0.1:0 until the test ends; its address.
pub async fn serve_dashboard(state: surge::web::AppState) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, surge::web::app(state)).await;
    });
    addr
}

/// Run a browser test's `scenario` if a browser may be used (see [`browser_available`]),
/// failing it if it takes more than `secs`.
pub async fn in_browser(secs: u64, scenario: impl std::future::Future<Output = ()>) {
    if !browser_available() {
        return;
    }
    tokio::time::timeout(Duration::from_secs(secs), scenario)
        .await
        .unwrap_or_else(|_| panic!("browser test took more than {secs} s"));
}
