//! What two runs were asked to do differently: users, rate, plan, host, duration. Shown
//! above a comparison's verdict (`runs differ: users 80 → 30`): between runs of different
//! loads, the verdict compares the loads as much as the system under test.
//!
//! - users: the peak (closed model) or the cap (open model), as saved with the run.
//! - rate: the open model's starts per second, `none` for a closed model.
//! - plan: the same text is the same plan whatever its file's name; otherwise the file names
//!   (`plan a.toml → b.toml`), or `plan a.toml (its text changed)` when only the text did.
//! - host: as typed.
//! - duration: the time users ran (statistics' start to the stop, without the drain), so a
//!   run stopped early shows too; a difference counts above [`DURATION_SLACK_S`] seconds and
//!   [`DURATION_SLACK_PCT`] % of the longer.

use crate::stats::Snapshot;
use crate::store::{RunParameters, RunRecord};

/// Durations closer than this many seconds are the same.
pub const DURATION_SLACK_S: f64 = 1.0;
/// Durations closer than this percentage of the longer one are the same.
pub const DURATION_SLACK_PCT: f64 = 5.0;

/// The settings of one run that a comparison should hold equal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunSettings<'a> {
    pub users: u32,
    pub rate: Option<f64>,
    /// The plan file as given, if any.
    pub plan_path: Option<&'a str>,
    /// The plan's text, if the run had a plan.
    pub plan_text: Option<&'a str>,
    pub host: &'a str,
    /// Seconds the users ran (the statistics' start to the stop, without the drain).
    pub duration_s: f64,
}

impl<'a> RunSettings<'a> {
    /// A run's settings from what is saved of it (or about to be).
    pub fn new(params: &'a RunParameters, plan_text: Option<&'a str>, snap: &'a Snapshot) -> Self {
        let start = snap.stats_start.unwrap_or(snap.time);
        let end = snap.drain_start.or(snap.stats_end).unwrap_or(snap.time);
        RunSettings {
            users: params.users,
            rate: params.rate,
            plan_path: params.plan_path.as_deref(),
            plan_text,
            host: &snap.host,
            duration_s: (end - start).max(0.0),
        }
    }

    /// A saved run's settings.
    pub fn of(run: &'a RunRecord) -> Self {
        RunSettings::new(&run.params, run.plan_text.as_deref(), &run.snapshot)
    }

    fn plan_name(&self) -> &'a str {
        match (self.plan_path, self.plan_text) {
            (Some(p), _) => p,
            (None, Some(_)) => "unnamed",
            (None, None) => "none",
        }
    }
}

fn rate(r: Option<f64>) -> String {
    r.map_or("none".into(), |r| format!("{r}/s"))
}

fn seconds(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.1} s")
    } else {
        format!("{s:.0} s")
    }
}

fn plan(b: &RunSettings<'_>, a: &RunSettings<'_>) -> Option<String> {
    let same = match (b.plan_text, a.plan_text) {
        (Some(x), Some(y)) => x == y,
        (None, None) => b.plan_path == a.plan_path,
        _ => false,
    };
    if same {
        return None;
    }
    let (nb, na) = (b.plan_name(), a.plan_name());
    Some(if nb == na {
        format!("plan {nb} (its text changed)")
    } else {
        format!("plan {nb} → {na}")
    })
}

/// How `after` was asked to differ from `before`, one `what before → after` per setting;
/// empty when they match.
pub fn differences(before: &RunSettings<'_>, after: &RunSettings<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if before.users != after.users {
        out.push(format!("users {} → {}", before.users, after.users));
    }
    if before.rate != after.rate {
        out.push(format!("rate {} → {}", rate(before.rate), rate(after.rate)));
    }
    out.extend(plan(before, after));
    if before.host != after.host {
        let host = |h: &str| {
            if h.is_empty() {
                "none".to_string()
            } else {
                h.to_string()
            }
        };
        out.push(format!("host {} → {}", host(before.host), host(after.host)));
    }
    let (db, da) = (before.duration_s, after.duration_s);
    let slack = DURATION_SLACK_S.max(db.max(da) * DURATION_SLACK_PCT / 100.0);
    if (db - da).abs() > slack {
        out.push(format!("duration {} → {}", seconds(db), seconds(da)));
    }
    out
}

/// The line shown above a verdict, `None` when the runs match.
pub fn line(differences: &[String]) -> Option<String> {
    (!differences.is_empty()).then(|| format!("runs differ: {}", differences.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(users: u32, host: &'static str, duration_s: f64) -> RunSettings<'static> {
        RunSettings {
            users,
            rate: None,
            plan_path: Some("orders.toml"),
            plan_text: Some("[[scenarios]]"),
            host,
            duration_s,
        }
    }

    #[test]
    fn names_each_setting_that_differs() {
        let a = settings(80, "http://a", 60.0);
        assert!(differences(&a, &a).is_empty());
        assert_eq!(line(&[]), None);
        // Within the slack: 1 s, or 5 % of the longer run.
        assert!(differences(&a, &settings(80, "http://a", 62.9)).is_empty());
        assert!(differences(
            &settings(80, "http://a", 2.0),
            &settings(80, "http://a", 2.9)
        )
        .is_empty());
        let b = RunSettings {
            rate: Some(20.0),
            ..settings(30, "http://b", 30.0)
        };
        let d = differences(&a, &b);
        assert_eq!(
            d,
            [
                "users 80 → 30",
                "rate none → 20/s",
                "host http://a → http://b",
                "duration 60 s → 30 s"
            ]
        );
        assert_eq!(line(&d[..1]).as_deref(), Some("runs differ: users 80 → 30"));
        assert_eq!(
            line(&d[2..]).as_deref(),
            Some("runs differ: host http://a → http://b; duration 60 s → 30 s")
        );
    }

    #[test]
    fn a_plan_is_its_text() {
        let a = settings(80, "http://a", 60.0);
        // Same text under another name: the same plan.
        let renamed = RunSettings {
            plan_path: Some("copy.toml"),
            ..a
        };
        assert!(differences(&a, &renamed).is_empty());
        let edited = RunSettings {
            plan_text: Some("[[scenarios]]\nweight = 2"),
            ..a
        };
        assert_eq!(
            differences(&a, &edited),
            ["plan orders.toml (its text changed)"]
        );
        let other = RunSettings {
            plan_path: Some("checkout.toml"),
            ..edited
        };
        assert_eq!(
            differences(&a, &other),
            ["plan orders.toml → checkout.toml"]
        );
        let none = RunSettings {
            plan_path: None,
            plan_text: None,
            ..a
        };
        assert_eq!(differences(&none, &a), ["plan none → orders.toml"]);
        let unnamed = RunSettings {
            plan_path: None,
            ..edited
        };
        assert_eq!(differences(&a, &unnamed), ["plan orders.toml → unnamed"]);
    }
}
