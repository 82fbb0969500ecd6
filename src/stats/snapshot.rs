//! Snapshots: the read-only, serialisable picture of a run that reports and the dashboard read.
//!
//! The aggregator builds one snapshot per tick and shares it behind an `Arc`; readers never
//! touch live statistics, so a slow reader cannot slow the load.

use serde::Serialize;

pub use super::health::{GeneratorSnapshot, OverloadRange};

/// Percentiles reported everywhere (Locust's set), as fractions.
pub const PERCENTILES: [f64; 11] = [
    0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0,
];

/// Column titles for [`PERCENTILES`], exactly as Locust writes them in CSV headers.
pub const PERCENTILE_LABELS: [&str; 11] = [
    "50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%",
];

/// Engine state, as Locust names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Ready,
    Spawning,
    Running,
    Stopping,
    Stopped,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Ready => "ready",
            RunState::Spawning => "spawning",
            RunState::Running => "running",
            RunState::Stopping => "stopping",
            RunState::Stopped => "stopped",
        }
    }
}

/// Figures of one (method, name) entry, or of `Aggregated` (empty method).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EntrySnapshot {
    /// HTTP method; empty for the Aggregated row (Locust leaves `Type` empty there).
    pub method: String,
    pub name: String,
    pub num_requests: u64,
    pub num_failures: u64,
    /// Milliseconds with microsecond precision; `None` when there were no requests.
    pub avg_ms: Option<f64>,
    pub min_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// Average response body size in bytes (0 when no requests).
    pub avg_size: f64,
    /// Whole-run rates: count divided by the time since start (or reset).
    pub total_rps: f64,
    pub total_fail_per_sec: f64,
    /// Rates over the last 10 s window (complete seconds); decay to 0 when traffic stops.
    pub current_rps: f64,
    pub current_fail_per_sec: f64,
    /// Whole-run response time percentiles in ms, one per [`PERCENTILES`]; `None` = no data.
    pub percentiles: Vec<Option<f64>>,
    /// The same percentiles over the current window (what Locust's history CSV and charts show).
    pub current_percentiles: Vec<Option<f64>>,
}

impl EntrySnapshot {
    /// Whole-run percentile `q` (one of [`PERCENTILES`]) in ms.
    pub fn percentile(&self, q: f64) -> Option<f64> {
        pick(&self.percentiles, q)
    }

    /// Current-window percentile `q` (one of [`PERCENTILES`]) in ms.
    pub fn current_percentile(&self, q: f64) -> Option<f64> {
        pick(&self.current_percentiles, q)
    }

    /// Failures as a fraction of requests (0 when none).
    pub fn fail_ratio(&self) -> f64 {
        if self.num_requests == 0 {
            0.0
        } else {
            self.num_failures as f64 / self.num_requests as f64
        }
    }
}

fn pick(values: &[Option<f64>], q: f64) -> Option<f64> {
    PERCENTILES
        .iter()
        .position(|p| (p - q).abs() < 1e-9)
        .and_then(|i| values.get(i).copied().flatten())
}

/// One failure group: same method, name and normalised message.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FailureSnapshot {
    pub method: String,
    pub name: String,
    pub message: String,
    pub occurrences: u64,
    /// Unix time in seconds (fractional).
    pub first_seen: f64,
    pub last_seen: f64,
}

/// One exception group: an error in the plan's own logic, grouped by message and origin.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ExceptionSnapshot {
    pub message: String,
    /// Where in the plan it happened (`scenario "shopper", task "checkout", step 2`).
    pub origin: String,
    pub count: u64,
}

/// Open-model (arrival rate) figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OpenModelSnapshot {
    /// Asked arrival rate, starts per second.
    pub target_rate: f64,
    /// Starts that were due so far.
    pub scheduled: u64,
    /// Starts that happened more than 1 ms after their intended time.
    pub late_starts: u64,
    /// Starts dropped because too many were already waiting for a free user.
    pub dropped_starts: u64,
    /// Largest delay between intended and actual start, ms.
    pub max_start_lag_ms: f64,
    /// Aggregated latency measured from the actual send (not corrected for coordinated
    /// omission), one per [`PERCENTILES`], in ms.
    pub uncorrected_percentiles: Vec<Option<f64>>,
}

/// One point of the per-second history (charts, history CSV).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HistoryPoint {
    /// Sequence number of the snapshot this point was taken from (SSE ids, resume).
    pub seq: u64,
    /// Run number at that time: a change marks a new test ("Run #N" on the charts).
    pub run: u32,
    /// Unix time in whole seconds.
    pub time: u64,
    pub user_count: u32,
    pub current_rps: f64,
    pub current_fail_per_sec: f64,
    pub current_p50_ms: Option<f64>,
    pub current_p95_ms: Option<f64>,
    /// More of the current window's percentiles, for the charts' selectable lines (not kept
    /// in the run history: a saved run's charts have p50 and p95).
    #[serde(default)]
    pub current_p90_ms: Option<f64>,
    #[serde(default)]
    pub current_p99_ms: Option<f64>,
    #[serde(default)]
    pub current_p999_ms: Option<f64>,
    /// Taken while the test was stopping: users had been told to stop and only in-flight
    /// requests were finishing (the slowest ones, so no measure of the target's latency).
    #[serde(default)]
    pub drain: bool,
}

