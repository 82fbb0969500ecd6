//! The run store: every finished test, saved in an embedded SQLite database
//! (`DATA_DIR/surge.db`).
//!
//! - `record`: what one run keeps ([`RunRecord`]) and its list row ([`RunSummary`]).
//! - `schema`: tables and migrations (`PRAGMA user_version`).
//! - `blocking`: the store from async code (each call on a blocking thread, so the load
//!   never waits for the disk), and a finished run's parts put together into a record.
//!
//! The store is synchronous (rusqlite); async callers go through `blocking`. A locked
//! database is waited for up to [`BUSY_TIMEOUT`], then reported. The store knows nothing of
//! the engine: the run's life (`lifecycle`) hands it the parts.

pub mod blocking;
pub mod record;
pub mod schema;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row};

pub use blocking::{blocking, load_baseline, open_for_run, save, HistoryError, RunMeta};
pub use record::{EndpointStats, RunParameters, RunRecord, RunSource, RunSummary};

use crate::stats::{
    EntrySnapshot, ExceptionSnapshot, FailureSnapshot, HistoryPoint, OpenModelSnapshot, RunState,
    Snapshot, StatsEntry,
};

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "surge.db";
/// How long a write waits for another process holding the database.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(3);

/// Why the store could not do something.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source} (move the file away or choose another --data-dir)")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "the run database was written by a newer Surge (schema {found}, this one knows {known})"
    )]
    TooNew { found: i64, known: i64 },
    #[error("no run {0} (see `surge runs list`)")]
    NotFound(String),
    #[error("\"{0}\" is not a run: use a number from `surge runs list`, `last` or `last~N`")]
    BadId(String),
    #[error("run database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("run database: stored data unreadable: {0}")]
    Data(#[from] serde_json::Error),
    #[error("run database: {0}")]
    Task(String),
}

/// The user's default data directory for Surge: `$XDG_DATA_HOME/surge`, else
/// `~/.local/share/surge` (`%APPDATA%\surge` on Windows). `None` without a home.
pub fn default_data_dir() -> Option<PathBuf> {
    let nonempty = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if cfg!(windows) {
        return nonempty("APPDATA").map(|d| d.join("surge"));
    }
    nonempty("XDG_DATA_HOME")
        .or_else(|| nonempty("HOME").map(|h| h.join(".local").join("share")))
        .map(|d| d.join("surge"))
}

/// Which runs `list` returns.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Substring of the host.
    pub host: Option<String>,
    /// Substring of the label.
    pub label: Option<String>,
    pub limit: Option<usize>,
}

/// A handle to the run database.
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.path.display())
    }
}

