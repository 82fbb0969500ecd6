//! The one check of a base URL to load-test, wherever it is given (`-H`, a plan's `host` or
//! `url`, the dashboard's host field, the engine's last look): an `http://` or `https://` URL
//! with a host. Each place prefixes the message with where the value was given; the message
//! itself is the same everywhere (`"127.0.0.1:5000" has no scheme: did you mean
//! http://127.0.0.1:5000?`).

/// Why a text is not a URL Surge can load-test.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    /// `127.0.0.1:5000`, `localhost:5000/api`: a host without `http://`.
    #[error("\"{text}\" has no scheme: did you mean http://{text}?")]
    NoScheme { text: String },
    /// `ftp://host`, `ws://host`.
    #[error(
        "\"{text}\": scheme \"{scheme}\" cannot be load-tested (expected http:// or https://)"
    )]
    Scheme { text: String, scheme: String },
    /// Anything else the URL parser refuses.
    #[error("\"{text}\" is not a valid URL: {reason} (expected http://host[:port][/path])")]
    Invalid { text: String, reason: String },
}

/// A URL Surge may load-test: `http://` or `https://` with a host. Only [`parse`] makes one,
/// so a value of this type has passed the one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(url::Url);

impl BaseUrl {
    /// The checked URL.
    pub fn url(&self) -> &url::Url {
        &self.0
    }

    /// The checked URL, owned.
    pub fn into_url(self) -> url::Url {
        self.0
    }
}

impl std::ops::Deref for BaseUrl {
    type Target = url::Url;

    fn deref(&self) -> &url::Url {
        &self.0
    }
}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl std::str::FromStr for BaseUrl {
    type Err = BaseUrlError;

    fn from_str(text: &str) -> Result<BaseUrl, BaseUrlError> {
        parse(text)
    }
}

/// Whether a step's path is a whole URL (`http://...`, `https://...`) rather than a path
/// joined to the host: the one place that tells them apart.
pub fn is_absolute(path: &str) -> bool {
    path.starts_with("http://") || path.starts_with("https://")
}

/// `text` as an http(s) URL with a host.
pub fn parse(text: &str) -> Result<BaseUrl, BaseUrlError> {
    let t = text.trim();
    if !t.contains("://") && looks_like_host(t) {
        return Err(BaseUrlError::NoScheme {
            text: t.to_string(),
        });
    }
    let url = url::Url::parse(t).map_err(|e| BaseUrlError::Invalid {
        text: t.to_string(),
        reason: if t.is_empty() {
            "it is empty".to_string()
        } else {
            e.to_string()
        },
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(BaseUrlError::Scheme {
            text: t.to_string(),
            scheme: url.scheme().to_string(),
        });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(BaseUrlError::Invalid {
            text: t.to_string(),
            reason: "no host".to_string(),
        });
    }
    Ok(BaseUrl(url))
}

/// Whether `t` reads as `host[:port][/path]`: a name or address, then an optional port and
/// path (what people type when they leave out `http://`).
fn looks_like_host(t: &str) -> bool {
    let authority = t.split(['/', '?', '#']).next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(']') || h.ends_with(']') => (h, Some(p)),
        _ => (authority, None),
    };
    let host_ok = !host.is_empty()
        && (host.starts_with('[') && host.ends_with(']')
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_message_for_a_missing_scheme() {
        for (text, expected) in [
            (
                "127.0.0.1:5000",
                "\"127.0.0.1:5000\" has no scheme: did you mean http://127.0.0.1:5000?",
            ),
            (
                "localhost:5000",
                "\"localhost:5000\" has no scheme: did you mean http://localhost:5000?",
            ),
            (
                "api.example.com/v1",
                "\"api.example.com/v1\" has no scheme: did you mean http://api.example.com/v1?",
            ),
            (
                "[::1]:8080",
                "\"[::1]:8080\" has no scheme: did you mean http://[::1]:8080?",
            ),
            (
                "ftp://files.example.com",
                "\"ftp://files.example.com\": scheme \"ftp\" cannot be load-tested (expected http:// or https://)",
            ),
            (
                "",
                "\"\" is not a valid URL: it is empty (expected http://host[:port][/path])",
            ),
            (
                "http://",
                "\"http://\" is not a valid URL: empty host (expected http://host[:port][/path])",
            ),
            (
                "not a url",
                "\"not a url\" is not a valid URL: relative URL without a base (expected http://host[:port][/path])",
            ),
        ] {
            assert_eq!(parse(text).unwrap_err().to_string(), expected, "{text}");
        }
        assert_eq!(
            parse(" http://127.0.0.1:5000/api ").unwrap().as_str(),
            "http://127.0.0.1:5000/api"
        );
        assert!(parse("https://[::1]/").is_ok());
    }
}