impl HistoryPoint {
    /// The history point of a snapshot: its Aggregated current figures.
    pub fn of(snap: &Snapshot) -> HistoryPoint {
        HistoryPoint {
            seq: snap.seq,
            run: snap.run,
            time: snap.time.max(0.0).floor() as u64,
            user_count: snap.user_count,
            current_rps: snap.total.current_rps,
            current_fail_per_sec: snap.total.current_fail_per_sec,
            current_p50_ms: snap.total.current_percentile(0.5),
            current_p95_ms: snap.total.current_percentile(0.95),
            current_p90_ms: snap.total.current_percentile(0.90),
            current_p99_ms: snap.total.current_percentile(0.99),
            current_p999_ms: snap.total.current_percentile(0.999),
            drain: snap.in_drain(),
        }
    }
}

/// Everything measured, at one instant.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Snapshot {
    /// Sequence number of this snapshot (increases by one per tick).
    pub seq: u64,
    /// Unix time of the snapshot, seconds.
    pub time: f64,
    pub state: RunState,
    pub user_count: u32,
    /// Run number: increases each time a new test starts (charts mark "Run #N").
    pub run: u32,
    pub host: String,
    /// Unix time when the statistics started (test start or last reset).
    pub stats_start: Option<f64>,
    /// Unix time when the test had stopped (its last in-flight request finished, or the
    /// stop timeout passed). `None` while a test runs.
    pub stats_end: Option<f64>,
    /// Unix time when the users were told to stop (Stop, run time, stages' end): whole-run
    /// rates cover `stats_start` to here, the time users were running; from here to
    /// `stats_end` is the drain, in which only in-flight requests finished.
    pub drain_start: Option<f64>,
    /// Per (method, name), sorted by name then method.
    pub entries: Vec<EntrySnapshot>,
    /// The `Aggregated` entry, fed by every request.
    pub total: EntrySnapshot,
    pub failures: Vec<FailureSnapshot>,
    pub exceptions: Vec<ExceptionSnapshot>,
    pub open_model: Option<OpenModelSnapshot>,
    /// Warnings for the user (name cap reached, ...).
    pub warnings: Vec<String>,
    /// The generator's own health, and when it was the bottleneck.
    pub generator: GeneratorSnapshot,
    /// Where the run started to break: its first failed request.
    pub first_failure: Option<FirstFailure>,
    /// The Aggregated figures of the last complete second alone, for judging thresholds
    /// second by second (not sent to browsers).
    #[serde(skip)]
    pub last_second: Option<SecondSnapshot>,
    /// The first second each threshold failed on that second's figures (filled in by the
    /// run's lifecycle, which knows the thresholds).
    pub threshold_crossings: Vec<ThresholdCrossing>,
    /// The target's scraped metrics in this test (`--metrics`, `[[metrics]]`): serialised
    /// as `{"version", "sources"}` only (readers fetch the series when the version moves).
    pub server: Option<crate::scrape::ServerBoard>,
    /// The current test's load changes (users or rate edited, a stage, a reset), oldest
    /// first: markers on the charts.
    pub marks: Vec<Mark>,
}

/// A change of the load at one time: `users → 100 (20/s)`, `statistics reset`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Mark {
    /// Unix seconds.
    pub time: f64,
    pub label: String,
}

/// One second's own Aggregated figures, as an entry (its rates are per that second; no
/// average: the window keeps no sum).
#[derive(Debug, Clone, PartialEq)]
pub struct SecondSnapshot {
    /// The second (Unix seconds).
    pub sec: u64,
    pub total: EntrySnapshot,
}

/// The first second a threshold failed on that second's own figures.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ThresholdCrossing {
    /// The threshold as written.
    pub threshold: String,
    /// The second's start, Unix seconds.
    pub time: f64,
    /// Users running then.
    pub users: u32,
    /// The second's figure against the limit: `p95 = 612 ms (limit < 500 ms)`.
    pub message: String,
}

/// The first failed request of a run (since the statistics started): when, at what load,
/// and what it was, so that a ramp says where it broke without a script over the CSV.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct FirstFailure {
    /// Unix seconds.
    pub time: f64,
    /// Users running at the first tick after it (within a second of it).
    pub users: u32,
    /// The open model's arrival rate then, if any.
    pub rate: Option<f64>,
    pub method: String,
    pub name: String,
    /// The failure's grouped message.
    pub message: String,
}

impl Snapshot {
    /// Every scraped source of the test, with its series (empty without `--metrics`).
    pub fn server_metrics(&self) -> Vec<crate::scrape::SourceData> {
        self.server.as_ref().map(|b| b.data()).unwrap_or_default()
    }

    /// Every scraped source's views, without the series (what reports chart).
    pub fn server_views(&self) -> Vec<crate::scrape::SourceData> {
        self.server.as_ref().map(|b| b.views()).unwrap_or_default()
    }

    /// Whether this snapshot was taken in the drain: after the users were told to stop, up
    /// to the moment the test had stopped.
    pub fn in_drain(&self) -> bool {
        self.drain_start
            .is_some_and(|d| self.time >= d && self.stats_end.is_none_or(|e| self.time <= e))
    }
}
