//! The database schema, versioned with `PRAGMA user_version`: migration N takes a database at
//! version N to N + 1, each in one transaction. Migrations are only ever appended.

use rusqlite::Connection;

use super::StoreError;

/// Schema version 1: runs, their endpoints (figures + histogram), failures, exceptions and
/// per-second history.
const V1: &str = "
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL,
    host TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    interrupted INTEGER NOT NULL DEFAULT 0,
    plan_text TEXT,
    params TEXT NOT NULL,
    users INTEGER NOT NULL,
    rate REAL,
    num_requests INTEGER NOT NULL,
    num_failures INTEGER NOT NULL,
    rps REAL NOT NULL,
    p95_ms REAL,
    user_count INTEGER NOT NULL,
    open_model TEXT,
    warnings TEXT NOT NULL,
    generator TEXT NOT NULL DEFAULT '{}',
    thresholds TEXT NOT NULL,
    surge_version TEXT NOT NULL
);
CREATE INDEX runs_started ON runs(started_at);
CREATE TABLE endpoints (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    method TEXT NOT NULL,
    name TEXT NOT NULL,
    num_requests INTEGER NOT NULL,
    num_failures INTEGER NOT NULL,
    avg_ms REAL,
    min_ms REAL,
    max_ms REAL,
    avg_size REAL NOT NULL,
    total_rps REAL NOT NULL,
    total_fail_per_sec REAL NOT NULL,
    percentiles TEXT NOT NULL,
    stats TEXT,
    PRIMARY KEY (run_id, method, name)
);
CREATE TABLE failures (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    method TEXT NOT NULL,
    name TEXT NOT NULL,
    message TEXT NOT NULL,
    occurrences INTEGER NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE INDEX failures_run ON failures(run_id);
CREATE TABLE exceptions (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    message TEXT NOT NULL,
    origin TEXT NOT NULL,
    count INTEGER NOT NULL
);
CREATE INDEX exceptions_run ON exceptions(run_id);
CREATE TABLE history (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    time INTEGER NOT NULL,
    user_count INTEGER NOT NULL,
    rps REAL NOT NULL,
    fail_per_sec REAL NOT NULL,
    p50_ms REAL,
    p95_ms REAL
);
CREATE INDEX history_run ON history(run_id, seq);
";

/// Every migration, in order; the schema version is their count.
const MIGRATIONS: [&str; 1] = [V1];

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Bring the database up to [`VERSION`]; refuse one written by a newer Surge.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > VERSION {
        return Err(StoreError::TooNew {
            found: current,
            known: VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
