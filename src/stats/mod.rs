//! Statistics: recorded per worker, merged on a timer, read as snapshots.
//!
//! - `histogram`: µs HdrHistogram (3 significant digits), mergeable and serialisable.
//! - `entry`: one (method, name) entry: counts, exact min/max/sum, histogram; `+=` merges.
//! - `delta`: what one worker thread records between flushes (no locks, no channels).
//! - `slots`: the worker's per-step slots, fed through a short log summed in batches.
//! - `errors`: failure/exception grouping and message normalisation.
//! - `window`: the 10-second window behind current rates and percentiles.
//! - `aggregator`: merged totals, caps, per-second history, snapshot building.
//! - `tracked`: whole-run percentiles followed through merges instead of rescanned.
//! - `snapshot`: the read-only picture that reports and the dashboard read.
//! - `health`: the generator's own health (worker CPU, scheduling lag, late starts) and the
//!   time ranges in which Surge itself was the bottleneck.

pub mod aggregator;
pub mod delta;
pub mod entry;
pub mod errors;
pub mod health;
pub mod histogram;
mod slots;
pub mod snapshot;
mod tracked;
pub mod window;

pub use aggregator::{Aggregator, Limits, RunInfo};
pub use delta::WorkerStats;
pub use entry::StatsEntry;
pub use snapshot::*;

/// Aggregated history points kept: 24 h at one per tick of one second. The engine's
/// aggregator ([`Limits::history_points`]'s default) and the dashboard's hub both keep this many.
pub const HISTORY_POINTS: usize = 24 * 3600;

/// The current time as Unix seconds (fractional): the timestamp every statistic uses.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
