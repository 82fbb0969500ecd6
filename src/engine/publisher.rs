//! The publisher task: owns the run's [`Aggregator`], merges worker deltas into it as they
//! arrive and publishes one snapshot per tick (shared by every reader behind an `Arc`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::stats::{unix_now, Aggregator, Limits, RunState, Snapshot};

use super::{AggMsg, Status};

/// The snapshot shown before any test ran.
pub fn empty_snapshot(status: &Status) -> Snapshot {
    Aggregator::new(Limits::default()).snapshot(unix_now(), &status.info())
}

pub async fn run(
    limits: Limits,
    tick: Duration,
    status: Arc<Status>,
    mut rx: mpsc::UnboundedReceiver<AggMsg>,
    tx: watch::Sender<Arc<Snapshot>>,
) {
    let mut agg = Aggregator::new(limits);
    let mut host = super::cpu::HostSampler::default();
    // The first reading, so that even the first tick (when the task first runs, late on a
    // busy machine) knows the machine's load since the engine started.
    let _ = host.sample();
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let publish = |agg: &mut Aggregator| {
        let mut snap = agg.snapshot(unix_now(), &status.info());
        snap.marks = status.marks();
        if let Some(board) = status.board() {
            snap.warnings.extend(board.warnings());
            snap.server = Some(crate::scrape::ServerBoard(board));
        }
        let snap = Arc::new(snap);
        tx.send_replace(snap.clone());
        snap
    };
    loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                None => break,
                Some(AggMsg::Delta(d)) => agg.merge(*d, unix_now()),
                Some(AggMsg::Start) | Some(AggMsg::Reset) => agg.reset(unix_now()),
                Some(AggMsg::Stopping(at)) => agg.stopping(at),
                Some(AggMsg::Publish(ack)) => {
                    let _ = ack.send(publish(&mut agg));
                }
                Some(AggMsg::History(ack)) => {
                    let _ = ack.send(agg.history().iter().cloned().collect());
                }
                Some(AggMsg::EntryStats(ack)) => {
                    let _ = ack.send(agg.entry_stats());
                }
            },
            due = ticker.tick() => {
                let lag = due.elapsed();
                let running = matches!(status.state(), RunState::Spawning | RunState::Running);
                agg.health_tick(unix_now(), running, lag.as_micros() as u64, host.sample());
                publish(&mut agg);
            }
        }
    }
}
