//! Open files: every virtual user holds its own connection (a file descriptor), so the
//! process's open-file limit caps the user count. At start the soft limit is raised to the
//! hard limit; a test asking for more users than still fit is refused with the fix.

use rlimit::Resource;

/// Descriptors kept for everything besides users' connections (listeners, the dashboard's
/// browsers, files, the runtime).
const RESERVED: u64 = 256;

/// Raises the soft open-file limit to the hard limit; returns the new (soft, hard) pair, or
/// `None` where the platform has no such limit.
pub fn raise_limit() -> Option<(u64, u64)> {
    let (_, hard) = rlimit::getrlimit(Resource::NOFILE).ok()?;
    let _ = rlimit::increase_nofile_limit(hard);
    rlimit::getrlimit(Resource::NOFILE).ok()
}

/// Why a test's users do not fit under the open-file limit, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{users} users need about {need} open files (one connection each), but this process \
     may open only {soft}: {fix}; or use at most {usable} users",
    fix = fix(*.need, *.hard),
    usable = .soft.saturating_sub(RESERVED)
)]
pub struct TooManyUsers {
    pub users: u32,
    /// Descriptors the test needs (users plus [`RESERVED`]).
    pub need: u64,
    /// The process's soft and hard open-file limits.
    pub soft: u64,
    pub hard: u64,
}

/// Whether `users` connections fit under the current limit; the error says how to fix it.
pub fn check_users(users: u32) -> Result<(), TooManyUsers> {
    let Ok((soft, hard)) = rlimit::getrlimit(Resource::NOFILE) else {
        return Ok(());
    };
    fits(users, soft, hard)
}

fn fits(users: u32, soft: u64, hard: u64) -> Result<(), TooManyUsers> {
    let need = u64::from(users) + RESERVED;
    if need <= soft {
        return Ok(());
    }
    Err(TooManyUsers {
        users,
        need,
        soft,
        hard,
    })
}

/// What raises the limit far enough: the soft limit alone when the hard one allows it.
fn fix(need: u64, hard: u64) -> String {
    if need <= hard {
        format!("run `ulimit -n {hard}` in the shell that starts Surge")
    } else {
        format!(
            "raise the hard limit (as root: `ulimit -Hn {need}`, or `nofile` in \
             /etc/security/limits.conf, or LimitNOFILE= for a systemd service), then \
             `ulimit -n {need}`"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_fit_under_the_soft_limit_or_get_the_fix() {
        assert!(fits(10_000, 20_000, 20_000).is_ok());
        let err = fits(10_000, 1024, 1_048_576).unwrap_err().to_string();
        assert!(
            err.starts_with("10000 users need about 10256 open files"),
            "{err}"
        );
        assert!(err.contains("`ulimit -n 1048576`"), "{err}");
        assert!(err.ends_with("or use at most 768 users"), "{err}");
        let err = fits(10_000, 1024, 4096).unwrap_err().to_string();
        assert!(err.contains("raise the hard limit"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let (soft, hard) = raise_limit().expect("unix has an open-file limit");
        assert_eq!(soft, hard);
    }
}
