//! Writing a run: the `runs` row, then its endpoints (with the histograms behind their
//! figures), failures, exceptions and history, in one transaction.

use rusqlite::params;

use super::record::Breaking;
use super::{RunRecord, Store, StoreError, StoredOpenModel};

impl Store {
    /// Save a run; returns its id.
    pub fn save(&self, r: &RunRecord) -> Result<i64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let s = &r.snapshot;
        let t = &s.total;
        tx.execute(
            "INSERT INTO runs (started_at, ended_at, host, label, source, interrupted, plan_text,
                params, users, rate, num_requests, num_failures, rps, p95_ms, user_count,
                open_model, warnings, thresholds, surge_version, generator, drain_start, limit_json,
                breaking)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
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
                r.limit.as_ref().map(serde_json::to_string).transpose()?,
                serde_json::to_string(&Breaking {
                    first_failure: s.first_failure.clone(),
                    threshold_crossings: s.threshold_crossings.clone(),
                    marks: s.marks.clone(),
                })?,
            ],
        )?;
        let id = tx.last_insert_rowid();
        if let Some(board) = &s.server {
            tx.execute(
                "INSERT INTO server_metrics (run_id, data) VALUES (?1, ?2)",
                params![id, serde_json::to_string(&board.data())?],
            )?;
        }
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
}
