//! Every metrics source of one test: the kept series and views, the scrape counts and the
//! warnings. The engine's scraper writes a source after each scrape; reports, thresholds,
//! the store and the dashboard read copies. Each source has its own lock, held only to
//! copy or append, never across an await.
//!
//! A test gets a new board: a snapshot of a finished test keeps reading its own.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::ingest::Ingest;
use super::parse::Exposition;
use super::points::Points;
use super::views::{ViewKey, ViewReading};
use super::{Source, MAX_SERIES};

/// One kept series: what `--json` writes under `server_metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesData {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// `counter` (points are per-second rates), `gauge`, `untyped`, `histogram` (points
    /// are the p95 over each scrape interval, in the series' unit) or `summary` (the
    /// exposed quantile).
    pub kind: String,
    pub points: Points,
}

/// One line of a built-in view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineData {
    pub label: String,
    pub points: Points,
}

/// A built-in view (see `views`): a chart of one or two lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewData {
    pub id: String,
    pub title: String,
    pub unit: String,
    pub lines: Vec<LineData>,
}

/// Everything one source gave in a test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceData {
    pub source: String,
    pub url: String,
    pub every_s: f64,
    pub scrapes: u64,
    pub failed_scrapes: u64,
    /// Unix time of the last good scrape.
    pub last_scrape: Option<f64>,
    pub warnings: Vec<String>,
    pub views: Vec<ViewData>,
    pub series: Vec<SeriesData>,
}

impl SourceData {
    pub fn new(source: &Source) -> SourceData {
        SourceData {
            source: source.name.clone(),
            url: source.url.to_string(),
            every_s: source.every.as_secs_f64(),
            scrapes: 0,
            failed_scrapes: 0,
            last_scrape: None,
            warnings: Vec::new(),
            views: Vec::new(),
            series: Vec::new(),
        }
    }

    /// The source with its views but not its series (what a report charts).
    pub fn views_only(&self) -> SourceData {
        SourceData {
            source: self.source.clone(),
            url: self.url.clone(),
            every_s: self.every_s,
            scrapes: self.scrapes,
            failed_scrapes: self.failed_scrapes,
            last_scrape: self.last_scrape,
            warnings: self.warnings.clone(),
            views: self.views.clone(),
            series: Vec::new(),
        }
    }

    /// Append one scrape's values of a view (created on its first reading).
    pub(crate) fn record_view(&mut self, v: &ViewReading, t: f64) {
        let i = match self.views.iter().position(|x| x.id == v.id) {
            Some(i) => i,
            None => {
                // Views keep one order whatever the target exposed first.
                let rank = |id: &str| super::views::ORDER.iter().position(|x| *x == id);
                let at = self
                    .views
                    .iter()
                    .position(|x| rank(&x.id) > rank(v.id))
                    .unwrap_or(self.views.len());
                self.views.insert(
                    at,
                    ViewData {
                        id: v.id.into(),
                        title: v.title.into(),
                        unit: v.unit.into(),
                        lines: Vec::new(),
                    },
                );
                at
            }
        };
        let view = &mut self.views[i];
        for (label, value) in &v.lines {
            let line = match view.lines.iter().position(|l| l.label == *label) {
                Some(j) => &mut view.lines[j],
                None => {
                    view.lines.push(LineData {
                        label: label.to_string(),
                        points: Points::default(),
                    });
                    view.lines.last_mut().expect("just pushed")
                }
            };
            line.points.push(t, *value);
        }
    }

    /// The points a threshold on `what` reads in this source: a view's line, or the sum
    /// over label sets of the series named so, per scrape.
    fn points_of(&self, what: &What) -> Vec<(f64, f64)> {
        match what {
            What::View(k) => {
                let Some(view) = self.views.iter().find(|v| v.id == k.view) else {
                    return Vec::new();
                };
                let line = if k.line.is_empty() {
                    view.lines.first()
                } else {
                    k.line
                        .split('|')
                        .find_map(|want| view.lines.iter().find(|l| l.label == want))
                };
                line.map(|l| {
                    l.points
                        .as_slice()
                        .iter()
                        .map(|p| (p.time, p.value))
                        .collect()
                })
                .unwrap_or_default()
            }
            What::Series(name) => {
                let mut by_time: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
                for s in self.series.iter().filter(|s| s.name == *name) {
                    for p in s.points.as_slice() {
                        by_time.entry(p.time.to_bits()).or_insert((p.time, 0.0)).1 += p.value;
                    }
                }
                by_time.into_values().collect()
            }
        }
    }
}

