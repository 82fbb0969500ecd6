//! Where the next step of a breaking-point search goes: grow the level geometrically
//! (×2) until a step fails, then bisect between the last pass and the first fail until the
//! gap is within the resolution, then run the found level once more to confirm it. Pure
//! logic on levels and verdicts, so it is tested without any load.

/// What one step said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    /// Surge (or the machine it runs on) could not hold the load: the step says nothing
    /// about the target.
    Inconclusive,
}

/// The search's bounds: levels from `start` to `max`, stopped when the gap between a pass
/// and a fail is at most `resolution` of the pass (and at least `min_gap` apart, 1 user).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub start: f64,
    pub max: f64,
    /// A fraction: 0.05 for 5 %.
    pub resolution: f64,
    /// Levels are whole numbers (users): bisection stops at a gap of 1.
    pub whole: bool,
}

impl Bounds {
    /// At most how many steps the search takes: growing from `start` to `max`, halving a
    /// gap of one doubling down to the resolution, and the confirmation.
    pub fn max_steps(&self) -> usize {
        let grow = (self.max / self.start).log2().ceil().max(0.0) as usize + 1;
        let halvings = if self.whole {
            // A gap of `max / 2` halved down to 1 user, or to the resolution, whichever is
            // larger.
            let gap = (self.max / 2.0).max(1.0);
            let floor = (self.max / 2.0 * self.resolution).max(1.0);
            (gap / floor).log2().ceil().max(0.0) as usize
        } else {
            (1.0 / self.resolution).log2().ceil().max(0.0) as usize
        };
        grow + halvings + 1
    }
}

/// Where the search stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Run a step at this level.
    Step(f64),
    /// Run the found level once more.
    Confirm(f64),
    /// Done: the highest pass and the lowest fail (either may be missing).
    Done {
        limit: Option<f64>,
        broke_at: Option<f64>,
        /// Whether the limit passed again when it was run once more.
        confirmed: bool,
    },
    /// A step was inconclusive: the search stops there.
    Stopped { at: f64 },
}

/// The search's state.
#[derive(Debug, Clone)]
pub struct Search {
    bounds: Bounds,
    pass: Option<f64>,
    fail: Option<f64>,
    /// The level run last, and whether it was the confirmation.
    current: f64,
    confirming: bool,
    next: Next,
}

impl Search {
    pub fn new(bounds: Bounds) -> Search {
        let start = bounds.start.min(bounds.max);
        Search {
            bounds,
            pass: None,
            fail: None,
            current: start,
            confirming: false,
            next: Next::Step(start),
        }
    }

    /// The step to run now, or the end.
    pub fn next(&self) -> &Next {
        &self.next
    }

    /// The verdict of the step [`Search::next`] asked for; returns what comes after it.
    pub fn record(&mut self, verdict: Verdict) -> &Next {
        let level = self.current;
        if verdict == Verdict::Inconclusive {
            self.next = Next::Stopped { at: level };
            return &self.next;
        }
        if self.confirming {
            self.next = Next::Done {
                limit: self.pass,
                broke_at: self.fail,
                confirmed: verdict == Verdict::Pass,
            };
            return &self.next;
        }
        match verdict {
            Verdict::Pass => self.pass = Some(self.pass.map_or(level, |p| p.max(level))),
            _ => self.fail = Some(self.fail.map_or(level, |f| f.min(level))),
        }
        self.next = match (self.pass, self.fail) {
            // Even the first level failed: nothing below it is searched.
            (None, Some(fail)) => Next::Done {
                limit: None,
                broke_at: Some(fail),
                confirmed: false,
            },
            // Still growing.
            (Some(pass), None) if pass >= self.bounds.max => Next::Done {
                limit: Some(pass),
                broke_at: None,
                confirmed: false,
            },
            (Some(pass), None) => self.step(self.round(pass * 2.0).min(self.bounds.max)),
            (Some(pass), Some(fail)) => {
                let gap = fail - pass;
                let done = if self.bounds.whole {
                    gap <= (pass * self.bounds.resolution).max(1.0)
                } else {
                    gap <= pass * self.bounds.resolution
                };
                if done {
                    self.confirming = true;
                    self.current = pass;
                    Next::Confirm(pass)
                } else {
                    self.step(self.round((pass + fail) / 2.0))
                }
            }
            (None, None) => unreachable!("a verdict was recorded"),
        };
        &self.next
    }

