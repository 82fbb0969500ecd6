//! `--allow-target PATTERN`: which hosts the dashboard may load-test. Without a pattern any
//! http(s) host may be tested (the operator runs Surge on a trusted machine); with patterns,
//! a start whose host (or one of the plan's absolute URLs) matches none is refused with a 403
//! naming the patterns, and the client refuses to follow a redirect to a host that matches
//! none (a target cannot bounce the load elsewhere).
//!
//! A pattern is `HOST`, `HOST:PORT`, `*.DOMAIN` (any subdomain, not `DOMAIN` itself) or
//! `*.DOMAIN:PORT`; `[v6]` addresses in brackets; an `http(s)://` URL is read as its host and
//! port. Host names are compared after the same normalisation URLs get (lower case, IDNA).

use std::fmt;

use crate::plan::Plan;

/// Why an `--allow-target` value is not a pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--allow-target \"{text}\": {problem} (expected HOST, HOST:PORT or *.DOMAIN, \
     e.g. 127.0.0.1:8080 or *.staging.example.com)"
)]
pub struct PatternError {
    /// The value as given.
    pub text: String,
    pub problem: PatternProblem,
}

/// What is wrong with an `--allow-target` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternProblem {
    #[error("empty pattern")]
    Empty,
    #[error("only http:// and https:// URLs can be load-tested")]
    Scheme,
    #[error("{0}")]
    Url(#[from] url::ParseError),
    #[error("no host")]
    NoHost,
    #[error(transparent)]
    HostPort(#[from] HostPortError),
    #[error("a wildcard is only allowed as a leading \"*.\"")]
    Wildcard,
}

/// Why a text is not `host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostPortError {
    /// Text after a bracketed address that is not `:port`.
    #[error("unexpected \"{0}\" after the address")]
    AfterAddress(String),
    #[error("\"{0}\" is not a port number")]
    Port(String),
    #[error("not a host name")]
    NotAHost,
}

/// Why a target may not be load-tested (a start, or a redirect the client would follow).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The URL's host (and port) matches none of the patterns, listed in `allowed`.
    #[error(
        "\"{url}\" is not an allowed target: this dashboard may only load-test {allowed} \
         (--allow-target)"
    )]
    NotAllowed { url: String, allowed: String },
    /// A plan URL whose host is templated, which no pattern can be checked against.
    #[error("the plan's URL \"{url}\" has a templated host, which --allow-target cannot check")]
    TemplatedHost { url: String },
}

/// One `--allow-target` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPattern {
    /// Normalised host (`example.com`, `127.0.0.1`, `[::1]`).
    host: String,
    /// `*.` given: any subdomain of `host`.
    subdomains: bool,
    /// Only this port (the URL's explicit port or its scheme's default).
    port: Option<u16>,
}

impl TargetPattern {
    /// Parse one pattern; the error says what a pattern looks like.
    pub fn parse(text: &str) -> Result<TargetPattern, PatternError> {
        let bad = |problem: PatternProblem| PatternError {
            text: text.to_string(),
            problem,
        };
        let t = text.trim();
        if t.is_empty() {
            return Err(bad(PatternProblem::Empty));
        }
        if let Some((scheme, _)) = t.split_once("://") {
            if !matches!(scheme, "http" | "https") {
                return Err(bad(PatternProblem::Scheme));
            }
            let u = url::Url::parse(t).map_err(|e| bad(e.into()))?;
            let host = u.host_str().ok_or_else(|| bad(PatternProblem::NoHost))?;
            return Ok(TargetPattern {
                host: host.to_string(),
                subdomains: false,
                port: u.port(),
            });
        }
        let (subdomains, rest) = match t.strip_prefix("*.") {
            Some(r) => (true, r),
            None => (false, t),
        };
        let (host, port) = split_port(rest).map_err(|e| bad(e.into()))?;
        if host.contains('*') {
            return Err(bad(PatternProblem::Wildcard));
        }
        let u = url::Url::parse(&format!("http://{host}/")).map_err(|e| bad(e.into()))?;
        let host = u
            .host_str()
            .ok_or_else(|| bad(PatternProblem::NoHost))?
            .to_string();
        Ok(TargetPattern {
            host,
            subdomains,
            port,
        })
    }

    fn matches(&self, host: &str, port: Option<u16>) -> bool {
        let host_ok = if self.subdomains {
            host.len() > self.host.len()
                && host.ends_with(&self.host)
                && host[..host.len() - self.host.len()].ends_with('.')
        } else {
            host == self.host
        };
        host_ok && self.port.is_none_or(|p| Some(p) == port)
    }
}

impl fmt::Display for TargetPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.subdomains {
            f.write_str("*.")?;
        }
        f.write_str(&self.host)?;
        match self.port {
            Some(p) => write!(f, ":{p}"),
            None => Ok(()),
        }
    }
}