/// What a server threshold reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum What {
    /// `server.cpu`: a built-in view's line.
    View(ViewKey),
    /// `server["db_connections_in_use"]`: a series by name, summed over its label sets.
    Series(String),
}

/// The worst value of a server threshold's series in a time range, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Worst {
    pub value: f64,
    pub time: f64,
    pub source: String,
}

struct Slot {
    source: Source,
    data: SourceData,
    ingest: Ingest,
    /// Warning kinds already given (one warning per kind and source).
    warned: Vec<&'static str>,
}

/// The sources of one test.
pub struct Board {
    slots: Vec<Mutex<Slot>>,
    /// Increases with every scrape, good or bad (readers refetch when it moves).
    version: AtomicU64,
}

impl Board {
    /// A board for a test that scrapes `sources`.
    pub fn new(sources: &[Source]) -> Board {
        Board {
            slots: sources
                .iter()
                .map(|s| {
                    Mutex::new(Slot {
                        data: SourceData::new(s),
                        source: s.clone(),
                        ingest: Ingest::default(),
                        warned: Vec::new(),
                    })
                })
                .collect(),
            version: AtomicU64::new(0),
        }
    }

    /// A finished test's board, as saved.
    pub fn frozen(data: Vec<SourceData>) -> Board {
        Board {
            slots: data
                .into_iter()
                .map(|d| {
                    let every = std::time::Duration::from_secs_f64(d.every_s.max(1.0));
                    let source = Source::new(&d.url, Some(&d.source), Some(every), vec![])
                        .unwrap_or_else(|_| Source {
                            name: d.source.clone(),
                            url: url::Url::parse("http://invalid/").expect("a valid URL"),
                            every,
                            series: vec![],
                        });
                    Mutex::new(Slot {
                        source,
                        data: d,
                        ingest: Ingest::default(),
                        warned: Vec::new(),
                    })
                })
                .collect(),
            version: AtomicU64::new(1),
        }
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Source `i`'s settings.
    pub fn source(&self, i: usize) -> Option<Source> {
        Some(self.slots.get(i)?.lock().ok()?.source.clone())
    }

    /// A good scrape of source `i` at `t`.
    pub fn record(&self, i: usize, t: f64, expo: &Exposition) {
        let Some(Ok(mut slot)) = self.slots.get(i).map(|s| s.lock()) else {
            return;
        };
        let slot = &mut *slot;
        let notes = slot.ingest.scrape(&mut slot.data, &slot.source, expo, t);
        if notes.over_cap > 0 {
            let msg = format!(
                "keeping the first {MAX_SERIES} series only (more were exposed; name the ones \
                 to keep with `series` in the plan's [[metrics]])"
            );
            warn(slot, "cap", msg);
        }
        if notes.untracked > 0 {
            let msg = "too many counters to follow; some rates are missing".to_string();
            warn(slot, "untracked", msg);
        }
        if !expo.skipped.is_empty() {
            let first = &expo.skipped[0];
            let msg = format!(
                "{} unreadable lines skipped (first: {first})",
                expo.skipped.len()
            );
            warn(slot, "skipped", msg);
        }
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// A failed scrape of source `i`: counted, and warned about once per `kind`.
    pub fn failed(&self, i: usize, kind: &'static str, why: String) {
        if let Some(Ok(mut slot)) = self.slots.get(i).map(|s| s.lock()) {
            slot.data.failed_scrapes += 1;
            warn(&mut slot, kind, why);
        }
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// A copy of every source's data.
    pub fn data(&self) -> Vec<SourceData> {
        self.slots
            .iter()
            .filter_map(|s| s.lock().ok().map(|s| s.data.clone()))
            .collect()
    }

    /// Every source's views, without the series (reports chart the views only).
    pub fn views(&self) -> Vec<SourceData> {
        self.slots
            .iter()
            .filter_map(|s| s.lock().ok().map(|s| s.data.views_only()))
            .collect()
    }

    /// Every source's warnings, each naming its URL.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.slots {
            if let Ok(s) = s.lock() {
                out.extend(s.data.warnings.iter().cloned());
            }
        }
        out
    }

    /// The worst value of `what` in `[from, to]` over every source (the highest when
    /// `high_is_bad`, else the lowest): `None` when no source has a point there.
    pub fn worst(&self, what: &What, from: f64, to: f64, high_is_bad: bool) -> Option<Worst> {
        let mut worst: Option<Worst> = None;
        for s in &self.slots {
            let Ok(s) = s.lock() else { continue };
            for (time, value) in s.data.points_of(what) {
                if time < from || time > to {
                    continue;
                }
                let better = worst.as_ref().is_none_or(|w| {
                    if high_is_bad {
                        value > w.value
                    } else {
                        value < w.value
                    }
                });
                if better {
                    worst = Some(Worst {
                        value,
                        time,
                        source: s.data.source.clone(),
                    });
                }
            }
        }
        worst
    }
}

fn warn(slot: &mut Slot, kind: &'static str, why: String) {
    if slot.warned.contains(&kind) {
        return;
    }
    slot.warned.push(kind);
    slot.data
        .warnings
        .push(format!("server metrics {}: {why}", slot.source.url));
}

/// A test's board as a snapshot holds it: shared, compared by identity.
#[derive(Clone)]
pub struct ServerBoard(pub Arc<Board>);

impl PartialEq for ServerBoard {
    fn eq(&self, other: &ServerBoard) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for ServerBoard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServerBoard({} sources)", self.0.len())
    }
}

