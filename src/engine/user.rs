//! A virtual user: its client, variables and data row, and the one loop every load model
//! runs (closed loop with wait times, or open model taking arrival tickets).

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::client::UserClient;
use crate::plan::data::DataRow;
use crate::plan::template::{RenderCtx, Vars};
use crate::plan::WaitTime;
use crate::stats::unix_now;

use super::outcome::Failure;
use super::run::{PreparedScenario, RunCtx};
use super::step::{Outgoing, PreparedStep};
use super::threads::{Ticket, WorkerLocal};

/// How a running user is told to stop.
pub struct StopSignal {
    pub stop: Cell<bool>,
    pub wake: Notify,
}

impl StopSignal {
    pub fn new() -> Rc<StopSignal> {
        Rc::new(StopSignal {
            stop: Cell::new(false),
            wake: Notify::new(),
        })
    }

    pub fn raise(&self) {
        self.stop.set(true);
        self.wake.notify_one();
    }

    fn raised(&self) -> bool {
        self.stop.get()
    }
}

struct User {
    id: u64,
    client: UserClient,
    vars: Vars,
    row: Option<Arc<DataRow>>,
    run: Arc<RunCtx>,
    scenario: usize,
    local: Rc<WorkerLocal>,
}

/// What one run of a step sequence did.
#[derive(Default)]
struct Iteration {
    sent: bool,
    exception: bool,
}

/// Run one user until it is told to stop.
pub async fn run_user(
    id: u64,
    scenario: usize,
    run: Arc<RunCtx>,
    local: Rc<WorkerLocal>,
    signal: Rc<StopSignal>,
) {
    let mut user = User {
        id,
        client: UserClient::new(run.client.clone()),
        vars: Vars::new(),
        row: None,
        run: run.clone(),
        scenario,
        local,
    };
    let sc = &run.scenarios[scenario];
    if let Some(data) = &run.data {
        match data.next_row() {
            Some(row) => user.row = Some(row),
            None => {
                user.exception(
                    "data file exhausted: every row was handed out (on_end = \"stop\"); this user stops",
                    &format!("scenario \"{}\", data file", sc.scenario.name),
                );
                return;
            }
        }
    }
    let on_start = user.run_steps(&sc.on_start, "on_start", None).await;
    if on_start.exception || signal.raised() {
        backoff_if_idle(&on_start, &signal).await;
    }
    let wait = sc.scenario.wait;
    while !signal.raised() {
        let intended = if run.open {
            match user.local.take_ticket(&signal).await {
                Some(t) => Some(t),
                None => break,
            }
        } else {
            None
        };
        let started = Instant::now();
        let task = sc.pick();
        let it = user.run_steps(&task.steps, &task.name, intended).await;
        if signal.raised() {
            break;
        }
        backoff_if_idle(&it, &signal).await;
        if !run.open {
            if let Some(d) = wait_after(wait, started.elapsed()) {
                pause(d, &signal).await;
            }
        }
    }
}

/// After an iteration that sent nothing because of an exception, pause so that a broken
/// plan does not spin a core recording the same exception.
async fn backoff_if_idle(it: &Iteration, signal: &StopSignal) {
    if it.exception && !it.sent {
        pause(Duration::from_millis(100), signal).await;
    }
}

