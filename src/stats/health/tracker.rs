//! Judging each tick: the workers' reports since the last tick, the snapshot tick's own
//! lateness, the open model's late and dropped starts and the machine's load make one
//! sample, and overloaded samples open or extend [`OverloadRange`]s.

use super::{
    Cause, GeneratorSnapshot, HostLoad, OverloadRange, WorkerHealth, BUSY_CPU_SHARE, LAG_MS,
    LATE_START_MIN, LATE_START_SHARE,
};

/// Most ranges kept (a run that keeps flapping in and out of overload keeps the last).
const MAX_RANGES: usize = 100;

/// One tick's figures, judged.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    cpu_share: Option<f64>,
    lag_us: u64,
    scheduled: u64,
    late: u64,
    dropped: u64,
    host: Option<HostLoad>,
}

impl Sample {
    fn overloaded(&self) -> bool {
        self.saturated()
            || self.lag_us as f64 / 1000.0 >= LAG_MS
            || self.dropped > 0
            || (self.late >= LATE_START_MIN
                && self.late as f64 > LATE_START_SHARE * self.scheduled as f64)
    }

    /// A worker thread of Surge's used (nearly) a whole core.
    fn saturated(&self) -> bool {
        self.cpu_share.is_some_and(|c| c >= BUSY_CPU_SHARE)
    }

    /// Why an overloaded tick was: the host when Surge's threads were not saturated and the
    /// machine was busy with other work; else Surge itself.
    fn cause(&self) -> Cause {
        match self.host {
            Some(h) if !self.saturated() && h.busy_elsewhere() => Cause::Host,
            _ => Cause::Generator,
        }
    }
}

/// Collects health reports between ticks and keeps the overload ranges of a run.
#[derive(Debug, Default)]
pub struct HealthTracker {
    /// Per worker since the last tick.
    workers: Vec<WorkerHealth>,
    lag_us: u64,
    /// Open-model totals at the last tick, to take per-tick differences.
    open_seen: (u64, u64, u64),
    current: GeneratorSnapshot,
    last_tick: Option<f64>,
}

impl HealthTracker {
    /// A worker's report (arrives with its statistics delta).
    pub fn report(&mut self, h: &WorkerHealth) {
        self.lag_us = self.lag_us.max(h.max_lag_us);
        match self.workers.iter_mut().find(|w| w.worker == h.worker) {
            Some(w) => w.add(h),
            None => self.workers.push(h.clone()),
        }
    }

    /// Lateness of the snapshot tick itself, µs.
    pub fn tick_lag(&mut self, us: u64) {
        self.lag_us = self.lag_us.max(us);
    }

    /// Judges the tick ending at `now` (Unix seconds) while a test runs, given the run's
    /// open-model totals (scheduled, late, dropped) and the machine's load over the tick,
    /// and returns the picture to publish.
    pub fn tick(
        &mut self,
        now: f64,
        running: bool,
        open: (u64, u64, u64),
        host: Option<HostLoad>,
    ) -> GeneratorSnapshot {
        let cpu_share = self
            .workers
            .iter()
            .filter(|w| w.wall_us > 0)
            .filter_map(|w| w.cpu_us.map(|c| c as f64 / w.wall_us as f64))
            .fold(None, |acc: Option<f64>, s| {
                Some(acc.map_or(s, |a| a.max(s)))
            });
        let sample = Sample {
            cpu_share,
            lag_us: self.lag_us,
            scheduled: open.0.saturating_sub(self.open_seen.0),
            late: open.1.saturating_sub(self.open_seen.1),
            dropped: open.2.saturating_sub(self.open_seen.2),
            host,
        };
        self.open_seen = open;
        self.workers.clear();
        self.lag_us = 0;
        let previous = self.last_tick.replace(now);
        let overloaded = running && sample.overloaded();
        self.current.cpu_percent = cpu_share.map(|s| (s * 100.0).min(100.0));
        self.current.lag_ms = sample.lag_us as f64 / 1000.0;
        self.current.overloaded = overloaded;
        self.current.cause = overloaded.then(|| sample.cause());
        self.current.host = host;
        if overloaded {
            self.extend(previous.unwrap_or(now - 1.0), now, &sample);
        }
        self.current.clone()
    }

