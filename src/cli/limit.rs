//! `surge find-limit`'s flags (clap types), checked once into the run's settings and a
//! [`LimitSpec`]; the search itself never sees them.

use clap::Args;

use super::{RunArgs, UsageError};
use crate::config::Settings;
use crate::limit::spec::{SpecField, SpecInput};
use crate::limit::LimitSpec;
use crate::plan::Plan;

/// Options of `surge find-limit` (with the usual options of a test).
#[derive(Debug, Clone, Args)]
pub struct FindLimitArgs {
    /// First level: users, or with --rate-from task starts per second (default 10 users).
    #[arg(long, value_name = "N")]
    pub start: Option<f64>,
    /// Most users to try (closed model); with --rate-from, the cap on concurrent users.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_users: u32,
    /// Search the open model's arrival rate, from R task starts per second (needs --max-rate).
    #[arg(long, value_name = "R", requires = "max_rate")]
    pub rate_from: Option<f64>,
    /// Highest arrival rate to try, task starts per second.
    #[arg(long, value_name = "R", requires = "rate_from")]
    pub max_rate: Option<f64>,
    /// Length of each step: its first third lets the target settle, the rest is measured.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub step_time: String,
    /// Stop bisecting when a pass and a fail are this close (percent of the pass).
    #[arg(long, value_name = "PERCENT", default_value = "5%")]
    pub resolution: String,
    #[command(flatten)]
    pub run: RunArgs,
}

impl FindLimitArgs {
    /// The run's settings and the search, checked (`default_plan`: the demo's).
    pub fn spec(&self, default_plan: Option<Plan>) -> Result<(Settings, LimitSpec), UsageError> {
        let invalid = |m: String| UsageError::Invalid(m);
        if self.run.rate.is_some() || self.run.run_time.is_some() {
            return Err(invalid(
                "find-limit sets the load itself: use --start, --max-users or --rate-from and \
                 --max-rate, and --step-time, instead of --rate and -t/--run-time"
                    .into(),
            ));
        }
        let settings = self.run.settings(default_plan)?;
        let input = SpecInput {
            start: self.start,
            max_users: self.max_users,
            rate_from: self.rate_from,
            max_rate: self.max_rate,
            step_time: self.step_time.clone(),
            resolution: self.resolution.clone(),
            spawn_rate: self.run.spawn_rate,
            thresholds: settings.thresholds.clone(),
        };
        let spec = input.check().map_err(|e| match e.field {
            SpecField::Threshold => invalid(format!("find-limit: {e} (--threshold)")),
            field => invalid(format!("{} {e}", field.flag())),
        })?;
        Ok((settings, spec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limit::Model;
    use clap::Parser;
    use std::time::Duration;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        args: FindLimitArgs,
    }

    fn spec(args: &[&str]) -> Result<(Settings, LimitSpec), String> {
        let mut all = vec!["find-limit", "-H", "http://127.0.0.1:9/"];
        all.extend_from_slice(args);
        Cmd::try_parse_from(all)
            .map_err(|e| e.to_string())?
            .args
            .spec(None)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn flags_become_a_search() {
        let (_, s) = spec(&[
            "--threshold",
            "p95 < 500ms",
            "--start",
            "5",
            "--max-users",
            "80",
        ])
        .unwrap();
        assert_eq!(s.model, Model::Users { spawn_rate: 50.0 });
        assert_eq!(
            (s.bounds.start, s.bounds.max, s.bounds.whole),
            (5.0, 80.0, true)
        );
        assert_eq!(s.bounds.resolution, 0.05);
        assert_eq!(s.step.settle, Duration::from_secs(10));
        let (_, s) = spec(&[
            "--threshold",
            "fail_ratio < 1%",
            "--rate-from",
            "50",
            "--max-rate",
            "5000",
            "--resolution",
            "10%",
            "--step-time",
            "3s",
        ])
        .unwrap();
        assert_eq!(s.model, Model::Rate { max_users: 1000 });
        assert_eq!(
            (s.bounds.start, s.bounds.max, s.bounds.whole),
            (50.0, 5000.0, false)
        );
        assert_eq!(s.bounds.resolution, 0.1);
        assert_eq!(s.step.settle + s.step.measure, Duration::from_secs(3));
    }

    #[test]
    fn bad_flags_say_what_is_wrong() {
        for (args, expected) in [
            (&[][..], "find-limit: at least one threshold is needed"),
            (
                &["--threshold", "p95 < 1s", "--rate", "5"][..],
                "find-limit sets the load itself",
            ),
            (
                &["--threshold", "p95 < 1s", "--resolution", "0%"][..],
                "--resolution must be",
            ),
            (
                &["--threshold", "p95 < 1s", "--step-time", "0s"][..],
                "--step-time must be at least 1s",
            ),
            (
                &[
                    "--threshold",
                    "p95 < 1s",
                    "--start",
                    "50",
                    "--max-users",
                    "10",
                ][..],
                "--max-users 10 is below the first level, 50 users",
            ),
            (
                &["--threshold", "p95 < baseline * 1.1"][..],
                "compares with a baseline",
            ),
        ] {
            let err = spec(args).err().unwrap_or_default();
            assert!(err.contains(expected), "{args:?}: {err}");
        }
    }
}