/// How long to wait after a task that took `took`.
pub fn wait_after(wait: WaitTime, took: Duration) -> Option<Duration> {
    let secs = match wait {
        WaitTime::None => return None,
        WaitTime::Between(a, b) => a + fastrand::f64() * (b - a),
        WaitTime::Constant(c) => c,
        WaitTime::ConstantPacing(p) => p - took.as_secs_f64(),
        WaitTime::ConstantThroughput(n) => 1.0 / n - took.as_secs_f64(),
    };
    (secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Sleep, waking early when the user is told to stop.
async fn pause(d: Duration, signal: &StopSignal) {
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = signal.wake.notified() => {}
    }
}

impl User {
    fn scenario(&self) -> &PreparedScenario {
        &self.run.scenarios[self.scenario]
    }

    #[cold]
    fn exception(&self, message: &str, origin: &str) {
        self.local
            .stats
            .borrow_mut()
            .record_exception(message, origin);
    }

    /// Run steps in order; a failed request or an exception ends the sequence (later steps
    /// usually depend on the earlier ones).
    async fn run_steps(
        &mut self,
        steps: &[PreparedStep],
        task: &str,
        mut intended: Option<Ticket>,
    ) -> Iteration {
        let mut it = Iteration::default();
        for (i, step) in steps.iter().enumerate() {
            let built = {
                let ctx = RenderCtx::new(self.id, &self.vars, self.row.as_deref());
                step.build(&ctx)
            };
            let built = match built {
                Ok(b) => b,
                Err(e) => {
                    it.exception = true;
                    self.exception(&e.0, &self.origin(task, i));
                    return it;
                }
            };
            let method = built.request.method().clone();
            let sent_at = Instant::now();
            if let Some(t) = intended {
                self.local
                    .stats
                    .borrow_mut()
                    .record_start(micros(sent_at.saturating_duration_since(t.due)));
            }
            let result = match &built.request {
                Outgoing::Fixed(fixed) => self.client.send_fixed(fixed, step.keep_body()).await,
                Outgoing::Built(request) => self.client.send(request, step.keep_body()).await,
            };
            let now = Instant::now();
            // The response's arrival (kernel timestamp) when known: the time this task took
            // to wake up and read it is the generator's, not the target's.
            let done = match &result {
                Ok(resp) => resp.received.filter(|t| *t >= sent_at && *t <= now),
                Err(_) => None,
            }
            .unwrap_or(now);
            it.sent = true;
            let uncorrected = micros(done - sent_at);
            // Open model: the first request of a task is measured from its intended start
            // when that start waited for a busy user (see `Ticket::measured_from`).
            let us = intended
                .take()
                .map_or(uncorrected, |t| micros(done - t.measured_from(sent_at)));
            let (bytes, failure) = match &result {
                Ok(resp) => (resp.body_len, step.judge(resp)),
                Err(e) => (0, Some(Failure::Transport(e.clone()))),
            };
            let failure = match (failure, &result) {
                (Some(f), Ok(resp)) if step.step.checks.message.is_some() => {
                    let ctx = RenderCtx::new(self.id, &self.vars, self.row.as_deref());
                    let (f, error) = step.explain(f, resp, &ctx);
                    if let Some(e) = error {
                        it.exception = true;
                        self.exception(&e.0, &self.origin(task, i));
                    }
                    Some(f)
                }
                (f, _) => f,
            };
            {
                let mut stats = self.local.stats.borrow_mut();
                let message = failure.as_ref().map(Failure::to_string);
                stats.record_step(
                    built.slot,
                    method.as_str(),
                    &built.name,
                    us,
                    bytes,
                    message.as_deref(),
                    now_if(&failure),
                );
                if self.run.open {
                    stats.open.uncorrected.record(uncorrected, bytes, false);
                }
            }
            let Ok(resp) = result else { return it };
            if failure.is_some() {
                return it;
            }
            if let Err(e) = step.capture(&resp, &mut self.vars) {
                it.exception = true;
                self.exception(&e.0, &self.origin(task, i));
                return it;
            }
        }
        it
    }

    fn origin(&self, task: &str, step: usize) -> String {
        format!(
            "scenario \"{}\", task \"{task}\", step {}",
            self.scenario().scenario.name,
            step + 1
        )
    }
}

fn now_if(failure: &Option<Failure>) -> f64 {
    if failure.is_some() {
        unix_now()
    } else {
        0.0
    }
}

/// A duration in whole µs, saturating (statistics record µs).
pub(super) fn micros(d: Duration) -> u64 {
    d.as_micros().min(u128::from(u64::MAX)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_times_follow_locust() {
        let ms = Duration::from_millis;
        assert_eq!(wait_after(WaitTime::None, ms(5)), None);
        assert_eq!(wait_after(WaitTime::Constant(2.0), ms(5)), Some(ms(2000)));
        assert_eq!(
            wait_after(WaitTime::ConstantPacing(1.0), ms(300)),
            Some(ms(700))
        );
        assert_eq!(wait_after(WaitTime::ConstantPacing(1.0), ms(1300)), None);
        assert_eq!(
            wait_after(WaitTime::ConstantThroughput(4.0), ms(50)),
            Some(ms(200))
        );
        for _ in 0..100 {
            let d = wait_after(WaitTime::Between(1.0, 5.0), ms(0)).unwrap();
            assert!(d >= ms(1000) && d <= ms(5000));
        }
    }
}
