//! The controller task: owns the run's state machine, ramps users at the spawn rate, follows
//! stages, ends the run after its run time, and stops it through the one drain path.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::plan::{LoadProfile, Stage};
use crate::stats::{RunState, Snapshot};

use super::mix::Mix;
use super::run::RunCtx;
use super::threads::WorkerCmd;
use super::{AggMsg, Command, RunParams, Status};

/// How often the controller re-evaluates ramps, stages and the run time.
const TICK: Duration = Duration::from_millis(20);

struct ActiveRun {
    started: Instant,
    run_time: Option<Duration>,
    stages: Vec<Stage>,
    mix: Mix,
    /// Closed-model users in spawn order: (id, scenario).
    live: Vec<(u64, usize)>,
    next_id: u64,
    target: u32,
    spawn_rate: f64,
    credit: f64,
}

pub struct Controller {
    pub workers: Vec<mpsc::UnboundedSender<WorkerCmd>>,
    pub agg: mpsc::UnboundedSender<AggMsg>,
    pub status: Arc<Status>,
    pub stop_timeout: Duration,
    run: Option<ActiveRun>,
    /// The test's metrics scrapers (aborted when dropped).
    scraping: Option<super::scraper::Scraping>,
}

impl Controller {
    pub fn new(
        workers: Vec<mpsc::UnboundedSender<WorkerCmd>>,
        agg: mpsc::UnboundedSender<AggMsg>,
        status: Arc<Status>,
        stop_timeout: Duration,
    ) -> Controller {
        Controller {
            workers,
            agg,
            status,
            stop_timeout,
            run: None,
            scraping: None,
        }
    }

