//! Statistics: recorded per worker, merged on a timer, read as snapshots.

pub mod snapshot;

pub use snapshot::*;
