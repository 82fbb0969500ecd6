//! Reading runs back: a whole run (percentiles from the stored histograms where there are
//! some), and the list of runs as summary rows.

use rusqlite::{params, OptionalExtension, Row};

use super::record::Breaking;
use super::{
    record, EndpointStats, ListFilter, RunRecord, RunSource, RunSummary, Store, StoreError,
    StoredOpenModel,
};
use crate::stats::{
    EntrySnapshot, ExceptionSnapshot, FailureSnapshot, HistoryPoint, RunState, Snapshot, StatsEntry,
};

impl Store {
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
                    current_p90_ms: None,
                    current_p99_ms: None,
                    current_p999_ms: None,
                    drain: r.get(7)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let total =
            total.ok_or_else(|| StoreError::Task(format!("run {id} has no Aggregated row")))?;
        let server: Option<String> = conn
            .query_row(
                "SELECT data FROM server_metrics WHERE run_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        let server = server
            .map(|d| serde_json::from_str::<Vec<crate::scrape::SourceData>>(&d))
            .transpose()?
            .map(|d| {
                crate::scrape::ServerBoard(std::sync::Arc::new(crate::scrape::Board::frozen(d)))
            });
        let breaking: Breaking = run
            .breaking
            .as_deref()
            .map(serde_json::from_str)
            .transpose()?
            .unwrap_or_default();
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
                first_failure: breaking.first_failure,
                last_second: None,
                threshold_crossings: breaking.threshold_crossings,
                server,
                marks: breaking.marks,
            },
            histograms,
            history,
            thresholds: serde_json::from_str(&run.thresholds)?,
            surge_version: run.surge_version,
            limit: run
                .limit_json
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?,
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
    limit_json: Option<String>,
    breaking: Option<String>,
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
            limit_json: row.get("limit_json")?,
            breaking: row.get("breaking")?,
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
