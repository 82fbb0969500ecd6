//! The run store: every finished test, saved in an embedded SQLite database
//! (`DATA_DIR/surge.db`).
//!
//! - `record`: what one run keeps ([`RunRecord`]) and its list row ([`RunSummary`]).
//! - `schema`: tables and migrations (`PRAGMA user_version`).
//! - `blocking`: the store from async code (each call on a blocking thread, so the load
//!   never waits for the disk), and a finished run's parts put together into a record.
//! - `save`: writing a run (one transaction over every table).
//! - `read`: loading a run back, and listing runs.
//!
//! The store is synchronous (rusqlite); async callers go through `blocking`. A locked
//! database is waited for up to [`BUSY_TIMEOUT`], then reported. The store knows nothing of
//! the engine: the run's life (`lifecycle`) hands it the parts.

pub mod blocking;
mod read;
pub mod record;
mod save;
pub mod schema;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

pub use blocking::{blocking, load_baseline, open_for_run, save, HistoryError, RunMeta};
pub use record::{EndpointStats, RunParameters, RunRecord, RunSource, RunSummary};

use crate::stats::OpenModelSnapshot;

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

/// The open-model figures as stored (the snapshot type only serialises).
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct StoredOpenModel {
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