    fn step(&mut self, level: f64) -> Next {
        self.current = level;
        Next::Step(level)
    }

    fn round(&self, level: f64) -> f64 {
        if self.bounds.whole {
            level.round().max(1.0)
        } else {
            (level * 100.0).round() / 100.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the search against a target that passes every level up to `capacity`.
    fn run(bounds: Bounds, capacity: f64) -> (Vec<f64>, Next) {
        let mut s = Search::new(bounds);
        let mut levels = Vec::new();
        loop {
            let level = match s.next().clone() {
                Next::Step(l) | Next::Confirm(l) => l,
                end => return (levels, end),
            };
            levels.push(level);
            let verdict = if level <= capacity {
                Verdict::Pass
            } else {
                Verdict::Fail
            };
            s.record(verdict);
            assert!(levels.len() <= bounds.max_steps(), "{levels:?}");
        }
    }

    fn users(start: f64, max: f64) -> Bounds {
        Bounds {
            start,
            max,
            resolution: 0.05,
            whole: true,
        }
    }

    #[test]
    fn grows_then_bisects_to_the_exact_user_count() {
        let (levels, end) = run(users(3.0, 1000.0), 12.0);
        assert_eq!(levels, [3.0, 6.0, 12.0, 24.0, 18.0, 15.0, 14.0, 13.0, 12.0]);
        assert_eq!(
            end,
            Next::Done {
                limit: Some(12.0),
                broke_at: Some(13.0),
                confirmed: true
            }
        );
    }

    #[test]
    fn every_capacity_is_found_within_the_resolution_and_the_step_bound() {
        for capacity in [1.0, 7.0, 46.0, 63.0, 120.0, 999.0] {
            let (_, end) = run(users(10.0, 1000.0), capacity);
            match end {
                Next::Done {
                    limit: Some(l),
                    broke_at: Some(b),
                    ..
                } => {
                    assert!(l <= capacity && capacity < b, "{capacity}: {l}..{b}");
                    assert!(b - l <= (l * 0.05).max(1.0), "{capacity}: {l}..{b}");
                }
                Next::Done {
                    limit: None,
                    broke_at: Some(10.0),
                    ..
                } => assert!(capacity < 10.0),
                other => panic!("{capacity}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_first_level_failing_and_no_failure_up_to_the_maximum_end_the_search() {
        let (levels, end) = run(users(10.0, 1000.0), 5.0);
        assert_eq!(levels, [10.0]);
        assert_eq!(
            end,
            Next::Done {
                limit: None,
                broke_at: Some(10.0),
                confirmed: false
            }
        );
        let (levels, end) = run(users(10.0, 50.0), 1e9);
        assert_eq!(levels, [10.0, 20.0, 40.0, 50.0]);
        assert_eq!(
            end,
            Next::Done {
                limit: Some(50.0),
                broke_at: None,
                confirmed: false
            }
        );
    }

    #[test]
    fn rates_bisect_to_the_resolution_and_an_inconclusive_step_stops() {
        let bounds = Bounds {
            start: 50.0,
            max: 5000.0,
            resolution: 0.05,
            whole: false,
        };
        let (_, end) = run(bounds, 730.0);
        let Next::Done {
            limit: Some(l),
            broke_at: Some(b),
            confirmed: true,
        } = end
        else {
            panic!("{end:?}")
        };
        assert!(l <= 730.0 && 730.0 < b && b - l <= l * 0.05, "{l}..{b}");
        let mut s = Search::new(bounds);
        s.record(Verdict::Pass);
        assert_eq!(
            s.record(Verdict::Inconclusive),
            &Next::Stopped { at: 100.0 }
        );
    }
}