impl Store {
    /// Open (creating if needed) `dir/surge.db` and migrate it.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
            path: dir.to_path_buf(),
            source,
        })?;
        Store::open_file(&dir.join(DB_FILE))
    }

    /// Open (creating if needed) the database file at `path` and migrate it.
    pub fn open_file(path: &Path) -> Result<Store, StoreError> {
        let wrap = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = Connection::open(path).map_err(wrap)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(wrap)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(wrap)?;
        schema::migrate(&mut conn).map_err(|e| match e {
            StoreError::Sql(source) => StoreError::Open {
                path: path.to_path_buf(),
                source,
            },
            e => e,
        })?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves a usable connection (transactions roll back).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Save a run; returns its id.
    pub fn save(&self, r: &RunRecord) -> Result<i64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let s = &r.snapshot;
        let t = &s.total;
        tx.execute(
            "INSERT INTO runs (started_at, ended_at, host, label, source, interrupted, plan_text,
                params, users, rate, num_requests, num_failures, rps, p95_ms, user_count,
                open_model, warnings, thresholds, surge_version, generator, drain_start)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
            params![
                r.started_at(),
                r.ended_at(),
                s.host,
                r.label,
                r.source.as_str(),
                r.interrupted,
                r.plan_text,
                serde_json::to_string(&r.params)?,
                r.params.users,
                r.params.rate,
                t.num_requests as i64,
                t.num_failures as i64,
                t.total_rps,
                t.percentile(0.95),
                s.user_count,
                s.open_model.as_ref().map(|o| serde_json::to_string(&StoredOpenModel::from(o))).transpose()?,
                serde_json::to_string(&s.warnings)?,
                serde_json::to_string(&r.thresholds)?,
                r.surge_version,
                serde_json::to_string(&s.generator)?,
                s.drain_start,
            ],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut ins = tx.prepare(
                "INSERT INTO endpoints (run_id, position, method, name, num_requests, num_failures,
                    avg_ms, min_ms, max_ms, avg_size, total_rps, total_fail_per_sec, percentiles, stats)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?;
            for (pos, e) in s.entries.iter().chain(std::iter::once(t)).enumerate() {
                // A histogram is kept only if it is the one behind these very figures.
                let hist = r
                    .histograms
                    .iter()
                    .find(|h| {
                        h.method == e.method
                            && h.name == e.name
                            && h.stats.num_requests == e.num_requests
                    })
                    .map(|h| serde_json::to_string(&h.stats))
                    .transpose()?;
                ins.execute(params![
                    id,
                    pos as i64,
                    e.method,
                    e.name,
                    e.num_requests as i64,
                    e.num_failures as i64,
                    e.avg_ms,
                    e.min_ms,
                    e.max_ms,
                    e.avg_size,
                    e.total_rps,
                    e.total_fail_per_sec,
                    serde_json::to_string(&e.percentiles)?,
                    hist,
                ])?;
            }
            let mut ins = tx.prepare(
                "INSERT INTO failures (run_id, position, method, name, message, occurrences, first_seen, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for (pos, f) in s.failures.iter().enumerate() {
                ins.execute(params![
                    id,
                    pos as i64,
                    f.method,
                    f.name,
                    f.message,
                    f.occurrences as i64,
                    f.first_seen,
                    f.last_seen
                ])?;
            }
            let mut ins = tx.prepare(
                "INSERT INTO exceptions (run_id, position, message, origin, count) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (pos, x) in s.exceptions.iter().enumerate() {
                ins.execute(params![id, pos as i64, x.message, x.origin, x.count as i64])?;
            }
            let mut ins = tx.prepare(
                "INSERT INTO history (run_id, seq, time, user_count, rps, fail_per_sec, p50_ms, p95_ms, drain)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for p in &r.history {
                ins.execute(params![
                    id,
                    p.seq as i64,
                    p.time as i64,
                    p.user_count,
                    p.current_rps,
                    p.current_fail_per_sec,
                    p.current_p50_ms,
                    p.current_p95_ms,
                    p.drain
                ])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    /// Load a whole run; percentiles come from the stored histograms.
    pub fn load(&self, id: i64) -> Result<RunRecord, StoreError> {
        let conn = self.conn();
        let run = conn
            .query_row("SELECT * FROM runs WHERE id = ?1", [id], |row| {
                Ok(RunRow::read(row))
            })
            .optional()?
            .ok_or_else(|| StoreError::NotFound(id.to_string()))??;
        let mut entries = Vec::new();
        let mut histograms = Vec::new();
        let mut total = None;
        let mut stmt = conn.prepare(
            "SELECT method, name, num_requests, num_failures, avg_ms, min_ms, max_ms, avg_size,
                total_rps, total_fail_per_sec, percentiles, stats
             FROM endpoints WHERE run_id = ?1 ORDER BY position",
        )?;
        let mut rows = stmt.query([id])?;
        while let Some(row) = rows.next()? {
            let stored: String = row.get(10)?;
            let stats: Option<String> = row.get(11)?;
            let stats: Option<StatsEntry> = stats.map(|s| serde_json::from_str(&s)).transpose()?;
            let percentiles = match &stats {
                Some(st) => st.percentiles_ms(),
                None => serde_json::from_str(&stored)?,
            };
            let e = EntrySnapshot {
                method: row.get(0)?,
                name: row.get(1)?,
                num_requests: row.get::<_, i64>(2)? as u64,
                num_failures: row.get::<_, i64>(3)? as u64,
                avg_ms: row.get(4)?,
                min_ms: row.get(5)?,
                max_ms: row.get(6)?,
                avg_size: row.get(7)?,
                total_rps: row.get(8)?,
                total_fail_per_sec: row.get(9)?,
                current_rps: 0.0,
                current_fail_per_sec: 0.0,
                current_percentiles: vec![None; percentiles.len()],
                percentiles,
            };
            if let Some(st) = stats {
                histograms.push(EndpointStats {
                    method: e.method.clone(),
                    name: e.name.clone(),
                    stats: st,
                });
            }
            if e.method.is_empty() {
                total = Some(e);
            } else {
                entries.push(e);
            }
        }
        let failures = conn
            .prepare("SELECT method, name, message, occurrences, first_seen, last_seen FROM failures WHERE run_id = ?1 ORDER BY position")?
            .query_map([id], |r| {
                Ok(FailureSnapshot {
                    method: r.get(0)?,
                    name: r.get(1)?,
                    message: r.get(2)?,
                    occurrences: r.get::<_, i64>(3)? as u64,
                    first_seen: r.get(4)?,
                    last_seen: r.get(5)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let exceptions = conn
            .prepare(
                "SELECT message, origin, count FROM exceptions WHERE run_id = ?1 ORDER BY position",
            )?
            .query_map([id], |r| {
                Ok(ExceptionSnapshot {
                    message: r.get(0)?,
                    origin: r.get(1)?,
                    count: r.get::<_, i64>(2)? as u64,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let history = conn
            .prepare("SELECT seq, time, user_count, rps, fail_per_sec, p50_ms, p95_ms, drain FROM history WHERE run_id = ?1 ORDER BY seq")?
            .query_map([id], |r| {
                Ok(HistoryPoint {
                    seq: r.get::<_, i64>(0)? as u64,
                    run: id as u32,
                    time: r.get::<_, i64>(1)? as u64,
                    user_count: r.get(2)?,
                    current_rps: r.get(3)?,
                    current_fail_per_sec: r.get(4)?,
                    current_p50_ms: r.get(5)?,
                    current_p95_ms: r.get(6)?,
                    drain: r.get(7)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let total =
            total.ok_or_else(|| StoreError::Task(format!("run {id} has no Aggregated row")))?;
        Ok(RunRecord {
            id,
            label: run.label,
            source: run.source,
            interrupted: run.interrupted,
            plan_text: run.plan_text,
            params: serde_json::from_str(&run.params)?,
            snapshot: Snapshot {
                seq: 0,
                time: run.ended_at,
                state: RunState::Stopped,
                user_count: run.user_count,
                run: id as u32,
                host: run.host,
                stats_start: Some(run.started_at),
                stats_end: Some(run.ended_at),
                drain_start: run.drain_start,
                entries,
                total,
                failures,
                exceptions,
                open_model: run
                    .open_model
                    .map(|s| serde_json::from_str::<StoredOpenModel>(&s).map(Into::into))
                    .transpose()?,
                warnings: serde_json::from_str(&run.warnings)?,
                generator: serde_json::from_str(&run.generator)?,
            },
            histograms,
            history,
            thresholds: serde_json::from_str(&run.thresholds)?,
            surge_version: run.surge_version,
        })
    }

    /// Runs, newest first.
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<RunSummary>, StoreError> {
        let conn = self.conn();
        let like = |v: &Option<String>| format!("%{}%", v.as_deref().unwrap_or(""));
        let mut stmt = conn.prepare(
            "SELECT * FROM runs WHERE host LIKE ?1 AND label LIKE ?2 ORDER BY id DESC LIMIT ?3",
        )?;
        let limit = filter.limit.map_or(-1, |l| l as i64);
        let rows = stmt.query_map(
            params![like(&filter.host), like(&filter.label), limit],
            |row| Ok(RunRow::read(row)),
        )?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??.summary());
        }
        Ok(out)
    }

    /// Delete a run and everything saved with it.
    pub fn delete(&self, id: i64) -> Result<(), StoreError> {
        match self
            .conn()
            .execute("DELETE FROM runs WHERE id = ?1", [id])?
        {
            0 => Err(StoreError::NotFound(id.to_string())),
            _ => Ok(()),
        }
    }

    /// Change a run's label.
    pub fn set_label(&self, id: i64, label: &str) -> Result<(), StoreError> {
        match self.conn().execute(
            "UPDATE runs SET label = ?2 WHERE id = ?1",
            params![id, label.trim()],
        )? {
            0 => Err(StoreError::NotFound(id.to_string())),
            _ => Ok(()),
        }
    }

    /// A run id from `12`, `#12`, `last` (newest) or `last~N` (N runs before the newest).
    pub fn resolve(&self, spec: &str) -> Result<i64, StoreError> {
        let s = spec.trim();
        if let Some(back) = s.strip_prefix("last") {
            let n: i64 = match back.strip_prefix('~') {
                None if back.is_empty() => 0,
                Some(n) => n.parse().map_err(|_| StoreError::BadId(spec.into()))?,
                None => return Err(StoreError::BadId(spec.into())),
            };
            return self
                .conn()
                .query_row(
                    "SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?1",
                    [n],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| StoreError::NotFound(spec.into()));
        }
        let id: i64 = s
            .trim_start_matches('#')
            .parse()
            .map_err(|_| StoreError::BadId(spec.into()))?;
        let found: Option<i64> = self
            .conn()
            .query_row("SELECT id FROM runs WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        found.ok_or_else(|| StoreError::NotFound(spec.into()))
    }
}

/// A `runs` row.
struct RunRow {
    id: i64,
    started_at: f64,
    ended_at: f64,
    drain_start: Option<f64>,
    host: String,
    label: String,
    source: RunSource,
    interrupted: bool,
    plan_text: Option<String>,
    params: String,
    users: u32,
    rate: Option<f64>,
    num_requests: i64,
    num_failures: i64,
    rps: f64,
    p95_ms: Option<f64>,
    user_count: u32,
    open_model: Option<String>,
    warnings: String,
    generator: String,
    thresholds: String,
    surge_version: String,
}

impl RunRow {
    fn read(row: &Row<'_>) -> Result<RunRow, StoreError> {
        let source: String = row.get("source")?;
        Ok(RunRow {
            id: row.get("id")?,
            started_at: row.get("started_at")?,
            ended_at: row.get("ended_at")?,
            drain_start: row.get("drain_start")?,
            host: row.get("host")?,
            label: row.get("label")?,
            source: RunSource::parse(&source),
            interrupted: row.get("interrupted")?,
            plan_text: row.get("plan_text")?,
            params: row.get("params")?,
            users: row.get("users")?,
            rate: row.get("rate")?,
            num_requests: row.get("num_requests")?,
            num_failures: row.get("num_failures")?,
            rps: row.get("rps")?,
            p95_ms: row.get("p95_ms")?,
            user_count: row.get("user_count")?,
            open_model: row.get("open_model")?,
            warnings: row.get("warnings")?,
            generator: row.get("generator")?,
            thresholds: row.get("thresholds")?,
            surge_version: row.get("surge_version")?,
        })
    }

    fn summary(&self) -> RunSummary {
        let results: Vec<crate::thresholds::ThresholdResult> =
            serde_json::from_str(&self.thresholds).unwrap_or_default();
        RunSummary {
            id: self.id,
            started_at: self.started_at,
            ended_at: self.ended_at,
            label: self.label.clone(),
            host: self.host.clone(),
            source: self.source,
            users: self.users,
            rate: self.rate,
            duration_s: (self.ended_at - self.started_at).max(0.0),
            num_requests: self.num_requests as u64,
            num_failures: self.num_failures as u64,
            rps: self.rps,
            p95_ms: self.p95_ms,
            fail_ratio: if self.num_requests > 0 {
                self.num_failures as f64 / self.num_requests as f64
            } else {
                0.0
            },
            interrupted: self.interrupted,
            thresholds_passed: record::thresholds_passed(&results),
        }
    }
}

/// The open-model figures as stored (the snapshot type only serialises).
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredOpenModel {
    target_rate: f64,
    scheduled: u64,
    late_starts: u64,
    dropped_starts: u64,
    max_start_lag_ms: f64,
    uncorrected_percentiles: Vec<Option<f64>>,
}

impl From<&OpenModelSnapshot> for StoredOpenModel {
    fn from(o: &OpenModelSnapshot) -> Self {
        StoredOpenModel {
            target_rate: o.target_rate,
            scheduled: o.scheduled,
            late_starts: o.late_starts,
            dropped_starts: o.dropped_starts,
            max_start_lag_ms: o.max_start_lag_ms,
            uncorrected_percentiles: o.uncorrected_percentiles.clone(),
        }
    }
}

impl From<StoredOpenModel> for OpenModelSnapshot {
    fn from(o: StoredOpenModel) -> Self {
        OpenModelSnapshot {
            target_rate: o.target_rate,
            scheduled: o.scheduled,
            late_starts: o.late_starts,
            dropped_starts: o.dropped_starts,
            max_start_lag_ms: o.max_start_lag_ms,
            uncorrected_percentiles: o.uncorrected_percentiles,
        }
    }
}