/// What a snapshot says of its board in every frame: how far the scraping got, not the
/// series (`GET /server-metrics` has them).
impl Serialize for ServerBoard {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("ServerBoard", 2)?;
        st.serialize_field("version", &self.0.version())?;
        st.serialize_field("sources", &self.0.len())?;
        st.end()
    }
}

impl std::ops::Deref for ServerBoard {
    type Target = Board;
    fn deref(&self) -> &Board {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrape::parse::parse;
    use crate::scrape::views::view_key;

    #[test]
    fn worst_values_and_warnings_once() {
        let a = Source::new("http://a:1/metrics", Some("a"), None, vec![]).unwrap();
        let b = Source::new("http://b:1/metrics", Some("b"), None, vec![]).unwrap();
        let board = Board::new(&[a, b]);
        for (t, ua, ub) in [(10.0, 3.0, 1.0), (15.0, 9.0, 2.0), (20.0, 4.0, 12.0)] {
            let text =
                |u: f64| format!("# TYPE db_connections_in_use gauge\ndb_connections_in_use {u}\n");
            board.record(0, t, &parse(&text(ua)));
            board.record(1, t + 1.0, &parse(&text(ub)));
        }
        let conn = What::View(view_key("connections").unwrap());
        let w = board.worst(&conn, 0.0, 100.0, true).unwrap();
        assert_eq!((w.value, w.source.as_str(), w.time), (12.0, "b", 21.0));
        let w = board.worst(&conn, 0.0, 18.0, true).unwrap();
        assert_eq!((w.value, w.source.as_str()), (9.0, "a"));
        let low = board.worst(
            &What::Series("db_connections_in_use".into()),
            0.0,
            100.0,
            false,
        );
        assert_eq!(low.unwrap().value, 1.0);
        assert!(board.worst(&conn, 50.0, 60.0, true).is_none());
        board.failed(0, "connect", "cannot connect: refused".into());
        board.failed(0, "connect", "cannot connect: refused".into());
        assert_eq!(
            board.warnings(),
            ["server metrics http://a:1/metrics: cannot connect: refused"]
        );
        assert_eq!(board.data()[0].failed_scrapes, 2);
        let frozen = Board::frozen(board.data());
        assert_eq!(frozen.data(), board.data());
    }
}
