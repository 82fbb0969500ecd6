//! A step's URL: the base URL (`-H` or the plan's `host`) joined with the step's path, and
//! the statistics name a path or URL gets when the step sets none.

/// The statistics name of a path or URL as written: the path and query.
pub(super) fn name_of(path: &str) -> String {
    match url::Url::parse(path) {
        Ok(u) if crate::base_url::is_absolute(path) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        },
        _ => path.to_string(),
    }
}

/// Why a step's path and the base URL do not make a URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    /// The path (or the base URL joined with it) does not parse.
    #[error("invalid URL \"{url}\": {source}")]
    InvalidUrl {
        url: String,
        source: url::ParseError,
    },
    /// A relative path without a base URL.
    #[error("relative path \"{path}\" but no host is set (use -H or `host` in the plan)")]
    NoHost { path: String },
}

/// Join a base URL and a path; a full URL is used as is.
pub fn join(base: Option<&str>, path: &str) -> Result<url::Url, JoinError> {
    let parse = |url: &str| {
        url::Url::parse(url).map_err(|source| JoinError::InvalidUrl {
            url: url.to_string(),
            source,
        })
    };
    if crate::base_url::is_absolute(path) {
        return parse(path);
    }
    let base = base.ok_or_else(|| JoinError::NoHost {
        path: path.to_string(),
    })?;
    let sep = if path.starts_with('/') { "" } else { "/" };
    parse(&format!("{}{sep}{path}", base.trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_keeps_prefix_and_full_urls() {
        assert_eq!(
            join(Some("http://h:1/api/"), "/users?x=1")
                .unwrap()
                .as_str(),
            "http://h:1/api/users?x=1"
        );
        assert_eq!(
            join(Some("http://h"), "https://o/p").unwrap().as_str(),
            "https://o/p"
        );
        assert!(join(None, "/x")
            .unwrap_err()
            .to_string()
            .contains("no host"));
    }
}