    pub async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last = Instant::now();
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    None => break,
                    Some(cmd) => self.command(cmd).await,
                },
                _ = tick.tick() => {
                    let now = Instant::now();
                    let dt = now - last;
                    last = now;
                    self.tick(now, dt).await;
                }
            }
        }
        self.stop(None).await;
    }

    async fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Start(params) => self.start(*params),
            Command::SetUsers { users, spawn_rate } => {
                if self.run.is_some() {
                    self.status
                        .mark(format!("users → {users} ({} /s)", short(spawn_rate)));
                }
                if let Some(run) = &mut self.run {
                    run.stages.clear();
                    run.target = users;
                    run.spawn_rate = spawn_rate;
                    run.credit = run.credit.max(1.0);
                    if run.live.len() as u32 != users {
                        self.status.set_state(RunState::Spawning);
                    }
                }
            }
            Command::SetRate { rate, max_users } => {
                self.status.mark(format!("rate → {} /s", short(rate)));
                self.status.set_rate(Some(rate));
                self.send_open(rate, max_users);
            }
            Command::Stop(ack) => self.stop(Some(ack)).await,
            Command::Reset => {
                // Workers drop what they recorded but did not flush yet, and their earlier
                // flushes reach the aggregator before the reset does: nothing completed
                // before the reset is counted after it.
                let mut acks = Vec::new();
                for w in &self.workers {
                    let (tx, rx) = oneshot::channel();
                    if w.send(WorkerCmd::Reset { ack: tx }).is_ok() {
                        acks.push(rx);
                    }
                }
                for rx in acks {
                    let _ = rx.await;
                }
                let _ = self.agg.send(AggMsg::Reset);
                self.status.mark("statistics reset".into());
            }
        }
    }

    fn start(&mut self, p: RunParams) {
        let ctx = Arc::new(RunCtx::prepare(
            &p.plan,
            p.host.as_deref(),
            &p.load,
            p.client.clone(),
        ));
        let specs: Vec<(u32, Option<u32>)> = p
            .plan
            .scenarios
            .iter()
            .map(|s| (s.weight, s.fixed_count))
            .collect();
        self.status.begin(&p);
        self.scraping = self
            .status
            .board()
            .map(|b| super::scraper::start(b, &p.client));
        let _ = self.agg.send(AggMsg::Start);
        for w in &self.workers {
            let _ = w.send(WorkerCmd::Begin(ctx.clone()));
        }
        let (target, spawn_rate, stages) = match &p.load {
            LoadProfile::Closed { users, spawn_rate } => (*users, *spawn_rate, vec![]),
            LoadProfile::Stages(stages) => (0, 1.0, stages.clone()),
            LoadProfile::Open { rate, max_users } => {
                self.send_open(*rate, *max_users);
                (0, 1.0, vec![])
            }
        };
        self.status
            .set_state(if matches!(p.load, LoadProfile::Open { .. }) {
                RunState::Running
            } else {
                RunState::Spawning
            });
        self.run = Some(ActiveRun {
            started: Instant::now(),
            run_time: p.run_time,
            stages,
            mix: Mix::new(&specs),
            live: Vec::new(),
            next_id: 0,
            target,
            spawn_rate,
            credit: 1.0,
        });
    }

    fn send_open(&self, rate: f64, max_users: u32) {
        let n = self.workers.len().max(1) as u32;
        for (i, w) in self.workers.iter().enumerate() {
            let cap = max_users / n + u32::from((i as u32) < max_users % n);
            let share = if max_users == 0 {
                0.0
            } else {
                rate * f64::from(cap) / f64::from(max_users)
            };
            let _ = w.send(WorkerCmd::Open { rate: share, cap });
        }
    }

    async fn tick(&mut self, now: Instant, dt: Duration) {
        let Some(run) = &mut self.run else { return };
        let elapsed = now - run.started;
        if run.run_time.is_some_and(|t| elapsed >= t) {
            self.stop(None).await;
            return;
        }
        if !run.stages.is_empty() {
            match stage_at(&run.stages, elapsed) {
                Some((users, rate)) => {
                    if users != run.target {
                        self.status
                            .mark(format!("stage: users → {users} ({} /s)", short(rate)));
                        run.target = users;
                        run.spawn_rate = rate;
                        run.credit = run.credit.max(1.0);
                    }
                }
                None => {
                    self.stop(None).await;
                    return;
                }
            }
        }
        let live = run.live.len() as u32;
        if live == run.target {
            if self.status.state() == RunState::Spawning {
                self.status.set_state(RunState::Running);
            }
            run.credit = 1.0;
            return;
        }
        run.credit += run.spawn_rate * dt.as_secs_f64();
        let n = self.workers.len() as u64;
        while run.credit >= 1.0 && run.live.len() as u32 != run.target {
            run.credit -= 1.0;
            if (run.live.len() as u32) < run.target {
                let scenario = run.mix.add();
                let id = run.next_id;
                run.next_id += 1;
                run.live.push((id, scenario));
                let _ = self.workers[(id % n) as usize].send(WorkerCmd::Spawn { id, scenario });
            } else if let Some(scenario) = run.mix.remove() {
                if let Some(pos) = run.live.iter().rposition(|u| u.1 == scenario) {
                    let (id, _) = run.live.remove(pos);
                    let _ = self.workers[(id % n) as usize].send(WorkerCmd::Retire { id });
                }
            }
        }
        if self.status.state() == RunState::Running {
            self.status.set_state(RunState::Spawning);
        }
    }

    /// Stop the run: users stop, in-flight requests finish up to the stop timeout, workers
    /// flush, and the final snapshot is published before anyone is told it is over.
    async fn stop(&mut self, ack: Option<oneshot::Sender<Arc<Snapshot>>>) {
        let stopped = self.run.take().is_some();
        if stopped {
            self.status.set_state(RunState::Stopping);
            let _ = self.agg.send(AggMsg::Stopping(crate::stats::unix_now()));
            let deadline = Instant::now() + self.stop_timeout;
            let mut acks = Vec::new();
            for w in &self.workers {
                let (tx, rx) = oneshot::channel();
                if w.send(WorkerCmd::StopAll { deadline, ack: tx }).is_ok() {
                    acks.push(rx);
                }
            }
            for rx in acks {
                let _ = rx.await;
            }
            // Scraping stops with the test: its board keeps what it read.
            self.scraping = None;
            // The target rate stays until the next start: the final snapshot keeps its
            // open-model figures. The state is stored now (the final snapshot says
            // "stopped") but announced only once that snapshot is published.
            self.status.store_state(RunState::Stopped);
        }
        let (tx, rx) = oneshot::channel();
        let _ = self.agg.send(AggMsg::Publish(tx));
        let snap = rx.await;
        if stopped {
            self.status.set_state(RunState::Stopped);
        }
        if let (Ok(snap), Some(ack)) = (snap, ack) {
            let _ = ack.send(snap);
        }
    }
}

/// A rate as a marker writes it: `20`, `2.5`, `0.33`.
fn short(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The (users, spawn rate) in force `elapsed` into a staged run; `None` once every stage is
/// over.
pub fn stage_at(stages: &[Stage], elapsed: Duration) -> Option<(u32, f64)> {
    let mut end = Duration::ZERO;
    for s in stages {
        end += s.duration;
        if elapsed < end {
            return Some((s.users, s.spawn_rate));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_in_order_then_done() {
        let st = |secs, users| Stage {
            duration: Duration::from_secs(secs),
            users,
            spawn_rate: 5.0,
        };
        let stages = vec![st(10, 10), st(5, 30), st(5, 0)];
        assert_eq!(stage_at(&stages, Duration::from_secs(0)), Some((10, 5.0)));
        assert_eq!(stage_at(&stages, Duration::from_secs(12)), Some((30, 5.0)));
        assert_eq!(stage_at(&stages, Duration::from_secs(19)), Some((0, 5.0)));
        assert_eq!(stage_at(&stages, Duration::from_secs(20)), None);
    }
}
