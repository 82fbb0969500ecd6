//! The server's side of a test: the target's Prometheus endpoints, scraped while the load
//! runs, turned into series on the load's time axis.
//!
//! - `parse`: the Prometheus text exposition and OpenMetrics formats.
//! - `ingest`: one scrape into the kept series (counters become per-second rates,
//!   histograms a p95 estimate), bounded per source.
//! - `views`: the built-in charts chosen by what a target exposes (process CPU and memory,
//!   request and 5xx rates, server-side latency, GC, node CPU, connections in use).
//! - `points`: a series' points, thinned past a bound.
//! - `board`: every source of one test, shared by the scraper (which writes) and the
//!   snapshot's readers (reports, thresholds, the dashboard).
//!
//! Nothing here does I/O: the engine's scraper fetches, this module reads what came back.

pub mod board;
mod ingest;
pub mod parse;
pub mod points;
pub mod views;

use std::time::Duration;

pub use board::{Board, SeriesData, ServerBoard, SourceData, ViewData};
pub use points::{Point, Points};

/// The default time between two scrapes of one endpoint.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(5);
/// The shortest time between two scrapes.
pub const MIN_EVERY: Duration = Duration::from_secs(1);
/// Series kept per source; past it new series are dropped with one warning.
pub const MAX_SERIES: usize = 500;
/// Largest answer read from an endpoint; a bigger one is not parsed (one warning).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// One endpoint to scrape during a test (`--metrics URL` or a plan's `[[metrics]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The source's name in charts and the JSON (default: the URL's `host:port`).
    pub name: String,
    /// An absolute `http(s)://` URL.
    pub url: url::Url,
    /// Time between two scrapes (at least [`MIN_EVERY`]).
    pub every: Duration,
    /// Series names to keep (`*` at the end matches a prefix); empty: keep every series.
    pub series: Vec<String>,
}

/// Why a metrics source cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("\"{0}\" is not an http:// or https:// URL (e.g. http://127.0.0.1:8000/metrics)")]
    NotHttp(String),
    #[error("\"{url}\": {why}")]
    BadUrl { url: String, why: String },
    #[error("every must be at least 1s (got {0:?})")]
    TooOften(Duration),
    #[error("series: an empty name cannot match anything")]
    EmptySeries,
}

impl Source {
    /// A source for `url`, scraped every `every` (default [`DEFAULT_EVERY`]).
    pub fn new(
        url: &str,
        name: Option<&str>,
        every: Option<Duration>,
        series: Vec<String>,
    ) -> Result<Source, SourceError> {
        if !url.trim().contains("://") {
            return Err(SourceError::NotHttp(url.to_string()));
        }
        let parsed = url::Url::parse(url.trim()).map_err(|e| SourceError::BadUrl {
            url: url.to_string(),
            why: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(SourceError::NotHttp(url.to_string()));
        }
        let every = every.unwrap_or(DEFAULT_EVERY);
        if every < MIN_EVERY {
            return Err(SourceError::TooOften(every));
        }
        if series
            .iter()
            .any(|s| s.trim().is_empty() || s.trim() == "*")
        {
            return Err(SourceError::EmptySeries);
        }
        let name = match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None => match parsed.port_or_known_default() {
                Some(p) => format!("{}:{p}", parsed.host_str().unwrap_or_default()),
                None => parsed.host_str().unwrap_or_default().to_string(),
            },
        };
        Ok(Source {
            name,
            url: parsed,
            every,
            series: series.into_iter().map(|s| s.trim().to_string()).collect(),
        })
    }

    /// Whether a series named `name` (of family `family`) is kept.
    pub fn keeps(&self, name: &str, family: &str) -> bool {
        self.series.is_empty()
            || self.series.iter().any(|pat| {
                let m = |n: &str| match pat.strip_suffix('*') {
                    Some(prefix) => n.starts_with(prefix),
                    None => n == pat,
                };
                m(name) || m(family)
            })
    }
}

/// The sources of a test: the plan's, then the command line's (`--metrics`), each name
/// used once.
pub fn combine(plan: &[Source], more: &[Source]) -> Vec<Source> {
    let mut all: Vec<Source> = plan.iter().chain(more).cloned().collect();
    unique_names(&mut all);
    all
}

/// Give sources that share a name a numbered suffix (`api`, `api#2`), so every series
/// says which endpoint it came from.
pub fn unique_names(sources: &mut [Source]) {
    for i in 1..sources.len() {
        let base = sources[i].name.clone();
        let mut n = 2;
        while sources[..i].iter().any(|s| s.name == sources[i].name) {
            sources[i].name = format!("{base}#{n}");
            n += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_checked_and_named() {
        let s = Source::new("http://127.0.0.1:9100/metrics", None, None, vec![]).unwrap();
        assert_eq!(
            (s.name.as_str(), s.every),
            ("127.0.0.1:9100", DEFAULT_EVERY)
        );
        let s = Source::new("https://api.example.com/m", Some("api"), None, vec![]).unwrap();
        assert_eq!(s.name, "api");
        assert_eq!(
            Source::new("ftp://x/metrics", None, None, vec![]).unwrap_err(),
            SourceError::NotHttp("ftp://x/metrics".into())
        );
        assert_eq!(
            Source::new("127.0.0.1:9100/metrics", None, None, vec![]).unwrap_err(),
            SourceError::NotHttp("127.0.0.1:9100/metrics".into())
        );
        assert!(matches!(
            Source::new("http://[::1/metrics", None, None, vec![]),
            Err(SourceError::BadUrl { .. })
        ));
        let e = Source::new("http://h/m", None, Some(Duration::from_millis(200)), vec![]);
        assert_eq!(
            e.unwrap_err().to_string(),
            "every must be at least 1s (got 200ms)"
        );
        let keep = Source::new(
            "http://h/m",
            None,
            None,
            vec!["process_*".into(), "up".into()],
        )
        .unwrap();
        assert!(keep.keeps("process_cpu_seconds_total", "process_cpu_seconds"));
        assert!(keep.keeps("up", "up"));
        assert!(!keep.keeps("http_requests_total", "http_requests"));
        let mut two = vec![keep.clone(), keep.clone(), keep];
        unique_names(&mut two);
        let names: Vec<&str> = two.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["h:80", "h:80#2", "h:80#3"]);
    }
}
