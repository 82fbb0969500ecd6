//! Validation of `[load]` (closed model, open model, stages) and `[data]`: ranges, exclusive
//! keys, stage spawn-rate defaults, and reading the data file next to the plan.

use std::path::Path;
use std::time::Duration;

use super::super::data::{DataFile, OnEnd};
use super::super::error::{Issue, KeyPath};
use super::super::model::{LoadProfile, Stage, MAX_USERS};
use super::super::schema::{RawData, RawLoad, RawOnEnd};
use super::R;

const MAX_RATE: f64 = 10_000_000.0;

pub(super) fn positive(v: f64, at: &KeyPath, max: f64) -> R<f64> {
    if v.is_finite() && v > 0.0 && v <= max {
        Ok(v)
    } else {
        Err(Issue::new(
            at,
            format!("{v} is out of range (expected a number above 0, at most {max})"),
        ))
    }
}

pub(super) fn users(n: u64, at: &KeyPath) -> R<u32> {
    if n > u64::from(MAX_USERS) {
        return Err(Issue::new(
            at,
            format!("{n} users is too many (at most {MAX_USERS})"),
        ));
    }
    Ok(n as u32)
}

pub(super) fn load(l: RawLoad, at: &KeyPath) -> R<(Option<LoadProfile>, Option<Duration>)> {
    let run_time = l.run_time.map(|d| d.0);
    if let Some(stages) = l.stages {
        for (key, set) in [("rate", l.rate.is_some()), ("users", l.users.is_some())] {
            if set {
                return Err(Issue::new(
                    &at.key(key),
                    format!(
                        "\"{key}\" cannot be combined with \"stages\" (each stage sets its users)"
                    ),
                ));
            }
        }
        if l.spawn_rate.is_some() {
            return Err(Issue::new(
                &at.key("spawn_rate"),
                "\"spawn_rate\" cannot be combined with \"stages\" (give each stage its spawn_rate)",
            ));
        }
        if stages.is_empty() {
            return Err(Issue::new(&at.key("stages"), "needs at least one stage"));
        }
        let mut out = Vec::new();
        let mut prev = 0u32;
        for (i, s) in stages.into_iter().enumerate() {
            let at = at.key("stages").index(i);
            if s.duration.0.is_zero() {
                return Err(Issue::new(
                    &at.key("duration"),
                    "must be above 0 (e.g. \"30s\")",
                ));
            }
            let n = users(s.users, &at.key("users"))?;
            let spawn_rate = match s.spawn_rate {
                Some(r) => positive(r, &at.key("spawn_rate"), f64::from(MAX_USERS))?,
                None if n == prev => 1.0,
                None => f64::from(n.abs_diff(prev)) / s.duration.0.as_secs_f64(),
            };
            out.push(Stage {
                duration: s.duration.0,
                users: n,
                spawn_rate,
            });
            prev = n;
        }
        return Ok((Some(LoadProfile::Stages(out)), run_time));
    }
    if let Some(rate) = l.rate {
        let rate = positive(rate, &at.key("rate"), MAX_RATE)?;
        let Some(cap) = l.users else {
            return Err(Issue::new(
                &at.key("rate"),
                "\"rate\" needs \"users\" (the cap on concurrent users)",
            ));
        };
        if l.spawn_rate.is_some() {
            return Err(Issue::new(
                &at.key("spawn_rate"),
                "\"spawn_rate\" has no effect with \"rate\" (users start as the rate needs them)",
            ));
        }
        let max_users = users(cap, &at.key("users"))?;
        if max_users == 0 {
            return Err(Issue::new(&at.key("users"), "must be at least 1"));
        }
        return Ok((Some(LoadProfile::Open { rate, max_users }), run_time));
    }
    match (l.users, l.spawn_rate) {
        (Some(n), rate) => {
            let users = users(n, &at.key("users"))?;
            let spawn_rate = match rate {
                Some(r) => positive(r, &at.key("spawn_rate"), f64::from(MAX_USERS))?,
                None => 1.0,
            };
            Ok((Some(LoadProfile::Closed { users, spawn_rate }), run_time))
        }
        (None, Some(_)) => Err(Issue::new(
            &at.key("spawn_rate"),
            "\"spawn_rate\" needs \"users\"",
        )),
        (None, None) => Ok((None, run_time)),
    }
}

pub(super) fn data(d: RawData, source: &Path, at: &KeyPath) -> R<DataFile> {
    let on_end = match d.on_end {
        Some(RawOnEnd::Stop) => OnEnd::Stop,
        Some(RawOnEnd::Wrap) | None => OnEnd::Wrap,
    };
    let dir = source.parent().unwrap_or_else(|| Path::new(""));
    DataFile::load(&dir.join(&d.file), on_end)
        .map_err(|e| Issue::new(&at.key("file"), e.to_string()))
}
