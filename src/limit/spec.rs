//! A search as a front end gives it (numbers and texts from flags or a form), checked into
//! a [`LimitSpec`]. The checks are the same for `surge find-limit` and the dashboard; each
//! error names its field, so the command line says `--step-time ...` and the form marks
//! `step_time`.

use std::time::Duration;

use crate::config::MAX_USERS;
use crate::duration::parse_duration;
use crate::thresholds::Threshold;

use super::{Bounds, LimitSpec, Model, StepTime};

/// The search's inputs, unchecked.
#[derive(Debug, Clone, Default)]
pub struct SpecInput {
    /// First level (default 10 users, or `rate_from`).
    pub start: Option<f64>,
    pub max_users: u32,
    /// The open model: search the arrival rate from here to `max_rate`.
    pub rate_from: Option<f64>,
    pub max_rate: Option<f64>,
    /// `30s`, `1m`, ...
    pub step_time: String,
    /// `5%`, `5`, `0.5%`.
    pub resolution: String,
    /// Users started per second (default 50).
    pub spawn_rate: Option<f64>,
    pub thresholds: Vec<Threshold>,
}

/// The input field an error is about (named as the form names it; the command line adds
/// its dashes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecField {
    Threshold,
    Start,
    MaxUsers,
    RateFrom,
    MaxRate,
    StepTime,
    Resolution,
}

impl SpecField {
    /// `max_users` (the form's field); the flag is `--max-users`.
    pub fn name(self) -> &'static str {
        match self {
            SpecField::Threshold => "threshold",
            SpecField::Start => "start",
            SpecField::MaxUsers => "max_users",
            SpecField::RateFrom => "rate_from",
            SpecField::MaxRate => "max_rate",
            SpecField::StepTime => "step_time",
            SpecField::Resolution => "resolution",
        }
    }

    /// `--max-users`.
    pub fn flag(self) -> String {
        format!("--{}", self.name().replace('_', "-"))
    }
}

/// Why the inputs are not a search: the field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct SpecError {
    pub field: SpecField,
    pub message: String,
}

fn wrong(field: SpecField, message: String) -> SpecError {
    SpecError { field, message }
}

/// `5%`, `5` or `0.5%` as a fraction.
fn parse_percent(text: &str) -> Option<f64> {
    let t = text.trim();
    let number = t.strip_suffix('%').unwrap_or(t).trim();
    number.parse::<f64>().ok().map(|v| v / 100.0)
}

impl SpecInput {
    /// The search, checked.
    pub fn check(&self) -> Result<LimitSpec, SpecError> {
        if self.thresholds.is_empty() {
            return Err(wrong(
                SpecField::Threshold,
                "at least one threshold is needed: they say what broken means, e.g. \
                 \"p95 < 500ms\" and \"fail_ratio < 1%\""
                    .into(),
            ));
        }
        if let Some(t) = self.thresholds.iter().find(|t| t.needs_baseline()) {
            return Err(wrong(
                SpecField::Threshold,
                format!(
                    "threshold \"{}\" compares with a baseline, which find-limit does not use",
                    t.text
                ),
            ));
        }
        if self.max_users == 0 || self.max_users > MAX_USERS {
            return Err(wrong(
                SpecField::MaxUsers,
                format!("must be between 1 and {MAX_USERS}, got {}", self.max_users),
            ));
        }
        let step_total = parse_duration(&self.step_time)
            .map_err(|e| wrong(SpecField::StepTime, e.to_string()))?;
        if step_total < Duration::from_secs(1) {
            return Err(wrong(
                SpecField::StepTime,
                format!("must be at least 1s, got {}", self.step_time),
            ));
        }
        let resolution = parse_percent(&self.resolution)
            .filter(|r| *r > 0.0 && *r < 1.0)
            .ok_or_else(|| {
                wrong(
                    SpecField::Resolution,
                    format!(
                        "must be a percentage above 0 and below 100 (like 5%), got {}",
                        self.resolution
                    ),
                )
            })?;
        let positive = |field: SpecField, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(v)
            } else {
                Err(wrong(field, format!("must be a number above 0, got {v}")))
            }
        };
        let (model, bounds) = match (self.rate_from, self.max_rate) {
            (Some(from), Some(max)) => {
                let from = positive(SpecField::RateFrom, self.start.unwrap_or(from))?;
                let max = positive(SpecField::MaxRate, max)?;
                if max < from {
                    return Err(wrong(
                        SpecField::MaxRate,
                        format!("{max} is below the first rate, {from}"),
                    ));
                }
                let model = Model::Rate {
                    max_users: self.max_users,
                };
                (model, (from, max, false))
            }
            (Some(_), None) => {
                return Err(wrong(
                    SpecField::MaxRate,
                    "is needed with a first rate".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(wrong(
                    SpecField::RateFrom,
                    "is needed with a highest rate".into(),
                ))
            }
            (None, None) => {
                let start = positive(SpecField::Start, self.start.unwrap_or(10.0))?.round();
                let max = f64::from(self.max_users);
                if max < start {
                    return Err(wrong(
                        SpecField::MaxUsers,
                        format!("{max} is below the first level, {start} users"),
                    ));
                }
                let spawn_rate = self.spawn_rate.unwrap_or(50.0);
                (Model::Users { spawn_rate }, (start, max, true))
            }
        };
        let (start, max, whole) = bounds;
        Ok(LimitSpec {
            model,
            bounds: Bounds {
                start,
                max,
                resolution,
                whole,
            },
            step: StepTime::of(step_total),
            thresholds: self.thresholds.clone(),
        })
    }
}