/// `host[:port]` or `[v6][:port]` → (host, port).
pub(crate) fn split_port(s: &str) -> Result<(&str, Option<u16>), HostPortError> {
    let (host, port) = if let Some(end) = s.strip_prefix('[').and_then(|r| r.find(']')) {
        let (h, rest) = s.split_at(end + 2);
        match rest.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if rest.is_empty() => (h, None),
            None => return Err(HostPortError::AfterAddress(rest.to_string())),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| HostPortError::Port(p.to_string()))?,
        ),
        None => None,
    };
    if host.is_empty() || host.contains('/') {
        return Err(HostPortError::NotAHost);
    }
    Ok((host, port))
}

/// The dashboard's allowed targets; empty = any http(s) host.
#[derive(Debug, Clone, Default)]
pub struct AllowTargets(Vec<TargetPattern>);

impl AllowTargets {
    /// Parse every `--allow-target` value.
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<AllowTargets, PatternError> {
        patterns
            .iter()
            .map(|p| TargetPattern::parse(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(AllowTargets)
    }

    /// Whether any pattern was given.
    pub fn is_restricted(&self) -> bool {
        !self.0.is_empty()
    }

    /// `Ok` if `url` may be load-tested; else why not, naming the allowed patterns.
    pub fn check(&self, url: &str) -> Result<(), TargetError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let parsed = url::Url::parse(url).ok();
        let host = parsed.as_ref().and_then(|u| u.host_str());
        let port = parsed.as_ref().and_then(|u| u.port_or_known_default());
        match host {
            Some(h) if self.0.iter().any(|p| p.matches(h, port)) => Ok(()),
            _ => Err(TargetError::NotAllowed {
                url: url.to_string(),
                allowed: self
                    .0
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Check the host a test would use and every absolute URL of the plan's steps. A URL
    /// whose host is templated cannot be checked and is refused.
    pub fn check_run(&self, host: Option<&str>, plan: &Plan) -> Result<(), TargetError> {
        if self.0.is_empty() {
            return Ok(());
        }
        if let Some(h) = host {
            self.check(h)?;
        }
        let steps = plan.scenarios.iter().flat_map(|s| {
            s.on_start
                .iter()
                .chain(s.tasks.iter().flat_map(|t| &t.steps))
        });
        for step in steps {
            let src = step.url.source();
            if !crate::base_url::is_absolute(src) {
                continue;
            }
            let start = src.find("://").map_or(0, |i| i + 3);
            let end = src[start..]
                .find(['/', '?', '#'])
                .map_or(src.len(), |i| start + i);
            let origin = &src[..end];
            if origin.contains("{{") || origin.contains("{%") {
                return Err(TargetError::TemplatedHost {
                    url: src.to_string(),
                });
            }
            self.check(origin)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(p: &[&str]) -> AllowTargets {
        AllowTargets::parse(p).unwrap()
    }

    #[test]
    fn patterns_match_host_port_and_subdomains() {
        let a = allow(&[
            "127.0.0.1:8080",
            "*.staging.example.com",
            "API.test",
            "[::1]",
        ]);
        assert!(a.check("http://127.0.0.1:8080/x").is_ok());
        assert!(a.check("http://127.0.0.1:8081/x").is_err());
        assert!(a.check("http://127.0.0.1/").is_err());
        assert!(a.check("https://a.staging.example.com/").is_ok());
        assert!(a.check("https://a.b.staging.example.com:9/").is_ok());
        assert!(a.check("https://staging.example.com/").is_err());
        assert!(a.check("https://evilstaging.example.com/").is_err());
        assert!(a.check("http://api.test:1234/").is_ok());
        assert!(a.check("http://[::1]:5/").is_ok());
        assert!(a.check("http://evil.com/").is_err());
        assert!(AllowTargets::default().check("http://anything/").is_ok());
    }

    #[test]
    fn default_ports_and_urls() {
        let a = allow(&["example.com:80", "https://secure.test/"]);
        assert!(a.check("http://example.com/").is_ok());
        assert!(a.check("https://example.com/").is_err());
        assert!(a.check("https://secure.test:444/").is_ok());
    }

    #[test]
    fn the_refusal_names_the_patterns() {
        let e = allow(&["127.0.0.1:8080", "*.x.test"])
            .check("http://10.0.0.1/")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "\"http://10.0.0.1/\" is not an allowed target: this dashboard may only load-test \
             127.0.0.1:8080, *.x.test (--allow-target)"
        );
    }

    #[test]
    fn bad_patterns_are_explained() {
        for p in ["", "ftp://x", "a:b", "*", "x.*.com", "[::1]x"] {
            let e = TargetPattern::parse(p).unwrap_err().to_string();
            assert!(e.starts_with("--allow-target"), "{p}: {e}");
        }
    }
}