    /// Adds the tick `[from, now]` to the last range when it continues it (with the same
    /// cause), or opens one.
    fn extend(&mut self, from: f64, now: f64, s: &Sample) {
        let cpu = self.current.cpu_percent;
        let lag_ms = s.lag_us as f64 / 1000.0;
        let cause = s.cause();
        let ranges = &mut self.current.ranges;
        match ranges.last_mut() {
            Some(r) if from - r.end <= 0.5 && r.cause == cause => {
                r.end = now;
                if let Some(h) = s.host {
                    if r.host
                        .is_none_or(|old| h.others_cores() > old.others_cores())
                    {
                        r.host = Some(h);
                    }
                }
                r.peak_cpu_percent = match (r.peak_cpu_percent, cpu) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
                r.peak_lag_ms = r.peak_lag_ms.max(lag_ms);
                r.late_starts += s.late;
                r.dropped_starts += s.dropped;
            }
            _ => {
                if ranges.len() >= MAX_RANGES {
                    ranges.remove(0);
                }
                ranges.push(OverloadRange {
                    start: from,
                    end: now,
                    peak_cpu_percent: cpu,
                    peak_lag_ms: lag_ms,
                    late_starts: s.late,
                    dropped_starts: s.dropped,
                    cause,
                    host: s.host,
                    message: String::new(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(worker: u32, cpu_ms: u64, wall_ms: u64, lag_ms: u64) -> WorkerHealth {
        WorkerHealth {
            worker,
            cpu_us: Some(cpu_ms * 1000),
            wall_us: wall_ms * 1000,
            max_lag_us: lag_ms * 1000,
        }
    }

    #[test]
    fn busiest_worker_decides_and_ranges_join() {
        let mut t = HealthTracker::default();
        // Two workers, neither saturated: 50% and 80%.
        t.report(&worker(0, 100, 200, 1));
        t.report(&worker(0, 100, 200, 2));
        t.report(&worker(1, 320, 400, 1));
        let g = t.tick(100.0, true, (0, 0, 0), None);
        assert_eq!(g.cpu_percent, Some(80.0));
        assert_eq!(g.lag_ms, 2.0);
        assert!(!g.overloaded && g.ranges.is_empty());
        // Worker 1 saturates for two ticks: one range from 100 to 102.
        t.report(&worker(1, 990, 1000, 3));
        assert!(t.tick(101.0, true, (0, 0, 0), None).overloaded);
        t.report(&worker(1, 1000, 1000, 40));
        let g = t.tick(102.0, true, (0, 0, 0), None);
        assert_eq!(g.ranges.len(), 1);
        let r = &g.ranges[0];
        assert_eq!((r.start, r.end), (100.0, 102.0));
        assert_eq!(r.peak_cpu_percent, Some(100.0));
        assert_eq!(r.peak_lag_ms, 40.0);
        assert_eq!(
            r.reasons(),
            "a worker thread at 100% CPU, scheduling lag up to 40 ms"
        );
        assert!(r.describe(40.0).starts_with(
            "Surge itself was the bottleneck from 1:00 to 1:02 into the test (2 s): a worker"
        ));
        // A healthy tick ends it; the next overload opens a second range.
        t.report(&worker(1, 100, 1000, 1));
        assert!(!t.tick(103.0, true, (0, 0, 0), None).overloaded);
        t.tick_lag(25_000);
        let g = t.tick(104.0, true, (0, 0, 0), None);
        assert_eq!(g.ranges.len(), 2);
        assert_eq!(g.ranges[1].start, 103.0);
    }

    #[test]
    fn open_model_late_and_dropped_starts_count_per_tick() {
        let mut t = HealthTracker::default();
        // 1000 scheduled, 5 late: within 1%; 10 scheduled, 4 late: too few to matter.
        assert!(!t.tick(9.0, true, (1000, 5, 0), None).overloaded);
        assert!(!t.tick(10.0, true, (1010, 9, 0), None).overloaded);
        // Next tick: 1000 more, 50 late (5%).
        let g = t.tick(11.0, true, (2010, 59, 0), None);
        assert!(g.overloaded);
        assert_eq!(g.ranges[0].late_starts, 50);
        // Any dropped start is an overload.
        let g = t.tick(12.0, true, (3010, 59, 7), None);
        assert_eq!(g.ranges[0].dropped_starts, 7);
        assert_eq!(g.ranges[0].end, 12.0);
        assert_eq!(g.ranges[0].reasons(), "50 late starts, 7 dropped starts");
    }

    fn host(others: f64, surge: f64, steal: f64) -> Option<HostLoad> {
        Some(HostLoad {
            cores: 2,
            busy_cores: others + surge,
            surge_cores: surge,
            steal_cores: steal,
        })
    }

    /// The lab: the target shares the machine's 2 cores with Surge, whose threads idle while
    /// its timers fire late. That is the host, worded as such; a saturated worker stays the
    /// generator however busy the machine is.
    #[test]
    fn lag_on_a_busy_machine_is_the_hosts_and_a_busy_worker_the_generators() {
        let mut t = HealthTracker::default();
        t.report(&worker(0, 20, 1000, 150));
        let g = t.tick(100.0, true, (0, 0, 0), host(1.9, 0.02, 0.0));
        assert_eq!((g.overloaded, g.cause), (true, Some(Cause::Host)));
        t.report(&worker(0, 15, 1000, 180));
        let g = t.tick(101.0, true, (0, 0, 0), host(1.7, 0.02, 0.0));
        assert_eq!(g.ranges.len(), 1);
        let r = &g.ranges[0];
        assert_eq!((r.cause, r.peak_lag_ms), (Cause::Host, 180.0));
        assert_eq!(r.host.unwrap().others_cores(), 1.9);
        assert_eq!(
            r.describe(40.0),
            "This machine was busy with other work from 0:59 to 1:01 into the test (2 s): \
             other processes used 1.9 of 2 cores (Surge 0.02), scheduling lag up to 180 ms. \
             Response times in that range include this machine's delays: run the target \
             elsewhere or lower the load."
        );
        // The worker saturates: a new range, the generator's.
        t.report(&worker(0, 990, 1000, 40));
        let g = t.tick(102.0, true, (0, 0, 0), host(1.0, 1.0, 0.0));
        assert_eq!(g.ranges.len(), 2);
        assert_eq!(g.ranges[1].cause, Cause::Generator);
        assert!(g.ranges[1]
            .describe(40.0)
            .starts_with("Surge itself was the bottleneck"));
        // Lag on an idle machine, Surge idle too: not the host's doing.
        t.report(&worker(0, 10, 1000, 30));
        assert_eq!(
            t.tick(104.0, true, (0, 0, 0), host(0.1, 0.01, 0.0)).cause,
            Some(Cause::Generator)
        );
        // Stolen CPU time is the host's.
        t.report(&worker(0, 10, 1000, 30));
        let g = t.tick(106.0, true, (0, 0, 0), host(0.2, 0.01, 0.5));
        assert_eq!(g.cause, Some(Cause::Host));
        assert!(g
            .ranges
            .last()
            .unwrap()
            .reasons()
            .contains("the hypervisor took 0.5 cores' time (steal)"));
        // A range saved before causes existed reads as the generator's.
        let old: OverloadRange = serde_json::from_str(
            r#"{"start":1,"end":2,"peak_cpu_percent":99,"peak_lag_ms":30,"late_starts":0,"dropped_starts":0,"message":""}"#,
        )
        .unwrap();
        assert_eq!((old.cause, old.host), (Cause::Generator, None));
    }

    #[test]
    fn nothing_is_judged_while_stopped() {
        let mut t = HealthTracker::default();
        t.report(&worker(0, 1000, 1000, 500));
        let g = t.tick(5.0, false, (0, 0, 0), None);
        assert!(!g.overloaded && g.ranges.is_empty());
    }
}
