//! `surge find-limit`'s flags (clap types), checked once into the run's settings and a
//! [`LimitSpec`]; the search itself never sees them.

use std::time::Duration;

use clap::Args;

use super::{RunArgs, UsageError};
use crate::config::{Settings, MAX_USERS};
use crate::duration::parse_duration;
use crate::limit::{Bounds, LimitSpec, Model, StepTime};
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
        if settings.thresholds.is_empty() {
            return Err(invalid(
                "find-limit needs at least one --threshold (or `thresholds` in the plan): \
                 they say what broken means, e.g. --threshold \"p95 < 500ms\" --threshold \
                 \"fail_ratio < 1%\""
                    .into(),
            ));
        }
        if let Some(t) = settings.thresholds.iter().find(|t| t.needs_baseline()) {
            return Err(invalid(format!(
                "threshold \"{}\" compares with a baseline, which find-limit does not use",
                t.text
            )));
        }
        if self.max_users == 0 || self.max_users > MAX_USERS {
            return Err(invalid(format!(
                "--max-users must be between 1 and {MAX_USERS}, got {}",
                self.max_users
            )));
        }
        let step_total =
            parse_duration(&self.step_time).map_err(|e| invalid(format!("--step-time: {e}")))?;
        if step_total < Duration::from_secs(1) {
            return Err(invalid(format!(
                "--step-time must be at least 1s, got {}",
                self.step_time
            )));
        }
        let resolution = parse_percent(&self.resolution)
            .filter(|r| *r > 0.0 && *r < 1.0)
            .ok_or_else(|| {
                invalid(format!(
                    "--resolution must be a percentage above 0 and below 100 (like 5%), got {}",
                    self.resolution
                ))
            })?;
        let positive = |flag: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(v)
            } else {
                Err(invalid(format!("{flag} must be a number above 0, got {v}")))
            }
        };
        let (model, bounds) = match (self.rate_from, self.max_rate) {
            (Some(from), Some(max)) => {
                let from = positive("--rate-from", self.start.unwrap_or(from))?;
                let max = positive("--max-rate", max)?;
                if max < from {
                    return Err(invalid(format!(
                        "--max-rate {max} is below the first rate {from}"
                    )));
                }
                (
                    Model::Rate {
                        max_users: self.max_users,
                    },
                    Bounds {
                        start: from,
                        max,
                        resolution,
                        whole: false,
                    },
                )
            }
            _ => {
                let start = positive("--start", self.start.unwrap_or(10.0))?.round();
                let max = f64::from(self.max_users);
                if max < start {
                    return Err(invalid(format!(
                        "--max-users {max} is below --start {start}"
                    )));
                }
                let spawn_rate = self.run.spawn_rate.unwrap_or(50.0);
                (
                    Model::Users { spawn_rate },
                    Bounds {
                        start,
                        max,
                        resolution,
                        whole: true,
                    },
                )
            }
        };
        let spec = LimitSpec {
            model,
            bounds,
            step: StepTime::of(step_total),
            thresholds: settings.thresholds.clone(),
        };
        Ok((settings, spec))
    }
}

/// `5%`, `5` or `0.5%` as a fraction.
fn parse_percent(text: &str) -> Option<f64> {
    let t = text.trim();
    let number = t.strip_suffix('%').unwrap_or(t).trim();
    number.parse::<f64>().ok().map(|v| v / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

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
            (&[][..], "find-limit needs at least one --threshold"),
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
                "--max-users 10 is below --start 50",
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
