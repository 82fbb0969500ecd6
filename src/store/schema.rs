//! The database schema, versioned with `PRAGMA user_version`: migration N takes a database at
//! version N to N + 1, each in one transaction. Migrations are only ever appended.

use rusqlite::{Connection, Transaction};

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

/// Schema version 2: the generator's self-health (`runs.generator`, JSON). Builds between
/// the two versions wrote this column into version 1 itself, so it is added only where it
/// is missing: both kinds of version-1 database end up the same.
fn v2(tx: &Transaction) -> rusqlite::Result<()> {
    if !has_column(tx, "runs", "generator")? {
        tx.execute_batch("ALTER TABLE runs ADD COLUMN generator TEXT NOT NULL DEFAULT '{}'")?;
    }
    Ok(())
}

/// Schema version 3: the drain of a stopped test (`runs.drain_start`, when the users were
/// told to stop; `history.drain`, seconds taken while in-flight requests finished). Runs
/// saved before have no drain recorded: their rates covered the drain too.
fn v3(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "ALTER TABLE runs ADD COLUMN drain_start REAL;
         ALTER TABLE history ADD COLUMN drain INTEGER NOT NULL DEFAULT 0;",
    )
}

/// Schema version 4: a breaking-point search's answer and steps (`runs.limit_json`, for
/// runs of source `limit`).
fn v4(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch("ALTER TABLE runs ADD COLUMN limit_json TEXT;")
}

/// Schema version 5: where a run started to break (`runs.breaking`: its first failure and
/// each threshold's first failing second, as JSON).
fn v5(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch("ALTER TABLE runs ADD COLUMN breaking TEXT;")
}

/// Schema version 6: the target's scraped metrics (`server_metrics`: one JSON document per
/// run, in a table of its own so that listing runs does not read it).
fn v6(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE server_metrics (
            run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
            data TEXT NOT NULL
        );",
    )
}

fn v1(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(V1)
}

fn has_column(tx: &Transaction, table: &str, column: &str) -> rusqlite::Result<bool> {
    let mut stmt = tx.prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2")?;
    stmt.exists([table, column])
}

type Migration = fn(&Transaction) -> rusqlite::Result<()>;

/// Every migration, in order; the schema version is their count.
const MIGRATIONS: [Migration; 6] = [v1, v2, v3, v4, v5, v6];

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
    for (i, step) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        step(&tx)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_columns(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM pragma_table_info('runs')")
            .unwrap();
        let names = stmt.query_map([], |r| r.get(0)).unwrap();
        names.map(Result::unwrap).collect()
    }

    /// A version-1 database as the first history build wrote it (no `generator` column),
    /// holding one run.
    fn first_v1() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(V1).unwrap();
        conn.execute_batch(
            "INSERT INTO runs (started_at, ended_at, host, source, params, users, num_requests,
                 num_failures, rps, user_count, warnings, thresholds, surge_version)
             VALUES (1, 2, 'http://127.0.0.1', 'headless', '{}', 1, 10, 0, 5, 1, '[]', '[]',
                 '0.1.0');
             PRAGMA user_version = 1;",
        )
        .unwrap();
        conn
    }

    #[test]
    fn a_first_version_1_database_gains_the_generator_column_and_keeps_its_runs() {
        let mut conn = first_v1();
        assert!(!run_columns(&conn).contains(&"generator".to_string()));
        migrate(&mut conn).unwrap();
        assert!(run_columns(&conn).contains(&"generator".to_string()));
        let (n, generator): (i64, String) = conn
            .query_row("SELECT num_requests, generator FROM runs", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((n, generator.as_str()), (10, "{}"));
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, VERSION);
    }

    #[test]
    fn a_version_1_database_that_already_has_the_column_migrates_too() {
        let mut conn = first_v1();
        conn.execute_batch("ALTER TABLE runs ADD COLUMN generator TEXT NOT NULL DEFAULT '{}'")
            .unwrap();
        migrate(&mut conn).unwrap();
        let columns = run_columns(&conn);
        assert_eq!(columns.iter().filter(|c| *c == "generator").count(), 1);
    }

    #[test]
    fn a_new_database_has_every_column() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        assert!(run_columns(&conn).contains(&"generator".to_string()));
    }
}
