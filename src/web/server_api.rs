//! `GET /api/server-metrics`: the current test's scraped target metrics for the Server
//! charts. Each source comes with its built-in views, the names of every series it kept
//! (for the picker) and, for each name in `?pick=a,b`, that name's series. The page asks
//! again only when the snapshot's `server.version` moved, so this is read once per scrape,
//! not once per tick.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::AppState;
use crate::scrape::SourceData;

/// Series names a page may ask for at once.
const MAX_PICKS: usize = 8;

#[derive(Debug, Deserialize)]
pub struct Picks {
    /// Comma-separated series names.
    pub pick: Option<String>,
}

/// The handler.
pub async fn server_metrics(State(state): State<AppState>, Query(q): Query<Picks>) -> Json<Value> {
    let snap = state.engine.snapshot();
    let picks: Vec<&str> = q
        .pick
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .take(MAX_PICKS)
        .collect();
    let sources: Vec<Value> = snap
        .server_metrics()
        .iter()
        .map(|s| source_json(s, &picks))
        .collect();
    Json(json!({
        "run": snap.run,
        "version": snap.server.as_ref().map_or(0, |b| b.version()),
        "sources": sources,
    }))
}

/// One source: its figures, views, series names and picked series.
pub fn source_json(s: &SourceData, picks: &[&str]) -> Value {
    let mut names: BTreeMap<&str, (&str, usize)> = BTreeMap::new();
    for x in &s.series {
        names
            .entry(x.name.as_str())
            .or_insert((x.kind.as_str(), 0))
            .1 += 1;
    }
    let names: Vec<Value> = names
        .into_iter()
        .map(|(name, (kind, n))| json!({ "name": name, "kind": kind, "label_sets": n }))
        .collect();
    let picked: Vec<&crate::scrape::SeriesData> = s
        .series
        .iter()
        .filter(|x| picks.contains(&x.name.as_str()))
        .collect();
    json!({
        "source": s.source,
        "url": s.url,
        "every_s": s.every_s,
        "scrapes": s.scrapes,
        "failed_scrapes": s.failed_scrapes,
        "last_scrape": s.last_scrape,
        "warnings": s.warnings,
        "views": s.views,
        "names": names,
        "series": picked,
    })
}
